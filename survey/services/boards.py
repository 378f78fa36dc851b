"""Boards: import a board map, rename, retire, merge, and move partnerships between boards.

A partnership's history moves with it, but each closed cycle keeps the board it was
reported against (its participation snapshot); only open and draft cycles follow a move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import Board, BoardStatus, Cycle, CycleStatus, Participation, Partnership
from survey.services import audit
from survey.services.tabular import ImportProblem, TableRow, row_number

BOARD_COLUMNS = ("code", "name")
CODE_MAX = 20
NAME_MAX = 200


@dataclass(frozen=True)
class BoardImportSummary:
    """What a boards import did."""

    created: int
    renamed: int
    unchanged: int

    def __str__(self) -> str:
        total = self.created + self.renamed + self.unchanged
        return (
            f"imported {total} boards: {self.created} new, {self.renamed} renamed, "
            f"{self.unchanged} unchanged"
        )


class BoardIndex:
    """Boards by code, forgiving the leading zero that spreadsheets drop ("1" finds "01")."""

    def __init__(self, boards: Sequence[Board]) -> None:
        self._by_code = {board.code.strip().lower(): board for board in boards}
        self._by_number = {
            int(board.code): board for board in boards if board.code.strip().isdigit()
        }

    @classmethod
    def load(cls, session: Session) -> BoardIndex:
        """Every board in the database."""
        return cls(list(session.execute(select(Board)).scalars()))

    def find(self, code: str) -> Board | None:
        """The board with this code, or None."""
        code = code.strip()
        board = self._by_code.get(code.lower())
        if board is None and code.isdigit():
            board = self._by_number.get(int(code))
        return board


def import_boards(session: Session, rows: Sequence[TableRow]) -> BoardImportSummary:
    """Create boards with new codes and rename existing ones (CSV `code,name`)."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    wanted: list[tuple[str, str]] = []
    for index, row in enumerate(rows):
        number = row_number(row, index)
        code, name = (row.get("code") or "").strip(), " ".join((row.get("name") or "").split())
        reasons = []
        if not code:
            reasons.append("empty code")
        elif len(code) > CODE_MAX:
            reasons.append(f"code longer than {CODE_MAX} characters")
        elif code.lower() in seen:
            reasons.append(f"code {code} appears twice (rows {seen[code.lower()]} and {number})")
        if not name:
            reasons.append("empty name")
        elif len(name) > NAME_MAX:
            reasons.append(f"name longer than {NAME_MAX} characters")
        if reasons:
            problems.append(f"row {number}: {'; '.join(reasons)}")
        if code:
            seen.setdefault(code.lower(), number)
        wanted.append((code, name))
    if not rows:
        problems.append("the file holds no boards")
    if problems:
        raise ImportProblem(problems)

    existing = {b.code.lower(): b for b in session.execute(select(Board)).scalars()}
    created = renamed = unchanged = 0
    for code, name in wanted:
        board = existing.get(code.lower())
        if board is None:
            session.add(Board(code=code, name=name))
            created += 1
        elif board.name != name:
            board.name = name
            renamed += 1
        else:
            unchanged += 1
    session.flush()
    audit.record(session, "boards.import", f"{len(wanted)} boards", created=created,
                 renamed=renamed, unchanged=unchanged)
    return BoardImportSummary(created, renamed, unchanged)


def create_board(session: Session, code: str, name: str) -> Board:
    """Add a board; its code must be new."""
    code, name = code.strip(), " ".join(name.split())
    if not code or not name:
        raise ImportProblem(["a board needs a code and a name"])
    if len(code) > CODE_MAX or len(name) > NAME_MAX:
        raise ImportProblem([f"board codes hold up to {CODE_MAX} and names {NAME_MAX} characters"])
    if session.execute(select(Board.id).where(func.lower(Board.code) == code.lower())).first():
        raise ImportProblem([f"board {code} already exists"])
    board = Board(code=code, name=name)
    session.add(board)
    session.flush()
    audit.record(session, "board.create", f"board {code}", name=name)
    return board


