"""Read export files safely: CSV (any common encoding), XLSX behind limits, Parquet.

Everything here turns one file into a :class:`RawTable` (original headers and cell
text, Excel-style row numbers) or raises :class:`~helpers.errors.ExportError` naming the
file and the fix. Nothing here parses values: that is :mod:`helpers.load`'s job.

* Text files: valid UTF-8 (with or without BOM) takes a fast path (Arrow reads and
  validates the file without decoding it in Python); UTF-16/32 with a BOM is decoded
  as such; anything else is decoded with the encoding charset-normalizer's mess detector
  finds cleanest among the encodings exports use (:data:`PRIMARY_ENCODINGS`, then
  :data:`OTHER_ENCODINGS`); when GB18030 and cp1252 score alike (a few short words),
  where the non-ASCII bytes sit decides (inside Latin words: cp1252; standing alone:
  GB18030). A decode that would produce mojibake (replacement characters, a UTF-8 file
  with a few foreign bytes, a GB18030/cp1252 tie nothing settles, no clean reading) is
  refused with the encodings tried and the ``encoding`` option that settles it. CR-only
  and mixed line endings are read as lines; NUL bytes and known binary signatures are
  refused ("not a text export").
* XLSX: python-calamine reads the workbook, but only after the zip directory passed
  the size limits (:data:`XLSX_MIN_SIZE_LIMIT`, :data:`XLSX_MAX_EXPANSION`) and every
  member was inflated in bounded chunks to check that it is no larger than declared and
  that its cell references stay within :data:`XLSX_MAX_ROWS`, :data:`XLSX_MAX_COLUMNS`
  and :data:`XLSX_MAX_CELLS` (calamine allocates the whole rectangle up to the farthest
  cell, so one cell at XFD1048576 would otherwise ask for ~550 GB).
* Folders: :func:`list_data_files` splits a folder into data files and skipped files
  with a reason each.
* OS errors (permission denied, a folder, a missing or empty file) become
  ExportError with what to do.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import mmap
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers import paths
from helpers.errors import ExportError
from helpers.schema import canonical_name

__all__ = [
    "CSV_MAX_COLUMNS",
    "CSV_MAX_HEAD_BYTES",
    "FILE_KINDS",
    "HEADER_SCAN_ROWS",
    "NOT_DATA_SUFFIXES",
    "OTHER_ENCODINGS",
    "PRIMARY_ENCODINGS",
    "XLSX_MAX_CELLS",
    "XLSX_MAX_COLUMNS",
    "XLSX_MAX_EXPANSION",
    "XLSX_MAX_ROWS",
    "XLSX_MIN_SIZE_LIMIT",
    "RawTable",
    "check_xlsx_zip",
    "decode_export",
    "find_header",
    "header_score",
    "list_data_files",
    "read_csv",
    "read_head_rows",
    "read_parquet",
    "read_source",
    "read_xlsx",
    "skip_reason",
    "unique_headers",
]

#: How many leading rows of a file are searched for the header row.
HEADER_SCAN_ROWS = 15
#: Most bytes read from the start of a text export to hold its first
#: :data:`HEADER_SCAN_ROWS` lines whole; a first line longer than this is refused (the
#: header is never cut: a cut header misreads every row).
CSV_MAX_HEAD_BYTES = 16 * 1024 * 1024
#: Most columns a text export may have: Excel's own limit (column XFD).
CSV_MAX_COLUMNS = 16_384

#: File suffix -> reader.
FILE_KINDS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
    ".parquet": "parquet",
    ".pq": "parquet",
}

#: Encodings tried first for a file that is not UTF-8, in order of preference when the
#: mess detector scores them equally: Chinese Excel saves GB18030/GBK, Western Excel
#: saves cp1252 (a superset of Latin-1's printable characters).
PRIMARY_ENCODINGS: tuple[str, ...] = ("gb18030", "cp1252")
#: Tried when neither primary encoding reads the file cleanly.
OTHER_ENCODINGS: tuple[str, ...] = ("big5", "cp932", "cp874", "cp1258", "latin-1")
#: Highest charset-normalizer mess ratio accepted for a decode (its own default is 0.2
#: for whole documents; the few short cells of a small export score higher, e.g. 0.36
#: for '“Müller”,€5' in cp1252, while binary or wrongly decoded text scores 1 and more).
MAX_MESS = 0.5
#: Two primary encodings whose mess ratios differ by less than this are ambiguous.
AMBIGUITY_MARGIN = 0.1
#: Mess ratios this close count as a tie (the earlier candidate wins).
TIE_MARGIN = 0.05

#: Uncompressed size (bytes) an XLSX may always expand to ...
XLSX_MIN_SIZE_LIMIT = 200 * 1024 * 1024
#: ... or this many times its file size, whichever is larger (real exports: 5-10x).
XLSX_MAX_EXPANSION = 50
#: Rows, columns and cells (of the rectangle up to the farthest cell) in one sheet.
XLSX_MAX_ROWS = 5_000_000
XLSX_MAX_COLUMNS = 500
XLSX_MAX_CELLS = 30_000_000

_CHUNK = 1 << 20
_HEAD_BYTES = 4 * 65536
_BINARY_SIGNATURES: dict[bytes, str] = {
    b"PK\x03\x04": "a zip archive (an .xlsx workbook?)",
    b"\xd0\xcf\x11\xe0": "an old binary Office file (.xls?)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PAR1": "a Parquet file",
}
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ENCODING_FIX = 'Fix: add `encoding: {enc}` to data.yaml or pass encoding="{enc}".'


@dataclass
class RawTable:
    """A raw export: original headers and cell text, plus provenance.

    ``rownum`` holds each row's 1-based number as Excel (or a text editor) shows it,
    counting title and header rows; ``malformed`` holds ``(line number, text)`` of CSV
    lines that could not be split into the header's columns.
    """

    raw: pd.DataFrame
    file: str
    encoding: str | None
    header_row: int | None
    rownum: np.ndarray
    malformed: list[tuple[int, str]] = field(default_factory=list)
    blank_rows: int = 0


# -------------------------------------------------------------------------- headers


def header_score(cells: Sequence[Any], column_map: Mapping[str, str] | None) -> int:
    """Number of distinct canonical columns the cells of one row name."""
    names = {canonical_name(c, column_map) for c in cells if c is not None and str(c).strip()}
    names.discard(None)
    return len(names)


def find_header(rows: Sequence[Sequence[Any]], column_map: Mapping[str, str] | None) -> int:
    """Index of the row (among the first :data:`HEADER_SCAN_ROWS`) naming most known columns."""
    best, best_score = 0, 0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = header_score(row, column_map)
        if score > best_score:
            best, best_score = i, score
    return best


def unique_headers(cells: Sequence[Any]) -> list[str]:
    """Header names made unique: blanks become ``"Unnamed: i"``, repeats get ``" (2)"``."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, c in enumerate(cells):
        name = "" if c is None or (isinstance(c, float) and np.isnan(c)) else str(c).strip()
        if not name:
            name = f"Unnamed: {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


# ------------------------------------------------------------------------ OS errors


