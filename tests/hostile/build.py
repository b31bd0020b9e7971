"""File writers for the hostile corpus: CSV text in any encoding, hand-made XLSX
(including a zip bomb), Parquet, PNG and other non-data bytes.

Everything is generated at test time from a few seeded rows; nothing binary is
committed. The XLSX writer is hand-rolled (not openpyxl) where the point is a file
openpyxl would never write: a shared-strings member that expands to 1 GiB, a sheet
of six million rows, a formula with a cached value.
"""

from __future__ import annotations

import csv
import functools
import io
import struct
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

__all__ = [
    "HEADER",
    "HEADER_ZH",
    "base_rows",
    "csv_text",
    "png_bytes",
    "write_csv",
    "write_parquet",
    "write_xlsx",
    "write_xlsx_openpyxl",
    "xlsx_rows_bomb",
    "xlsx_shared_strings_bomb",
    "zip_bytes",
]

#: Seller Center style English headers. Every column the loader of today's main
#: requires is present, so a case fails only on the hostile thing it carries.
HEADER: list[str] = [
    "Video ID",
    "Creator name",
    "Site",
    "Product ID",
    "Followers",
    "Category",
    "Commission rate",
    "Video product impressions",
    "Video product clicks",
    "Video-attributed orders",
    "Creator video-attributed GMV",
    "Post date",
]
HEADER_ZH: list[str] = [
    "视频ID",
    "达人名称",
    "站点",
    "商品ID",
    "粉丝数",
    "商品类目",
    "佣金率",
    "视频商品曝光次数",
    "视频商品点击量",
    "归因于视频的订单数",
    "视频归因GMV",
    "发布日期",
]

COL = {name: i for i, name in enumerate(HEADER)}
CATEGORIES = ("beauty", "home", "toys")


def base_rows(n: int = 10, *, site: str = "US", money: str = "${:,.2f}") -> list[list[str]]:
    """``n`` clean rows as export text: distinct video ids, clicks <= impressions,
    orders <= clicks, ISO dates, "15%" commission.

    Row ``i`` (0-based) has impressions ``1000 + 100 i``, clicks ``50 + i``, orders
    ``5``, GMV ``100 + i`` (formatted with ``money``), followers ``5000 (i + 1)``.
    """
    rows = []
    for i in range(n):
        rows.append(
            [
                f"73000000000000{i:05d}",
                f"creator_{i % 4}",
                site,
                f"P{i % 3}",
                str(5000 * (i + 1)),
                CATEGORIES[i % 3],
                "15%",
                str(1000 + 100 * i),
                str(50 + i),
                "5",
                money.format(100 + i),
                f"2026-11-{i + 1:02d}",
            ]
        )
    return rows


def csv_text(header: Sequence[str] | None, rows: Iterable[Sequence[Any]], *, sep: str = ",") -> str:
    """CSV text (``\\n`` line ends, minimal quoting) for a header and rows."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    if header is not None:
        w.writerow(header)
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def write_csv(
    path: Path,
    header: Sequence[str] | None,
    rows: Iterable[Sequence[Any]],
    *,
    sep: str = ",",
    encoding: str = "utf-8",
    newline: str = "\n",
    prefix: str = "",
) -> Path:
    """Write a CSV export; ``prefix`` is raw text put before the header (title rows)."""
    text = prefix + csv_text(header, rows, sep=sep)
    if newline != "\n":
        text = text.replace("\n", newline)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def write_parquet(path: Path, columns: dict[str, Any]) -> Path:
    """Write a Parquet file from ``{name: pyarrow array or list}`` (types kept)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


def write_xlsx_openpyxl(path: Path, sheets: dict[str, Sequence[Sequence[Any]]]) -> Path:
    """An ordinary workbook written by openpyxl: ``{sheet name: rows}``."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(list(r))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# ----------------------------------------------------------------- hand-made XLSX

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


def _col_letters(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell_xml(ref: str, value: Any) -> str:
    """One ``<c>``: str -> inline string, bool -> t="b", number -> n, ("=", f, cached)."""
    if value is None:
        return ""
    if isinstance(value, tuple) and value and value[0] == "=":
        _, formula, cached = value
        return f'<c r="{ref}"><f>{escape(formula)}</f><v>{cached}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return (
        f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'
    )


def _sheet_xml(rows: Sequence[Sequence[Any]]) -> str:
    out = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_NS}"><sheetData>'
    ]
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell_xml(f"{_col_letters(c)}{r}", v) for c, v in enumerate(row))
        out.append(f'<row r="{r}">{cells}</row>')
    out.append("</sheetData></worksheet>")
    return "".join(out)


def _package_members(sheet_names: Sequence[str], shared_strings: bool) -> dict[str, bytes]:
    """Content types, relationships and workbook for ``sheet_names``."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheet_names) + 1)
    )
    if shared_strings:
        overrides += (
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' + overrides + "</Types>"
    )
    root_rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_PKG_REL}">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    sheets = "".join(
        f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, n in enumerate(sheet_names, start=1)
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{_NS}" '
        f'xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>'
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheet_names) + 1)
    )
    if shared_strings:
        k = len(sheet_names) + 1
        rels += (
            f'<Relationship Id="rId{k}" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    wb_rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>'
    )
    return {
        "[Content_Types].xml": types.encode(),
        "_rels/.rels": root_rels.encode(),
        "xl/workbook.xml": workbook.encode(),
        "xl/_rels/workbook.xml.rels": wb_rels.encode(),
    }


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[Any]]]) -> Path:
    """A minimal valid workbook with inline strings (no styles, no shared strings)."""
    members = _package_members(list(sheets), shared_strings=False)
    for i, rows in enumerate(sheets.values(), start=1):
        members[f"xl/worksheets/sheet{i}.xml"] = _sheet_xml(rows).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zip_bytes({k: _deflated(v) for k, v in members.items()}))
    return path


