"""Rosters: import members from a file, and add, change or remove one member."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import PARTNER_TYPE_LABELS, Board, Member, Partnership
from survey.services.boards import BoardIndex
from survey.services.tabular import ImportProblem, TableRow, row_number

ROSTER_COLUMNS = ("board", "partnership", "sector", "name", "email", "organization", "partner_type")
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
    """True for something shaped like an email address."""
    return len(text) <= EMAIL_MAX and EMAIL_RE.match(text) is not None


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
    board: Board
    partnership: str
    sector: str
    name: str
    email: str
    organization: str
    partner_type: str


def member_problems(name: str, email: str, organization: str, partner_type: str) -> list[str]:
    """What is wrong with a member's fields (partner_type as typed); empty when valid."""
    reasons = []
    if not name:
        reasons.append("empty name")
    elif len(name) > TEXT_MAX:
        reasons.append(f"name longer than {TEXT_MAX} characters")
    if not email:
        reasons.append("empty email")
    elif not looks_like_email(email):
        reasons.append(f"invalid email {email!r}")
    if len(organization) > TEXT_MAX:
        reasons.append(f"organization longer than {TEXT_MAX} characters")
    if parse_partner_type(partner_type) is None:
        known = ", ".join(PARTNER_TYPE_LABELS)
        reasons.append(f"unknown partner type {partner_type!r} (use one of {known})")
    return reasons


def import_roster(session: Session, rows: Sequence[TableRow]) -> RosterImportSummary:
    """Create or update members from roster rows; all or nothing (ImportProblem lists all)."""
    boards = BoardIndex.load(session)
    problems: list[str] = []
    lines: list[_RosterLine] = []
    first_row: dict[tuple[int, str, str], int] = {}
    sectors: dict[tuple[int, str], tuple[str, int]] = {}
    for index, row in enumerate(rows):
        number = row_number(row, index)
        code = (row.get("board") or "").strip()
        partnership = clean_text(row.get("partnership"))
        sector = clean_text(row.get("sector"))
        name = clean_text(row.get("name"))
        email = (row.get("email") or "").strip().lower()
        organization = clean_text(row.get("organization"))
        type_text = row.get("partner_type") or ""
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
        reasons += member_problems(name, email, organization, type_text)
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
        lines.append(_RosterLine(board, partnership, sector, name, email, organization,
                                 parse_partner_type(type_text) or ""))
    if not rows:
        problems.append("the file holds no members")
    if problems:
        raise ImportProblem(problems)

    partnerships = PartnershipIndex(session)
    created = updated = unchanged = 0
    for line in lines:
        partnership = partnerships.get_or_create(line.board, line.partnership, line.sector)
        member = None
        if partnership.id is not None:
            member = _member_by_email(session, partnership, line.email)
        if member is None:
            session.add(Member(
                partnership=partnership, name=line.name, email=line.email,
                organization=line.organization, partner_type=line.partner_type,
            ))
            created += 1
            continue
        changed = (member.name, member.organization, member.partner_type, member.active) != (
            line.name, line.organization, line.partner_type, True)
        member.name, member.organization = line.name, line.organization
        member.partner_type, member.active = line.partner_type, True
        updated += changed
        unchanged += not changed
    session.flush()
    return RosterImportSummary(created, updated, unchanged, partnerships.created)


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
