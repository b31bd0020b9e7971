"""The validated dataset: exports are read and validated once, then read back fast.

A report run calls :func:`build_dataset` once: the exports named by the data spec are
read, validated and written as ``dataset.parquet`` (the canonical frame, key columns as
categoricals), ``rejected.parquet`` (the offending input rows with file, row and reason)
and ``dataset.json`` (the row accounting and the spec used) into the run folder. Every
notebook then calls :func:`load_dataset` on that folder and gets the same
:class:`~helpers.load.LoadResult` back without touching a raw export, so options given
once (``date_format``, ``column_map``, tiers ...) hold in every notebook.

In JupyterLab, :func:`load_dataset` on a folder, a file or a spec keeps the validated
dataset in a cache keyed by the files' bytes and the spec (:data:`helpers.paths.CACHE`),
so a second call on unchanged files only reads Parquet.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers import paths
from helpers.errors import ExportError
from helpers.io.spec import DataSpec

__all__ = [
    "DATA_FILE",
    "MANIFEST",
    "REJECTED_FILE",
    "build_dataset",
    "is_prepared",
    "load_dataset",
    "read_prepared",
]

MANIFEST = "dataset.json"
DATA_FILE = "dataset.parquet"
REJECTED_FILE = "rejected.parquet"
#: Bumped when the canonical frame's layout changes, so stale caches are not reused.
FORMAT_VERSION = 1

_ROLE_ORDER = ("videos", "creators", "products")


def is_prepared(path: str | Path) -> bool:
    """True when ``path`` is a folder written by :func:`build_dataset`."""
    p = Path(path)
    return p.is_dir() and (p / MANIFEST).is_file() and (p / DATA_FILE).is_file()


def load_dataset(
    source: str | Path | Mapping[str, Any] | DataSpec = "data/sample",
    *,
    cache: bool = True,
    **options: Any,
) -> Any:
    """Load the data a notebook analyses, validated once and cached.

    Parameters
    ----------
    source : str, Path, mapping or DataSpec
        A prepared dataset folder (from a report run), a folder of exports (with an
        optional ``data.yaml``), one export file, a data spec YAML file, a params file
        with a ``data:`` block, or the spec as a mapping.
    cache : bool
        Keep the validated dataset in :data:`helpers.paths.CACHE`, keyed by the files'
        bytes and the spec, and reuse it while neither changes.
    **options
        Spec keys that override the spec (``site``, ``column_map``, ``tiers``,
        ``date_format``, ``currency``, ``commission_scale``, ``orders_above_clicks``,
        ``encoding``, ``sheet``, ``period``).

    Returns
    -------
    helpers.load.LoadResult
        ``.data``, ``.rejected`` and ``.summary`` (rows read = kept + rejected).

    Raises
    ------
    ExportError
        A spec or export that cannot be read as it is; the message says how to fix it.
    """
    if isinstance(source, (str, Path)) and is_prepared(paths.resolve(source)) and not options:
        return read_prepared(paths.resolve(source))
    spec = _spec_of(source, options)
    if not cache:
        return _read_exports(spec)
    # The files left out of a folder are named in the notes: they are part of the key.
    listing = ";".join(sorted(f"{path.name}:{why}" for path, why in spec.skipped()))
    folder = paths.CACHE / spec.fingerprint(salt=f"{_loader_version()}|{listing}")
    if not is_prepared(folder):
        _write_prepared(_read_exports(spec), spec, folder)
    return read_prepared(folder)


@functools.cache
def _loader_version() -> str:
    """A hash of the loader's own source: a changed loader never serves a stale cache."""
    here = Path(__file__).resolve().parent
    sources = [here.parent / "load.py", here.parent / "schema.py", *sorted(here.glob("*.py"))]
    digest = hashlib.sha256(f"dataset-v{FORMAT_VERSION}".encode())
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def build_dataset(
    source: str | Path | Mapping[str, Any] | DataSpec,
    out_dir: str | Path,
    **options: Any,
) -> Path:
    """Read and validate the exports once and write the run's dataset folder.

    Parameters
    ----------
    source : str, Path, mapping or DataSpec
        As in :func:`load_dataset`.
    out_dir : str or Path
        The folder to write (created; it must not hold a dataset already).
    **options
        Spec keys that override the spec, as in :func:`load_dataset`.

    Returns
    -------
    Path
        ``out_dir``, now holding ``dataset.parquet``, ``rejected.parquet`` and
        ``dataset.json``.
    """
    spec = _spec_of(source, options)
    out = Path(out_dir)
    _write_prepared(_read_exports(spec), spec, out)
    return out


