"""How a notebook saves what a report needs: figures, tables and key results.

Every notebook creates one :class:`ReportOutputs` right after its parameters::

    out = ReportOutputs(output_dir, notebook="02_conversion_drivers")
    out.figure(fig, "forest_plot")          # figures/02_conversion_drivers__forest_plot.png
    out.table(coef, "coefficients")         # tables/02_conversion_drivers__coefficients.csv
    out.results["n_rows"] = int(len(df))    # key figures
    out.write_results()                     # results/02_conversion_drivers.json

The runner (:mod:`helpers.report`) passes ``output_dir`` and merges the per-notebook
result files into the run's ``results.json``. With ``output_dir=""`` (a notebook
opened in JupyterLab) files go to ``reports/lab/``.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import logging
import math
import platform
import subprocess
import warnings
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers import paths
from helpers.errors import ParameterError
from helpers.escaping import escape_markdown

__all__ = [
    "ReportOutputs",
    "escape_markdown",
    "escape_styler",
    "excel_safe",
    "export_table",
    "to_jsonable",
    "versions_footer",
    "versions_table",
]

_VERSIONED = (
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "seaborn",
    "matplotlib",
    "pandera",
    "papermill",
    "linkstar-kit",
)


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars, arrays, frames and NaN into plain JSON values.

    NaN and infinities become None (JSON has no NaN).
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, _dt.date | _dt.datetime | pd.Timestamp):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Path):
        return str(value)
    return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: Any) -> Any:
    if (
        isinstance(value, str)
        and value
        and (value[0] in _FORMULA_START or value.lstrip()[:1] in _FORMULA_START)
    ):
        return "'" + value
    return value


def excel_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` that spreadsheet programs open without running formulas.

    Text cells (and column labels) starting with ``=``, ``+``, ``-``, ``@``, a tab or
    a carriage return (also after leading spaces) get a leading single quote, so
    ``=HYPERLINK(...)`` shows as text instead of running (CSV / formula injection;
    OWASP's recommendation). Numbers stay numbers: only text, categorical and object
    columns are touched, and inside object columns only ``str`` values.

    Parameters
    ----------
    df : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        The neutralised copy; categorical columns become text.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = (
                s.astype("string")
                if pd.api.types.is_string_dtype(s.cat.categories)
                else s.astype(object)
            )
        if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
            out[col] = s.map(_neutralise, na_action="ignore")
        else:
            out[col] = s
    out.columns = [_neutralise(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def export_table(df: pd.DataFrame, path: str | Path, *, sheet_name: str = "table") -> list[Path]:
    """Write a table a spreadsheet opens safely, as CSV and/or typed XLSX.

    The CSV is UTF-8 with BOM (Excel shows Chinese), CRLF line ends, and text that looks
    like a formula neutralised (:func:`excel_safe`; creator handles start with ``@``).
    The XLSX (:func:`helpers.xlsx.write_xlsx`) has typed cells: text stays text, so
    handles keep their ``@`` and no formula runs; number formats, a filter and a frozen
    header.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (its index is not written: reset it first to keep it).
    path : str or Path
        ``*.csv`` writes CSV, ``*.xlsx`` an Excel workbook, a path without suffix both.
    sheet_name : str
        Worksheet name of the XLSX.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ReportError
        For another suffix.
    """
    from helpers.errors import ReportError
    from helpers.xlsx import write_xlsx

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ("", ".csv", ".xlsx"):
        raise ReportError(
            f"a table is written as .csv or .xlsx (or both with no suffix); got {path.name!r}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    if suffix in ("", ".csv"):
        p = path if suffix else path.with_suffix(".csv")
        # CRLF line ends: Excel's own, and the csv writer then quotes any field holding
        # a carriage return (with "\n" alone a lone "\r" would split the row).
        excel_safe(df).to_csv(p, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        written.append(p)
    if suffix in ("", ".xlsx"):
        p = path if suffix else path.with_suffix(".xlsx")
        write_xlsx(df, p, sheet_name=sheet_name)
        written.append(p)
    return written


# --- HTML safety: data is text, never markup ------------------------------------------
# A creator called "<script>alert(1)</script>" must show as that text in every report.
# nbconvert passes raw HTML in Markdown through and pandas' Styler renders cell and
# label text unescaped, so data reaches HTML only through the two functions below.


def _escaping(func: Callable[[Any], Any]) -> Callable[[Any], str]:
    """``func`` whose result is HTML-escaped (marked, so it is wrapped only once)."""
    if getattr(func, "_escapes_html", False):
        return func

    def escaped(value: Any) -> str:
        return html.escape(str(func(value)), quote=True)

    escaped._escapes_html = True  # type: ignore[attr-defined]
    return escaped


def escape_styler(styler: Any) -> Any:
    """Make a pandas Styler render every cell, index and column label as text.

    pandas escapes only where ``escape="html"`` is passed to each ``format`` /
    ``format_index`` call (the ``styler.format.escape`` option reaches only the
    formatter the Styler starts with, never index or column labels). This wraps the
    Styler's display functions instead, present and future, so their output (the
    formatted text) is escaped once, whatever formatters the notebook chose. Markup
    returned by a formatter therefore shows as text: do not pass ``escape="html"``
    as well (it would escape twice).

    Kit notebooks need not call this: importing :mod:`helpers.outputs` in IPython
    registers it for every displayed Styler.

    Parameters
    ----------
    styler : pandas.io.formats.style.Styler
        Changed in place (idempotent); concatenated Stylers too.

    Returns
    -------
    Styler
        The same object, for chaining.
    """
    for name in (
        "_display_funcs",
        "_display_funcs_index",
        "_display_funcs_columns",
        "_display_funcs_index_names",
        "_display_funcs_column_names",
    ):
        funcs = getattr(styler, name)
        for key, func in list(funcs.items()):
            funcs[key] = _escaping(func)
        factory = funcs.default_factory
        if not getattr(factory, "_escapes_html", False):
            funcs.default_factory = _escaping_factory(factory)
    for other in getattr(styler, "concatenated", []):
        escape_styler(other)
    return styler


def _escaping_factory(factory: Callable[[], Callable[[Any], Any]]) -> Callable[[], Any]:
    def make() -> Callable[[Any], str]:
        return _escaping(factory())

    make._escapes_html = True  # type: ignore[attr-defined]
    return make


def _styler_html(styler: Any) -> str | None:
    return escape_styler(styler)._repr_html_()


def _register_styler_escaping() -> None:
    """Have IPython render every Styler through :func:`escape_styler`."""
    try:
        from IPython import get_ipython
        from pandas.io.formats.style import Styler
    except ImportError:  # pragma: no cover - IPython and jinja2 ship with the kit
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/html"].for_type(Styler, _styler_html)


_register_styler_escaping()


class ReportOutputs:
    """Collects a notebook's figures, tables and key results in a report folder.

    Parameters
    ----------
    output_dir : str or Path or None
        The run folder given by the runner; empty or None writes to ``reports/lab``.
    notebook : str
        The notebook's stem, e.g. ``"02_conversion_drivers"``; prefixes file names.
    """

    def __init__(self, output_dir: str | Path | None, notebook: str) -> None:
        self.root = paths.resolve(output_dir) if output_dir else paths.REPORTS / "lab"
        self.notebook = notebook
        self.results: dict[str, Any] = {}
        for sub in ("figures", "tables", "results"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def figure(self, fig: Any, name: str, *, show: bool = True, dpi: int = 110) -> Path:
        """Save a matplotlib Figure (or seaborn grid) as PNG, display it once, close it.

        Displaying here and closing afterwards keeps the inline backend from showing
        the same figure twice.
        """
        fig = getattr(fig, "figure", fig)  # seaborn FacetGrid / JointGrid
        path = self.root / "figures" / f"{self.notebook}__{name}.png"
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        if show:
            try:
                from IPython.display import display

                display(fig)
            except ImportError:  # pragma: no cover - IPython ships with the kit
                pass
        import matplotlib.pyplot as plt

        plt.close(fig)
        return path

    def table(
        self, frame: pd.DataFrame, name: str, *, index: bool = False, xlsx: bool = True
    ) -> Path:
        """Write ``frame`` to ``tables/<notebook>__<name>.csv`` and, unless ``xlsx=False``,
        a typed XLSX next to it (:func:`export_table`). Returns the CSV's path."""
        path = self.root / "tables" / f"{self.notebook}__{name}.csv"
        plain = frame.reset_index() if index else frame
        export_table(plain, path if xlsx else path.with_suffix(".csv"), sheet_name=name)
        if xlsx:
            export_table(plain, path.with_suffix(".xlsx"), sheet_name=name)
        return path

    def write_results(self) -> Path:
        """Write ``results/<notebook>.json`` with the key figures collected so far."""
        path = self.root / "results" / f"{self.notebook}.json"
        path.write_text(
            json.dumps(to_jsonable(self.results), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        return path


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=paths.ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def versions_table() -> pd.DataFrame:
    """Versions of Python, the kit and the libraries that produced a result."""
    rows = [("python", platform.python_version())]
    for dist in _VERSIONED:
        try:
            rows.append((dist, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            rows.append((dist, "not installed"))
    rows.append(("git commit", _git_commit()))
    rows.append(("run at (UTC)", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M")))
    return pd.DataFrame(rows, columns=["component", "version"])


def versions_footer(seed: int | None = None) -> Any:
    """A Markdown footer listing versions (and the seed) for the end of a notebook."""
    from IPython.display import Markdown

    table = versions_table()
    parts = [f"{c} {v}" for c, v in table.itertuples(index=False)]
    if seed is not None:
        parts.append(f"seed {seed}")
    return Markdown("---\n*Reproducibility:* " + " · ".join(parts))


# --- Warnings as one styled note (never raw stderr text in a report) -----------------

__all__ += ["WarningCollector", "collect_warnings"]

_NOTE_TEXT = {
    "en": (
        "{n} warning{s} came up while this notebook ran. The run finished; the details say "
        "where each came from (they matter most to whoever maintains the data or the kit).",
        "Show the warnings",
        "and {n} more",
    ),
    "zh": (
        "本报告运行时出现 {n} 条警告。运行已完成；详情列出每条警告的来源（主要供数据或工具维护人员参考）。",
        "查看警告",
        "另有 {n} 条",
    ),
}
_NOTE_STYLE = (
    "border-left:4px solid #e9c46a;background:#fff8e6;color:#333;padding:8px 12px;"
    "margin:12px 0;font:13px/1.45 system-ui,sans-serif;max-width:1100px"
)
_MAX_SHOWN = 30
_MAX_MESSAGE = 500


def _short_location(filename: str, lineno: int) -> str:
    """Where a warning came from, without local paths: a package-relative file, a
    project-relative file, or "notebook" for code typed in a cell."""
    path = Path(filename)
    if "site-packages" in path.parts:
        tail = path.parts[path.parts.index("site-packages") + 1 :]
        return f"{'/'.join(tail)}:{lineno}"
    try:
        return f"{path.resolve().relative_to(paths.ROOT).as_posix()}:{lineno}"
    except (ValueError, OSError):
        pass
    if filename.startswith("<") or "ipykernel_" in filename:
        return "notebook"
    return f"{path.name}:{lineno}"


class _LogToCollector(logging.Handler):
    def __init__(self, collector: WarningCollector) -> None:
        super().__init__(level=logging.WARNING)
        self.collector = collector

    def emit(self, record: logging.LogRecord) -> None:
        location = _short_location(record.pathname, record.lineno)
        self.collector.add(f"log {record.levelname.lower()}", record.getMessage(), location)


class WarningCollector:
    """Collects Python warnings (and logged warnings) instead of printing them, and
    shows them as one escaped, styled HTML note.

    In a notebook run by papermill, a warning printed to stderr lands as raw text in
    the executed notebook and its HTML report; :func:`collect_warnings` routes them
    here instead. Also a context manager (``with WarningCollector() as caught:``).

    Parameters
    ----------
    lang : {"en", "zh"}
        Language of the note's sentences.
    logs : bool
        Also collect ``logging`` records of level WARNING and above (matplotlib
        reports a missing font family that way), which would otherwise reach stderr.
    """

    def __init__(self, *, lang: str = "en", logs: bool = True) -> None:
        if lang not in _NOTE_TEXT:
            raise ParameterError(f"lang={lang!r} unknown; accepted: {sorted(_NOTE_TEXT)}")
        self.lang = lang
        self.logs = logs
        self.counts: dict[tuple[str, str, str], int] = {}
        self._previous: Any = None
        self._handler: _LogToCollector | None = None

    def add(self, kind: str, message: str, location: str) -> None:
        """Record one warning (identical ones are counted, not repeated)."""
        key = (kind, message, location)
        self.counts[key] = self.counts.get(key, 0) + 1

    def _showwarning(
        self, message: Any, category: type[Warning], filename: str, lineno: int, *_: Any, **__: Any
    ) -> None:
        self.add(category.__name__, str(message), _short_location(filename, lineno))

    def start(self) -> WarningCollector:
        """Route warnings here from now on; returns self."""
        if self._previous is None:
            self._previous = warnings.showwarning
            warnings.showwarning = self._showwarning
            if self.logs:
                self._handler = _LogToCollector(self)
                logging.getLogger().addHandler(self._handler)
        return self

    def stop(self) -> None:
        """Print warnings the usual way again (what was collected is kept)."""
        if self._previous is not None:
            if warnings.showwarning == self._showwarning:
                warnings.showwarning = self._previous
            self._previous = None
        if self._handler is not None:
            logging.getLogger().removeHandler(self._handler)
            self._handler = None

    def __enter__(self) -> WarningCollector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def summary(self) -> list[dict[str, Any]]:
        """The distinct warnings as JSON-ready rows (kind, message, location, count)."""
        return [
            {"kind": k, "message": m, "location": loc, "count": n}
            for (k, m, loc), n in self.counts.items()
        ]

    def note_html(self) -> str:
        """The styled note (every text escaped), or "" when nothing was collected."""
        if not self.counts:
            return ""
        lead, summary_label, rest_label = _NOTE_TEXT[self.lang]
        items = []
        for (kind, message, location), n in list(self.counts.items())[:_MAX_SHOWN]:
            text = message if len(message) <= _MAX_MESSAGE else message[:_MAX_MESSAGE] + "…"
            times = f" ×{n}" if n > 1 else ""
            items.append(
                f"<li><code>{html.escape(kind)}</code>{times}: {html.escape(text)} "
                f'<span style="color:#777">({html.escape(location)})</span></li>'
            )
        if len(self.counts) > _MAX_SHOWN:
            items.append(f"<li>{rest_label.format(n=len(self.counts) - _MAX_SHOWN)}</li>")
        total = sum(self.counts.values())
        return (
            f'<div class="kit-warnings" role="note" style="{_NOTE_STYLE}">'
            f"<strong>{lead.format(n=total, s='' if total == 1 else 's')}</strong>"
            f"<details><summary>{summary_label}</summary>"
            f'<ul style="margin:6px 0 0 0">{"".join(items)}</ul></details></div>'
        )

    def _repr_html_(self) -> str:
        return self.note_html()

    def show(self) -> None:
        """Display the note in the notebook (nothing when no warning came up)."""
        note = self.note_html()
        if note:
            from IPython.display import HTML, display

            display(HTML(note))


_ACTIVE: WarningCollector | None = None


def collect_warnings(*, lang: str = "en", logs: bool = True) -> WarningCollector:
    """Start collecting warnings for the rest of the notebook; call once at its top.

    Re-running the cell replaces the earlier collector rather than stacking a second.
    At the end of the notebook, ``caught.show()`` displays the note.

    Examples
    --------
    >>> caught = collect_warnings(lang="zh")  # first lines of the notebook
    >>> caught.show()                         # last cell, before the versions footer
    """
    global _ACTIVE
    if _ACTIVE is not None:
        _ACTIVE.stop()
    _ACTIVE = WarningCollector(lang=lang, logs=logs).start()
    return _ACTIVE
