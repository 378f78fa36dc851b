"""Action plans (SPEC section 11): load, validate and save a partnership's plan for a
cycle with its history; suggest priorities; list plans for the next cycle's pages.

Plans exist only for published cycles (closed, results out). Saving adds and flushes;
the caller commits. Every change keeps who made it and field -> [before, after] in
plan_changes, and a "plan.change" audit event. What the results say about a plan
(suggested priorities, the invitation's "what changed" line) is in plan_hints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, selectinload

from reports.results import OVERALL, ChangeResult, CycleResults, PlanRow
from survey import disclosure
from survey.config import site_today
from survey.models import (
    Board,
    Cycle,
    Participation,
    Partnership,
    PlanChange,
    PlanEntry,
    PlanStatus,
    utcnow,
)
from survey.questionnaire import Questionnaire
from survey.scoring.cycles import previous_cycles
from survey.services import audit

GOAL_MAX = 1_000
ACTIONS_MAX = 4_000
OWNER_MAX = 200
FIELDS = ("priority", "goal", "actions", "owner", "due_on", "status")
STATUS_ORDER = (PlanStatus.PLANNED, PlanStatus.IN_PROGRESS, PlanStatus.DONE, PlanStatus.DROPPED)
OPEN_STATUSES = (PlanStatus.PLANNED.value, PlanStatus.IN_PROGRESS.value)


class PlanError(ValueError):
    """A plan cannot be saved: `problems` lists (element key, field, message)."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__("; ".join(message for _, _, message in problems))
        self.problems = problems


@dataclass(frozen=True)
class PlanInput:
    """What a user typed for one element."""

    priority: bool = False
    goal: str = ""
    actions: str = ""
    owner: str = ""
    due_on: dt.date | None = None
    status: str = PlanStatus.PLANNED.value

    @property
    def blank(self) -> bool:
        """Nothing typed: no entry is created for it."""
        return (not self.priority and not self.goal.strip() and not self.actions.strip()
                and not self.owner.strip() and self.due_on is None
                and self.status == PlanStatus.PLANNED.value)

    def cleaned(self) -> PlanInput:
        """Surrounding whitespace trimmed, line endings made plain."""
        def tidy(text: str) -> str:
            return text.replace("\r\n", "\n").strip()

        return dataclasses.replace(self, goal=tidy(self.goal), actions=tidy(self.actions),
                                   owner=" ".join(self.owner.split()))


def input_problems(key: str, title: str, value: PlanInput) -> list[tuple[str, str, str]]:
    """What is wrong with one element's input, as (element key, field, message)."""
    problems = []
    if value.status not in {s.value for s in PlanStatus}:
        problems.append((key, "status", f"{title}: choose a status from the list."))
    for name, limit in (("goal", GOAL_MAX), ("actions", ACTIONS_MAX), ("owner", OWNER_MAX)):
        if len(getattr(value, name)) > limit:
            problems.append((key, name, f"{title}: the {name} is longer than {limit:,} "
                                        "characters."))
    if not value.blank and not value.goal.strip():
        problems.append((key, "goal", f"{title}: a priority needs a goal." if value.priority
                         else f"{title}: write the goal this entry serves."))
    return problems


def is_published(cycle: Cycle) -> bool:
    """True once a cycle's results are out (survey.disclosure: first closed)."""
    return disclosure.is_published(cycle)


def element_titles(cycle: Cycle) -> dict[str, str]:
    """The cycle's elements in order, key -> title (from its questionnaire snapshot)."""
    questionnaire = Questionnaire.from_dict(cycle.content)
    return {e.key: e.title for e in questionnaire.elements}


def load_plan(session: Session, partnership_id: int, cycle_id: int) -> dict[str, PlanEntry]:
    """A partnership's plan entries for a cycle, by element key, with their history."""
    entries = session.execute(
        select(PlanEntry).options(selectinload(PlanEntry.changes))
        .where(PlanEntry.partnership_id == partnership_id, PlanEntry.cycle_id == cycle_id)
    ).scalars()
    return {entry.element_key: entry for entry in entries}


def entry_input(entry: PlanEntry | None) -> PlanInput:
    """What a form shows for a saved entry (or an empty one)."""
    if entry is None:
        return PlanInput()
    return PlanInput(bool(entry.priority), entry.goal or "", entry.actions or "",
                     entry.owner or "", entry.due_on, entry.status)


