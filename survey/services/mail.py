"""Partner links by email (SURVEY_SMTP_URL) and as a CSV list; members' statuses.

Tokens and links never reach a log: messages are built in memory and handed to SMTP.
"""

from __future__ import annotations

import csv
import html
import io
import logging
import smtplib
import ssl
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.config import site_today
from survey.i18n import email_language, long_date
from survey.models import Cycle, Invitation, InvitationStatus
from survey.services.invitations import (
    IssuedLink,
    add_token,
    invitable_members,
    invitation_for,
    partner_url,
)

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30
STATUS_LABELS = {
    InvitationStatus.NOT_STARTED: "not started",
    InvitationStatus.IN_PROGRESS: "in progress",
    InvitationStatus.SUBMITTED: "submitted",
}
CSV_HEADER = ("board", "partnership", "name", "email", "partner_type", "status", "link")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class MailError(RuntimeError):
    """Mail cannot be sent (no server configured, unreachable, or lost mid-batch).

    `sent` counts the messages that did go out (and are marked) before the failure.
    """

    def __init__(self, message: str, sent: int = 0) -> None:
        super().__init__(message)
        self.sent = sent


@dataclass(frozen=True)
class MailSettings:
    """Where and how to send: the SMTP URL, the sender, and the base of partner links."""

    smtp_url: str
    mail_from: str
    base_url: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        """Settings from the Flask configuration (SMTP_URL, MAIL_FROM, BASE_URL)."""
        return cls(config.get("SMTP_URL", ""), config.get("MAIL_FROM", ""), config["BASE_URL"])


@dataclass
class SendSummary:
    """What a batch of invitations or reminders came to."""

    sent: int = 0
    skipped_no_email: int = 0
    failed: int = 0
    failed_addresses: list[str] = field(default_factory=list)
    skipped_recent: int = 0  # reminders: emailed within the last 24 hours, left out

    def describe(self, reminder: bool = False) -> str:
        """One line for a flash message or the terminal."""
        what = "reminder" if reminder else "invitation"
        line = f"{self.sent} {what}{'' if self.sent == 1 else 's'} sent"
        if self.skipped_no_email:
            members = "member" if self.skipped_no_email == 1 else "members"
            line += f", {self.skipped_no_email} {members} without an email address skipped"
        if self.skipped_recent:
            line += (f", {self.skipped_recent} emailed in the last 24 hours left out "
                     "(a member is emailed at most once a day)")
        if self.failed:
            line += f", {self.failed} failed ({', '.join(self.failed_addresses[:5])})"
        return line


def links_to_send(
    session: Session,
    cycle: Cycle,
    board_code: str | None = None,
    reminders: bool = False,
    not_emailed: bool = False,
) -> list[IssuedLink]:
    """Invite every invitable member (optionally of one board) and give each a fresh link.

    With `reminders`, only members who have not submitted get a link; with `not_emailed`,
    only members who have not been emailed an invitation yet (so that sending the
    invitations twice does not email anyone twice).
    """
    links = []
    for member in invitable_members(session, board_code):
        invitation, _ = invitation_for(session, cycle, member)
        if reminders and invitation.status == InvitationStatus.SUBMITTED:
            continue
        if not_emailed and invitation.emailed_at is not None:
            continue
        links.append(IssuedLink(invitation, add_token(session, invitation)))
    session.flush()
    return links


NOTHING_TO_SEND = ("Every member has already been emailed an invitation; "
                   "send reminders to those who have not submitted instead.")


def member_statuses(session: Session, cycle: Cycle, member_ids: Iterable[int]) -> dict[int, str]:
    """Each member's status in a cycle (not_started when not yet invited); never answers."""
    ids = list(member_ids)
    statuses = {member_id: InvitationStatus.NOT_STARTED.value for member_id in ids}
    if ids:
        rows = session.execute(
            select(Invitation.member_id, Invitation.status).where(
                Invitation.cycle_id == cycle.id, Invitation.member_id.in_(ids)
            )
        )
        statuses.update({member_id: str(status) for member_id, status in rows})
    return statuses


