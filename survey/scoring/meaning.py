"""What the figures mean (SPEC 15), from the cycle's answers: agreement, margins, peers,
the instrument. The formulas are in survey.scoring.statistics; here the sums they need
are taken in SQL (integer sums, so SQLite and PostgreSQL give the same figures) and the
rules of survey.disclosure decide what is published.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from reports.results import (
    OVERALL,
    STATE_SCOPE,
    AgreementResult,
    BenchmarkResult,
    ChangeResult,
    InstrumentElement,
    InstrumentItem,
    MarginResult,
)
from survey import disclosure
from survey.models import Answer, Invitation, Participation
from survey.scoring import statistics
from survey.scoring.cycles import SUBMITTED
from survey.scoring.partnerships import Figure, PartnershipScores, ScoredCycle
from survey.scoring.scopes import partnership_shown


def _scale_range(scored: ScoredCycle) -> tuple[float, float]:
    values = [level.value for level in scored.scale.levels]
    return float(min(values)), float(max(values))


def agreement(session: Session, scored: ScoredCycle, members: Sequence[PartnershipScores],
              board_code: str | None) -> tuple[AgreementResult, ...]:
    """rwg(J) per published partnership element score of the members."""
    minimum = scored.scale.min_respondents
    query = (
        select(Invitation.participation_id, Answer.item_code, func.count(Answer.level),
               func.sum(Answer.level), func.sum(Answer.level * Answer.level))
        .join(Answer, Answer.invitation_id == Invitation.id)
        .join(Participation, Participation.id == Invitation.participation_id)
        .where(Invitation.cycle_id == scored.cycle.id, Invitation.status == SUBMITTED,
               Answer.level.is_not(None))
        .group_by(Invitation.participation_id, Answer.item_code)
    )
    if board_code is not None:  # the board's members, shared partnerships included (SPEC 16)
        query = query.where(Invitation.participation_id.in_(
            [p.participation_id for p in members]))
    sums = {(pid, code): (int(n), int(total or 0), int(squares or 0))
            for pid, code, n, total, squares in session.execute(query)}
    levels = len(scored.scale.levels)
    results = []
    for p in members:
        for element in scored.questionnaire.elements:
            figure = p.elements.get(element.key)
            if figure is None or not disclosure.agreement_shown(
                    disclosure.published(figure.n, minimum)):
                continue
            variances = [v for item in element.items
                         if (v := statistics.variance_from_sums(
                             *sums.get((p.participation_id, item.code), (0, 0, 0))))
                         is not None]
            rwg = statistics.rwg_j(variances, levels)
            if rwg is None:
                continue
            results.append(AgreementResult(
                p.board_code, p.partnership_id, p.partnership, element.key, figure.n,
                len(variances), rwg, statistics.agreement_reading(rwg)))
    return tuple(results)


def _margin(figure: Figure | None, scored: ScoredCycle) -> statistics.Interval | None:
    """A score's interval where SPEC 15 allows one (published, n >= minimum + 2)."""
    minimum = scored.scale.min_respondents
    if figure is None or figure.sd is None or not disclosure.published(figure.n, minimum) \
            or not disclosure.margin_shown(figure.n, minimum):
        return None
    low, high = _scale_range(scored)
    return statistics.margin(figure.value, figure.sd, figure.n, low, high)


def margins(scored: ScoredCycle, members: Sequence[PartnershipScores]
            ) -> tuple[MarginResult, ...]:
    """Standard error and 90% interval of each partnership element score that may have one."""
    results = []
    for p in members:
        for key in scored.element_keys:
            interval = _margin(p.elements.get(key), scored)
            if interval is not None:
                results.append(MarginResult(p.partnership_id, key, p.elements[key].n,
                                            interval.se, interval.low, interval.high))
    return tuple(results)


def with_margins(changes: Sequence[ChangeResult], scored: ScoredCycle,
                 earlier: Sequence[ScoredCycle]) -> tuple[ChangeResult, ...]:
    """Changes marked within the margin or not, where both scores have a margin."""
    by_cycle = {s.cycle.name: (s, {p.partnership_id: p for p in s.partnerships})
                for s in (*earlier, scored)}
    current = by_cycle[scored.cycle.name][1]
    marked = []
    for c in changes:
        within = None
        if c.delta is not None and c.element_key != OVERALL and c.previous_cycle in by_cycle:
            before_scored, before = by_cycle[c.previous_cycle]
            now = _margin(current[c.partnership_id].elements.get(c.element_key), scored)
            then_p = before.get(c.partnership_id)
            then = _margin(then_p.elements.get(c.element_key), before_scored) if then_p else None
            if now is not None and then is not None:
                within = statistics.within_margin(c.delta, now.se, then.se)
        marked.append(dataclasses.replace(c, within_margin=within))
    return tuple(marked)


