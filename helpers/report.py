"""Run the kit's notebooks with papermill and assemble a self-contained report folder.

Command line (``python -m helpers.report --help`` documents every flag)::

    python -m helpers.report --params params/default.yaml
    python -m helpers.report --params params/smoke.yaml --only 01,04 -p min_clicks 50
    python -m helpers.report --data data/raw/october --each site=US,UK,ID --jobs 2

Each run writes ``reports/<run-id>/`` (never overwriting an existing folder) with
the executed notebooks (``NN_topic.ipynb``), a code-free HTML copy of each
(``NN_topic.html``), ``figures/*.png`` and ``tables/*.csv`` written by the notebooks
through :class:`helpers.outputs.ReportOutputs`, ``results.json`` (every notebook's key
figures plus run metadata), ``params.yaml`` (the effective parameters, reusable as
``--params``) and ``index.html`` linking all of it. With ``--each`` there is one such
folder per value (or combination of values) and one index over all of them.

Parameters reach a notebook in this order, later wins: the defaults in its
``parameters`` cell < the YAML file's top-level keys < the YAML file's
``notebooks: {"NN": {...}}`` section (keyed by number prefix or stem) < ``--data`` and
``-p`` < ``--each``. A notebook receives only the parameters its parameters cell
declares, each converted to the type declared there; ``output_dir`` is always the
run folder.
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import itertools
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import yaml

from helpers import paths
from helpers.errors import KitWarning, ReportError
from helpers.i18n import check_lang

__all__ = [
    "NotebookRun",
    "ParamWarning",
    "Report",
    "ReportError",
    "RunResult",
    "declared_parameters",
    "discover_notebooks",
    "load_params",
    "main",
    "run_report",
    "select_notebooks",
]

KERNEL_NAME = "python3"
_TRUE = {"true", "yes", "on", "1", "y"}
_FALSE = {"false", "no", "off", "0", "n"}
_RUNNER_KEYS = {"output_dir"}  # set by the runner, never by the user
#: Keys that say how to read the data (the data spec's keys). Given at the top level of a
#: params file or with -p, they override the spec for every notebook: the data is read
#: once per run, so no notebook takes them itself.
DATA_OPTION_KEYS = frozenset(
    {
        "column_map",
        "tiers",
        "date_format",
        "currency",
        "commission_scale",
        "orders_above_clicks",
        "encoding",
        "sheet",
        "period",
    }
)
_DEFAULT_DATA = "data/sample"
_TEMPLATES = Path(__file__).resolve().parent / "templates"


# Words of the index pages and the console summary, per report language (helpers.i18n).
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "alerts_heading": "Alerts from the weekly monitor",
        "alerts_more": "... and {n} more lines in 06_weekly_monitor.",
        "title": "LinkStar affiliate report",
        "title_each": "LinkStar affiliate reports",
        "back": "all reports of this run",
        "run": "Run",
        "started": "started",
        "params_from": "parameters from",
        "one_per": "one report per",
        "all_ok": "All {n} notebooks ran successfully.",
        "some_skipped": "{ran} of {n} notebooks ran successfully; {skipped} need data this export does not have (see below).",
        "failed_banner": "FAILED: {failed} of {n} notebooks failed. Their figures and results are missing or incomplete; see the error below and open the notebook to inspect it.",
        "each_ok": "All {n} reports ran successfully.",
        "each_failed": "FAILED: {failed} of {n} reports have a failed notebook.",
        "parameters": "Parameters",
        "parameter": "parameter",
        "value": "value",
        "this_report": "(this report)",
        "full_params": "Every notebook's full parameter set is in",
        "rerun": "re-run with",
        "notebooks": "Notebooks",
        "notebook": "notebook",
        "status": "status",
        "own_settings": "own settings",
        "time": "time",
        "report": "report",
        "notebook_file": "notebook file",
        "ok": "ok",
        "skipped": "not run",
        "failed": "FAILED",
        "n_notebooks": "{n} notebooks",
        "figures": "Figures",
        "no_figures": "No figures.",
        "tables": "Tables and results",
        "results_json": "key figures of every notebook and the run's metadata",
        "params_yaml": "effective parameters",
        "base_params": "base parameters",
        "run_meta": "run metadata",
        "summary": "{ok} of {n} notebooks ok",
        "summary_skipped": ", {skipped} not run (data lacks a column)",
        "summary_failed": ", {failed} FAILED",
        "summary_time": "{summary} in {seconds:.1f} s",
        "not_run": "not run {notebook}{where}: {error}",
    },
    "zh": {
        "alerts_heading": "周度监控提醒",
        "alerts_more": "……其余 {n} 行见 06 周度监控。",
        "title": "LinkStar 达人联盟营销报告",
        "title_each": "LinkStar 达人联盟营销报告（多份）",
        "back": "本次运行的全部报告",
        "run": "运行编号",
        "started": "开始于",
        "params_from": "参数文件",
        "one_per": "每个取值一份报告：",
        "all_ok": "全部 {n} 个笔记本运行成功。",
        "some_skipped": "{n} 个笔记本中 {ran} 个运行成功；{skipped} 个需要本次导出数据中没有的列（见下文）。",
        "failed_banner": "失败：{n} 个笔记本中有 {failed} 个运行失败，其图表和结果缺失或不完整；请查看下方错误信息，并打开该笔记本排查。",
        "each_ok": "全部 {n} 份报告运行成功。",
        "each_failed": "失败：{n} 份报告中有 {failed} 份包含运行失败的笔记本。",
        "parameters": "参数",
        "parameter": "参数",
        "value": "取值",
        "this_report": "（本报告）",
        "full_params": "每个笔记本的完整参数见",
        "rerun": "重新运行：",
        "notebooks": "笔记本",
        "notebook": "笔记本",
        "status": "状态",
        "own_settings": "单独设置",
        "time": "耗时",
        "report": "报告",
        "notebook_file": "笔记本文件",
        "ok": "成功",
        "skipped": "未运行",
        "failed": "失败",
        "n_notebooks": "{n} 个笔记本",
        "figures": "图表",
        "no_figures": "没有图表。",
        "tables": "数据表与结果",
        "results_json": "各笔记本的关键数字及本次运行的元数据",
        "params_yaml": "实际使用的参数",
        "base_params": "基础参数",
        "run_meta": "运行元数据",
        "summary": "{n} 个笔记本中 {ok} 个成功",
        "summary_skipped": "，{skipped} 个未运行（数据缺少所需列）",
        "summary_failed": "，{failed} 个失败",
        "summary_time": "{summary}，耗时 {seconds:.1f} 秒",
        "not_run": "未运行 {notebook}{where}：{error}",
    },
}


def _lang_code(lang: Any) -> str:
    """``lang`` as a report language, English when the value is not one."""
    try:
        return check_lang(str(lang or "en"))
    except ValueError:
        return "en"


def _words(lang: Any) -> dict[str, str]:
    """The index/console words in ``lang`` (English where a word lacks a translation)."""
    code = _lang_code(lang)
    return {**_TEXT["en"], **_TEXT[code]}


class ParamWarning(KitWarning):
    """A parameter that no notebook declares, or that the runner ignores."""


# --------------------------------------------------------------------------- params


@dataclass(frozen=True)
class _Value:
    """A parameter value with where it came from.

    ``text`` is the literal text when there is one (a plain YAML scalar or a command
    line string), so that ``007`` can reach a ``str`` parameter as ``"007"``.
    """

    value: Any
    origin: str
    text: str | None = None
    yaml_plain: bool = False


@dataclass
class _ParamsFile:
    common: dict[str, _Value]
    notebooks: dict[str, dict[str, _Value]]
    path: Path | None


def _yaml_mapping(
    loader: yaml.SafeLoader, node: yaml.Node, where: str, origin: str
) -> dict[str, _Value]:
    """Turn a YAML mapping node into {key: _Value}, keeping plain scalars' raw text."""
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise ReportError(
            f"{where} must be a mapping of `name: value` lines, got {node.tag.rsplit(':', 1)[-1]} "
            f"at line {node.start_mark.line + 1}. Fix: write one `name: value` per line."
        )
    out: dict[str, _Value] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key in out:
            raise ReportError(
                f"{where}: key {key!r} appears twice (line {key_node.start_mark.line + 1}); "
                "YAML would silently keep the last one. Fix: delete one of them."
            )
        value = loader.construct_object(value_node, deep=True)
        if isinstance(value_node, yaml.ScalarNode):
            plain = value_node.style is None
            out[key] = _Value(
                value, origin, text=value_node.value if plain else None, yaml_plain=plain
            )
        else:
            out[key] = _Value(value, origin)
    return out


