"""The declarative record of one hostile case and of its expected outcome."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["OUTCOMES", "Case", "Expect"]

#: Outcome classes. "clean": every row kept; "rejected": some rows rejected, each
#: with a counted reason; "error": helpers.errors.ExportError.
OUTCOMES: tuple[str, ...] = ("clean", "rejected", "error")

Check = Callable[[Any], list[str]]


@dataclass(frozen=True)
class Expect:
    """What a load must produce.

    Parameters
    ----------
    outcome : {"clean", "rejected", "error"}
    kept : int, optional
        Rows kept (clean and rejected outcomes).
    reasons : mapping of str to int
        For "rejected": regular expression (``re.search`` on each rejected row's
        ``reason``) -> number of rejected rows matching it. Every rejected row must
        match at least one pattern, so the total rejected is known.
    rejected : int, optional
        Rows rejected; default the sum of ``reasons`` (patterns that never share a row).
    error_has : sequence of str
        For "error": substrings (case-insensitive) the message must contain besides the
        file name: the column, the row, the fix keyword ("commission_scale", ...).
    error_re : str, optional
        A regular expression the message must match (``re.search``, ignoring case).
    check : callable, optional
        ``check(result) -> list of problems`` on the LoadResult (values, notes, dtypes).
    """

    outcome: str
    kept: int | None = None
    reasons: Mapping[str, int] = field(default_factory=dict)
    rejected: int | None = None
    error_has: Sequence[str] = ()
    error_re: str | None = None
    check: Check | None = None

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {self.outcome!r}")

    @property
    def n_rejected(self) -> int:
        if self.outcome == "clean":
            return 0
        return self.rejected if self.rejected is not None else sum(self.reasons.values())

    def describe(self) -> str:
        if self.outcome == "error":
            bits = list(self.error_has) + ([f"/{self.error_re}/"] if self.error_re else [])
            return "error" + (f" [{', '.join(bits)}]" if bits else "")
        if self.outcome == "clean":
            return f"clean {self.kept}"
        why = ", ".join(f"{k}: {v}" for k, v in self.reasons.items())
        return f"rejected {self.n_rejected} ({why}), kept {self.kept}"


@dataclass(frozen=True)
class Case:
    """One hostile input.

    Parameters
    ----------
    id : str
        pytest id and table key.
    what : str
        One line: what is hostile about the file.
    build : callable
        ``build(folder) -> Path`` writes the file(s) into ``folder`` (a fresh
        directory) and returns what to load.
    expect : Expect
    call : {"read_export", "load_dataset", "read_export_frame"}
        ``read_export_frame`` reads the built Parquet into a DataFrame in the worker
        and passes the frame (the frame must come back unmodified).
    kwargs : mapping
        Keyword options of the call (names from the issue-9 contract).
    fix : mapping, optional
        For an error: the options the message tells the user to add; the load is
        repeated with them and must then give ``after``.
    after : Expect, optional
    names : str, optional
        The name the error must mention; default the loaded path's name.
    source : str
        Where the expectation comes from: "issue", "contract" or "extra" (this corpus).
    time_limit : float
        Seconds the load may take (the worker is killed after it).
    memory_mb : float, optional
        Peak resident memory the load may add.
    skip : callable, optional
        ``skip(built_path) -> reason or None`` (e.g. root can read a chmod 000 file).
    """

    id: str
    what: str
    build: Callable[[Path], Path]
    expect: Expect
    call: str = "read_export"
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    fix: Mapping[str, Any] | None = None
    after: Expect | None = None
    names: str | None = None
    source: str = "contract"
    time_limit: float = 20.0
    memory_mb: float | None = None
    skip: Callable[[Path], str | None] | None = None
