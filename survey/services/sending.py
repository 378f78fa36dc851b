"""Sending invitations and reminders by email without holding the database's write lock.

A mail server may take seconds per message; SQLite has one writer. So a batch is sent in
three steps (issue 9 item 1):
1. connect to the mail server (a server that cannot be reached writes nothing);
2. a short write transaction chooses the recipients, issues their fresh links, composes
   every message in memory and marks them as sent, which claims them: a second send
   started meanwhile does not email them twice;
3. the messages go out with no transaction open; then a second short write transaction
   undoes the marks and removes the links of those that did not go out, and records the
   batch in the audit log.

Reminders are throttled: a member emailed or reminded within REMIND_AGAIN_AFTER is left
out, so a loop of "Send reminders" cannot flood partners or churn their links.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from survey.db import gate_cycle
from survey.models import Cycle, Invitation, InvitationStatus, InvitationToken, utcnow
from survey.services import audit
from survey.services.invitations import (
    IssuedLink,
    add_token,
    hash_token,
    invitable_members,
    invitation_for,
)
from survey.services.mail import MailError, MailSettings, SendSummary, compose_invitation, connect

log = logging.getLogger(__name__)

REMIND_AGAIN_AFTER = dt.timedelta(hours=24)
THROTTLE_NOTE = "A member is emailed at most once every 24 hours."

Writing = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class Recipients:
    """Whom a batch is for: a cycle's invitable members, narrowed to a board, a
    partnership or one member; `reminders` sends only to those who have not submitted."""

    cycle_id: int
    reminders: bool = False
    board_code: str | None = None
    partnership_id: int | None = None
    member_id: int | None = None

    def describe(self) -> str:
        """The batch's target as the audit log names it."""
        if self.member_id is not None:
            return f"member {self.member_id}"
        if self.partnership_id is not None:
            return f"partnership {self.partnership_id}"
        return f"board {self.board_code}" if self.board_code else "all boards"


@dataclass(frozen=True)
class Outgoing:
    """One composed message, claimed in the database, with what undoing the claim needs."""

    invitation_id: int
    token_hash: str
    address: str
    message: EmailMessage
    emailed_at: dt.datetime | None  # the marks before this batch claimed the invitation
    reminded_at: dt.datetime | None


@dataclass
class Batch:
    """The messages of one send, and the members it left out and why."""

    outgoing: list[Outgoing] = field(default_factory=list)
    skipped_no_email: int = 0
    skipped_recent: int = 0
    invalid_addresses: list[str] = field(default_factory=list)


def checked_address(address: str) -> str | None:
    """The address if email-validator accepts its syntax (no DNS lookup), else None."""
    # local: email_validator adds ~0.05 s to every command start, and few commands need it
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _recently_emailed(invitation: Invitation, since: dt.datetime) -> bool:
    marks = [m for m in (invitation.emailed_at, invitation.reminded_at) if m is not None]
    return any((m if m.tzinfo else m.replace(tzinfo=dt.UTC)) > since for m in marks)


def claim_batch(session: Session, recipients: Recipients, settings: MailSettings,
                now: dt.datetime | None = None) -> Batch:
    """Choose the recipients, issue fresh links, compose the messages and mark them sent
    (flushed, not committed: the caller's short write transaction)."""
    now = now or utcnow()
    # The cycle's gate first, as partners' saves take it (then their invitation): taking
    # the invitations first would deadlock with them on PostgreSQL.
    gate_cycle(session, recipients.cycle_id)
    cycle = session.execute(
        select(Cycle).where(Cycle.id == recipients.cycle_id)
    ).scalar_one_or_none()
    if cycle is None:
        raise MailError("The cycle no longer exists.")
    batch = Batch()
    for member in invitable_members(session, recipients.board_code):
        if recipients.partnership_id not in (None, member.partnership_id):
            continue
        if recipients.member_id not in (None, member.id):
            continue
        invitation, _ = invitation_for(session, cycle, member)  # new ones bump the figures
        if recipients.reminders:
            if invitation.status == InvitationStatus.SUBMITTED:
                continue
            if _recently_emailed(invitation, now - REMIND_AGAIN_AFTER):
                batch.skipped_recent += 1
                continue
        elif invitation.emailed_at is not None:
            continue  # invitations go once; reminders are for the rest
        if not member.email:
            batch.skipped_no_email += 1
            continue
        address = checked_address(member.email)
        if address is None:
            batch.invalid_addresses.append(member.email)
            continue
        token = add_token(session, invitation)
        message = compose_invitation(IssuedLink(invitation, token), settings,
                                     recipients.reminders)
        batch.outgoing.append(Outgoing(invitation.id, hash_token(token), address, message,
                                       invitation.emailed_at, invitation.reminded_at))
        invitation.emailed_at = invitation.emailed_at or now
        if recipients.reminders:
            invitation.reminded_at = now
    session.flush()
    return batch