def load_params(path: str | Path | None) -> _ParamsFile:
    """Read a parameters YAML file: common keys at top level, overrides under ``notebooks:``.

    Parameters
    ----------
    path : str or Path or None
        The YAML file; relative paths are tried from the current directory, then from
        the repo root. ``None`` means no file (notebook defaults only).

    Returns
    -------
    _ParamsFile
        ``common`` and ``notebooks`` ({key: {name: value}}) with each value's literal
        text kept for type conversion.

    Raises
    ------
    ReportError
        When the file is missing, is not valid YAML, or is not shaped as above.
    """
    if path is None:
        return _ParamsFile({}, {}, None)
    resolved = paths.resolve(path)
    if not resolved.is_file():
        available = sorted(p.name for p in paths.PARAMS.glob("*.yaml"))
        raise ReportError(
            f"Parameters file not found: {path} (looked for {resolved}). "
            f"Available in {paths.PARAMS}: {', '.join(available) or 'none'}. "
            "Fix: pass --params with an existing YAML file."
        )
    where = str(path)
    try:
        text = resolved.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ReportError(f"{where} is not UTF-8 text. Fix: save it as UTF-8.") from None
    loader = yaml.SafeLoader(text)
    loader.name = where  # YAML errors name the file instead of "<unicode string>"
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise ReportError(
                f"{where} is not valid YAML: {exc}. Fix the line shown (indentation, a missing "
                "colon or an unquoted value starting with a special character)."
            ) from None
        if root is None:
            return _ParamsFile({}, {}, resolved)
        common = _yaml_mapping(loader, root, where, where)
        notebooks_value = common.pop("notebooks", None)
        notebooks: dict[str, dict[str, _Value]] = {}
        if notebooks_value is not None:
            nb_node = next(v for k, v in root.value if k.value == "notebooks")
            if isinstance(nb_node, yaml.MappingNode):
                for key_node, value_node in nb_node.value:
                    # `02:` unquoted is an int (2) in YAML; the raw text keeps "02".
                    key = str(key_node.value)
                    notebooks[key] = _yaml_mapping(
                        loader,
                        value_node,
                        f"{where}: notebooks.{key}",
                        f"{where} (notebooks.{key})",
                    )
            elif not (isinstance(nb_node, yaml.ScalarNode) and nb_node.tag.endswith(":null")):
                raise ReportError(
                    f"{where}: `notebooks:` must map a notebook number or name to its "
                    'parameters, e.g.\nnotebooks:\n  "02": {min_clicks_per_level: 20}'
                )
    finally:
        loader.dispose()
    return _ParamsFile(common, notebooks, resolved)


@dataclass(frozen=True)
class _Declared:
    """One parameter of a notebook's parameters cell."""

    name: str
    type_name: str  # as written ("str", "Optional[int]", ...) or "" when unknown
    kind: str  # str, int, float, bool, list, tuple, dict or "" (unknown)
    optional: bool
    default: str  # source text
    help: str

    def default_value(self) -> Any:
        try:
            return ast.literal_eval(self.default)
        except (ValueError, SyntaxError):
            return self.default


def _kind_of(type_name: str, default: str) -> tuple[str, bool]:
    """Map an annotation ("int | None", "Optional[str]", "list[str]") to (kind, optional)."""
    t = type_name.replace(" ", "")
    optional = False
    if t.startswith("Optional[") and t.endswith("]"):
        t, optional = t[len("Optional[") : -1], True
    parts = [p for p in t.split("|") if p]
    if "None" in parts:
        optional = True
        parts = [p for p in parts if p != "None"]
    head = parts[0].split("[", 1)[0].lower() if parts else ""
    aliases = {"path": "str", "pathlike": "str", "sequence": "list", "mapping": "dict"}
    head = aliases.get(head, head)
    if head in {"str", "int", "float", "bool", "list", "tuple", "dict"}:
        return head, optional
    if not type_name or type_name == "None":
        # No annotation: infer from the default literal, as a reader of the cell would.
        try:
            literal = ast.literal_eval(default)
        except (ValueError, SyntaxError):
            return "", True
        if literal is None:
            return "", True
        name = type(literal).__name__
        return (
            name if name in {"str", "int", "float", "bool", "list", "tuple", "dict"} else ""
        ), False
    return "", optional


def declared_parameters(notebook: str | Path) -> dict[str, _Declared]:
    """The parameters a notebook's ``parameters`` cell declares.

    Uses :func:`papermill.inspect_notebook`, completed by a parse of the cell for
    assignments papermill's pattern misses (e.g. ``x: int | None = None``).

    Parameters
    ----------
    notebook : str or Path
        Path to the notebook.

    Returns
    -------
    dict
        ``{name: _Declared}`` in cell order; empty when there is no parameters cell.
    """
    import nbformat
    import papermill

    path = Path(notebook)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for bad JSON
        raise ReportError(f"{path} is not a readable notebook: {exc}") from None
    if not nb.metadata.get("kernelspec", {}).get("name"):
        raise ReportError(
            f"{path} has no metadata.kernelspec; papermill cannot inspect it. Fix: set "
            '{"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}.'
        )
    found: dict[str, _Declared] = {}
    # papermill logs a warning for lines its pattern cannot read (a quote inside a
    # comment, `x: int | None`); the ast pass below reads those, so keep quiet here.
    translators_log = logging.getLogger("papermill.translators")
    level = translators_log.level
    translators_log.setLevel(logging.ERROR)
    try:
        inspected = papermill.inspect_notebook(str(path))
    finally:
        translators_log.setLevel(level)
    for name, p in inspected.items():
        type_name = "" if p["inferred_type_name"] == "None" else p["inferred_type_name"]
        kind, optional = _kind_of(type_name, p["default"])
        found[name] = _Declared(name, type_name, kind, optional, p["default"], p["help"])
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if cells:
        try:
            tree = ast.parse(cells[0].source)
        except SyntaxError:
            tree = ast.Module(body=[], type_ignores=[])
        for stmt in tree.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                name = stmt.target.id
                type_name = ast.unparse(stmt.annotation)
                default = ast.unparse(stmt.value) if stmt.value is not None else "None"
            elif isinstance(stmt, ast.Assign) and all(
                isinstance(t, ast.Name) for t in stmt.targets
            ):
                name, type_name, default = stmt.targets[0].id, "", ast.unparse(stmt.value)
            else:
                continue
            if name not in found:
                kind, optional = _kind_of(type_name, default)
                found[name] = _Declared(name, type_name, kind, optional, default, "")
    return found


