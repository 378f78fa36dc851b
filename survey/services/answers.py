"""A partner's answers: validating an element page, saving it, submitting, and progress.

Services add and flush; the view commits once. Every write first locks the invitation
row (PostgreSQL `SELECT ... FOR UPDATE`; on SQLite the request already began with
`BEGIN IMMEDIATE`), so a double click or two tabs run one after the other and leave one
answer per item.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask_babel import gettext as _  # partners read these in their language
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from survey.db import gate_cycle
from survey.models import Answer, Comment, Cycle, Invitation, InvitationStatus, utcnow
from survey.questionnaire import Element, Questionnaire

DONT_KNOW = "DK"
NOT_APPLICABLE = "NA"
SPECIAL_VALUES = (DONT_KNOW, NOT_APPLICABLE)
COMMENT_FIELD = "comment"
# Fields an element page may post besides its items and the comment.
FORM_CONTROL_FIELDS = frozenset({"csrf_token", "action"})


class FormData(Protocol):
    """What a posted form offers (werkzeug's MultiDict fits)."""

    def keys(self) -> Iterable[str]: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass
class ElementInput:
    """A validated element page: answers by item code, the comment, and any errors.

    `errors` maps a field id of the page (`item-<code>`, `comment`, or `form` for a
    problem with no field of its own) to a plain message.
    """

    answers: dict[str, str] = field(default_factory=dict)
    comment: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def answer_values(questionnaire: Questionnaire) -> tuple[str, ...]:
    """Every value a radio button may carry: the level values, then "DK" and "NA"."""
    return tuple(str(level.value) for level in questionnaire.scale.levels) + SPECIAL_VALUES


def item_field_id(code: str) -> str:
    """The id of an item's first radio button, the target of the error summary's link."""
    return f"item-{code}"


def parse_element_form(
    questionnaire: Questionnaire, element: Element, form: FormData, comment_max_length: int
) -> ElementInput:
    """Validate one element page as posted; any tampered value rejects the whole page.

    Unanswered items are allowed (a partner may stop mid-page). A value that no radio
    button offers, a field that is not an item of this element, a field sent twice, or
    a comment over the limit is an error.
    """
    result = ElementInput()
    allowed = set(answer_values(questionnaire))
    codes = {item.code for item in element.items}
    for name in form.keys():
        if name in FORM_CONTROL_FIELDS or name == COMMENT_FIELD or name in codes:
            continue
        result.errors["form"] = _(
            "The form sent answers that are not part of this page. "
            "Reload the page and answer again."
        )
    for item in element.items:
        values = form.getlist(item.code)
        if not values:
            continue
        if len(values) > 1 or values[0] not in allowed:
            result.errors[item_field_id(item.code)] = _(
                "Choose one of the options for “%(statement)s”", statement=item.text
            )
            continue
        result.answers[item.code] = values[0]
    comments = form.getlist(COMMENT_FIELD)
    if len(comments) > 1:
        result.errors[COMMENT_FIELD] = _("Send the comment once")
    elif comments:
        # Browsers send a textarea's line breaks as CRLF; count them as the page does.
        text = comments[0].replace("\r\n", "\n").strip()
        if len(text) > comment_max_length:
            result.errors[COMMENT_FIELD] = _(
                "The comment must be %(limit)s characters or fewer (it has %(length)s)",
                limit=f"{comment_max_length:,}", length=f"{len(text):,}",
            )
        result.comment = text
    return result


def lock_cycle(session: Session, invitation: Invitation) -> Cycle:
    """Re-read the invitation's cycle under a lock that closing it also takes.

    PostgreSQL: the cycle's shared gate (survey.db.gate_cycle), which `close_cycle`
    takes exclusively, so no save commits after `closed_at`; SQLite: the write
    transaction already holds the database's write lock. Check the refreshed status
    afterwards (`Cycle.accepts_answers`).
    """
    gate_cycle(session, invitation.cycle_id)
    status, closes_on = session.execute(
        select(Cycle.status, Cycle.closes_on).where(Cycle.id == invitation.cycle_id)
    ).one()
    cycle = invitation.cycle
    set_committed_value(cycle, "status", status)  # fresh, and nothing to flush
    set_committed_value(cycle, "closes_on", closes_on)
    return cycle


def lock_invitation(session: Session, invitation: Invitation) -> Invitation:
    """Lock the invitation row for this transaction so writes to it serialise."""
    # Not session.refresh(): it would repeat the page's joined loads, and PostgreSQL
    # refuses FOR UPDATE on the nullable side of an outer join.
    session.execute(
        select(Invitation).where(Invitation.id == invitation.id)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    return invitation


def save_element(
    session: Session,
    invitation: Invitation,
    element: Element,
    answers: Mapping[str, str | None],
    comment: str | None,
) -> None:
    """Save one element page: items present overwrite, items absent stay as they were.

    `answers` maps item codes of `element` to "1".."4", "DK" or "NA" (None clears the
    item). `comment` None leaves the element's comment unchanged; an empty one deletes it.
    """
    codes = {item.code for item in element.items}
    unknown = set(answers) - codes
    if unknown:
        raise ValueError(f"items not in element {element.key}: {sorted(unknown)}")
    lock_invitation(session, invitation)
    # The unique constraint is the last line of defence; should a concurrent writer
    # slip past the lock (it cannot on SQLite or with FOR UPDATE), re-read and retry.
    for attempt in range(2):
        try:
            with session.begin_nested():
                _upsert_answers(session, invitation, element.key, answers)
                if comment is not None:
                    _upsert_comment(session, invitation, element.key, comment)
            break
        except IntegrityError:
            if attempt == 1:
                raise
    if any(value is not None for value in answers.values()) or comment:
        now = utcnow()
        invitation.started_at = invitation.started_at or now
        invitation.updated_at = now
        if invitation.status != InvitationStatus.SUBMITTED:
            invitation.status = InvitationStatus.IN_PROGRESS
    session.flush()


def _upsert_answers(
    session: Session, invitation: Invitation, element_key: str, answers: Mapping[str, str | None]
) -> None:
    existing = {
        answer.item_code: answer
        for answer in session.execute(
            select(Answer).where(
                Answer.invitation_id == invitation.id, Answer.item_code.in_(list(answers))
            )
        ).scalars()
    }
    for code, value in answers.items():
        row = existing.get(code)
        if value is None:
            if row is not None:
                session.delete(row)
            continue
        level, special = _level_and_special(value)
        if row is None:
            session.add(Answer(invitation_id=invitation.id, element_key=element_key,
                               item_code=code, level=level, special=special))
        elif (row.level, row.special) != (level, special):
            row.level, row.special = level, special
    session.flush()


def _upsert_comment(session: Session, invitation: Invitation, element_key: str, text: str) -> None:
    row = session.execute(
        select(Comment).where(
            Comment.invitation_id == invitation.id, Comment.element_key == element_key
        )
    ).scalar_one_or_none()
    if not text:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(Comment(invitation_id=invitation.id, element_key=element_key, text=text))
    else:
        row.text = text
    session.flush()


def _level_and_special(value: str) -> tuple[int | None, str | None]:
    if value in SPECIAL_VALUES:
        return None, value
    if value.isdigit():
        return int(value), None
    raise ValueError(f"not an answer value: {value!r}")


def submit(session: Session, invitation: Invitation) -> None:
    """Submit the response; submitting again keeps the first submission time."""
    lock_invitation(session, invitation)
    now = utcnow()
    if invitation.status != InvitationStatus.SUBMITTED:
        invitation.status = InvitationStatus.SUBMITTED
        invitation.submitted_at = now
    invitation.started_at = invitation.started_at or now
    invitation.updated_at = now
    session.flush()


def saved_answers(session: Session, invitation: Invitation) -> dict[str, str]:
    """The invitation's answers as {item code: "1".."4", "DK" or "NA"}."""
    # Plain columns, not Answer objects: every partner page reads these.
    rows = session.execute(select(Answer.item_code, Answer.level, Answer.special)
                           .where(Answer.invitation_id == invitation.id))
    return {code: str(level) if level is not None else str(special)
            for code, level, special in rows}


def saved_comments(session: Session, invitation: Invitation) -> dict[str, str]:
    """The invitation's comments as {element key: text}."""
    rows = session.execute(
        select(Comment.element_key, Comment.text).where(Comment.invitation_id == invitation.id)
    )
    return {key: text for key, text in rows}


@dataclass(frozen=True)
class ElementProgress:
    """How far a partner is with one element."""

    element: Element
    answered: int
    total: int
    unanswered_codes: tuple[str, ...]

    @property
    def state(self) -> str:
        """"not started", "in progress" or "complete" (every item answered)."""
        if self.answered == 0:
            return "not started"
        return "complete" if self.answered == self.total else "in progress"


@dataclass(frozen=True)
class Progress:
    """How far a partner is with the whole questionnaire."""

    elements: tuple[ElementProgress, ...]

    @property
    def answered(self) -> int:
        return sum(e.answered for e in self.elements)

    @property
    def total(self) -> int:
        return sum(e.total for e in self.elements)

    @property
    def unanswered(self) -> int:
        return self.total - self.answered


def progress(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> Progress:
    """Per-element and overall counts of answered items ("DK" and "NA" count as answered)."""
    rows = []
    for element in questionnaire.elements:
        missing = tuple(item.code for item in element.items if item.code not in answers)
        total = len(element.items)
        rows.append(ElementProgress(element, total - len(missing), total, missing))
    return Progress(tuple(rows))

