"""The data spec: a small YAML file that says how to read a dataset.

A spec is a ``data.yaml`` in the data folder, a ``data:`` block in a params file, or a
dict. Every key maps onto a keyword of :func:`helpers.load.read_export` /
:func:`helpers.load.assemble` (see :meth:`DataSpec.loader_kwargs`), except ``files``
(what to read), ``site_column`` (merged into ``column_map``) and ``period`` (applied by
the caller after loading)::

    files: ["videos_*.csv", {path: creators.xlsx, sheet: Creators, role: creators}]
    site: US                    # or site_column: Region
    currency: USD
    encoding: latin-1
    column_map: {Ad Set: creator_id, Approved_Conversion: orders, Age: age_band}
    date_format: "%m/%d/%Y"
    tiers: {thresholds: [10000, 100000, 500000, 1000000]}  # or {labels: [18-24, 25-34]}
    commission_scale: percent   # fraction | percent | api
    orders_above_clicks: keep   # reject (default) | keep
    period: {start: 2026-11-01, end: 2026-11-30}          # or {last: 4w}
    sheet: 0                    # default XLSX sheet (name or 0-based index)

Relative paths in a spec file are taken from the spec's folder; in a dict or a params
file's ``data:`` block, from the repo root (as the params file's ``data: data/sample``).
Every validation error is a :class:`SpecError` (a subclass of
:class:`helpers.errors.ExportError`) that names the spec and the key and shows the fix
as YAML.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import difflib
import glob
import hashlib
import json
import keyword
import math
import os
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from helpers import paths
from helpers.errors import ExportError, ParameterError
from helpers.io.readers import FILE_KINDS, list_data_files, skip_reason
from helpers.schema import CANONICAL_COLUMNS, SITES, TIERS

__all__ = [
    "COMMISSION_SCALES",
    "DATA_SUFFIXES",
    "ORDERS_ABOVE_CLICKS",
    "ROLES",
    "SPEC_KEYS",
    "SPEC_NAMES",
    "DataSpec",
    "FileEntry",
    "Period",
    "SpecError",
    "SpecFile",
]

SPEC_KEYS: tuple[str, ...] = (
    "files",
    "site",
    "site_column",
    "currency",
    "encoding",
    "column_map",
    "date_format",
    "tiers",
    "commission_scale",
    "orders_above_clicks",
    "period",
    "sheet",
)
"""Keys a spec accepts."""

FILE_KEYS: tuple[str, ...] = ("path", "sheet", "role")
ROLES: tuple[str, ...] = ("videos", "creators", "products")
COMMISSION_SCALES: tuple[str, ...] = ("fraction", "percent", "api")
ORDERS_ABOVE_CLICKS: tuple[str, ...] = ("reject", "keep")
TIER_KEYS: tuple[str, ...] = ("thresholds", "labels")
PERIOD_KEYS: tuple[str, ...] = ("start", "end", "last")
SPEC_NAMES: tuple[str, ...] = ("data.yaml", "data.yml")
"""File names of a folder's spec."""

DATA_SUFFIXES: frozenset[str] = frozenset(FILE_KINDS)
"""Suffixes the readers know (:data:`helpers.io.readers.FILE_KINDS`). Which files of a
folder or a glob are data is decided by :func:`helpers.io.readers.skip_reason`, the same
rule as :func:`helpers.io.readers.list_data_files` (a ``.txt`` file only with an export
header; notes, images, lock and hidden files, ``.xls`` are skipped with a reason)."""

#: Columns the loader adds to every row; a column_map target may not take them.
RESERVED_COLUMNS: tuple[str, ...] = ("source_file", "source_row")
_CURRENCIES: tuple[str, ...] = tuple(sorted({s.currency for s in SITES.values()}))
_SITE_ALIASES: dict[str, str] = {"GB": "UK"}
_LAST = re.compile(r"^\s*(\d+)\s*([dwm])\s*$", re.IGNORECASE)
_CHUNK = 1 << 20


class SpecError(ExportError):
    """A data spec is invalid; the message names the spec, the key and the YAML fix."""


# ---------------------------------------------------------------------------- values


@dataclass(frozen=True)
class _YamlBool:
    """A YAML boolean with the text it was written as (``no``, ``on``, ...)."""

    value: bool
    text: str


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool | _YamlBool)


def _bool_text(value: Any) -> str:
    """How the user probably wrote a boolean: the YAML text when known."""
    return value.text if isinstance(value, _YamlBool) else str(value).lower()


def _type_name(value: Any) -> str:
    if _is_bool(value):
        return "a boolean"
    if value is None:
        return "empty"
    names = {str: "text", int: "a number", float: "a number", list: "a list", dict: "a mapping"}
    return next((n for t, n in names.items() if isinstance(value, t)), type(value).__name__)


class _FlowDumper(yaml.SafeDumper):
    """SafeDumper that writes a YAML boolean as the text the user wrote."""


_FlowDumper.add_representer(_YamlBool, lambda dumper, b: dumper.represent_str(b.text))


