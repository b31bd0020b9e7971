"""Benchmark of the reduction layer: the conversion fit over a Parquet dataset.

A 10M-row single-site Parquet dataset is generated in chunks of synthetic rows
(``helpers.synth``; creator ids made unique per chunk) into a folder under /tmp (kept
and reused: ``--data DIR``). Each measurement runs in a fresh interpreter so that its
peak RSS (``ru_maxrss``) is its own; times are CPU seconds of the process (all DuckDB
threads included, ``time.process_time``) and wall seconds:

* ``bare``: the bare DuckDB query computing the same sums, written by hand:
  ``SELECT creator_id, tier, category, commission_rate, SUM(orders), SUM(clicks),
  SUM(orders * orders / clicks), COUNT(*) FROM read_parquet(...) WHERE clicks > 0
  AND <no missing value> GROUP BY ALL``, kept in a DuckDB table (``bare``) and also
  fetched into pandas (``bare+fetch``);
* ``reduce``: the reduction layer alone (row accounting plus creator x pattern totals,
  :mod:`helpers.reduce`), what ``fit_conversion`` reads from the engine;
* ``fit``: ``fit_conversion(folder)`` with the default formula and covariance;
* ``pandas`` (``--pandas``): ``pd.read_parquet`` of the used columns, then
  ``fit_conversion(frame)`` (the frame is scanned in place by DuckDB);
* ``spark`` (when pyspark and Java are present): ``fit_conversion`` on
  ``spark.read.parquet(folder)`` in a local session (wall time; the JVM's CPU is not
  the Python process's), its estimates compared with DuckDB's.

Targets: the layer's CPU time at most 1.0x the bare query's (the fit adds only the
small Python statistics), and the fit's peak RSS printed against the pandas path's.

Run: ``python -m bench --only scale`` (``--quick``: 1M rows), or
``python -m bench.bench_scale --rows 10000000 --pandas``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]

KEYS = ["creator_id", "tier", "category", "commission_rate"]
COLUMNS = [*KEYS, "site", "orders", "clicks"]


def _generate(folder: Path, rows: int, chunk: int, seed: int) -> None:
    """Write ``rows`` synthetic rows as Parquet parts of ``chunk`` rows each."""
    from helpers.synth import make_affiliate_data

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t0 = time.perf_counter()
    for i, start in enumerate(range(0, rows, chunk)):
        n = min(chunk, rows - start)
        d = make_affiliate_data(n, seed=seed + i, sites=("US",)).data
        # each chunk's creators are other creators: keep their ids apart
        d["creator_id"] = d["creator_id"].cat.rename_categories(lambda c, i=i: f"{c}-{i:03d}")
        d.to_parquet(tmp / f"part-{i:03d}.parquet", index=False)
        print(
            f"  wrote part {i} ({start + n:,} rows, {time.perf_counter() - t0:.0f} s)", flush=True
        )
    tmp.rename(folder)


def _peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM, MiB): unlike ``ru_maxrss`` it starts
    afresh at exec, so a parent's peak does not show up in its children."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def _measure(step: str, folder: Path) -> dict[str, Any]:
    """Run one step in this process; return CPU/wall seconds, peak RSS and figures."""
    import warnings

    import duckdb
    import pandas as pd

    from helpers.conversion import ConversionWarning, fit_conversion
    from helpers.reduce import as_source, cluster_pattern_totals, row_accounting

    warnings.simplefilter("ignore", ConversionWarning)
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    base_rss = _peak_rss_mib()
    out: dict[str, Any] = {}
    t_cpu, t_wall = time.process_time(), time.perf_counter()
    if step in ("bare", "bare+fetch"):
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        keys = ", ".join(KEYS)
        complete = " AND ".join(f"{k} IS NOT NULL" for k in KEYS)
        sql = (
            f"SELECT {keys}, SUM(orders) AS y, SUM(clicks) AS n, "
            "SUM(CAST(orders AS DOUBLE) * orders / clicks) AS q, COUNT(*) AS r "
            f"FROM read_parquet({files!r}) WHERE clicks > 0 AND {complete} "
            "AND NOT isnan(commission_rate) GROUP BY ALL"
        )
        if step == "bare":
            con.execute(f"CREATE TEMP TABLE cells AS {sql}")
            out["cells"] = con.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
        else:
            out["cells"] = len(con.sql(sql).df())
    elif step == "reduce":
        with as_source(folder) as src:
            acct = row_accounting(src, KEYS, "orders", "clicks")
            cells = cluster_pattern_totals(
                src, "creator_id", KEYS[1:], "orders", "clicks", complete=KEYS
            )
        out.update(rows=acct.rows, cells=len(cells.cluster), clusters=cells.n_clusters)
    elif step == "fit":
        fit = fit_conversion(folder)
        out.update(
            params=fit.params.tolist(),
            bse=fit.bse.tolist(),
            cov_type=fit.cov_type,
            patterns=fit.n_patterns,
            clusters=fit.n_clusters,
            rows=fit.n_rows,
        )
    elif step == "pandas":
        frame = pd.read_parquet(files, columns=COLUMNS)
        fit = fit_conversion(frame)
        out.update(params=fit.params.tolist(), bse=fit.bse.tolist())
    elif step == "spark":
        out.update(_spark_fit(folder))
    out["cpu_s"] = time.process_time() - t_cpu
    out["wall_s"] = time.perf_counter() - t_wall
    out["peak_rss_mib"] = _peak_rss_mib()
    out["import_rss_mib"] = base_rss
    return out


def _spark_fit(folder: Path) -> dict[str, Any]:
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    from helpers.conversion import fit_conversion

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("linkstar-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    gateway = SparkContext._gateway
    try:
        sdf = spark.read.parquet(str(folder))
        t0 = time.perf_counter()
        fit = fit_conversion(sdf)
        return {
            "params": fit.params.tolist(),
            "bse": fit.bse.tolist(),
            "spark_fit_wall_s": time.perf_counter() - t0,
        }
    finally:
        spark.stop()
        if gateway is not None:
            gateway.shutdown()
            if getattr(gateway, "proc", None) is not None:
                gateway.proc.terminate()
                gateway.proc.wait(timeout=60)


def _run(step: str, folder: Path) -> dict[str, Any]:
    """``_measure`` in a fresh interpreter (its own peak RSS)."""
    cmd = [sys.executable, "-m", "bench.bench_scale", "--step", step, "--data", str(folder)]
    proc = subprocess.run(
        cmd,
        timeout=1800,
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if proc.returncode:
        raise RuntimeError(f"step {step} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _spark_available() -> bool:
    import importlib.util
    import os

    has_java = shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))
    return importlib.util.find_spec("pyspark") is not None and has_java


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print figures and ratios; return 1 when a target is missed."""
    parser = argparse.ArgumentParser(prog="bench_scale", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M rows instead of 10M")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=None, help="dataset folder (reused)")
    parser.add_argument("--pandas", action="store_true", help="also time the pandas path")
    parser.add_argument("--step", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(list(argv) if argv is not None else None)
    rows = args.rows or (1_000_000 if args.quick else 10_000_000)
    folder = args.data or Path(f"/tmp/linkstar-bench/rows-{rows}-seed{args.seed}")
    if args.step:  # child process: one measurement, one JSON line
        print(json.dumps(_measure(args.step, folder)))
        return 0
    if not folder.exists():
        _generate(folder, rows, min(args.chunk, rows), args.seed)
    size = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20
    print(f"  dataset: {folder} ({rows:,} rows, {size:,.0f} MiB Parquet)", flush=True)
    steps = ["bare", "bare+fetch", "reduce", "fit"] + (["pandas"] if args.pandas else [])
    res = {}
    for s in steps:
        res[s] = r = _run(s, folder)
        print(
            f"  {s:<11} cpu {r['cpu_s']:7.2f} s  wall {r['wall_s']:7.2f} s  peak RSS "
            f"{r['peak_rss_mib']:7,.0f} MiB (after imports {r['import_rss_mib']:,.0f})",
            flush=True,
        )
    bare, fit = res["bare"], res["fit"]
    layer = res["reduce"]["cpu_s"] / bare["cpu_s"]
    python_part = fit["cpu_s"] - res["reduce"]["cpu_s"]
    print(
        f"  {fit['rows']:,} rows, {res['reduce']['cells']:,} creator x pattern cells, "
        f"{fit['patterns']} patterns, {fit['clusters']:,} creators, cov {fit['cov_type']}"
    )
    print(
        f"  layer / bare DuckDB query (CPU): {layer:.2f}x; fit / bare: "
        f"{fit['cpu_s'] / bare['cpu_s']:.2f}x (Python statistics {python_part:.2f} s CPU); "
        f"layer / bare+fetch: {res['reduce']['cpu_s'] / res['bare+fetch']['cpu_s']:.2f}x"
    )
    if "pandas" in res:
        p = res["pandas"]
        print(
            f"  pandas path / Parquet fit: {p['cpu_s'] / fit['cpu_s']:.2f}x CPU, "
            f"{p['peak_rss_mib'] / fit['peak_rss_mib']:.1f}x peak RSS"
        )
    if _spark_available():
        s = _run("spark", folder)
        d = max(abs(a - b) for a, b in zip(s["params"], fit["params"], strict=True))
        print(
            f"  spark (local[2]) fit wall {s['spark_fit_wall_s']:.1f} s vs DuckDB "
            f"{fit['wall_s']:.1f} s: {s['spark_fit_wall_s'] / fit['wall_s']:.1f}x; "
            f"max |d params| {d:.1e}"
        )
    else:
        print("  spark: skipped (needs pyspark, requirements-spark.txt, and a Java runtime)")
    ok = layer <= 1.0
    print("targets met" if ok else "TARGET MISSED: reduction layer > 1.0x the bare query")
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    raise SystemExit(main())
