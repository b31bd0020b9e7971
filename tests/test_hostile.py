"""The hostile-file corpus (issue 9, items 4 and 6): one test per case.

Each case writes its file(s) into ``tmp_path`` at test time, loads them in a worker
process that is killed at the case's time limit, and checks the outcome class
(clean / counted rejection with reasons / ExportError naming file, column, row and
fix), ``rows_read == rows_kept + rows_rejected``, unchanged input bytes and the time
(and, for zip bombs, memory) bound. See tests/hostile/ and ``python -m tests.hostile``
for the table.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest
from hostile import CASES, OUTCOMES, Case, Expect, run_case
from hostile.run import _judge, _snapshot, classify


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case(case: Case, tmp_path: Path) -> None:
    obs = run_case(case, tmp_path / "case")
    if obs.observed == "skipped":
        pytest.skip(obs.detail)
    assert obs.ok, (
        f"{case.id} ({case.what}): expected {obs.expected}, observed {obs.observed}\n"
        + "\n".join(obs.problems)
    )


# --------------------------------------------------------------- the corpus itself

#: Every hostile class of the issue and the contract, with the cases that cover it.
CLASSES: dict[str, tuple[str, ...]] = {
    "count beyond int64 / > 1e15": (
        "int64_overflow",
        "count_above_1e15",
        "parquet_uint64_overflow",
    ),
    "inf / nan / NaN / Infinity": (
        "inf_gmv",
        "nan_text_count",
        "parquet_inf_gmv",
        "parquet_nan_clicks",
    ),
    "booleans in counts": (
        "bool_text_counts",
        "chinese_bool_counts",
        "parquet_bool_counts",
        "dataframe_bool_counts",
        "xlsx_bool_cells",
    ),
    "malformed separators": ("one_two_three", "malformed_separators_money", "indian_grouping_us"),
    "followers 1e20": ("followers_1e20", "parquet_followers_1e20"),
    "commission scale ambiguous": ("commission_15_and_150", "commission_fraction_and_percent"),
    "Latin-1 / cp1252 / mojibake": ("latin1_muller", "cp1252_quotes", "mixed_encoding"),
    "total / subtotal rows": (
        "total_row",
        "grand_total_colon",
        "zh_subtotals",
        "heji_first_column",
        "huizong_row",
        "sum_row",
    ),
    "currency contradicting the site": (
        "pound_on_us_row",
        "euro_on_uk_rp_on_us",
        "currency_option_mismatch",
    ),
    "repeated content ids": ("repeated_content_id", "same_video_other_product"),
    "old-Mac CR endings": ("cr_only_endings",),
    "unreadable files": (
        "unreadable_file",
        "folder_to_read_export",
        "empty_file",
        "png_as_csv",
        "random_bytes_csv",
    ),
    "XLSX limits and zip bomb": (
        "xlsx_zip_bomb",
        "xlsx_rows_bomb",
        "xlsx_600_columns",
        "xlsx_not_zip",
    ),
    "non-data files in a folder": ("folder_with_notes", "folder_with_junk"),
    "orders > clicks reject / keep": ("orders_above_clicks_reject", "orders_above_clicks_keep"),
    "ambiguous dates / date_format": ("dates_ambiguous", "dates_with_format"),
    "extra columns and provenance": ("extra_columns_kept", "provenance_rows", "minimal_columns"),
}


def test_corpus_covers_every_hostile_class() -> None:
    ids = {c.id for c in CASES}
    missing = {k: [i for i in v if i not in ids] for k, v in CLASSES.items()}
    assert not {k: v for k, v in missing.items() if v}
    assert len(CASES) >= 60
    outcomes = collections.Counter(c.expect.outcome for c in CASES)
    assert set(outcomes) == set(OUTCOMES), outcomes


def test_error_cases_with_a_fix_name_it() -> None:
    """A fix the corpus applies must be one the message is required to mention."""
    for c in CASES:
        if c.fix:
            assert c.after is not None, c.id
            for key in c.fix:
                assert key in c.expect.error_has, (c.id, key)


# --------------------------------------------------------------- the judge


def _result(**over: object) -> dict:
    base = {
        "kind": "result",
        "rows_read": 10,
        "rows_kept": 9,
        "rows_rejected": 1,
        "len_data": 9,
        "len_rejected": 1,
        "by_reason": {"total row": 1},
        "reasons": ["total row ('Total' in Creator name)"],
        "notes": [],
        "columns": [],
        "seconds": 0.1,
        "peak_mb": 1.0,
    }
    base.update(over)
    return base


def _case(expect: Expect) -> Case:
    return Case("t", "judge self-test", lambda p: p, expect)


def test_judge_accepts_a_matching_rejection() -> None:
    exp = Expect("rejected", kept=9, reasons={"^total row": 1})
    assert _judge(_case(exp), exp, _result(), Path("videos.csv")) == []


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"rows_read": 11}, "rows read 11 != kept 9 + rejected 1"),
        ({"len_data": 8}, "len(data) 8"),
        ({"reasons": ["missing site"]}, "other reasons"),
        ({"rows_kept": 10, "len_data": 10, "rows_read": 11}, "kept 10 rows, expected 9"),
        ({"seconds": 99.0}, "took 99.0 s"),
        ({"mutated_frame": True}, "DataFrame was modified"),
    ],
)
def test_judge_flags(over: dict, needle: str) -> None:
    exp = Expect("rejected", kept=9, reasons={"^total row": 1})
    problems = _judge(_case(exp), exp, _result(**over), Path("videos.csv"))
    assert any(needle in p for p in problems), problems


def test_judge_error_needs_file_and_fix() -> None:
    exp = Expect("error", error_has=("commission_scale",))
    report = {
        "kind": "export_error",
        "message": "column 'Commission rate' is ambiguous",
        "seconds": 0.1,
        "peak_mb": 0,
    }
    problems = _judge(_case(exp), exp, report, Path("videos.csv"))
    assert any("does not name 'videos.csv'" in p for p in problems)
    assert any("lacks 'commission_scale'" in p for p in problems)
    assert classify(report) == "error"


def test_judge_crash_and_timeout_fail() -> None:
    exp = Expect("clean", kept=10)
    crash = {
        "kind": "crash",
        "type": "TypeError",
        "message": "boom",
        "traceback": "",
        "seconds": 0.1,
    }
    assert _judge(_case(exp), exp, crash, Path("x.csv"))
    assert classify(crash) == "crash:TypeError"
    assert _judge(_case(exp), exp, {"kind": "timeout", "seconds": 30}, Path("x.csv"))


def test_snapshot_sees_a_changed_byte(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_bytes(b"abc")
    before = _snapshot(tmp_path)
    f.write_bytes(b"abd")
    assert _snapshot(tmp_path) != before
    (tmp_path / "cache.parquet").write_bytes(b"")
    assert set(_snapshot(tmp_path)) - set(before) == {"cache.parquet"}


def test_zip_bomb_is_a_real_bomb() -> None:
    """The bomb case really expands to 1 GiB from a few MB (read from the zip directory)."""
    import io
    import zipfile

    from hostile.build import xlsx_shared_strings_bomb

    data = xlsx_shared_strings_bomb()
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/sharedStrings.xml")
    assert len(data) < 8 << 20 and info.file_size >= 1 << 30
    with zipfile.ZipFile(io.BytesIO(data)).open("xl/sharedStrings.xml") as fh:
        head = fh.read(1 << 20)
    assert re.search(rb"<sst [^>]*>(<si><t>A+</t></si>)+", head)
