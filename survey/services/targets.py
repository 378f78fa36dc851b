"""Target industries (SPEC 16): the sectors each board's regional economic development
strategy targets, and how a cycle's partnerships cover them.

`survey targets import FILE` (CSV `board,sector`) sets, for every board the file
names, exactly the sectors listed (a code or name of the sector list); boards the file
does not name keep theirs. All or nothing. Flush only; the caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from survey.models import BoardTarget, Cycle
from survey.scoring.cycles import bump_results_version
from survey.sectors import find_sector, unknown_sector
from survey.services import audit
from survey.services.boards import BoardIndex
from survey.services.tabular import Problems, TableRow, row_number

TARGET_COLUMNS = ("board", "sector")


@dataclass(frozen=True)
class TargetsPlan:
    targets: dict[int, set[str]]  # board id -> sector codes


@dataclass(frozen=True)
class TargetsImportSummary:
    boards: int
    targets: int

    def __str__(self) -> str:
        return f"imported {self.targets} target industries for {self.boards} boards"


def check_targets(session: Session, rows: Iterator[TableRow]) -> TargetsPlan:
    """Check every row (reads only); ImportProblem names every bad row."""
    boards = BoardIndex.load(session)
    problems = Problems()
    targets: dict[int, set[str]] = defaultdict(set)
    for index, row in enumerate(rows):
        number = row_number(row, index)
        code = (row.get("board") or "").strip()
        text = (row.get("sector") or "").strip()
        reasons = []
        board = boards.find(code) if code else None
        if not code:
            reasons.append("empty board")
        elif board is None:
            reasons.append(f"unknown board {code!r}")
        elif not board.is_active:
            reasons.append(f"board {board.code} is {board.status}")
        sector = find_sector(text) if text else None
        if not text:
            reasons.append("empty sector")
        elif sector is None:
            reasons.append(unknown_sector(text))
        if reasons:
            problems.append(f"row {number}: {'; '.join(reasons)}")
            continue
        assert board is not None and sector is not None
        targets[board.id].add(sector.code)
    if not targets and not problems:
        problems.append("the file holds no target industries")
    problems.raise_any()
    return TargetsPlan(dict(targets))


def write_targets(session: Session, plan: TargetsPlan) -> TargetsImportSummary:
    """Replace the target industries of every board in the plan."""
    session.execute(delete(BoardTarget).where(BoardTarget.board_id.in_(plan.targets)))
    session.add_all(BoardTarget(board_id=board_id, sector_code=code)
                    for board_id, codes in plan.targets.items() for code in sorted(codes))
    session.flush()
    total = sum(len(codes) for codes in plan.targets.values())
    # coverage is part of every cycle's results: cached pages must be redrawn
    bump_results_version(session, session.execute(select(Cycle.id)).scalars())
    audit.record(session, "targets.import", f"{total} target industries",
                 boards=len(plan.targets))
    return TargetsImportSummary(len(plan.targets), total)
