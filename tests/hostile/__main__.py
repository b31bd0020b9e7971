"""Print the hostile corpus table: case -> expected outcome -> observed outcome.

Usage (from the repository root; PYTHONPATH picks the helpers under test)::

    PYTHONPATH=$PWD python -m tests.hostile            # every case
    PYTHONPATH=$PWD python -m tests.hostile -k total   # cases whose id contains "total"
    PYTHONPATH=$PWD python -m tests.hostile --markdown # a Markdown table
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .cases import CASES
from .run import Observation, run_case


def _table(observations: Sequence[Observation], markdown: bool) -> str:
    rows = [("case", "source", "expected", "observed", "result", "detail")]
    for o in observations:
        mark = "ok" if o.ok and o.observed != "skipped" else ("skip" if o.ok else "FAIL")
        why = "; ".join(o.problems) if o.problems else o.detail
        rows.append((o.case, o.source, o.expected, o.observed, mark, why))
    if markdown:
        out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        out += [
            "| " + " | ".join(c.replace("|", "/").replace("\n", " ")[:160] for c in r) + " |"
            for r in rows[1:]
        ]
        return "\n".join(out)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    widths = [min(w, cap) for w, cap in zip(widths, (32, 8, 44, 22), strict=True)]
    lines = []
    for r in rows:
        head = "  ".join(c[:w].ljust(w) for c, w in zip(r[:4], widths, strict=True))
        lines.append(f"{head}  {r[4]:4}  {r[5][:150]}".rstrip().replace("\n", " "))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.hostile", description=__doc__.split("\n")[0]
    )
    parser.add_argument("-k", default="", help="only cases whose id contains this text")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    selected = [c for c in CASES if args.k in c.id]
    observations = []
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        for c in selected:
            observations.append(run_case(c, Path(tmp) / c.id))
            print(observations[-1].line(), file=sys.stderr, flush=True)
    print(_table(observations, args.markdown))
    by_expected = collections.Counter(c.expect.outcome for c in selected)
    by_result = collections.Counter(
        "skip" if o.observed == "skipped" else ("ok" if o.ok else "FAIL") for o in observations
    )
    observed = collections.Counter(o.observed.split(">")[0] for o in observations)
    print(
        f"\n{len(selected)} cases; expected {dict(by_expected)}; observed {dict(observed)}; "
        f"{by_result['ok']} as expected, {by_result['FAIL']} not, {by_result['skip']} skipped"
    )
    return 0 if by_result["FAIL"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
