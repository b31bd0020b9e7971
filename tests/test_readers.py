"""helpers.io.readers: encodings, line endings, OS errors, XLSX limits, folder listing.

Every input is generated in tmp_path at test time (no committed binaries), and every
test that reads a file checks that its bytes and mtime are unchanged afterwards.
"""

from __future__ import annotations

import contextlib
import os
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.errors import ExportError
from helpers.io import readers
from helpers.io.readers import decode_export, list_data_files, read_source
from helpers.load import load_dataset, read_export

HEADER = (
    "Video ID,Creator name,Site,Followers,Category,Commission rate,"
    "Video product impressions,Video product clicks,Video-attributed orders,Creator-attributed GMV"
)


def line(vid: str, creator: str, clicks: str = "50") -> str:
    return f"{vid},{creator},US,12000,beauty,12.5%,1000,{clicks},3,$12.50"


ROWS = [line("1", "Müller"), line("2", "Zoë"), line("3", "José")]


@contextlib.contextmanager
def unchanged(*files: Path) -> Iterator[None]:
    """Assert that reading leaves each file's bytes and mtime as they were."""
    before = {}
    for f in files:
        os.utime(f, (1_000_000_000, 1_000_000_000))
        before[f] = (f.read_bytes(), f.stat().st_mtime_ns)
    yield
    for f, (data, mtime) in before.items():
        assert f.read_bytes() == data and f.stat().st_mtime_ns == mtime, f


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_latin1_and_cp1252_decode_correctly(tmp_path: Path, encoding: str) -> None:
    p = write(tmp_path / "v.csv", "\n".join([HEADER, *ROWS, ""]).encode(encoding))
    with unchanged(p):
        r = read_export(p)
    assert list(r.data["creator_id"]) == ["Müller", "Zoë", "José"]
    assert r.summary.encoding == "cp1252"


def test_cp1252_euro_sign_and_quotes() -> None:
    text, enc = decode_export("name,fee\n“Müller”,€5\n".encode("cp1252"), "f.csv")
    assert enc == "cp1252" and text == "name,fee\n“Müller”,€5\n"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("达人名称,类目\n小明,美妆\n小红,家居\n", "gb18030"),
        ("達人名稱,粉絲數\n小明,100\n", "big5"),
        ("名前,フォロワー\n田中,100\n", "cp932"),
        ("Creator name\tFollowers\nMüller\t100\n", "utf-16"),
    ],
)
def test_other_encodings_are_detected(text: str, encoding: str) -> None:
    decoded, enc = decode_export(text.encode(encoding), "f.csv")
    assert decoded == text and enc == encoding


def test_utf16_tab_separated_export(tmp_path: Path) -> None:
    """Excel's "Unicode text": UTF-16 with a byte order mark, tab-separated."""
    text = "\r\n".join(r.replace(",", "\t") for r in [HEADER, *ROWS]) + "\r\n"
    p = write(tmp_path / "v.txt", text.encode("utf-16"))
    q = write(tmp_path / "w.txt", text.encode("utf-16-le"))
    with unchanged(p, q):
        r = read_export(p)
        assert list(r.data["creator_id"]) == ["Müller", "Zoë", "José"]
        with pytest.raises(ExportError, match='encoding="utf-16-le"'):
            read_export(q)
        same = read_export(q, encoding="utf-16-le").data
        assert same.drop(columns="source_file").equals(r.data.drop(columns="source_file"))


def test_utf8_file_with_a_latin1_byte_is_mojibake_error(tmp_path: Path) -> None:
    data = "\n".join([HEADER, line("1", "Müller"), line("2", "达人"), ""]).encode("utf-8")
    p = write(tmp_path / "v.csv", data + line("3", "Zoë").encode("latin-1") + b"\n")
    with unchanged(p), pytest.raises(ExportError) as err:
        read_export(p)
    msg = str(err.value)
    assert str(p) in msg and "mojibake" in msg and "utf-8" in msg and "gb18030" in msg
    assert "encoding: latin-1" in msg and 'encoding="latin-1"' in msg


