"""Outcome figures (SPEC 16): entered on the partnership page by the lead board's lead, or
imported by state staff (`survey outcomes import FILE --cycle C`, CSV
`board,partnership,measure,value,source`; a value may read `suppressed`). All or
nothing: every bad row or field is named and nothing changes. Flush only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Cycle, OutcomeValue, Partnership, utcnow
from survey.outcome_measures import Measure
from survey.scoring.cycles import bump_results_version
from survey.services import audit
from survey.services.boards import BoardIndex
from survey.services.rosters import PartnershipIndex, clean_text
from survey.services.tabular import ImportProblem, Problems, TableRow, row_number

OUTCOME_COLUMNS = ("board", "partnership", "measure", "value", "source")
SUPPRESSED = "suppressed"
SOURCE_MAX = 200
VALUE_MAX = 1e12  # a figure past a trillion is a typing slip, not an outcome


@dataclass(frozen=True)
class Figure:
    """A checked value: a number, or suppressed by the provider."""

    value: float | None
    suppressed: bool


def parse_value(text: str, measure: Measure) -> Figure | str:
    """A typed value as a Figure, or the reason it is not one ("$18.50", "1,200", "85%"
    and "suppressed" are accepted)."""
    raw = text.strip()
    if raw.casefold() == SUPPRESSED:
        return Figure(None, True)
    cleaned = raw.replace(",", "").replace("$", "").rstrip("%").strip()
    try:
        value = float(cleaned)
    except ValueError:
        return f"{measure.label}: {raw!r} is not a number (or the word suppressed)"
    if not math.isfinite(value) or value < 0:
        return f"{measure.label}: {raw!r} must be a number of 0 or more"
    if value > VALUE_MAX:
        return f"{measure.label}: {raw!r} is too large"
    if measure.unit == "percent" and value > 100:
        return f"{measure.label}: {raw!r} is a percent, from 0 to 100"
    if measure.unit == "count" and not value.is_integer():
        return f"{measure.label}: {raw!r} is a count, a whole number"
    return Figure(value, False)


def load_values(session: Session, partnership_id: int, cycle_id: int) -> dict[str, OutcomeValue]:
    """A partnership's outcome values in a cycle, by measure key."""
    return {v.measure_key: v for v in session.execute(select(OutcomeValue).where(
        OutcomeValue.partnership_id == partnership_id,
        OutcomeValue.cycle_id == cycle_id)).scalars()}


def _store(session: Session, partnership_id: int, cycle_id: int, key: str,
           figure: Figure | None, source: str, actor: str) -> bool:
    """Set (or with None clear) one value; return whether it changed."""
    found = session.execute(select(OutcomeValue).where(
        OutcomeValue.partnership_id == partnership_id, OutcomeValue.cycle_id == cycle_id,
        OutcomeValue.measure_key == key)).scalar_one_or_none()
    if figure is None:
        if found is None:
            return False
        session.delete(found)
        return True
    if found is not None and (found.value, found.suppressed, found.source) == (
            figure.value, figure.suppressed, source):
        return False
    if found is None:
        found = OutcomeValue(partnership_id=partnership_id, cycle_id=cycle_id, measure_key=key)
        session.add(found)
    found.value, found.suppressed, found.source = figure.value, figure.suppressed, source
    found.updated_at, found.updated_by = utcnow(), actor
    return True


def _changed(session: Session) -> None:
    """Outcomes are in this cycle's results and, as Previous, in later cycles'."""
    session.flush()
    bump_results_version(session, session.execute(select(Cycle.id)).scalars())


