"""API tokens (SPEC 17): named, per staff user, stored as a sha256, revocable; each
call is rate-limited per token (the window lives in the token's row, so every process
and machine shares it) and audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import ApiToken, User, utcnow
from survey.services import audit
from survey.services.accounts import AccountError

TOKEN_PREFIX = "ssa_"  # recognisable in a leaked file or a secret scanner's rules
TOKEN_BYTES = 32
MAX_NAME_LENGTH = 100
RATE_WINDOW = dt.timedelta(minutes=1)
DEFAULT_RATE_LIMIT = 120  # calls per token per minute


def hash_token(token: str) -> str:
    """The stored form of an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for the user: (its row, the token itself, to be shown once)."""
    name = " ".join(name.split())
    if not name:
        raise AccountError("Give the token a name, such as the report that will use it.")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"A token name is at most {MAX_NAME_LENGTH} characters long.")
    if not user.active:
        raise AccountError(f"The account {user.email} is deactivated.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(raw), window_calls=0)
    session.add(token)
    session.flush()
    audit.record(session, "api.token_create", user.email, token=token.id, name=name)
    return token, raw


def tokens_of(session: Session, user: User | None = None) -> list[ApiToken]:
    """Tokens (one user's, or everyone's), newest first; revoked ones too."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.execute(query).scalars())


def revoke_token(session: Session, token_id: int, owner: User | None = None) -> ApiToken:
    """Revoke a token (only the owner's, when an owner is given); AccountError if none."""
    token = session.get(ApiToken, token_id)
    if token is None or (owner is not None and token.user_id != owner.id):
        raise AccountError(f"There is no token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        audit.record(session, "api.token_revoke", token.user.email, token=token.id,
                     name=token.name)
    return token


@dataclass(frozen=True)
class Admitted:
    """A call let through: its token and user."""

    token: ApiToken
    user: User


class RateLimited(Exception):
    """Too many calls with this token in the current window."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"Too many calls with this token; try again in {retry_after} s.")


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def admit(session: Session, raw: str, target: str, limit: int = DEFAULT_RATE_LIMIT,
          now: dt.datetime | None = None) -> Admitted | None:
    """Check a bearer token for one call (in a write transaction): None for an unknown,
    revoked or deactivated one; RateLimited past the limit; else the call is counted,
    the token's last use set and the call audited."""
    if not raw or len(raw) > 200:
        return None
    now = now or utcnow()
    token = session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(raw)).with_for_update()
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    started = token.window_started_at
    if started is None or _aware(started) + RATE_WINDOW <= now:
        token.window_started_at, token.window_calls = now, 0
        started = now
    if token.window_calls >= limit:
        wait = (_aware(started) + RATE_WINDOW - now).total_seconds()
        raise RateLimited(max(1, math.ceil(wait)))
    token.window_calls += 1
    token.last_used_at = now
    audit.record(session, "api.call", target[:300], actor=f"token {token.id} ({token.user.email})",
                 token=token.id)
    return Admitted(token, token.user)
