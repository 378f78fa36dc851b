"""Password reset by email (SPEC 17): a signed link, valid one hour and once.

The link carries the account id and a fingerprint of the account's current password
hash and session version, signed with the instance's secret (itsdangerous). Setting a
password changes the fingerprint, so a link works once; nothing is stored until then.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import time
from collections.abc import Callable
from email.message import EmailMessage

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from survey.models import User
from survey.services import accounts, audit, mail

log = logging.getLogger(__name__)

RESET_MAX_AGE_SECONDS = 3600
_SALT = "survey.password-reset"
SENT_MESSAGE = ("If an account exists for that address, an email with a link to set a new "
                "password is on its way. The link works once, within one hour.")


class ResetLinkInvalid(ValueError):
    """A reset link that cannot be used; the message is for the person holding it."""


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def fingerprint(user: User) -> str:
    """What a reset link is bound to: changes whenever the password is set."""
    text = f"{user.id}:{user.password_hash}:{user.session_version}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def reset_token(user: User, secret_key: str) -> str:
    """A signed, timestamped token for this account's reset link."""
    return _serializer(secret_key).dumps({"u": user.id, "f": fingerprint(user)})


def reset_url(base_url: str, token: str) -> str:
    """The link put in the email."""
    return f"{base_url.rstrip('/')}/login/reset/{token}"


def user_for_token(session: Session, token: str, secret_key: str,
                   now: float | None = None) -> User:
    """The active account a reset token opens; ResetLinkInvalid saying why not."""
    if len(token) > 400:
        raise ResetLinkInvalid("This password reset link is not valid.")
    try:
        payload, signed_at = _serializer(secret_key).loads(token, return_timestamp=True)
    except BadSignature:
        raise ResetLinkInvalid("This password reset link is not valid. Check that the "
                               "whole link was copied, or ask for a new one.") from None
    age = (now if now is not None else time.time()) - signed_at.timestamp()
    if age > RESET_MAX_AGE_SECONDS:
        raise ResetLinkInvalid("This password reset link has expired (links work for one "
                               "hour). Ask for a new one.")
    user = session.get(User, payload.get("u")) if isinstance(payload, dict) else None
    if (user is None or not user.active
            or not hmac.compare_digest(str(payload.get("f", "")), fingerprint(user))):
        raise ResetLinkInvalid("This password reset link has been used already, or the "
                               "password was changed since it was sent. Ask for a new one.")
    return user


def complete_reset(session: Session, user: User, new_password: str) -> None:
    """Set the new password from a reset link: every session of the account ends, the
    link stops working, and the reset is audited (flushed, not committed)."""
    accounts.check_new_password(new_password)
    accounts.set_password(session, user, new_password)
    audit.record(session, "user.password_reset", user.email, actor=user.email, by="email link")


def compose_reset(user: User, url: str, settings: mail.MailSettings) -> EmailMessage:
    """The reset email: plain text with an HTML alternative."""
    text = ("Someone (we hope you) asked to set a new password for your account on the "
            "Sector Partnership Self-Assessment.\n\n"
            f"Set a new password:\n{url}\n\n"
            "The link works once, within one hour. If you did not ask for it, ignore this "
            "email: your password stays as it is.\n")
    e = html.escape
    body = (f"<p>Someone (we hope you) asked to set a new password for your account on the "
            f"Sector Partnership Self-Assessment.</p>"
            f'<p><a href="{e(url, quote=True)}">Set a new password</a></p>'
            f"<p>Or copy this link: {e(url)}</p>"
            "<p>The link works once, within one hour. If you did not ask for it, ignore "
            "this email: your password stays as it is.</p>")
    message = EmailMessage()
    message["Subject"] = "Set a new password: Sector Partnership Self-Assessment"
    message["From"] = settings.mail_from
    message["To"] = user.email
    message.set_content(text)
    message.add_alternative(f'<!doctype html><html lang="en"><body>{body}</body></html>',
                            subtype="html")
    return message


def request_reset(session: Session, email: str, settings: mail.MailSettings,
                  secret_key: str) -> Callable[[], None]:
    """Handle a reset request for a typed address; returns what to run after the answer
    has gone out (sending the email, or nothing), so that the answer and its timing are
    the same whether or not the address has an account."""
    typed = accounts.normalise_email(email)[:320]
    user = accounts.find_user(session, typed)
    audit.record(session, "user.password_reset_requested", typed, actor="anonymous")
    if user is None or not user.active:
        return lambda: None
    message = compose_reset(user, reset_url(settings.base_url, reset_token(user, secret_key)),
                            settings)
    return lambda: send_quietly(message, settings.smtp_url)


def send_quietly(message: EmailMessage, smtp_url: str) -> None:
    """Send one message; a failure is logged (never the link), not raised: nobody waits."""
    try:
        with mail.connect(smtp_url) as smtp:
            smtp.send_message(message)
    except Exception as exc:  # after the answer was sent there is no one to tell but the log
        log.warning("password reset email to %s not sent: %s", message["To"], exc)
