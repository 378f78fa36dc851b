"""Sectors not on the list yet (free text from before SPEC 16), and mapping them.

The upgrade rewrites free-text sectors that match the list; the rest are kept as
typed, listed here for an administrator (/admin/sectors) and mapped in one step:
every partnership and every cycle's participation with that text takes the list's
name. Flush only; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from survey.models import Participation, Partnership
from survey.sectors import Sector, find_sector
from survey.services import audit
from survey.services.tabular import ImportProblem


@dataclass(frozen=True)
class UnmappedSector:
    """A sector text that is not on the list, and how many partnerships carry it."""

    text: str
    partnerships: int
    cycles_only: bool = False  # found only in earlier cycles' participations


def unmapped_sectors(session: Session) -> list[UnmappedSector]:
    """Every sector text, in partnerships or participations, that the list does not know."""
    found: dict[str, UnmappedSector] = {}
    for text, count in session.execute(
            select(Partnership.sector, func.count()).group_by(Partnership.sector)):
        if text and text.strip() and find_sector(text) is None:
            found[text] = UnmappedSector(text, count)
    for text in session.execute(select(Participation.sector).distinct()).scalars():
        if text and text.strip() and find_sector(text) is None and text not in found:
            found[text] = UnmappedSector(text, 0, cycles_only=True)
    return sorted(found.values(), key=lambda u: u.text.casefold())


def map_sector(session: Session, text: str, sector: Sector) -> int:
    """Give every partnership and participation whose sector reads `text` the list's
    sector; return how many partnerships changed. Raises ImportProblem for a text that
    is not an unmapped sector."""
    if not text or find_sector(text) is not None:
        raise ImportProblem([f"{text!r} is not a sector waiting to be mapped"])
    changed = session.execute(update(Partnership).where(Partnership.sector == text)
                              .values(sector=sector.name)).rowcount
    cycles = session.execute(update(Participation).where(Participation.sector == text)
                             .values(sector=sector.name)).rowcount
    if not changed and not cycles:
        raise ImportProblem([f"no partnership has the sector {text!r}"])
    audit.record(session, "sector.map", f"sector {text}", into=sector.code,
                 partnerships=changed, participations=cycles)
    session.flush()
    return changed
