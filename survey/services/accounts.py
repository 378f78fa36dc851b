"""Staff accounts: creating users, signing in with throttling, password changes."""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from survey.models import Board, BoardStatus, Role, User, utcnow

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
FREE_ATTEMPTS = 5  # failures allowed before the account locks
FIRST_LOCK_MINUTES = 1
MAX_LOCK_MINUTES = 60
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROLE_LABELS = {Role.ADMIN: "Administrator", Role.STATE: "State staff", Role.BOARD: "Board lead"}


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is for the user."""


class AccountLocked(Exception):
    """Sign-in refused without checking the password: too many recent failures."""

    def __init__(self, minutes: int) -> None:
        self.minutes = minutes
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(f"Too many failed attempts; try again in {minutes} {unit}.")


def normalise_email(email: str) -> str:
    """An email address as stored: trimmed and lower-case."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """A password hash with werkzeug's scrypt."""
    return generate_password_hash(password, method="scrypt")


def check_new_password(password: str) -> None:
    """Raise AccountError unless the password is acceptable for an account."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"The password must be at most {MAX_PASSWORD_LENGTH} characters long.")


def find_user(session: Session, email: str) -> User | None:
    """The account with this email address (any case), or None."""
    return session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def list_users(session: Session) -> list[User]:
    """Every account, by role then email."""
    return list(session.execute(select(User).order_by(User.role, User.email)).scalars())


def create_user(
    session: Session, email: str, password: str, role: str, board: Board | None = None
) -> User:
    """Add a staff account; a board lead needs a board, other roles must not have one."""
    email = normalise_email(email)
    if not EMAIL_RE.match(email) or len(email) > 320:
        raise AccountError(f"{email or 'An empty address'} is not an email address.")
    if role not in {r.value for r in Role}:
        raise AccountError(f"Unknown role {role!r}: use admin, state or board.")
    if role == Role.BOARD and board is None:
        raise AccountError("A board lead needs a board.")
    if role != Role.BOARD and board is not None:
        raise AccountError("Only board leads are bound to a board.")
    if board is not None and board.status != BoardStatus.ACTIVE:
        raise AccountError(f"Board {board.code} is {board.status}, not active.")
    check_new_password(password)
    if find_user(session, email) is not None:
        raise AccountError(f"An account for {email} already exists.")
    user = User(email=email, password_hash=hash_password(password), role=role, board=board,
                active=True, failed_logins=0, session_version=1)
    session.add(user)
    session.flush()
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def lock_minutes(failed_logins: int) -> int:
    """How long an account locks after this many consecutive failures (doubling, capped)."""
    if failed_logins < FREE_ATTEMPTS:
        return 0
    return min(MAX_LOCK_MINUTES, FIRST_LOCK_MINUTES * 2 ** (failed_logins - FREE_ATTEMPTS))


def authenticate(
    session: Session, email: str, password: str, now: dt.datetime | None = None
) -> User | None:
    """The active account these credentials open, or None; raises AccountLocked.

    Failures are counted on the account; after FREE_ATTEMPTS of them the account locks
    for a growing delay, during which the password is not even checked.
    """
    now = now or utcnow()
    user = find_user(session, email)
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)  # about as slow as a real check
        return None
    if user.locked_until is not None and _aware(user.locked_until) > now:
        remaining = (_aware(user.locked_until) - now).total_seconds() / 60
        raise AccountLocked(max(1, math.ceil(remaining)))
    if not check_password_hash(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        minutes = lock_minutes(user.failed_logins)
        user.locked_until = now + dt.timedelta(minutes=minutes) if minutes else None
        session.flush()
        return None
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Change one's own password; other sessions of the account end."""
    if not check_password_hash(user.password_hash, current):
        raise AccountError("The current password is wrong.")
    check_new_password(new)
    if current == new:
        raise AccountError("The new password must differ from the current one.")
    _set_password(session, user, new)


def random_password() -> str:
    """A new random password of 16 characters (96 random bits)."""
    return secrets.token_urlsafe(12)


def reset_password(session: Session, user: User) -> str:
    """An administrator's reset: a new random password (returned once); sessions end."""
    password = random_password()
    _set_password(session, user, password)
    return password


def _set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 1) + 1
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


def deactivate_user(session: Session, user: User) -> None:
    """Disable an account and end its sessions; the last active administrator stays."""
    if user.role == Role.ADMIN and user.active:
        admins = session.execute(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
        ).scalar_one()
        if admins <= 1:
            raise AccountError("The last active administrator cannot be deactivated.")
    user.active = False
    user.session_version = (user.session_version or 1) + 1
    session.flush()


def reactivate_user(session: Session, user: User) -> None:
    """Enable a deactivated account again."""
    user.active = True
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
