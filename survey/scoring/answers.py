"""Item results, anonymised responses and comments of submitted respondents.

Item results and comments follow SPEC 4a through `survey.disclosure`'s rules; the
row-level answers (`response_rows`, a stream for the CSV) are for stewards only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Float, Select, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from reports.results import Comment, ItemResult, ResponseRow
from survey import disclosure
from survey.models import Answer, Cycle, Invitation, Participation
from survey.models import Comment as CommentRow
from survey.scoring.cycles import SUBMITTED
from survey.scoring.partnerships import PartnershipScores, ScoredCycle
from survey.scoring.scopes import Counts


def _submitted(query: Select[Any], cycle: Cycle, board_code: str | None) -> Select[Any]:
    """Limit a query joined to invitations and participations to the submitted ones of a
    cycle, and to one board as it stood in the cycle (its lead board, or one of the
    boards it was shared with, SPEC 16)."""
    query = query.where(Invitation.cycle_id == cycle.id, Invitation.status == SUBMITTED)
    if board_code is None:
        return query
    shared = (literal(" ") + Participation.also_boards + literal(" ")).contains(
        f" {board_code} ", autoescape=True)
    return query.where(or_(Participation.board_code == board_code, shared))


def item_results(session: Session, scored: ScoredCycle, members: Sequence[PartnershipScores],
                 counts: Mapping[int, Counts], board_code: str | None) -> tuple[ItemResult, ...]:
    """Per partnership and item: n, mean, don't know, not applicable, unanswered, levels;
    rows of a partnership with too few submitted are withheld whole."""
    levels = [level.value for level in scored.scale.levels]
    query = (
        select(Invitation.participation_id, Answer.item_code, func.count(Answer.level),
               func.avg(cast(Answer.level, Float)),
               func.sum(case((Answer.special == "DK", 1), else_=0)),
               func.sum(case((Answer.special == "NA", 1), else_=0)), func.count(),
               *(func.sum(case((Answer.level == v, 1), else_=0)) for v in levels))
        .join(Answer, Answer.invitation_id == Invitation.id)
        .join(Participation, Participation.id == Invitation.participation_id)
        .group_by(Invitation.participation_id, Answer.item_code)
    )
    rows = {(row[0], row[1]): tuple(row)[2:]
            for row in session.execute(_submitted(query, scored.cycle, board_code))}
    nothing = (0, None, 0, 0, 0, *[0] * len(levels))
    grouped = _items_grouped_hidden(session, scored, board_code)
    held = disclosure.held_back(scored.cycle.id).items
    results = []
    for p in members:
        responded = counts.get(p.participation_id, Counts()).responded
        hidden = disclosure.items_hidden(responded, scored.scale.min_respondents)
        for item in scored.questionnaire.items:
            if hidden or (p.participation_id, item.element_key) in grouped \
                    or (p.partnership_id, item.element_key) in held:
                results.append(ItemResult(
                    p.board_code, p.partnership_id, p.partnership, item.element_key, item.code,
                    item.text, 0, None, 0, 0, 0, dict.fromkeys(levels, 0), suppressed=True))
                continue
            n, mean, dk, na, answered, *per_level = rows.get((p.participation_id, item.code),
                                                             nothing)
            if 0 < n < scored.scale.min_respondents:  # no value to sum into any chart
                mean, per_level = None, [0] * len(levels)
            results.append(ItemResult(
                p.board_code, p.partnership_id, p.partnership, item.element_key, item.code,
                item.text, n, None if mean is None else float(mean), int(dk), int(na),
                responded - answered, {v: int(c) for v, c in zip(levels, per_level, strict=True)},
            ))
    return tuple(results)


def _items_grouped_hidden(session: Session, scored: ScoredCycle,
                          board_code: str | None) -> set[tuple[int, str]]:
    """(participation, element) pairs whose item figures rule 7 hides (survey.disclosure)."""
    counts: dict[tuple[int, str], list[int]] = defaultdict(list)
    query = (select(Invitation.participation_id, Answer.element_key, func.count(Answer.level))
             .join(Answer, Answer.invitation_id == Invitation.id)
             .join(Participation, Participation.id == Invitation.participation_id)
             .group_by(Invitation.participation_id, Answer.element_key, Invitation.id))
    for participation_id, key, scored_items in session.execute(
            _submitted(query, scored.cycle, board_code)):
        counts[participation_id, key].append(int(scored_items))
    minimum = scored.scale.min_respondents
    return {pair for pair, values in counts.items()
            if disclosure.items_grouped_hidden(values, minimum)}


def respondent_code(cycle: Cycle, invitation_id: int, salt: str) -> str:
    """An anonymous respondent code keyed with `salt` (the instance's secret: SPEC 4a rule
    8): an HMAC, so nobody without the secret can compute it from public values."""
    return _code(cycle.id, invitation_id, salt)


def _code(cycle_id: int, invitation_id: int, key: str) -> str:
    digest = hmac.new(key.encode("utf-8"), f"{cycle_id}:{invitation_id}".encode(),
                      hashlib.sha256).hexdigest()
    return "R" + digest[:12]


def responses(session: Session, scored: ScoredCycle, board_code: str | None,
              salt: str) -> tuple[ResponseRow, ...]:
    """Every submitted respondent's answer to every item, in the import format."""
    cycle = scored.cycle
    respondents = session.execute(_submitted(
        select(Invitation.id, Participation.board_code, Participation.partnership_name,
               Invitation.partner_type)
        .join(Participation, Participation.id == Invitation.participation_id), cycle, board_code)
    ).all()
    answers: dict[tuple[int, str], str] = {}
    for invitation_id, code, level, special in session.execute(_submitted(
        select(Answer.invitation_id, Answer.item_code, Answer.level, Answer.special)
        .join(Invitation, Invitation.id == Answer.invitation_id)
        .join(Participation, Participation.id == Invitation.participation_id), cycle, board_code)
    ):
        answers[invitation_id, code] = str(level) if level is not None else str(special)
    # ordered by code (SPEC 4a rule 8), never by roster or submission order
    coded = sorted((respondent_code(cycle, iid, salt), board, partnership, ptype, iid)
                   for iid, board, partnership, ptype in respondents)
    return tuple(
        ResponseRow(cycle.name, board, partnership, code, ptype, item.element_key, item.code,
                    answers.get((iid, item.code), ""))
        for code, board, partnership, ptype, iid in coded
        for item in scored.questionnaire.items
    )


