"""Factories for test rows: short calls that build valid objects with sensible defaults."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping

from sqlalchemy.orm import Session

from survey.models import (
    Answer,
    Board,
    Comment,
    Cycle,
    CycleStatus,
    Invitation,
    InvitationStatus,
    Member,
    Partnership,
    utcnow,
)
from survey.questionnaire import Questionnaire, default_folder, load_questionnaire
from survey.services.invitations import add_token, invitation_for

_seq = itertools.count(1)
_questionnaire: Questionnaire | None = None


def shipped_questionnaire() -> Questionnaire:
    """The shipped content (loaded once per test session)."""
    global _questionnaire
    if _questionnaire is None:
        _questionnaire = load_questionnaire(default_folder())
    return _questionnaire


def make_board(session: Session, code: str | None = None, name: str | None = None) -> Board:
    n = next(_seq)
    board = Board(code=code or f"{n:02d}", name=name or f"Board {n}")
    session.add(board)
    session.flush()
    return board


def make_partnership(
    session: Session, board: Board, name: str | None = None, sector: str = "Manufacturing"
) -> Partnership:
    partnership = Partnership(board=board, name=name or f"Partnership {next(_seq)}", sector=sector)
    session.add(partnership)
    session.flush()
    return partnership


def make_member(
    session: Session,
    partnership: Partnership,
    partner_type: str = "business",
    email: str | None = None,
    name: str | None = None,
    organization: str = "Acme Corp",
) -> Member:
    n = next(_seq)
    member = Member(
        partnership=partnership,
        partner_type=partner_type,
        email=email or f"partner{n}@example.org",
        name=name or f"Partner {n}", organization=organization,
    )
    session.add(member)
    session.flush()
    return member


def make_cycle(
    session: Session,
    name: str = "2026",
    status: str = CycleStatus.OPEN,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    questionnaire: Questionnaire | None = None,
) -> Cycle:
    questionnaire = questionnaire or shipped_questionnaire()
    today = dt.date.today()
    cycle = Cycle(
        name=name, status=status, opens_on=opens_on or today - dt.timedelta(days=7),
        closes_on=closes_on or today + dt.timedelta(days=30),
        content=questionnaire.to_dict(), content_hash=questionnaire.content_hash,
        opened_at=utcnow() if status != CycleStatus.DRAFT else None,
        published_at=utcnow() if status == CycleStatus.CLOSED else None,
    )
    session.add(cycle)
    session.flush()
    return cycle


def make_invitation(session: Session, cycle: Cycle, member: Member) -> tuple[Invitation, str]:
    """An invitation with a fresh partner token: (invitation, token)."""
    invitation, _ = invitation_for(session, cycle, member)
    token = add_token(session, invitation)
    session.flush()
    return invitation, token


def answer(
    session: Session,
    invitation: Invitation,
    values: Mapping[str, int | str],
    submit: bool = True,
    comments: Mapping[str, str] | None = None,
) -> Invitation:
    """Record answers ({item code: 1..4, "DK" or "NA"}) directly, submitted by default."""
    questionnaire = Questionnaire.from_dict(invitation.cycle.content)
    for code, value in values.items():
        item = questionnaire.item(code)
        level = value if isinstance(value, int) else None
        special = None if isinstance(value, int) else value
        session.add(Answer(invitation=invitation, element_key=item.element_key, item_code=code,
                           level=level, special=special))
    for key, text in (comments or {}).items():
        session.add(Comment(invitation=invitation, element_key=key, text=text))
    now = utcnow()
    invitation.started_at = invitation.started_at or now
    invitation.updated_at = now
    if submit:
        invitation.status = InvitationStatus.SUBMITTED
        invitation.submitted_at = now
    else:
        invitation.status = InvitationStatus.IN_PROGRESS
    session.flush()
    return invitation


def element_answers(
    questionnaire: Questionnaire, key: str, value: int | str
) -> dict[str, int | str]:
    """The same answer to every item of one element."""
    return {item.code: value for item in questionnaire.element(key).items}


def all_answers(questionnaire: Questionnaire, value: int | str) -> dict[str, int | str]:
    """The same answer to every item of every element."""
    return {item.code: value for item in questionnaire.items}
