"""Reading CSV and XLSX uploads into rows, shared by every import.

Rows are keyed by the lower-cased, stripped header; every value is text, stripped.
Each row also carries ``"_row"``: its number as the user sees it in the file (the
header is row 1, so the first data row is row 2). Blank rows are skipped.

Files are streamed (`iter_table`), never loaded whole, and bounded (`Limits`: rows,
cells, a workbook's declared unpacked size and zip entries; WEB_LIMITS for uploads,
CLI_LIMITS for the command line). Workbooks are read in openpyxl's read-only mode with
the sheet's `<dimension>` tag ignored, and their XML parsed through defusedxml. Any
file that cannot be read, however it is broken, is one ImportProblem line.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import IO, Any

from defusedxml import DefusedXmlException

ROW_KEY = "_row"
TableRow = dict[str, Any]


MAX_LISTED_PROBLEMS = 1000


class ImportProblem(ValueError):
    """Bad input for a data operation, with every problem found ("row N: reason").

    `more_rows` counts bad rows found beyond those listed (see `Problems`).
    """

    def __init__(self, problems: Sequence[str], more_rows: int = 0) -> None:
        self.problems: list[str] = list(problems)
        self.more_rows = more_rows
        super().__init__("; ".join(self.problems))

    @property
    def bad_rows(self) -> int:
        """How many distinct rows the problems name."""
        listed = len({p.split(":", 1)[0] for p in self.problems if p.startswith("row ")})
        return listed + self.more_rows


class Problems:
    """Bad rows found while streaming: the first MAX_LISTED_PROBLEMS word for word, the
    rest counted (a file of two million bad rows must not take gigabytes to refuse)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.more_rows = 0

    def append(self, line: str) -> None:
        if len(self.lines) < MAX_LISTED_PROBLEMS:
            self.lines.append(line)
        else:
            self.more_rows += 1

    def __bool__(self) -> bool:
        return bool(self.lines)

    def raise_any(self) -> None:
        """Raise ImportProblem when any problem was found."""
        if self.lines:
            extra = [f"... and {self.more_rows:,} more bad rows"] if self.more_rows else []
            raise ImportProblem(self.lines + extra, self.more_rows)


def row_number(row: TableRow, index: int) -> int:
    """The row's number in its file, or a best guess (header on row 1) for hand-made rows."""
    number = row.get(ROW_KEY)
    return number if isinstance(number, int) else index + 2


@dataclass(frozen=True)
class Limits:
    """How much of an upload is read before it is refused (checked while streaming)."""

    rows: int  # data rows, counted by their number in the file (blank ones too)
    cells: int  # cells read over all rows, padding included
    unpacked_bytes: int  # XLSX: the zip's declared uncompressed sizes, summed
    zip_entries: int = 200  # XLSX: files in the zip (a workbook has about a dozen)


WEB_LIMITS = Limits(rows=100_000, cells=2_000_000, unpacked_bytes=64 * 2**20)
"""An upload through the site (already capped at 5 MB on the wire)."""
CLI_LIMITS = Limits(rows=5_000_000, cells=60_000_000, unpacked_bytes=2 * 2**30, zip_entries=1000)
"""A file given to the command line: a national responses file fits."""

Source = bytes | Path


def read_table(data: Source, filename: str, required_columns: Sequence[str],
               limits: Limits = WEB_LIMITS) -> list[TableRow]:
    """Read a CSV or XLSX upload into rows; raise ImportProblem when it cannot be imported."""
    return list(iter_table(data, filename, required_columns, limits))


def iter_table(source: Source, filename: str, required_columns: Sequence[str],
               limits: Limits = CLI_LIMITS) -> Iterator[TableRow]:
    """Stream a CSV or XLSX file's rows (bytes, or a path read as it goes).

    Nothing is opened until the first row is asked for. A problem found while
    streaming (not a workbook, a broken one, too many rows) raises ImportProblem with
    one line, so a caller that checks every row before writing writes nothing.
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        records = _csv_records(source)
    elif suffix == ".xlsx":
        records = _xlsx_records(source, limits)
    else:
        raise ImportProblem([f"{PurePath(filename).name}: not a .csv or .xlsx file"])
    return _rows(records, required_columns, limits)


def _rows(records: Iterator[list[str]], required_columns: Sequence[str],
          limits: Limits) -> Iterator[TableRow]:
    header = next(records, None)
    if header is None or not any(cell.strip() for cell in header):
        raise ImportProblem(["row 1: no header row (the file is empty or starts with a blank row)"])
    columns = [cell.strip().lower() for cell in header]
    missing = [name for name in required_columns if name not in columns]
    if missing:
        raise ImportProblem([f"row 1: missing column(s) {', '.join(missing)}"])
    wanted = [(position, column) for position, column in enumerate(columns)
              if column and column not in columns[:position]]
    cells = len(header)
    for number, record in enumerate(records, start=2):
        if number > limits.rows + 1:
            raise ImportProblem([f"the file has more than {limits.rows:,} rows, the limit for "
                                 "one import; split it into smaller files"])
        cells += len(record)
        if cells > limits.cells:
            raise ImportProblem([f"the file has more than {limits.cells:,} cells, the limit for "
                                 "one import; remove unused columns or split it"])
        if not "".join(record).strip():
            continue
        width = len(record)
        row: TableRow = {column: record[position].strip() if position < width else ""
                         for position, column in wanted}
        row[ROW_KEY] = number
        yield row


def _csv_records(source: Source) -> Iterator[list[str]]:
    """The file's records; the file is opened on the first one and closed after the last."""
    encoding = _csv_encoding(source)
    binary: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    with binary, io.TextIOWrapper(binary, encoding=encoding, newline="") as text:
        try:
            yield from csv.reader(text)
        except csv.Error as exc:
            raise ImportProblem([f"the CSV file cannot be read: {exc}"]) from None