def rename_board(session: Session, board: Board, name: str) -> Board:
    """Give a board a new name; closed cycles keep reporting the name of their time."""
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX:
        raise ImportProblem([f"a board name needs 1 to {NAME_MAX} characters"])
    before = board.name
    board.name = name
    _refresh_open_participations(session, board)
    session.flush()
    if before != name:
        audit.record(session, "board.rename", f"board {board.code}", before=before, after=name)
    return board


def retire_board(session: Session, board: Board) -> Board:
    """Retire a board: its partnerships are no longer invited; history is kept."""
    if board.status == BoardStatus.MERGED:
        raise ImportProblem([f"board {board.code} was merged and cannot be retired"])
    if board.status != BoardStatus.RETIRED:
        audit.record(session, "board.retire", f"board {board.code}", name=board.name)
    board.status = BoardStatus.RETIRED
    session.flush()
    return board


def reactivate_board(session: Session, board: Board) -> Board:
    """Undo a retirement."""
    if board.status == BoardStatus.MERGED:
        raise ImportProblem([f"board {board.code} was merged into another board"])
    if board.status != BoardStatus.ACTIVE:
        audit.record(session, "board.reactivate", f"board {board.code}", name=board.name)
    board.status = BoardStatus.ACTIVE
    session.flush()
    return board


def merge_boards(session: Session, source: Board, target: Board) -> int:
    """Merge source into target: its partnerships move; return how many moved."""
    if source.id == target.id:
        raise ImportProblem(["a board cannot be merged into itself"])
    if not target.is_active:
        raise ImportProblem([f"board {target.code} is {target.status}, not active"])
    if source.status == BoardStatus.MERGED:
        raise ImportProblem([f"board {source.code} was already merged"])
    partnerships = list(
        session.execute(select(Partnership).where(Partnership.board_id == source.id)).scalars()
    )
    target_names = set(
        session.execute(
            select(func.lower(Partnership.name)).where(Partnership.board_id == target.id)
        ).scalars()
    )
    clashes = sorted(p.name for p in partnerships if p.name.lower() in target_names)
    if clashes:
        raise ImportProblem(
            [f"board {target.code} already has a partnership named {name!r}" for name in clashes]
        )
    for partnership in partnerships:
        move_partnership(session, partnership, target)
    source.status = BoardStatus.MERGED
    source.merged_into = target
    session.flush()
    audit.record(session, "board.merge", f"board {source.code}", into=target.code,
                 partnerships_moved=len(partnerships))
    return len(partnerships)


def move_partnership(session: Session, partnership: Partnership, board: Board) -> Partnership:
    """Move a partnership to another board; closed cycles keep their board snapshot."""
    if partnership.board_id == board.id:
        return partnership
    clash = session.execute(
        select(Partnership.id).where(
            Partnership.board_id == board.id,
            func.lower(Partnership.name) == partnership.name.lower(),
            Partnership.id != partnership.id,
        )
    ).first()
    if clash:
        raise ImportProblem(
            [f"board {board.code} already has a partnership named {partnership.name!r}"])
    audit.record(session, "partnership.move", f"partnership {partnership.id} {partnership.name}",
                 source=partnership.board.code, into=board.code)
    partnership.board = board
    session.flush()
    moved = Participation.partnership_id == partnership.id
    for participation in _open_participations(session, moved):
        _snapshot_board(participation, board)
    session.flush()
    return partnership


def _refresh_open_participations(session: Session, board: Board) -> None:
    for participation in _open_participations(session, Participation.board_id == board.id):
        _snapshot_board(participation, board)


def _open_participations(session: Session, condition: object) -> list[Participation]:
    """Participations in cycles that are not closed, matching a condition."""
    query = (
        select(Participation)
        .join(Cycle, Cycle.id == Participation.cycle_id)
        .where(Cycle.status != CycleStatus.CLOSED, condition)  # type: ignore[arg-type]
    )
    return list(session.execute(query).scalars())


def _snapshot_board(participation: Participation, board: Board) -> None:
    participation.board = board
    participation.board_code = board.code
    participation.board_name = board.name
