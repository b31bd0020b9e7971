"""helpers.io.spec: the data spec (data.yaml, params `data:` block, dict)."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import paths
from helpers.errors import ExportError
from helpers.io.readers import list_data_files
from helpers.io.spec import SPEC_KEYS, DataSpec, FileEntry, Period, SpecError, SpecFile

CSV = "Video ID,Video product impressions,Video product clicks,Video-attributed orders\n1,100,5,1\n"


def write(folder: Path, name: str, text: str = CSV) -> Path:
    """Write ``text`` to ``folder/name`` (parents created); return the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def spec_error(mapping: Any, base: Path | None = None) -> str:
    """The SpecError message for an invalid mapping."""
    with pytest.raises(SpecError) as info:
        DataSpec.from_mapping(mapping, base)
    return str(info.value)


def yaml_error(folder: Path, text: str) -> str:
    """The SpecError message for a data.yaml with ``text``."""
    spec = write(folder, "data.yaml", text)
    with pytest.raises(SpecError) as info:
        DataSpec.from_yaml(spec)
    message = str(info.value)
    assert message.startswith(f"{spec}:"), message
    return message


FULL_SPEC = """\
files:
  - "videos_*.csv"
  - {path: book.xlsx, sheet: Creators, role: creators}
site: gb
site_column: Marketplace
currency: gbp
encoding: latin-1
column_map: {Approved_Conversion: orders, Age: age_band}
date_format: "%d/%m/%Y"
tiers: {thresholds: [1000, 10000, 50000, 200000]}
commission_scale: Percent
orders_above_clicks: keep
period: {start: 2026-11-01, end: 2026-11-30}
sheet: 2
"""


# ------------------------------------------------------------------ every key


def test_every_key_is_validated_and_normalised(tmp_path):
    write(tmp_path, "videos_2.csv")
    write(tmp_path, "videos_1.csv")
    write(tmp_path, "book.xlsx", "not really xlsx")
    spec = DataSpec.from_yaml(write(tmp_path, "data.yaml", FULL_SPEC))
    assert spec.base_dir == tmp_path.resolve()
    assert spec.site == "UK" and spec.currency == "GBP" and spec.encoding == "latin-1"
    assert spec.site_column == "Marketplace" and spec.commission_scale == "percent"
    assert spec.period == Period(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30))
    assert spec.entries() == [
        SpecFile(tmp_path.resolve() / "videos_1.csv", 2, None),
        SpecFile(tmp_path.resolve() / "videos_2.csv", 2, None),
        SpecFile(tmp_path.resolve() / "book.xlsx", "Creators", "creators"),
    ]


def test_loader_kwargs_are_exactly_the_loader_keywords(tmp_path):
    spec = DataSpec.from_yaml(write(tmp_path, "data.yaml", FULL_SPEC))
    assert spec.loader_kwargs() == {
        "site": "UK",
        "column_map": {"Approved_Conversion": "orders", "Age": "age_band", "Marketplace": "site"},
        "tiers": {"thresholds": [1000, 10000, 50000, 200000]},
        "date_format": "%d/%m/%Y",
        "currency": "GBP",
        "commission_scale": "percent",
        "orders_above_clicks": "keep",
        "encoding": "latin-1",
        "sheet": 2,
    }


def test_empty_spec_means_defaults_and_the_whole_folder(tmp_path):
    write(tmp_path, "videos.csv")
    spec = DataSpec.from_yaml(write(tmp_path, "data.yaml", "# nothing set\n"))
    kwargs = spec.loader_kwargs()
    assert kwargs.pop("orders_above_clicks") == "reject"
    assert set(kwargs.values()) == {None}
    assert spec.files() == [tmp_path.resolve() / "videos.csv"]


def test_to_dict_is_json_and_round_trips(tmp_path):
    spec = DataSpec.from_yaml(write(tmp_path, "data.yaml", FULL_SPEC))
    data = json.loads(json.dumps(spec.to_dict()))
    assert list(data) == list(SPEC_KEYS)
    assert data["period"] == {"start": "2026-11-01", "end": "2026-11-30"}
    assert data["files"][1] == {"path": "book.xlsx", "sheet": "Creators", "role": "creators"}
    again = DataSpec.from_mapping(data, spec.base_dir)
    assert again == spec and hash(again) == hash(spec)


def test_spec_is_frozen(tmp_path):
    spec = DataSpec.from_mapping({"site": "US"}, tmp_path)
    with pytest.raises(AttributeError):
        spec.site = "UK"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.column_map["x"] = "clicks"  # type: ignore[index]


