"""Partner links and invitations: tokens, participation snapshots, issuing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import (
    Board,
    BoardStatus,
    Cycle,
    Invitation,
    InvitationToken,
    Member,
    Participation,
    Partnership,
)

TOKEN_BYTES = 24  # 192 random bits


def hash_token(token: str) -> str:
    """The stored form of a partner token (sha256 hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_token(session: Session, invitation: Invitation) -> str:
    """Give an invitation a fresh link token; return the token (shown once, never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(InvitationToken(invitation=invitation, token_hash=hash_token(token)))
    return token


def find_invitation(session: Session, token: str) -> Invitation | None:
    """The invitation a partner token opens, or None for an unknown or revoked token."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    row = session.execute(
        select(InvitationToken).where(
            InvitationToken.token_hash == digest, InvitationToken.revoked_at.is_(None)
        )
    ).scalar_one_or_none()
    # The lookup is by digest; compare again in constant time so a timing difference
    # in the index could never reveal how much of a digest matched.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row.invitation


def participation_for(session: Session, cycle: Cycle, partnership: Partnership) -> Participation:
    """The partnership's participation in a cycle, snapshotting its board on first use."""
    participation = session.execute(
        select(Participation).where(
            Participation.cycle_id == cycle.id, Participation.partnership_id == partnership.id
        )
    ).scalar_one_or_none()
    if participation is None:
        board = partnership.board
        participation = Participation(
            cycle=cycle, partnership=partnership, board=board, board_code=board.code,
            board_name=board.name, partnership_name=partnership.name, sector=partnership.sector,
        )
        session.add(participation)
        session.flush()
    return participation


def invitation_for(session: Session, cycle: Cycle, member: Member) -> tuple[Invitation, bool]:
    """The member's invitation to a cycle, created when missing; (invitation, created)."""
    invitation = session.execute(
        select(Invitation).where(Invitation.cycle_id == cycle.id, Invitation.member_id == member.id)
    ).scalar_one_or_none()
    if invitation is not None:
        return invitation, False
    invitation = Invitation(
        cycle=cycle,
        member=member,
        participation=participation_for(session, cycle, member.partnership),
        partner_type=member.partner_type,
    )
    session.add(invitation)
    session.flush()
    return invitation, True


@dataclass(frozen=True)
class IssuedLink:
    """An invitation with a freshly issued token."""

    invitation: Invitation
    token: str


def invitable_members(session: Session, board_code: str | None = None) -> list[Member]:
    """Active members of active partnerships of active boards, optionally of one board."""
    query = (
        select(Member)
        .join(Member.partnership)
        .join(Partnership.board)
        .where(Member.active, Partnership.active, Board.status == BoardStatus.ACTIVE)
        .order_by(Board.code, Partnership.name, Member.name, Member.id)
    )
    if board_code is not None:
        query = query.where(Board.code == board_code)
    return list(session.execute(query).scalars())


def issue_invitations(
    session: Session, cycle: Cycle, board_code: str | None = None
) -> list[IssuedLink]:
    """Invite every invitable member (optionally of one board) and issue each a fresh link."""
    links = []
    for member in invitable_members(session, board_code):
        invitation, _ = invitation_for(session, cycle, member)
        links.append(IssuedLink(invitation, add_token(session, invitation)))
    session.flush()
    return links


def partner_url(base_url: str, token: str) -> str:
    """The address printed in a partner's link."""
    return f"{base_url.rstrip('/')}/s/{token}"
