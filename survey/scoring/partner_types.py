"""Partner-type view and industry gap: respondent element scores pooled within a scope.

A scope is "State" or a board code as it stood in the cycle. Only respondents of
partnerships whose score in the element is published are pooled, and which cells are
shown is decided once for the whole state by `survey.disclosure.publishable_cells`
(small-n and complementary suppression, SPEC 4a rule 1). The gap's business side is
the business cell; its other side is shown only beside a shown business side.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from reports.results import STATE_SCOPE, GapResult, PartnerTypeResult, ScaleInfo, Score
from survey import disclosure
from survey.models import PARTNER_TYPE_LABELS
from survey.scoring.partnerships import ScoredCycle, respondent_element_scores
from survey.scoring.scopes import Counts

BUSINESS = "business"

PoolKey = tuple[str, str, str]  # (scope, partner type, element key)


@dataclass
class Pool:
    """Respondent element scores, for pooled means. Their sum is exactly rounded (fsum),
    so the figure does not depend on the order rows arrive in or on the database."""

    scores: list[float] = field(default_factory=list)

    @property
    def total(self) -> float:
        return math.fsum(self.scores)

    @property
    def n(self) -> int:
        return len(self.scores)

    def add(self, other: Pool) -> None:
        self.scores.extend(other.scores)


@dataclass
class TypePools:
    """Pooled sums per scope, partner type and element, and the cells that may be shown."""

    sums: dict[PoolKey, Pool] = field(default_factory=lambda: defaultdict(Pool))
    shown: dict[str, frozenset[disclosure.Cell]] = field(default_factory=dict)  # by element


def type_pools(session: Session, scored: ScoredCycle) -> TypePools:
    """Sums and counts of published respondent element scores per scope, type and element,
    with the cells complementary suppression lets through."""
    minimum = scored.scale.min_respondents
    respondents = respondent_element_scores(scored.cycle, scored.questionnaire)
    grouped: dict[tuple[int, str, str], list[float]] = defaultdict(list)
    for participation_id, ptype, key, score in session.execute(
        select(respondents.c.participation_id, respondents.c.partner_type,
               respondents.c.element_key, respondents.c.score)
    ):
        grouped[participation_id, ptype, key].append(float(score))
    boards_of = {p.participation_id: p.board_codes for p in scored.partnerships}
    published = {(p.participation_id, key) for p in scored.partnerships
                 for key, f in p.elements.items()
                 if disclosure.score_published(scored.cycle.id, p.partnership_id, key, f.n,
                                               minimum)}
    held = disclosure.held_back(scored.cycle.id)
    pools = TypePools()
    atoms: dict[str, list[disclosure.Atom]] = defaultdict(list)
    for (participation_id, ptype, key), scores in sorted(grouped.items()):
        n = len(scores)
        if (participation_id, key) not in published:
            continue
        board, *also = boards_of[participation_id]  # a shared partnership: every board
        for scope in (STATE_SCOPE, board, *also):
            pools.sums[scope, ptype, key].add(Pool(scores))
        atoms[key].append(disclosure.Atom(participation_id, board, ptype, n, tuple(also)))
    pools.shown = {key: disclosure.publishable_cells(
        atoms[key], minimum, [(scope, t) for scope, t, k in held.cells if k == key])
        for key in scored.element_keys}
    return pools


def _pooled_score(pools: TypePools, scope: str, element: str, types: Iterable[str],
                  scale: ScaleInfo, shown: bool) -> Score:
    """The pooled mean of some partner types' respondents, or suppressed (no n shown)."""
    pooled = Pool()
    for ptype in types:
        pooled.add(pools.sums.get((scope, ptype, element), Pool()))
    if not shown or pooled.n < scale.min_respondents:
        return Score(None, 0, suppressed=True)
    return Score(pooled.total / pooled.n, pooled.n)


def partner_types(scored: ScoredCycle, pools: TypePools,
                  type_counts: Mapping[tuple[str, str], Counts], scopes: Sequence[str],
                  ) -> tuple[PartnerTypeResult, ...]:
    """Per scope, every partner type invited there: respondents and pooled element scores."""
    results = []
    for scope in scopes:
        for ptype, label in PARTNER_TYPE_LABELS.items():
            counts = type_counts.get((scope, ptype))
            if counts is None:
                continue
            elements = {key: _pooled_score(pools, scope, key, [ptype], scored.scale,
                                           (scope, ptype) in pools.shown.get(key, ()))
                        for key in scored.element_keys}
            results.append(PartnerTypeResult(scope, ptype, label, counts.responded, elements))
    return tuple(results)


def gaps(scored: ScoredCycle, pools: TypePools,
         scopes: Sequence[str]) -> tuple[GapResult, ...]:
    """Business pooled mean minus all other types' pooled mean, per scope and element."""
    others = {ptype for _, ptype, _ in pools.sums} | set(PARTNER_TYPE_LABELS)
    others.discard(BUSINESS)
    held = disclosure.held_back(scored.cycle.id)
    results = []
    for scope in scopes:
        for key in scored.element_keys:
            business = _pooled_score(pools, scope, key, [BUSINESS], scored.scale,
                                     (scope, BUSINESS) in pools.shown.get(key, ()))
            # the other side is the scope's pool minus the business side: shown with it
            no_business = pools.sums.get((scope, BUSINESS, key), Pool()).n == 0
            rest = _pooled_score(pools, scope, key, others, scored.scale,
                                 (business.shown or no_business)
                                 and (scope, key) not in held.others)
            gap = (business.value - rest.value
                   if business.value is not None and rest.value is not None else None)
            results.append(GapResult(scope, key, business, rest, gap))
    return tuple(results)