def _coerce(value: _Value, decl: _Declared, notebook: str) -> Any:
    """Convert ``value`` to the type ``decl`` declares, or raise a ReportError saying how."""
    v = value.value
    kind = decl.kind
    declared = f"`{decl.name}: {decl.type_name or '?'} = {decl.default}`"

    def fail(why: str, fix: str) -> ReportError:
        return ReportError(
            f"Parameter {decl.name!r} for notebook {notebook} (from {value.origin}): {why}. "
            f"Its parameters cell declares {declared}. Fix: {fix}"
        )

    if v is None:
        if decl.optional or not kind:
            return None
        raise fail(
            "the value is empty", "give a value, or delete the line to use the notebook's default."
        )
    if kind == "str":
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            if value.yaml_plain:
                raise fail(
                    f"YAML reads the unquoted word {value.text!r} as the boolean {v}, "
                    "but this parameter is text",
                    f'quote it: {decl.name}: "{value.text}"',
                )
            raise fail(f"got the boolean {v}, expected text", f'pass a string such as "{v}".')
        if isinstance(v, int | float | _dt.date):
            # Keep the literal: 007 stays "007", 1e3 stays "1e3", a date stays as typed.
            return value.text if value.text is not None else str(v)
        raise fail(f"got a {type(v).__name__}, expected text", "pass a single text value.")
    if kind == "bool":
        if isinstance(v, bool):
            return v
        if isinstance(v, int) and v in (0, 1):
            return bool(v)
        if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
            return v.strip().lower() in _TRUE
        raise fail(f"{v!r} is not a yes/no value", "use true or false.")
    if kind in {"int", "float"}:
        if isinstance(v, bool):
            raise fail(
                f"got the boolean {v} where a number is expected",
                "give a number (YAML reads yes/no/on/off as booleans).",
            )
        text = value.text if (value.text is not None and not isinstance(v, str)) else v
        if isinstance(text, str):
            try:
                # Base 10 on the literal text: YAML would read 010 as octal 8.
                number = float(text.strip()) if kind == "float" else int(text.strip(), 10)
            except ValueError:
                try:
                    number = float(text.strip())
                except ValueError:
                    raise fail(
                        f"{text!r} is not a number",
                        f"give {'an integer' if kind == 'int' else 'a number'}, e.g. {decl.default}.",
                    ) from None
        else:
            number = v
        if kind == "float" and isinstance(number, int | float):
            return float(number)
        if kind == "int" and isinstance(number, int):
            return number
        if kind == "int" and isinstance(number, float) and number.is_integer():
            return int(number)
        raise fail(f"{v!r} is not a whole number", f"give an integer, e.g. {decl.default}.")
    if kind in {"list", "tuple", "dict"}:
        if isinstance(v, str):
            try:
                v = yaml.safe_load(v)
            except yaml.YAMLError:
                raise fail(
                    f"{v!r} is not a {kind}", "write it as YAML, e.g. [a, b] or {a: 1}."
                ) from None
        want = dict if kind == "dict" else (list, tuple)
        if not isinstance(v, want):
            raise fail(f"got {v!r}, expected a {kind}", "write it as YAML, e.g. [a, b] or {a: 1}.")
        return tuple(v) if kind == "tuple" else v
    # Unknown declared type: pass the value as YAML or the command line gave it.
    return v


# ------------------------------------------------------------------------ notebooks


def discover_notebooks(notebooks_dir: str | Path | None = None) -> list[Path]:
    """The notebooks of the kit (``notebooks/*.ipynb``), sorted by name."""
    folder = paths.resolve(notebooks_dir) if notebooks_dir else paths.NOTEBOOKS
    if not folder.is_dir():
        raise ReportError(f"Notebooks folder not found: {folder}. Fix: pass --notebooks-dir DIR.")
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def _prefix(stem: str) -> str:
    return stem.split("_", 1)[0]


def select_notebooks(notebooks: Sequence[Path], only: str | Iterable[str] | None) -> list[Path]:
    """Pick notebooks by number prefix (``"01,04"``) or stem; ``None`` keeps all.

    Raises
    ------
    ReportError
        For a selector that matches no notebook, listing the available ones.
    """
    if only is None:
        return list(notebooks)
    tokens = (
        only.split(",") if isinstance(only, str) else [t for s in only for t in str(s).split(",")]
    )
    tokens = [t.strip().removesuffix(".ipynb") for t in tokens if t.strip()]
    chosen: list[Path] = []
    unknown: list[str] = []
    for token in tokens:
        key = token.zfill(2) if token.isdigit() else token
        hits = [p for p in notebooks if p.stem == key] or [
            p for p in notebooks if _prefix(p.stem) == key
        ]
        if not hits:
            unknown.append(token)
        chosen.extend(h for h in hits if h not in chosen)
    if unknown:
        listing = ", ".join(p.stem for p in notebooks) or "none"
        raise ReportError(
            f"--only {','.join(unknown)}: no such notebook. Available: {listing}. "
            "Fix: pass number prefixes such as --only 01,04 (or full names)."
        )
    return sorted(chosen)


# ------------------------------------------------------------------------- results


@dataclass
class NotebookRun:
    """The outcome of one notebook in one report."""

    notebook: str
    source: Path
    status: str = "pending"  # "ok", "failed", or "skipped" (the data cannot support it)
    duration: float = 0.0
    cpu: float | None = None  # CPU seconds of the kernel and its runner (None if not run)
    parameters: dict[str, Any] = field(default_factory=dict)
    passed: list[str] = field(default_factory=list)
    ipynb: Path | None = None
    html: Path | None = None
    error: str | None = None
    cell: int | None = None
    exec_count: int | None = None
    cell_first_line: str | None = None
    ename: str | None = None
    evalue: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "skipped")


@dataclass
class Report:
    """One report folder (the whole run, or one ``--each`` combination)."""

    folder: Path
    label: str
    combination: dict[str, Any]
    common: dict[str, Any]
    notebooks: list[NotebookRun]

    @property
    def ok(self) -> bool:
        return all(n.ok for n in self.notebooks)

    @property
    def index(self) -> Path:
        return self.folder / "index.html"

    @property
    def results(self) -> dict[str, Any]:
        """The merged ``results.json`` of this report."""
        return json.loads((self.folder / "results.json").read_text(encoding="utf-8"))


@dataclass
class RunResult:
    """What :func:`run_report` did: the run folder, its index and every report."""

    run_id: str
    folder: Path
    reports: list[Report]
    duration: float

    @property
    def index(self) -> Path:
        return self.folder / "index.html"

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports)

    @property
    def failures(self) -> list[tuple[Report, NotebookRun]]:
        return [(r, n) for r in self.reports for n in r.notebooks if not n.ok]

    @property
    def skipped(self) -> list[tuple[Report, NotebookRun]]:
        """Notebooks not run because the data lacks a column their analysis needs."""
        return [(r, n) for r in self.reports for n in r.notebooks if n.status == "skipped"]

    def failure_messages(self) -> list[str]:
        """One line per failed notebook: report, notebook, cell and error."""
        lines = []
        for report, nb in self.failures:
            where = f" [{report.label}]" if report.label else ""
            lines.append(f"FAILED {nb.notebook}{where}: {nb.error}")
        return lines


# ----------------------------------------------------------------------- execution


