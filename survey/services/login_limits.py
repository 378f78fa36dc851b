"""Login limits kept in the database (table login_throttles), shared by every process.

Two counters per failed sign-in (SPEC section 14, issue 9 item 5):
- per account and address pair: after FREE_ATTEMPTS failures each further try from that
  address for that email waits a growing delay (15 s doubling up to 15 minutes). The
  same email from another address is not slowed, so a stranger cannot lock anyone out.
- per address, looser: ADDRESS_LIMIT failures in ADDRESS_WINDOW refuse every sign-in
  from that address until the window ends (one client trying many accounts).

The pair key is built from the typed email whether an account exists or not, so an
unknown email, a wrong password and a slowed-down account behave alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from survey.models import LoginThrottle, utcnow

FREE_ATTEMPTS = 5  # failures per account and address before the first delay
FIRST_DELAY = dt.timedelta(seconds=15)
MAX_DELAY = dt.timedelta(minutes=15)
PAIR_WINDOW = dt.timedelta(hours=24)  # a run of failures is forgotten after this
ADDRESS_LIMIT = 100  # failures from one address, any emails ...
ADDRESS_WINDOW = dt.timedelta(minutes=15)  # ... within this window


@dataclass(frozen=True)
class Throttled:
    """Sign-in refused for now; `wait` is how long until the next try is allowed."""

    wait: dt.timedelta
    whole_address: bool

    @property
    def message(self) -> str:
        """The one line shown on the sign-in page (the same for every email)."""
        seconds = max(1, math.ceil(self.wait.total_seconds()))
        when = (f"{seconds} seconds" if seconds < 120
                else f"{math.ceil(seconds / 60)} minutes")
        return f"Too many failed attempts; try again in {when}."


def pair_key(email: str, address: str) -> str:
    """The key of one email and client address (the email hashed: typed text, any length)."""
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:32]
    return f"pair:{digest}@{address[:200]}"


def address_key(address: str) -> str:
    """The key of one client address."""
    return f"addr:{address[:200]}"


def delay_after(failures: int) -> dt.timedelta:
    """The wait after this many failures of one pair: none, then 15 s doubling, capped."""
    if failures < FREE_ATTEMPTS:
        return dt.timedelta(0)
    doublings = min(failures - FREE_ATTEMPTS, 20)  # past the cap anyway; no overflow
    return min(MAX_DELAY, FIRST_DELAY * 2**doublings)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _row(session: Session, key: str, lock: bool) -> LoginThrottle | None:
    query = select(LoginThrottle).where(LoginThrottle.key == key)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def check(session: Session, email: str, address: str,
          now: dt.datetime | None = None) -> Throttled | None:
    """Whether a sign-in for this email from this address must wait (None: go ahead)."""
    now = now or utcnow()
    per_address = _row(session, address_key(address), lock=False)
    if per_address is not None and per_address.failures >= ADDRESS_LIMIT:
        ends = _aware(per_address.window_started_at) + ADDRESS_WINDOW
        if ends > now:
            return Throttled(ends - now, whole_address=True)
    pair = _row(session, pair_key(email, address), lock=False)
    if pair is not None and pair.blocked_until is not None:
        until = _aware(pair.blocked_until)
        if until > now and _aware(pair.window_started_at) + PAIR_WINDOW > now:
            return Throttled(until - now, whole_address=False)
    return None


def _insert_ignoring_conflict(session: Session, key: str, now: dt.datetime) -> None:
    """Create the key's row unless another process just did (no unique-key error)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginThrottle)
        .values(key=key, failures=0, window_started_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )


def _count(session: Session, key: str, window: dt.timedelta, now: dt.datetime) -> LoginThrottle:
    """Add one failure to a key's row (locked), starting a new window when the old ended."""
    _insert_ignoring_conflict(session, key, now)
    row = _row(session, key, lock=True)
    assert row is not None
    if _aware(row.window_started_at) + window <= now:
        row.failures, row.window_started_at, row.blocked_until = 0, now, None
    row.failures += 1
    return row


def failed(session: Session, email: str, address: str, now: dt.datetime | None = None) -> None:
    """Count a failed sign-in for the pair and for the address (flushed, not committed)."""
    now = now or utcnow()
    pair = _count(session, pair_key(email, address), PAIR_WINDOW, now)
    wait = delay_after(pair.failures)
    pair.blocked_until = now + wait if wait else None
    _count(session, address_key(address), ADDRESS_WINDOW, now)
    # Forget what no longer matters, so the table stays small.
    session.execute(delete(LoginThrottle).where(
        LoginThrottle.window_started_at < now - PAIR_WINDOW,
        (LoginThrottle.blocked_until.is_(None)) | (LoginThrottle.blocked_until < now),
    ).execution_options(synchronize_session=False))
    session.flush()


def succeeded(session: Session, email: str, address: str) -> None:
    """A right password from this address: the pair starts afresh (the address does not)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == pair_key(email, address))
                    .execution_options(synchronize_session=False))
    session.flush()
