"""The report runner reads the data once: options given once hold in every notebook,
and analyses the data cannot support are listed, not failed."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from helpers import paths
from helpers.report import ReportError, run_report


def _ambiguous_dates(folder: Path) -> Path:
    """The smoke exports with every post date on days 1-12 (DD/MM and MM/DD both fit)."""
    shutil.copytree(paths.SMOKE_DATA, folder, ignore=shutil.ignore_patterns("zh", "*.json", "*.md"))
    videos = folder / "affiliate_videos.csv"
    text = videos.read_text(encoding="utf-8-sig")
    text = re.sub(
        r"\b(\d\d)/(\d\d)/(2026)\b", lambda m: f"{m[1]}/{int(m[2]) % 12 + 1:02d}/{m[3]}", text
    )
    videos.write_text(text, encoding="utf-8-sig")
    return folder


def test_ambiguous_dates_stop_the_run_before_any_notebook(tmp_path: Path) -> None:
    data = _ambiguous_dates(tmp_path / "exports")
    with pytest.raises(ReportError, match="date_format"):
        run_report(None, data=str(data), only="01", out=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.notebook
def test_date_format_given_once_holds_for_every_notebook(tmp_path: Path) -> None:
    data = _ambiguous_dates(tmp_path / "exports")
    result = run_report(
        paths.PARAMS / "smoke.yaml",
        data=str(data),
        only="01,04",
        out=tmp_path / "out",
        overrides={"date_format": "%m/%d/%Y"},
        jobs=1,
        progress=False,
    )
    assert result.ok, result.failure_messages()
    folder = result.reports[0].folder
    manifest = json.loads((folder / "dataset" / "dataset.json").read_text(encoding="utf-8"))
    assert manifest["spec"]["date_format"] == "%m/%d/%Y"
    for nb in result.reports[0].notebooks:
        assert nb.parameters["data"] == str(folder / "dataset")


@pytest.mark.notebook
def test_a_data_block_in_params_is_a_spec(tmp_path: Path) -> None:
    data = _ambiguous_dates(tmp_path / "exports")
    params = tmp_path / "params.yaml"
    params.write_text(
        f"data:\n  files: ['{data.as_posix()}/*.csv']\n  date_format: '%m/%d/%Y'\nseed: 0\n",
        encoding="utf-8",
    )
    result = run_report(params, only="01", out=tmp_path / "out", jobs=1, progress=False)
    assert result.ok, result.failure_messages()
    results = json.loads((result.reports[0].folder / "results.json").read_text(encoding="utf-8"))
    health = results["01_data_health"]
    assert health["rows_read"] == health["rows_kept"] + health["rows_rejected"]