def read_prepared(folder: str | Path) -> Any:
    """Read a dataset folder written by :func:`build_dataset` (no validation again).

    The data file is trusted as the kit wrote it (its dictionaries are the categories,
    unique and in order) once its schema matches the fingerprint in the manifest; a
    folder from an older kit (no fingerprint) is read with the ordinary checks.

    Parameters
    ----------
    folder : str or Path
        The dataset folder.

    Returns
    -------
    helpers.load.LoadResult
    """
    from helpers.load import LoadResult, LoadSummary

    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    data = _read_data(folder / DATA_FILE, manifest)
    rejected = _read_table(folder / REJECTED_FILE).to_pandas()
    summary = _summary_from_dict(LoadSummary, manifest["summary"])
    result = LoadResult(data, rejected, summary)
    result.spec = manifest.get("spec", {})
    result.folder = folder
    return result


# ----------------------------------------------------------------------------- steps


def _spec_of(source: Any, options: Mapping[str, Any]) -> DataSpec:
    spec = source if isinstance(source, DataSpec) else DataSpec.resolve(source)
    return spec.override(**options) if options else spec


def _read_exports(spec: DataSpec) -> Any:
    """Read the spec's files into one LoadResult, then apply the spec's period."""
    from helpers import load

    roles, skipped = _classify(spec)
    # Only the options the spec sets: the loader's own defaults stay in one place.
    kwargs = {k: v for k, v in spec.loader_kwargs().items() if v is not None}
    if kwargs.get("orders_above_clicks") == "reject":
        del kwargs["orders_above_clicks"]
    videos = roles["videos"]
    if not roles["creators"] and not roles["products"] and len(videos) == 1:
        result = load.read_export(videos[0], **kwargs)
    else:
        result = load.assemble(
            videos, roles["creators"] or None, roles["products"] or None, **kwargs
        )
    result.summary.notes.extend(f"skipped {name}: {why}" for name, why in skipped)
    return _apply_period(result, spec)


def _classify(spec: DataSpec) -> tuple[dict[str, list[Any]], list[tuple[str, str]]]:
    """Sort the spec's files into videos / creators / products exports."""
    from helpers import load

    roles: dict[str, list[Any]] = {r: [] for r in _ROLE_ORDER}
    skipped = [(path.name, why) for path, why in spec.skipped()]
    options = spec.loader_kwargs()
    entries = spec.entries()
    for entry in entries:
        role = entry.role or load.export_role(
            entry.path, options["column_map"], options["encoding"], sheet=entry.sheet
        )
        if role is None and len(entries) == 1:
            role = "videos"  # one file: the content rows, whatever its name
        if role is None:
            skipped.append(
                (entry.path.name, "not recognised as a video, creator or product export")
            )
        else:
            roles[role].append(entry)  # the entry carries its own sheet
    if not roles["videos"]:
        listing = [p.name for p in spec.files()] + [name for name, _ in skipped]
        raise ExportError(
            f"{spec.origin}: no video export among {sorted(set(listing))}. A video export holds "
            "the content rows (impressions, clicks, orders or GMV). Fix: name it in data.yaml "
            "with its role, e.g.\nfiles:\n  - {path: my_export.csv, role: videos}"
        )
    return roles, skipped


def _apply_period(result: Any, spec: DataSpec) -> Any:
    """Keep the rows of the spec's period; the others are counted as outside it."""
    if spec.period is None:
        return result
    data = result.data
    label = _period_label(spec.period)
    if "date" not in data.columns or data["date"].isna().all():
        result.summary.notes.append(
            f"period {label} asked for, but the export has no dates: every row is treated as "
            "one period"
        )
        return result
    dates = data["date"]
    start, end = spec.period.bounds(dates.max().date())
    inside = dates.notna().to_numpy(copy=True)
    if start is not None:
        inside &= (dates >= pd.Timestamp(start)).to_numpy(dtype=bool, na_value=False)
    if end is not None:
        inside &= (dates <= pd.Timestamp(end)).to_numpy(dtype=bool, na_value=False)
    if inside.all():
        return result
    return _move_to_rejected(
        result, ~inside, f"outside period ({start or '...'} to {end or '...'})"
    )


def _period_label(period: Any) -> str:
    return ", ".join(f"{k}: {v}" for k, v in period.to_dict().items())