def deliver(smtp: smtplib.SMTP, outgoing: list[Outgoing]) -> tuple[set[int], list[str], str]:
    """Send each message over an open connection, touching no database.

    Returns the invitation ids that went out, the addresses the server refused, and
    a problem ("" when none) when the connection was lost part-way.
    """
    sent: set[int] = set()
    refused: list[str] = []
    for item in outgoing:
        try:
            smtp.send_message(item.message, to_addrs=[item.address])
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                smtplib.SMTPSenderRefused, ValueError) as exc:
            log.warning("invitation %s not sent: %s", item.invitation_id, type(exc).__name__)
            refused.append(item.address)
            continue
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail server connection lost: %s", type(exc).__name__)
            return sent, refused, (f"The mail server stopped answering after {len(sent)} "
                                   "messages.")
        sent.add(item.invitation_id)
    return sent, refused, ""


def finish_batch(session: Session, batch: Batch, sent: set[int],
                 recipients: Recipients) -> None:
    """Undo the claim of every message that did not go out (its marks and fresh link),
    and record the batch in the audit log (flushed, not committed)."""
    unsent = [item for item in batch.outgoing if item.invitation_id not in sent]
    if unsent:
        invitations = {i.id: i for i in session.execute(select(Invitation).where(
            Invitation.id.in_([item.invitation_id for item in unsent]))).scalars()}
        for item in unsent:
            invitation = invitations.get(item.invitation_id)
            if invitation is not None:
                invitation.emailed_at, invitation.reminded_at = item.emailed_at, item.reminded_at
        session.execute(delete(InvitationToken).where(InvitationToken.token_hash.in_(
            [item.token_hash for item in unsent])).execution_options(synchronize_session=False))
    audit.record(session, "reminders.send" if recipients.reminders else "invitations.send",
                 recipients.describe(), cycle_id=recipients.cycle_id, sent=len(sent),
                 not_sent=len(unsent) + len(batch.invalid_addresses),
                 skipped_recent=batch.skipped_recent)
    session.flush()


def send_batch(writing: Writing, recipients: Recipients, settings: MailSettings,
               now: dt.datetime | None = None) -> SendSummary:
    """Send a batch in the three steps above; `writing()` opens a short write transaction
    that commits at its end (the edge's `db.writing`).

    Raises MailError when no server is configured or reachable (nothing is written), or
    when the connection is lost part-way (what went out stays marked, `sent` counts it).
    """
    smtp = connect(settings.smtp_url)
    try:
        with writing() as session:
            batch = claim_batch(session, recipients, settings, now)
        sent, refused, problem = deliver(smtp, batch.outgoing)
        with writing() as session:
            finish_batch(session, batch, sent, recipients)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    if problem:
        raise MailError(problem, sent=len(sent))
    failed = refused + batch.invalid_addresses
    return SendSummary(sent=len(sent), skipped_no_email=batch.skipped_no_email,
                       failed=len(failed), failed_addresses=failed,
                       skipped_recent=batch.skipped_recent)