def _csv_encoding(source: Source) -> str:
    """UTF-8 (with or without a BOM), else Windows-1252: checked over the whole file,
    which must not hold a NUL byte (no database stores it; a binary file does)."""
    binary: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    with binary:
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := binary.read(1 << 20):
                if b"\x00" in chunk:
                    raise ImportProblem(["the file is not a text CSV file"])
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
        binary.seek(0)
        decoder = codecs.getincrementaldecoder("cp1252")()
        try:  # Excel on Windows saves "CSV" in the ANSI code page
            while chunk := binary.read(1 << 20):
                decoder.decode(chunk)
        except UnicodeDecodeError:
            raise ImportProblem(["the file is neither UTF-8 nor Windows-1252 text"]) from None
    return "cp1252"


NOT_A_WORKBOOK = "the file is not a readable .xlsx workbook"


def _xlsx_records(source: Source, limits: Limits) -> Iterator[list[str]]:
    """The first sheet's rows, read in streaming mode whatever its <dimension> tag says.

    The zip is checked first (entries, declared unpacked sizes); then any failure of
    the reader on a malformed file, whatever it raises, is a one-line ImportProblem.
    The file is opened on the first row asked for and closed after the last.
    """
    from openpyxl import load_workbook

    stream: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    with stream:
        _check_zip(stream, limits)
        stream.seek(0)
        try:
            workbook = load_workbook(stream, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises anything on a malformed file
            raise ImportProblem([f"{NOT_A_WORKBOOK} ({_reason(exc)})"]) from None
        try:
            if not workbook.worksheets:
                raise ImportProblem([f"{NOT_A_WORKBOOK} (it has no worksheet)"])
            sheet = workbook.worksheets[0]
            if not hasattr(sheet, "reset_dimensions"):
                raise ImportProblem([f"{NOT_A_WORKBOOK} (its first sheet is a chart)"])
            sheet.reset_dimensions()  # the <dimension> tag may be wrong: read every row
            for values in sheet.iter_rows(values_only=True):
                yield [cell_text(value) for value in values]
        except ImportProblem:
            raise
        except Exception as exc:
            raise ImportProblem([f"{NOT_A_WORKBOOK} ({_reason(exc)})"]) from None
        finally:
            workbook.close()


def _check_zip(stream: IO[bytes], limits: Limits) -> None:
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
    except Exception:  # zipfile raises BadZipFile, NotImplementedError, struct.error...
        raise ImportProblem([f"{NOT_A_WORKBOOK} (it is not a zip file, or a damaged one)"]) \
            from None
    if len(entries) > limits.zip_entries:
        raise ImportProblem([f"{NOT_A_WORKBOOK} (it holds {len(entries):,} files; "
                             f"a workbook holds far fewer)"])
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > limits.unpacked_bytes:
        raise ImportProblem([
            f"the workbook unpacks to {unpacked / 2**20:,.0f} MB, more than the "
            f"{limits.unpacked_bytes / 2**20:,.0f} MB limit for one import"])


def _reason(exc: Exception) -> str:
    """A short, single-line account of why a workbook could not be read."""
    if isinstance(exc, zipfile.BadZipFile | EOFError | zlib.error):
        return "its zip data is damaged"
    if isinstance(exc, DefusedXmlException):
        return "it holds XML entity declarations, which are not allowed"
    if isinstance(exc, SyntaxError | ValueError) and "xml" in type(exc).__module__.lower():
        return "its XML is broken"
    name = type(exc).__name__
    if name in ("ParseError", "XMLSyntaxError"):
        return "its XML is broken"
    return "its content is damaged or not made by a spreadsheet program"


def cell_text(value: object) -> str:
    """A spreadsheet value as the text the user sees: ints without ".0", dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
