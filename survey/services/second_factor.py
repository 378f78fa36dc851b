"""The TOTP second factor of password sign-in (SPEC 17), and its recovery codes.

Administrators always give a code after their password (enrolling at their next
sign-in if they have no factor yet); other staff do once they have enrolled. A code is
accepted once: the factor keeps the last time step it accepted. Ten recovery codes,
each usable once, are stored as hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from survey.models import RecoveryCode, Role, SecondFactor, User, utcnow
from survey.services import audit

ISSUER = "Sector Partnership Self-Assessment"
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def factor_of(session: Session, user: User) -> SecondFactor | None:
    """The account's second factor, or None when it has not enrolled."""
    return session.execute(
        select(SecondFactor).where(SecondFactor.user_id == user.id)).scalar_one_or_none()


def must_enrol(user: User, factor: SecondFactor | None) -> bool:
    """An administrator without a factor enrols before the sign-in completes."""
    return factor is None and user.role == Role.ADMIN


def new_secret() -> str:
    """A fresh TOTP secret (160 random bits, base32)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The QR code of an otpauth:// address as an SVG data URI (the CSP allows data: images)."""
    import segno  # local: only enrolment pages draw QR codes

    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _digits(code: str) -> str:
    return "".join(code.split())


def matching_step(secret: str, code: str, after: int | None,
                  now: dt.datetime | None = None) -> int | None:
    """The time step (this one or a neighbour, for clock drift) whose code this is, when
    later than `after`; else None."""
    code = _digits(code)
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    moment = now or utcnow()
    current = totp.timecode(moment)
    for step in (current - 1, current, current + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enrol(session: Session, user: User, secret: str, code: str,
          now: dt.datetime | None = None) -> list[str] | None:
    """Confirm an enrolment with a code from the app: the factor is stored and ten
    recovery codes returned (to be shown once); None when the code is wrong."""
    step = matching_step(secret, code, None, now)
    if step is None:
        return None
    session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    session.add(SecondFactor(user_id=user.id, secret=secret, last_step=step,
                             confirmed_at=now or utcnow()))
    codes = new_recovery_codes(session, user)
    audit.record(session, "user.factor_enrol", user.email, actor=user.email)
    return codes


def _recovery_hash(user_id: int, code: str) -> str:
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(f"{user_id}:{normal}".encode()).hexdigest()


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace the account's recovery codes with ten new ones (returned once, stored hashed)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, raw)))
    session.flush()
    return codes


def check_code(session: Session, user: User, code: str,
               now: dt.datetime | None = None) -> str | None:
    """Accept a TOTP code (once per time step) or an unused recovery code (once): "totp"
    or "recovery", written and flushed; None when neither."""
    factor = session.execute(
        select(SecondFactor).where(SecondFactor.user_id == user.id).with_for_update()
    ).scalar_one_or_none()
    if factor is None:
        return None
    step = matching_step(factor.secret, code, factor.last_step, now)
    if step is not None:
        factor.last_step = step
        session.flush()
        return "totp"
    used = session.execute(
        update(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
            RecoveryCode.code_hash == _recovery_hash(user.id, code),
        ).values(used_at=now or utcnow()).execution_options(synchronize_session=False))
    if used.rowcount == 1:
        left = remaining_recovery_codes(session, user)
        audit.record(session, "user.recovery_code_used", user.email, actor=user.email,
                     remaining=left)
        return "recovery"
    return None


def remaining_recovery_codes(session: Session, user: User) -> int:
    """How many of the account's recovery codes are still unused."""
    rows = session.execute(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))
    return len(rows.all())


def reset_factor(session: Session, user: User) -> None:
    """An administrator removes another account's factor and recovery codes (a lost
    phone): its sessions end, and it enrols again (an administrator at the next sign-in);
    audited."""
    from survey.services.accounts import end_all_sessions

    session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_all_sessions(session, user)
    audit.record(session, "user.factor_reset", user.email)


def remove_own_factor(session: Session, user: User) -> None:
    """A staff member who is not an administrator turns the second factor off; audited."""
    session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()
    audit.record(session, "user.factor_remove", user.email, actor=user.email)
