"""Load a customer table from CSV/TSV, Parquet or Excel, with checks a marketer understands.

The format comes from the file name and is confirmed by the file's first bytes, so a
renamed file fails with a plain message instead of a parser traceback. Size limits are
checked before the whole table is parsed. Loading never writes files.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from segmenter.errors import (
    DuplicateColumnsError,
    EmptyFileError,
    EncodingError,
    FileFormatError,
    ParameterError,
    SegmenterError,
    TooLargeError,
)
from segmenter.paths import require_file

# File extensions by format; compressed archives are refused (pandas must never unpack by name).
TEXT_EXTENSIONS = frozenset({".csv", ".tsv", ".txt"})
PARQUET_EXTENSIONS = frozenset({".parquet", ".pq"})
EXCEL_EXTENSIONS = frozenset({".xlsx"})
COMPRESSED_EXTENSIONS = frozenset({".gz", ".gzip", ".zip", ".bz2", ".xz", ".zst", ".7z", ".tgz", ".tar", ".rar"})

DELIMITERS = ",;|\t"
# Tried in order; utf-8-sig also reads UTF-8 without a BOM. cp1252 (Windows Excel) equals
# latin-1 for letters like "ü" and also maps bytes 0x80-0x9F (€, curly quotes) correctly.
ENCODINGS = ("utf-8-sig", "utf-8", "cp1252")
_HEAD_BYTES = 64 * 1024
PARQUET_BATCH_ROWS = 65536
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "|": "pipe", "\t": "tab"}


@dataclass(frozen=True)
class LoadLimits:
    """Upper bounds checked before a table is fully loaded.

    ``max_unpacked_bytes`` bounds what a compressed Parquet or Excel file may unpack to: a
    few KB of either can hold gigabytes of repeated text. ``max_columns`` bounds the width:
    every column is profiled and compared with the others, and a customer table rarely needs
    more than a few hundred.
    """

    max_bytes: int = 200 * 2**20
    max_rows: int = 2_000_000
    max_unpacked_bytes: int = 4 * 2**30
    max_columns: int = 2_000


def load_table(
    source: str | os.PathLike | bytes | pd.DataFrame,
    *,
    filename: str | None = None,
    limits: LoadLimits = LoadLimits(),
) -> pd.DataFrame:
    """Read a customer table and check it is a usable, non-empty table.

    Parameters
    ----------
    source : path of a ``.csv``/``.tsv``/``.txt``/``.parquet``/``.pq``/``.xlsx`` file, its raw
        bytes, or a DataFrame (validated and returned as is, without a copy).
    filename : name used for messages and to pick the format, e.g. the name of an uploaded
        file whose bytes or temporary path are given. Without it, the path's name is used;
        bytes without a name are recognised from their first bytes.
    limits : size caps, checked before the whole table is parsed.

    Returns
    -------
    DataFrame with stripped, unique column names and at least one row.

    Raises
    ------
    FileFormatError, EncodingError, EmptyFileError, DuplicateColumnsError, TooLargeError
    """
    if isinstance(source, pd.DataFrame):
        return _check_frame(source, f"'{filename}'" if filename else "the table", limits)
    raw_name, size, head, payload = _open_source(source, filename)
    name = f"'{raw_name}'" if raw_name else "the uploaded file"
    if size > limits.max_bytes:
        raise TooLargeError(
            f"{name} is {_size(size)}; the limit is {_size(limits.max_bytes)} "
            "— take a sample or raise the limit")
    if size == 0:
        raise EmptyFileError(f"{name}: the file is empty")
    fmt = _decide_format(raw_name, name, head)
    try:
        if fmt == "parquet":
            df = _read_parquet(payload, name, limits)
        elif fmt == "excel":
            df = _read_excel(payload, name, limits)
        else:
            data = payload if isinstance(payload, bytes) else Path(payload).read_bytes()
            df = _read_text(data, name, Path(raw_name).suffix.lower(), limits)
    except SegmenterError:
        raise
    except MemoryError as exc:
        raise TooLargeError(f"{name} is too large to load in this computer's memory "
                            "— take a sample or use a smaller file") from exc
    except Exception as exc:  # any parser failure becomes a plain message
        kind = {"parquet": "Parquet", "excel": "Excel"}.get(fmt, "CSV")
        raise FileFormatError(
            f"{name} could not be read as a {kind} table: the file looks damaged or is "
            f"not a valid {kind} file. Open it in the program that made it and export it again."
        ) from exc
    return _check_frame(df, name, limits)


# ----------------------------------------------------------------------------- source & format
def _open_source(source: Any, filename: str | None) -> tuple[str, int, bytes, bytes | str]:
    """Return (display name, size in bytes, first 64 KB, bytes or path) without reading it all."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return filename or "", len(data), data[:_HEAD_BYTES], data
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = filename or path.name
        require_file(path, name)
        try:
            with path.open("rb") as fh:
                head = fh.read(_HEAD_BYTES)
            return name, path.stat().st_size, head, str(path)
        except OSError as exc:
            raise FileFormatError(f"'{name}' could not be opened ({exc.strerror or 'access denied'}); "
                                  "check that the file is not open elsewhere and that you may read it") from exc
    raise ParameterError(f"load_table expects a file path, the file's bytes or a DataFrame; "
                         f"got {type(source).__name__}")


