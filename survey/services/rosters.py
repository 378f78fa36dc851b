"""Rosters: import members from a file, and add, change or remove one member."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from survey.models import PARTNER_TYPE_LABELS, Board, Member, Partnership, utcnow
from survey.sectors import find_sector, unknown_sector
from survey.services import audit
from survey.services.boards import BoardIndex
from survey.services.bulk import chunks
from survey.services.tabular import ImportProblem, Problems, TableRow, row_number

ROSTER_COLUMNS = ("board", "partnership", "sector", "name", "email", "organization", "partner_type")
"""The required columns; an optional `language` column (en, es: SPEC 13) may follow."""
LANGUAGES = ("en", "es")
T = TypeVar("T")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
TEXT_MAX = 200
EMAIL_MAX = 320

_PARTNER_TYPES: dict[str, str] = {}
for _key, _label in PARTNER_TYPE_LABELS.items():
    _PARTNER_TYPES[_key] = _key
    _PARTNER_TYPES[_key.replace("_", " ")] = _key
    _PARTNER_TYPES[_label.lower()] = _key


def parse_partner_type(text: str) -> str | None:
    """A partner type key from its key or label (any case), or None when unknown."""
    return _PARTNER_TYPES.get(" ".join(text.strip().lower().split()))


def looks_like_email(text: str) -> bool:
    """True for an email address that mail can be sent to (syntax only, no DNS)."""
    return len(text) <= EMAIL_MAX and EMAIL_RE.match(text) is not None and not email_problems(text)


@lru_cache(maxsize=4096)
def email_problems(email: str) -> tuple[str, ...]:
    """Why an address cannot take mail (email-validator, syntax only); empty when it can.

    `a,b@ex.org`, quoted local parts, IP-literal domains and the like are refused here,
    not at sending time.
    """
    # local: email_validator adds ~0.05 s to every command start, and few commands need it
    from email_validator import EmailNotValidError, validate_email

    if len(email) > EMAIL_MAX:
        return (f"email longer than {EMAIL_MAX} characters",)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "not an email address"
        return (f"invalid email {email!r} ({reason})",)
    return ()


def control_problems(what: str, text: str) -> list[str]:
    """A reason when text holds a control character (they would reach mail headers)."""
    for char in text:
        if unicodedata.category(char) == "Cc":
            return [f"{what} holds a control character (U+{ord(char):04X})"]
    return []


def clean_text(text: str | None) -> str:
    """Text with runs of whitespace collapsed (stored as typed otherwise, never evaluated)."""
    return " ".join((text or "").split())


def partnership_key(board: Board, name: str) -> tuple[int, str]:
    """How partnerships are matched: by board and name, ignoring case and spacing."""
    return board.id, clean_text(name).lower()


class PartnershipIndex:
    """Partnerships by (board, name), creating missing ones on request."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._known = {
            partnership_key(p.board, p.name): p
            for p in session.execute(select(Partnership).join(Partnership.board)).scalars()
        }
        self.created = 0

    def find(self, board: Board, name: str) -> Partnership | None:
        return self._known.get(partnership_key(board, name))

    def get_or_create(self, board: Board, name: str, sector: str) -> Partnership:
        partnership = self.find(board, name)
        if partnership is None:
            partnership = Partnership(board=board, name=clean_text(name), sector=clean_text(sector))
            self._session.add(partnership)
            self._known[partnership_key(board, name)] = partnership
            self.created += 1
        elif sector and not partnership.sector:
            partnership.sector = clean_text(sector)
        return partnership


@dataclass(frozen=True)
class RosterImportSummary:
    """What a roster import did."""

    created: int
    updated: int
    unchanged: int
    partnerships_created: int

    def __str__(self) -> str:
        total = self.created + self.updated + self.unchanged
        return (
            f"imported {total} members: {self.created} new, {self.updated} updated, "
            f"{self.unchanged} unchanged; {self.partnerships_created} new partnerships"
        )


@dataclass(frozen=True)
class _RosterLine:
    board_id: int
    partnership: str
    sector: str
    name: str
    email: str
    organization: str
    partner_type: str
    language: str | None


def member_problems(name: str, email: str, organization: str, partner_type: str) -> list[str]:
    """What is wrong with a member's fields (partner_type as typed); empty when valid."""
    reasons = []
    if not name:
        reasons.append("empty name")
    elif len(name) > TEXT_MAX:
        reasons.append(f"name longer than {TEXT_MAX} characters")
    else:
        reasons += control_problems("name", name)
    if not email:
        reasons.append("empty email")
    else:
        reasons += email_problems(email)
    if len(organization) > TEXT_MAX:
        reasons.append(f"organization longer than {TEXT_MAX} characters")
    else:
        reasons += control_problems("organization", organization)
    if parse_partner_type(partner_type) is None:
        known = ", ".join(PARTNER_TYPE_LABELS)
        reasons.append(f"unknown partner type {partner_type!r} (use one of {known})")
    return reasons