def test_tiers_forms():
    old_form = {"thresholds": {"micro": 5, "mid": 50, "macro": 500, "mega": 5000}}
    spec = DataSpec.from_mapping({"tiers": old_form})
    assert spec.loader_kwargs()["tiers"] == {"thresholds": [5, 50, 500, 5000]}
    labels = DataSpec.from_mapping({"tiers": {"labels": ["18-24", " 25-34", "65+"]}})
    assert labels.loader_kwargs()["tiers"] == {"labels": ["18-24", "25-34", "65+"]}
    floats = DataSpec.from_mapping({"tiers": {"thresholds": [1e4, 1.5e4, 2e5, 1e6]}})
    assert floats.tiers["thresholds"] == (10000, 15000, 200000, 1000000)


def test_column_map_accepts_canonical_and_new_identifiers():
    cmap = {"Approved_Conversion": "orders", "Age": "age_band", "Clicks 7d": "clicks_7d"}
    spec = DataSpec.from_mapping({"column_map": cmap})
    assert dict(spec.column_map) == cmap


def test_period_last_and_open_ended():
    assert DataSpec.from_mapping({"period": {"last": " 4W "}}).period == Period(last="4w")
    assert DataSpec.from_mapping({"period": {"start": "2026-01-05"}}).period.bounds() == (
        dt.date(2026, 1, 5),
        None,
    )
    # A datetime at midnight (YAML from another loader, or Python) is a date.
    spec = DataSpec.from_mapping({"period": {"end": dt.datetime(2026, 2, 1)}})
    assert spec.period.end == dt.date(2026, 2, 1)


@pytest.mark.parametrize(
    ("last", "latest", "start"),
    [
        ("7d", dt.date(2026, 11, 30), dt.date(2026, 11, 24)),
        ("1d", dt.date(2026, 11, 30), dt.date(2026, 11, 30)),
        ("4w", dt.date(2026, 11, 30), dt.date(2026, 11, 3)),
        ("1m", dt.date(2026, 3, 31), dt.date(2026, 3, 1)),
        ("1m", dt.date(2026, 11, 15), dt.date(2026, 10, 16)),
        ("3m", dt.date(2026, 2, 10), dt.date(2025, 11, 11)),
    ],
)
def test_period_last_bounds(last, latest, start):
    assert Period(last=last).bounds(latest) == (start, latest)


def test_period_last_needs_latest_date():
    with pytest.raises(ValueError, match="latest date"):
        Period(last="7d").bounds()


def test_site_codes_and_alias():
    assert DataSpec.from_mapping({"site": " gb "}).site == "UK"
    assert DataSpec.from_mapping({"site": "id"}).site == "ID"
    assert DataSpec.from_mapping({"site": "US", "currency": "usd"}).currency == "USD"


def test_keys_set_to_null_are_not_given():
    spec = DataSpec.from_mapping({"site": None, "orders_above_clicks": None, "files": None})
    assert spec == DataSpec.from_mapping({})
    assert spec.orders_above_clicks == "reject"


def test_override_validates_keyword_options(tmp_path):
    spec = DataSpec.from_yaml(write(tmp_path, "data.yaml", "site: US\n"))
    assert spec.override(orders_above_clicks="keep", site=None).loader_kwargs()["site"] == "US"
    assert spec.override(site="uk").site == "UK"
    assert spec.override() is spec
    with pytest.raises(SpecError, match="orders_above_clicks"):
        spec.override(orders_above_clicks="maybe")


# ------------------------------------------------------------------------ errors

