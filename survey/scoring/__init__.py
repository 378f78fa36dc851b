"""Scoring (SPEC section 4): submitted answers aggregated in SQL into CycleResults.

Where each figure is computed, once:

- `partnerships` - respondent and partnership element scores (one grouped query).
- `scopes` - suppression of partnership scores; board, sector and state means;
  invitation counts and response rates.
- `partner_types` - partner-type pooled means and the industry gap.
- `change` - change against the most recent earlier cycle with a score; trends.
- `answers` - item results, anonymised responses, comments.
- `cycles` - cycles in order and `results_version`, a cache key.
- `meaning` - what the figures mean (SPEC 15): agreement, margins, benchmarks, the
  instrument; its formulas are in `statistics`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from reports.results import STATE_SCOPE, CycleResults, ElementInfo, ItemInfo, ScopeResult
from survey.models import Board, Cycle
from survey.scoring import answers, change, coverage, meaning, outcomes, partner_types
from survey.scoring.cycles import cycle_by_name, previous_cycles, results_version
from survey.scoring.partnerships import (
    ScoredCycle,
    overall_value,
    partnership_scores,
)
from survey.scoring.scopes import Counts, build_scopes, invitation_counts

__all__ = [
    "UnknownBoardError", "board_sectors", "cycle_by_name", "cycle_results", "overall_value",
    "partnership_scores", "previous_cycles", "respondent_code", "results_version",
]

respondent_code = answers.respondent_code


class UnknownBoardError(LookupError):
    """A board code that is neither a board nor a board of the cycle's partnerships."""


def cycle_results(
    session: Session,
    cycle: Cycle,
    board_code: str | None = None,
    *,
    include_responses: bool = False,
    respondent_salt: str | None = None,
) -> CycleResults:
    """Every figure of one cycle, optionally limited to one board (the state stays whole).

    Figures follow SPEC 4 and 4a (rules in survey.disclosure); pages and files get them
    through `survey.disclosure.published_results`, which also applies who is looking.
    `include_responses` adds row-level answers (stewards only; the CSV streams them with
    `answers.response_rows` instead). `respondent_salt` keys the anonymous respondent
    codes: the instance's secret (SPEC 4a rule 8), required with `include_responses`.
    Raises UnknownBoardError for a board code
    that is neither a board nor a board of the cycle's partnerships.
    """
    scored = partnership_scores(session, cycle)
    board_name = _board_name(session, scored, board_code)
    # Only published cycles feed change and trends (SPEC 4b.1): a historical cycle filled by
    # import and never published gives nothing to compare with.
    before = previous_cycles(session, cycle)
    earlier = [partnership_scores(session, c) for c in before if c.published_at is not None]
    members = [p for p in scored.partnerships if board_code is None or p.in_board(board_code)]

    boards_of = {p.participation_id: p.board_codes for p in scored.partnerships}
    counts: dict[int, Counts] = defaultdict(Counts)
    type_counts: dict[tuple[str, str], Counts] = defaultdict(Counts)
    by_participation = invitation_counts(session, cycle)
    for (participation_id, ptype), c in by_participation.items():
        counts[participation_id] += c
        type_counts[STATE_SCOPE, ptype] += c
        for code in boards_of[participation_id]:  # a shared partnership: each of its boards
            type_counts[code, ptype] += c

    scopes = build_scopes(scored, counts, board_code, board_name)
    type_scopes = [STATE_SCOPE, *(b.key for b in scopes.boards)]
    pools = partner_types.type_pools(session, scored)
    questionnaire = scored.questionnaire
    if include_responses and respondent_salt is None:
        raise ValueError("row-level respondent codes need the instance's secret (SPEC 4a rule 8)")
    salt = respondent_salt or ""
    instrument: tuple[tuple, tuple] = ((), ())
    if board_code is None:  # the state workbook and the stewards' page only
        responded = {pid: c.responded for pid, c in counts.items()}
        instrument = meaning.instrument(
            session, scored, sum(responded.values()),
            meaning.hidden_item_respondents(responded, scored.scale.min_respondents))
    return CycleResults(
        cycle=cycle.name, cycle_status=cycle.status, opens_on=cycle.opens_on,
        closes_on=cycle.closes_on, generated_at=dt.datetime.now(dt.UTC),
        content_hash=cycle.content_hash, scale=scored.scale,
        elements=tuple(ElementInfo(e.key, e.title, e.order) for e in questionnaire.elements),
        items=tuple(ItemInfo(i.element_key, i.code, i.text) for i in questionnaire.items),
        board_code=board_code, state=scopes.state, boards=scopes.boards, sectors=scopes.sectors,
        partnerships=scopes.partnerships,
        item_results=answers.item_results(session, scored, members, counts, board_code),
        partner_types=partner_types.partner_types(scored, pools, type_counts, type_scopes),
        gaps=partner_types.gaps(scored, pools, type_scopes),
        changes=meaning.with_margins(change.changes(scored, earlier, members), scored, earlier),
        responses=(answers.responses(session, scored, board_code, salt)
                   if include_responses else ()),
        comments=answers.comments(session, scored, board_code, by_participation),
        trends=change.trends([*earlier, scored], board_code, {p.partnership_id for p in members}),
        provisional=cycle.published_at is None,
        agreement=meaning.agreement(session, scored, members, board_code),
        margins=meaning.margins(scored, members),
        benchmarks=meaning.benchmarks(scored),
        instrument=instrument[0], instrument_items=instrument[1],
        coverage=coverage.cycle_coverage(session, scopes.partnerships, board_code,
                                         {b.key: b.label for b in scopes.boards}),
        outcomes=outcomes.cycle_outcomes(session, cycle, before, members),
    )


def board_sectors(session: Session, cycle: Cycle) -> dict[str, tuple[ScopeResult, ...]]:
    """Each board's sectors as a board's results show them (over its partnerships only)."""
    scored = partnership_scores(session, cycle)
    counts: dict[int, Counts] = defaultdict(Counts)
    for (participation_id, _), c in invitation_counts(session, cycle).items():
        counts[participation_id] += c
    codes = sorted({p.board_code for p in scored.partnerships})
    return {code: build_scopes(scored, counts, code).sectors for code in codes}


def _board_name(session: Session, scored: ScoredCycle, board_code: str | None) -> str:
    """The board's name as it stood in the cycle; raise for an unknown code."""
    if board_code is None:
        return ""
    for p in scored.partnerships:
        if p.board_code == board_code:
            return p.board_name
    for p in scored.partnerships:
        for code, name in p.also_boards:
            if code == board_code:
                return name
    name = session.execute(select(Board.name).where(Board.code == board_code)).scalar()
    if name is None:
        raise UnknownBoardError(f"unknown board: {board_code}")
    return name