def _kernel_manager_class() -> type:
    """An AsyncKernelManager that encrypts the kernel's channels and drops MPLBACKEND.

    Encryption (CurveZMQ, offered by the venv's kernelspec) is what silences
    ipykernel's "running over TCP without encryption" warning at every start. A
    MPLBACKEND such as Agg inherited from the caller would make every figure vanish.
    """
    import zmq
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class _ReportKernelManager(AsyncKernelManager):
        transport_encryption = CaselessStrEnum(
            ["disabled", "auto", "required"],
            default_value="auto" if zmq.has("curve") else "disabled",
            config=True,
        )

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            env = dict(kw.get("env") or os.environ)
            env.pop("MPLBACKEND", None)
            kw["env"] = env
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return _ReportKernelManager


def _check_kernel() -> None:
    """Warn when the ``python3`` kernel would run another interpreter than this one.

    A user-level kernelspec named python3 takes precedence over the venv's; its
    kernel would lack the kit's pinned libraries.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        raise ReportError(
            f"No Jupyter kernel named {KERNEL_NAME!r}. Fix: run from the project venv "
            "(make report), or install ipykernel in it: .venv/bin/pip install ipykernel."
        ) from None
    exe = spec.argv[0] if spec.argv else ""
    pythons = {
        "python",
        f"python{sys.version_info[0]}",
        f"python{sys.version_info[0]}.{sys.version_info[1]}",
    }
    if exe not in pythons and Path(exe).resolve() != Path(sys.executable).resolve():
        warnings.warn(
            f"The {KERNEL_NAME!r} kernel ({spec.resource_dir}) runs {exe}, not this "
            f"interpreter ({sys.executable}); notebooks may miss the kit's libraries. "
            f"Fix: remove that kernelspec or run `{sys.executable} -m ipykernel install "
            "--user --name python3`.",
            ParamWarning,
            stacklevel=3,
        )


@dataclass(frozen=True)
class _Task:
    key: tuple[int, int]  # (report index, notebook index)
    source: Path
    folder: Path
    parameters: dict[str, Any]
    timeout: float | None


@dataclass
class _Outcome:
    key: tuple[int, int]
    status: str
    duration: float
    ipynb: Path | None
    html: Path | None
    error: dict[str, Any] | None
    cpu: float | None = None


def _source_cell_index(source: Path, executed: Path, cell_index: int) -> int:
    """Index of a failing cell in the source notebook (papermill counts its injected cell)."""
    import nbformat

    try:
        nb_exec = nbformat.read(executed, as_version=4)
        nb_src = nbformat.read(source, as_version=4)
        tagged = [
            c for c in nb_exec.cells if "papermill-error-cell-tag" not in c.metadata.get("tags", [])
        ]
        cell_id = tagged[cell_index].get("id")
        for i, cell in enumerate(nb_src.cells):
            if cell.get("id") == cell_id:
                return i
    except Exception:  # best effort: fall back to papermill's own count
        pass
    return cell_index


def _last_started_cell(source: Path, executed: Path) -> dict[str, Any]:
    """The cell that was running when a kernel died or timed out: the last one counted."""
    import nbformat

    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # nothing written yet: nothing to point at
        return {}
    started = [
        (i, c)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and c.get("execution_count") is not None
    ]
    if not started:
        return {}
    index, cell = started[-1]
    first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
    return {
        "cell": _source_cell_index(source, executed, index),
        "exec_count": cell.execution_count,
        "cell_first_line": first.strip()[:120],
    }


def _export_html(ipynb: Path, html: Path, title: str) -> Path | None:
    """Code-free, self-contained HTML of an executed notebook: outputs and prose only.

    The ``offline`` template (helpers/templates/nbconvert) loads nothing from the
    network: no require.js, MathJax, Mermaid or widget scripts; images are embedded.
    """
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="offline",
        extra_template_basedirs=[str(_TEMPLATES / "nbconvert")],
        embed_images=True,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    nb = _one_language(nbformat.read(ipynb, as_version=4))
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = body.replace('<html lang="en">', f'<html lang="{_lang_of(nb)}">', 1)
    html.write_text(body, encoding="utf-8")
    return html


def _lang_of(nb: Any) -> str:
    """The report language an executed notebook ran with (papermill records its parameters)."""
    passed = nb.metadata.get("papermill", {}).get("parameters", {}) or {}
    return _lang_code(passed.get("lang", "en"))


def _one_language(nb: Any) -> Any:
    """Drop the Markdown cells written for the other language (tags ``lang-en``/``lang-zh``).

    Prose cells come in pairs, an English cell tagged ``lang-en`` followed by its
    Chinese twin tagged ``lang-zh``; untagged cells belong to both languages. In
    JupyterLab a reader sees both; the report shows only the run's language.
    """
    keep = f"lang-{_lang_of(nb)}"
    nb.cells = [
        cell
        for cell in nb.cells
        if not any(t.startswith("lang-") and t != keep for t in cell.metadata.get("tags", []))
    ]
    return nb


def _skip_slow_optional_imports() -> None:
    """Keep jsonschema (imported by nbformat) from loading ``rfc3987_syntax``.

    jsonschema imports it, when installed, only to check the "iri" string formats,
    which notebook schemas do not use; building its grammar costs about 1 s of CPU
    (3 s wall on a busy 2-core machine) in every fresh process. Only called in
    processes the runner owns: the CLI and the pool's workers.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _init_worker() -> None:
    """Pool worker set-up: the worker's environment is ours to change."""
    # The kernel inherits this process's environment; a forced backend strips figures.
    os.environ.pop("MPLBACKEND", None)
    _skip_slow_optional_imports()


def _execute(task: _Task) -> _Outcome:
    """Execute one notebook into its report folder (HTML comes later, see _add_html)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    stem = task.source.stem
    ipynb = task.folder / f"{stem}.ipynb"
    error: dict[str, Any] | None = None
    # papermill re-reads the parameters cell and warns about lines its pattern misses
    # and about parameters it did not find there; declared_parameters() already read
    # those, so the warnings would only mislead.
    quiet = logging.getLogger("papermill")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    start = time.perf_counter()
    cpu_start = _cpu_seconds()
    try:
        papermill.execute_notebook(
            str(task.source),
            str(ipynb),
            parameters=task.parameters,
            kernel_name=KERNEL_NAME,
            cwd=str(paths.ROOT),
            progress_bar=False,
            log_output=False,
            execution_timeout=task.timeout,
            start_timeout=120,
            shutdown_kernel="immediate",
            kernel_manager_class=_kernel_manager_class(),
        )
    except PapermillExecutionError as exc:
        cell = _source_cell_index(task.source, ipynb, exc.cell_index)
        first = next((ln for ln in (exc.source or "").splitlines() if ln.strip()), "")
        error = {
            "cell": cell,
            "exec_count": exc.exec_count,
            "cell_first_line": first.strip()[:120],
            "ename": exc.ename,
            "evalue": str(exc.evalue),
        }
    except Exception as exc:  # dead kernel, timeout, bad notebook: the other notebooks go on
        error = {
            "cell": None,
            "exec_count": None,
            "cell_first_line": None,
            "ename": type(exc).__name__,
            "evalue": str(exc),
        }
        error.update(_last_started_cell(task.source, ipynb))
    finally:
        quiet.setLevel(level)
    duration = time.perf_counter() - start
    return _Outcome(
        task.key,
        "failed" if error else "ok",
        duration,
        ipynb if ipynb.exists() else None,
        None,
        error,
        _cpu_seconds() - cpu_start,
    )


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its finished children: the
    kernel a notebook ran in is a child, reaped at shutdown. On a shared machine this,
    not the wall time, says what a notebook costs. Without the ``resource`` module
    (Windows), this process's CPU time only."""
    try:
        import resource
    except ImportError:
        return time.process_time()
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _add_html(outcome: _Outcome) -> _Outcome:
    """Export the executed notebook's code-free HTML (in the parent process).

    Done here rather than in the pool's workers so that they never import nbconvert
    (about 2 s per fresh process), and the export overlaps with the other notebooks.
    """
    if outcome.ipynb is None:
        return outcome
    try:
        outcome.html = _export_html(
            outcome.ipynb, outcome.ipynb.with_suffix(".html"), outcome.ipynb.stem
        )
    except Exception as exc:  # a broken export must not hide the notebook's own status
        if outcome.error is None:
            outcome.status = "failed"
            outcome.error = {
                "cell": None,
                "exec_count": None,
                "cell_first_line": None,
                "ename": f"HTML export: {type(exc).__name__}",
                "evalue": str(exc),
            }
    return outcome