def comments(session: Session, scored: ScoredCycle, board_code: str | None,
             type_counts: Mapping[tuple[int, str], Counts]) -> tuple[Comment, ...]:
    """Submitted respondents' comments, never their author (SPEC 4a rule 3): only in
    partnerships with enough submitted, ordered by text, labelled with a partner type
    only where enough of that type submitted. `type_counts` is by (participation, type)."""
    minimum = scored.scale.min_respondents
    by_type: dict[int, dict[str, int]] = defaultdict(dict)
    for (participation_id, ptype), c in type_counts.items():
        if c.responded:
            by_type[participation_id][ptype] = c.responded
    responded = {pid: sum(types.values()) for pid, types in by_type.items()}
    labels = {pid: disclosure.labelled_types(types, minimum) for pid, types in by_type.items()}
    order = {e.key: e.order for e in scored.questionnaire.elements}
    held = disclosure.held_back(scored.cycle.id).comments
    rows = session.execute(_submitted(
        select(Participation.partnership_id, CommentRow.element_key, Invitation.partner_type,
               CommentRow.text, Invitation.participation_id)
        .join(Invitation, Invitation.id == CommentRow.invitation_id)
        .join(Participation, Participation.id == Invitation.participation_id),
        scored.cycle, board_code)
    ).all()
    shown = [
        Comment(pid, key, ptype if ptype in labels.get(participation_id, ()) else "", text)
        for pid, key, ptype, text, participation_id in rows
        if disclosure.comments_shown(responded.get(participation_id, 0), minimum)
        and pid not in held
    ]
    shown.sort(key=lambda c: (c.partnership_id,
                              *disclosure.comment_order(order.get(c.element_key, len(order)),
                                                        c.text)))
    return tuple(shown)


def response_rows(session: Session, cycle: Cycle, salt: str, batch: int = 500,
                  ) -> Iterator[tuple[str, ...]]:
    """Every stored answer of the cycle's submitted respondents, in the responses import
    format's columns: for stewards only (see survey.services.responses_export).

    The respondent is a code keyed by `salt` (the instance's secret), never a name, email
    or organization; rows come respondent by respondent in the order of their codes (SPEC
    4a rule 8), `batch` respondents per SELECT, so memory stays flat. Unanswered items
    have no row, as in the import. The cycle's attributes are read now, so the rows can
    stream after the request's own transaction has ended.
    """
    ids = session.execute(select(Invitation.id).where(
        Invitation.cycle_id == cycle.id, Invitation.status == SUBMITTED)).scalars().all()
    ordered = sorted((_code(cycle.id, iid, salt), iid) for iid in ids)
    return _coded_rows(session, ordered, cycle.id, cycle.name, batch)


def _coded_rows(session: Session, ordered: list[tuple[str, int]], cycle_id: int, name: str,
                batch: int) -> Iterator[tuple[str, ...]]:
    for start in range(0, len(ordered), batch):
        chunk = ordered[start:start + batch]
        rows: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in session.execute(
            select(Invitation.id, Participation.board_code, Participation.partnership_name,
                   Invitation.partner_type, Answer.element_key, Answer.item_code, Answer.level,
                   Answer.special)
            .join(Participation, Participation.id == Invitation.participation_id)
            .join(Answer, Answer.invitation_id == Invitation.id)
            .where(Invitation.cycle_id == cycle_id,
                   Invitation.id.in_([iid for _, iid in chunk]))
            .order_by(Answer.element_key, Answer.item_code)
        ):
            rows[row[0]].append(tuple(row)[1:])
        for code, iid in chunk:
            for board, partnership, ptype, element, item, level, special in rows.get(iid, ()):
                yield (name, board, partnership, code, ptype, element, item,
                       str(level) if level is not None else (special or ""))