def save_plan(session: Session, partnership: Partnership, cycle: Cycle,
              inputs: Mapping[str, PlanInput], actor: str) -> int:
    """Save a partnership's plan for a published cycle; returns how many entries changed.

    Raises PlanError (and writes nothing) for an unpublished cycle, an unknown element or
    any invalid input. An unchanged entry gets no history row.
    """
    if not is_published(cycle):
        raise PlanError([("", "", f"Cycle {cycle.name} has no published results yet; plans "
                                  "are made once its results are out.")])
    titles = element_titles(cycle)
    cleaned = {key: value.cleaned() for key, value in inputs.items()}
    problems = [("", "", f"Unknown element: {key}.") for key in cleaned if key not in titles]
    for key, value in cleaned.items():
        if key in titles:
            problems += input_problems(key, titles[key], value)
    if problems:
        raise PlanError(problems)
    saved = load_plan(session, partnership.id, cycle.id)
    changed = 0
    for key in titles:
        if key not in cleaned:
            continue
        value, entry = cleaned[key], saved.get(key)
        if entry is None and value.blank:
            continue
        before = entry_input(entry)
        diff = {name: [_plain(getattr(before, name)), _plain(getattr(value, name))]
                for name in FIELDS if getattr(before, name) != getattr(value, name)}
        if entry is not None and not diff:
            continue
        if entry is None:
            entry = PlanEntry(partnership_id=partnership.id, cycle_id=cycle.id, element_key=key)
            session.add(entry)
        for name in FIELDS:
            setattr(entry, name, getattr(value, name))
        entry.updated_at = utcnow()
        entry.updated_by = actor[:320]
        entry.changes.append(PlanChange(changed_at=entry.updated_at, changed_by=actor[:320],
                                        changes=diff))
        audit.record(session, "plan.change",
                     f"partnership {partnership.id} cycle {cycle.name} element {key}",
                     actor=actor, changes=diff)
        changed += 1
    session.flush()
    return changed


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


# --- the next cycle reads the last plan -------------------------------------------------


def latest_published(session: Session, cycle: Cycle, include_self: bool = True) -> Cycle | None:
    """The most recent published cycle at or before this one (or strictly before)."""
    candidates = [*previous_cycles(session, cycle), *([cycle] if include_self else [])]
    published = [c for c in candidates if is_published(c)]
    return published[-1] if published else None


def _rows(session: Session, cycle: Cycle, where: Any, today: dt.date) -> list[PlanRow]:
    titles = element_titles(cycle)
    order = {key: n for n, key in enumerate(titles)}
    query = (
        select(PlanEntry, Partnership.name, Board.code, Participation.board_code,
               Participation.partnership_name)
        .join(Partnership, PlanEntry.partnership_id == Partnership.id)
        .join(Board, Partnership.board_id == Board.id)
        .outerjoin(Participation, and_(Participation.cycle_id == PlanEntry.cycle_id,
                                       Participation.partnership_id == PlanEntry.partnership_id))
        .where(PlanEntry.cycle_id == cycle.id, where)
    )
    rows = []
    for entry, name, board_now, board_then, name_then in session.execute(query):
        status = PlanStatus(entry.status)
        overdue = (entry.due_on is not None and entry.due_on < today
                   and entry.status in OPEN_STATUSES)
        rows.append(PlanRow(
            board_code=board_then or board_now, partnership_id=entry.partnership_id,
            partnership=name_then or name, element_key=entry.element_key,
            element=titles.get(entry.element_key, entry.element_key),
            priority=bool(entry.priority), goal=entry.goal or "", actions=entry.actions or "",
            owner=entry.owner or "", due_on=entry.due_on, status=status.label,
            updated_at=entry.updated_at, overdue=overdue))
    rows.sort(key=lambda r: (r.board_code, r.partnership.casefold(), r.partnership_id,
                             order.get(r.element_key, 99)))
    return rows


def plan_rows(session: Session, cycle: Cycle, board_code: str | None = None,
              today: dt.date | None = None) -> tuple[PlanRow, ...]:
    """Every plan entry of a cycle (optionally one board, as it stood in the cycle)."""
    today = today or site_today()
    rows = _rows(session, cycle, PlanEntry.id.is_not(None), today)
    return tuple(r for r in rows if board_code is None or r.board_code == board_code)


def plans_version(session: Session, cycle: Cycle) -> tuple[Any, ...]:
    """A cheap fingerprint of a cycle's plans (a cache key part): entries, last change."""
    row = session.execute(select(func.count(PlanEntry.id), func.max(PlanEntry.updated_at),
                                 func.max(PlanEntry.id)).where(PlanEntry.cycle_id == cycle.id)
                          ).one()
    return (*tuple(row), site_today())  # "overdue" turns with the date


