"""Repo-relative locations, in one place.

Notebooks run with their working directory in ``notebooks/`` under JupyterLab and at
the repo root under the report runner; :func:`resolve` makes a relative path work in
both.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BENCH",
    "CACHE",
    "DATA",
    "NOTEBOOKS",
    "PARAMS",
    "RAW_DATA",
    "REPORTS",
    "ROOT",
    "SAMPLE_DATA",
    "SMOKE_DATA",
    "resolve",
]

ROOT: Path = Path(__file__).resolve().parent.parent
DATA: Path = ROOT / "data"
SAMPLE_DATA: Path = DATA / "sample"
SMOKE_DATA: Path = DATA / "smoke"
RAW_DATA: Path = DATA / "raw"
NOTEBOOKS: Path = ROOT / "notebooks"
PARAMS: Path = ROOT / "params"
REPORTS: Path = ROOT / "reports"
BENCH: Path = ROOT / "bench"
#: Validated datasets kept between JupyterLab calls (keyed by the files' bytes and spec).
CACHE: Path = ROOT / ".cache" / "datasets"


def resolve(path: str | Path) -> Path:
    """Return ``path`` as an absolute path.

    An absolute path, or a relative one that exists from the current directory, is
    returned as it is; any other relative path is taken relative to the repo root
    (so ``"data/sample"`` works from ``notebooks/`` as well as from the root).

    Parameters
    ----------
    path : str or Path
        A file or folder path.

    Returns
    -------
    Path
        The absolute path (which may not exist).
    """
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    if p.exists():
        return p.resolve()
    return (ROOT / p).resolve()
