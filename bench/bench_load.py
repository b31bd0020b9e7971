"""Benchmark of the export loader (:mod:`helpers.load`).

Builds Seller Center style exports from :func:`helpers.synth.make_affiliate_data`
(English headers, UTF-8 with BOM, "$1,234.56" / "£980.00" / "Rp 1,234.56" money in each
row's site currency, "1,234" counts, "15%" rates,
MM/DD/YYYY dates) with a vectorised writer, then times, each in a fresh Python process:

* ``raw``: ``pyarrow.csv.read_csv`` of the video CSV, every column as string (the floor:
  reading bytes into Arrow, no parsing or validation);
* ``read_export``: one self-contained video CSV (tier from followers, category and
  commission rate in the file) -> canonical frame, validated;
* ``load_dataset``: a folder with videos.csv, creators.csv and products.csv (joined);
* ``parquet``: ``read_export`` of the canonical frame saved as Parquet (fast path);
* ``pq_read_table``: ``pyarrow.parquet.read_table`` of that file (the Parquet floor);
* ``duckdb``: a DuckDB parse of the video CSV into the same canonical frame (explicit
  text columns, SQL for "$1,234.56", "1,234", "15%", "--" and MM/DD/YYYY, tiers from
  followers, key columns as categoricals) - what a hand-written engine query costs;
* ``dataset``: reading a run's validated dataset back (:func:`helpers.load_dataset` on
  the folder :func:`helpers.io.dataset.build_dataset` wrote), what every notebook does.

Every child imports its modules (pandas, pyarrow.parquet and pyarrow.dataset, the
loader) before the clock starts: the ratios compare reading work, not imports. Wall
time with ``time.perf_counter`` (CPU time of all threads shown beside it); peak memory as the child's peak resident set size
(psutil, sampled every 5 ms) minus its resident size after imports. Ratios: loader time over the raw
Arrow read, and peak memory over the CSV size. Targets (issue 9): validated Parquet read
<= 2x ``pq_read_table``; CSV ``read_export`` <= 1.5x ``duckdb``.

Run: ``python -m bench --only load`` (``--quick`` for 50k rows), or
``python -m bench.bench_load --rows 1000000 --repeat 3`` (fastest of 3 fresh processes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from helpers.schema import SITES

__all__ = ["main", "write_exports_fast"]

ROOT = Path(__file__).resolve().parent.parent


def _money(values: pd.Series, site: pd.Series) -> pd.Series:
    """ "$1,234.56" on US rows, "£1,234.56" on UK rows, ...: each row in its site's
    currency (a sign that contradicts the site is rejected by the loader)."""
    symbol = site.astype(object).map(
        {
            code: info.symbol + (" " if info.symbol[-1].isalpha() else "")
            for code, info in SITES.items()
        }
    )
    return symbol + values.astype("float64").map("{:,.2f}".format)


def _count(values: pd.Series) -> pd.Series:
    s = values.astype("Int64")
    return s.map("{:,}".format, na_action="ignore").astype(object).where(s.notna(), "--")


def write_exports_fast(df: pd.DataFrame, folder: Path) -> dict[str, Path]:
    """Write ``df`` (canonical frame) as a self-contained video CSV plus a
    videos/creators/products trio, quickly (vectorised formatting)."""
    folder.mkdir(parents=True, exist_ok=True)
    videos = pd.DataFrame(
        {
            "Video ID": df["content_id"].astype(object),
            "Post date": pd.to_datetime(df["date"]).dt.strftime("%m/%d/%Y"),
            "Creator name": df["creator_id"].astype(object),
            "Product ID": df["product_id"].astype(object),
            "Site": df["site"].astype(object),
            "Content type": df["content_type"].astype(object),
            "Creator video-attributed GMV": _money(df["gmv"], df["site"]),
            "Video-attributed orders": _count(df["orders"]),
            "Video-attributed items sold": _count(df["items_sold"]),
            "Refunds": _money(df["refunds"], df["site"]),
            "Est. commission": _money(df["commission_paid"], df["site"]),
            "Video views": _count(df["video_views"]),
            "Video product impressions": _count(df["impressions"]),
            "Video product clicks": _count(df["clicks"]),
        }
    )
    full = videos.assign(
        Followers=_count(df["followers"]),
        Category=df["category"].astype(object),
        **{"Commission rate": (df["commission_rate"] * 100).round(4).map("{:g}%".format)},
    )
    out = {
        "single": folder / "single" / "video_export.csv",
        "parquet": folder / "canonical.parquet",
    }
    out["single"].parent.mkdir(exist_ok=True)
    full.to_csv(out["single"], index=False, encoding="utf-8-sig")
    df.to_parquet(out["parquet"])
    trio = folder / "trio"
    trio.mkdir(exist_ok=True)
    videos.to_csv(trio / "videos.csv", index=False, encoding="utf-8-sig")
    cre = df[["creator_id", "site", "followers"]].drop_duplicates(["creator_id", "site"])
    pd.DataFrame(
        {
            "Creator name": cre["creator_id"].astype(object),
            "Site": cre["site"].astype(object),
            "Followers": _count(cre["followers"]),
        }
    ).to_csv(trio / "creators.csv", index=False, encoding="utf-8-sig")
    prod = df[["product_id", "site", "category", "commission_rate"]].drop_duplicates(
        ["product_id", "site"]
    )
    pd.DataFrame(
        {
            "Product ID": prod["product_id"].astype(object),
            "Category": prod["category"].astype(object),
            "Commission rate": (prod["commission_rate"] * 100).round(4).map("{:g}%".format),
            "Site": prod["site"].astype(object),
        }
    ).to_csv(trio / "products.csv", index=False, encoding="utf-8-sig")
    out["trio"] = trio
    return out


def _child(mode: str, path: str) -> None:
    """Run one measurement in this (fresh) process and print JSON."""
    import threading

    import pandera.pandas  # noqa: F401  (imported lazily by the loader; not timed)
    import psutil
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.dataset  # read_table's layer: 0.7 s to import, not timed
    import pyarrow.parquet as pq

    from helpers.io.dataset import read_prepared
    from helpers.load import load_dataset, read_export

    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = [base]
    stop = threading.Event()

    def sample() -> None:
        # ru_maxrss is inherited from the parent across fork/exec, so sample instead.
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            stop.wait(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    cpu_start = time.process_time()
    if mode == "raw":
        import csv

        with open(path, encoding="utf-8-sig", newline="") as fh:
            names = next(csv.reader(fh))
        table = pcsv.read_csv(
            path, convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names})
        )
        rows, kept = table.num_rows, table.num_rows
    elif mode == "load_dataset":
        r = load_dataset(path)
        rows, kept = r.summary.rows_read, r.summary.rows_kept
    elif mode == "pq_read_table":
        rows = kept = pq.read_table(path).num_rows
    elif mode == "duckdb":
        frame = duckdb_canonical(path)
        rows = kept = len(frame)
    elif mode == "dataset":
        r = read_prepared(path)
        rows, kept = r.summary.rows_read, r.summary.rows_kept
    else:
        r = read_export(path)
        rows, kept = r.summary.rows_read, r.summary.rows_kept
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    stop.set()
    sampler.join()
    top = max(peak[0], proc.memory_info().rss)
    result = {
        "seconds": seconds,
        "cpu": cpu,
        "rows": rows,
        "kept": kept,
        "peak_mb": (top - base) / 2**20,
    }
    print(json.dumps(result))


_MONEY_SQL = "TRY_CAST(NULLIF(regexp_replace(\"{c}\", '[$,\\s]', '', 'g'), '--') AS DOUBLE)"
_COUNT_SQL = "TRY_CAST(NULLIF(replace(\"{c}\", ',', ''), '--') AS BIGINT)"


def duckdb_canonical(path: str | Path) -> pd.DataFrame:
    """The self-contained video CSV parsed by DuckDB into the canonical frame.

    Every column is read as text (DuckDB's type sniffing fails on "1,065" further down)
    and parsed in SQL; no validation beyond the casts. The reference the loader's CSV
    path is measured against.
    """
    import duckdb

    from helpers.schema import DEFAULT_TIER_THRESHOLDS, TIER_DTYPE

    money = {
        "gmv": "Creator video-attributed GMV",
        "refunds": "Refunds",
        "commission_paid": "Est. commission",
    }
    counts = {
        "orders": "Video-attributed orders",
        "items_sold": "Video-attributed items sold",
        "video_views": "Video views",
        "impressions": "Video product impressions",
        "clicks": "Video product clicks",
        "followers": "Followers",
    }
    bounds = list(DEFAULT_TIER_THRESHOLDS.values())
    select = [
        '"Site" AS site',
        "strptime(\"Post date\", '%m/%d/%Y')::DATE AS date",
        '"Creator name" AS creator_id',
        '"Product ID" AS product_id',
        '"Video ID" AS content_id',
        '"Content type" AS content_type',
        '"Category" AS category',
        "TRY_CAST(rtrim(\"Commission rate\", '%') AS DOUBLE) / 100 AS commission_rate",
        *(f"{_MONEY_SQL.format(c=col)} AS {name}" for name, col in money.items()),
        *(f"{_COUNT_SQL.format(c=col)} AS {name}" for name, col in counts.items()),
    ]
    tier = " ".join(
        f"WHEN followers >= {b} THEN {len(bounds) - i}" for i, b in enumerate(reversed(bounds))
    )
    query = (
        f"SELECT *, CASE {tier} WHEN followers >= 0 THEN 0 END AS tier_code FROM ("
        f"SELECT {', '.join(select)} FROM read_csv(?, all_varchar = true, header = true))"
    )
    con = duckdb.connect()
    frame = con.execute(query, [str(path)]).df()
    codes = frame.pop("tier_code").fillna(-1).astype("int8").to_numpy()
    frame["tier"] = pd.Categorical.from_codes(codes, dtype=TIER_DTYPE)
    for c in ("site", "creator_id", "product_id", "content_id", "content_type", "category"):
        frame[c] = frame[c].astype("category")
    return frame


def _measure(mode: str, path: Path, repeat: int = 1) -> dict[str, float]:
    """Best (fastest) of ``repeat`` fresh-process runs: the machine is shared and noisy."""
    runs = [_measure_once(mode, path) for _ in range(max(1, repeat))]
    return min(runs, key=lambda r: r["seconds"])


def _measure_once(mode: str, path: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_load", "--child", mode, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench child {mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    """Print loader timings and ratios; returns 0."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_load", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50k rows instead of 1M")
    parser.add_argument("--rows", type=int, default=None, help="rows of the video export")
    parser.add_argument(
        "--repeat", type=int, default=1, help="fresh-process runs per step; the fastest is shown"
    )
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    from helpers.synth import make_affiliate_data

    n = args.rows or (50_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        t0 = time.perf_counter()
        df = make_affiliate_data(n, seed=0).data
        files = write_exports_fast(df, Path(tmp))
        print(f"rows: {n:,}; exports written in {time.perf_counter() - t0:.1f} s")
        size_mb = files["single"].stat().st_size / 2**20
        print(f"self-contained video CSV: {size_mb:.1f} MB")
        res = {
            "raw": _measure("raw", files["single"], args.repeat),
            "read_export": _measure("read_export", files["single"], args.repeat),
            "load_dataset": _measure("load_dataset", files["trio"], args.repeat),
            # Reads of about a second: one run is mostly noise on a shared machine, so
            # both sides of the Parquet ratios take the fastest of at least 3.
            "parquet": _measure("parquet", files["parquet"], max(3, args.repeat)),
            "pq_read_table": _measure("pq_read_table", files["parquet"], max(3, args.repeat)),
            "duckdb": _measure("duckdb", files["single"], args.repeat),
        }
        from helpers.io.dataset import build_dataset

        prepared = build_dataset(files["single"], Path(tmp) / "prepared")
        res["dataset"] = _measure("dataset", prepared, max(3, args.repeat))
    raw_s = res["raw"]["seconds"]
    print(
        f"{'step':<14}{'seconds':>9}{'cpu s':>7}{'rows/s':>13}{'kept':>11}{'peak MB':>9}{'x raw':>7}{'MB/CSV MB':>11}"
    )
    for name, r in res.items():
        print(
            f"{name:<14}{r['seconds']:>9.2f}{r['cpu']:>7.2f}{r['rows'] / max(r['seconds'], 1e-9):>13,.0f}{r['kept']:>11,}"
            f"{r['peak_mb']:>9.0f}{r['seconds'] / raw_s:>7.1f}{r['peak_mb'] / size_mb:>11.1f}"
        )
    assert res["read_export"]["kept"] == n and res["load_dataset"]["kept"] == n, "rows lost"
    return _targets(res)


def _targets(res: Mapping[str, Mapping[str, float]]) -> int:
    """Print the issue's ratios against limits measured in this run; 1 if one is missed."""
    checks = [
        ("validated Parquet read / pq.read_table", "parquet", "pq_read_table", 2.0),
        ("run dataset read / pq.read_table", "dataset", "pq_read_table", 2.0),
        ("CSV read_export / DuckDB canonical parse", "read_export", "duckdb", 1.5),
    ]
    missed = 0
    for label, num, den, limit in checks:
        ratio = res[num]["seconds"] / res[den]["seconds"]
        ok = ratio <= limit
        missed += not ok
        # CPU seconds (all threads) for reference: the limit is on wall time.
        cpu = res[num]["cpu"] / res[den]["cpu"]
        print(f"{label}: {ratio:.2f}x (limit {limit}x) {'ok' if ok else 'MISSED'} [cpu {cpu:.2f}x]")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