# (mapping, key named in the message, words the message must contain)
ERRORS: list[tuple[dict[str, Any], str, list[str]]] = [
    ({"sitee": "US"}, "sitee", ["Did you mean 'site'", "Accepted keys: files, site"]),
    ({"colum_map": {"a": "clicks"}}, "colum_map", ["Did you mean 'column_map'"]),
    ({"site": "XX"}, "site", ["not a known site code", "US, UK", "GB is accepted"]),
    ({"site": "USA"}, "site", ["Did you mean 'US'"]),
    ({"site": 1}, "site", ["expected a site code"]),
    ({"site": False}, "site", ["as the boolean false", "Quote"]),
    ({"currency": "dollars"}, "currency", ["not a known currency", "USD"]),
    ({"site": "US", "currency": "GBP"}, "currency", ["contradicts site US", "USD"]),
    ({"encoding": "latin-9x"}, "encoding", ["not an encoding", "latin-1"]),
    ({"encoding": 8}, "encoding", ["expected text"]),
    ({"column_map": ["a", "b"]}, "column_map", ["expected a mapping"]),
    ({"column_map": {"Clicks": "clikcs"}}, "column_map.Clicks", ["Did you mean 'clicks'"]),
    ({"column_map": {"Age": "Age band"}}, "column_map.Age", ["valid identifier", "age_band"]),
    ({"column_map": {"Age": "2age"}}, "column_map.Age", ["valid identifier"]),
    ({"column_map": {"Age": "class"}}, "column_map.Age", ["valid identifier"]),
    ({"column_map": {"File": "source_file"}}, "column_map.File", ["added by the loader"]),
    ({"column_map": {"Ok": True}}, "column_map.Ok", ["as the boolean true"]),
    ({"column_map": {2024: "date"}}, "column_map", ["not text", "quote"]),
    (
        {"column_map": {"Region": "r"}, "site_column": "Region"},
        "site_column",
        ["delete `Region: r`"],
    ),
    ({"column_map": {"Country": "site"}, "site_column": "Region"}, "site_column", ["Country"]),
    ({"date_format": "dd/mm/yyyy"}, "date_format", ["no % directives", "%d"]),
    ({"date_format": "%d/%m/%Q"}, "date_format", ["bad directive", "%d/%m/%Y"]),
    ({"date_format": "%-d/%m/%Y"}, "date_format", ["not a usable format"]),
    ({"tiers": [1, 2, 3, 4]}, "tiers", ["thresholds` or `labels"]),
    ({"tiers": {"thresholds": [1, 2], "labels": ["a"]}}, "tiers", ["one of them"]),
    ({"tiers": {"treshold": [1, 2, 3, 4]}}, "tiers.treshold", ["Did you mean 'thresholds'"]),
    ({"tiers": {"thresholds": [1, 2, 3]}}, "tiers.thresholds", ["expected 4 follower counts"]),
    ({"tiers": {"thresholds": [1, 3, 2, 4]}}, "tiers.thresholds", ["must increase"]),
    ({"tiers": {"thresholds": [1, 2, 3, "4k"]}}, "tiers.thresholds.[3]", ["positive"]),
    ({"tiers": {"thresholds": [0, 2, 3, 4]}}, "tiers.thresholds.[0]", ["positive"]),
    ({"tiers": {"thresholds": [1, 2, 3, True]}}, "tiers.thresholds.[3]", ["positive"]),
    ({"tiers": {"thresholds": {"micro": 1, "mid": 2}}}, "tiers.thresholds", ["missing"]),
    ({"tiers": {"thresholds": {"micro": 1, "big": 2}}}, "tiers.thresholds.big", ["unknown"]),
    ({"tiers": {"labels": []}}, "tiers.labels", ["ordered list"]),
    ({"tiers": {"labels": ["a", "b", "a"]}}, "tiers.labels", ["'a' appears twice"]),
    ({"tiers": {"labels": ["a", 1]}}, "tiers.labels.[1]", ["not text", "quote"]),
    ({"commission_scale": "percentage"}, "commission_scale", ["Did you mean 'percent'"]),
    ({"commission_scale": 100}, "commission_scale", ["fraction | percent | api"]),
    ({"orders_above_clicks": "drop"}, "orders_above_clicks", ["reject | keep"]),
    ({"orders_above_clicks": True}, "orders_above_clicks", ["as the boolean true"]),
    ({"period": "last week"}, "period", ["expected a mapping"]),
    ({"period": {"start": "01/11/2026"}}, "period.start", ["not an ISO date"]),
    ({"period": {"start": "2026-12-01", "end": "2026-11-01"}}, "period", ["is after end"]),
    ({"period": {"last": "7 days"}}, "period.last", ["7d, 4w, 1m"]),
    ({"period": {"last": "0d"}}, "period.last", ["not a duration"]),
    ({"period": {"last": "7d", "start": "2026-01-01"}}, "period", ["not both"]),
    ({"period": {"from": "2026-01-01"}}, "period.from", ["Accepted keys: start, end, last"]),
    ({"period": {"end": dt.datetime(2026, 1, 1, 12)}}, "period.end", ["expected a date"]),
    ({"period": {"start": None}}, "period", ["give `start`, `end` or both"]),
    ({"sheet": -1}, "sheet", ["0-based sheet number"]),
    ({"sheet": [1]}, "sheet", ["0-based sheet number"]),
    ({"files": []}, "files", ["expected a list"]),
    ({"files": [3]}, "files.[0]", ["expected a path, a glob or a mapping"]),
    ({"files": [{"sheet": 1}]}, "files.[0]", ["needs `path`"]),
    ({"files": [{"path": "a.xlsx", "tab": 1}]}, "files.[0].tab", ["Accepted keys: path"]),
    ({"files": [{"path": "a.csv", "role": "video"}]}, "files.[0].role", ["'videos'"]),
    ({"files": [{"path": "a.csv", "sheet": False}]}, "files.[0].sheet", ["boolean"]),
    ({"site_column": ""}, "site_column", ["expected text"]),
]


