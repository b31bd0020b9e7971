"""Run every benchmark: ``python -m bench [--quick] [--only NAME ...]``.

Each ``bench/bench_<topic>.py`` module exposes ``main(argv=None)`` that prints its
figures and ratios. Speed and memory targets are checked here, not by timed unit tests
(the machines are noisy).
"""

from __future__ import annotations

import argparse
import pkgutil
import subprocess
import sys
import time
from pathlib import Path


def discover() -> list[str]:
    """Names of the benchmark modules, sorted."""
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke check")
    parser.add_argument("--only", nargs="*", default=None, help="topics, e.g. synth conversion")
    args = parser.parse_args(argv)
    names = discover()
    if args.only:
        wanted = {f"bench_{n.removeprefix('bench_')}" for n in args.only}
        unknown = wanted - set(names)
        if unknown:
            parser.error(f"unknown benchmark(s) {sorted(unknown)}; available: {names}")
        names = [n for n in names if n in wanted]
    failed = []
    targets: list[str] = []
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        # A fresh interpreter per benchmark: peak-memory figures (ru_maxrss is inherited
        # by forked children) and timings must not carry over from the previous one.
        cmd = [sys.executable, "-m", f"bench.{name}", *(["--quick"] if args.quick else [])]
        with subprocess.Popen(
            cmd, cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE, text=True
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                print(line, end="", flush=True)
                if "(limit " in line:  # a target's ratio line: repeated in the summary
                    targets.append(f"{name}: {line.strip()}")
        status = proc.returncode
        if status:
            failed.append(name)
        print(f"--- {name}: {time.perf_counter() - start:.1f} s, exit status {status}", flush=True)
    if targets:
        print(
            "\ntargets (ratio against a limit measured in the same run; [cpu ...] the CPU-time ratio):"
        )
        print("\n".join(f"  {t}" for t in targets))
    if failed:
        print(f"\ntargets missed or errors in: {', '.join(failed)} (see their output above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