def _move_to_rejected(result: Any, mask: np.ndarray, reason: str) -> Any:
    """Move kept rows to the rejected ones with ``reason``, keeping the accounting."""
    from helpers.load import LoadResult

    data, summary = result.data, result.summary
    moved = data.loc[mask]
    rows = pd.DataFrame(
        {
            "file": _column_or(moved, "source_file", summary.file).astype("string"),
            "row": _column_or(moved, "source_row", pd.NA).astype("Int64"),
            "reason": reason,
        }
    )
    kept = data.loc[~mask].reset_index(drop=True)
    rejected = pd.concat([result.rejected, rows], ignore_index=True)
    summary.rows_kept = len(kept)
    summary.rows_rejected += int(mask.sum())
    kind = reason.split(" (", 1)[0]
    summary.rejected_by_reason[kind] = summary.rejected_by_reason.get(kind, 0) + int(mask.sum())
    summary.__post_init__()
    return LoadResult(kept, rejected, summary)


def _column_or(frame: pd.DataFrame, column: str, default: Any) -> pd.Series:
    if column in frame.columns:
        return frame[column].astype(object)
    return pd.Series([default] * len(frame), index=frame.index, dtype=object)


# ------------------------------------------------------------------------ Parquet I/O


def _write_prepared(result: Any, spec: DataSpec, folder: Path) -> None:
    """Write the dataset atomically: a half-written cache entry is never read."""
    import pyarrow.parquet as pq

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        result.data.to_parquet(tmp / DATA_FILE, index=False)
        _text_frame(result.rejected).to_parquet(tmp / REJECTED_FILE, index=False)
        manifest = {
            "format_version": FORMAT_VERSION,
            "rows": len(result.data),
            # What read_prepared checks before it trusts the file (no validation again).
            "schema_fingerprint": _schema_fingerprint(pq.read_schema(tmp / DATA_FILE)),
            "columns": list(map(str, result.data.columns)),
            "summary": result.summary.to_dict(),
            "spec": spec.to_dict(),
        }
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _text_frame(rejected: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows as text (their raw cells mix types), row numbers as integers."""
    out = rejected.copy()
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        if c == "row":
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("Int64")
        else:
            out[c] = out[c].astype("string")
    return out


def _read_table(path: Path) -> Any:
    """The Parquet file as an Arrow table (one file: no dataset discovery)."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        return pf.read(use_pandas_metadata=True)


def _schema_fingerprint(schema: Any) -> str:
    """A hash of the Arrow schema (names, types, dictionary order flags), without the
    key-value metadata."""
    return hashlib.sha256(schema.remove_metadata().to_string().encode()).hexdigest()


def _read_data(path: Path, manifest: Mapping[str, Any]) -> pd.DataFrame:
    """The dataset as written: key columns come back as categoricals straight from the
    Parquet dictionaries, timestamps in the canonical unit (cast in Arrow)."""
    from helpers.io.categorical import table_to_frame

    table = _read_table(path)
    expected = manifest.get("schema_fingerprint")
    if expected is not None and (
        _schema_fingerprint(table.schema) != expected or table.num_rows != manifest.get("rows")
    ):
        raise ExportError(
            f"{path}: the file does not match {path.parent / MANIFEST} (changed after the "
            "run wrote it). Fix: run the report again, or build the folder again with "
            "helpers.io.dataset.build_dataset(exports, folder)."
        )
    return table_to_frame(_canonical_units(table), trusted=expected is not None)


def _canonical_units(table: Any) -> Any:
    """Parquet stores timestamps in milliseconds at least: cast back to the canonical
    unit in Arrow (one pass, no pandas copy). Whole seconds are exact (safe cast)."""
    import pyarrow as pa

    from helpers.schema import CANONICAL_COLUMNS

    for name, column in CANONICAL_COLUMNS.items():
        if name not in table.column_names or not column.dtype.startswith("datetime64["):
            continue
        unit = column.dtype[len("datetime64[") : -1]
        i = table.column_names.index(name)
        typ = table.schema.field(i).type
        if pa.types.is_timestamp(typ) and typ.unit != unit:
            table = table.set_column(i, name, table.column(i).cast(pa.timestamp(unit, typ.tz)))
    return table


def _summary_from_dict(cls: type, d: Mapping[str, Any]) -> Any:
    fields = {k: v for k, v in d.items() if k in cls.__dataclass_fields__ and k != "parts"}
    parts = [_summary_from_dict(cls, p) for p in d.get("parts", [])]
    return cls(**fields, parts=parts)
