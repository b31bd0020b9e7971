"""The dataset validated once: Parquet round trip, cache, period, accounting."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import load, paths
from helpers.errors import ExportError
from helpers.io import dataset
from helpers.io.dataset import build_dataset, is_prepared, load_dataset, read_prepared


@pytest.fixture
def smoke(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    shutil.copytree(paths.SMOKE_DATA, folder, ignore=shutil.ignore_patterns("zh", "*.json", "*.md"))
    return folder


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setattr(paths, "CACHE", cache)
    return cache


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_prepared_dataset_reads_back_the_same_frame(smoke: Path, tmp_path: Path) -> None:
    before = _digest(smoke)
    direct = load.load_dataset(smoke)
    out = build_dataset(smoke, tmp_path / "run" / "dataset")
    assert is_prepared(out)
    back = read_prepared(out)
    pd.testing.assert_frame_equal(back.data, direct.data)
    assert back.summary.rows_read == direct.summary.rows_read == 2008
    assert back.summary.rows_kept + back.summary.rows_rejected == back.summary.rows_read
    assert back.summary.rejected_by_reason == direct.summary.rejected_by_reason
    assert list(back.rejected["reason"]) == list(direct.rejected["reason"].astype("string"))
    manifest = json.loads((out / dataset.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["rows"] == len(direct.data) and "spec" in manifest
    assert _digest(smoke) == before  # inputs are only read


def test_a_notebook_reading_the_run_folder_never_touches_the_exports(
    smoke: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = build_dataset(smoke, tmp_path / "dataset")

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a raw export was read again")

    monkeypatch.setattr(load, "read_export", forbidden)
    monkeypatch.setattr(load, "assemble", forbidden)
    assert load_dataset(out).summary.rows_kept == 2000


def test_cache_is_reused_until_a_file_changes(
    smoke: Path, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_dataset(smoke)
    assert len(list(private_cache.iterdir())) == 1
    calls = []
    real = load.assemble
    monkeypatch.setattr(load, "assemble", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = load_dataset(smoke)
    assert calls == []  # served from the cache
    pd.testing.assert_frame_equal(again.data, first.data)
    videos = smoke / "affiliate_videos.csv"
    videos.write_bytes(videos.read_bytes().replace(b"\n", b"\r\n", 1))
    load_dataset(smoke)
    assert calls == [1]  # new bytes, new validation
    assert len(list(private_cache.iterdir())) == 2


def test_options_change_the_cache_key(smoke: Path, private_cache: Path) -> None:
    load_dataset(smoke)
    load_dataset(smoke, date_format="%m/%d/%Y")
    assert len(list(private_cache.iterdir())) == 2


def test_period_moves_rows_out_with_a_reason(smoke: Path) -> None:
    full = load_dataset(smoke)
    dates = full.data["date"].dropna().sort_values()
    start, end = dates.iloc[len(dates) // 4].date(), dates.iloc[3 * len(dates) // 4].date()
    part = load_dataset(smoke, period={"start": str(start), "end": str(end)})
    inside = full.data["date"].between(pd.Timestamp(start), pd.Timestamp(end))
    assert part.summary.rows_kept == int(inside.sum())
    assert part.summary.rows_read == full.summary.rows_read
    assert part.summary.rows_kept + part.summary.rows_rejected == part.summary.rows_read
    outside = part.rejected["reason"].str.startswith("outside period")
    assert int(outside.sum()) == len(full.data) - int(inside.sum())
    assert part.summary.rejected_by_reason["outside period"] == int(outside.sum())


def test_a_folder_without_video_export_names_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "only_creators"
    folder.mkdir()
    shutil.copy(paths.SMOKE_DATA / "affiliate_creators.csv", folder / "affiliate_creators.csv")
    with pytest.raises(load.ExportError, match="no video export.*affiliate_creators.csv"):
        load_dataset(folder)


def test_a_changed_dataset_file_is_refused_not_trusted(smoke: Path, tmp_path: Path) -> None:
    """read_prepared trusts the file the run wrote (no validation again) only while its
    schema matches the manifest's fingerprint; a file swapped afterwards is refused."""
    out = build_dataset(smoke, tmp_path / "run" / "dataset")
    manifest = json.loads((out / dataset.MANIFEST).read_text(encoding="utf-8"))
    assert len(manifest["schema_fingerprint"]) == 64
    back = read_prepared(out)
    assert back.data["date"].dtype == "datetime64[s]"  # the canonical unit, cast in Arrow
    assert back.data["creator_id"].dtype == "category"
    swapped = back.data.assign(clicks=back.data["clicks"].astype("float64"))
    swapped.to_parquet(out / dataset.DATA_FILE, index=False)
    with pytest.raises(ExportError, match="does not match"):
        read_prepared(out)


def test_a_folder_without_fingerprint_is_read_with_checks(smoke: Path, tmp_path: Path) -> None:
    """A dataset folder written before the fingerprint existed still reads back the same."""
    out = build_dataset(smoke, tmp_path / "run" / "dataset")
    expected = read_prepared(out).data
    path = out / dataset.MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["schema_fingerprint"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    pd.testing.assert_frame_equal(read_prepared(out).data, expected)