def _flow(value: Any) -> str:
    """A value as inline YAML (for the fixes shown in messages)."""
    text = yaml.dump(
        value,
        Dumper=_FlowDumper,
        default_flow_style=True,
        allow_unicode=True,
        width=10_000,
        sort_keys=False,
    )
    return text.removesuffix("\n...\n").strip()


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class _Where:
    """Where a spec comes from, for messages: label and the key path of the block."""

    label: str
    prefix: tuple[str, ...] = ()

    def fix(self, keys: Sequence[str], value: str) -> str:
        """The YAML lines that set ``keys`` (nested, under the block's prefix) to ``value``."""
        lines: list[str] = []
        indent, item = 0, ""
        path = [*self.prefix, *keys]
        for i, key in enumerate(path):
            tail = f" {value}" if i == len(path) - 1 else ""
            if key.startswith("["):  # a list index: the fix is that list item
                item += "- "
                if tail:
                    lines.append("  " * indent + item + value)
                continue
            lines.append("  " * indent + item + f"{key}:" + tail)
            indent += 1 + len(item) // 2
            item = ""
        return "\n".join("    " + line for line in lines)

    def error(
        self,
        keys: Sequence[str],
        problem: str,
        fix: str | None = None,
        *,
        fix_keys: Sequence[str] | None = None,
    ) -> SpecError:
        """A SpecError naming the spec and key; ``fix`` is the value to write there."""
        name = ".".join([*self.prefix, *keys]) or "(top level)"
        msg = f"{self.label}: `{name}`: {problem}"
        if fix is not None:
            msg += f"\nFix in {self.label}:\n{self.fix(fix_keys or keys, fix)}"
        return SpecError(msg)

    def bool_trap(self, keys: Sequence[str], value: Any, fix: str, what: str = "") -> SpecError:
        """The YAML yes/no/on/off trap: say what happened and to quote the value."""
        text = _bool_text(value)
        truth = str(bool(getattr(value, "value", value))).lower()
        return self.error(
            keys,
            f"YAML read `{text}` as the boolean {truth} (unquoted yes/no/on/off/true/false "
            f"are booleans in YAML). {what or 'Quote the value.'}",
            fix,
        )


def _suggest(word: str, choices: Sequence[str], cutoff: float = 0.6) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f" Did you mean {close[0]!r}?" if close else ""


