"""Scores as shown: partnerships (small-n suppression), boards, sectors and the state.

Board, sector and state element scores are means over the partnerships in the scope
whose score is published, each weighing the same (SPEC 4 revised, 4a): a suppressed
partnership never counts, or the scope minus its published partnerships would give it
away. The state is over every partnership, not a mean of board means.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from reports.results import EMPTY, OVERALL, STATE_SCOPE, ScopeResult, Score
from survey import disclosure
from survey.models import Cycle, Invitation
from survey.scoring.cycles import IN_PROGRESS, SUBMITTED
from survey.scoring.partnerships import PartnershipScores, ScoredCycle, overall_value


@dataclass(frozen=True)
class Counts:
    """Invitations of a scope by where they stand."""

    invited: int = 0
    responded: int = 0  # submitted
    in_progress: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.invited + other.invited, self.responded + other.responded,
                      self.in_progress + other.in_progress)


def invitation_counts(session: Session, cycle: Cycle) -> dict[tuple[int, str], Counts]:
    """Invitations per (participation id, partner type at answer time)."""
    rows = session.execute(
        select(Invitation.participation_id, Invitation.partner_type, func.count(),
               func.sum(case((Invitation.status == SUBMITTED, 1), else_=0)),
               func.sum(case((Invitation.status == IN_PROGRESS, 1), else_=0)))
        .where(Invitation.cycle_id == cycle.id)
        .group_by(Invitation.participation_id, Invitation.partner_type)
    )
    return {(pid, ptype): Counts(invited, int(responded or 0), int(drafts or 0))
            for pid, ptype, invited, responded, drafts in rows}


def partnership_shown(p: PartnershipScores, scored: ScoredCycle) -> dict[str, Score]:
    """A partnership's existing element scores and overall (key OVERALL), suppression applied.

    Keys are present only where a score exists (a suppressed one included); the overall
    is suppressed when any element score is.
    """
    keys, minimum = scored.element_keys, scored.scale.min_respondents
    shown = {key: Score(f.value, f.n)
             if disclosure.score_published(scored.cycle.id, p.partnership_id, key, f.n, minimum)
             else Score(None, f.n, suppressed=True)
             for key, f in p.elements.items() if key in keys}
    overall = overall_value({k: f.value for k, f in p.elements.items()}, keys)
    if overall is not None:
        n = min(p.elements[k].n for k in keys)
        hidden = any(shown[k].suppressed for k in keys)
        shown[OVERALL] = Score(None, n, suppressed=True) if hidden else Score(overall, n)
    return shown


def _partnership_scope(p: PartnershipScores, scored: ScoredCycle, counts: Counts) -> ScopeResult:
    shown = partnership_shown(p, scored)
    elements = {key: shown.get(key, EMPTY) for key in scored.element_keys}
    overall = shown.get(OVERALL, EMPTY)
    if any(s.suppressed for s in elements.values()):  # even when some element has no score
        overall = Score(None, min(f.n for f in p.elements.values()), suppressed=True)
    return ScopeResult(
        kind="partnership", key=str(p.partnership_id), label=p.partnership,
        elements=elements, overall=overall,
        stage=None if overall.suppressed else scored.scale.stage(overall.value),
        invited=counts.invited, responded=counts.responded, in_progress=counts.in_progress,
        board_code=p.board_code, board_name=p.board_name, sector=p.sector,
        partnership_id=p.partnership_id, also_boards=p.also_boards,
    )


def _group_scope(kind: str, key: str, label: str, members: Sequence[PartnershipScores],
                 scored: ScoredCycle, counts: Counts, board_name: str = "") -> ScopeResult:
    """Board, sector or state: the mean over partnerships whose score is published.

    `n` is the number of those partnerships. Where partnerships have scores but none is
    published, the scope's score is suppressed.
    """
    minimum = scored.scale.min_respondents
    held = disclosure.held_back(scored.cycle.id)
    elements: dict[str, Score] = {}
    values: dict[str, float | None] = {}
    for element in scored.element_keys:
        figures = [p.elements[element] for p in members if element in p.elements]
        shown = [p.elements[element] for p in members if element in p.elements
                 and disclosure.score_published(scored.cycle.id, p.partnership_id, element,
                                                p.elements[element].n, minimum)]
        values[element] = fmean(f.value for f in shown) if shown else None
        if (kind, key, element) in held.groups:
            values[element] = None
            elements[element] = Score(None, 0, suppressed=True)
        elif shown:
            elements[element] = Score(values[element], len(shown))
        elif figures:
            elements[element] = Score(None, 0, suppressed=True)
        else:
            elements[element] = EMPTY
    overall_v = overall_value(values, scored.element_keys)
    n = min((s.n for s in elements.values()), default=0)
    if any(s.suppressed for s in elements.values()):
        overall = Score(None, n, suppressed=True)
    else:
        overall = Score(overall_v, n) if overall_v is not None else EMPTY
    return ScopeResult(
        kind=kind, key=key, label=label, elements=elements, overall=overall,
        stage=scored.scale.stage(overall.value), invited=counts.invited,
        responded=counts.responded, in_progress=counts.in_progress, partnerships=len(members),
        board_code=key if kind == "board" else "", board_name=board_name,
    )


@dataclass(frozen=True)
class Scopes:
    """The scope results of one cycle."""

    state: ScopeResult
    boards: tuple[ScopeResult, ...]
    sectors: tuple[ScopeResult, ...]
    partnerships: tuple[ScopeResult, ...]


def build_scopes(scored: ScoredCycle, counts: Mapping[int, Counts], board_code: str | None = None,
                 board_name: str = "") -> Scopes:
    """State over every partnership; boards, sectors and partnerships within the scope.

    `counts` is by participation id; `board_name` names a requested board that has no
    partnership in the cycle.
    """
    def total(members: Iterable[PartnershipScores]) -> Counts:
        return sum((counts.get(p.participation_id, Counts()) for p in members), Counts())

    everyone = scored.partnerships
    state = _group_scope("state", STATE_SCOPE, STATE_SCOPE, everyone, scored, total(everyone))
    members = [p for p in everyone if board_code is None or p.in_board(board_code)]
    by_board: dict[str, list[PartnershipScores]] = defaultdict(list)
    by_sector: dict[str, list[PartnershipScores]] = defaultdict(list)
    names: dict[str, str] = {}
    if board_code is not None:
        by_board[board_code] = []
    for p in members:
        # A shared partnership counts in every board it spans, and once in its sector
        # and the state (SPEC 16): each of those lists holds it once.
        for code, name in ((p.board_code, p.board_name), *p.also_boards):
            if board_code is None or code == board_code:
                by_board[code].append(p)
                if code == p.board_code or code not in names:  # the lead's name as it stood
                    names[code] = name
        by_sector[p.sector].append(p)
    boards = []
    for code, group in sorted(by_board.items()):
        name = names.get(code) or board_name
        boards.append(_group_scope("board", code, name, group, scored, total(group), name))
    sectors = tuple(
        _group_scope("sector", sector, sector or "No sector", group, scored, total(group))
        for sector, group in sorted(by_sector.items())
    )
    partnerships = tuple(_partnership_scope(p, scored, counts.get(p.participation_id, Counts()))
                         for p in members)
    return Scopes(state, tuple(boards), sectors, partnerships)
