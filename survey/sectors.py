"""The sector list (SPEC 16): the industries Florida's boards target, shipped as data.

`survey/data/sectors.csv` holds `code,name,naics` (NAICS prefixes separated by spaces).
Rosters, partnership imports, target imports and the admin forms take a sector's code
or its name (case, spacing and punctuation ignored); anything else is an unknown sector. No Flask,
no database.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SECTORS_FILE = Path(__file__).parent / "data" / "sectors.csv"
LIST_NAME = "survey/data/sectors.csv"


@dataclass(frozen=True)
class Sector:
    """One industry sector of the list."""

    code: str
    name: str
    naics: tuple[str, ...]


def _key(text: str) -> str:
    """Letters and digits only, case folded, "&" read as "and": "Health care" and
    "healthcare", "Logistics & Distribution" and "Logistics and Distribution" match."""
    return "".join(c for c in text.replace("&", " and ").casefold() if c.isalnum())


@cache
def sectors() -> tuple[Sector, ...]:
    """Every sector of the shipped list, in file order."""
    with SECTORS_FILE.open(newline="", encoding="utf-8") as f:
        return tuple(Sector(row["code"].strip(), row["name"].strip(),
                            tuple(row["naics"].split())) for row in csv.DictReader(f))


@cache
def _index() -> dict[str, Sector]:
    index: dict[str, Sector] = {}
    for sector in sectors():
        index[_key(sector.code)] = sector
        index[_key(sector.name)] = sector
    return index


def find_sector(text: str) -> Sector | None:
    """The sector with this code or name (see _key), or None."""
    return _index().get(_key(text or ""))


def by_code(code: str) -> Sector | None:
    """The sector of a stored code, or None."""
    return next((s for s in sectors() if s.code == code), None)


def unknown_sector(text: str) -> str:
    """The row error for a sector that is not on the list, naming the list."""
    codes = ", ".join(s.code for s in sectors())
    return (f"unknown sector {text!r}: use a code or name from the sector list "
            f"{LIST_NAME} ({codes})")
