"""A hostile-file corpus for the loader (issue 9, item 4 and 6), generated at test time.

``CASES`` holds one declarative :class:`Case` per hostile file: a builder that writes
the file(s), the loader call with its keyword options, and the expected outcome class
("clean", "rejected" with reason counts, or "error" naming file, column, row and fix).
:func:`run_case` builds a case, loads it in a killable worker process and judges it.
``python -m tests.hostile`` prints the outcome table.
"""

from .case import OUTCOMES, Case, Expect
from .cases import BY_ID, CASES
from .run import Observation, run_case

__all__ = ["BY_ID", "CASES", "OUTCOMES", "Case", "Expect", "Observation", "run_case"]