@dataclass(frozen=True)
class RosterPlan:
    """A checked roster file: the lines to write, nothing written yet."""

    lines: list[_RosterLine]


def import_roster(session: Session, rows: Iterable[TableRow]) -> RosterImportSummary:
    """Create or update members from roster rows; all or nothing (ImportProblem lists all)."""
    return write_roster(session, check_roster(session, rows))


def check_roster(session: Session, rows: Iterable[TableRow]) -> RosterPlan:
    """Check every row in one pass (reads only); ImportProblem lists every bad row.

    Run it before taking the write lock: a large file is checked while partners save.
    """
    boards = BoardIndex.load(session)
    problems = Problems()
    lines: list[_RosterLine] = []
    first_row: dict[tuple[int, str, str], int] = {}
    sectors: dict[tuple[int, str], tuple[str, int]] = {}
    for index, row in enumerate(rows):
        number = row_number(row, index)
        code = (row.get("board") or "").strip()
        partnership = clean_text(row.get("partnership"))
        sector_text = clean_text(row.get("sector"))
        known = find_sector(sector_text) if sector_text else None
        sector = known.name if known else sector_text
        name = clean_text(row.get("name"))
        email = (row.get("email") or "").strip().lower()
        organization = clean_text(row.get("organization"))
        type_text = row.get("partner_type") or ""
        language = (row.get("language") or "").strip().lower()
        reasons = []
        board = boards.find(code) if code else None
        if not code:
            reasons.append("empty board")
        elif board is None:
            reasons.append(f"unknown board {code!r}")
        elif not board.is_active:
            reasons.append(f"board {board.code} is {board.status}")
        if not partnership:
            reasons.append("empty partnership")
        elif len(partnership) > TEXT_MAX or len(sector) > TEXT_MAX:
            reasons.append(f"partnership or sector longer than {TEXT_MAX} characters")
        if sector_text and known is None:
            reasons.append(unknown_sector(sector_text))
        reasons += member_problems(name, email, organization, type_text)
        if language and language not in LANGUAGES:
            reasons.append(f"unknown language {language!r} (use one of {', '.join(LANGUAGES)})")
        if board is not None and partnership:
            key = partnership_key(board, partnership)
            if email:
                seen = first_row.setdefault((*key, email), number)
                if seen != number:
                    reasons.append(f"email {email} appears twice in {partnership!r} "
                                   f"(rows {seen} and {number})")
            if sector:
                known_sector, sector_row = sectors.setdefault(key, (sector, number))
                if known_sector.lower() != sector.lower():
                    reasons.append(
                        f"sector {sector!r} differs from {known_sector!r} on row {sector_row} "
                        f"for the same partnership"
                    )
        if reasons:
            problems.append(f"row {number}: {'; '.join(reasons)}")
            continue
        assert board is not None
        lines.append(_RosterLine(board.id, partnership, sector, name, email, organization,
                                 parse_partner_type(type_text) or "", language or None))
    if not lines and not problems:
        problems.append("the file holds no members")
    problems.raise_any()
    return RosterPlan(lines)


def write_roster(session: Session, plan: RosterPlan) -> RosterImportSummary:
    """Write a checked roster with a handful of set-based statements (no per-member trips).

    Missing partnerships are created, new members inserted, changed ones updated.
    A language left empty keeps the member's language.
    """
    partnerships, partnerships_created = ensure_partnerships(
        session, {(line.board_id, line.partnership): line.sector for line in plan.lines})
    members = Member.__table__
    existing: dict[tuple[int, str], Row[Any]] = {}
    ids = sorted({partnerships[line.board_id, line.partnership.lower()] for line in plan.lines})
    for chunk in chunks(ids):
        for row in session.execute(
            select(members.c.id, members.c.partnership_id, members.c.email, members.c.name,
                   members.c.organization, members.c.partner_type, members.c.active,
                   members.c.language).where(members.c.partnership_id.in_(chunk))
        ):
            if row.email:
                existing[row.partnership_id, row.email.lower()] = row
    new: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    unchanged = 0
    now = utcnow()
    for line in plan.lines:
        partnership_id = partnerships[line.board_id, line.partnership.lower()]
        found = existing.get((partnership_id, line.email))
        if found is None:
            new.append({"partnership_id": partnership_id, "name": line.name, "email": line.email,
                        "organization": line.organization, "partner_type": line.partner_type,
                        "language": line.language, "active": True, "created_at": now})
            continue
        language = line.language or found.language
        after = (line.name, line.organization, line.partner_type, True, language)
        if (found.name, found.organization, found.partner_type, found.active,
                found.language) == after:
            unchanged += 1
            continue
        changes.append({"b_id": found.id, "b_name": line.name, "b_org": line.organization,
                        "b_type": line.partner_type, "b_language": language})
    if new:
        session.execute(insert(members), new)
    if changes:
        session.execute(
            update(members).where(members.c.id == bindparam("b_id")).values(
                name=bindparam("b_name"), organization=bindparam("b_org"),
                partner_type=bindparam("b_type"), language=bindparam("b_language"), active=True),
            changes)
    summary = RosterImportSummary(len(new), len(changes), unchanged, partnerships_created)
    audit.record(session, "roster.import", f"{len(plan.lines)} members", created=len(new),
                 updated=len(changes), unchanged=unchanged,
                 partnerships_created=partnerships_created)
    session.expire_all()  # Core writes: ORM objects loaded before must be read again
    return summary