def _error_line(nb: NotebookRun) -> str:
    evalue = (nb.evalue or "").strip().splitlines()
    short = evalue[0][:300] if evalue else ""
    if nb.cell is not None:
        return (
            f"cell {nb.cell} (In [{nb.exec_count}]) `{nb.cell_first_line}` raised "
            f"{nb.ename}: {short}"
        )
    return f"{nb.ename}: {short}"


# ----------------------------------------------------------------------- assembling


def _utcnow() -> _dt.datetime:
    """The run's start time (a function so that tests can fix the clock)."""
    return _dt.datetime.now(_dt.UTC)


def _slug(text: str, limit: int = 40) -> str:
    s = re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-.")
    return s[:limit].strip("-") or "x"


def _new_folder(parent: Path, name: str) -> Path:
    """Create ``parent/name`` or, if it exists, ``parent/name-2``, ``-3``...; never reuse one."""
    parent.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        candidate = parent / (name if n == 1 else f"{name}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable")


def _parse_each(
    each: Mapping[str, Sequence[Any]] | Sequence[str] | None,
) -> dict[str, list[_Value]]:
    if not each:
        return {}
    out: dict[str, list[_Value]] = {}
    if isinstance(each, Mapping):
        for key, values in each.items():
            vals = [values] if isinstance(values, str) else list(values)
            out[str(key)] = [
                _Value(v, "--each", text=v if isinstance(v, str) else None) for v in vals
            ]
    else:
        for spec in each:
            key, sep, values = str(spec).partition("=")
            items = [v.strip() for v in values.split(",") if v.strip()]
            if not sep or not key.strip() or not items:
                raise ReportError(
                    f"--each {spec!r}: expected key=value1,value2 (e.g. --each site=US,UK,ID)."
                )
            out[key.strip()] = [_Value(v, "--each", text=v) for v in items]
    for key, values in out.items():
        if not values:
            raise ReportError(f"--each {key}: no values given. Fix: --each {key}=A,B.")
    return out