@contextlib.contextmanager
def _os_errors(file: str) -> Iterator[None]:
    """Turn the OS errors of opening/reading ``file`` into ExportError with a fix."""
    try:
        yield
    except PermissionError as exc:
        raise ExportError(
            f"{file}: permission denied, the file cannot be read. Fix: give your user read "
            "access to it, or close the program that locks it (Excel locks open workbooks "
            "on Windows), or copy the file to another folder and load the copy."
        ) from exc
    except IsADirectoryError as exc:
        raise ExportError(
            f"{file}: is a folder, not a file. Fix: pass the folder to load_dataset() (or "
            "list its files in data.yaml), or pass one export file."
        ) from exc
    except FileNotFoundError as exc:
        raise ExportError(
            f"{file}: file not found (it may have been moved or deleted while reading). "
            "Fix: check the path."
        ) from exc
    except OSError as exc:
        raise ExportError(
            f"{file}: the file cannot be read ({exc.strerror or exc}). Fix: copy it to a local "
            "folder and load the copy."
        ) from exc


def _read_head(path: Path, n: int) -> bytes:
    """The first ``n`` bytes of a file."""
    with path.open("rb") as fh:
        return fh.read(n)


def _read_head_lines(path: Path, lines: int = HEADER_SCAN_ROWS + 1) -> bytes:
    """The first bytes of a file: at least 256 kB, and enough to hold its first ``lines``
    lines whole (a 10,000-column header is longer than any fixed head), but at most
    :data:`CSV_MAX_HEAD_BYTES`."""
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
        # max(): LF and CRLF files count their "\n", old-Mac files their "\r".
        while len(head) < CSV_MAX_HEAD_BYTES and max(head.count(b"\n"), head.count(b"\r")) < lines:
            more = fh.read(min(len(head), CSV_MAX_HEAD_BYTES - len(head)))
            if not more:
                break
            head += more
    return head


# ------------------------------------------------------------------------ encodings


def _bom_encoding(data: bytes) -> str | None:
    """The encoding a byte order mark announces, or None."""
    return next((enc for bom, enc in _BOMS if data.startswith(bom)), None)


def _refuse_binary(head: bytes, file: str, encoding: str | None = None) -> None:
    """Raise when the first bytes of a text export are a binary file's (or NUL bytes).

    NUL bytes are text in UTF-16/32 (named by a byte order mark or ``encoding``)."""
    for magic, what in _BINARY_SIGNATURES.items():
        if head.startswith(magic):
            raise ExportError(
                f"{file}: not a text export: the file is {what}. Fix: give it its proper "
                "extension (.xlsx, .parquet) or export the data again as CSV."
            )
    wide = (encoding or _bom_encoding(head) or "").lower().replace("_", "-")
    if not wide.startswith(("utf-16", "utf-32")) and b"\x00" in head:
        raise ExportError(
            f"{file}: not a text export: it contains NUL bytes (binary data) at byte "
            f"{head.index(0)}. Fix: export the data again as CSV (UTF-8) or XLSX; if it is "
            'UTF-16 text without a byte order mark, pass encoding="utf-16-le".'
        )


_EOL = re.compile(rb"[\r\n]")


def _non_ascii_sample(data: bytes, limit: int = 64 * 1024) -> bytes:
    """The lines holding non-ASCII bytes (up to ``limit`` bytes): the detector's evidence."""
    lines: list[bytes] = []
    size, end = 0, -1
    for m in re.finditer(rb"[\x80-\xff]+", data):
        if m.start() < end:
            continue
        # Searches are bounded (4 kB either side): an unbounded find for a "\r" that a
        # file does not contain would scan to its end for every line.
        lo = max(m.start() - 4096, 0)
        start = max(data.rfind(b"\n", lo, m.start()), data.rfind(b"\r", lo, m.start()), lo - 1) + 1
        eol = _EOL.search(data, m.end(), m.end() + 4096)
        end = eol.start() if eol else min(m.end() + 4096, len(data))
        lines.append(data[start:end])
        size += end - start
        if size >= limit:
            break
    return b"\n".join(lines)


def _mostly_utf8(sample: bytes) -> bool:
    """True when at least half the runs of non-ASCII bytes are valid UTF-8 (a damaged
    UTF-8 file: reading it with any single-byte or GB encoding garbles those runs).

    A run of GB18030 or Latin-1 bytes is rarely valid UTF-8 (a lone accented letter
    never is), so genuine legacy files stay well below half."""
    runs = re.findall(rb"[\x80-\xff]+", sample)
    valid = 0
    for run in runs:
        try:
            run.decode("utf-8")
        except UnicodeDecodeError:
            continue
        valid += 1
    return valid >= 1 and 2 * valid >= len(runs)


def _gb_or_latin(sample: bytes) -> str | None:
    """Settle a GB18030/cp1252 tie from where the non-ASCII byte runs sit.

    Accented Latin letters sit inside words ("Müller": a run touching ASCII letters);
    Chinese text read as cp1252 gives runs that stand alone between delimiters
    ("你" -> "Äã"). Only one kind of run present decides; both (or neither) -> None.
    """
    touching = alone = 0
    for m in re.finditer(rb"[\x80-\xff]+", sample):
        before = sample[m.start() - 1 : m.start()]
        after = sample[m.end() : m.end() + 1]
        if before.isalpha() or after.isalpha():
            touching += 1
        elif len(m.group()) % 2 == 0:
            alone += 1
    if touching and not alone:
        return "cp1252"
    if alone and not touching:
        return "gb18030"
    return None


def _mess(sample: bytes, enc: str) -> float | None:
    """charset-normalizer's mess ratio of ``sample`` decoded as ``enc`` (None: cannot)."""
    from charset_normalizer.md import mess_ratio

    try:
        text = sample.decode(enc)
    except UnicodeDecodeError:
        return None
    return float(mess_ratio(text, 1.0))


def _example_readings(sample: bytes, encs: Sequence[str]) -> str:
    """The first non-ASCII word as each encoding reads it (for error messages)."""
    m = re.search(rb"[\x21-\x7e]{0,12}[\x80-\xff]+[\x21-\x7e\x80-\xff]{0,12}", sample)
    if not m:
        return ""
    word = m.group().split(b",")[0] if b"," in m.group()[:1] else m.group()
    shown = [f"{enc}: {word.decode(enc, 'replace')!r}" for enc in encs]
    return " (" + " vs ".join(shown) + ")"


def _utf8_mojibake_error(file: str, data: bytes, exc: UnicodeDecodeError) -> ExportError:
    """The error for a UTF-8 file with a few bytes in another encoding."""
    return ExportError(
        f"{file}: the file is mostly UTF-8 but byte {exc.start} ({data[exc.start : exc.start + 4]!r}) "
        "is not, so any single encoding would garble part of it (mojibake). Encodings tried: "
        f"utf-8, {', '.join(PRIMARY_ENCODINGS + OTHER_ENCODINGS)}. Fix: open the file in a text "
        "editor, repair or re-save it as UTF-8; if it really is in another encoding, say so: "
        + _ENCODING_FIX.format(enc="latin-1")
    )


