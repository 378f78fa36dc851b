"""The audit log of administrative actions (SPEC section 14): who, when, what.

Services and views call `record` in the same transaction as the action itself, so an
action that rolls back leaves no entry and an entry never lacks its action.
"""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import AuditEvent


def cli_actor() -> str:
    """The actor name of a command-line action: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a bare container
        return "cli"


def web_actor() -> str:
    """The signed-in staff member's email (imports Flask only when asked)."""
    from flask_login import current_user

    return getattr(current_user, "email", None) or "anonymous"


def record(session: Session, action: str, target: str = "", actor: str | None = None,
           **detail: Any) -> AuditEvent:
    """Add one audit event (flushed, not committed). `actor` defaults to the web user
    inside a request and to the CLI user outside one."""
    if actor is None:
        from flask import has_request_context

        actor = web_actor() if has_request_context() else cli_actor()
    event = AuditEvent(actor=actor[:320], action=action[:60], target=target[:300],
                       detail={k: _plain(v) for k, v in detail.items()})
    session.add(event)
    session.flush()
    return event


def events(session: Session, since: dt.datetime | None = None,
           limit: int | None = None, action: str | None = None,
           before: dt.datetime | None = None, offset: int = 0) -> list[AuditEvent]:
    """Audit events, newest first, optionally since a moment, before another, of one action."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if since is not None:
        query = query.where(AuditEvent.at >= _utc(since))
    if before is not None:
        query = query.where(AuditEvent.at < _utc(before))
    if action:
        query = query.where(AuditEvent.action == action)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def actions(session: Session) -> list[str]:
    """Every action name recorded so far, sorted (for a filter's choices)."""
    query = select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return list(session.execute(query).scalars())


def _utc(moment: dt.datetime) -> dt.datetime:
    """A moment in UTC (SQLite compares stored UTC times as text, ignoring any zone)."""
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a detail value."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return str(value)