def _magic_kind(head: bytes) -> str | None:
    """Name the file type from its first bytes, or None for text/unknown."""
    signatures = (
        (b"PAR1", "parquet"), (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"\x1f\x8b", "gzip"),
        (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"\x28\xb5\x2f\xfd", "zstd"), (b"Rar!", "rar"), (b"%PDF", "pdf"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
        *((magic, f"image:{name}") for magic, name in _IMAGE_SIGNATURES),
    )
    if head[:2] == b"BM" and head[6:10] == b"\x00\x00\x00\x00":  # "BM", size, reserved zeros (not "BMI,age")
        return "image:BMP"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image:WebP"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "image:HEIC" if b"avif" not in head[4:12] else "image:AVIF"
    return next((kind for magic, kind in signatures if head.startswith(magic)), None)


#: First bytes of the image formats people upload by mistake (a screenshot of the table).
_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"\x00\x00\x01\x00", "ICO"),
)


def image_message(head: bytes) -> str | None:
    """The message for a file whose first bytes are an image, or None."""
    kind = _magic_kind(head) or ""
    if not kind.startswith("image:"):
        return None
    return (f"This file looks like an image ({kind.split(':', 1)[1]}), not a table: upload CSV, "
            "Parquet or Excel")


def _looks_binary(head: bytes) -> bool:
    """True for NUL bytes or more than 1% control characters: not a text table."""
    if head.startswith(_UTF16_BOMS):
        return False
    if b"\x00" in head:
        return True
    n_control = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return n_control > 0.01 * max(len(head), 1)


def _describe(head: bytes) -> tuple[str, str]:
    """What the first bytes look like, and what the user should do about it."""
    kind = _magic_kind(head)
    if kind == "parquet":
        return "a Parquet file", "rename it to .parquet"
    if kind == "zip":
        return "a zip archive (an Excel .xlsx file is one)", \
            "if it is an Excel file, rename it to .xlsx; otherwise unzip it first"
    if kind in ("gzip", "bzip2", "xz", "7z", "zstd", "rar"):
        return f"a compressed {kind} archive", "unzip it first and load the file inside"
    if kind == "ole":
        return "an old-style .xls or a password-protected workbook", \
            "open it in Excel and save it as .xlsx (without a password) or as CSV UTF-8"
    if kind == "pdf":
        return "a PDF document", "export the table as CSV or Excel from the program that made it"
    if _looks_binary(head):
        return "binary data, not a text table", "export the table as CSV, Parquet or Excel"
    return "plain text (a CSV?)", "rename it to .csv"


def _decide_format(raw_name: str, name: str, head: bytes) -> str:
    """'csv', 'parquet' or 'excel' from the extension, confirmed by the first bytes."""
    ext = Path(raw_name).suffix.lower()
    if ext in COMPRESSED_EXTENSIONS:
        raise FileFormatError(f"{name} is a compressed file ({ext}); unzip it first and load "
                              "the CSV, Parquet or Excel file inside")
    if ext == ".xls":
        raise FileFormatError(f"{name} is an old-style Excel file (.xls), which is not supported; "
                              "open it in Excel and save it as .xlsx or CSV UTF-8")
    image = image_message(head)
    if image:  # whatever its name says: a screenshot of a table is not a table
        raise FileFormatError(image)
    kind = _magic_kind(head)
    if not ext:  # no name to go by: trust the first bytes
        ext = {"parquet": ".parquet", "zip": ".xlsx"}.get(kind or "", ".csv")
    what, advice = _describe(head)
    if ext in PARQUET_EXTENSIONS:
        if kind != "parquet":
            raise FileFormatError(f"{name} is not a Parquet file: it looks like {what} — {advice}")
        return "parquet"
    if ext in EXCEL_EXTENSIONS:
        if kind != "zip":
            raise FileFormatError(f"{name} is not an Excel file: it looks like {what} — {advice}")
        return "excel"
    if ext in TEXT_EXTENSIONS:
        if kind is not None:
            raise FileFormatError(f"{name} is not a text table: it looks like {what} — {advice}")
        if _looks_binary(head):
            raise FileFormatError(f"{name} does not look like a text table: it holds binary "
                                  "data. Export the table as CSV (UTF-8), Parquet or Excel.")
        return "csv"
    raise FileFormatError(f"{name} has an unsupported file type ({ext}); load a CSV, TSV, "
                          "Parquet (.parquet) or Excel (.xlsx) file")