def test_latin1_bytes_never_become_cjk(tmp_path: Path) -> None:
    """GB18030 decodes 'Müller' in Latin-1 as 'M黮ler'; the detector must not pick it."""
    rows = [line(str(i), name) for i, name in enumerate(["alice"] * 50 + ["Müller", "Søren"])]
    p = write(tmp_path / "v.csv", "\n".join([HEADER, *rows, ""]).encode("latin-1"))
    assert "黮" in p.read_bytes().decode("gb18030")
    with unchanged(p):
        r = read_export(p)
    assert list(r.data["creator_id"])[-2:] == ["Müller", "Søren"]


def test_encoding_option_is_passed_down(tmp_path: Path) -> None:
    data = "\n".join([HEADER, line("1", "Müller"), ""]).encode("utf-8")
    p = write(tmp_path / "videos.csv", data + line("2", "Zoë").encode("latin-1") + b"\n")
    with unchanged(p):
        r = read_export(p, encoding="latin-1")
        assert r.summary.encoding == "latin-1"
        # The fix the error message suggests works through every entry point.
        assert load_dataset(tmp_path, encoding="latin-1").summary.rows_read == 2
        from helpers.load import assemble

        assert assemble(p, encoding="latin-1").summary.rows_read == 2
    assert list(r.data["creator_id"]) == ["MÃ¼ller", "Zoë"]  # what the user asked for


def test_replacement_characters_are_refused(tmp_path: Path) -> None:
    p = write(tmp_path / "v.csv", "\n".join([HEADER, line("1", "M\ufffdller"), ""]).encode())
    with unchanged(p), pytest.raises(ExportError, match="replacement characters") as err:
        read_export(p)
    assert "line 2" in str(err.value) and "encoding: latin-1" in str(err.value)


def test_unknown_or_wrong_encoding_option(tmp_path: Path) -> None:
    p = write(tmp_path / "v.csv", "\n".join([HEADER, *ROWS, ""]).encode("latin-1"))
    with unchanged(p):
        with pytest.raises(ExportError, match="unknown encoding 'klingon'"):
            read_export(p, encoding="klingon")
        with pytest.raises(ExportError, match="cannot decode the file as utf-8"):
            read_export(p, encoding="utf-8")


def test_gb_latin_tie_is_settled_by_byte_runs() -> None:
    # Both GB18030 and cp1252 read these cleanly by the mess detector alone.
    assert decode_export("name\n你\n".encode("gb18030"), "f")[1] == "gb18030"
    assert decode_export("name\nSão\n".encode("latin-1"), "f")[0] == "name\nSão\n"
    with pytest.raises(ExportError, match="ambiguous") as err:
        decode_export(b"name\n\xc4\xe3\nS\xe3o\n", "f.csv")
    assert "gb18030" in str(err.value) and "encoding: latin-1" in str(err.value)


# ------------------------------------------------------------- line endings, binary


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_line_endings(tmp_path: Path, newline: str) -> None:
    rows = [*ROWS, line("4", "bob", clicks="abc")]
    p = write(tmp_path / "v.csv", newline.join([HEADER, *rows, ""]).encode("utf-8"))
    with unchanged(p):
        r = read_export(p)
    assert r.summary.rows_read == 4 and list(r.data["creator_id"]) == ["Müller", "Zoë", "José"]
    assert r.rejected["row"].tolist() == [5]


def test_mixed_line_endings_and_cr_only_legacy_encoding(tmp_path: Path) -> None:
    mixed = HEADER + "\r\n" + ROWS[0] + "\n" + ROWS[1] + "\r" + ROWS[2] + "\r\n"
    p = write(tmp_path / "v.csv", mixed.encode("utf-8"))
    q = write(tmp_path / "w.csv", mixed.replace("\r\n", "\r").encode("latin-1"))
    with unchanged(p, q):
        for f in (p, q):
            r = read_export(f)
            assert list(r.data["creator_id"]) == ["Müller", "Zoë", "José"], f


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (HEADER.encode() + b"\n1,al\x00ice,US\n", "NUL bytes"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "PNG image"),
        (b"PK\x03\x04" + bytes(200), "zip archive"),
        (bytes((i * 7919 + 13) % 256 for i in range(5000)), "not a"),
    ],
)
def test_binary_garbage_is_not_a_text_export(tmp_path: Path, data: bytes, what: str) -> None:
    p = write(tmp_path / "v.csv", data)
    with unchanged(p), pytest.raises(ExportError, match=what) as err:
        read_export(p)
    assert str(p) in str(err.value) and "Fix" in str(err.value)


