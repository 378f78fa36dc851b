"""Reading CSV and XLSX uploads into rows, shared by every import.

Rows are keyed by the lower-cased, stripped header; every value is text, stripped.
Each row also carries ``"_row"``: its number as the user sees it in the file (the
header is row 1, so the first data row is row 2). Blank rows are skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

ROW_KEY = "_row"
TableRow = dict[str, Any]


class ImportProblem(ValueError):
    """Bad input for a data operation, with every problem found ("row N: reason")."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__("; ".join(self.problems))

    @property
    def bad_rows(self) -> int:
        """How many distinct rows the problems name."""
        return len({p.split(":", 1)[0] for p in self.problems if p.startswith("row ")})


def row_number(row: TableRow, index: int) -> int:
    """The row's number in its file, or a best guess (header on row 1) for hand-made rows."""
    number = row.get(ROW_KEY)
    return number if isinstance(number, int) else index + 2


def read_table(data: bytes, filename: str, required_columns: Sequence[str]) -> list[TableRow]:
    """Read a CSV or XLSX upload into rows; raise ImportProblem when it cannot be imported."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        records = _csv_records(data)
    elif suffix == ".xlsx":
        records = _xlsx_records(data)
    else:
        raise ImportProblem([f"{PurePath(filename).name}: not a .csv or .xlsx file"])
    return _rows(records, required_columns)


def _rows(records: Iterable[list[str]], required_columns: Sequence[str]) -> list[TableRow]:
    iterator = iter(records)
    header = next(iterator, None)
    if header is None or not any(header):
        raise ImportProblem(["row 1: no header row (the file is empty or starts with a blank row)"])
    columns = [cell.strip().lower() for cell in header]
    missing = [name for name in required_columns if name not in columns]
    if missing:
        raise ImportProblem([f"row 1: missing column(s) {', '.join(missing)}"])
    rows: list[TableRow] = []
    for number, record in enumerate(iterator, start=2):
        values = [cell.strip() for cell in record]
        if not any(values):
            continue
        row: TableRow = {}
        for position, column in enumerate(columns):
            if column and column not in row:
                row[column] = values[position] if position < len(values) else ""
        row[ROW_KEY] = number
        rows.append(row)
    return rows


def _csv_records(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel on Windows saves "CSV" in the ANSI code page
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ImportProblem(["the file is neither UTF-8 nor Windows-1252 text"]) from None
    if "\x00" in text:
        raise ImportProblem(["the file is not a text CSV file"])
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportProblem([f"the CSV file cannot be read: {exc}"]) from None


def _xlsx_records(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportProblem([f"the file is not a readable .xlsx workbook ({exc})"]) from None
    try:
        sheet = workbook.worksheets[0]
        return [[cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


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
