"""Cycles: create, open (snapshot the content, invite the roster), close, look up."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from survey.db import gate_cycle
from survey.models import Answer, Cycle, CycleStatus, Invitation, InvitationStatus, utcnow
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
    return [
        CycleSummary(c.name, c.status, c.opens_on, c.closes_on, int(invited), int(done))
        for c, invited, done in session.execute(query)
    ]
