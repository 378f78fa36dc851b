"""Cycles: create, open (snapshot the content, invite the roster), close, look up."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from survey.db import gate_cycle
from survey.models import (
    Answer,
    Cycle,
    CycleStatus,
    Invitation,
    InvitationStatus,
    InvitationToken,
    Member,
    Participation,
    PlanEntry,
    utcnow,
)
from survey.services import audit
from survey.services.invitations import create_missing_invitations
from survey.services.tabular import ImportProblem

if TYPE_CHECKING:
    from survey.questionnaire import Questionnaire

CYCLE_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,50}$")


@dataclass(frozen=True)
class CycleSummary:
    """A cycle with its invitation counts, for listings."""

    name: str
    status: str
    opens_on: dt.date
    closes_on: dt.date
    invited: int
    submitted: int
    opened: bool = False  # opened at least once
    answered: bool = False  # holds at least one answer

    @property
    def deletable(self) -> bool:
        """Never opened and no answers: a mistaken draft, `survey cycle delete` removes it."""
        return self.status == CycleStatus.DRAFT and not self.opened and not self.answered


def get_cycle(session: Session, name: str) -> Cycle:
    """The cycle with this name; ImportProblem naming the known cycles when there is none."""
    cycle = session.execute(select(Cycle).where(Cycle.name == name.strip())).scalar_one_or_none()
    if cycle is None:
        known = ", ".join(session.execute(select(Cycle.name).order_by(Cycle.opens_on)).scalars())
        raise ImportProblem([f"no cycle named {name!r} (cycles: {known or 'none yet'})"])
    return cycle


def create_cycle(
    session: Session, name: str, opens_on: dt.date, closes_on: dt.date, questionnaire: Questionnaire
) -> Cycle:
    """A draft cycle with a snapshot of the current content."""
    name = name.strip()
    problems = []
    if not CYCLE_NAME_RE.match(name):
        problems.append(
            f"cycle name {name!r}: use 1 to 50 letters, digits, '.', '-' or '_' (e.g. 2026)"
        )
    elif session.execute(select(Cycle.id).where(Cycle.name == name)).first():
        problems.append(f"a cycle named {name!r} already exists")
    if closes_on < opens_on:
        problems.append(f"the cycle closes ({closes_on}) before it opens ({opens_on})")
    if problems:
        raise ImportProblem(problems)
    cycle = Cycle(
        name=name, opens_on=opens_on, closes_on=closes_on, status=CycleStatus.DRAFT,
        content=questionnaire.to_dict(), content_hash=questionnaire.content_hash,
    )
    session.add(cycle)
    session.flush()
    audit.record(session, "cycle.create", f"cycle {name}", opens_on=opens_on.isoformat(),
                 closes_on=closes_on.isoformat())
    return cycle


def has_answers(session: Session, cycle: Cycle) -> bool:
    """True once any answer exists in the cycle (its content is frozen from then on)."""
    query = select(Answer.id).join(Invitation).where(Invitation.cycle_id == cycle.id).limit(1)
    return session.execute(query).first() is not None


def open_cycle(session: Session, cycle: Cycle, questionnaire: Questionnaire) -> int:
    """Open (or reopen) a cycle and invite every invitable member; return invitations created.

    The content in force now becomes the cycle's snapshot, unless the cycle is open
    already or answers exist: from the first answer on, the snapshot stays frozen.
    Opening an open cycle again only invites members added since.
    """
    opening = cycle.status != CycleStatus.OPEN
    if opening:
        action = "cycle.reopen" if cycle.status == CycleStatus.CLOSED else "cycle.open"
        if not has_answers(session, cycle):
            cycle.content = questionnaire.to_dict()
            cycle.content_hash = questionnaire.content_hash
        cycle.status = CycleStatus.OPEN
        cycle.opened_at = utcnow()
        cycle.closed_at = None
    session.flush()
    created = ensure_invitations(session, cycle)
    if opening:
        audit.record(session, action, f"cycle {cycle.name}", invitations_created=created,
                     content_hash=cycle.content_hash)
    return created


def ensure_invitations(session: Session, cycle: Cycle, board_code: str | None = None) -> int:
    """Make sure every invitable member has an invitation (no tokens); return how many were new."""
    return create_missing_invitations(session, cycle, board_code)


def close_cycle(session: Session, cycle: Cycle) -> bool:
    """Close a cycle; return False when it was closed already."""
    gate_cycle(session, cycle.id, exclusive=True)  # saves in flight finish, new ones wait
    session.refresh(cycle, with_for_update=True)
    if cycle.status == CycleStatus.CLOSED:
        return False
    if cycle.status == CycleStatus.DRAFT and cycle.opened_at is None:
        raise ImportProblem([f"cycle {cycle.name} was never opened"])
    cycle.status = CycleStatus.CLOSED
    cycle.closed_at = utcnow()
    first = cycle.published_at is None
    if first:  # results reach board leads from now on, as release 1 (SPEC 4a rule 4, 4b.1)
        cycle.published_at = cycle.closed_at
    session.flush()
    event = audit.record(session, "cycle.close", f"cycle {cycle.name}")
    if first:
        from survey import releases

        releases.publish_first(session, cycle, event.actor)
    return True


def list_cycles(session: Session) -> list[CycleSummary]:
    """Every cycle, oldest first, with invited and submitted counts."""
    submitted = func.sum(case((Invitation.status == InvitationStatus.SUBMITTED, 1), else_=0))
    query = (
        select(Cycle, func.count(Invitation.id), func.coalesce(submitted, 0))
        .outerjoin(Invitation, Invitation.cycle_id == Cycle.id)
        .group_by(Cycle.id)
        .order_by(Cycle.opens_on, Cycle.name)
    )
    # Only drafts can be deleted, so only theirs are looked at (an open state's answers
    # are millions of rows).
    answered = set(session.execute(
        select(Invitation.cycle_id).join(Cycle, Cycle.id == Invitation.cycle_id)
        .where(Cycle.status == CycleStatus.DRAFT,
               select(Answer.id).where(Answer.invitation_id == Invitation.id).exists())
        .distinct()).scalars())
    return [
        CycleSummary(c.name, c.status, c.opens_on, c.closes_on, int(invited), int(done),
                     opened=c.opened_at is not None, answered=c.id in answered)
        for c, invited, done in session.execute(query)
    ]


# --- guardrails (SPEC 6): what opening, closing or deleting would do, before it is done ---


@dataclass(frozen=True)
class Confirmation:
    """What an action on a cycle would do, in sentences for the person about to do it.

    `consequences` empty: nothing to confirm (opening the only open cycle). The CLI asks
    for --yes where there is no terminal; the web shows a page with the consequences
    and a button that repeats the action with `confirm=yes`.
    """

    action: str  # "open", "close" or "delete"
    cycle: str
    consequences: tuple[str, ...]
    problem: str | None = None  # the action cannot be done at all (delete an opened cycle)

    @property
    def needed(self) -> bool:
        return bool(self.consequences)


@dataclass(frozen=True)
class CycleCounts:
    """Invitations of one cycle by status, and the boards whose partnerships take part."""

    invited: int
    submitted: int
    in_progress: int
    boards: int

    @property
    def not_submitted(self) -> int:
        return self.invited - self.submitted


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def cycle_counts(session: Session, cycle: Cycle) -> CycleCounts:
    """How many were invited, submitted and in progress, and how many boards take part."""
    def status_is(status: str) -> Any:
        return func.coalesce(func.sum(case((Invitation.status == status, 1), else_=0)), 0)

    invited, submitted, in_progress = session.execute(
        select(func.count(Invitation.id), status_is(InvitationStatus.SUBMITTED),
               status_is(InvitationStatus.IN_PROGRESS))
        .where(Invitation.cycle_id == cycle.id)).one()
    boards = session.execute(
        select(func.count(func.distinct(Participation.board_code)))
        .join(Invitation, Invitation.participation_id == Participation.id)
        .where(Participation.cycle_id == cycle.id)).scalar_one()
    return CycleCounts(int(invited), int(submitted), int(in_progress), int(boards))


def invitable_members(session: Session) -> int:
    """Members on a roster who would be invited when a cycle opens."""
    return int(session.execute(select(func.count(Member.id)).where(Member.active)).scalar_one())


def open_confirmation(session: Session, cycle: Cycle) -> Confirmation:
    """Opening while another cycle is open needs a confirmation that says what follows."""
    others = session.execute(
        select(Cycle).where(Cycle.status == CycleStatus.OPEN, Cycle.id != cycle.id)
        .order_by(Cycle.opens_on)).scalars().all()
    if cycle.status == CycleStatus.OPEN or not others:
        return Confirmation("open", cycle.name, ())
    lines = []
    for other in others:
        counts = cycle_counts(session, other)
        lines.append(
            f"Cycle {other.name} is still open until {other.closes_on.isoformat()}: "
            f"{_plural(counts.not_submitted, 'partner')} there "
            f"{'has' if counts.not_submitted == 1 else 'have'} not submitted yet. "
            f"Both cycles would take answers at once, and partners would get two links.")
    members = invitable_members(session)
    lines.append(
        f"Opening cycle {cycle.name} invites {_plural(members, 'roster member')}; their links "
        f"take answers from {cycle.opens_on.isoformat()} to {cycle.closes_on.isoformat()}. "
        f"Close cycle {others[-1].name} first if it is finished.")
    return Confirmation("open", cycle.name, tuple(lines))


def close_confirmation(session: Session, cycle: Cycle) -> Confirmation:
    """Closing always needs a confirmation: who can no longer answer, who will see results."""
    if cycle.status != CycleStatus.OPEN:
        return Confirmation("close", cycle.name, ())
    counts = cycle_counts(session, cycle)
    lines = [f"{_plural(counts.not_submitted, 'partner')} who "
             f"{'has' if counts.not_submitted == 1 else 'have'} not submitted "
             f"({counts.in_progress:,} of them started) can no longer answer; "
             f"{counts.submitted:,} of {counts.invited:,} submitted."]
    if cycle.published_at is None:
        lines.append(f"The leads of {_plural(counts.boards, 'board')} will see the cycle's "
                     f"results from now on, and partners their partnership's results.")
    else:
        lines.append("Board leads go on seeing the results published earlier; answers "
                     "given since are not published by closing.")
    return Confirmation("close", cycle.name, tuple(lines))


def delete_confirmation(session: Session, cycle: Cycle) -> Confirmation:
    """Only a cycle that was never opened and holds no answers can be deleted."""
    if cycle.opened_at is not None or cycle.status != CycleStatus.DRAFT:
        return Confirmation("delete", cycle.name, (), problem=(
            f"cycle {cycle.name} was opened, so it cannot be deleted: its invitations and "
            f"answers are part of the record (close it instead)"))
    if has_answers(session, cycle):
        return Confirmation("delete", cycle.name, (), problem=(
            f"cycle {cycle.name} holds imported answers, so it cannot be deleted"))
    if session.execute(select(PlanEntry.id).where(PlanEntry.cycle_id == cycle.id)
                       .limit(1)).first():
        return Confirmation("delete", cycle.name, (), problem=(
            f"cycle {cycle.name} has action plans, so it cannot be deleted"))
    return Confirmation("delete", cycle.name, (
        f"Cycle {cycle.name} ({cycle.opens_on.isoformat()} to {cycle.closes_on.isoformat()}) "
        f"was never opened and holds no answers; deleting it removes it from every cycle "
        f"list. This cannot be undone.",))


def delete_cycle(session: Session, cycle: Cycle) -> None:
    """Delete a cycle that was never opened and holds no answers (ImportProblem otherwise)."""
    problem = delete_confirmation(session, cycle).problem
    if problem:
        raise ImportProblem([problem])
    invitations = select(Invitation.id).where(Invitation.cycle_id == cycle.id)
    session.execute(delete(InvitationToken).where(InvitationToken.invitation_id.in_(invitations)))
    session.execute(delete(Invitation).where(Invitation.cycle_id == cycle.id))
    session.execute(delete(Participation).where(Participation.cycle_id == cycle.id))
    name = cycle.name
    session.delete(cycle)
    session.flush()
    audit.record(session, "cycle.delete", f"cycle {name}")
