"""Partnerships that span boards (SPEC 16): a lead board and participating boards.

`survey partnerships import FILE` (CSV `board,partnership,sector,also_boards`) creates
or updates partnerships under their lead board, with their sector (a code or name of
the sector list) and the other boards they span (codes separated by spaces). The
participating boards of each cycle are kept on its participation (`also_boards`), as
the lead board is: closed cycles keep theirs, open and draft cycles follow a change.
Flush only; the caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from survey.models import Board, Cycle, CycleStatus, Participation, Partnership, PartnershipBoard
from survey.scoring.cycles import bump_results_version
from survey.sectors import find_sector, unknown_sector
from survey.services import audit
from survey.services.boards import BoardIndex
from survey.services.rosters import TEXT_MAX, PartnershipIndex, clean_text, partnership_key
from survey.services.tabular import ImportProblem, Problems, TableRow, row_number

PARTNERSHIP_COLUMNS = ("board", "partnership", "sector", "also_boards")


def also_board_codes(session: Session, partnership_ids: Iterable[int]) -> dict[int, str]:
    """Each partnership's participating boards now, as codes separated by spaces."""
    ids = sorted(set(partnership_ids))
    codes: dict[int, list[str]] = defaultdict(list)
    if ids:
        for partnership_id, code in session.execute(
                select(PartnershipBoard.partnership_id, Board.code)
                .join(Board, Board.id == PartnershipBoard.board_id)
                .where(PartnershipBoard.partnership_id.in_(ids)).order_by(Board.code)):
            codes[partnership_id].append(code)
    return {pid: " ".join(found) for pid, found in codes.items()}


def board_codes(also_boards: str) -> tuple[str, ...]:
    """The codes of a stored `also_boards` text."""
    return tuple(also_boards.split())


def parse_board_list(text: str, lead: Board | None, boards: BoardIndex) -> tuple[
        list[Board], list[str]]:
    """Participating boards from codes separated by spaces (or commas): (boards, problems)."""
    found: list[Board] = []
    problems: list[str] = []
    for code in text.replace(",", " ").split():
        board = boards.find(code)
        if board is None:
            problems.append(f"unknown board {code!r} in also_boards")
        elif not board.is_active:
            problems.append(f"board {board.code} in also_boards is {board.status}")
        elif lead is not None and board.id == lead.id:
            problems.append(f"board {board.code} leads the partnership; list only the others "
                            "in also_boards")
        elif board not in found:
            found.append(board)
    return sorted(found, key=lambda b: b.code), problems


def set_participating_boards(session: Session, partnership: Partnership,
                             boards: Sequence[Board]) -> bool:
    """Make `boards` the partnership's participating boards (open cycles follow);
    return whether anything changed."""
    wanted = {b.id for b in boards}
    current = set(session.execute(select(PartnershipBoard.board_id).where(
        PartnershipBoard.partnership_id == partnership.id)).scalars())
    if wanted == current:
        return False
    session.execute(delete(PartnershipBoard).where(
        PartnershipBoard.partnership_id == partnership.id,
        PartnershipBoard.board_id.not_in(wanted)))
    session.add_all(PartnershipBoard(partnership_id=partnership.id, board_id=board_id)
                    for board_id in sorted(wanted - current))
    session.flush()
    codes = " ".join(sorted(b.code for b in boards))
    touched = []
    for participation in session.execute(
            select(Participation).join(Cycle, Cycle.id == Participation.cycle_id)
            .where(Participation.partnership_id == partnership.id,
                   Cycle.status != CycleStatus.CLOSED)).scalars():
        participation.also_boards = codes
        touched.append(participation.cycle_id)
    bump_results_version(session, touched)  # those cycles' figures change
    session.expire(partnership, ["shared_with"])
    return True


@dataclass(frozen=True)
class _PartnershipLine:
    board: Board
    name: str
    sector: str  # the list's name, or "" (keep the partnership's)
    also: tuple[Board, ...]


@dataclass(frozen=True)
class PartnershipsPlan:
    lines: list[_PartnershipLine]


@dataclass(frozen=True)
class PartnershipsImportSummary:
    created: int
    updated: int
    unchanged: int

    def __str__(self) -> str:
        total = self.created + self.updated + self.unchanged
        return (f"imported {total} partnerships: {self.created} new, {self.updated} updated, "
                f"{self.unchanged} unchanged")


def check_partnerships(session: Session, rows: Iterator[TableRow]) -> PartnershipsPlan:
    """Check every row (reads only); ImportProblem names every bad row."""
    boards = BoardIndex.load(session)
    problems = Problems()
    lines: list[_PartnershipLine] = []
    seen: dict[tuple[int, str], int] = {}
    for index, row in enumerate(rows):
        number = row_number(row, index)
        code = (row.get("board") or "").strip()
        name = clean_text(row.get("partnership"))
        sector_text = clean_text(row.get("sector"))
        reasons: list[str] = []
        board = boards.find(code) if code else None
        if not code:
            reasons.append("empty board")
        elif board is None:
            reasons.append(f"unknown board {code!r}")
        elif not board.is_active:
            reasons.append(f"board {board.code} is {board.status}")
        if not name:
            reasons.append("empty partnership")
        elif len(name) > TEXT_MAX:
            reasons.append(f"partnership longer than {TEXT_MAX} characters")
        sector = find_sector(sector_text) if sector_text else None
        if sector_text and sector is None:
            reasons.append(unknown_sector(sector_text))
        also, also_problems = parse_board_list(row.get("also_boards") or "", board, boards)
        reasons += also_problems
        if board is not None and name:
            first = seen.setdefault(partnership_key(board, name), number)
            if first != number:
                reasons.append(f"partnership {name!r} of board {board.code} is also on row "
                               f"{first}")
        if reasons:
            problems.append(f"row {number}: {'; '.join(reasons)}")
            continue
        assert board is not None
        lines.append(_PartnershipLine(board, name, sector.name if sector else "", tuple(also)))
    if not lines and not problems:
        problems.append("the file holds no partnerships")
    problems.raise_any()
    return PartnershipsPlan(lines)


def write_partnerships(session: Session, plan: PartnershipsPlan) -> PartnershipsImportSummary:
    """Create or update each checked partnership, its sector and its participating boards."""
    index = PartnershipIndex(session)
    created = updated = unchanged = 0
    for line in plan.lines:
        partnership = index.find(line.board, line.name)
        if partnership is None:
            partnership = index.get_or_create(line.board, line.name, line.sector)
            session.flush()
            created += 1
            set_participating_boards(session, partnership, line.also)
            continue
        changed = bool(line.sector) and partnership.sector != line.sector
        if changed:
            partnership.sector = line.sector
        if set_participating_boards(session, partnership, line.also) or changed:
            updated += 1
        else:
            unchanged += 1
    session.flush()
    audit.record(session, "partnerships.import", f"{len(plan.lines)} partnerships",
                 created=created, updated=updated, unchanged=unchanged)
    return PartnershipsImportSummary(created, updated, unchanged)


def check_also_boards(session: Session, lead: Board, text: str) -> list[Board]:
    """The participating boards typed on the admin form; ImportProblem names what is wrong."""
    boards, problems = parse_board_list(clean_text(text), lead, BoardIndex.load(session))
    if problems:
        raise ImportProblem(problems)
    return boards
