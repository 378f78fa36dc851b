"""Partner-type view and industry gap: respondent element scores pooled within a scope.

A scope is "State" or a board code as it stood in the cycle. A figure drawn from fewer
than min_respondents respondents is suppressed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reports.results import STATE_SCOPE, GapResult, PartnerTypeResult, ScaleInfo, Score
from survey.models import PARTNER_TYPE_LABELS, Participation
from survey.scoring.partnerships import ScoredCycle, respondent_element_scores
from survey.scoring.scopes import Counts

BUSINESS = "business"

PoolKey = tuple[str, str, str]  # (scope, partner type, element key)


@dataclass
class Pool:
    """A running sum of respondent element scores, for pooled means."""

    total: float = 0.0
    n: int = 0

    def add(self, other: Pool) -> None:
        self.total += other.total
        self.n += other.n


def type_pools(session: Session, scored: ScoredCycle) -> dict[PoolKey, Pool]:
    """Sums and counts of respondent element scores per scope, partner type and element."""
    respondents = respondent_element_scores(scored.cycle, scored.questionnaire)
    rows = session.execute(
        select(Participation.board_code, respondents.c.partner_type, respondents.c.element_key,
               func.sum(respondents.c.score), func.count())
        .join(Participation, Participation.id == respondents.c.participation_id)
        .group_by(Participation.board_code, respondents.c.partner_type,
                  respondents.c.element_key)
    )
    pools: dict[PoolKey, Pool] = defaultdict(Pool)
    for board, ptype, key, total, n in rows:
        for scope in (STATE_SCOPE, board):
            pools[scope, ptype, key].add(Pool(float(total), n))
    return pools


def _pooled_score(pools: Mapping[PoolKey, Pool], scope: str, element: str,
                  types: Iterable[str], scale: ScaleInfo) -> Score:
    """The pooled mean of some partner types' respondents; suppressed below the minimum."""
    pooled = Pool()
    for ptype in types:
        pooled.add(pools.get((scope, ptype, element), Pool()))
    if pooled.n < scale.min_respondents:
        return Score(None, pooled.n, suppressed=True)
    return Score(pooled.total / pooled.n, pooled.n)


def partner_types(scored: ScoredCycle, pools: Mapping[PoolKey, Pool],
                  type_counts: Mapping[tuple[str, str], Counts], scopes: Sequence[str],
                  ) -> tuple[PartnerTypeResult, ...]:
    """Per scope, every partner type invited there: respondents and pooled element scores."""
    results = []
    for scope in scopes:
        for ptype, label in PARTNER_TYPE_LABELS.items():
            counts = type_counts.get((scope, ptype))
            if counts is None:
                continue
            elements = {key: _pooled_score(pools, scope, key, [ptype], scored.scale)
                        for key in scored.element_keys}
            results.append(PartnerTypeResult(scope, ptype, label, counts.responded, elements))
    return tuple(results)


def gaps(scored: ScoredCycle, pools: Mapping[PoolKey, Pool],
         scopes: Sequence[str]) -> tuple[GapResult, ...]:
    """Business pooled mean minus all other types' pooled mean, per scope and element."""
    others = {ptype for _, ptype, _ in pools} | set(PARTNER_TYPE_LABELS)
    others.discard(BUSINESS)
    results = []
    for scope in scopes:
        for key in scored.element_keys:
            business = _pooled_score(pools, scope, key, [BUSINESS], scored.scale)
            rest = _pooled_score(pools, scope, key, others, scored.scale)
            gap = (business.value - rest.value
                   if business.value is not None and rest.value is not None else None)
            results.append(GapResult(scope, key, business, rest, gap))
    return tuple(results)