# ----------------------------------------------------------------- zip by hand


class _Member:
    """A zip member given as raw DEFLATE data (or stored bytes), with its CRC and size."""

    def __init__(self, data: bytes, crc: int, size: int, method: int) -> None:
        self.data, self.crc, self.size, self.method = data, crc, size, method


def _deflated(raw: bytes) -> _Member:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return _Member(c.compress(raw) + c.flush(), zlib.crc32(raw), len(raw), 8)


def zip_bytes(members: dict[str, _Member]) -> bytes:
    """A zip archive (no ZIP64: every member under 4 GiB) from prepared members."""
    out = bytearray()
    central = bytearray()
    for name, m in members.items():
        fname = name.encode()
        offset = len(out)
        out += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            0,
            m.method,
            0,
            0x21,
            m.crc,
            len(m.data),
            m.size,
            len(fname),
            0,
        )
        out += fname + m.data
        central += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            0,
            m.method,
            0,
            0x21,
            m.crc,
            len(m.data),
            m.size,
            len(fname),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += fname
    cd_offset = len(out)
    out += central
    out += struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), cd_offset, 0
    )
    return bytes(out)


def _repeated(prefix: bytes, chunk: bytes, times: int, suffix: bytes) -> _Member:
    """DEFLATE data for ``prefix + chunk * times + suffix`` built in O(len(chunk)) work.

    Each piece is compressed by a fresh compressor and ends with a full flush, so it is
    byte-aligned and refers to no earlier data: the compressed chunk can simply be
    repeated. The CRC is computed over the real content (what a reader would check).
    """

    def piece(raw: bytes) -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(raw) + c.flush(zlib.Z_FULL_FLUSH)

    body = piece(chunk)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    data = piece(prefix) + body * times + piece(suffix) + final
    crc = zlib.crc32(prefix)
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(suffix, crc)
    return _Member(data, crc & 0xFFFFFFFF, len(prefix) + len(chunk) * times + len(suffix), 8)


@functools.lru_cache(maxsize=1)
def xlsx_shared_strings_bomb(gib: float = 1.0) -> bytes:
    """A ~1 MB workbook whose ``xl/sharedStrings.xml`` expands to ``gib`` GiB.

    The sheet is an ordinary small export whose cells point into the shared strings,
    so a reader that decompresses first and asks questions later reads it all.
    """
    chunk = ("<si><t>" + "A" * 100 + "</t></si>").encode() * 8000
    times = -(-int(gib * (1 << 30)) // len(chunk))  # at least gib GiB
    prefix = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{_NS}" '
        f'count="{8000 * times}" uniqueCount="{8000 * times}">'
    ).encode()
    suffix = b"</sst>"
    members = {k: _deflated(v) for k, v in _package_members(["Videos"], True).items()}
    rows = [HEADER] + base_rows(10)
    sheet = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_NS}"><sheetData>'
    ]
    for r, row in enumerate(rows, start=1):
        cells = "".join(
            f'<c r="{_col_letters(c)}{r}" t="s"><v>{(r * 13 + c) % 8000}</v></c>'
            for c in range(len(row))
        )
        sheet.append(f'<row r="{r}">{cells}</row>')
    sheet.append("</sheetData></worksheet>")
    members["xl/worksheets/sheet1.xml"] = _deflated("".join(sheet).encode())
    members["xl/sharedStrings.xml"] = _repeated(prefix, chunk, times, suffix)
    return zip_bytes(members)


@functools.lru_cache(maxsize=1)
def xlsx_rows_bomb(n_rows: int = 6_000_000) -> bytes:
    """A small workbook whose only sheet is a clicks column of ``n_rows`` rows (no
    ``<dimension>``: the row count is not announced; ~26 bytes a row)."""
    members = {k: _deflated(v) for k, v in _package_members(["Videos"], False).items()}
    head = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_NS}"><sheetData>'
        '<row><c t="inlineStr"><is><t>Video product clicks</t></is></c></row>'
    ).encode()
    row = b"<row><c><v>1</v></c></row>"
    per_chunk = 1000
    members["xl/worksheets/sheet1.xml"] = _repeated(
        head, row * per_chunk, n_rows // per_chunk, b"</sheetData></worksheet>"
    )
    return zip_bytes(members)


# ----------------------------------------------------------------- not-data bytes


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    """A valid grey PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">L", len(data))
            + kind
            + data
            + struct.pack(">L", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">2L5B", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + bytes(range(width)) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


#: First bytes of an OLE2 compound file (what a password-protected .xlsx or an old
#: .xls is), padded to one 512-byte sector.
OLE2_HEADER: bytes = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504

#: A PDF header and a one-line body.
PDF_BYTES: bytes = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