def test_nul_bytes_past_the_head_are_found(tmp_path: Path) -> None:
    body = "\n".join(line(str(i), "alice") for i in range(8000))
    p = write(tmp_path / "v.csv", (HEADER + "\n" + body + "\n").encode() + b"x\x00y\n")
    assert p.stat().st_size > 4 * 65536
    with unchanged(p), pytest.raises(ExportError, match="NUL bytes"):
        read_export(p)


# ------------------------------------------------------------------- wide headers


def _wide_csv(path: Path, extra: int, newline: str = "\n", encoding: str = "utf-8") -> Path:
    """An export whose header and rows carry ``extra`` more numeric columns."""
    names = [f"Daily metric number {j:05d}" for j in range(extra)]
    header = ",".join([HEADER, *names])
    rows = [",".join([r, *(str(j % 7) for j in range(extra))]) for r in ROWS]
    return write(path, newline.join([header, *rows, ""]).encode(encoding))


@pytest.mark.parametrize(("newline", "encoding"), [("\n", "utf-8"), ("\r", "latin-1")])
def test_header_longer_than_the_head_is_read_whole(
    tmp_path: Path, newline: str, encoding: str
) -> None:
    p = _wide_csv(tmp_path / "v.csv", 12_000, newline, encoding)
    assert len(p.read_bytes().split(newline.encode())[0]) > 4 * 65536  # beyond the first read
    with unchanged(p):
        r = read_export(p)
    assert r.summary.rows_kept == 3 and r.summary.rows_rejected == 0
    assert list(r.data["creator_id"]) == ["Müller", "Zoë", "José"]
    assert r.data.shape[1] > 12_000
    assert r.data["daily_metric_number_11999"].tolist() == [11999 % 7] * 3
    assert readers.read_head_rows(p, encoding=encoding)[0][-1] == "Daily metric number 11999"


def test_more_columns_than_excel_allows_is_refused(tmp_path: Path) -> None:
    p = _wide_csv(tmp_path / "v.csv", readers.CSV_MAX_COLUMNS)
    with unchanged(p), pytest.raises(ExportError, match=r"16,394 columns, more than the 16,384"):
        read_source(p)


def test_first_line_beyond_the_head_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "CSV_MAX_HEAD_BYTES", 512 * 1024)
    p = _wide_csv(tmp_path / "v.csv", 60_000)
    with unchanged(p), pytest.raises(ExportError, match="first line is longer than 512 kB") as e:
        read_source(p)
    assert str(p) in str(e.value) and "Fix" in str(e.value)


# ---------------------------------------------------------------------- quotes


@pytest.mark.parametrize(
    ("newline", "encoding", "column"),
    [("\n", "utf-8", 1), ("\r\n", "utf-8", 9), ("\r", "latin-1", 1), ("\n", "utf-8", 9)],
)
def test_unclosed_quote_is_an_error_naming_its_line(
    tmp_path: Path, newline: str, encoding: str, column: int
) -> None:
    """A quote opened on line 4 and never closed would swallow lines 5-8 into one cell
    (a 'malformed line' when it opens early in the row, a kept row when it opens the
    last cell): an ExportError naming the line, never rows that silently vanish."""
    rows = [line(str(i), f"créateur {i}") for i in range(1, 8)]
    cells = rows[2].split(",")
    cells[column] = '"' + cells[column]
    rows[2] = ",".join(cells)
    p = write(tmp_path / "v.csv", newline.join([HEADER, *rows, ""]).encode(encoding))
    with unchanged(p), pytest.raises(ExportError) as err:
        read_export(p)
    msg = str(err.value)
    assert msg.startswith(f'{p}: line 4: a quote (") opens a cell here and is never closed')
    assert "the 4 line(s) after it" in msg and "delete the stray quote on line 4" in msg
    assert repr(",".join(cells[max(0, column - 1) : column + 1]))[1:-1] in msg