def _detect_encoding(data: bytes, file: str, utf8_error: UnicodeDecodeError) -> str:
    """Pick the encoding of non-UTF-8 bytes, or raise when the reading would be mojibake.

    Each candidate's reading of the non-ASCII lines is scored with charset-normalizer's
    mess detector; the cleanest wins, earlier candidates winning near-ties (within
    :data:`TIE_MARGIN`), because on a few short words several CJK code pages all read
    "cleanly" and GB18030 is what these exports use.
    """
    sample = _non_ascii_sample(data)
    if _mostly_utf8(sample):
        raise _utf8_mojibake_error(file, data, utf8_error)
    candidates = PRIMARY_ENCODINGS + OTHER_ENCODINGS
    tried = ", ".join(("utf-8", *candidates))
    scores = {enc: _mess(sample, enc) for enc in candidates}
    ok = {enc: s for enc, s in scores.items() if s is not None and s <= MAX_MESS}
    primary = [ok[e] for e in PRIMARY_ENCODINGS if e in ok]
    if len(primary) == 2 and abs(primary[0] - primary[1]) < AMBIGUITY_MARGIN:
        # The mess detector cannot tell GB18030 from cp1252 (short texts): let the
        # byte runs decide, or ask the user.
        enc = _gb_or_latin(sample)
        if enc is None:
            raise ExportError(
                f"{file}: the encoding is ambiguous: it reads as "
                f"{' and as '.join(PRIMARY_ENCODINGS)} with no sign of mojibake in either"
                f"{_example_readings(sample, PRIMARY_ENCODINGS)}. Encodings tried: {tried}. Fix: "
                "say which one it is: "
                + _ENCODING_FIX.format(enc="latin-1")
                + " (or gb18030 for Chinese text)."
            )
        ok = {enc: ok[enc]}
    while ok:
        best = min(ok.values())
        enc = next(e for e in candidates if e in ok and ok[e] <= best + TIE_MARGIN)
        try:
            data.decode(enc)
        except UnicodeDecodeError:  # the sample decodes but a later part of the file does not
            del ok[enc]
            continue
        return enc
    raise ExportError(
        f"{file}: not a readable text export: no encoding decodes it without mojibake "
        f"(encodings tried: {tried}; UTF-8 fails at byte {utf8_error.start}). Fix: export the "
        "data again as CSV UTF-8 or XLSX; if you know the encoding, "
        + _ENCODING_FIX.format(enc="latin-1")
    )


def _decode_as(data: bytes, file: str, encoding: str) -> str:
    """Decode with a named encoding, strictly; errors say where and what to do."""
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ExportError(
            f"{file}: unknown encoding {encoding!r}. Accepted: any Python codec name, e.g. "
            "utf-8, gb18030, latin-1, cp1252, big5, cp932."
        ) from exc
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ExportError(
            f"{file}: cannot decode the file as {encoding} (byte {exc.start}: "
            f"{data[exc.start : exc.start + 4]!r}). Fix: remove the encoding option to let the "
            "kit detect it, or name the right one (e.g. encoding: gb18030)."
        ) from exc


def _refuse_replacement_chars(text: str, file: str, encoding: str) -> None:
    """Raise when decoded text holds U+FFFD (characters lost in an earlier conversion)."""
    pos = text.find("\ufffd")
    if pos >= 0:
        line = text.count("\n", 0, pos) + text.count("\r", 0, pos) - text.count("\r\n", 0, pos)
        raise ExportError(
            f"{file}: decoded as {encoding}, the text contains replacement characters (U+FFFD "
            f"'\ufffd', line {line + 1}): characters were already lost when the file was "
            "converted (mojibake). Fix: export the data again from the source; if the file is in "
            "another encoding, say which: " + _ENCODING_FIX.format(enc="latin-1")
        )