@pytest.mark.parametrize(("mapping", "key", "words"), ERRORS, ids=[e[1] for e in ERRORS])
def test_error_names_spec_and_key_and_says_why(mapping, key, words):
    message = spec_error(mapping)
    assert message.startswith(f"data spec (dict): `{key}`:"), message
    for word in words:
        assert word in message, (word, message)


def _fix_block(message: str) -> dict[str, Any]:
    """The YAML under "Fix in ...:" in a message, parsed."""
    match = re.search(r"\nFix in [^\n]*:\n(.*)\Z", message, re.S)
    assert match, f"no fix shown: {message}"
    return yaml.safe_load(match.group(1))


def _apply_fix(mapping: dict[str, Any], key: str, fix: dict[str, Any]) -> dict[str, Any]:
    """Delete the key the error names (unless it is inside a list), then merge the fix."""
    out = json.loads(json.dumps(mapping, default=str))
    parts = key.split(".")
    if not any(p.startswith("[") for p in parts):
        node = out
        for part in parts[:-1]:
            node = node.get(part, {})
        node.pop(parts[-1], None)
    return _merge(out, fix)


def _merge(base: dict[str, Any], fix: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``fix`` into ``base``; a one-item list fixes the first item in place."""
    for k, v in fix.items():
        old = base.get(k)
        if isinstance(v, dict) and isinstance(old, dict):
            _merge(old, v)
        elif (
            isinstance(v, list) and len(v) == 1 and isinstance(v[0], dict) and isinstance(old, list)
        ):
            base[k] = [_merge(old[0], v[0]) if isinstance(old[0], dict) else v[0], *old[1:]]
        else:
            base[k] = v
    return base


FIXABLE = [e for e in ERRORS if "Fix in" in spec_error(e[0])]


def test_errors_without_a_yaml_fix_still_say_what_to_do():
    assert len(FIXABLE) >= len(ERRORS) - 4
    for mapping, _, _ in ERRORS:
        message = spec_error(mapping)
        assert "Fix in" in message or "Accepted keys:" in message or "Fix: delete" in message


@pytest.mark.parametrize(("mapping", "key", "words"), FIXABLE, ids=[e[1] for e in FIXABLE])
def test_applying_the_suggested_fix_validates(tmp_path, mapping, key, words):
    fixed = _apply_fix(mapping, key, _fix_block(spec_error(mapping)))
    spec = DataSpec.from_mapping(fixed, tmp_path)
    assert isinstance(spec, DataSpec)


def test_spec_error_is_an_export_error():
    assert issubclass(SpecError, ExportError)


def test_unknown_top_level_key_in_params_block_names_data_prefix(tmp_path):
    message = yaml_error(tmp_path, "data:\n  sit: US\nseed: 0\n")
    assert "`data.sit`: unknown key. Did you mean 'site'?" in message
    assert "data:\n      site: US" in message


# ------------------------------------------------------------ YAML traps


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("site: no\n", "site", ["`no` as the boolean false", 'site: "NO"', "NO is not a known"]),
        ("site: NO\n", "site", ["`NO` as the boolean false"]),
        (
            "orders_above_clicks: yes\n",
            "orders_above_clicks",
            ["`yes`", 'orders_above_clicks: "keep"'],
        ),
        (
            "orders_above_clicks: off\n",
            "orders_above_clicks",
            ["`off`", 'orders_above_clicks: "reject"'],
        ),
        ("currency: on\n", "currency", ["`on` as the boolean true"]),
        ("tiers: {labels: [18-24, yes]}\n", "tiers.labels.[1]", ["not text", '"yes"']),
        ("column_map: {Opt-in: yes}\n", "column_map.Opt-in", ["`yes` as the boolean true"]),
        ("files: [yes]\n", "files", ["`yes`"]),
        ("on: 1\n", "on", ["read `on` as a boolean key"]),
    ],
)
def test_yaml_boolean_traps(tmp_path, text, key, words):
    message = yaml_error(tmp_path, text)
    assert f"`{key}`:" in message
    assert "yes/no/on/off" in message or "boolean key" in message or "not text" in message
    for word in words:
        assert word in message, (word, message)


def test_unquoted_date_format_and_glob_get_a_quoting_hint(tmp_path):
    message = yaml_error(tmp_path, "date_format: %d/%m/%Y\n")
    assert 'Quote date formats: date_format: "%d/%m/%Y"' in message
    message = yaml_error(tmp_path, "files: [*.csv]\n")
    assert 'Quote globs (YAML reads * as an alias): files: ["videos_*.csv"]' in message


def test_dates_stay_text_so_bad_dates_are_spec_errors(tmp_path):
    message = yaml_error(tmp_path, "period: {start: 2026-13-01}\n")
    assert "`period.start`: '2026-13-01' is not an ISO date" in message
    write(tmp_path, "v.csv")
    spec = DataSpec.from_yaml(write(tmp_path, "data.yaml", "period: {start: 2026-02-01}\n"))
    assert spec.period.start == dt.date(2026, 2, 1)


def test_duplicate_keys_are_refused(tmp_path):
    message = yaml_error(tmp_path, "site: US\ncurrency: USD\nsite: UK\n")
    assert "key `site` appears twice (lines 1 and 3)" in message


def test_not_a_mapping_not_utf8_not_yaml(tmp_path):
    assert "expected a mapping of spec keys, got a list" in yaml_error(tmp_path, "- a\n- b\n")
    (tmp_path / "data.yaml").write_bytes("site: \xe9\n".encode("latin-1"))
    with pytest.raises(SpecError, match="not UTF-8 text"):
        DataSpec.from_yaml(tmp_path / "data.yaml")
    assert "not valid YAML" in yaml_error(tmp_path, "site: [US\n")


def test_a_number_header_must_be_quoted(tmp_path):
    message = yaml_error(tmp_path, "column_map: {2024: date}\n")
    assert "quote headers that look like numbers" in message
    assert '{"2024": date}' in message


# ------------------------------------------------------------------ files


def test_globs_are_sorted_and_skip_non_data(tmp_path):
    for name in ["videos_10.csv", "videos_02.csv", "videos_notes.pdf", "creators.csv"]:
        write(tmp_path, name)
    write(tmp_path, "videos_notes.txt", "Remember: export again on Monday.\n")
    write(tmp_path, "videos_03.txt")  # a .txt export (its header names known columns)
    spec = DataSpec.from_mapping({"files": ["videos_*"]}, tmp_path)
    assert [p.name for p in spec.files()] == ["videos_02.csv", "videos_03.txt", "videos_10.csv"]
    assert spec.skipped() == [
        (tmp_path / "videos_notes.pdf", "not data (a PDF document)"),
        (tmp_path / "videos_notes.txt", "text file without a table header (notes?)"),
    ]


def test_recursive_and_subfolder_globs(tmp_path):
    write(tmp_path, "2026/10/videos.csv")
    write(tmp_path, "2026/11/videos.csv")
    spec = DataSpec.from_mapping({"files": ["2026/**/videos.csv"]}, tmp_path)
    assert [p.relative_to(tmp_path.resolve()).as_posix() for p in spec.files()] == [
        "2026/10/videos.csv",
        "2026/11/videos.csv",
    ]


def test_relative_paths_are_from_the_spec_folder(tmp_path):
    data = write(tmp_path, "exports/videos.csv")
    write(tmp_path, "shared/creators.csv")
    spec_path = write(
        tmp_path, "exports/data.yaml", "files: [videos.csv, ../shared/creators.csv]\n"
    )
    spec = DataSpec.from_yaml(spec_path)
    assert spec.files() == [data.resolve(), (tmp_path / "shared/creators.csv").resolve()]


def test_absolute_paths_and_globs(tmp_path):
    data = write(tmp_path, "a/videos.csv")
    spec = DataSpec.from_mapping(
        {"files": [str(data), str(tmp_path / "a" / "*.csv")]}, tmp_path / "b"
    )
    assert spec.files() == [data.resolve()]


def test_a_single_string_is_one_file(tmp_path):
    write(tmp_path, "videos.csv")
    spec = DataSpec.from_mapping({"files": "videos.csv"}, tmp_path)
    assert spec.file_items == (FileEntry("videos.csv"),)
    assert spec.files() == [tmp_path.resolve() / "videos.csv"]


def test_missing_literal_path_is_named_with_a_suggestion(tmp_path):
    write(tmp_path, "videos.csv")
    spec_path = write(tmp_path, "data.yaml", "files: [video.csv]\n")
    with pytest.raises(SpecError) as info:
        DataSpec.from_yaml(spec_path).files()
    message = str(info.value)
    assert message.startswith(f"{spec_path}: `files.[0]`: file 'video.csv' not found")
    assert str(tmp_path / "video.csv") in message and "Did you mean 'videos.csv'?" in message
    fix = _fix_block(message)
    assert DataSpec.from_mapping(fix, tmp_path).files() == [tmp_path.resolve() / "videos.csv"]


def test_glob_matching_nothing_is_an_error(tmp_path):
    write(tmp_path, "creators.csv")
    write(tmp_path, "videos.pdf")
    spec = DataSpec.from_mapping({"files": ["creators.csv", "videos*"]}, tmp_path)
    with pytest.raises(SpecError, match=r"`files.\[1\]`: the glob 'videos\*' matches no data file"):
        spec.files()
    with pytest.raises(SpecError, match=r"it matched only \['videos.pdf'\]"):
        spec.entries()


def test_literal_folder_is_an_error(tmp_path):
    (tmp_path / "exports").mkdir()
    with pytest.raises(SpecError, match=r"'exports' is a folder; list its files or use a glob"):
        DataSpec.from_mapping({"files": ["exports"]}, tmp_path).files()


def test_same_file_twice_is_read_once_and_explicit_role_wins(tmp_path):
    write(tmp_path, "videos.csv")
    write(tmp_path, "creators.csv")
    files = ["*.csv", {"path": "creators.csv", "role": "creators"}]
    entries = DataSpec.from_mapping({"files": files}, tmp_path).entries()
    assert [(e.path.name, e.role) for e in entries] == [
        ("creators.csv", "creators"),
        ("videos.csv", None),
    ]


def test_two_roles_for_one_file_is_an_error(tmp_path):
    write(tmp_path, "x.csv")
    files = [{"path": "x.csv", "role": "videos"}, {"path": "./x.csv", "role": "creators"}]
    with pytest.raises(SpecError, match=r"x.csv is given two roles \(videos, creators\)"):
        DataSpec.from_mapping({"files": files}, tmp_path).entries()


def test_two_sheets_of_one_workbook_are_two_entries(tmp_path):
    write(tmp_path, "book.xlsx", "x")
    files = [
        {"path": "book.xlsx", "sheet": "Videos"},
        {"path": "book.xlsx", "sheet": 1, "role": "creators"},
    ]
    spec = DataSpec.from_mapping({"files": files, "sheet": 0}, tmp_path)
    assert [(e.sheet, e.role) for e in spec.entries()] == [("Videos", None), (1, "creators")]
    assert spec.files() == [tmp_path.resolve() / "book.xlsx"]


# ------------------------------------------------------------------ resolve


def test_resolve_folder_with_data_yaml(tmp_path):
    write(tmp_path, "ads.csv")
    write(tmp_path, "data.yaml", "files: [ads.csv]\nsite: US\n")
    spec = DataSpec.resolve(tmp_path)
    assert spec.site == "US" and spec.origin == str(tmp_path / "data.yaml")
    assert DataSpec.resolve(str(tmp_path)) == spec


def test_resolve_folder_without_spec_lists_data_files(tmp_path):
    for name in [
        "videos.csv",
        "creators.xlsx",
        "export.txt",
        "README.md",
        "chart.png",
        "~$videos.xlsx",
        ".hidden.csv",
        "old.xls",
    ]:
        write(tmp_path, name)
    write(tmp_path, "notes.txt", "Remember: the October export is missing two days.\n")
    (tmp_path / "old").mkdir()
    spec = DataSpec.resolve(tmp_path)
    assert spec.file_items is None and spec.to_dict()["files"] is None
    assert [p.name for p in spec.files()] == ["creators.xlsx", "export.txt", "videos.csv"]
    skipped = {p.name: why for p, why in spec.skipped()}
    assert skipped == {
        ".hidden.csv": "hidden file",
        "README.md": "not data (a text document)",
        "chart.png": "not data (an image)",
        "notes.txt": "text file without a table header (notes?)",
        "old": "sub-folder (sub-folders are not searched)",
        "old.xls": "old binary .xls workbook: save it as .xlsx to include it",
        "~$videos.xlsx": "Office lock file (the workbook is open in Excel; the real file is read)",
    }
    # The one listing rule of the readers (and so of load_dataset): never disagreeing.
    data, passed = list_data_files(tmp_path)
    assert [p.resolve() for p in data] == [p.resolve() for p in spec.files()]
    assert dict(passed) == skipped


def test_txt_export_known_through_column_map_is_data(tmp_path):
    write(tmp_path, "ads.txt", "Ad Set,Approved_Conversion,Clicks\nA,1,10\n")
    assert list_data_files(tmp_path)[0] == []  # one known header: notes for all we know
    spec = DataSpec.from_mapping(
        {"files": ["*.txt"], "column_map": {"Ad Set": "creator_id"}}, tmp_path
    )
    assert [p.name for p in spec.files()] == ["ads.txt"] and spec.skipped() == []
    (tmp_path / "data.yaml").write_text("column_map: {Approved_Conversion: orders}\n")
    assert [p.name for p in DataSpec.resolve(tmp_path).files()] == ["ads.txt"]


def test_folder_without_data_files_is_an_error(tmp_path):
    write(tmp_path, "README.md")
    with pytest.raises(SpecError, match=r"`files`: no data file .* it holds \['README.md'\]"):
        DataSpec.resolve(tmp_path).files()


def test_resolve_one_data_file(tmp_path):
    data = write(tmp_path, "ads.csv")
    spec = DataSpec.resolve(data)
    assert spec.files() == [data.resolve()] and spec.base_dir == tmp_path.resolve()


def test_resolve_spec_file_anywhere(tmp_path):
    write(tmp_path, "exports/videos.csv")
    spec_path = write(tmp_path, "specs/mine.yml", "files: [../exports/videos.csv]\n")
    assert [p.name for p in DataSpec.resolve(spec_path).files()] == ["videos.csv"]


def test_resolve_params_file_with_data_block(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    write(tmp_path, "data/raw/fb.csv")
    params = write(
        tmp_path, "params/fb.yaml", "seed: 0\ndata:\n  files: [data/raw/fb.csv]\n  site: US\n"
    )
    spec = DataSpec.resolve(params)
    assert spec.key_prefix == ("data",) and spec.site == "US"
    assert spec.files() == [(tmp_path / "data/raw/fb.csv").resolve()]


def test_resolve_params_file_with_data_path(tmp_path):
    write(tmp_path, "october/videos.csv")
    write(tmp_path, "october/data.yaml", "site: MY\n")
    params = write(tmp_path, "p.yaml", f"data: {tmp_path / 'october'}\nseed: 1\n")
    assert DataSpec.resolve(params).site == "MY"


def test_params_file_with_empty_or_no_data_is_an_error(tmp_path):
    message = yaml_error(tmp_path, "data:\nseed: 1\n")
    assert "`data`: expected a data folder, a file or a spec block, got empty" in message
    message = yaml_error(tmp_path, "seed: 1\nnotebooks: {}\n")
    assert "`data`: this params file has no `data:` entry" in message
    assert "\n    data: data/raw/october" in message


def test_resolve_mapping_and_spec(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    data = write(tmp_path, "data/raw/ads.csv")
    spec = DataSpec.resolve({"site": "US", "files": ["data/raw/*.csv"]})
    assert spec.files() == [data.resolve()] and DataSpec.resolve(spec) is spec


def test_dict_or_params_block_without_files_does_not_list_the_repo(tmp_path):
    with pytest.raises(SpecError, match=r"data spec \(dict\): `files`: no files given"):
        DataSpec.resolve({"site": "US"}).files()
    params = write(tmp_path, "p.yaml", "data: {site: US}\n")
    with pytest.raises(SpecError, match=r"`data.files`: no files given") as info:
        DataSpec.resolve(params).override(site="UK").entries()
    assert 'data:\n      files: ["data/raw/october/*.csv"]' in str(info.value)


def test_resolve_missing_path_and_two_specs(tmp_path):
    with pytest.raises(SpecError, match="no such file or folder"):
        DataSpec.resolve(tmp_path / "nope")
    write(tmp_path, "data.yaml", "site: US\n")
    write(tmp_path, "data.yml", "site: UK\n")
    with pytest.raises(SpecError, match="both data.yaml and data.yml"):
        DataSpec.resolve(tmp_path)


# ------------------------------------------------------------------ fingerprint


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    write(folder, "videos.csv")
    write(folder, "creators.csv", "Creator name,Followers\na,10\n")
    write(folder, "data.yaml", "# my spec\nsite: US\nfiles: [videos.csv, creators.csv]\n")
    return folder


def test_fingerprint_is_stable_across_runs(tmp_path):
    folder = _folder(tmp_path)
    here = DataSpec.resolve(folder).fingerprint()
    code = f"from helpers.io.spec import DataSpec; print(DataSpec.resolve({str(folder)!r}).fingerprint())"
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=paths.ROOT
    ).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", here) and here == there


def test_fingerprint_ignores_location_comments_and_key_order(tmp_path):
    folder = _folder(tmp_path)
    before = DataSpec.resolve(folder).fingerprint()
    moved = shutil.copytree(folder, tmp_path / "elsewhere")
    write(moved, "data.yaml", "files: [videos.csv, creators.csv]   # reordered\nsite: us\n")
    assert DataSpec.resolve(moved).fingerprint() == before


def test_fingerprint_changes_with_file_bytes(tmp_path):
    folder = _folder(tmp_path)
    before = DataSpec.resolve(folder).fingerprint()
    write(folder, "videos.csv", CSV.replace("100,5", "100,6"))  # same size, one byte
    assert DataSpec.resolve(folder).fingerprint() != before


def test_fingerprint_changes_with_spec_and_files_and_salt(tmp_path):
    folder = _folder(tmp_path)
    spec = DataSpec.resolve(folder)
    seen = {spec.fingerprint(), spec.fingerprint(salt="loader 2")}
    seen.add(spec.override(orders_above_clicks="keep").fingerprint())
    write(folder, "data.yaml", "site: US\nfiles: [videos.csv]\n")
    seen.add(DataSpec.resolve(folder).fingerprint())
    (folder / "data.yaml").unlink()
    seen.add(DataSpec.resolve(folder).fingerprint())
    write(folder, "videos_2.csv")
    seen.add(DataSpec.resolve(folder).fingerprint())
    assert len(seen) == 6


def test_fingerprint_reads_large_files_in_chunks(tmp_path):
    folder = tmp_path / "big"
    write(folder, "videos.csv", CSV + "2,100,5,1\n" * 300_000)  # ~3 MB, several chunks
    spec = DataSpec.resolve(folder)
    before = spec.fingerprint()
    with (folder / "videos.csv").open("r+b") as fh:
        fh.seek(-3, 2)
        fh.write(b"2,1")
    assert spec.fingerprint() != before


def test_nothing_is_written_or_modified(tmp_path):
    folder = _folder(tmp_path)
    before = {p: p.read_bytes() for p in folder.iterdir()}
    spec = DataSpec.resolve(folder)
    spec.fingerprint()
    spec.entries()
    assert {p: p.read_bytes() for p in folder.iterdir()} == before


# ------------------------------------------------------------------ examples


EXAMPLES = paths.ROOT / "params" / "specs"


def test_example_seller_center_without_products(tmp_path):
    shutil.copy(EXAMPLES / "seller_center_no_products.yaml", tmp_path / "data.yaml")
    for name in [
        "affiliate_videos_w1.csv",
        "affiliate_videos_w2.csv",
        "affiliate_creators.csv",
        "notes.txt",
    ]:
        write(tmp_path, name)
    spec = DataSpec.resolve(tmp_path)
    assert [(e.path.name, e.role) for e in spec.entries()] == [
        ("affiliate_videos_w1.csv", None),
        ("affiliate_videos_w2.csv", None),
        ("affiliate_creators.csv", "creators"),
    ]
    assert spec.loader_kwargs()["date_format"] == "%m/%d/%Y"
    assert spec.orders_above_clicks == "reject"


def test_example_facebook_ads(tmp_path):
    shutil.copy(EXAMPLES / "facebook_ads.yaml", tmp_path / "data.yaml")
    write(tmp_path, "KAG_conversion_data.csv")
    kwargs = DataSpec.resolve(tmp_path).loader_kwargs()
    assert kwargs["site"] == "US" and kwargs["orders_above_clicks"] == "keep"
    assert kwargs["column_map"]["Approved_Conversion"] == "orders"
    assert kwargs["column_map"]["age"] == "tier"
    assert kwargs["tiers"] == {"labels": ["30-34", "35-39", "40-44", "45-49"]}