def save_outcomes(session: Session, partnership: Partnership, cycle: Cycle,
                  measures: Sequence[Measure], typed: Mapping[str, tuple[str, str]],
                  actor: str) -> int:
    """Save the form's values (measure key -> (value, source)); an empty value clears the
    measure. Returns how many changed; ImportProblem names every bad field (nothing saved)."""
    problems: list[str] = []
    figures: dict[str, tuple[Figure | None, str]] = {}
    for measure in measures:
        text, source = typed.get(measure.key, ("", ""))
        source = clean_text(source)
        if len(source) > SOURCE_MAX:
            problems.append(f"{measure.label}: source longer than {SOURCE_MAX} characters")
        if not text.strip():
            figures[measure.key] = (None, "")
            continue
        parsed = parse_value(text, measure)
        if isinstance(parsed, str):
            problems.append(parsed)
        else:
            figures[measure.key] = (parsed, source)
    if problems:
        raise ImportProblem(problems)
    changed = sum(_store(session, partnership.id, cycle.id, key, figure, source, actor)
                  for key, (figure, source) in figures.items())
    if changed:
        audit.record(session, "outcomes.save", f"partnership {partnership.id} "
                     f"{partnership.name}", cycle=cycle.name, changed=changed)
        _changed(session)
    return changed


@dataclass(frozen=True)
class OutcomesPlan:
    cycle: Cycle
    values: list[tuple[int, str, Figure, str]]  # partnership id, measure key, figure, source


@dataclass(frozen=True)
class OutcomesImportSummary:
    values: int
    changed: int
    cycle: str

    def __str__(self) -> str:
        return f"imported {self.values} outcome values into cycle {self.cycle}: " \
               f"{self.changed} new or changed"


def check_outcomes(session: Session, rows: Iterator[TableRow], cycle: Cycle,
                   measures: Sequence[Measure]) -> OutcomesPlan:
    """Check every row (reads only); ImportProblem names every bad row."""
    boards = BoardIndex.load(session)
    index = PartnershipIndex(session)
    by_name = {m.key: m for m in measures} | {m.label.casefold(): m for m in measures}
    problems = Problems()
    values: list[tuple[int, str, Figure, str]] = []
    seen: dict[tuple[int, str], int] = {}
    for number_index, row in enumerate(rows):
        number = row_number(row, number_index)
        code = (row.get("board") or "").strip()
        name = clean_text(row.get("partnership"))
        measure_text = (row.get("measure") or "").strip()
        source = clean_text(row.get("source"))
        reasons: list[str] = []
        board = boards.find(code) if code else None
        partnership = index.find(board, name) if board is not None and name else None
        if not code:
            reasons.append("empty board")
        elif board is None:
            reasons.append(f"unknown board {code!r}")
        elif not name:
            reasons.append("empty partnership")
        elif partnership is None:
            reasons.append(f"board {board.code} leads no partnership named {name!r}")
        measure = by_name.get(measure_text) or by_name.get(measure_text.casefold())
        if measure is None:
            reasons.append(f"unknown measure {measure_text!r} (use one of "
                           f"{', '.join(m.key for m in measures)})")
        parsed = parse_value(row.get("value") or "", measure) if measure else None
        if measure is not None and not (row.get("value") or "").strip():
            reasons.append(f"{measure.label}: empty value")
        elif isinstance(parsed, str):
            reasons.append(parsed)
        if len(source) > SOURCE_MAX:
            reasons.append(f"source longer than {SOURCE_MAX} characters")
        if partnership is not None and measure is not None:
            first = seen.setdefault((partnership.id, measure.key), number)
            if first != number:
                reasons.append(f"{measure.key} of {partnership.name!r} is also on row {first}")
        if reasons:
            problems.append(f"row {number}: {'; '.join(reasons)}")
            continue
        assert partnership is not None and measure is not None and isinstance(parsed, Figure)
        values.append((partnership.id, measure.key, parsed, source))
    if not values and not problems:
        problems.append("the file holds no outcome values")
    problems.raise_any()
    return OutcomesPlan(cycle, values)


def write_outcomes(session: Session, plan: OutcomesPlan, actor: str | None = None
                   ) -> OutcomesImportSummary:
    """Write checked values into the plan's cycle."""
    who = actor or "import"
    changed = sum(_store(session, pid, plan.cycle.id, key, figure, source, who)
                  for pid, key, figure, source in plan.values)
    audit.record(session, "outcomes.import", f"{len(plan.values)} outcome values",
                 cycle=plan.cycle.name, changed=changed)
    _changed(session)
    return OutcomesImportSummary(len(plan.values), changed, plan.cycle.name)