def with_plans(results: CycleResults, session: Session, cycle: Cycle,
               today: dt.date | None = None) -> CycleResults:
    """The results with the cycle's plans attached (for the workbook and the report)."""
    return dataclasses.replace(results, plans=plan_rows(session, cycle, results.board_code,
                                                        today))


@dataclass(frozen=True)
class BesideRow:
    """One element: last cycle's plan entry beside this cycle's change."""

    element_key: str
    title: str
    entry: PlanRow | None
    change: ChangeResult | None


@dataclass(frozen=True)
class BesideChange:
    plan_cycle: str | None  # the cycle the plan was made for; None: no earlier plan
    rows: list[BesideRow] = field(default_factory=list)
    changes_shown: bool = True


def plan_beside_change(session: Session, results: CycleResults, cycle: Cycle,
                       partnership_id: int, today: dt.date | None = None,
                       show_change: bool = True) -> BesideChange:
    """Each element's change in this cycle beside the plan of the last published cycle
    before it (SPEC 11: "we planned X; the element moved +0.40"); `show_change=False`
    leaves the change out (a board lead while the cycle is open, SPEC 4a rule 4)."""
    earlier = latest_published(session, cycle, include_self=False)
    if earlier is None:
        return BesideChange(None)
    today = today or site_today()
    entries = {r.element_key: r for r in
               _rows(session, earlier, PlanEntry.partnership_id == partnership_id, today)}
    if not entries:
        return BesideChange(None)
    changes = {c.element_key: c for c in results.changes if show_change
               and c.partnership_id == partnership_id and c.element_key != OVERALL}
    rows = [BesideRow(e.key, e.title, entries.get(e.key), changes.get(e.key))
            for e in results.elements]
    return BesideChange(earlier.name, rows, show_change)


@dataclass(frozen=True)
class BoardPlans:
    plan_cycle: str | None
    rows: list[PlanRow]
    counts: dict[str, int]  # status label -> entries
    overdue: int


def board_plans(session: Session, cycle: Cycle, board_code: str,
                today: dt.date | None = None) -> BoardPlans:
    """The board's partnerships' plans of the last published cycle at or before this one,
    overdue first, then by status (planned, in progress, done, dropped)."""
    plan_cycle = latest_published(session, cycle)
    if plan_cycle is None:
        return BoardPlans(None, [], {}, 0)
    rows = list(plan_rows(session, plan_cycle, board_code, today))
    rank = {s.label: n for n, s in enumerate(STATUS_ORDER)}
    rows.sort(key=lambda r: (not r.overdue, rank.get(r.status, 9), r.due_on or dt.date.max,
                             r.partnership.casefold()))
    counts = Counter(r.status for r in rows)
    return BoardPlans(plan_cycle.name, rows, {s.label: counts.get(s.label, 0)
                                              for s in STATUS_ORDER},
                      sum(r.overdue for r in rows))


@dataclass(frozen=True)
class BoardPlanCount:
    board_code: str
    counts: dict[str, int]
    overdue: int
    board_name: str = ""  # the board's name now, so the table does not read "15" alone

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class StatePlans:
    plan_cycle: str | None
    boards: list[BoardPlanCount]


def state_plan_counts(session: Session, cycle: Cycle,
                      today: dt.date | None = None) -> StatePlans:
    """Plan entries by status (and overdue) per board, for the last published cycle."""
    plan_cycle = latest_published(session, cycle)
    if plan_cycle is None:
        return StatePlans(None, [])
    by_board: dict[str, Counter[str]] = defaultdict(Counter)
    overdue: Counter[str] = Counter()
    for row in plan_rows(session, plan_cycle, None, today):
        by_board[row.board_code][row.status] += 1
        overdue[row.board_code] += row.overdue
    names = {code: name for code, name in session.execute(
        select(Board.code, Board.name).where(Board.code.in_(list(by_board))))}
    boards = [BoardPlanCount(code, {s.label: by_board[code].get(s.label, 0)
                                    for s in STATUS_ORDER}, overdue[code], names.get(code, ""))
              for code in sorted(by_board)]
    return StatePlans(plan_cycle.name, boards)


def partnership_plan(session: Session, cycle: Cycle, partnership_id: int,
                     today: dt.date | None = None) -> list[PlanRow]:
    """One partnership's plan for a cycle, element by element (for partners, the report)."""
    return _rows(session, cycle, PlanEntry.partnership_id == partnership_id,
                 today or site_today())


def status_choices() -> Sequence[tuple[str, str]]:
    """(value, label) of each status, in order."""
    return [(s.value, s.label) for s in STATUS_ORDER]