def ensure_partnerships(
    session: Session, wanted: dict[tuple[int, str], str]
) -> tuple[dict[tuple[int, str], int], int]:
    """Ids of partnerships by (board id, lower-cased clean name), creating missing ones.

    `wanted` maps (board id, name as typed) to a sector ("" when unknown); an existing
    partnership without a sector gets the one given. Returns (ids, how many created).
    """
    table = Partnership.__table__
    known: dict[tuple[int, str], tuple[int, str]] = {}
    for chunk in chunks(sorted({board_id for board_id, _ in wanted})):
        for row in session.execute(select(table.c.id, table.c.board_id, table.c.name,
                                          table.c.sector).where(table.c.board_id.in_(chunk))):
            known[row.board_id, clean_text(row.name).lower()] = (row.id, row.sector)
    missing: dict[tuple[int, str], dict[str, Any]] = {}
    sectors: list[dict[str, Any]] = []
    now = utcnow()
    for (board_id, name), sector in wanted.items():
        key = (board_id, clean_text(name).lower())
        if key in known:
            partnership_id, known_sector = known[key]
            if sector and not known_sector:
                sectors.append({"b_id": partnership_id, "b_sector": clean_text(sector)})
                known[key] = (partnership_id, sector)
        elif key not in missing:
            missing[key] = {"board_id": board_id, "name": clean_text(name),
                            "sector": clean_text(sector), "active": True, "created_at": now}
        elif sector and not missing[key]["sector"]:
            missing[key]["sector"] = clean_text(sector)
    if sectors:
        session.execute(update(table).where(table.c.id == bindparam("b_id"))
                        .values(sector=bindparam("b_sector")), sectors)
    if missing:
        session.execute(insert(table), list(missing.values()))
        for chunk in chunks(sorted({board_id for board_id, _ in missing})):
            for row in session.execute(select(table.c.id, table.c.board_id, table.c.name,
                                              table.c.sector).where(table.c.board_id.in_(chunk))):
                known[row.board_id, clean_text(row.name).lower()] = (row.id, row.sector)
    return {key: known[key][0] for key in known}, len(missing)


def _member_by_email(session: Session, partnership: Partnership, email: str) -> Member | None:
    return session.execute(
        select(Member).where(
            Member.partnership_id == partnership.id, func.lower(Member.email) == email.lower()
        )
    ).scalar_one_or_none()


def add_member(
    session: Session, partnership: Partnership, name: str, email: str, organization: str,
    partner_type: str,
) -> Member:
    """Add a member to a partnership's roster (the email must be new to that partnership)."""
    name, email, organization = clean_text(name), email.strip().lower(), clean_text(organization)
    problems = member_problems(name, email, organization, partner_type)
    if not problems and _member_by_email(session, partnership, email) is not None:
        problems.append(f"{email} is already on this partnership's roster")
    if problems:
        raise ImportProblem(problems)
    member = Member(partnership=partnership, name=name, email=email, organization=organization,
                    partner_type=parse_partner_type(partner_type) or "")
    session.add(member)
    session.flush()
    return member


def update_member(
    session: Session, member: Member, name: str, email: str, organization: str, partner_type: str,
) -> Member:
    """Change a member's details; answers already given keep the partner type of their time."""
    name, email, organization = clean_text(name), email.strip().lower(), clean_text(organization)
    problems = member_problems(name, email, organization, partner_type)
    if not problems:
        other = _member_by_email(session, member.partnership, email)
        if other is not None and other.id != member.id:
            problems.append(f"{email} is already on this partnership's roster")
    if problems:
        raise ImportProblem(problems)
    member.name, member.email, member.organization = name, email, organization
    member.partner_type = parse_partner_type(partner_type) or member.partner_type
    session.flush()
    return member


def remove_member(session: Session, member: Member) -> Member:
    """Take a member off the roster: no more invitations; their answers are kept."""
    member.active = False
    session.flush()
    return member


def restore_member(session: Session, member: Member) -> Member:
    """Put a removed member back on the roster."""
    member.active = True
    session.flush()
    return member
