"""Partner links and invitations: tokens, participation snapshots, issuing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from survey.models import (
    Board,
    BoardStatus,
    Cycle,
    Invitation,
    InvitationStatus,
    InvitationToken,
    Member,
    Participation,
    Partnership,
    PartnershipBoard,
    utcnow,
)
from survey.scoring.cycles import bump_results_version
from survey.services.partnerships import also_board_codes

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
            also_boards=also_board_codes(session, [partnership.id]).get(partnership.id, ""),
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


def create_missing_invitations(session: Session, cycle: Cycle,
                               board_code: str | None = None) -> int:
    """Invite every invitable member (optionally of one board) who has no invitation yet.

    Set-based: one INSERT ... SELECT for the partnerships' participations (snapshotting
    board and names) and one for the invitations, whatever the roster's size (40,000
    members take two statements, not 120,000 round trips). Returns how many were new.
    """
    session.flush()
    parts, members = Participation.__table__, Member.__table__
    partnerships, boards = Partnership.__table__, Board.__table__
    invitations = Invitation.__table__
    where = [partnerships.c.active, boards.c.status == BoardStatus.ACTIVE.value]
    if board_code is not None:
        where.append(boards.c.code == board_code)
    has_member = (select(members.c.id).where(members.c.partnership_id == partnerships.c.id,
                                            members.c.active).exists())
    has_participation = (select(parts.c.id).where(parts.c.cycle_id == cycle.id,
                                                 parts.c.partnership_id == partnerships.c.id)
                         .exists())
    session.execute(insert(parts).from_select(
        ["cycle_id", "partnership_id", "board_id", "board_code", "board_name",
         "partnership_name", "sector"],
        select(literal(cycle.id, parts.c.cycle_id.type), partnerships.c.id, boards.c.id,
               boards.c.code, boards.c.name, partnerships.c.name, partnerships.c.sector)
        .join_from(partnerships, boards, boards.c.id == partnerships.c.board_id)
        .where(*where, has_member, ~has_participation)))
    _snapshot_shared_boards(session, cycle)
    has_invitation = (select(invitations.c.id).where(invitations.c.cycle_id == cycle.id,
                                                     invitations.c.member_id == members.c.id)
                      .exists())
    invited = (select(func.count()).select_from(invitations)
               .where(invitations.c.cycle_id == cycle.id))
    before = session.execute(invited).scalar_one()
    session.execute(insert(invitations).from_select(
        ["cycle_id", "member_id", "participation_id", "partner_type", "status", "source",
         "invited_at"],
        select(literal(cycle.id, invitations.c.cycle_id.type), members.c.id, parts.c.id,
               members.c.partner_type,
               literal(InvitationStatus.NOT_STARTED.value, invitations.c.status.type),
               literal("web", invitations.c.source.type),
               literal(utcnow(), invitations.c.invited_at.type))
        .join_from(members, partnerships, partnerships.c.id == members.c.partnership_id)
        .join(boards, boards.c.id == partnerships.c.board_id)
        .join(parts, (parts.c.partnership_id == partnerships.c.id) & (parts.c.cycle_id == cycle.id))
        .where(members.c.active, *where, ~has_invitation)))
    # Counted, not rowcount: psycopg reports -1 for INSERT ... SELECT through SQLAlchemy.
    created = session.execute(invited).scalar_one() - before
    if created:
        bump_results_version(session, [cycle.id])
    session.expire_all()  # Core writes: collections loaded before must be read again
    return created


def _snapshot_shared_boards(session: Session, cycle: Cycle) -> None:
    """Give the cycle's new participations of shared partnerships their participating
    boards (a handful of rows: only partnerships that span boards)."""
    shared = also_board_codes(session, session.execute(
        select(PartnershipBoard.partnership_id).distinct()).scalars())
    if not shared:
        return
    parts = Participation.__table__
    session.execute(update(parts).where(
        parts.c.cycle_id == cycle.id, parts.c.partnership_id == bindparam("b_partnership"),
        parts.c.also_boards == "").values(also_boards=bindparam("b_codes")),
        [{"b_partnership": pid, "b_codes": codes} for pid, codes in shared.items()])


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
    if board_code is not None:  # its own partnerships and those shared with it (SPEC 16)
        query = query.where(or_(Board.code == board_code,
                                Partnership.id.in_(shared_with_board(board_code))))
    return list(session.execute(query).scalars())


def shared_with_board(board_code: str) -> Select[tuple[int]]:
    """The ids of partnerships that another board leads and shares with this board."""
    return (select(PartnershipBoard.partnership_id)
            .join(Board, Board.id == PartnershipBoard.board_id).where(Board.code == board_code))


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