def _check_keys(
    where: _Where, keys: Sequence[str], mapping: Mapping, accepted: Sequence[str]
) -> None:
    """Every key of ``mapping`` is text and among ``accepted`` (else: did you mean ...)."""
    for key, value in mapping.items():
        if isinstance(key, str) and key in accepted:
            continue
        text = _bool_text(key) if _is_bool(key) else str(key)
        close = difflib.get_close_matches(text, list(accepted), n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        if _is_bool(key):
            hint = f" (YAML read `{text}` as a boolean key; quote keys like it.){hint}"
        raise where.error(
            [*keys, text],
            f"unknown key.{hint} Accepted keys: {', '.join(accepted)}.",
            _flow(value) if close else None,
            fix_keys=[*keys, close[0]] if close else None,
        )


def _choice(where: _Where, keys: Sequence[str], value: Any, accepted: Sequence[str]) -> str:
    """One of ``accepted`` (case-insensitive), else an error listing them."""
    if _is_bool(value):
        what = f"Write one of the accepted values, quoted: {' | '.join(accepted)}."
        guess = accepted[-1] if getattr(value, "value", value) else accepted[0]
        raise where.bool_trap(keys, value, _quoted(guess), what)
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text not in accepted:
        hint = _suggest(str(value), accepted)
        raise where.error(
            keys,
            f"{_flow(value)} is not accepted.{hint} Accepted values: {' | '.join(accepted)}.",
            accepted[0],
        )
    return text


def _text(where: _Where, keys: Sequence[str], value: Any, example: str) -> str:
    """Non-empty text, else an error with ``example`` as the fix."""
    if _is_bool(value):
        raise where.bool_trap(keys, value, _quoted(_bool_text(value)))
    if not isinstance(value, str) or not value.strip():
        raise where.error(keys, f"expected text, got {_type_name(value)}.", example)
    return value.strip()


# ----------------------------------------------------------------------------- files


@dataclass(frozen=True)
class FileEntry:
    """One item of ``files:`` as written: a path or glob, and optionally sheet and role."""

    path: str
    sheet: str | int | None = None
    role: str | None = None

    def to_dict(self) -> str | dict[str, Any]:
        """The item as YAML would hold it (a plain string when it has no options)."""
        if self.sheet is None and self.role is None:
            return self.path
        out: dict[str, Any] = {"path": self.path}
        if self.sheet is not None:
            out["sheet"] = self.sheet
        if self.role is not None:
            out["role"] = self.role
        return out


@dataclass(frozen=True)
class SpecFile:
    """One file to read: absolute path, XLSX sheet (or None = first), role (or None = guess)."""

    path: Path
    sheet: str | int | None = None
    role: str | None = None


def _check_sheet(where: _Where, keys: Sequence[str], value: Any) -> str | int:
    if isinstance(value, int) and not _is_bool(value) and value >= 0:
        return value
    if isinstance(value, str) and value.strip():
        return value
    if _is_bool(value):
        raise where.bool_trap(keys, value, _quoted(_bool_text(value)))
    raise where.error(
        keys,
        f"expected a sheet name or a 0-based sheet number, got {_flow(value)}.",
        "Sheet1   # or 0 for the first sheet",
    )


def _check_file_item(where: _Where, i: int, item: Any) -> FileEntry:
    keys = ["files", f"[{i}]"]
    if isinstance(item, Mapping):
        _check_keys(where, keys, item, FILE_KEYS)
        if "path" not in item:
            fix = _flow({"path": "videos.csv", **item})
            raise where.error(keys, "a file given as a mapping needs `path`.", fix)
        path = _text(where, [*keys, "path"], item["path"], '"videos.csv"')
        sheet = item.get("sheet")
        role = item.get("role")
        return FileEntry(
            path,
            None if sheet is None else _check_sheet(where, [*keys, "sheet"], sheet),
            None if role is None else _choice(where, [*keys, "role"], role, ROLES),
        )
    example = '["videos_*.csv", {path: creators.xlsx, sheet: Creators, role: creators}]'
    if isinstance(item, str) and item.strip():
        return FileEntry(item.strip())
    if _is_bool(item):
        raise where.bool_trap(["files"], item, f"[{_quoted(_bool_text(item))}]")
    raise where.error(
        keys,
        f"expected a path, a glob or a mapping, got {_type_name(item)}.",
        example,
        fix_keys=["files"],
    )


def _check_files(where: _Where, value: Any) -> tuple[FileEntry, ...]:
    if isinstance(value, str | Mapping):
        value = [value]
    if not isinstance(value, list) or not value:
        raise where.error(
            ["files"],
            f"expected a list of paths or globs, got {_type_name(value)}.",
            '["videos_*.csv", creators.csv]',
        )
    return tuple(_check_file_item(where, i, item) for i, item in enumerate(value))


def _glob(base: Path, pattern: str) -> list[Path]:
    expanded = os.path.expanduser(pattern)
    if os.path.isabs(expanded):
        return [Path(p) for p in sorted(glob.glob(expanded, recursive=True))]
    found = glob.glob(expanded, root_dir=base, recursive=True)
    return [base / p for p in sorted(found)]


# ---------------------------------------------------------------------------- period


@dataclass(frozen=True)
class Period:
    """Dates to keep: ``start``/``end`` (inclusive, either may be open) or ``last``.

    ``last`` is ``"<n>d"``, ``"<n>w"`` or ``"<n>m"``: the n days, weeks or calendar
    months that end on the latest date in the data (see :meth:`bounds`).
    """

    start: _dt.date | None = None
    end: _dt.date | None = None
    last: str | None = None

    def bounds(self, latest: _dt.date | None = None) -> tuple[_dt.date | None, _dt.date | None]:
        """Inclusive (start, end); ``latest`` (the data's last date) is needed for ``last``.

        Parameters
        ----------
        latest : date, optional
            The latest date in the data; required when the period is ``last``.

        Returns
        -------
        tuple of (date or None, date or None)
            ``None`` means open on that side.
        """
        if self.last is None:
            return self.start, self.end
        if latest is None:
            raise ParameterError(f"period last: {self.last} needs the latest date in the data")
        n, unit = int(self.last[:-1]), self.last[-1]
        if unit == "d":
            return latest - _dt.timedelta(days=n - 1), latest
        if unit == "w":
            return latest - _dt.timedelta(days=7 * n - 1), latest
        return _months_before(latest, n) + _dt.timedelta(days=1), latest

    def to_dict(self) -> dict[str, str]:
        """``{"start": "2026-11-01", "end": ...}`` or ``{"last": "4w"}`` (set keys only)."""
        if self.last is not None:
            return {"last": self.last}
        out = {"start": self.start, "end": self.end}
        return {k: v.isoformat() for k, v in out.items() if v is not None}


def _months_before(day: _dt.date, n: int) -> _dt.date:
    """The same day ``n`` calendar months earlier (clipped to the month's last day)."""
    month0 = day.year * 12 + day.month - 1 - n
    year, month = divmod(month0, 12)
    for d in range(day.day, 27, -1):
        try:
            return _dt.date(year, month + 1, d)
        except ValueError:
            continue
    return _dt.date(year, month + 1, min(day.day, 28))


def _check_date(where: _Where, key: str, value: Any) -> _dt.date:
    keys = ["period", key]
    if isinstance(value, _dt.datetime):
        if value.time() != _dt.time(0):
            raise where.error(
                keys, f"expected a date, got a time {value}.", value.date().isoformat()
            )
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise where.error(
            keys, f"{_flow(value)} is not an ISO date (YYYY-MM-DD).", "2026-11-01"
        ) from None


def _check_period(where: _Where, value: Any) -> Period:
    example = "{start: 2026-11-01, end: 2026-11-30}   # or {last: 4w}"
    if not isinstance(value, Mapping) or not value:
        raise where.error(["period"], f"expected a mapping, got {_type_name(value)}.", example)
    _check_keys(where, ["period"], value, PERIOD_KEYS)
    if "last" in value:
        if len(value) > 1:
            raise where.error(
                ["period"], "give either `last` or `start`/`end`, not both.", "{last: 4w}"
            )
        match = _LAST.match(str(value["last"])) if isinstance(value["last"], str) else None
        if not match or int(match.group(1)) < 1:
            raise where.error(
                ["period", "last"],
                f"{_flow(value['last'])} is not a duration: a whole number of days, weeks or "
                "months followed by d, w or m (7d, 4w, 1m).",
                "4w",
            )
        return Period(last=f"{int(match.group(1))}{match.group(2).lower()}")
    start = None if value.get("start") is None else _check_date(where, "start", value["start"])
    end = None if value.get("end") is None else _check_date(where, "end", value["end"])
    if start is None and end is None:
        raise where.error(["period"], "give `start`, `end` or both (or `last`).", example)
    if start and end and start > end:
        raise where.error(
            ["period"], f"start {start} is after end {end}.", _flow({"start": end, "end": start})
        )
    return Period(start=start, end=end)


# --------------------------------------------------------------------- other values


def _check_site(where: _Where, value: Any) -> str:
    accepted = f"Accepted: {', '.join(SITES)} (GB is accepted for UK)."
    if _is_bool(value):
        code = _bool_text(value).upper()
        known = "" if code in SITES else f" ({code} is not a known site code either.)"
        what = f"Quote site codes: site: {_quoted(code)}.{known} {accepted}"
        raise where.bool_trap(["site"], value, _quoted(code) if not known else "US", what)
    if not isinstance(value, str):
        raise where.error(
            ["site"], f"expected a site code, got {_type_name(value)}. {accepted}", "US"
        )
    code = _SITE_ALIASES.get(value.strip().upper(), value.strip().upper())
    if code not in SITES:
        hint = _suggest(code, list(SITES))
        raise where.error(["site"], f"{value!r} is not a known site code.{hint} {accepted}", "US")
    return code


def _check_currency(where: _Where, value: Any, site: str | None) -> str:
    accepted = f"Accepted: {', '.join(_CURRENCIES)}."
    code = value.strip().upper() if isinstance(value, str) else None
    if _is_bool(value):
        raise where.bool_trap(["currency"], value, _quoted(_bool_text(value).upper()))
    if code not in _CURRENCIES:
        hint = _suggest(str(code or value), _CURRENCIES)
        raise where.error(
            ["currency"], f"{_flow(value)} is not a known currency code.{hint} {accepted}", "USD"
        )
    if site is not None and SITES[site].currency != code:
        raise where.error(
            ["currency"],
            f"{code} contradicts site {site}, whose currency is {SITES[site].currency}.",
            SITES[site].currency,
        )
    return code


def _check_encoding(where: _Where, value: Any) -> str:
    text = _text(where, ["encoding"], value, "latin-1")
    try:
        codecs.lookup(text)
    except LookupError:
        raise where.error(
            ["encoding"],
            f"{text!r} is not an encoding Python knows (e.g. utf-8, latin-1, cp1252, gb18030).",
            "latin-1",
        ) from None
    return text


def _check_date_format(where: _Where, value: Any) -> str:
    text = _text(where, ["date_format"], value, '"%d/%m/%Y"')
    if not re.search(r"%[A-Za-z]", text):
        raise where.error(
            ["date_format"],
            f"{text!r} has no % directives; write the format with %d (day), %m (month), "
            "%Y (year), %H:%M (time).",
            '"%d/%m/%Y"',
        )
    sample = _dt.datetime(2026, 11, 30, 13, 45, 50)
    try:
        _dt.datetime.strptime(sample.strftime(text), text)
    except ValueError as exc:
        raise where.error(
            ["date_format"], f"{text!r} is not a usable format: {exc}.", '"%d/%m/%Y"'
        ) from None
    return text


def _identifier(header: str) -> str:
    """The identifier the loader would give an extra column (for suggestions)."""
    text = unicodedata.normalize("NFKC", header).lower()
    name = re.sub(r"[^0-9a-z]+", "_", text).strip("_") or "extra"
    if name[0].isdigit():
        name = f"col_{name}"
    return f"{name}_" if keyword.iskeyword(name) else name


def _typo_of(word: str, names: Sequence[str]) -> str | None:
    """The name ``word`` is a likely misspelling of (same length +-1, ratio >= 0.8)."""
    for name in difflib.get_close_matches(word.lower(), list(names), n=3, cutoff=0.8):
        if abs(len(name) - len(word)) <= 1:
            return name
    return None


def _check_target(where: _Where, header: str, target: Any) -> str:
    keys = ["column_map", header]
    if _is_bool(target):
        raise where.bool_trap(keys, target, _quoted(_bool_text(target)))
    if not isinstance(target, str):
        raise where.error(keys, f"expected a column name, got {_type_name(target)}.", "clicks")
    target = target.strip()
    if target in CANONICAL_COLUMNS:
        return target
    canon = list(CANONICAL_COLUMNS)
    close = _typo_of(target, canon)
    if close:
        raise where.error(
            keys,
            f"{target!r} is not a canonical column. Did you mean {close!r}? (To keep the column "
            "under a new name, pick one that is not a near-spelling of a canonical one.)",
            close,
        )
    if target in RESERVED_COLUMNS:
        raise where.error(
            keys,
            f"{target!r} is added by the loader to every row; choose another name.",
            f"{_identifier(header)}_original",
        )
    if not target.isidentifier() or keyword.iskeyword(target):
        raise where.error(
            keys,
            f"{target!r} is neither a canonical column ({', '.join(canon)}) nor a valid "
            "identifier for an extra column (letters, digits and _, not starting with a digit).",
            _identifier(target),
        )
    return target


def _check_column_map(where: _Where, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        raise where.error(
            ["column_map"],
            f"expected a mapping of export header -> column name, got {_type_name(value)}.",
            "{Approved_Conversion: orders, Age: age_band}",
        )
    out: dict[str, str] = {}
    for header, target in value.items():
        if _is_bool(header):
            raise where.bool_trap(["column_map"], header, f"{{{_quoted(_bool_text(header))}: ...}}")
        if not isinstance(header, str) or not header.strip():
            raise where.error(
                ["column_map"],
                f"header {_flow(header)} is not text: quote headers that look like numbers.",
                f"{{{_quoted(str(header))}: {target}}}",
            )
        out[header.strip()] = _check_target(where, header.strip(), target)
    return out


def _check_number(where: _Where, keys: Sequence[str], value: Any) -> int | float:
    if _is_bool(value) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise where.error(
            keys,
            f"expected a positive follower count, got {_flow(value)}.",
            "[10000, 100000, 500000, 1000000]",
            fix_keys=["tiers", "thresholds"],
        )
    return int(value) if float(value).is_integer() and value < 2**63 else float(value)


def _check_thresholds(where: _Where, value: Any) -> tuple[int | float, ...]:
    keys = ["tiers", "thresholds"]
    example = "[10000, 100000, 500000, 1000000]"
    if isinstance(value, Mapping):
        _check_keys(where, keys, value, TIERS[1:])
        if set(value) != set(TIERS[1:]):
            missing = [t for t in TIERS[1:] if t not in value]
            raise where.error(
                keys, f"give a lower bound for every tier above nano; missing {missing}.", example
            )
        value = [value[t] for t in TIERS[1:]]
    if not isinstance(value, list) or len(value) != len(TIERS) - 1:
        raise where.error(
            keys,
            f"expected {len(TIERS) - 1} follower counts (lower bounds of "
            f"{', '.join(TIERS[1:])}), got {_flow(value)}.",
            example,
        )
    numbers = tuple(_check_number(where, [*keys, f"[{i}]"], v) for i, v in enumerate(value))
    if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
        raise where.error(keys, f"thresholds must increase, got {list(numbers)}.", example)
    return numbers


def _check_labels(where: _Where, value: Any) -> tuple[str, ...]:
    keys = ["tiers", "labels"]
    example = '["18-24", "25-34", "35-44", "45-54", "55+"]'
    if not isinstance(value, list) or not value:
        raise where.error(
            keys, f"expected an ordered list of labels, got {_type_name(value)}.", example
        )
    labels: list[str] = []
    for i, label in enumerate(value):
        if _is_bool(label) or not isinstance(label, str) or not label.strip():
            raise where.error(
                [*keys, f"[{i}]"],
                f"label {_flow(label)} is not text (quote labels that YAML reads as numbers, "
                "dates or booleans).",
                _flow([str(v) if not _is_bool(v) else _bool_text(v) for v in value]).replace(
                    "'", '"'
                ),
                fix_keys=keys,
            )
        if label.strip() in labels:
            raise where.error(
                keys, f"label {label!r} appears twice; labels must be distinct.", example
            )
        labels.append(label.strip())
    return tuple(labels)


def _check_tiers(where: _Where, value: Any) -> Mapping[str, tuple]:
    example = "{thresholds: [10000, 100000, 500000, 1000000]}   # or {labels: [18-24, 25-34]}"
    if not isinstance(value, Mapping) or len(value) != 1:
        raise where.error(
            ["tiers"],
            f"expected `thresholds` or `labels` (one of them), got {_flow(value)}.",
            example,
        )
    _check_keys(where, ["tiers"], value, TIER_KEYS)
    if "thresholds" in value:
        return MappingProxyType({"thresholds": _check_thresholds(where, value["thresholds"])})
    return MappingProxyType({"labels": _check_labels(where, value["labels"])})


# ------------------------------------------------------------------------------ YAML


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int, first: int) -> None:
        super().__init__(key)
        self.key, self.line, self.first = key, line, first


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text, remembers how booleans were written and
    refuses duplicate keys (plain YAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        self.flatten_mapping(node)
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, list | dict):
                continue  # SafeConstructor reports unhashable keys itself
            if key in seen:
                raise _DuplicateKey(str(key_node.value), line, seen[key])
            seen[key] = line
        return super().construct_mapping(node, deep)


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecLoader.add_constructor(
    "tag:yaml.org,2002:bool",
    lambda loader, node: _YamlBool(loader.construct_yaml_bool(node), node.value),
)


def _yaml_hint(line: str) -> str:
    """A fix for the usual unquoted-value mistakes on the failing line."""
    if "%" in line:
        return ' Quote date formats: date_format: "%d/%m/%Y".'
    if "*" in line:
        return ' Quote globs (YAML reads * as an alias): files: ["videos_*.csv"].'
    return " Check the indentation, a missing colon or an unquoted value starting with a special character."


def _read_yaml(path: Path, label: str) -> Any:
    """The YAML document of ``path``; every problem is a SpecError naming the file."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(f"{label}: not UTF-8 text. Fix: save the file as UTF-8.") from None
    except OSError as exc:
        raise SpecError(f"{label}: cannot be read ({exc.strerror or exc}).") from None
    loader = _SpecLoader(text)
    loader.name = label
    try:
        return loader.get_single_data()
    except _DuplicateKey as dup:
        raise SpecError(
            f"{label}: key `{dup.key}` appears twice (lines {dup.first} and {dup.line}); YAML "
            "would silently keep the last one. Fix: delete one of them."
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
        raise SpecError(f"{label}: not valid YAML: {exc}.{_yaml_hint(line)}") from None
    finally:
        loader.dispose()


# -------------------------------------------------------------------------- the spec

_CHECKS: dict[str, Callable[[_Where, Any], Any]] = {
    "files": _check_files,
    "site": _check_site,
    "site_column": lambda w, v: _text(w, ["site_column"], v, "Region"),
    "encoding": _check_encoding,
    "column_map": lambda w, v: MappingProxyType(_check_column_map(w, v)),
    "date_format": _check_date_format,
    "tiers": _check_tiers,
    "commission_scale": lambda w, v: _choice(w, ["commission_scale"], v, COMMISSION_SCALES),
    "orders_above_clicks": lambda w, v: _choice(w, ["orders_above_clicks"], v, ORDERS_ABOVE_CLICKS),
    "period": _check_period,
    "sheet": lambda w, v: _check_sheet(w, ["sheet"], v),
}
_FIELD = {"files": "file_items"}


def _check_value(where: _Where, key: str, value: Any, earlier: Mapping[str, Any]) -> Any:
    """Validate one spec key (``currency`` is checked against the ``site`` before it)."""
    if key == "currency":
        return _check_currency(where, value, earlier.get("site"))
    return _CHECKS[key](where, value)


@dataclass(frozen=True)
class DataSpec:
    """How to read a dataset: files, site, column map, tiers, policies, period.

    Build one with :meth:`resolve` (a folder, a data file, a spec or params YAML, a
    dict), :meth:`from_yaml` or :meth:`from_mapping`; fields hold validated, normalised
    values (read-only mappings and tuples).

    Attributes
    ----------
    base_dir : Path
        Folder relative paths in ``file_items`` are taken from.
    file_items : tuple of FileEntry or None
        ``files:`` as written; None means every data file in ``base_dir``.
    site, site_column, currency, encoding, date_format, commission_scale, sheet
        As in the spec (codes upper-cased; None when not given).
    column_map : mapping or None
        Export header -> canonical name or new identifier (without ``site_column``).
    tiers : mapping or None
        ``{"thresholds": (4 numbers)}`` or ``{"labels": (labels, ...)}``.
    orders_above_clicks : {"reject", "keep"}
    period : Period or None
        Applied by the caller after loading (see :meth:`Period.bounds`).
    origin : str
        The spec's file (or "data spec (dict)"), used in messages.
    lists_folder : bool
        Whether a spec without ``files`` lists ``base_dir``; False for a dict or a
        params ``data:`` block (their base is the repo root, not a data folder).
    """

    base_dir: Path
    file_items: tuple[FileEntry, ...] | None = None
    site: str | None = None
    site_column: str | None = None
    currency: str | None = None
    encoding: str | None = None
    column_map: Mapping[str, str] | None = None
    date_format: str | None = None
    tiers: Mapping[str, tuple] | None = None
    commission_scale: str | None = None
    orders_above_clicks: str = "reject"
    period: Period | None = None
    sheet: str | int | None = None
    origin: str = field(default="data spec (dict)", compare=False)
    key_prefix: tuple[str, ...] = field(default=(), compare=False, repr=False)
    lists_folder: bool = field(default=True, compare=False, repr=False)

    def __hash__(self) -> int:
        return hash((self.base_dir, json.dumps(self.to_dict(), sort_keys=True)))

    # ------------------------------------------------------------------ building

    @classmethod
    def from_mapping(
        cls,
        mapping: Mapping[str, Any] | None,
        base_dir: str | Path | None = None,
        *,
        origin: str = "data spec (dict)",
        key_prefix: Sequence[str] = (),
    ) -> DataSpec:
        """Validate a spec given as a mapping.

        Parameters
        ----------
        mapping : mapping or None
            The spec's keys (:data:`SPEC_KEYS`); None or ``{}`` is the default spec
            (every data file in ``base_dir``). A key set to None is not given.
        base_dir : str or Path, optional
            Folder relative paths are taken from. Default: the repo root, and then
            ``files`` must be given (the repo root is not a data folder).
        origin : str
            Name of the spec in messages (its file).
        key_prefix : sequence of str
            Keys above the spec in its file (``("data",)`` for a params block).

        Returns
        -------
        DataSpec

        Raises
        ------
        SpecError
            Unknown key, wrong type or value; the message shows the YAML fix.
        """
        where = _Where(origin, tuple(key_prefix))
        mapping = {} if mapping is None else mapping
        if not isinstance(mapping, Mapping):
            raise where.error([], f"expected a mapping of spec keys, got {_type_name(mapping)}.")
        _check_keys(where, [], mapping, SPEC_KEYS)
        given = {k: v for k, v in mapping.items() if v is not None}
        values: dict[str, Any] = {}
        for key in (k for k in SPEC_KEYS if k in given):
            values[_FIELD.get(key, key)] = _check_value(where, key, given[key], values)
        _check_site_column(where, values)
        base = paths.ROOT if base_dir is None else Path(base_dir).expanduser()
        return cls(
            base_dir=base.resolve(),
            origin=origin,
            key_prefix=tuple(key_prefix),
            lists_folder=base_dir is not None,
            **values,
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> DataSpec:
        """Read a spec file, or the ``data:`` entry of a params file.

        Parameters
        ----------
        path : str or Path
            A ``data.yaml`` (relative paths inside are from its folder), or a params
            file whose ``data:`` is a spec block (paths from the repo root) or a path
            (resolved with :meth:`resolve`).

        Returns
        -------
        DataSpec

        Raises
        ------
        SpecError
            The file is missing, not YAML, or the spec is invalid.
        """
        p = Path(path).expanduser()
        label = str(path)
        if not p.is_file():
            raise SpecError(f"{label}: spec file not found (looked for {p.resolve()}).")
        doc = _read_yaml(p, label)
        if isinstance(doc, Mapping) and "data" in doc:
            return cls._from_params_block(doc["data"], label)
        if isinstance(doc, Mapping) and {"notebooks", "seed"} & set(doc):
            raise _Where(label).error(
                ["data"],
                "this params file has no `data:` entry, so it says nothing about the data.",
                'data/raw/october   # or a block: {files: ["data/raw/october/*.csv"], site: US}',
            )
        return cls.from_mapping(doc, p.resolve().parent, origin=label)

    @classmethod
    def _from_params_block(cls, block: Any, label: str) -> DataSpec:
        if isinstance(block, str) and block.strip():
            return cls.resolve(block.strip())
        if isinstance(block, Mapping):
            return cls.from_mapping(block, None, origin=label, key_prefix=("data",))
        raise _Where(label).error(
            ["data"],
            f"expected a data folder, a file or a spec block, got {_type_name(block)}.",
            'data/sample   # or a block: {files: ["data/raw/*.csv"], site: US}',
        )

    @classmethod
    def resolve(cls, path_like: DataSpec | Mapping[str, Any] | str | Path) -> DataSpec:
        """The spec for whatever the user points at.

        Parameters
        ----------
        path_like : DataSpec, mapping, str or Path
            A DataSpec (returned as is); a mapping (:meth:`from_mapping`, paths from the
            repo root); a folder (its ``data.yaml`` if present, else every data file in
            it); a ``.yaml``/``.yml`` spec or params file (:meth:`from_yaml`); or one data
            file. Relative paths go through :func:`helpers.paths.resolve`.

        Returns
        -------
        DataSpec

        Raises
        ------
        SpecError
            Nothing at that path, two specs in one folder, or an invalid spec.
        """
        if isinstance(path_like, DataSpec):
            return path_like
        if isinstance(path_like, Mapping):
            return cls.from_mapping(path_like)
        p = paths.resolve(path_like)
        if p.is_dir():
            specs = [p / n for n in SPEC_NAMES if (p / n).is_file()]
            if len(specs) > 1:
                raise SpecError(f"{p}: both data.yaml and data.yml; delete one of them.")
            return cls.from_yaml(specs[0]) if specs else cls(base_dir=p, origin=str(p))
        if p.is_file():
            if p.suffix.lower() in (".yaml", ".yml"):
                return cls.from_yaml(p)
            return cls(base_dir=p.parent, file_items=(FileEntry(p.name),), origin=str(p))
        raise SpecError(
            f"{path_like}: no such file or folder (looked at {p}). Pass a data folder, one export "
            "file, a data.yaml spec or a params file with a `data:` entry; relative paths are taken "
            "from the current folder, then from the repo root."
        )

    def override(self, **options: Any) -> DataSpec:
        """A copy with loader keywords given in Python (None leaves a key as it is).

        Parameters
        ----------
        **options
            Spec keys (e.g. ``site="US"``, ``tiers={"labels": [...]}``), validated
            like the spec's own.

        Returns
        -------
        DataSpec
        """
        given = {k: v for k, v in options.items() if v is not None}
        if not given:
            return self
        merged = {**self.to_dict(), **given}
        origin = f"{self.origin} with keyword options {sorted(given)}"
        spec = DataSpec.from_mapping(
            merged, self.base_dir, origin=origin, key_prefix=self.key_prefix
        )
        return replace(spec, origin=self.origin, lists_folder=self.lists_folder)

    # --------------------------------------------------------------------- files

    def entries(self) -> list[SpecFile]:
        """The files to read, with their sheet (the spec's ``sheet`` by default) and role.

        Globs are expanded (sorted), non-data matches skipped (see :meth:`skipped`);
        a file named twice with the same sheet is read once.

        Returns
        -------
        list of SpecFile

        Raises
        ------
        SpecError
            A literal path that does not exist or is a folder, a glob matching no data
            file, a folder without data files, or one file given two roles.
        """
        return self._listing()[0]

    def files(self) -> list[Path]:
        """The distinct files to read (absolute paths, in spec order, globs sorted).

        Returns
        -------
        list of Path

        Raises
        ------
        SpecError
            As :meth:`entries`.
        """
        return list(dict.fromkeys(e.path for e in self.entries()))

    def skipped(self) -> list[tuple[Path, str]]:
        """Files listed from the folder or matched by a glob that are not read, with why.

        Returns
        -------
        list of (Path, str)
            E.g. ``(Path(".../notes.pdf"), "not a data file type (.pdf)")``; literal
            paths are never skipped (the reader decides).
        """
        return self._listing()[1]

    def _where(self) -> _Where:
        return _Where(self.origin, self.key_prefix)

    def _column_map(self) -> dict[str, str] | None:
        """The column_map the loader gets (site_column merged): it also says which
        headers make a ``.txt`` file an export."""
        return self.loader_kwargs()["column_map"]

    def _listing(self) -> tuple[list[SpecFile], list[tuple[Path, str]]]:
        if self.file_items is None:
            found, skipped = self._list_folder()
        else:
            found, skipped = [], []
            for i, item in enumerate(self.file_items):
                paths_i, skipped_i = self._expand(i, item)
                found += [
                    SpecFile(p, self.sheet if item.sheet is None else item.sheet, item.role)
                    for p in paths_i
                ]
                skipped += skipped_i
        return self._dedupe(found), skipped

    def _list_folder(self) -> tuple[list[SpecFile], list[tuple[Path, str]]]:
        if not self.lists_folder:
            raise self._where().error(
                ["files"],
                "no files given. A spec given as a dict or as a params file's `data:` block "
                "lists its files (paths or globs from the repo root).",
                '["data/raw/october/*.csv"]',
            )
        found: list[SpecFile] = []
        skipped: list[tuple[Path, str]] = []
        if self.base_dir.is_dir():
            # The readers' own listing, so that a spec and load_dataset never disagree.
            data, passed = list_data_files(self.base_dir, self._column_map())
            found = [SpecFile(p, self.sheet) for p in data]
            skipped = [(self.base_dir / n, why) for n, why in passed if n not in SPEC_NAMES]
        if not found:
            names = (
                sorted(c.name for c in self.base_dir.iterdir()) if self.base_dir.is_dir() else []
            )
            raise self._where().error(
                ["files"],
                f"no data file (CSV, TSV, TXT, XLSX, Parquet) in {self.base_dir}; it holds {names}.",
                '["exports/*.csv"]',
            )
        return found, skipped

    def _expand(self, i: int, item: FileEntry) -> tuple[list[Path], list[tuple[Path, str]]]:
        where = self._where()
        if not glob.has_magic(item.path):
            return [self._literal(i, item)], []
        matches = [m for m in _glob(self.base_dir, item.path) if m.is_file()]
        column_map = self._column_map()
        reasons = {
            m: "the data spec" if m.name in SPEC_NAMES else skip_reason(m, column_map)
            for m in matches
        }
        skipped = [(m, r) for m in matches if (r := reasons[m]) is not None]
        data = [m.resolve() for m in matches if reasons[m] is None]
        if not data:
            seen = f" (it matched only {[m.name for m, _ in skipped]})" if skipped else ""
            raise where.error(
                ["files", f"[{i}]"],
                f"the glob {item.path!r} matches no data file in {self.base_dir}{seen}. Files "
                f"there: {self._names()}.",
                '["videos_*.csv"]',
                fix_keys=["files"],
            )
        return data, skipped

    def _literal(self, i: int, item: FileEntry) -> Path:
        p = Path(os.path.expanduser(item.path))
        p = p if p.is_absolute() else self.base_dir / p
        where = self._where()
        if p.is_dir():
            raise where.error(
                ["files", f"[{i}]"],
                f"{item.path!r} is a folder; list its files or use a glob.",
                _flow([f"{item.path.rstrip('/')}/*.csv"]).replace("'", '"'),
                fix_keys=["files"],
            )
        if not p.is_file():
            close = difflib.get_close_matches(p.name, self._names(p.parent), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise where.error(
                ["files", f"[{i}]"],
                f"file {item.path!r} not found (looked for {p}).{hint} Files there: "
                f"{self._names(p.parent)}.",
                _flow([close[0] if close else "videos.csv"]),
                fix_keys=["files"],
            )
        return p.resolve()

    def _names(self, folder: Path | None = None) -> list[str]:
        folder = self.base_dir if folder is None else folder
        return sorted(c.name for c in folder.iterdir()) if folder.is_dir() else []

    def _dedupe(self, found: list[SpecFile]) -> list[SpecFile]:
        """One entry per (file, sheet); an explicit role wins over none, two roles clash."""
        out: dict[tuple[Path, Any], SpecFile] = {}
        for entry in found:
            key = (entry.path, entry.sheet)
            old = out.get(key)
            if old is not None and old.role and entry.role and old.role != entry.role:
                raise self._where().error(
                    ["files"],
                    f"{entry.path.name} is given two roles ({old.role}, {entry.role}).",
                    f"[{{path: {entry.path.name}, role: {old.role}}}]",
                )
            out[key] = entry if old is None or (entry.role and not old.role) else old
        return list(out.values())

    # ------------------------------------------------------------------- outputs

    def loader_kwargs(self) -> dict[str, Any]:
        """Keyword options for :func:`helpers.load.read_export` / ``assemble``.

        Returns
        -------
        dict
            Keys ``site, column_map, tiers, date_format, currency, commission_scale,
            orders_above_clicks, encoding, sheet`` (None when not given, except
            ``orders_above_clicks`` = "reject"). ``site_column`` is merged into
            ``column_map`` as ``{header: "site"}``; ``tiers`` is ``{"thresholds":
            [4 numbers]}`` or ``{"labels": [...]}``; ``sheet`` is the default sheet
            (per-file sheets: :meth:`entries`). ``period`` is not a loader option.
        """
        column_map = dict(self.column_map or {})
        if self.site_column is not None:
            column_map[self.site_column] = "site"
        return {
            "site": self.site,
            "column_map": column_map or None,
            "tiers": None if self.tiers is None else {k: list(v) for k, v in self.tiers.items()},
            "date_format": self.date_format,
            "currency": self.currency,
            "commission_scale": self.commission_scale,
            "orders_above_clicks": self.orders_above_clicks,
            "encoding": self.encoding,
            "sheet": self.sheet,
        }

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-safe data, every key of :data:`SPEC_KEYS` (None = not given).

        ``DataSpec.from_mapping(spec.to_dict(), spec.base_dir)`` gives an equal spec.

        Returns
        -------
        dict
        """
        return {
            "files": None if self.file_items is None else [f.to_dict() for f in self.file_items],
            "site": self.site,
            "site_column": self.site_column,
            "currency": self.currency,
            "encoding": self.encoding,
            "column_map": None if self.column_map is None else dict(self.column_map),
            "date_format": self.date_format,
            "tiers": None if self.tiers is None else {k: list(v) for k, v in self.tiers.items()},
            "commission_scale": self.commission_scale,
            "orders_above_clicks": self.orders_above_clicks,
            "period": None if self.period is None else self.period.to_dict(),
            "sheet": self.sheet,
        }

    def fingerprint(self, salt: str = "") -> str:
        """A stable hash of the spec's content and the bytes of every file it reads.

        Parameters
        ----------
        salt : str
            Mixed in (e.g. the loader's version, so a new loader invalidates caches).

        Returns
        -------
        str
            SHA-256 hex digest. It does not depend on where the folder is, on the
            spec's comments or key order, or on file times; it changes when a file's
            bytes, the set of files, or any spec value changes.
        """
        h = hashlib.sha256(b"linkstar data spec v1\0")
        h.update(salt.encode("utf-8") + b"\0")
        h.update(json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False).encode("utf-8"))
        for entry in self.entries():
            name = os.path.relpath(entry.path, self.base_dir).replace(os.sep, "/")
            h.update(json.dumps([name, entry.sheet, entry.role]).encode("utf-8"))
            _hash_file(h, entry.path)
        return h.hexdigest()


def _hash_file(h: Any, path: Path) -> None:
    """Feed the file's size and bytes (read in chunks) to ``h``."""
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        h.update(size.to_bytes(8, "little"))
        while chunk := fh.read(_CHUNK):
            h.update(chunk)


def _check_site_column(where: _Where, values: dict[str, Any]) -> None:
    """``site_column`` may not clash with a column_map entry for the same header."""
    column = values.get("site_column")
    cmap = values.get("column_map") or {}
    if column is None:
        return
    if cmap.get(column, "site") != "site":
        raise where.error(
            ["site_column"],
            f"{column!r} is also mapped to {cmap[column]!r} in column_map; a header is one "
            f"column. Fix: delete `{column}: {cmap[column]}` from column_map, or delete "
            "site_column.",
        )
    other = [h for h, t in cmap.items() if t == "site" and h != column]
    if other:
        raise where.error(
            ["site_column"],
            f"column_map already maps {other[0]!r} to site; keep one of them.",
            _quoted(other[0]),
        )