def benchmarks(scored: ScoredCycle) -> tuple[BenchmarkResult, ...]:
    """Quartiles of published partnership scores statewide and per sector (5 or more)."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for p in scored.partnerships:
        for key, score in partnership_shown(p, scored).items():
            if score.shown and score.value is not None:
                values[STATE_SCOPE, key].append(score.value)
                if p.sector:
                    values[p.sector, key].append(score.value)
    keys = (*scored.element_keys, OVERALL)
    scopes = [STATE_SCOPE, *sorted({s for s, _ in values} - {STATE_SCOPE}, key=str.casefold)]
    results = []
    for scope in scopes:
        for key in keys:
            found = values.get((scope, key), [])
            if disclosure.benchmark_shown(len(found)):
                lower, median, upper = statistics.quartiles(found)
                results.append(BenchmarkResult(scope, key, len(found), lower, median, upper))
    return tuple(results)


def instrument(session: Session, scored: ScoredCycle, responded: int, hidden_respondents: int
               ) -> tuple[tuple[InstrumentElement, ...], tuple[InstrumentItem, ...]]:
    """Alpha per element and item statistics statewide (stewards' figures).

    `responded` counts every submitted respondent of the cycle; `hidden_respondents`
    those of partnerships whose item figures are withheld (survey.disclosure decides
    whether the don't know and not applicable shares may show)."""
    questionnaire = scored.questionnaire
    cycle = scored.cycle
    needed = case({e.key: len(e.items) for e in questionnaire.elements},
                  value=Answer.element_key, else_=None)
    complete = (
        select(Answer.invitation_id, Answer.element_key,
               func.sum(Answer.level).label("total"))
        .join(Invitation, Invitation.id == Answer.invitation_id)
        .where(Invitation.cycle_id == cycle.id, Invitation.status == SUBMITTED)
        .group_by(Answer.invitation_id, Answer.element_key)
        .having(func.count(Answer.level) == needed)
        .subquery("complete")
    )
    item_rows = session.execute(
        select(Answer.item_code, func.count(), func.sum(Answer.level),
               func.sum(Answer.level * Answer.level), func.sum(Answer.level * complete.c.total))
        .join(complete, and_(complete.c.invitation_id == Answer.invitation_id,
                             complete.c.element_key == Answer.element_key))
        .where(Answer.level.is_not(None))
        .group_by(Answer.item_code)
    )
    moments = {code: statistics.ItemMoments(int(n), int(t), int(sq), int(cross))
               for code, n, t, sq, cross in item_rows}
    totals = {key: (int(n), int(t or 0), int(sq or 0)) for key, n, t, sq in session.execute(
        select(complete.c.element_key, func.count(), func.sum(complete.c.total),
               func.sum(complete.c.total * complete.c.total))
        .group_by(complete.c.element_key))}
    specials = {code: (int(dk or 0), int(na or 0)) for code, dk, na in session.execute(
        select(Answer.item_code, func.sum(case((Answer.special == "DK", 1), else_=0)),
               func.sum(case((Answer.special == "NA", 1), else_=0)))
        .join(Invitation, Invitation.id == Answer.invitation_id)
        .where(Invitation.cycle_id == cycle.id, Invitation.status == SUBMITTED)
        .group_by(Answer.item_code))}
    shares = disclosure.instrument_shares_shown(hidden_respondents,
                                                scored.scale.min_respondents)
    elements, items = [], []
    for element in questionnaire.elements:
        n, total, squares = totals.get(element.key, (0, 0, 0))
        codes = [item.code for item in element.items]
        zero = statistics.ItemMoments(0, 0, 0, 0)
        fit = statistics.reliability([moments.get(code, zero) for code in codes], n, total,
                                     squares)
        elements.append(InstrumentElement(element.key, n, fit.alpha, fit.alpha_low,
                                          fit.alpha_high))
        for code, rest, dropped in zip(codes, fit.item_rest, fit.alpha_if_dropped,
                                       strict=True):
            dk, na = specials.get(code, (0, 0))
            items.append(InstrumentItem(
                element.key, code, n, rest, dropped,
                statistics.share(dk, responded) if shares else None,
                statistics.share(na, responded) if shares else None))
    return tuple(elements), tuple(items)


def hidden_item_respondents(counts: Mapping[int, int], minimum: int) -> int:
    """Submitted respondents of partnerships whose item figures are withheld whole."""
    return sum(n for n in counts.values() if disclosure.items_hidden(n, minimum) and n)
