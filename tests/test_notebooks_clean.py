"""Every committed notebook is clean and follows the kit's notebook structure.

Clean: no outputs, no execution counts (notebooks are committed empty; reports hold
the outputs). Structure: a python3 kernelspec, exactly one cell tagged
``parameters`` declaring ``data``, ``output_dir`` and ``seed`` (so the report runner
can pass them), and a last code cell that calls ``versions_footer``.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from helpers import paths
from helpers.report import declared_parameters

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("*.ipynb"))
# The runner's test notebooks are committed clean too.
FIXTURES = sorted((Path(__file__).parent / "fixtures" / "notebooks").glob("*.ipynb"))
REQUIRED = {"data": "str", "output_dir": "str", "seed": "int"}


def _read(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4, f"{path.name}: nbformat {nb.nbformat}, expected 4"
    return nb


def test_notebooks_folder_names() -> None:
    """Holds with zero notebooks too: every notebook present is named NN_topic.ipynb."""
    assert paths.NOTEBOOKS.is_dir() or not NOTEBOOKS
    bad = [p.name for p in NOTEBOOKS if not re.fullmatch(r"\d{2}_[a-z0-9_]+\.ipynb", p.name)]
    assert not bad, f"notebooks must be named NN_topic.ipynb (lower case): {bad}"


@pytest.mark.parametrize(
    "path",
    NOTEBOOKS + FIXTURES,
    ids=[p.stem for p in NOTEBOOKS] + [f"fixture-{p.stem}" for p in FIXTURES],
)
def test_notebook_has_no_outputs(path: Path) -> None:
    nb = _read(path)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have outputs or execution counts. Fix: clear them before "
        f"committing, e.g. `.venv/bin/jupyter nbconvert --clear-output --inplace {path}`."
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_kernelspec(path: Path) -> None:
    spec = _read(path).metadata.get("kernelspec", {})
    assert spec.get("name") == "python3", f"{path.name}: kernelspec {spec!r}"
    assert spec.get("language") == "python", f"{path.name}: kernelspec {spec!r}"
    assert spec.get("display_name"), f"{path.name}: kernelspec has no display_name"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_parameters_cell(path: Path) -> None:
    nb = _read(path)
    tagged = [
        i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters', expected 1"
    assert nb.cells[tagged[0]].cell_type == "code", f"{path.name}: the parameters cell is not code"
    declared = declared_parameters(path)
    for name, kind in REQUIRED.items():
        assert name in declared, (
            f"{path.name}: the parameters cell does not declare {name!r}; "
            f"add e.g. `{name}: {kind} = ...` (declared: {sorted(declared)})"
        )
        assert declared[name].kind == kind, (
            f"{path.name}: {name!r} is declared as {declared[name].type_name or 'untyped'}, "
            f"expected {kind}"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_ends_with_versions_footer(path: Path) -> None:
    code = [c for c in _read(path).cells if c.cell_type == "code" and c.source.strip()]
    assert code, f"{path.name}: no code cells"
    assert "versions_footer(" in code[-1].source, (
        f"{path.name}: the last code cell must call versions_footer(seed); it is:\n{code[-1].source}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_papermill_documents_every_parameter(path: Path) -> None:
    """`papermill --help-notebook` lists every parameter with its comment: papermill's
    parser silently skips a line whose comment holds ';' or '=', or whose type is
    written ``float | None`` (use ``Optional[float]``)."""
    from papermill.translators import PythonTranslator

    nb = _read(path)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assigned = [m.group(1) for m in re.finditer(r"^(\w+)\s*:[^=\n]+=", cell.source, re.M)]
    parsed = {p.name: p for p in PythonTranslator.inspect(cell)}
    assert set(assigned) == set(parsed), f"papermill misses {sorted(set(assigned) - set(parsed))}"
    undocumented = [name for name, p in parsed.items() if not p.help]
    assert not undocumented, f"parameters without a comment: {undocumented}"