def _plain(value: Any) -> Any:
    """A value as it would be written in YAML/JSON (tuples as lists)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def _versions() -> dict[str, str]:
    from helpers.outputs import versions_table

    return dict(versions_table().itertuples(index=False))


def _render(template: str, **context: Any) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(template).render(**context)


def _write_report_files(report: Report, meta: dict[str, Any], parent_index: str | None) -> None:
    """results.json, params.yaml and index.html of one report folder."""
    folder = report.folder
    merged: dict[str, Any] = {}
    for path in sorted((folder / "results").glob("*.json")):
        try:
            merged[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            merged[path.stem] = {"_error": f"unreadable results file: {exc}"}
    status = "ok" if report.ok else "failed"
    run_meta = {
        **meta,
        "report": report.label or None,
        "each": {k: _plain(v) for k, v in report.combination.items()},
        "status": status,
        "folder": str(folder),
        "params": {k: _plain(v) for k, v in report.common.items()},
        "notebooks": {
            nb.notebook: {
                "status": nb.status,
                "duration_s": round(nb.duration, 2),
                "cpu_s": None if nb.cpu is None else round(nb.cpu, 2),
                "parameters": {k: _plain(v) for k, v in nb.parameters.items()},
                "error": nb.error,
            }
            for nb in report.notebooks
        },
    }
    for nb in report.notebooks:
        merged.setdefault(nb.notebook, {})
    results = {"_run": run_meta, **merged}
    (folder / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )

    effective = {k: _plain(v) for k, v in report.common.items()}
    effective["notebooks"] = {
        nb.notebook: {k: _plain(v) for k, v in nb.parameters.items() if k not in _RUNNER_KEYS}
        for nb in report.notebooks
    }
    header = (
        f"# Effective parameters of report run {meta['run_id']}"
        + (f" ({report.label})" if report.label else "")
        + ".\n# Re-run with: python -m helpers.report --params <this file>\n"
    )
    (folder / "params.yaml").write_text(
        header + yaml.safe_dump(effective, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )

    def rel(p: Path | None) -> str | None:
        return p.relative_to(folder).as_posix() if p else None

    figures = sorted((folder / "figures").glob("*.png"))
    tables = sorted({p.with_suffix("") for p in (folder / "tables").glob("*.[cx][sl][vs]*")})
    from helpers.notebook_text import figure_caption, notebook_title

    words = _words(report.common.get("lang"))
    lang_code = _lang_code(report.common.get("lang"))
    answers = _answers(results, folder)
    html = _render(
        "index.html.j2",
        t=words,
        lang=_lang_code(report.common.get("lang")),
        title=words["title"] + (f": {report.label}" if report.label else ""),
        run_id=meta["run_id"],
        status=status,
        started=meta["started_utc"],
        params_file=meta["params_file"],
        common={k: _plain(v) for k, v in report.common.items()},
        combination={k: _plain(v) for k, v in report.combination.items()},
        notebooks=[
            {
                "name": nb.notebook,
                "title": notebook_title(nb.notebook, lang_code),
                "status": nb.status,
                "duration": nb.duration,
                "error": nb.error,
                "settings": {
                    k: _plain(nb.parameters[k])
                    for k in nb.passed
                    if k not in _RUNNER_KEYS
                    and k != "data"  # the run's dataset folder, set by the runner
                    and (k not in report.common or report.common[k] != nb.parameters[k])
                },
                "html": rel(nb.html),
                "ipynb": rel(nb.ipynb),
            }
            for nb in report.notebooks
        ],
        n_failed=sum(not nb.ok for nb in report.notebooks),
        figures=[
            {
                "href": rel(p),
                "notebook": p.stem.split("__", 1)[0],
                "title": notebook_title(p.stem.split("__", 1)[0], lang_code),
                "caption": figure_caption(p.stem, lang_code),
            }
            for p in figures
        ],
        tables=[
            {
                "name": p.name,
                "href": rel(p.with_suffix(".csv")) if p.with_suffix(".csv").exists() else None,
                "xlsx": rel(p.with_suffix(".xlsx")) if p.with_suffix(".xlsx").exists() else None,
            }
            for p in tables
        ],
        answers=answers,
        versions=meta["versions"],
        parent_index=parent_index,
        summary=_summary_lines(merged),
    )
    (folder / "index.html").write_text(html, encoding="utf-8")


def _summary_lines(merged: Mapping[str, Any]) -> list[dict[str, str]]:
    """Sentences notebooks put under ``summary`` in their results (e.g. stop-loss alerts),
    for the summary page; plain text, escaped by the template."""
    lines = []
    for notebook, res in merged.items():
        items = res.get("summary") if isinstance(res, Mapping) else None
        if isinstance(items, list):
            lines += [{"notebook": notebook, "text": str(t)} for t in items if t]
    return lines


def _answers(results: Mapping[str, Any], folder: Path, prefix: str = "") -> dict[str, Any]:
    """The one-page answer of a report (helpers.summary) in the report's language: the
    per-site cards and the note on the export as a whole."""
    from helpers.summary import compose, export_note

    lang = str(results.get("_run", {}).get("params", {}).get("lang") or "en")
    return {
        "sites": compose(results, lang=lang, folder=folder, prefix=prefix),
        "note": export_note(results, lang=lang, folder=folder, prefix=prefix),
    }


def _write_top_index(result: RunResult, meta: dict[str, Any], each_keys: list[str]) -> None:
    folder = result.folder
    parts = [
        _answers(r.results, r.folder, r.folder.relative_to(folder).as_posix() + "/")
        for r in result.reports
    ]
    # one card per site and report; the export note is the same data in every report
    answers = {"sites": [a for p in parts for a in p["sites"]], "note": parts[0]["note"]}
    rows = [
        {
            "label": r.label,
            "combination": {k: _plain(v) for k, v in r.combination.items()},
            "status": "ok" if r.ok else "failed",
            "href": r.index.relative_to(folder).as_posix(),
            "failed": [nb.notebook for nb in r.notebooks if not nb.ok],
            "n": len(r.notebooks),
        }
        for r in result.reports
    ]
    status = "ok" if result.ok else "failed"
    (folder / "results.json").write_text(
        json.dumps(
            {"_run": {**meta, "status": status, "each": each_keys, "reports": rows}},
            indent=2,
            ensure_ascii=False,
            default=str,
        ),
        encoding="utf-8",
    )
    (folder / "index.html").write_text(
        _render(
            "each_index.html.j2",
            t=_words(result.reports[0].common.get("lang") if result.reports else None),
            lang=_lang_code(result.reports[0].common.get("lang") if result.reports else None),
            title=_words(result.reports[0].common.get("lang") if result.reports else None)[
                "title_each"
            ],
            run_id=meta["run_id"],
            status=status,
            started=meta["started_utc"],
            params_file=meta["params_file"],
            each_keys=each_keys,
            rows=rows,
            answers=answers,
            versions=meta["versions"],
        ),
        encoding="utf-8",
    )


# ------------------------------------------------------------------------------ run


@dataclass
class _PreparedData:
    """A dataset validated once for the run (see :mod:`helpers.io.dataset`)."""

    folder: Path
    columns: list[str]
    source: Any


def _needs_data(nb: Path, decl: Mapping[str, _Declared]) -> bool:
    from helpers.requirements import analysis_of

    return "data" in decl and analysis_of(_notebook_metadata(nb)) not in (None, "primer")


def _notebook_metadata(nb: Path) -> dict[str, Any]:
    try:
        return json.loads(nb.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, json.JSONDecodeError):
        return {}


def _prepare_datasets(
    plans: Sequence[tuple[str, dict[str, Any], dict[str, Any], list[tuple[Path, dict[str, Any]]]]],
    declared: Mapping[Path, Mapping[str, _Declared]],
    parent: Path,
) -> dict[int, _PreparedData]:
    """Read and validate each report's data once, before any notebook runs.

    Reports that share a data source and options share one dataset. The datasets are
    written under ``parent`` in a hidden folder and moved into the run folder later.
    """
    from helpers.errors import ExportError
    from helpers.io.dataset import build_dataset

    built: dict[str, _PreparedData] = {}
    out: dict[int, _PreparedData] = {}
    for r_idx, (_label, _combination, common_eff, per_notebook) in enumerate(plans):
        if not any(_needs_data(nb, declared[nb]) for nb, _ in per_notebook):
            continue
        source = common_eff.get("data", _DEFAULT_DATA)
        options = {k: common_eff[k] for k in sorted(DATA_OPTION_KEYS) if k in common_eff}
        key = json.dumps([source, options], sort_keys=True, default=str)
        if key not in built:
            parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".dataset-", dir=parent))
            try:
                folder = build_dataset(source, tmp / "dataset", **options)
            except ExportError as exc:
                shutil.rmtree(tmp, ignore_errors=True)
                raise ReportError(f"The data could not be read: {exc}") from None
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            columns = _dataset_columns(folder)
            built[key] = _PreparedData(folder, columns, source)
        out[r_idx] = built[key]
    return out


def _dataset_columns(folder: Path) -> list[str]:
    from helpers.io.dataset import MANIFEST

    return list(json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["columns"])


def _place_dataset(dataset: _PreparedData, run_folder: Path) -> _PreparedData:
    """Move a dataset built before the run folder existed into it (once)."""
    if run_folder in dataset.folder.parents:
        return dataset
    target = run_folder / "dataset"
    n = 2
    while target.exists():
        target, n = run_folder / f"dataset-{n}", n + 1
    tmp_parent = dataset.folder.parent
    shutil.move(str(dataset.folder), str(target))
    shutil.rmtree(tmp_parent, ignore_errors=True)
    dataset.folder = target
    return dataset


def _unsupported(
    nb: Path, parameters: Mapping[str, Any], dataset: _PreparedData | None
) -> str | None:
    """Why the data cannot support this notebook's analysis, or None."""
    from helpers.requirements import analysis_of, unmet

    analysis = analysis_of(_notebook_metadata(nb))
    if dataset is None or analysis is None:
        return None
    return unmet(analysis, dataset.columns, **dict(parameters))


