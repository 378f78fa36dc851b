"""Row-level answers as CSV, for state staff and administrators only (SPEC 4a rule 2, 8).

The columns are the responses import format's; a respondent is a code, never a name,
email or organization, keyed with the instance's secret, and respondents come in the
order of their codes (SPEC 4a rule 8). Rows stream through csv.writer, a few hundred
respondents per SELECT, so memory stays flat however many answers a state has. Typed
text (board and partnership names) that a spreadsheet could run as a formula is written
with a leading apostrophe.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from sqlalchemy.orm import Session

from survey.models import Cycle
from survey.scoring.answers import response_rows
from survey.services.responses_import import RESPONSE_COLUMNS

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 1000  # rows per piece of a streamed response


def instance_secret() -> str:
    """The key of respondent codes (SPEC 4a rule 8): the instance's secret key."""
    from flask import current_app

    return str(current_app.config["SECRET_KEY"])


def guarded(value: str) -> str:
    """Text a spreadsheet shows as text: a leading formula character gets an apostrophe."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def _safe_rows(rows: Iterator[tuple[str, ...]]) -> Iterator[tuple[str, ...]]:
    for cycle_name, board, partnership, code, ptype, element, item, score in rows:
        yield cycle_name, guarded(board), guarded(partnership), code, ptype, element, item, score


class _Buffer:
    """A file-like sink that hands back what csv.writer writes."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def csv_chunks(session: Session, cycle: Cycle) -> Iterator[str]:
    """The CSV (header first) in pieces of about CHUNK rows, for a streamed download (the
    cycle is read now; the rows stream later, even after the request's transaction)."""
    return _chunks(response_rows(session, cycle, instance_secret()))


def _chunks(rows: Iterator[tuple[str, ...]]) -> Iterator[str]:
    buffer = _Buffer()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(RESPONSE_COLUMNS)
    pending = 0
    for row in _safe_rows(rows):
        writer.writerow(row)
        pending += 1
        if pending == CHUNK:
            yield buffer.take()
            pending = 0
    yield buffer.take()


def write_csv(session: Session, cycle: Cycle, handle: TextIO) -> int:
    """Write the CSV to an open text file (newline=""); return the number of answer rows."""
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow(RESPONSE_COLUMNS)
    count = 0
    for row in _safe_rows(response_rows(session, cycle, instance_secret())):
        writer.writerow(row)
        count += 1
    return count
