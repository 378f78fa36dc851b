"""Partnerships' outcome figures of a cycle beside their last earlier value (SPEC 16).

Figures about a partnership, not anyone's answers: they are shown as entered (or as
`suppressed` where the provider suppressed them), whatever the number of respondents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from reports.results import OutcomeRow
from survey.models import Cycle, OutcomeValue
from survey.outcome_measures import configured_measures
from survey.scoring.partnerships import PartnershipScores


class OutcomeOwner(Protocol):
    """What an outcome row names of its partnership (scoring's PartnershipScores, or a
    release's partnership as survey.releases reads it)."""

    @property
    def board_code(self) -> str: ...
    @property
    def partnership_id(self) -> int: ...
    @property
    def partnership(self) -> str: ...


def cycle_outcomes(session: Session, cycle: Cycle, earlier: Sequence[Cycle],
                   members: Sequence[PartnershipScores] | Sequence[OutcomeOwner]
                   ) -> tuple[OutcomeRow, ...]:
    """Each member partnership's outcomes in `cycle`, with the most recent earlier cycle's
    value of the same measure (`earlier`: oldest first)."""
    ids = [p.partnership_id for p in members]
    if not ids:
        return ()
    names = {c.id: c.name for c in (*earlier, cycle)}
    order = {c.id: n for n, c in enumerate((*earlier, cycle))}
    values: dict[tuple[int, str], list[OutcomeValue]] = {}
    for row in session.execute(select(OutcomeValue).where(
            OutcomeValue.partnership_id.in_(ids),
            OutcomeValue.cycle_id.in_(list(names)))).scalars():
        values.setdefault((row.partnership_id, row.measure_key), []).append(row)
    measures = {m.key: m for m in configured_measures()}
    keys = [*measures, *sorted({k for _, k in values} - measures.keys())]
    rows = []
    for p in members:
        for key in keys:
            found = sorted(values.get((p.partnership_id, key), []),
                           key=lambda v: order[v.cycle_id])
            current = next((v for v in found if v.cycle_id == cycle.id), None)
            if current is None:
                continue
            before = [v for v in found if order[v.cycle_id] < order[cycle.id]
                      and v.value is not None]
            previous = before[-1] if before else None
            measure = measures.get(key)
            rows.append(OutcomeRow(
                p.board_code, p.partnership_id, p.partnership, key,
                measure.label if measure else key, measure.unit if measure else "count",
                measure.higher_is_better if measure else True,
                None if current.suppressed else current.value, current.suppressed,
                current.source, previous.value if previous else None,
                names[previous.cycle_id] if previous else None))
    return tuple(rows)