def test_quotes_that_close_are_not_refused(tmp_path: Path) -> None:
    rows = [line("1", '"two\nlines"'), line("2", "b"), line("3", "c")]
    rows[2] = rows[2][: -len("$12.50")] + '"$12\n.50"'  # last cell of the last row spans lines
    end_quote = write(tmp_path / "a.csv", "\n".join([HEADER, *rows]).encode())
    stray = write(tmp_path / "b.csv", "\n".join([HEADER, *ROWS[:2], ROWS[2] + '"']).encode())
    with unchanged(end_quote, stray):
        a = read_source(end_quote)
        b = read_source(stray)
    assert a.raw.shape[0] == 3 and a.raw.iloc[0, 1] == "two\nlines"
    assert a.raw.iloc[2, -1] == "$12\n.50"
    assert b.raw.shape[0] == 3 and b.raw.iloc[2, -1] == '$12.50"'  # one cell, no line lost


# ------------------------------------------------------------------------ Parquet


def test_parquet_float_nan_is_kept_apart_from_null(tmp_path: Path) -> None:
    """A NaN value in a Parquet float column is "not finite" (rejected with that
    reason), a null is missing; a float column without NaN stays numpy float64."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "videos.parquet"
    pq.write_table(
        pa.table(
            {
                "Creator name": ["a", "b", "c", "d"],
                "Site": ["US"] * 4,
                "Video product impressions": [1000.0, 1000.0, 1000.0, 1000.0],
                "Video product clicks": pa.array([50.0, float("nan"), None, 40.0]),
                "Video-attributed orders": pa.array([5, 4, 3, 2], type=pa.int64()),
            }
        ),
        p,
    )
    with unchanged(p):
        table = read_source(p)
        r = read_export(p)
    raw = table.raw
    assert str(raw["Video product clicks"].dtype) == "Float64"
    assert raw["Video product clicks"].isna().tolist() == [False, False, True, False]
    assert raw["Video product impressions"].dtype == "float64"
    assert r.summary.rows_read == 4 and r.data["creator_id"].tolist() == ["a", "d"]
    reasons = dict(zip(r.rejected["row"], r.rejected["reason"], strict=True))
    assert reasons[2].startswith("clicks not finite")
    assert "not finite" not in reasons[3] and "missing clicks" in reasons[3]


# ---------------------------------------------------------------------- OS errors


def test_folder_missing_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        read_export(tmp_path / "dir.csv")
    with pytest.raises(ExportError, match="not found"):
        read_export(tmp_path / "nope.csv")
    empty = write(tmp_path / "empty.csv", b"")
    blank = write(tmp_path / "blank.csv", b" \r\n\n")
    header_only = write(tmp_path / "h.csv", (HEADER + "\r").encode())
    xlsx = write(tmp_path / "empty.xlsx", b"")
    with unchanged(empty, blank, header_only, xlsx):
        for f in (empty, blank, xlsx):
            with pytest.raises(ExportError, match="empty") as err:
                read_export(f)
            assert str(f) in str(err.value) and "export the data again" in str(err.value)
        assert read_export(header_only).summary.rows_read == 0


def test_permission_denied_is_an_export_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write(tmp_path / "v.csv", "\n".join([HEADER, *ROWS]).encode())
    real_open = Path.open

    def locked(self: Path, *args: object, **kwargs: object) -> object:
        if self == p:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", locked)
    with pytest.raises(ExportError, match="permission denied") as err:
        read_export(p)
    assert str(p) in str(err.value) and "read access" in str(err.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_permission_denied_for_real(tmp_path: Path) -> None:
    p = write(tmp_path / "v.csv", "\n".join([HEADER, *ROWS]).encode())
    p.chmod(0)
    try:
        with pytest.raises(ExportError, match="permission denied"):
            read_export(p)
    finally:
        p.chmod(0o644)


# -------------------------------------------------------------------------- XLSX

_CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
    'application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{sheets}</Types>'
)
_SHEET_CT = (
    '<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def _cell(ref: str, value: object) -> str:
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def _sheet_xml(rows: list[list[object]]) -> str:
    body = "".join(
        f'<row r="{r}">'
        + "".join(_cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(row) if v is not None)
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}><sheetData>{body}</sheetData></worksheet>'


def skeleton(sheets: dict[str, str], shared: str | None = None) -> dict[str, bytes]:
    """Members of a minimal valid workbook: sheet name -> worksheet XML (+ sharedStrings)."""
    names = list(sheets)
    wb = "".join(
        f'<sheet name="{n}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, n in enumerate(names)
    )
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="{_REL}worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
        for i in range(len(names))
    )
    if shared is not None:
        rels += f'<Relationship Id="rIdS" Type="{_REL}sharedStrings" Target="sharedStrings.xml"/>'
    members = {
        "[Content_Types].xml": _CT.format(
            sheets="".join(_SHEET_CT.format(i=i + 1) for i in range(len(names)))
        ),
        "_rels/.rels": _RELS,
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook {_NS} {_R_NS}><sheets>{wb}</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships '
        f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>',
    }
    members.update({f"xl/worksheets/sheet{i + 1}.xml": sheets[n] for i, n in enumerate(names)})
    if shared is not None:
        members["xl/sharedStrings.xml"] = shared
    return {k: v.encode() for k, v in members.items()}


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def write_raw_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip from already-deflated members ``(name, deflate bytes, crc, declared size)``."""
    out, central = bytearray(), bytearray()
    for name, comp, crc, size in members:
        n = name.encode()
        header = struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(comp), size, len(n), 0
        )
        central += (
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(comp),
                size,
                len(n),
                0,
                0,
                0,
                0,
                0,
                len(out),
            )
            + n
        )
        out += header + n + comp
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(out), 0
    )
    path.write_bytes(bytes(out + central + end))
    return path


