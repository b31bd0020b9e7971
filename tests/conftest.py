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

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from helpers import paths

# Kernels inherit the test process's environment: a forced backend (MPLBACKEND=Agg)
# would strip every figure from executed notebooks.
os.environ.pop("MPLBACKEND", None)

try:
    import fcntl
except ImportError:  # Windows: no cross-worker lock, each worker builds its own copy
    fcntl = None  # type: ignore[assignment]

__all__ = ["build_once", "run_notebook"]

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


def build_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Any]
) -> tuple[Path, Any]:
    """Run ``build(folder)`` once per test session, shared by all pytest-xdist workers.

    Expensive end-to-end fixtures (a whole report) would otherwise run once per worker:
    module and session scopes are per process under xdist, and ``xdist_group`` does not
    group tests with the pinned pytest/xdist. The first worker to take the lock builds;
    the others wait and reuse the folder and ``build``'s JSON-serialisable return value.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER") and fcntl is not None:
        base = base.parent  # the session's folder, shared by all workers
    folder = base / name
    with open(base / f"{name}.lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        record = base / f"{name}.json"
        if not record.exists():
            folder.mkdir(exist_ok=True)
            value = build(folder)
            record.write_text(json.dumps({"value": value}), encoding="utf-8")
    return folder, json.loads(record.read_text(encoding="utf-8"))["value"]


@pytest.fixture(scope="session")
def spark() -> Any:
    """One local SparkSession for the whole test session (starting one takes 10-15 s).

    Skips when pyspark is not installed (``pip install -r requirements-spark.txt``) or
    no Java runtime is found (Debian: ``apt-get install default-jre-headless``). The
    session is stopped, and its JVM ended, when the tests finish."""
    import shutil

    pyspark = pytest.importorskip(
        "pyspark", reason="pyspark is not installed: pip install -r requirements-spark.txt"
    )
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip(
            "Spark needs a Java runtime and none was found; on Debian/Ubuntu install the "
            "package default-jre-headless (apt-get install default-jre-headless)"
        )
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("linkstar-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    gateway = pyspark.SparkContext._gateway
    yield session
    session.stop()
    if gateway is not None:  # end the JVM now, not when the worker exits
        gateway.shutdown()
        proc = getattr(gateway, "proc", None)
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