# ----------------------------------------------------------------------------- CSV / text
def _encoding(data: bytes, name: str) -> str:
    """The first encoding that decodes the whole file; decoded in chunks to save memory."""
    if data.startswith(_UTF16_BOMS):
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        candidates = ENCODINGS
    for enc in candidates:
        decoder = codecs.getincrementaldecoder(enc)()
        try:
            for start in range(0, len(data), 1 << 20):
                decoder.decode(data[start:start + (1 << 20)])
            decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    if candidates == ENCODINGS:  # latin-1 reads any byte: accept it unless it yields control chars
        non_ascii = data.translate(None, bytes(range(128)))
        c1 = len(non_ascii) - len(non_ascii.translate(None, bytes(range(0x80, 0xA0))))
        if c1 <= 0.1 * len(non_ascii):
            return "latin-1"
    raise EncodingError(f"the text encoding of {name} could not be read (it is not UTF-8 or "
                        "Western European); save it from Excel as 'CSV UTF-8' and load it again")


def _records(sample: str, sep: str, limit: int = 50) -> list[list[str]]:
    """The first complete records of a text sample, quotes respected."""
    reader = csv.reader(io.StringIO(sample), delimiter=sep)
    rows = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def _consistency(sample: str, sep: str) -> tuple[float, int]:
    """(share of rows as wide as the header, header width) when split on ``sep``."""
    rows = _records(sample, sep)
    if not rows or len(rows[0]) < 2:
        return 0.0, 1 if rows else 0
    body = rows[1:-1] if len(rows) > 2 else rows[1:]  # the last record may be cut off
    if not body:
        return 1.0, len(rows[0])
    return sum(len(r) == len(rows[0]) for r in body) / len(body), len(rows[0])