def deflate(data: bytes) -> tuple[bytes, int, int]:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(), zlib.crc32(data), len(data)


def bomb_members(
    real_size: int, declared_size: int | None = None
) -> list[tuple[str, bytes, int, int]]:
    """A tiny valid workbook whose sharedStrings.xml inflates to ``real_size`` bytes.

    The deflate stream is one 1 MiB block, flushed so that it can be repeated: building
    a 1 GiB bomb costs milliseconds and ~1 MB of disk."""
    block = b"<si><t>" + b"A" * (1024 * 1024 - 15) + b"</t></si>"
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
    head += c.flush(zlib.Z_FULL_FLUSH)
    seg = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.compress(b"</sst>") + c.flush()
    stream = head + seg * (real_size // len(block)) + tail
    sheet = _sheet_xml([["Creator name"], ["x"]])
    members = [(n, *deflate(d)) for n, d in skeleton({"S": sheet}, shared="").items()]
    members = [m for m in members if m[0] != "xl/sharedStrings.xml"]
    return [*members, ("xl/sharedStrings.xml", stream, 0, declared_size or real_size)]


@contextlib.contextmanager
def bounded(seconds: float, megabytes: float) -> Iterator[None]:
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 1024**2
        tracemalloc.stop()
    assert elapsed < seconds and peak < megabytes, (elapsed, peak)


def test_xlsx_bomb_is_refused_from_the_zip_directory(tmp_path: Path) -> None:
    p = write_raw_zip(tmp_path / "bomb.xlsx", bomb_members(1024**3))
    assert p.stat().st_size < 2 * 1024**2
    with unchanged(p), bounded(seconds=5, megabytes=50), pytest.raises(ExportError) as err:
        read_export(p)
    msg = str(err.value)
    assert "1,024 MB" in msg and "200 MB" in msg and "split the export" in msg and str(p) in msg


def test_xlsx_bomb_with_a_lying_directory_is_refused_while_inflating(tmp_path: Path) -> None:
    p = write_raw_zip(tmp_path / "liar.xlsx", bomb_members(1024**3, declared_size=1024**2))
    with unchanged(p), bounded(seconds=5, megabytes=50), pytest.raises(ExportError) as err:
        read_export(p)
    assert "more than the 1,048,576 bytes the zip directory declares" in str(err.value)


def test_far_cell_reference_is_refused_before_calamine_allocates(tmp_path: Path) -> None:
    """One cell at XFD1048576 would make calamine allocate ~550 GB (the process aborts)."""
    sheet = _sheet_xml([["Creator name"]]).replace(
        "</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    )
    p = write_zip(tmp_path / "far.xlsx", skeleton({"S": sheet}))
    with unchanged(p), pytest.raises(ExportError, match="column 16,384") as err:
        read_export(p)
    assert "500 columns" in str(err.value)


def test_row_and_cell_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [["Creator name", "Followers"]] + [["a", i] for i in range(30)]
    p = write_zip(tmp_path / "v.xlsx", skeleton({"S": _sheet_xml(rows)}))
    assert read_source(p).raw.shape == (30, 2)
    monkeypatch.setattr(readers, "XLSX_MAX_ROWS", 20)
    with unchanged(p), pytest.raises(ExportError, match="row 31 .*20 rows"):
        read_source(p)
    monkeypatch.setattr(readers, "XLSX_MAX_ROWS", 100)
    monkeypatch.setattr(readers, "XLSX_MAX_CELLS", 50)
    with pytest.raises(ExportError, match="62 cells"):
        read_source(p)


def test_not_a_zip_xlsx(tmp_path: Path) -> None:
    p = write(tmp_path / "v.xlsx", ("\n".join([HEADER, *ROWS])).encode())
    with unchanged(p), pytest.raises(ExportError, match="not a zip|is not") as err:
        read_export(p)
    assert "rename it to .csv" in str(err.value)


def test_xlsx_sheet_option_and_values(tmp_path: Path) -> None:
    notes = _sheet_xml([["Read me first"]])
    data = _sheet_xml(
        [
            ["Report title"],
            [],
            HEADER.split(","),
            [7, "Müller", "US", 12000.0, "beauty", 0.125, 1000, 50, 3, 12.5],
        ]
    )
    p = write_zip(tmp_path / "v.xlsx", skeleton({"Notes": notes, "Data": data}))
    with unchanged(p):
        by_name = read_export(p, sheet="Data")
        by_index = read_export(p, sheet=1)
        with pytest.raises(ExportError, match=r"no sheet 'Nope'.*\['Notes', 'Data'\]"):
            read_export(p, sheet="Nope")
        with pytest.raises(ExportError, match="no sheet 5"):
            read_export(p, sheet=5)
        default = read_source(p)  # the first sheet with a recognisable header
        q = write_zip(tmp_path / "w.xlsx", skeleton({"A": data, "B": notes}))
        assert read_source(q, sheet=1).raw.columns.tolist() == ["Read me first"]
    assert default.encoding == "xlsx (sheet 'Data')" and len(default.raw) == 1
    assert read_source(q).encoding == "xlsx (sheet 'A')"
    assert by_name.summary.header_row == 3 and by_name.summary.rows_kept == 1
    assert by_name.data["creator_id"].iloc[0] == "Müller"
    assert by_name.data["followers"].iloc[0] == 12000 and by_index.data.equals(by_name.data)
    assert read_source(p, sheet="Data").raw["Followers"].iloc[0] == "12000"


def test_xlsx_values_right_of_the_header_are_refused(tmp_path: Path) -> None:
    sheet = _sheet_xml([["Creator name", "Followers"], ["a", 1, "stray"]])
    p = write_zip(tmp_path / "v.xlsx", skeleton({"S": sheet}))
    with unchanged(p), pytest.raises(ExportError, match=r"rows \[2\] have values to the right"):
        read_source(p)


def test_xlsx_damaged_member_is_an_export_error(tmp_path: Path) -> None:
    members = skeleton({"S": _sheet_xml([["Creator name"], ["a"]])})
    members["xl/worksheets/sheet1.xml"] = b"<worksheet><sheetData><row><c"
    p = write_zip(tmp_path / "v.xlsx", members)
    with unchanged(p), pytest.raises(ExportError, match="re-save"):
        read_source(p)


# ------------------------------------------------------------------------ folders


def make_folder(folder: Path) -> list[Path]:
    files = [
        write(folder / "videos.csv", "\n".join([HEADER, *ROWS, ""]).encode()),
        write(folder / "notes.txt", b"Exported on Monday; ask Li about week 3.\n"),
        write(folder / "README.md", b"# data\n"),
        write(folder / "chart.png", b"\x89PNG\r\n\x1a\n"),
        write(folder / "photo.JPG", b"\xff\xd8\xff"),
        write(folder / "contract.pdf", b"%PDF-1.4"),
        write(folder / ".DS_Store", b"\x00\x01"),
        write(folder / "~$videos.xlsx", b"lock"),
        write(folder / "data.foo", b"?"),
        write(folder / "weekly.txt", "\t".join(HEADER.split(",")).encode() + b"\n"),
    ]
    (folder / "old").mkdir()
    return files


def test_list_data_files(tmp_path: Path) -> None:
    files = make_folder(tmp_path)
    with unchanged(*files):
        data, skipped = list_data_files(tmp_path)
    assert [f.name for f in data] == ["videos.csv", "weekly.txt"]
    reasons = dict(skipped)
    assert set(reasons) == {
        "notes.txt",
        "README.md",
        "chart.png",
        "photo.JPG",
        "contract.pdf",
        ".DS_Store",
        "~$videos.xlsx",
        "data.foo",
        "old",
    }
    assert "Office lock file" in reasons["~$videos.xlsx"] and reasons[".DS_Store"] == "hidden file"
    assert "image" in reasons["chart.png"] and "notes" in reasons["notes.txt"]
    assert "unknown file type '.foo'" in reasons["data.foo"] and "sub-folder" in reasons["old"]


def test_folder_with_stray_files_still_loads(tmp_path: Path) -> None:
    files = make_folder(tmp_path)
    (tmp_path / "weekly.txt").unlink()
    files = [f for f in files if f.exists()]
    with unchanged(*files):
        r = load_dataset(tmp_path)
    assert r.summary.rows_kept == 3
    notes = " | ".join(r.summary.notes)
    for name in ("notes.txt", "README.md", "chart.png", "~$videos.xlsx", ".DS_Store"):
        assert f"skipped {name}: " in notes


def test_list_data_files_errors(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="not found|folder"):
        list_data_files(tmp_path / "missing")


def test_cells_without_references_count_towards_the_limits(tmp_path: Path) -> None:
    """Cells and rows may omit r="..."; calamine then places them one after another."""
    plain = "".join(f"<row><c><v>{i}</v></c><c><v>{i + 1}</v></c></row>" for i in range(40))
    header = '<row><c t="inlineStr"><is><t>Creator name</t></is></c><c t="inlineStr"><is><t>Followers</t></is></c></row>'
    ok = f'<?xml version="1.0"?><worksheet {_NS}><sheetData>{header}{plain}</sheetData></worksheet>'
    p = write_zip(tmp_path / "ok.xlsx", skeleton({"S": ok}))
    with unchanged(p):
        assert read_source(p).raw.shape == (40, 2)
    wide = "<row>" + "<c><v>1</v></c>" * 600 + '</row><row r="1000"><c r="A1000"><v>1</v></c></row>'
    q = write_zip(
        tmp_path / "wide.xlsx",
        skeleton(
            {
                "S": f'<?xml version="1.0"?><worksheet {_NS}><sheetData>{wide}</sheetData></worksheet>'
            }
        ),
    )
    with unchanged(q), pytest.raises(ExportError, match="column 60[01] "):
        read_source(q)
