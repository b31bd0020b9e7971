"""The code passes the project's ruff lint and format rules (pyproject.toml), so CI catches them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import paths


@pytest.mark.parametrize(
    "command",
    [
        ["check", "--no-cache", "helpers", "tests", "bench", "notebooks"],
        ["format", "--check", "--no-cache", "helpers", "tests", "bench"],
    ],
    ids=["check", "format"],
)
def test_ruff_is_clean(command: list[str]) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run(
        [ruff, *command], cwd=paths.ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