def spreadsheet_text(value: str) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ tab or CR gets a quote."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def links_csv(links: Iterable[IssuedLink], base_url: str) -> str:
    """The links as CSV: board,partnership,name,email,partner_type,status,link."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for link in links:
        invitation = link.invitation
        member = invitation.member
        row = (
            invitation.participation.board_code, invitation.participation.partnership_name,
            member.name, member.email or "", invitation.partner_type, invitation.status,
            partner_url(base_url, link.token),
        )
        writer.writerow([spreadsheet_text(str(value)) for value in row])
    return out.getvalue()


def compose_invitation(
    link: IssuedLink, settings: MailSettings, reminder: bool = False
) -> EmailMessage:
    """The email for one partner: plain text with an HTML alternative."""
    invitation = link.invitation
    member = invitation.member
    cycle = invitation.cycle
    participation = invitation.participation
    url = partner_url(settings.base_url, link.token)
    # The partner's language (the link's choice, else the roster's, else English).
    language = email_language(invitation.language, member.language)
    with force_locale(language):
        deadline = long_date(cycle.closes_on, language)
        partnership = participation.partnership_name
        board = participation.board_name
        names = {"partnership": partnership, "cycle": cycle.name}
        greeting = _("Dear %(name)s,", name=member.name) if member.name else _("Hello,")
        subject = (
            _("Reminder: %(partnership)s self-assessment %(cycle)s", **names) if reminder
            else _("Your invitation: %(partnership)s self-assessment %(cycle)s", **names)
        )
        opening = (
            _("This is a reminder: your answers to the sector partnership self-assessment "
              "have not been submitted yet.") if reminder
            else _("You are invited, as a partner of this sector partnership, to judge with "
                   "the other partners how mature the partnership is on the six elements of "
                   "Florida's Sector Strategy Policy.")
        )
        since_last = "" if reminder else _since_last(invitation)
        facts = [(_("Partnership"), partnership), (_("Board"), board),
                 (_("Cycle"), cycle.name), (_("Please submit by"), deadline)]
        if cycle.opens_on > site_today():  # sent early: say when the link starts to work
            facts.insert(3, (_("Your link works from"), long_date(cycle.opens_on, language)))
        keep = _("You can stop at any time and come back to the same link; your answers are "
                 "saved on every page.")
        personal = _("Your personal link (do not share it):")
        open_link = _("Open your self-assessment")
        copy_link = _("Or copy this personal link (do not share it):")
    text = (
        f"{greeting}\n\n{opening}\n\n{since_last + chr(10) * 2 if since_last else ''}"
        + "".join(f"{label}: {value}\n" for label, value in facts)
        + f"\n{personal}\n{url}\n\n{keep}\n"
    )
    e = html.escape
    body_html = (
        f"<p>{e(greeting)}</p><p>{e(opening)}</p>"
        f"{f'<p>{e(since_last)}</p>' if since_last else ''}"
        "<ul>" + "".join(f"<li>{e(label)}: {e(value)}</li>" for label, value in facts) + "</ul>"
        f'<p><a href="{e(url, quote=True)}">{e(open_link)}</a></p>'
        f"<p>{e(copy_link)} {e(url)}</p><p>{e(keep)}</p>"
    )
    message = EmailMessage()
    message["Subject"] = _one_line(subject)
    message["From"] = settings.mail_from
    message["To"] = recipient(member.name, member.email or "")
    message.set_content(text)
    message.add_alternative(
        f'<!doctype html><html lang="{language}"><body>{body_html}</body></html>',
        subtype="html")
    message["Content-Language"] = language  # after the parts: it describes the whole message
    return message


def _since_last(invitation: Invitation) -> str:
    """What changed in the partnership's last published cycle (SPEC 11), or ""."""
    from sqlalchemy.orm import object_session

    from survey.services.plan_hints import since_last_line

    session = object_session(invitation)
    if session is None:
        return ""
    return since_last_line(session, invitation.cycle, invitation.participation.partnership_id)


def _one_line(value: str) -> str:
    """Header text: no control or format characters (CR, LF, NUL, bidi marks), one line."""
    visible = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in value)
    return " ".join(visible.split())


def recipient(name: str, address: str) -> Address:
    """The To: header's value: the name as a quoted display name only (a typed
    "Eve\r\nBcc: x@evil" stays inside the quotes, on one line), then the address."""
    return Address(display_name=_one_line(name)[:150], addr_spec=address)


def connect(smtp_url: str) -> smtplib.SMTP:
    """Open an SMTP connection from `smtp://`, `smtp+starttls://` or `smtps://` URLs."""
    if not smtp_url:
        raise MailError("SURVEY_SMTP_URL is not set, so no email can be sent.")
    parts = urlsplit(smtp_url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtp+starttls", "smtps") or not parts.hostname:
        raise MailError("SURVEY_SMTP_URL must look like smtp://user:password@host:port "
                        "(or smtp+starttls:// or smtps://).")
    host = parts.hostname
    try:
        port = parts.port or (465 if scheme == "smtps" else 587 if scheme == "smtp+starttls"
                              else 25)
        if scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
            if scheme == "smtp+starttls":
                smtp.starttls(context=ssl.create_default_context())
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        raise MailError(f"Cannot reach the mail server {host}: {exc}") from exc
    return smtp
