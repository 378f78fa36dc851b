"""Cycles in order, and a cheap fingerprint of the data a cycle's figures are drawn from."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from survey.models import Answer, Comment, Cycle, Invitation, InvitationStatus, Participation

SUBMITTED = InvitationStatus.SUBMITTED.value
IN_PROGRESS = InvitationStatus.IN_PROGRESS.value


def cycle_by_name(session: Session, name: str) -> Cycle | None:
    """The cycle with this name (e.g. "2026"), or None."""
    return session.execute(select(Cycle).where(Cycle.name == name)).scalar_one_or_none()


def previous_cycles(session: Session, cycle: Cycle) -> list[Cycle]:
    """Cycles before this one, oldest first (ordered by opens_on, then id)."""
    earlier = or_(Cycle.opens_on < cycle.opens_on,
                  and_(Cycle.opens_on == cycle.opens_on, Cycle.id < cycle.id))
    return list(session.execute(
        select(Cycle).where(earlier).order_by(Cycle.opens_on, Cycle.id)).scalars())


def bump_results_version(session: Session, cycle_ids: Iterable[int]) -> None:
    """Mark the figures of these cycles as changed (call in the same transaction as the
    change: submitted answers, statuses, participations, a cycle's state)."""
    ids = sorted(set(cycle_ids))
    if ids:
        session.execute(update(Cycle).where(Cycle.id.in_(ids))
                        .values(results_version=Cycle.results_version + 1)
                        .execution_options(synchronize_session=False))


def results_version(session: Session, cycle: Cycle) -> str:
    """A cheap fingerprint of everything a cycle's figures are drawn from (a cache key).

    Covers submitted answers and comments of this cycle and of the earlier ones (change
    and trends read them), invitation statuses, and the cycles' status and content.
    """
    cycles = [*previous_cycles(session, cycle), cycle]
    cycle_ids = [c.id for c in cycles]
    invitations = session.execute(
        select(func.count(), func.max(Invitation.updated_at), func.max(Invitation.submitted_at),
               func.sum(case((Invitation.status == SUBMITTED, 1), else_=0)),
               func.sum(case((Invitation.status == IN_PROGRESS, 1), else_=0)),
               func.max(Invitation.id))
        .where(Invitation.cycle_id.in_(cycle_ids))
    ).one()
    submitted = and_(Invitation.cycle_id.in_(cycle_ids), Invitation.status == SUBMITTED)
    answers = session.execute(
        select(func.count(), func.max(Answer.updated_at), func.sum(func.coalesce(Answer.level, 0)),
               func.max(Answer.id))
        .join(Invitation, Answer.invitation_id == Invitation.id).where(submitted)
    ).one()
    comments = session.execute(
        select(func.count(), func.sum(func.length(Comment.text)), func.max(Comment.id))
        .join(Invitation, Comment.invitation_id == Invitation.id).where(submitted)
    ).one()
    participations = session.execute(
        select(func.count(), func.max(Participation.id))
        .where(Participation.cycle_id.in_(cycle_ids))
    ).one()
    parts = [(c.id, c.status, c.content_hash) for c in cycles]
    text = repr((parts, tuple(invitations), tuple(answers), tuple(comments), tuple(participations)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
