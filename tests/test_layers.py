"""The package keeps its shape: imports flow down the layers, functions stay short.

The layers are declared once, in pyproject.toml (``[tool.importlinter]``), and checked
with import-linter. Function length is a ratchet: a function over ``MAX_LINES`` lines
of code (docstring excluded) must be listed in ``LONG_FUNCTIONS`` with no more lines
than listed; splitting one lowers its entry or removes it, and nothing new joins.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import paths

MAX_LINES = 80

#: Functions still longer than MAX_LINES (issue 12's work list), with their ceiling.
LONG_FUNCTIONS: dict[str, int] = {
    "helpers/conversion.py::_fit_patterns": 94,
    "helpers/lift.py::ctr_lift": 365,
    "helpers/report.py::run_report": 261,
    "helpers/load.py::_finalise": 254,
    "helpers/scorecard.py::build_scorecard": 188,
    "helpers/load.py::assemble": 146,
    "helpers/lift.py::summarise_lift": 141,
    "helpers/load.py::_parse_table": 108,
    "helpers/report.py::_write_report_files": 112,
    "helpers/conversion.py::calibration": 102,
    "helpers/glossary.py::metric_table": 102,
    "helpers/glossary.py::toy_campaign": 93,
    "helpers/charts/lift.py::lift_funnel": 88,
    "helpers/charts/scorecard.py::scorecard_roi_chart": 87,
    "helpers/load.py::_parse_general": 84,
    "helpers/lift.py::benchmark": 82,
    "helpers/load.py::parse_dates": 82,
    "helpers/report.py::_coerce": 82,
}


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function without its docstring (numpydoc docstrings are long by design)."""
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def function_lengths(root: Path) -> dict[str, int]:
    """``{"helpers/x.py::name": code lines}`` for every function longer than MAX_LINES."""
    found: dict[str, int] = {}
    for path in sorted((root / "helpers").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = _code_lines(node)
                if n > MAX_LINES:
                    key = f"{path.relative_to(root).as_posix()}::{node.name}"
                    found[key] = max(n, found.get(key, 0))
    return found


def test_imports_follow_the_layers() -> None:
    tool = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run(
        [tool, "--no-cache"], cwd=paths.ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_no_function_grows_past_the_limit() -> None:
    found = function_lengths(paths.ROOT)
    new = {k: v for k, v in found.items() if k not in LONG_FUNCTIONS}
    grown = {k: (v, LONG_FUNCTIONS[k]) for k, v in found.items() if v > LONG_FUNCTIONS.get(k, v)}
    assert not new, f"functions over {MAX_LINES} lines of code; split them: {new}"
    assert not grown, f"functions longer than their listed ceiling (now, ceiling): {grown}"


def test_the_long_list_is_current() -> None:
    """A function that was split (or shortened) leaves the list, so the list stays true."""
    found = function_lengths(paths.ROOT)
    stale = {k: v for k, v in LONG_FUNCTIONS.items() if found.get(k, 0) < v}
    assert not stale, f"lower or remove these entries (listed, now): {stale} vs {found}"
