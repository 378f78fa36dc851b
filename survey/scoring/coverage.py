"""Target industries against a cycle's partnerships (SPEC 16), for results.

Per board: each sector its regional strategy targets, with its partnerships in the
cycle (a shared partnership counts in every board it spans) and their median
published overall score; then the sectors of its partnerships outside its targets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from reports.results import CoverageRow, ScopeResult
from survey.models import Board, BoardStatus, BoardTarget
from survey.sectors import by_code


def board_targets(session: Session) -> dict[str, list[str]]:
    """Each board's targeted sectors (the list's names, sorted), by board code."""
    found: dict[str, list[str]] = defaultdict(list)
    for code, sector_code in session.execute(
            select(Board.code, BoardTarget.sector_code)
            .join(BoardTarget, BoardTarget.board_id == Board.id).order_by(Board.code)):
        sector = by_code(sector_code)
        found[code].append(sector.name if sector else sector_code)
    return {code: sorted(names) for code, names in found.items()}


def coverage(targets: Mapping[str, list[str]], boards: Mapping[str, str],
             partnerships: tuple[ScopeResult, ...]) -> tuple[CoverageRow, ...]:
    """The coverage rows of `boards` (code -> name), in board code order."""
    rows = []
    for code, name in sorted(boards.items()):
        by_sector: dict[str, list[ScopeResult]] = defaultdict(list)
        for p in partnerships:
            if p.in_board(code):
                by_sector[p.sector or "No sector"].append(p)
        targeted = targets.get(code, [])
        for sector in [*targeted, *sorted(s for s in by_sector if s not in targeted)]:
            group = by_sector.get(sector, [])
            shown = [p.overall.value for p in group if p.overall.shown]
            rows.append(CoverageRow(code, name, sector, sector in targeted, len(group),
                                    median(shown) if shown else None))
    return tuple(rows)


def cycle_coverage(session: Session, partnerships: tuple[ScopeResult, ...],
                   board_code: str | None, board_names: Mapping[str, str]) -> tuple[
                       CoverageRow, ...]:
    """Coverage of one board, or of every active board with targets or partnerships.
    `board_names`: the boards' names as they stood in the cycle (scopes)."""
    targets = board_targets(session)
    if board_code is not None:
        boards = {board_code: board_names.get(board_code, board_code)}
    else:
        active = dict(session.execute(select(Board.code, Board.name).where(
            Board.status == BoardStatus.ACTIVE)).all())
        codes = {c for c in active if c in targets} | set(board_names)
        boards = {c: board_names.get(c) or active.get(c, c) for c in codes}
    return coverage(targets, boards, partnerships)
