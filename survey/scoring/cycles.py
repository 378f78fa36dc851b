"""Cycles in order, and a cheap fingerprint of the data a cycle's figures are drawn from."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import and_, event, inspect, or_, select, update
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
    """A cache key for a cycle's figures: one small query on `cycles`, at any scale.

    It is this cycle's `results_version` counter with the counters, statuses and content
    hashes of the earlier cycles (change and trends read them). The counters are bumped
    in the same transaction as every change the figures are drawn from: ORM changes by
    the `before_flush` listener below, Core bulk writes by `bump_results_version`.
    """
    upto = or_(Cycle.opens_on < cycle.opens_on,
               and_(Cycle.opens_on == cycle.opens_on, Cycle.id <= cycle.id))
    rows = session.execute(
        select(Cycle.id, Cycle.status, Cycle.content_hash, Cycle.results_version)
        .where(upto).order_by(Cycle.opens_on, Cycle.id)
    ).all()
    text = repr([tuple(row) for row in rows])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# What a cycle's figures are drawn from. Drafts of a response that is not submitted do
# not count (figures read submitted answers only), but a response's status does: the
# dashboards show how many partners are invited, in progress and submitted.
INVITATION_FIELDS = ("status", "partner_type", "participation_id", "cycle_id", "submitted_at")
CYCLE_FIELDS = ("status", "content", "content_hash", "opens_on", "closes_on", "name",
                "published_at")


def _changed(obj: object, fields: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _submitted_invitation(session: Session, row: Answer | Comment) -> Invitation | None:
    """The invitation of an answer or comment when it is (or was) submitted, else None."""
    invitation = row.__dict__.get("invitation")
    if invitation is None and row.invitation_id is not None:
        invitation = session.get(Invitation, row.invitation_id)
    if invitation is None:
        return None
    history = inspect(invitation).attrs.status.history
    statuses = {invitation.status, *history.deleted}
    return invitation if SUBMITTED in statuses else None


def changed_cycle_ids(session: Session) -> set[int]:
    """Ids of the cycles whose figures the session's pending ORM changes alter."""
    ids: set[int] = set()
    for obj in [*session.new, *session.dirty, *session.deleted]:
        pending = obj in session.new or obj in session.deleted
        if isinstance(obj, Answer | Comment):
            invitation = _submitted_invitation(session, obj)
            if invitation is not None and invitation.cycle_id is not None:
                ids.add(invitation.cycle_id)
        elif isinstance(obj, Invitation):
            if pending or _changed(obj, INVITATION_FIELDS):
                ids.update(i for i in (obj.cycle_id, *inspect(obj).attrs.cycle_id.history.deleted)
                           if i is not None)
        elif isinstance(obj, Participation):
            if obj.cycle_id is not None:
                ids.add(obj.cycle_id)
        elif isinstance(obj, Cycle) and obj not in session.new and obj.id is not None:
            if obj in session.deleted or _changed(obj, CYCLE_FIELDS):
                ids.add(obj.id)
    return ids


@event.listens_for(Session, "before_flush")
def _bump_changed_cycles(session: Session, _context: object, _instances: object) -> None:
    """Bump the results version of every cycle a flush changes, in the same transaction."""
    ids = changed_cycle_ids(session)
    if ids:
        session.connection().execute(
            update(Cycle.__table__).where(Cycle.__table__.c.id.in_(sorted(ids)))
            .values(results_version=Cycle.__table__.c.results_version + 1))
