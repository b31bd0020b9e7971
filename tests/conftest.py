"""Shared pytest fixtures.

``run_notebook`` executes one of the kit's notebooks through the report runner
(:func:`helpers.report.run_report`) with ``params/smoke.yaml`` plus overrides, and
returns the run folder (``figures/``, ``tables/``, ``results.json``, the executed
notebook and its HTML)::

    @pytest.mark.notebook
    def test_conversion_notebook(run_notebook):
        folder = run_notebook("02_conversion_drivers", {"min_clicks_per_level": 5})
        results = json.loads((folder / "results.json").read_text())["02_conversion_drivers"]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from helpers import paths

# Kernels inherit the test process's environment: a forced backend (MPLBACKEND=Agg)
# would strip every figure from executed notebooks.
os.environ.pop("MPLBACKEND", None)

__all__ = ["run_notebook"]

SMOKE_PARAMS: Path = paths.PARAMS / "smoke.yaml"


@pytest.fixture
def run_notebook(tmp_path: Path) -> Callable[..., Path]:
    """Execute ``notebooks/<name>.ipynb`` with the smoke parameters; return the run folder.

    The returned callable has the signature ``run_notebook(name, params=None) -> Path``:
    ``name`` is the notebook's stem (e.g. ``"02_conversion_drivers"``), ``params``
    overrides parameters (``params/smoke.yaml`` common keys and that notebook's
    ``notebooks:`` entry apply first). The test fails with the failing cell and its
    error when the notebook raises.
    """

    def _run(name: str, params: Mapping[str, Any] | None = None) -> Path:
        from helpers.report import run_report

        stem = Path(name).stem
        source = paths.NOTEBOOKS / f"{stem}.ipynb"
        if not source.exists():
            available = ", ".join(p.stem for p in sorted(paths.NOTEBOOKS.glob("*.ipynb")))
            pytest.fail(f"No notebook {source}. Available: {available or 'none'}.", pytrace=False)
        result = run_report(
            SMOKE_PARAMS,
            only=[stem],
            out=tmp_path,
            overrides=dict(params or {}),
            jobs=1,
            progress=False,
        )
        if not result.ok:
            report = result.reports[0]
            pytest.fail(
                "\n".join(result.failure_messages())
                + f"\nExecuted notebook kept for inspection: {report.folder / (stem + '.ipynb')}",
                pytrace=False,
            )
        return result.reports[0].folder

    return _run


@pytest.fixture(autouse=True, scope="session")
def _private_dataset_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """load_dataset caches validated datasets; tests keep theirs out of the repo."""
    paths.CACHE = tmp_path_factory.mktemp("dataset-cache")
