"""The code passes the project's ruff lint rules (pyproject.toml), so CI catches them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from helpers import paths


def test_ruff_check_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run(
        [ruff, "check", "--no-cache", "helpers", "tests", "bench", "notebooks"],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run(
        [ruff, "format", "--check", "--no-cache", "helpers", "tests", "bench"],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
