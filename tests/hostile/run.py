"""Run one hostile case in a child process and judge what it did.

Each load runs in a forked worker (a forkserver with pandas, pyarrow and
helpers.load preloaded, so a worker starts in milliseconds) so that a hang or a
zip bomb can be killed at the time limit and its memory measured. The parent builds
the files, hashes them before and after, and compares the worker's report with the
case's :class:`~.case.Expect`.

Invariants checked for every case, whatever its outcome class:

* no exception other than ``helpers.errors.ExportError`` (and no timeout);
* ``summary.rows_read == rows_kept + rows_rejected``, ``len(.data) == rows_kept``,
  ``len(.rejected) == rows_rejected``;
* input bytes (and the set of files in the input folder) unchanged;
* the load finished within the case's time limit (and memory bound, if any).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
import resource
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .case import Case, Expect

__all__ = ["Observation", "classify", "run_case"]

_PRELOAD = ["pandas", "pyarrow", "pyarrow.csv", "pyarrow.parquet", "helpers.load", "helpers.errors"]
_CTX: Any = None


def _context() -> Any:
    global _CTX
    if _CTX is None:
        _CTX = multiprocessing.get_context("forkserver")
        _CTX.set_forkserver_preload([*_PRELOAD, __package__ + ".cases"])
    return _CTX


@dataclass
class Observation:
    """What one case did, and whether that matches its expectation."""

    case: str
    expected: str
    observed: str  # clean / rejected / error / crash:<Type> / timeout / skipped
    ok: bool
    problems: list[str] = field(default_factory=list)
    detail: str = ""
    seconds: float = 0.0
    source: str = ""

    def line(self) -> str:
        mark = "ok" if self.ok else ("skip" if self.observed == "skipped" else "FAIL")
        return f"{self.case:34} {self.expected[:40]:40} {self.observed:16} {mark}"


def classify(report: dict[str, Any]) -> str:
    """Outcome class of a worker report."""
    if report["kind"] == "result":
        return "clean" if report["rows_rejected"] == 0 else "rejected"
    if report["kind"] == "export_error":
        return "error"
    if report["kind"] == "crash":
        return f"crash:{report['type']}"
    return report["kind"]


# ------------------------------------------------------------------ worker side


def _vm(field_name: str) -> int:
    """A ``/proc/self/status`` memory figure in kB (0 where /proc is absent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _summary_report(res: Any) -> dict[str, Any]:
    s = res.summary
    rej = res.rejected
    reasons = [str(r) for r in rej["reason"].tolist()] if "reason" in rej else []
    extra = {
        k: getattr(s, k)
        for k in ("orders_above_clicks_kept", "extra_columns", "blank_rows", "duplicate_columns")
        if hasattr(s, k)
    }
    return {
        "kind": "result",
        "rows_read": int(s.rows_read),
        "rows_kept": int(s.rows_kept),
        "rows_rejected": int(s.rows_rejected),
        "len_data": len(res.data),
        "len_rejected": len(rej),
        "by_reason": {str(k): int(v) for k, v in dict(s.rejected_by_reason).items()},
        "reasons": reasons,
        "notes": [str(n) for n in s.notes],
        "columns": [str(c) for c in res.data.columns],
        "extra": {k: repr(v) for k, v in extra.items()},
    }


def _worker(conn: Any, cases_module: str, case_id: str, target: str, use_fix: bool) -> None:
    """Load one case and send a plain-dict report through ``conn``."""
    import importlib

    # A safety net for the machine, far above any honest load of these small files.
    soft = 8 << 30
    try:
        resource.setrlimit(resource.RLIMIT_AS, (soft, resource.getrlimit(resource.RLIMIT_AS)[1]))
    except (ValueError, OSError):
        pass
    scratch = tempfile.mkdtemp(prefix="hostile-cwd-")
    os.chdir(scratch)  # anything the loader writes relative to the cwd lands here
    case: Case = importlib.import_module(cases_module).BY_ID[case_id]
    kwargs = dict(case.kwargs)
    if use_fix and case.fix:
        kwargs.update(case.fix)
    expect = case.after if use_fix and case.after else case.expect
    rss0 = _vm("VmRSS")
    t0 = time.perf_counter()
    report: dict[str, Any]
    try:
        import helpers.load as load
        from helpers.errors import ExportError

        try:
            if case.call == "read_export_frame":
                import pandas as pd

                frame = pd.read_parquet(target)
                before = frame.copy(deep=True)
                res = load.read_export(frame, **kwargs)
                mutated = not (
                    frame.columns.equals(before.columns)
                    and frame.dtypes.equals(before.dtypes)
                    and frame.equals(before)
                )
            else:
                res = getattr(load, case.call)(target, **kwargs)
                mutated = False
        except ExportError as exc:
            report = {"kind": "export_error", "message": str(exc)}
        else:
            report = _summary_report(res)
            report["mutated_frame"] = mutated
            problems: list[str] = []
            if expect.check is not None:
                try:
                    problems = list(expect.check(res))
                except Exception as exc:  # a check that cannot run is a finding, not a crash
                    problems = [f"check raised {type(exc).__name__}: {exc}"]
            report["check_problems"] = problems
    except BaseException as exc:
        report = {
            "kind": "crash",
            "type": type(exc).__name__,
            "message": str(exc)[:500],
            "traceback": traceback.format_exc()[-3000:],
        }
    report["seconds"] = time.perf_counter() - t0
    report["peak_mb"] = max(0, _vm("VmHWM") - rss0) / 1024
    shutil.rmtree(scratch, ignore_errors=True)
    conn.send(report)
    conn.close()


# ------------------------------------------------------------------ parent side


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mode of every file under ``root`` (unreadable files: mode only)."""
    out: dict[str, tuple[str, int]] = {}
    for p in sorted(root.rglob("*")):
        if p.is_dir():
            continue
        mode = p.stat().st_mode
        try:
            digest = hashlib.sha256(p.read_bytes()).hexdigest()
        except OSError:
            digest = "<unreadable>"
        out[str(p.relative_to(root))] = (digest, mode)
    return out


def _launch(case: Case, target: Path, use_fix: bool) -> dict[str, Any]:
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_worker, args=(child, __package__ + ".cases", case.id, str(target), use_fix)
    )
    t0 = time.perf_counter()
    proc.start()
    child.close()
    report: dict[str, Any] | None = None
    # A generous wall-clock bound on top of the case's limit: worker start-up and the
    # report's transfer are not the loader's time.
    deadline = t0 + case.time_limit + 10
    while time.perf_counter() < deadline:
        if parent.poll(0.05):
            try:
                report = parent.recv()
            except EOFError:
                report = None
            break
        if not proc.is_alive() and not parent.poll(0):
            break
    if report is None:
        alive = proc.is_alive()
        if alive:
            proc.kill()
        proc.join(5)
        if alive:
            return {"kind": "timeout", "seconds": time.perf_counter() - t0}
        return {
            "kind": "crash",
            "type": f"worker died (exit code {proc.exitcode})",
            "message": "",
            "seconds": time.perf_counter() - t0,
        }
    proc.join(5)
    return report


def _judge(case: Case, expect: Expect, report: dict[str, Any], target: Path) -> list[str]:
    """Problems with ``report`` against ``expect`` and the corpus-wide invariants."""
    problems: list[str] = []
    observed = classify(report)
    if observed.startswith("crash"):
        tb = report.get("traceback", "").strip().splitlines()
        where = tb[-3].strip() if len(tb) >= 3 else ""
        problems.append(f"{report['type']}: {report['message'][:200]} {where}")
        return problems
    if observed == "timeout":
        return [f"no answer within {case.time_limit:.0f} s (+10 s grace): killed"]
    if report["seconds"] > case.time_limit:
        problems.append(f"took {report['seconds']:.1f} s > {case.time_limit:.0f} s")
    if case.memory_mb is not None and report["peak_mb"] > case.memory_mb:
        problems.append(f"peak memory +{report['peak_mb']:.0f} MB > {case.memory_mb:.0f} MB")
    if observed != expect.outcome:
        what = report.get("message", "")[:300] if observed == "error" else _counts(report)
        problems.append(f"expected {expect.outcome}, got {observed}: {what}")
    if observed == "error":
        msg = report["message"]
        name = case.names or target.name
        if name.lower() not in msg.lower():
            problems.append(f"error message does not name {name!r}")
        for part in expect.error_has if expect.outcome == "error" else ():
            if part.lower() not in msg.lower():
                problems.append(f"error message lacks {part!r}")
        if (
            expect.outcome == "error"
            and expect.error_re
            and not re.search(expect.error_re, msg, re.IGNORECASE)
        ):
            problems.append(f"error message does not match /{expect.error_re}/")
        return problems
    # A result: row accounting always holds.
    r = report
    if r["rows_read"] != r["rows_kept"] + r["rows_rejected"]:
        problems.append(
            f"rows read {r['rows_read']} != kept {r['rows_kept']} + rejected {r['rows_rejected']}"
        )
    if r["len_data"] != r["rows_kept"]:
        problems.append(f"len(data) {r['len_data']} != rows_kept {r['rows_kept']}")
    if r["len_rejected"] != r["rows_rejected"]:
        problems.append(f"len(rejected) {r['len_rejected']} != rows_rejected {r['rows_rejected']}")
    if r.get("mutated_frame"):
        problems.append("the input DataFrame was modified")
    if expect.outcome == "error":
        return problems
    if expect.kept is not None and r["rows_kept"] != expect.kept:
        problems.append(f"kept {r['rows_kept']} rows, expected {expect.kept}")
    if r["rows_rejected"] != expect.n_rejected:
        problems.append(f"rejected {r['rows_rejected']} rows, expected {expect.n_rejected}")
    if expect.kept is not None and r["rows_read"] != expect.kept + expect.n_rejected:
        problems.append(
            f"rows read {r['rows_read']}, expected {expect.kept + expect.n_rejected} "
            "(a row lost or invented)"
        )
    reasons = r["reasons"]
    for pattern, n in expect.reasons.items():
        got = sum(1 for x in reasons if re.search(pattern, x))
        if got != n:
            problems.append(f"{got} rejected row(s) match /{pattern}/, expected {n}")
    if expect.reasons:
        stray = [x for x in reasons if not any(re.search(p, x) for p in expect.reasons)]
        if stray:
            problems.append(f"{len(stray)} rejected row(s) with other reasons, e.g. {stray[0]!r}")
    problems.extend(r.get("check_problems", []))
    return problems


def _counts(report: dict[str, Any]) -> str:
    if report.get("kind") != "result":
        return ""
    why = "; ".join(f"{k}: {v}" for k, v in report["by_reason"].items())
    return f"kept {report['rows_kept']}, rejected {report['rows_rejected']}" + (
        f" ({why})" if why else ""
    )


def _run_once(
    case: Case, expect: Expect, target: Path, folder: Path, use_fix: bool
) -> tuple[str, list[str], dict[str, Any]]:
    before = _snapshot(folder)
    report = _launch(case, target, use_fix)
    after = _snapshot(folder)
    problems = _judge(case, expect, report, target)
    if before != after:
        changed = sorted(set(before) ^ set(after)) + sorted(
            k for k in set(before) & set(after) if before[k] != after[k]
        )
        problems.append(f"input folder changed: {changed[:5]}")
    return classify(report), problems, report


def run_case(case: Case, folder: Path) -> Observation:
    """Build ``case`` in ``folder`` (created), load it in a worker and judge it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = case.build(folder)
    if case.skip is not None:
        why = case.skip(target)
        if why:
            return Observation(
                case.id, case.expect.describe(), "skipped", True, [why], why, 0.0, case.source
            )
    observed, problems, report = _run_once(case, case.expect, target, folder, use_fix=False)
    detail = report.get("message", "")[:160] if observed == "error" else _counts(report)
    if case.fix is not None and case.after is not None:
        obs2, problems2, report2 = _run_once(case, case.after, target, folder, use_fix=True)
        problems += [f"after fix {dict(case.fix)}: {p}" for p in problems2]
        detail += f" | after fix {dict(case.fix)}: {obs2} {_counts(report2)}".rstrip()
        observed = f"{observed}>{obs2}"
    expected = case.expect.describe()
    if case.after is not None:
        expected += f" > fix > {case.after.outcome}"
    return Observation(
        case.id,
        expected,
        observed,
        not problems,
        problems,
        detail,
        float(report.get("seconds", 0.0)),
        case.source,
    )


def running_as_root() -> bool:
    """True when file permissions do not stop this process (root, CAP_DAC_OVERRIDE)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def unreadable_skip(path: Path) -> str | None:
    """Skip reason when a chmod 000 file (or a folder holding one) is still readable."""
    probe = path if path.is_file() else next((p for p in path.iterdir() if p.is_file()), path)
    try:
        with open(probe, "rb") as fh:
            fh.read(1)
    except PermissionError:
        return None
    except IsADirectoryError:
        return None
    who = "root" if running_as_root() else f"uid {os.getuid()}"
    return f"running as {who}: a chmod 000 file is still readable, the case cannot be built"
