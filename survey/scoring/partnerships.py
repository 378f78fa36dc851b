"""Partnership element scores: the one place the score formula lives, in SQL.

A respondent's element score is the mean of their scored items in the element, kept
when at least half of the element's items (rounded up) are scored; only submitted
responses count. A partnership's element score is the mean of its respondents' element
scores. Both come from one grouped query; values here are not suppressed yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean, stdev

from sqlalchemy import Float, Subquery, case, cast, func, select
from sqlalchemy.orm import Session

from reports.results import ScaleInfo
from survey.models import Answer, Board, Cycle, Invitation, Participation
from survey.questionnaire import Questionnaire, snapshot_questionnaire
from survey.scoring.cycles import SUBMITTED


@dataclass(frozen=True)
class Figure:
    """An unsuppressed mean and how many it was drawn from."""

    value: float
    n: int
    sd: float | None = None  # sample standard deviation of the respondents' scores (n >= 2)


@dataclass(frozen=True)
class PartnershipScores:
    """One partnership's unsuppressed element scores in one cycle, with its board then."""

    participation_id: int
    partnership_id: int
    partnership: str
    board_code: str
    board_name: str
    sector: str
    elements: dict[str, Figure]  # only the elements that have a score
    # Participating boards besides the lead board, as they stood in the cycle (SPEC 16):
    # (code, name) pairs. The partnership counts in each of their scores too.
    also_boards: tuple[tuple[str, str], ...] = ()

    @property
    def board_codes(self) -> tuple[str, ...]:
        """The lead board's code, then the participating boards'."""
        return (self.board_code, *(code for code, _ in self.also_boards))

    def in_board(self, code: str) -> bool:
        """Whether the partnership counts in this board (lead or participating)."""
        return code in self.board_codes


@dataclass(frozen=True)
class ScoredCycle:
    """A cycle, its questionnaire snapshot and every partnership's scores in it."""

    cycle: Cycle
    questionnaire: Questionnaire
    scale: ScaleInfo
    partnerships: tuple[PartnershipScores, ...]

    @property
    def element_keys(self) -> tuple[str, ...]:
        return tuple(e.key for e in self.questionnaire.elements)


def respondent_element_scores(cycle: Cycle, questionnaire: Questionnaire) -> Subquery:
    """Subquery: each submitted respondent's element scores (half the items scored or more).

    Columns: invitation_id, participation_id, partner_type, element_key, score, scored.
    """
    needed = case({e.key: e.half_threshold for e in questionnaire.elements},
                  value=Answer.element_key, else_=None)
    scored = func.count(Answer.level)
    return (
        select(Invitation.id.label("invitation_id"), Invitation.participation_id,
               Invitation.partner_type, Answer.element_key,
               func.avg(cast(Answer.level, Float)).label("score"), scored.label("scored"))
        .join(Answer, Answer.invitation_id == Invitation.id)
        .where(Invitation.cycle_id == cycle.id, Invitation.status == SUBMITTED)
        .group_by(Invitation.id, Invitation.participation_id, Invitation.partner_type,
                  Answer.element_key)
        .having(scored >= needed)
        .subquery("respondent_scores")
    )


def partnership_scores(session: Session, cycle: Cycle) -> ScoredCycle:
    """Every partnership of a cycle with its unsuppressed element scores (two queries)."""
    questionnaire = snapshot_questionnaire(cycle.id, cycle.content_hash, lambda: cycle.content)
    respondents = respondent_element_scores(cycle, questionnaire)
    figures: dict[int, dict[str, Figure]] = defaultdict(dict)
    scores: dict[tuple[int, str], list[float]] = defaultdict(list)
    for participation_id, key, score in session.execute(
        select(respondents.c.participation_id, respondents.c.element_key, respondents.c.score)
    ):
        scores[participation_id, key].append(float(score))
    # The mean of means is taken here with an exactly rounded sum (fmean), not SQL AVG:
    # PostgreSQL and SQLite add floats differently, and the same answers must give the
    # same figures on either (a backup restored into the other kind, SPEC 14).
    for (participation_id, key), values in scores.items():
        figures[participation_id][key] = Figure(fmean(values), len(values),
                                                stdev(values) if len(values) > 1 else None)
    participations = session.execute(
        select(Participation).where(Participation.cycle_id == cycle.id)
        .order_by(Participation.board_code, Participation.partnership_name,
                  Participation.partnership_id)
    ).scalars()
    participations = list(participations)
    names: dict[str, str] = {}
    if any(p.also_boards for p in participations):
        names = {code: name for code, name in session.execute(select(Board.code, Board.name))}
    partnerships = tuple(
        PartnershipScores(p.id, p.partnership_id, p.partnership_name, p.board_code, p.board_name,
                          p.sector, figures.get(p.id, {}),
                          tuple((code, names.get(code, code)) for code in p.also_boards.split()
                                if code != p.board_code))
        for p in participations
    )
    return ScoredCycle(cycle, questionnaire, questionnaire.scale, partnerships)


def overall_value(values: Mapping[str, float | None], keys: Sequence[str]) -> float | None:
    """Mean of the element scores, defined only when every element has one."""
    present = [values.get(key) for key in keys]
    if not keys or any(v is None for v in present):
        return None
    return fmean(v for v in present if v is not None)
