"""Staff accounts: creating users, signing in with throttling, sessions, password changes."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from survey.models import Board, BoardStatus, Role, StaffSession, User, utcnow
from survey.services import audit, login_limits

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
SESSION_TOKEN_BYTES = 32
SESSION_MAX_AGE = dt.timedelta(days=14)  # a signed-in session ends this long after sign-in
ROLE_LABELS = {Role.ADMIN: "Administrator", Role.STATE: "State staff", Role.BOARD: "Board lead"}


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is for the user."""


class LoginThrottled(Exception):
    """Sign-in refused for now (too many recent failures); the same for every email."""

    def __init__(self, throttled: login_limits.Throttled) -> None:
        self.throttled = throttled
        super().__init__(throttled.message)


def normalise_email(email: str) -> str:
    """An email address as stored: trimmed and lower-case."""
    return email.strip().lower()


def checked_email(email: str) -> str:
    """A deliverable-looking address (email-validator's syntax rules), normalised; else
    AccountError with the reason. No DNS lookup: rosters are entered offline too."""
    # local: email_validator adds ~0.05 s to every command start, and few commands need it
    from email_validator import EmailNotValidError, validate_email

    typed = email.strip()
    if not typed:
        raise AccountError("An empty address is not an email address.")
    try:
        valid = validate_email(typed, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"{_printable(typed[:100])} is not an email address: {exc}") from None
    return normalise_email(valid.normalized)


def _printable(text: str) -> str:
    """Typed text fit for a one-line message: control characters shown as escapes."""
    return "".join(f"\\x{ord(ch):02x}" if unicodedata.category(ch).startswith("C") else ch
                   for ch in text)


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
    email = checked_email(email)
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
    audit.record(session, "user.create", user.email, role=role,
                 board=board.code if board is not None else None)
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class SignInAttempt:
    """A checked sign-in, before its outcome is written: `user` is set only when right."""

    email: str
    address: str
    user: User | None
    throttled: login_limits.Throttled | None
    at: dt.datetime


def check_credentials(
    session: Session, email: str, password: str, address: str = "-",
    now: dt.datetime | None = None,
) -> SignInAttempt:
    """Check a sign-in by reading only (no write lock held during the slow hash).

    Every path runs exactly one password hash (a dummy one for an unknown or disabled
    account, or while throttled), so none answers faster than another; the limits are
    per email and address (see login_limits), so nothing reveals whether an account
    exists and no one can lock an account out from elsewhere.
    """
    now = now or utcnow()
    throttled = login_limits.check(session, email, address, now)
    user = find_user(session, email)
    usable = throttled is None and user is not None and user.active
    right = check_password_hash(user.password_hash if usable and user else _dummy_hash(),
                                password)
    return SignInAttempt(email, address, user if usable and right else None, throttled, now)


def settle(session: Session, attempt: SignInAttempt) -> User | None:
    """Write a checked sign-in's outcome: the account it opens, or None after counting the
    failure; raises LoginThrottled (and writes nothing) while the email or address waits."""
    if attempt.throttled is not None:
        raise LoginThrottled(attempt.throttled)
    if attempt.user is None:
        login_limits.failed(session, attempt.email, attempt.address, attempt.at)
        return None
    login_limits.succeeded(session, attempt.email, attempt.address)
    return attempt.user


def authenticate(
    session: Session, email: str, password: str, address: str = "-",
    now: dt.datetime | None = None,
) -> User | None:
    """check_credentials then settle, in the caller's transaction (for the CLI and tests)."""
    return settle(session, check_credentials(session, email, password, address, now))


# --- server-side staff sessions ------


def hash_session_token(token: str) -> str:
    """The stored form of a staff session token (sha256 hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User) -> str:
    """Record a new signed-in session for the account; the token goes in its cookie only."""
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    now = utcnow()
    # Sessions past their age serve no one: forget them, so the table stays small.
    session.execute(delete(StaffSession).where(StaffSession.created_at < now - SESSION_MAX_AGE)
                    .execution_options(synchronize_session=False))
    session.add(StaffSession(user_id=user.id, token_hash=hash_session_token(token),
                             created_at=now))
    session.flush()
    return token


def session_user(session: Session, user_id: int, token: str | None,
                 now: dt.datetime | None = None) -> User | None:
    """The active account whose unrevoked session, younger than SESSION_MAX_AGE, this
    token is; else None."""
    if not token or len(token) > 100:
        return None
    oldest = (now or utcnow()) - SESSION_MAX_AGE
    return session.execute(
        select(User).join(StaffSession, StaffSession.user_id == User.id).where(
            User.id == user_id, User.active, StaffSession.revoked_at.is_(None),
            StaffSession.created_at > oldest,
            StaffSession.token_hash == hash_session_token(token))
    ).scalar_one_or_none()


def end_session(session: Session, token: str | None) -> None:
    """Revoke one session (sign-out); an unknown token changes nothing."""
    if token:
        session.execute(update(StaffSession).where(
            StaffSession.token_hash == hash_session_token(token),
            StaffSession.revoked_at.is_(None)).values(revoked_at=utcnow())
            .execution_options(synchronize_session=False))
        session.flush()


def end_all_sessions(session: Session, user: User) -> None:
    """Revoke every session of the account (password set or reset, deactivation)."""
    session.execute(update(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.revoked_at.is_(None)
    ).values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    session.flush()


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
    audit.record(session, "user.reset", user.email)
    return password


def set_password(session: Session, user: User, password: str) -> None:
    """Set a checked new password (a reset by email link); every session ends."""
    _set_password(session, user, password)


def _set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 1) + 1
    user.failed_logins = 0
    user.locked_until = None
    end_all_sessions(session, user)


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
    end_all_sessions(session, user)
    audit.record(session, "user.deactivate", user.email)


def reactivate_user(session: Session, user: User) -> None:
    """Enable a deactivated account again."""
    user.active = True
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    audit.record(session, "user.reactivate", user.email)