def decode_export(data: bytes, file: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode the bytes of a text export.

    Parameters
    ----------
    data : bytes
        The whole file.
    file : str
        File name for messages.
    encoding : str, optional
        Python codec name; skips detection (``"latin-1"``, ``"gb18030"``, ...).

    Returns
    -------
    (str, str)
        The text and the encoding used (``"utf-8"``, ``"utf-8-sig"``, ``"gb18030"``,
        ``"cp1252"``, ...).

    Raises
    ------
    ExportError
        Binary data, an undecodable or ambiguous file, or text with mojibake; the
        message names the encodings tried and the ``encoding`` option that fixes it.
    """
    _refuse_binary(data[: 4 * 65536], file, encoding)
    enc = encoding or _bom_encoding(data)
    if enc is not None:
        text = _decode_as(data, file, enc)
    else:
        try:
            text, enc = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            enc = _detect_encoding(data, file, exc)
            text = data.decode(enc)
    if encoding is None:
        _refuse_replacement_chars(text, file, enc)
    if "\x00" in text:
        raise ExportError(
            f"{file}: not a text export: it contains NUL characters (binary data). Fix: export "
            "the data again as CSV (UTF-8) or XLSX."
        )
    return text, enc


def _scan_utf8_file(path: Path, file: str) -> None:
    """Refuse NUL bytes and U+FFFD anywhere in a file read on the UTF-8 fast path."""
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        if mm.find(b"\x00") >= 0:
            raise ExportError(
                f"{file}: not a text export: it contains NUL bytes (binary data) at byte "
                f"{mm.find(bytes(1))}. Fix: export the data again as CSV (UTF-8) or XLSX."
            )
        pos = mm.find("\ufffd".encode())
        if pos >= 0:
            _refuse_replacement_chars(mm[: pos + 3].decode("utf-8", "replace"), file, "utf-8")


# ------------------------------------------------------------------------------ CSV


@dataclass
class _Layout:
    delimiter: str
    header_index: int
    names: list[str]


def _sniff_delimiter(head_text: str) -> str:
    """Comma, unless semicolons or tabs outnumber commas in the first lines."""
    sample = "\n".join(head_text.splitlines()[:HEADER_SCAN_ROWS])
    counts = {d: sample.count(d) for d in (",", ";", "\t")}
    if counts["\t"] > counts[","] or counts[";"] > counts[","]:
        return max(counts, key=lambda d: counts[d])
    return ","


def _head_rows(head_text: str, delimiter: str) -> list[list[str]]:
    """The first :data:`HEADER_SCAN_ROWS` rows of a text export's head."""
    # newline=None: universal newlines, so old-Mac CR-only files split into lines too.
    reader = csv.reader(io.StringIO(head_text, newline=None), delimiter=delimiter)
    rows: list[list[str]] = []
    with contextlib.suppress(csv.Error):  # a quoted field cut at the end of the head
        for r in reader:
            rows.append(r)
            if len(rows) >= HEADER_SCAN_ROWS:
                break
    return rows


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _whole_lines(text: str, complete: bool, file: str) -> str:
    """The first :data:`HEADER_SCAN_ROWS` + 1 lines of ``text``, each whole.

    ``text`` is the start of a file (the whole file when ``complete``); a line cut at
    its end is dropped, and a first line longer than :data:`CSV_MAX_HEAD_BYTES` is an
    ExportError rather than a header cut short (which would misread every row)."""
    if len(text) > CSV_MAX_HEAD_BYTES:
        text, complete = text[:CSV_MAX_HEAD_BYTES], False
    end = 0
    for i, m in enumerate(_LINE_BREAK.finditer(text)):
        end = m.end()
        if i >= HEADER_SCAN_ROWS:
            return text[:end]
    if complete:
        return text
    if end == 0:
        raise ExportError(
            f"{file}: the first line is longer than {_size_text(CSV_MAX_HEAD_BYTES)}, so "
            f"its header cannot be read (a text export has at most {CSV_MAX_COLUMNS:,} "
            "columns). Fix: check that the file is a CSV export (one row per line); keep "
            "only the columns you need and save it again as CSV."
        )
    return text[:end]


def _csv_layout(
    head_text: str, file: str, column_map: Mapping[str, str] | None, complete: bool = True
) -> _Layout:
    """Delimiter, header row index and header names from the first lines (read whole).

    ``complete``: ``head_text`` is the whole file (else the start of it)."""
    head_text = _whole_lines(head_text, complete, file)
    delim = _sniff_delimiter(head_text)
    rows = _head_rows(head_text, delim)
    if not rows:
        raise ExportError(
            f"{file}: the file has no rows; export the data again from Seller Center."
        )
    hi = find_header(rows, column_map)
    if len(rows[hi]) > CSV_MAX_COLUMNS:
        raise ExportError(
            f"{file}: the header (line {hi + 1}) has {len(rows[hi]):,} columns, more than "
            f"the {CSV_MAX_COLUMNS:,} accepted (Excel's own limit). Fix: keep only the "
            "columns you need (delete the others in Excel, or select them in the export) "
            "and save the file again."
        )
    return _Layout(delim, hi, unique_headers(rows[hi]))


def _arrow_csv(source: Any, layout: _Layout, malformed: list[tuple[int | None, str]]) -> Any:
    """Read the body with Arrow as strings; malformed lines are collected, not fatal."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    def handler(row: Any) -> str:
        malformed.append((row.number, row.text))
        return "skip"

    def read(threads: bool) -> Any:
        malformed.clear()
        src = source if isinstance(source, str) else pa.BufferReader(source)
        return pcsv.read_csv(
            src,
            read_options=pcsv.ReadOptions(
                skip_rows=layout.header_index + 1,
                column_names=layout.names,
                use_threads=threads,
                block_size=1 << 24,
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=layout.delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=handler,
            ),
            convert_options=pcsv.ConvertOptions(
                # large_string is what pandas' str dtype holds: no cast in to_pandas.
                column_types={n: pa.large_string() for n in layout.names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    table = read(True)
    if any(num is None for num, _ in malformed):  # threads lose line numbers: re-read
        table = read(False)
    return table


def _utf8_head(head: bytes, complete: bool) -> tuple[str, str] | None:
    """``(text, encoding)`` when the head is valid UTF-8, else None."""
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")("strict").decode(head, final=complete)
    except UnicodeDecodeError:
        return None
    return text, "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"


def _table_from_arrow(
    table: Any, layout: _Layout, file: str, encoding: str, malformed: list[tuple[int | None, str]]
) -> RawTable:
    """RawTable from Arrow's strings: Excel-style row numbers, malformed lines kept aside."""
    raw = table.to_pandas()
    raw.columns = layout.names
    header_line = layout.header_index + 1
    bad_numbers = sorted(int(n) for n, _ in malformed if n is not None)
    total = len(raw) + len(malformed)
    all_numbers = np.arange(header_line + 1, header_line + 1 + total)
    rownum = np.setdiff1d(all_numbers, np.asarray(bad_numbers, dtype=np.int64), assume_unique=True)
    if len(rownum) != len(raw):  # numbering unknown (should not happen): fall back to order
        rownum = all_numbers[: len(raw)]
    out = RawTable(raw, file, encoding, header_line, rownum.astype(np.int64))
    out.malformed = [(int(n) if n is not None else -1, t) for n, t in malformed]
    return out


def _count_lines(data: bytes) -> int:
    """Line breaks in ``data`` ("\r\n", "\r" and "\n" count one each)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _ends_inside_quotes(text: str, delimiter: str) -> bool:
    """True when ``text`` (one row and all that follows it) ends inside a quoted cell."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for _ in reader:
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _opening_quote(raw: bytes) -> int:
    """Position of the quote that opens the last cell of ``raw``, a row known to end
    inside quotes: after it, quotes only come in escaped pairs (``""``)."""
    quotes = [m.start() for m in re.finditer(b'"', raw)]
    while len(quotes) >= 2 and quotes[-1] == quotes[-2] + 1:
        del quotes[-2:]
    return quotes[-1] if quotes else 0


def _unclosed_tail(
    table: Any, malformed: list[tuple[int | None, str]], delimiter: str
) -> bytes | None:
    """The raw text, from its opening quote, of a last cell that runs to the end of the
    file inside an unclosed quote (None when there is none).

    Arrow ends a quoted cell at the end of the file whether or not it was closed, so
    the last row alone can hold such a cell: either a kept row whose last cell spans
    lines, or a malformed row (too few cells) that spans lines."""
    if malformed and re.search("[\r\n]", malformed[-1][1] or ""):
        text = malformed[-1][1]
        if _ends_inside_quotes(text, delimiter):
            raw = text.encode("utf-8")
            return raw[_opening_quote(raw) :]
    if table.num_rows and table.num_columns:
        cell = table.column(table.num_columns - 1)[table.num_rows - 1].as_py()
        if isinstance(cell, str) and re.search("[\r\n]", cell):
            return b'"' + cell.replace('"', '""').encode("utf-8")
    return None


def _refuse_unclosed_quote(
    table: Any,
    malformed: list[tuple[int | None, str]],
    layout: _Layout,
    file: str,
    source: Path | bytes,
) -> None:
    """ExportError when a quote opened in the last row is never closed: Arrow would
    read every line after it, to the end of the file, into one cell, and those rows
    would vanish (or be one "malformed line")."""
    tail = _unclosed_tail(table, malformed, layout.delimiter)
    if tail is None:
        return
    data = source if isinstance(source, bytes) else source.read_bytes()
    stripped = data.rstrip(b"\r\n")
    if data.endswith(tail):
        start = len(data) - len(tail)
    elif stripped.endswith(tail.rstrip(b"\r\n")):  # Arrow drops a malformed row's last break
        start = len(stripped) - len(tail.rstrip(b"\r\n"))
    else:
        return  # the quote was closed at the very end: a cell that spans lines, not lost
    line = _count_lines(data[:start]) + 1
    after = _count_lines(stripped[start:])
    begin = max(data.rfind(b"\n", 0, start), data.rfind(b"\r", 0, start)) + 1
    end = _EOL.search(data, start)
    snippet = data[max(begin, start - 60) : min(end.start() if end else len(data), start + 40)]
    raise ExportError(
        f'{file}: line {line}: a quote (") opens a cell here and is never closed, so the '
        f"{after} line(s) after it, to the end of the file, would be read into that one cell "
        f"and their rows lost. Around the quote: {snippet.decode('utf-8', 'replace')!r}. Fix: "
        f"delete the stray quote on line {line}, or close it (a quote that is part of a "
        'cell\'s text is written as two quotes "" inside a quoted cell), and save the file '
        "again."
    )


def read_csv(
    path: Path, column_map: Mapping[str, str] | None = None, *, encoding: str | None = None
) -> RawTable:
    """Read a delimited text export (comma, semicolon or tab) as text cells.

    Parameters
    ----------
    path : Path
        The file; it is only read.
    column_map : mapping, optional
        ``{header: canonical name}``, used to find the header row.
    encoding : str, optional
        Python codec name; default: detected (see :func:`decode_export`).

    Returns
    -------
    RawTable

    Raises
    ------
    ExportError
        Empty, binary or undecodable file, or a file Arrow cannot split into rows.
    """
    import pyarrow as pa

    file = str(path)
    with _os_errors(file):
        size = path.stat().st_size
        head = _read_head_lines(path)
        if not head.strip() and not path.read_bytes().strip():
            raise ExportError(
                f"{file}: the file is empty; export the data again from Seller Center."
            )
        _refuse_binary(head, file, encoding)
        # Valid UTF-8 is read by Arrow straight from the file (it validates UTF-8 as it
        # converts strings), neither decoded in Python nor held in memory whole.
        fast = (
            None
            if encoding or _bom_encoding(head) not in (None, "utf-8-sig")
            else (_utf8_head(head, len(head) >= size))
        )
        body: bytes | None = None
        if fast is None:
            text, enc = decode_export(path.read_bytes(), file, encoding)
            head_text, body = text, text.encode("utf-8")
        else:
            head_text, enc = fast
        layout = _csv_layout(head_text, file, column_map, body is not None or len(head) >= size)
        malformed: list[tuple[int | None, str]] = []
        try:
            try:
                table = _arrow_csv(file if body is None else body, layout, malformed)
                if body is None:
                    _scan_utf8_file(path, file)
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                if (
                    body is not None
                    or "UTF8" not in str(exc)
                    and not isinstance(exc, UnicodeDecodeError)
                ):
                    raise
                # Not UTF-8 after all (past the head): decode the whole file.
                text, enc = decode_export(path.read_bytes(), file, encoding)
                layout = _csv_layout(text, file, column_map)
                table = _arrow_csv(text.encode("utf-8"), layout, malformed)
        except pa.ArrowInvalid as exc:
            raise ExportError(
                f"{file}: not a readable CSV file ({exc}). Re-save it as CSV from Excel."
            ) from exc
    _refuse_unclosed_quote(table, malformed, layout, file, path if body is None else body)
    return _table_from_arrow(table, layout, file, enc, malformed)


# ----------------------------------------------------------------------------- XLSX


def _size_text(n: float) -> str:
    """A byte count for people: "12 MB", "340 kB"."""
    return f"{n / 1024**2:,.0f} MB" if n >= 1024**2 else f"{n / 1024:,.0f} kB"


def _split_advice() -> str:
    """What to do with a workbook over the limits."""
    return (
        "Fix: split the export (e.g. one file per week or per site, each well under the limit) "
        "and put the files in one folder, or export it as CSV, which has no such limit."
    )


def _open_zip(path: Path, file: str) -> zipfile.ZipFile:
    """Open the workbook as a zip archive; not a zip -> ExportError."""
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ExportError(
            f"{file}: not an Excel workbook: an .xlsx file is a zip archive and this one is not "
            f"({exc}). Fix: if it is a CSV with an .xlsx name, rename it to .csv; otherwise open it "
            "in Excel and save it as .xlsx."
        ) from exc


def _check_directory(zf: zipfile.ZipFile, size: int, file: str) -> int:
    """Refuse from the zip directory alone; returns the uncompressed-size limit."""
    infos = zf.infolist()
    limit = max(XLSX_MIN_SIZE_LIMIT, XLSX_MAX_EXPANSION * size)
    total = sum(i.file_size for i in infos)
    if total > limit:
        big = max(infos, key=lambda i: i.file_size)
        raise ExportError(
            f"{file}: the workbook expands to {_size_text(total)} when unzipped ({big.filename}: "
            f"{_size_text(big.file_size)}), over the limit of {_size_text(limit)} (the larger of "
            f"{_size_text(XLSX_MIN_SIZE_LIMIT)} and {XLSX_MAX_EXPANSION}x the file's "
            f"{_size_text(size)}; a larger expansion is the mark of a zip bomb). " + _split_advice()
        )
    encrypted = [i.filename for i in infos if i.flag_bits & 0x1]
    if encrypted:
        raise ExportError(
            f"{file}: the workbook is encrypted (password-protected). Fix: open it in Excel, "
            "remove the password (File > Info > Protect Workbook) and save it again."
        )
    return limit


def _inflate(fh: Any, info: zipfile.ZipInfo, file: str) -> Iterator[bytes]:
    """Yield a member's bytes in bounded chunks, refusing more than its declared size."""
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise ExportError(
            f"{file}: damaged workbook ({info.filename} has no local header). "
            "Fix: open and re-save it in Excel as .xlsx."
        )
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ExportError(
            f"{file}: {info.filename} uses zip compression method {info.compress_type}, which "
            "Excel does not write. Fix: open and re-save the file in Excel as .xlsx."
        )
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    left, produced = info.compress_size, 0
    while left > 0:
        raw = fh.read(min(_CHUNK, left))
        if not raw:
            break
        left -= len(raw)
        pending = raw
        while pending:
            if inflater is None:
                out, pending = pending, b""
            else:
                out = inflater.decompress(pending, 4 * _CHUNK)
                pending = inflater.unconsumed_tail
            produced += len(out)
            if produced > info.file_size:
                raise ExportError(
                    f"{file}: {info.filename} inflates to more than the {info.file_size:,} bytes the "
                    "zip directory declares (a crafted or damaged file, e.g. a zip bomb); refused "
                    "before reading it. Fix: open and re-save it in Excel as .xlsx, or export CSV."
                )
            if out:
                yield out


_REF_WINDOW = 16  # ' r="' + up to 3 letters + 10 digits + quote fit easily
_HUGE = 10**12


@dataclass
class _Extent:
    """How far a sheet's cells reach, accumulated chunk by chunk.

    calamine places a cell at its ``r="B7"`` reference, or (without one) after the
    previous cell of its row / below the previous row; the rectangle it allocates runs
    to the farthest cell.
    """

    max_row: int = 0
    max_col: int = 0
    rows: int = 0
    row_refs: int = 0
    cells: int = 0
    cell_refs: int = 0
    cells_in_row: int = 0
    open_row: int = 0  # cells seen so far in the row the last chunk ended in

    def bounds(self) -> tuple[int, int]:
        """(rows, columns) of the rectangle; exact when every row and cell has a reference."""
        rows = self.max_row if self.rows <= self.row_refs else self.max_row + self.rows
        widest = max(self.cells_in_row, self.open_row)
        cols = max(self.max_col, widest) if self.cells <= self.cell_refs else self.max_col + widest
        return rows, cols


def _tag_positions(a: np.ndarray, n: int, name: bytes) -> np.ndarray:
    """Positions (< n) of ``<name`` followed by whitespace, ``>`` or ``/``."""
    pos = np.flatnonzero(a[:n] == ord("<"))
    for k, ch in enumerate(name, start=1):
        pos = pos[a[pos + k] == ch]
    return pos[np.isin(a[pos + len(name) + 1], (0x20, 0x09, 0x0A, 0x0D, ord(">"), ord("/")))]


def _ref_values(a: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column (1-based; 0 column for ``<row r="7">``) of each ``r="..."`` (< n).

    Vectorised with numpy (a regex match per cell costs ~0.3 s on a 17 MB sheet); a
    reference with more than 3 letters or 9 digits counts as huge.
    """
    pos = np.flatnonzero(a[1 : n + 1] == ord("r"))
    pos = pos[(a[pos + 2] == ord("=")) & ((a[pos + 3] == ord('"')) | (a[pos + 3] == ord("'")))]
    pos = pos[np.isin(a[pos], (0x20, 0x09, 0x0A, 0x0D))]
    w = a[(pos + 4)[:, None] + np.arange(_REF_WINDOW)]
    letter = (w[:, :4] >= 65) & (w[:, :4] <= 90)
    n_let = np.where(letter.all(axis=1), 4, np.argmin(letter, axis=1))
    rows = np.zeros(len(pos), dtype=np.int64)
    cols = np.zeros(len(pos), dtype=np.int64)
    for n_l in range(5):
        sel = np.flatnonzero(n_let == n_l)
        if len(sel) == 0:
            continue
        if n_l == 4:
            rows[sel] = cols[sel] = _HUGE
            continue
        sub = w[sel]
        col = np.zeros(len(sel), dtype=np.int64)
        for k in range(n_l):
            col = col * 26 + (sub[:, k].astype(np.int64) - 64)
        d = sub[:, n_l : n_l + 10].astype(np.int64) - 48
        is_digit = (d >= 0) & (d <= 9)
        n_dig = np.where(is_digit.all(axis=1), 10, np.argmin(is_digit, axis=1))
        row = np.zeros(len(sel), dtype=np.int64)
        for k in range(9):
            row = np.where(k < n_dig, row * 10 + d[:, k], row)
        rows[sel] = np.where(n_dig > 9, _HUGE, row)
        cols[sel] = col
    return rows, cols


def _scan_extent(buf: bytes, n: int, ext: _Extent) -> None:
    """Add what ``buf[:n]`` (tags starting before ``n``) says about the sheet's extent."""
    a = np.frombuffer(buf + b"\0" * (_REF_WINDOW + 4), dtype=np.uint8)
    rows, cols = _ref_values(a, n)
    is_cell = cols > 0
    if len(rows):
        ext.max_row = max(ext.max_row, int(rows.max()))
        ext.max_col = max(ext.max_col, int(cols.max()))
    ext.cell_refs += int(is_cell.sum())
    ext.row_refs += int((~is_cell).sum())
    row_tags, cell_tags = _tag_positions(a, n, b"row"), _tag_positions(a, n, b"c")
    ext.rows += len(row_tags)
    ext.cells += len(cell_tags)
    # cells per row: the first group continues the row the previous chunk ended in
    per_row = np.bincount(np.searchsorted(row_tags, cell_tags), minlength=len(row_tags) + 1)
    per_row[0] += ext.open_row
    ext.cells_in_row = max(ext.cells_in_row, int(per_row[:-1].max(initial=0)))
    ext.open_row = int(per_row[-1]) if len(row_tags) else int(per_row[0])


def _check_member(fh: Any, info: zipfile.ZipInfo, file: str) -> None:
    """Inflate one member in chunks: size as declared, cell extent within the limits."""
    is_xml = info.filename.lower().endswith(".xml")
    ext = _Extent()
    tail = b""
    for chunk in _inflate(fh, info, file):
        if is_xml:
            buf = tail + chunk
            # Tags in the last few bytes may be cut: they are scanned whole with the next chunk.
            cut = max(len(buf) - _REF_WINDOW, 0)
            _scan_extent(buf, cut, ext)
            tail = buf[cut:]
    if is_xml and tail:
        _scan_extent(tail, len(tail), ext)
    rows, cols = ext.bounds()
    if rows > XLSX_MAX_ROWS or cols > XLSX_MAX_COLUMNS or rows * cols > XLSX_MAX_CELLS:
        raise ExportError(
            f"{file}: {info.filename} reaches row {rows:,} and column {cols:,} "
            f"({rows * cols:,} cells), over the limits of {XLSX_MAX_ROWS:,} rows, "
            f"{XLSX_MAX_COLUMNS} columns and {XLSX_MAX_CELLS:,} cells per sheet. " + _split_advice()
        )


def check_xlsx_zip(path: Path, file: str | None = None) -> None:
    """Check an XLSX before any XML is parsed: zip directory first, then each member.

    Parameters
    ----------
    path : Path
        The workbook.
    file : str, optional
        Name for messages (default ``str(path)``).

    Raises
    ------
    ExportError
        Not a zip; total uncompressed size over ``max(XLSX_MIN_SIZE_LIMIT,
        XLSX_MAX_EXPANSION * file size)`` (from the directory, before inflating
        anything); encrypted; a member that inflates beyond its declared size; a sheet
        whose cell references exceed :data:`XLSX_MAX_ROWS`, :data:`XLSX_MAX_COLUMNS` or
        :data:`XLSX_MAX_CELLS`. Memory stays bounded (1-4 MB chunks).
    """
    file = file or str(path)
    size = path.stat().st_size
    with _open_zip(path, file) as zf:
        _check_directory(zf, size, file)
        with path.open("rb") as fh:
            for info in zf.infolist():
                if not info.is_dir():
                    _check_member(fh, info, file)


def _excel_text(value: Any) -> Any:
    """Text of one calamine cell: integral floats without ``.0``, dates as ISO."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if np.isnan(value):
            return np.nan
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if value == "" or value is None:
        return np.nan
    if hasattr(value, "hour") and hasattr(value, "date"):  # datetime
        return (
            value.date().isoformat()
            if value == value.replace(hour=0, minute=0, second=0, microsecond=0)
            else value.isoformat(sep=" ")
        )
    if hasattr(value, "isoformat"):  # date, time
        return value.isoformat()
    return str(value)


def _float_text(values: np.ndarray) -> np.ndarray:
    """Text of float cells as :func:`_excel_text` writes it, vectorised."""
    out = np.full(len(values), np.nan, dtype=object)
    finite = np.isfinite(values)
    integral = finite & (values == np.round(values)) & (np.abs(values) < 1e15)
    out[integral] = values[integral].astype(np.int64).astype(str).astype(object)
    rest = np.flatnonzero(finite & ~integral)
    out[rest] = [repr(float(v)) for v in values[rest]]
    inf = np.flatnonzero(np.isinf(values))
    out[inf] = [repr(float(v)) for v in values[inf]]
    return out


def _column_text(col: pd.Series) -> pd.Series:
    """One column of calamine cells as text: strings as they are, numbers vectorised."""
    inferred = pd.api.types.infer_dtype(col, skipna=False)
    if inferred == "string":
        out = col.to_numpy(dtype=object)
    elif inferred == "floating":
        out = _float_text(col.to_numpy(dtype=np.float64))
    else:  # mixed: e.g. numbers with "--" for missing
        out = col.to_numpy(dtype=object, copy=True)
        types = [type(v) for v in out]
        is_float = np.array([t is float for t in types], dtype=bool)
        other = np.array([t is not float and t is not str for t in types], dtype=bool)
        if is_float.any():
            out[is_float] = _float_text(out[is_float].astype(np.float64))
        if other.any():
            out[other] = [_excel_text(v) for v in out[other]]
    return pd.Series(out, index=col.index, dtype="str").replace("", np.nan)


def _cells_to_frame(rows: list[list[Any]], names: list[str]) -> pd.DataFrame:
    """Body rows -> DataFrame of text (``str`` dtype, NaN for empty cells)."""
    if not rows:
        return pd.DataFrame({n: pd.Series(dtype="str") for n in names})
    raw = pd.DataFrame(rows, columns=names, dtype=object)
    return pd.DataFrame({name: _column_text(col) for name, col in raw.items()}, index=raw.index)


def _pick_sheet(wb: Any, sheet: str | int | None, file: str) -> Any:
    """The sheet named or numbered by ``sheet`` (default the first); unknown -> ExportError."""
    names = list(wb.sheet_names)
    import python_calamine as pcal

    try:
        if sheet is None or (isinstance(sheet, int) and not isinstance(sheet, bool)):
            idx = sheet or 0
            if not 0 <= idx < len(names):
                raise IndexError(idx)
            return wb.get_sheet_by_index(idx)
        return wb.get_sheet_by_name(str(sheet))
    except (pcal.WorksheetNotFound, IndexError) as exc:
        raise ExportError(
            f"{file}: no sheet {sheet!r} ({type(exc).__name__}). Sheets in the workbook: {names}. "
            "Fix: `sheet: <name>` in data.yaml or sheet=<name or 0-based index>."
        ) from exc


def _load_rows(ws: Any, file: str) -> list[list[Any]]:
    """All cells of a loaded sheet, after a last check of its size."""
    if ws.height > XLSX_MAX_ROWS or ws.width > XLSX_MAX_COLUMNS:
        raise ExportError(
            f"{file}: sheet {ws.name!r} has {ws.height:,} rows and {ws.width:,} columns, over the "
            f"limits of {XLSX_MAX_ROWS:,} rows and {XLSX_MAX_COLUMNS} columns. " + _split_advice()
        )
    return ws.to_python(skip_empty_area=False)


def _sheet_rows(
    wb: Any, sheet: str | int | None, file: str, column_map: Mapping[str, str] | None
) -> tuple[Any, list[list[Any]]]:
    """The chosen sheet and its rows. Without ``sheet``: the first sheet, unless it has
    no recognisable header and a later sheet has one (a "read me" sheet in front)."""
    ws = _pick_sheet(wb, sheet, file)
    rows = _load_rows(ws, file)
    if sheet is not None or _best_score(rows, column_map) > 0:
        return ws, rows
    for idx in range(1, len(wb.sheet_names)):
        other = wb.get_sheet_by_index(idx)
        other_rows = _load_rows(other, file)
        if _best_score(other_rows, column_map) > 0:
            return other, other_rows
    return ws, rows


def _best_score(rows: Sequence[Sequence[Any]], column_map: Mapping[str, str] | None) -> int:
    """Header score of the best header row among the first rows (0: none recognised)."""
    return header_score(rows[find_header(rows, column_map)], column_map) if rows else 0


def read_xlsx(
    path: Path, column_map: Mapping[str, str] | None = None, *, sheet: str | int | None = None
) -> RawTable:
    """Read one sheet of an .xlsx/.xlsm workbook with python-calamine, behind limits.

    Parameters
    ----------
    path : Path
        The workbook; only read.
    column_map : mapping, optional
        Used to find the header row among the first :data:`HEADER_SCAN_ROWS` rows.
    sheet : str or int, optional
        Sheet name or 0-based index. Default: the first sheet, or when it has no
        recognisable header row, the first sheet that has one.

    Returns
    -------
    RawTable
        Cell text (numbers as written, integral ones without ``.0``; dates ISO; booleans
        TRUE/FALSE); ``rownum`` is Excel's row number.

    Raises
    ------
    ExportError
        Old .xls, not a zip, over the limits (see :func:`check_xlsx_zip`), an unknown
        sheet, an empty sheet, values right of the last header column.
    """
    import python_calamine as pcal

    file = str(path)
    if path.suffix.lower() == ".xls":
        raise ExportError(
            f"{file}: old binary .xls workbooks are not supported; open it in Excel and save "
            "it as .xlsx (or CSV UTF-8)."
        )
    with _os_errors(file):
        check_xlsx_zip(path, file)
        try:
            with pcal.CalamineWorkbook.from_path(str(path)) as wb:
                ws, rows = _sheet_rows(wb, sheet, file, column_map)
                sheet_name, names_all = ws.name, list(wb.sheet_names)
        except ExportError:
            raise
        except Exception as exc:  # calamine raises its own error types for broken files
            raise ExportError(
                f"{file}: cannot read the workbook ({type(exc).__name__}: {exc}). Open and re-save "
                "it in Excel as .xlsx."
            ) from exc
    return _xlsx_table(rows, file, sheet_name, names_all, column_map)


def _xlsx_table(
    rows: list[list[Any]],
    file: str,
    sheet: str,
    sheet_names: list[str],
    column_map: Mapping[str, str] | None,
) -> RawTable:
    """Header row, body and Excel row numbers of one sheet's cells (row i is Excel row i+1)."""
    if all(v in ("", None) for r in rows for v in r):
        raise ExportError(
            f"{file}: sheet {sheet!r} has no data (sheets: {sheet_names}). Fix: export the data "
            "again, or pick the sheet: `sheet: <name>` in data.yaml or sheet=<name or index>."
        )
    hi = find_header(rows, column_map)
    names = unique_headers([None if v == "" else v for v in rows[hi]])
    while names and names[-1].startswith("Unnamed: ") and len(names) > 1:
        names.pop()  # calamine pads every row to the sheet's width
    width = len(names)
    stray = [
        i + 1 for i in range(hi + 1, len(rows)) if any(v not in ("", None) for v in rows[i][width:])
    ]
    if stray:
        raise ExportError(
            f"{file}: rows {stray[:10]} have values to the right of the last header column "
            f"({names[-1]!r}). Add a header to that column or delete the stray cells."
        )
    body = [r[:width] for r in rows[hi + 1 :]]
    raw = _cells_to_frame(body, names)
    rownum = np.arange(hi + 2, hi + 2 + len(body), dtype=np.int64)
    return RawTable(raw, file, f"xlsx (sheet {sheet!r})", hi + 1, rownum)


# -------------------------------------------------------------------------- Parquet


def read_parquet(path: Path) -> RawTable:
    """Read a Parquet file as it is (typed columns; row numbers 1..n).

    Columns come out as :func:`pandas.read_parquet` gives them, except a float column
    holding a NaN value (not a null): it becomes a nullable ``Float64`` column whose NaN
    cells stay NaN and whose nulls are ``<NA>``, so the loader can reject a NaN as
    "not finite" rather than count it as missing (numpy float64 cannot tell them apart).
    """
    import pyarrow.parquet as pq

    from helpers.io.categorical import table_to_frame

    file = str(path)
    with _os_errors(file):
        try:
            # One file: ParquetFile reads it without read_table's dataset layer (whose
            # import alone costs a fresh notebook kernel about as much as the read).
            with pq.ParquetFile(path) as pf:
                table = pf.read(use_pandas_metadata=True)
            raw = table_to_frame(table)  # key columns' dictionaries become categoricals
        except OSError:
            raise
        except Exception as exc:
            raise ExportError(
                f"{file}: cannot read the Parquet file ({exc}). Fix: write it again (e.g. "
                "df.to_parquet(path)) or export CSV."
            ) from exc
    raw = raw.reset_index(drop=True)
    _keep_float_nans(table, raw)
    return RawTable(raw, file, "parquet", None, np.arange(1, len(raw) + 1, dtype=np.int64))


def _keep_float_nans(table: Any, raw: pd.DataFrame) -> None:
    """Turn (in place) each float column of ``raw`` whose Arrow column holds a NaN value
    into a nullable Float64 column that keeps NaN apart from null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, fld in enumerate(table.schema):
        if not pa.types.is_floating(fld.type) or fld.name not in raw.columns:
            continue
        col = table.column(i)
        if col.null_count == len(col) or not pc.any(pc.is_nan(col)).as_py():
            continue  # the usual case: one vectorised pass, no conversion
        values = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
        mask = col.is_null().to_numpy(zero_copy_only=False)
        raw[fld.name] = pd.arrays.FloatingArray(np.asarray(values, dtype=np.float64), mask)


# --------------------------------------------------------------------- any source


def _resolve_kind(path: Path, kind: str | None) -> str:
    """ "csv", "excel" or "parquet" from ``kind`` or the suffix; else ExportError."""
    kind = kind or FILE_KINDS.get(path.suffix.lower())
    if kind in ("xlsx", "xls"):
        kind = "excel"
    if kind not in ("csv", "excel", "parquet"):
        raise ExportError(
            f"{path}: unknown file type {path.suffix!r}; accepted: {sorted(FILE_KINDS)} "
            "(or pass kind='csv' / 'excel' / 'parquet')."
        )
    return kind


def read_source(
    source: Any,
    kind: str | None = None,
    column_map: Mapping[str, str] | None = None,
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> RawTable:
    """Read a path or a DataFrame into a :class:`RawTable`.

    Parameters
    ----------
    source : str, Path or DataFrame
        Relative paths are resolved with :func:`helpers.paths.resolve`.
    kind : {"csv", "excel", "parquet"}, optional
        File type when the extension does not tell.
    column_map : mapping, optional
        Helps find the header row.
    encoding : str, optional
        Text encoding of a CSV (default: detected).
    sheet : str or int, optional
        XLSX sheet name or 0-based index (default: the first sheet).

    Returns
    -------
    RawTable

    Raises
    ------
    ExportError
        Missing, unreadable, empty, binary or oversized file; unknown type.
    """
    if isinstance(source, pd.DataFrame):
        raw = source.reset_index(drop=True)
        raw.columns = unique_headers(list(raw.columns))
        return RawTable(raw, "<DataFrame>", None, None, np.arange(1, len(raw) + 1, dtype=np.int64))
    path = paths.resolve(source)
    file = str(path)
    with _os_errors(file):
        if not path.exists():
            raise ExportError(
                f"{source}: file not found (looked at {file}). Check the path; relative paths are "
                "taken from the current folder, then from the repo root."
            )
        if path.is_dir():
            raise ExportError(f"{file}: is a folder; use load_dataset() for a folder of exports.")
        kind = _resolve_kind(path, kind)
        if path.stat().st_size == 0:
            raise ExportError(
                f"{file}: the file is empty (0 bytes); export the data again from Seller Center."
            )
    if kind == "csv":
        return read_csv(path, column_map, encoding=encoding)
    if kind == "excel":
        return read_xlsx(path, column_map, sheet=sheet)
    return read_parquet(path)


def read_head_rows(
    path: Path, *, encoding: str | None = None, sheet: str | int | None = None
) -> list[list[Any]]:
    """The first :data:`HEADER_SCAN_ROWS` rows of a file (Parquet: its column names).

    For guessing what an export is (videos, creators, products) without reading it all;
    XLSX goes through the same limits as :func:`read_xlsx`.

    Raises
    ------
    ExportError
        As :func:`read_source`.
    """
    kind = _resolve_kind(path, None)
    file = str(path)
    with _os_errors(file):
        if kind == "parquet":
            import pyarrow.parquet as pq

            try:
                return [pq.read_schema(path).names]
            except Exception as exc:
                raise ExportError(f"{file}: cannot read the Parquet schema ({exc}).") from exc
        if kind == "excel":
            table = read_xlsx(path, None, sheet=sheet)
            return [list(table.raw.columns)]
        head = _read_head_lines(path)
        complete = len(head) >= path.stat().st_size
    if not head.strip():
        return []
    text = decode_export(head, file, encoding)[0] if encoding else _decode_head(head, file)
    text = _whole_lines(text, complete, file)
    return _head_rows(text, _sniff_delimiter(text))


def _decode_head(head: bytes, file: str) -> str:
    """Decode the first bytes of a file; a multi-byte character cut at the end is dropped."""
    for cut in range(4):
        try:
            return decode_export(head[: len(head) - cut], file)[0]
        except ExportError:
            if cut == 3:
                raise
    return ""


# -------------------------------------------------------------------------- folders

#: Suffixes that are never data, with what they are (for the skip reason).
NOT_DATA_SUFFIXES: dict[str, str] = {
    ".md": "a text document",
    ".pdf": "a PDF document",
    ".png": "an image",
    ".jpg": "an image",
    ".jpeg": "an image",
    ".gif": "an image",
    ".webp": "an image",
    ".svg": "an image",
    ".doc": "a Word document",
    ".docx": "a Word document",
    ".ppt": "a slide deck",
    ".pptx": "a slide deck",
    ".json": "a JSON file",
    ".yaml": "a YAML file (a data spec is read by load_dataset itself)",
    ".yml": "a YAML file (a data spec is read by load_dataset itself)",
    ".zip": "a zip archive (unzip it first)",
    ".html": "a web page",
    ".ipynb": "a notebook",
    ".py": "a Python file",
}


def skip_reason(path: Path, column_map: Mapping[str, str] | None = None) -> str | None:
    """Why a folder entry (or a glob match) is not read as data, or None when it is.

    Parameters
    ----------
    path : Path
        The entry.
    column_map : mapping, optional
        ``{header: canonical name}``: headers it names count as known when a ``.txt``
        file's first rows are judged.

    Returns
    -------
    str or None
        E.g. ``"hidden file"``, ``"not data (an image)"``, ``"text file without a table
        header (notes?)"``.
    """
    name, suffix = path.name, path.suffix.lower()
    if name.startswith("~$"):
        return "Office lock file (the workbook is open in Excel; the real file is read)"
    if name.startswith("."):
        return "hidden file"
    if path.is_dir():
        return "sub-folder (sub-folders are not searched)"
    if not path.is_file():
        return "not a regular file"
    if suffix == ".xls":
        return "old binary .xls workbook: save it as .xlsx to include it"
    if suffix in NOT_DATA_SUFFIXES:
        return f"not data ({NOT_DATA_SUFFIXES[suffix]})"
    if suffix not in FILE_KINDS:
        return (
            f"unknown file type {suffix or '(no extension)'!r}; data files are {sorted(FILE_KINDS)}"
        )
    if suffix == ".txt" and not _looks_tabular(path, column_map):
        return "text file without a table header (notes?)"
    return None


def _looks_tabular(path: Path, column_map: Mapping[str, str] | None = None) -> bool:
    """True when a .txt file's first rows have a header naming two known columns."""
    try:
        rows = read_head_rows(path)
    except ExportError:
        return False
    return bool(rows) and header_score(rows[find_header(rows, column_map)], column_map) >= 2


def list_data_files(
    folder: Path | str, column_map: Mapping[str, str] | None = None
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Split a folder's entries into data files and skipped entries.

    Parameters
    ----------
    folder : Path or str
        The folder (not searched recursively).
    column_map : mapping, optional
        Headers it maps count as known when a ``.txt`` file is judged (see
        :func:`skip_reason`).

    Returns
    -------
    data_files : list of Path
        CSV/TSV/XLSX/XLSM/Parquet files, and .txt files whose first rows hold an export
        header, sorted by name.
    skipped : list of (str, str)
        ``(file name, reason)`` for everything else: notes, documents, images, hidden
        files, Office lock files (``~$x.xlsx``), sub-folders, unknown extensions.

    Raises
    ------
    ExportError
        The folder cannot be listed (permission denied, not a folder).
    """
    folder = Path(folder)
    with _os_errors(str(folder)):
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    data: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for entry in entries:
        with _os_errors(str(entry)):
            reason = skip_reason(entry, column_map)
        if reason is None:
            data.append(entry)
        else:
            skipped.append((entry.name, reason))
    return data, skipped