def run_report(
    params_file: str | Path | None = None,
    *,
    data: str | None = None,
    only: str | Iterable[str] | None = None,
    out: str | Path | None = None,
    each: Mapping[str, Sequence[Any]] | Sequence[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    jobs: int | None = None,
    notebooks_dir: str | Path | None = None,
    timeout: float | None = None,
    progress: bool = True,
) -> RunResult:
    """Run notebooks with papermill and write a report folder.

    Parameters
    ----------
    params_file : str or Path, optional
        YAML parameters: common keys at top level, per-notebook keys under
        ``notebooks:`` keyed by number prefix (``"02"``) or stem.
    data : str, optional
        Overrides the ``data`` parameter (a folder of exports or one file).
    only : str or iterable of str, optional
        Notebooks to run by number prefix or stem, e.g. ``"01,04"``; default all.
    out : str or Path, optional
        Folder (relative to the current directory) in which the run folder
        ``<run-id>/`` is created; default the repo's ``reports/``.
    each : mapping or sequence of ``"key=v1,v2"``, optional
        One report per value; several keys give their cartesian product.
    overrides : mapping, optional
        Parameter values (like ``-p key value``); strings are converted to the type
        each notebook declares.
    jobs : int, optional
        Notebooks executed at once (process pool); default the number of CPUs.
    notebooks_dir : str or Path, optional
        Where to find the notebooks; default ``notebooks/``.
    timeout : float, optional
        Seconds a single cell may run before the notebook fails; default no limit.
    progress : bool
        Show a progress bar over notebooks on stderr.

    Returns
    -------
    RunResult
        The run folder, its ``index.html`` and per-notebook status. A failing notebook
        does not raise: check ``.ok`` / ``.failure_messages()``.

    Raises
    ------
    ReportError
        For problems found before anything runs (missing or bad params file, unknown
        notebook, a value that does not fit the declared type).

    Notes
    -----
    With more than one job, notebooks run in a pool of *spawned* processes: a script
    that calls ``run_report`` must do so under ``if __name__ == "__main__":``.
    """
    started = time.perf_counter()
    params = load_params(params_file)
    all_notebooks = discover_notebooks(notebooks_dir)
    if not all_notebooks:
        raise ReportError(
            f"No notebooks in {paths.resolve(notebooks_dir) if notebooks_dir else paths.NOTEBOOKS}."
        )
    selected = select_notebooks(all_notebooks, only)
    if not selected:
        raise ReportError(
            f"--only {only!r} selects no notebook. Available: "
            f"{', '.join(nb.stem for nb in all_notebooks)}."
        )
    declared = {nb: declared_parameters(nb) for nb in all_notebooks}
    every_declared = sorted({name for d in declared.values() for name in d})
    _check_kernel()
    for nb in selected:
        if "output_dir" not in declared[nb]:
            warnings.warn(
                f'{nb.name} does not declare `output_dir: str = ""` in its parameters cell; '
                "its figures, tables and results will not be in the report.",
                ParamWarning,
                stacklevel=2,
            )

    cli: dict[str, _Value] = {}
    if data is not None:
        data_str = str(data)
        # A path relative to where the user stands, when it exists there; notebooks run at the root.
        if (
            not Path(data_str).is_absolute()
            and Path(data_str).exists()
            and Path.cwd() != paths.ROOT
        ):
            data_str = str(Path(data_str).resolve())
        cli["data"] = _Value(data_str, "--data", text=data_str)
    for key, value in (overrides or {}).items():
        cli[str(key)] = _Value(value, "-p", text=value if isinstance(value, str) else None)
    each_values = _parse_each(each)

    def warn(msg: str) -> None:
        warnings.warn(msg, ParamWarning, stacklevel=3)

    for source, keys in (
        (str(params.path or "params"), params.common),
        ("-p/--data", cli),
        ("--each", each_values),
    ):
        for key in keys:
            if key in _RUNNER_KEYS:
                warn(
                    f"{source}: {key!r} is set by the runner (the run folder); your value is ignored."
                )
            elif key not in every_declared and key not in DATA_OPTION_KEYS:
                warn(
                    f"{source}: no notebook declares a parameter {key!r}; it is ignored. "
                    f"Declared parameters: {', '.join(k for k in every_declared if k not in _RUNNER_KEYS)}."
                )
    for nb_key, values in params.notebooks.items():
        targets = [
            nb for nb in all_notebooks if nb.stem == nb_key or _prefix(nb.stem) == nb_key.zfill(2)
        ]
        if not targets:
            warn(
                f"{params.path}: notebooks.{nb_key} matches no notebook. "
                f"Available: {', '.join(nb.stem for nb in all_notebooks)}."
            )
        for nb in targets:
            for key in values:
                if key not in declared[nb] or key in _RUNNER_KEYS:
                    warn(
                        f"{params.path}: notebooks.{nb_key}.{key}: notebook {nb.stem} does not "
                        f"take {key!r}; it is ignored. It declares: {', '.join(declared[nb])}."
                    )

    combos: list[dict[str, _Value]] = [
        dict(zip(each_values, combo, strict=True))
        for combo in itertools.product(*each_values.values())
    ] or [{}]

    # Resolve and type-check every notebook's parameters before creating anything, so
    # that a bad value stops the run without leaving an empty run folder behind.
    plans: list[tuple[str, dict[str, Any], dict[str, Any], list[tuple[Path, dict[str, Any]]]]] = []
    for combo in combos:
        label = "_".join(f"{k}-{_slug(str(v.value), 30)}" for k, v in combo.items())
        layers_common = {**params.common, **cli, **combo}
        per_notebook: list[tuple[Path, dict[str, Any]]] = []
        for nb in selected:
            decl = declared[nb]
            layers: dict[str, _Value] = dict(params.common)
            for nb_key in (_prefix(nb.stem), nb.stem):  # the stem is the more specific key
                if nb_key.isdigit():
                    layers.update(params.notebooks.get(str(int(nb_key)), {}))
                layers.update(params.notebooks.get(nb_key, {}))
            layers.update(cli)
            layers.update(combo)
            passed = {
                key: _coerce(value, decl[key], nb.stem)
                for key, value in layers.items()
                if key in decl
                and key not in _RUNNER_KEYS
                # a `data:` block (a spec) reaches notebooks as the dataset folder instead
                and not (key == "data" and isinstance(value.value, Mapping))
            }
            if "lang" in passed:  # a typo must stop the run, not give an English report
                try:
                    passed["lang"] = check_lang(passed["lang"])
                except ValueError as exc:
                    raise ReportError(
                        f"{nb.stem}: {exc}. Fix: -p lang zh (or lang: zh in the params file)."
                    ) from None
            per_notebook.append((nb, passed))
        # Common keys as the first notebook that takes them receives them (typed).
        common_eff: dict[str, Any] = {}
        for key, value in layers_common.items():
            if key == "data" or key in DATA_OPTION_KEYS:
                common_eff[key] = _plain(value.value)
                continue
            if key in _RUNNER_KEYS or key not in every_declared:
                continue
            taker = next((nb for nb in selected if key in declared[nb]), None)
            common_eff[key] = (
                _coerce(value, declared[taker][key], taker.stem) if taker else value.value
            )
        plans.append((label, {k: v.value for k, v in combo.items()}, common_eff, per_notebook))
    # --out is where the user stands, like any output path; the default is the repo's reports/.
    parent = Path(out).expanduser().resolve() if out else paths.REPORTS
    data_started, data_cpu = time.perf_counter(), _cpu_seconds()
    datasets = _prepare_datasets(plans, declared, parent)
    dataset_s = time.perf_counter() - data_started
    dataset_cpu_s = _cpu_seconds() - data_cpu

    run_started = _utcnow()
    slug_parts = [params.path.stem if params.path else "defaults"]
    slug_parts += [f"{k}-{'-'.join(str(v.value) for v in vals)}" for k, vals in each_values.items()]
    run_name = f"{run_started:%Y%m%d-%H%M%S}_{_slug('_'.join(slug_parts), 60)}"
    run_folder = _new_folder(parent, run_name)
    run_id = run_folder.name

    reports: list[Report] = []
    tasks: list[_Task] = []
    for r_idx, (label, combination, common_eff, per_notebook) in enumerate(plans):
        folder = _new_folder(run_folder, label) if each_values else run_folder
        for sub in ("figures", "tables", "results"):
            (folder / sub).mkdir(exist_ok=True)
        dataset = datasets.get(r_idx)
        if dataset is not None:
            dataset = _place_dataset(dataset, run_folder)
            datasets[r_idx] = dataset
        nb_runs: list[NotebookRun] = []
        for n_idx, (nb, passed) in enumerate(per_notebook):
            decl = declared[nb]
            if "output_dir" in decl:
                passed = {**passed, "output_dir": str(folder)}
            if "data" in decl and dataset is not None:
                passed = {**passed, "data": str(dataset.folder)}
            effective = {name: d.default_value() for name, d in decl.items()}
            effective.update(passed)
            run = NotebookRun(nb.stem, nb, parameters=effective, passed=list(passed))
            nb_runs.append(run)
            reason = _unsupported(nb, effective, dataset)
            if reason:
                run.status, run.error = "skipped", reason
                continue
            tasks.append(_Task((r_idx, n_idx), nb, folder, passed, timeout))
        reports.append(
            Report(folder, folder.name if each_values else "", combination, common_eff, nb_runs)
        )

    cpus = os.cpu_count() or 1
    workers = max(1, min(jobs or cpus, cpus, len(tasks)))
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc="notebooks", unit="nb", disable=not progress, file=sys.stderr)

    def record(outcome: _Outcome) -> None:
        outcome = _add_html(outcome)
        nb = reports[outcome.key[0]].notebooks[outcome.key[1]]
        nb.status, nb.duration, nb.cpu = outcome.status, outcome.duration, outcome.cpu
        nb.ipynb, nb.html = outcome.ipynb, outcome.html
        if outcome.error:
            for k, v in outcome.error.items():
                setattr(nb, k, v)
            nb.error = _error_line(nb)
        label = reports[outcome.key[0]].label
        bar.set_postfix_str(f"{nb.notebook}{' ' + label if label else ''}: {nb.status}")
        bar.update(1)

    try:
        if workers == 1:
            for task in tasks:
                record(_execute(task))
        else:
            # spawn: a clean interpreter per worker, no forked threads or event loops.
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=get_context("spawn"), initializer=_init_worker
            ) as pool:
                futures = {pool.submit(_execute, task): task for task in tasks}
                for future in as_completed(futures):
                    try:
                        outcome = future.result()
                    except Exception as exc:  # a worker killed (e.g. out of memory)
                        task = futures[future]
                        ipynb = task.folder / f"{task.source.stem}.ipynb"
                        outcome = _Outcome(
                            task.key,
                            "failed",
                            0.0,
                            ipynb if ipynb.exists() else None,
                            None,
                            {
                                "cell": None,
                                "exec_count": None,
                                "cell_first_line": None,
                                "ename": type(exc).__name__,
                                "evalue": f"{exc} (the worker process died; try --jobs 1)",
                            },
                        )
                    record(outcome)
    finally:
        bar.close()

    result = RunResult(run_id, run_folder, reports, time.perf_counter() - started)
    meta: dict[str, Any] = {
        "run_id": run_id,
        "started_utc": run_started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "duration_s": round(result.duration, 2),
        # Reading and validating the exports once (before any notebook runs).
        "dataset_s": round(dataset_s, 2),
        "dataset_cpu_s": round(dataset_cpu_s, 2),
        "params_file": str(params.path) if params.path else None,
        "jobs": workers,
        "versions": _versions(),
    }
    for report in reports:
        _write_report_files(report, meta, "../index.html" if each_values else None)
    if each_values:
        base = {
            k: _plain(v.value) for k, v in {**params.common, **cli}.items() if k in every_declared
        }
        (run_folder / "params.yaml").write_text(
            f"# Base parameters of report run {run_id}; each sub-folder has its own params.yaml.\n"
            f"# --each {' '.join(k + '=' + ','.join(str(v.value) for v in vals) for k, vals in each_values.items())}\n"
            + yaml.safe_dump(base, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        _write_top_index(result, meta, list(each_values))
    return result


# ------------------------------------------------------------------------------ CLI


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.report",
        description=(
            "Run the kit's notebooks with papermill and write reports/<run-id>/ with\n"
            "index.html, the executed notebooks, code-free HTML, figures/, tables/,\n"
            "results.json and params.yaml (an existing folder is never overwritten).\n\n"
            "Parameters, later wins: notebook defaults < YAML top level < YAML\n"
            "notebooks.NN (number prefix or name) < --data and -p < --each. Each notebook\n"
            "gets only the parameters its parameters cell declares, converted to the\n"
            "declared type (see --list); output_dir is always the run folder."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  python -m helpers.report --params params/default.yaml\n"
            "  python -m helpers.report --params params/smoke.yaml --only 01,04\n"
            "  python -m helpers.report --data data/raw/oct -p min_clicks 50 --each site=US,UK\n"
            "exit status: 0 all notebooks ran, 1 a notebook failed, 2 bad arguments/params."
        ),
    )
    parser.add_argument(
        "--params", metavar="FILE", help="YAML parameters file (e.g. params/default.yaml)"
    )
    parser.add_argument(
        "--data", metavar="PATH", help="data folder or export file (overrides `data`)"
    )
    parser.add_argument(
        "--only",
        metavar="NN,NN",
        help="run only these notebooks, by number prefix or name (e.g. 01,04)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="folder in which the run folder <run-id>/ is created (default reports/)",
    )
    parser.add_argument(
        "--each",
        metavar="KEY=V1,V2",
        action="append",
        default=[],
        help="one report per value, in sub-folders (repeat for combinations: cartesian product)",
    )
    parser.add_argument(
        "-p",
        "--param",
        nargs=2,
        metavar=("KEY", "VALUE"),
        action="append",
        default=[],
        help="set a parameter; converted to the type the notebook declares (repeatable)",
    )
    parser.add_argument(
        "--jobs", type=int, metavar="N", help="notebooks run at once (default: number of CPUs)"
    )
    parser.add_argument(
        "--notebooks-dir", metavar="DIR", help="where the notebooks are (default notebooks/)"
    )
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="fail a notebook whose cell runs longer"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the notebooks and the parameters each declares, then exit",
    )
    return parser