def _sniff_delimiter(sample: str, ext: str) -> str:
    """Pick , ; | or tab: csv.Sniffer first, then the most consistent field count."""
    default = "\t" if ext == ".tsv" else ","
    lines = sample.splitlines(keepends=True)
    small = "".join(lines[:30])
    try:
        sniffed = csv.Sniffer().sniff(small, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed and _consistency(sample, sniffed)[0] >= 0.9:
        return sniffed
    scores = {d: _consistency(sample, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (scores[d], d == default))
    return best if scores[best][1] >= 2 and scores[best][0] >= 0.5 else default


def _read_text(data: bytes, name: str, ext: str, limits: LoadLimits) -> pd.DataFrame:
    encoding = _encoding(data, name)
    sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(data[:_HEAD_BYTES])
    sample = sample.lstrip("\ufeff")
    if not sample.strip():
        raise EmptyFileError(f"{name}: the file is empty")
    if len(data) > _HEAD_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    skip = 0
    hint = re.match(r"sep=(.)\s*\r?\n", sample)  # Excel's "sep=;" first line
    if hint and hint.group(1) in DELIMITERS:
        sep, skip, sample = hint.group(1), 1, sample[hint.end():]
    else:
        sep = _sniff_delimiter(sample, ext)
    if "\n" not in sample and len(data) > _HEAD_BYTES:  # a header wider than the sample: read all of it
        end = data.find(b"\n")
        first = data[:end] if end >= 0 else data
        sample = codecs.decode(first, encoding, errors="replace").lstrip("\ufeff")
    header = _records(sample, sep, limit=1)
    check_width(len(header[0]) if header else 0, name, limits)
    _check_names([h.strip() for h in header[0]] if header else [], name)
    try:
        df = pd.read_csv(
            io.BytesIO(data), sep=sep, encoding=encoding, compression=None, engine="c",
            nrows=limits.max_rows + 1, index_col=False, low_memory=False, skiprows=skip,
        )
    except pd.errors.EmptyDataError as exc:
        raise EmptyFileError(f"{name}: the file is empty") from exc
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if not found:
            raise
        raise FileFormatError(
            f"{name}: line {found.group(2)} has {found.group(3)} values but the header has "
            f"{found.group(1)} columns ({_DELIMITER_NAMES[sep]}-separated). Put text that contains "
            "the delimiter in double quotes, or check the file was exported correctly."
        ) from exc
    if len(df) > limits.max_rows:
        approx = max(data.count(b"\n") - 1 - skip, limits.max_rows + 1)
        raise TooLargeError(f"{name} has about {approx:,} rows; the limit is "
                            f"{limits.max_rows:,} — take a sample or raise the limit")
    return _tidy(df)


# ----------------------------------------------------------------------------- Parquet / Excel
def _read_parquet(payload: bytes | str, name: str, limits: LoadLimits) -> pd.DataFrame:
    """Parquet read batch by batch, refusing a file that unpacks past ``max_unpacked_bytes``.

    Text columns are read dictionary-encoded and their decoded size is counted before they
    are decoded: one long value repeated on every row is a few bytes in the file and in the
    dictionary, but gigabytes once each row holds its own copy.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    def open_file(**kwargs):
        return pq.ParquetFile(io.BytesIO(payload) if isinstance(payload, bytes) else payload, **kwargs)

    pf = open_file()
    check_width(len(pf.schema_arrow.names), name, limits)
    _check_names([str(c).strip() for c in pf.schema_arrow.names], name)
    n_rows = pf.metadata.num_rows
    if n_rows > limits.max_rows:
        raise TooLargeError(f"{name} has {n_rows:,} rows; the limit is {limits.max_rows:,} "
                            "— take a sample or raise the limit")
    declared = sum(pf.metadata.row_group(i).total_byte_size for i in range(pf.metadata.num_row_groups))
    _check_unpacked(declared, name, limits)
    text = [f.name for f in pf.schema_arrow if _is_text(f.type)]
    batches, unpacked = [], 0
    for batch in open_file(read_dictionary=text).iter_batches(batch_size=PARQUET_BATCH_ROWS):
        unpacked += sum(_decoded_nbytes(column) for column in batch.columns)
        _check_unpacked(unpacked, name, limits)
        batches.append(batch)
    table = pa.Table.from_batches(batches) if batches else pf.schema_arrow.empty_table()
    decoded = {f.name: f.type for f in pf.schema_arrow}
    fields = [pa.field(f.name, pa.float64()) if pa.types.is_decimal(f.type)
              else pa.field(f.name, decoded[f.name]) if f.name in text else f
              for f in table.schema]
    table = table.cast(pa.schema(fields, metadata=pf.schema_arrow.metadata))
    df = table.to_pandas(date_as_object=False)
    has_named_index = any(n is not None for n in df.index.names)
    return _tidy(df.reset_index(drop=not has_named_index))


def _is_text(kind) -> bool:
    import pyarrow as pa

    return any(test(kind) for test in (pa.types.is_string, pa.types.is_large_string,
                                       pa.types.is_binary, pa.types.is_large_binary))


def _decoded_nbytes(column) -> int:
    """Bytes a column takes once a dictionary-encoded text column is decoded."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(column.type) or not _is_text(column.type.value_type):
        return column.nbytes
    lengths = pc.take(pc.binary_length(column.dictionary), column.indices)
    return int(pc.sum(lengths).as_py() or 0) + column.indices.nbytes


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _sheet_rows(sheet, name: str, limits: LoadLimits):
    """The sheet's rows as value tuples, as wide as their own cells and at most ``max_columns``.

    The declared size (``<dimension ref="A1:XFD1048576">``, free for a file to claim) is ignored:
    openpyxl would pad every row to 16,384 cells and add a million empty rows, which took a
    15 KB file over a minute. A row with a value past the column limit makes the table too wide.
    """
    sheet.reset_dimensions()
    cap = limits.max_columns
    for row in sheet.iter_rows(values_only=True):
        if len(row) > cap:
            extra = row[cap:]
            if extra.count(None) != len(extra):
                raise TooLargeError(f"{name} has values in column {cap + 1:,} or further; the limit is "
                                    f"{cap:,} columns — keep the columns that describe customers (or raise "
                                    "the limit) and load it again")
            row = row[:cap]
        yield row


def _blank_row(row: tuple) -> bool:
    return row.count(None) == len(row) or all(map(_is_blank, row))


def _read_excel(payload: bytes | str, name: str, limits: LoadLimits) -> pd.DataFrame:
    """First worksheet via openpyxl read-only, stopping once the row or column limit is passed."""
    import zipfile

    import openpyxl

    try:  # zipfile never unpacks past a member's declared size, so the sum bounds the memory
        with zipfile.ZipFile(io.BytesIO(payload) if isinstance(payload, bytes) else payload) as archive:
            _check_unpacked(sum(info.file_size for info in archive.infolist()), name, limits)
    except zipfile.BadZipFile as exc:
        raise FileFormatError(f"{name} is not an Excel workbook (.xlsx): it is not a readable zip "
                              "archive. Open it in Excel and save it as .xlsx again.") from exc
    try:
        wb = openpyxl.load_workbook(io.BytesIO(payload) if isinstance(payload, bytes) else payload,
                                    read_only=True, data_only=True)
    except Exception as exc:
        raise FileFormatError(f"{name} is not an Excel workbook: it is a zip archive without "
                              "a readable sheet. Open it in Excel and save it as .xlsx again.") from exc
    try:
        if not wb.worksheets:
            raise EmptyFileError(f"{name}: the workbook has no worksheet")
        sheet = wb.worksheets[0]
        declared_rows = sheet.max_row or 0  # the file's own claim: only worded in a message
        rows = (r for r in _sheet_rows(sheet, name, limits) if not _blank_row(r))
        header = next(rows, None)
        if header is None:
            raise EmptyFileError(f"{name}: the file is empty (the first sheet has no cells)")
        body = []
        for row in rows:
            body.append(row)
            if len(body) > limits.max_rows:
                approx = max(declared_rows - 1, len(body))
                raise TooLargeError(f"{name} has about {approx:,} rows; the limit is "
                                    f"{limits.max_rows:,} — take a sample or raise the limit")
    finally:
        wb.close()
    width = max([len(header)] + [len(r) for r in body])
    names = [f"Unnamed: {j}" if j >= len(header) or _is_blank(header[j]) else str(header[j]).strip()
             for j in range(width)]
    _check_names(names, name)
    columns = {}
    for j, col in enumerate(names):
        values = pd.Series([r[j] if j < len(r) else None for r in body])
        if col.startswith("Unnamed: ") and values.isna().all():
            continue  # an empty column at the edge of the sheet
        if values.dtype == object:
            filled = values.dropna()
            if len(filled) and all(isinstance(v, bool) for v in filled):
                values = values.astype("boolean")
            else:  # mixed numbers and text: keep it as text, blanks stay missing
                values = values.astype("str")
        columns[col] = values
    return _tidy(pd.DataFrame(columns))


# ----------------------------------------------------------------------------- shared checks
def _check_unpacked(n_bytes: int, name: str, limits: LoadLimits) -> None:
    if n_bytes > limits.max_unpacked_bytes:
        raise TooLargeError(f"{name} takes at least {_size(n_bytes)} once unpacked; the limit is "
                            f"{_size(limits.max_unpacked_bytes)} — take a sample or raise the limit")


def check_width(n_columns: int, name: str = "the table", limits: LoadLimits = LoadLimits()) -> None:
    """Raise TooLargeError when a table has more than ``limits.max_columns`` columns."""
    if n_columns > limits.max_columns:
        raise TooLargeError(f"{name} has {n_columns:,} columns; the limit is {limits.max_columns:,} — keep "
                            "the columns that describe customers (or raise the limit) and load it again")



def _check_names(names: list[str], name: str) -> None:
    """Raise DuplicateColumnsError naming every repeated (non-blank) column name."""
    counts = Counter(n for n in names if n)
    repeated = [f"'{n}' ({c} times)" for n, c in counts.items() if c > 1]
    if repeated:
        raise DuplicateColumnsError(f"{name} has more than one column named {', '.join(repeated)} "
                                    "— give each column a unique name and load it again")


def _tidy(df: pd.DataFrame) -> pd.DataFrame:
    """Strip column names and drop rows where every cell is empty."""
    df.columns = [str(c).strip() for c in df.columns]
    blank = df.isna().all(axis=1)
    if blank.any():
        df = df.loc[~blank].reset_index(drop=True)
    return df


def _check_frame(df: pd.DataFrame, name: str, limits: LoadLimits) -> pd.DataFrame:
    if df.shape[1] == 0:
        raise EmptyFileError(f"{name} is empty: it has no columns")
    check_width(df.shape[1], name, limits)
    _check_names([str(c) for c in df.columns], name)
    if len(df) == 0:
        raise EmptyFileError(f"{name} has column names but no rows")
    if len(df) > limits.max_rows:
        raise TooLargeError(f"{name} has {len(df):,} rows; the limit is {limits.max_rows:,} "
                            "— take a sample or raise the limit")
    return df


def _size(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:,.1f} MB"
    return f"{n / 2**10:,.1f} KB" if n >= 2**10 else f"{n:,} bytes"