def _console_answer(result: RunResult) -> list[str]:
    """The index's per-site answer as a few terminal lines (never fails a finished run)."""
    from helpers.summary import console_lines

    lines: list[str] = []
    for report in result.reports:
        try:
            answer = _answers(report.results, report.folder)
            lines += console_lines(answer["sites"], answer["note"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            lines.append(f"(no summary for {report.label or 'the report'}: {exc})")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 ok, 1 failed notebook, 2 usage)."""
    args = _build_parser().parse_args(argv)
    if "nbformat" not in sys.modules:  # the CLI's own process; see the function
        _skip_slow_optional_imports()

    def show(message: Any, category: type[Warning], *_: Any, **__: Any) -> None:
        print(f"warning: {message}", file=sys.stderr)

    warnings.showwarning = show  # type: ignore[assignment]
    if args.jobs is not None and args.jobs < 1:
        print("error: --jobs must be 1 or more.", file=sys.stderr)
        return 2
    try:
        if args.list:
            for nb in select_notebooks(discover_notebooks(args.notebooks_dir), args.only):
                print(nb.stem)
                for d in declared_parameters(nb).values():
                    line = f"    {d.name}: {d.type_name or '?'} = {d.default}"
                    print(f"{line:<48}  # {d.help}" if d.help else line)
            return 0
        result = run_report(
            args.params,
            data=args.data,
            only=args.only,
            out=args.out,
            each=args.each or None,
            overrides=dict(args.param),
            jobs=args.jobs,
            notebooks_dir=args.notebooks_dir,
            timeout=args.timeout,
            progress=not args.no_progress,
        )
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in result.failure_messages():
        print(line, file=sys.stderr)
    words = _words(result.reports[0].common.get("lang") if result.reports else None)
    for report, nb in result.skipped:
        where = f" [{report.label}]" if report.label else ""
        print(
            words["not_run"].format(notebook=nb.notebook, where=where, error=nb.error),
            file=sys.stderr,
        )
    n = sum(len(r.notebooks) for r in result.reports)
    failed, skipped = len(result.failures), len(result.skipped)
    summary = (
        words["summary"].format(ok=n - failed - skipped, n=n)
        + (words["summary_skipped"].format(skipped=skipped) if skipped else "")
        + (words["summary_failed"].format(failed=failed) if failed else "")
    )
    print(words["summary_time"].format(summary=summary, seconds=result.duration), file=sys.stderr)
    for line in _console_answer(result):
        print(line, file=sys.stderr)
    print(result.index)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
