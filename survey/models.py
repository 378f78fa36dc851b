"""The data model: boards, partnerships, members, cycles, invitations and answers."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reports.results import PARTNER_TYPE_LABELS
from survey.db import Base


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC (a callable default, evaluated per row)."""
    return dt.datetime.now(dt.UTC)


class PartnerType(enum.StrEnum):
    """The partner types of SPEC section 5, stored by value."""

    BUSINESS = "business"
    WORKFORCE = "workforce"
    EDUCATION = "education"
    ECONOMIC_DEVELOPMENT = "economic_development"
    LABOR = "labor"
    COMMUNITY = "community"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The human label shown on screens and in exports."""
        return PARTNER_TYPE_LABELS[self]


class BoardStatus(enum.StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"
    MERGED = "merged"


class CycleStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class InvitationStatus(enum.StrEnum):
    """Where a member's response stands; only SUBMITTED counts in the figures."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class Role(enum.StrEnum):
    ADMIN = "admin"
    STATE = "state"
    BOARD = "board"


class Board(Base):
    """A local workforce development board."""

    __tablename__ = "boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=BoardStatus.ACTIVE)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    partnerships: Mapped[list[Partnership]] = relationship(back_populates="board")
    merged_into: Mapped[Board | None] = relationship(remote_side=[id])

    @property
    def is_active(self) -> bool:
        return self.status == BoardStatus.ACTIVE


class Partnership(Base):
    """An industry-led sector partnership convened by a lead board (`board`), with other
    participating boards (`shared_with`, SPEC 16). `sector` is a name from the sector
    list (survey/sectors.py), or free text from before the list, left for an
    administrator to map (/admin/sectors)."""

    __tablename__ = "partnerships"
    __table_args__ = (UniqueConstraint("board_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    board: Mapped[Board] = relationship(back_populates="partnerships")
    members: Mapped[list[Member]] = relationship(back_populates="partnership")
    shared_with: Mapped[list[Board]] = relationship(
        secondary="partnership_boards", order_by="Board.code", viewonly=True)


class PartnershipBoard(Base):
    """A board that takes part in a partnership another board leads (SPEC 16)."""

    __tablename__ = "partnership_boards"
    __table_args__ = (UniqueConstraint("partnership_id", "board_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)


class Member(Base):
    """A partner on a partnership's roster.

    `email` identifies roster members; `respondent_key` identifies respondents that
    arrived through a responses import under an identifier that is not an email.
    """

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("partnership_id", "email"),
        UniqueConstraint("partnership_id", "respondent_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    organization: Mapped[str] = mapped_column(String(200), default="")
    partner_type: Mapped[str] = mapped_column(String(30))
    respondent_key: Mapped[str | None] = mapped_column(String(200))
    # The partner's language for pages and emails ("en", "es"); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    partnership: Mapped[Partnership] = relationship(back_populates="members")


class Cycle(Base):
    """An assessment cycle, with the questionnaire content in force when it opened."""

    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    opens_on: Mapped[dt.date] = mapped_column(Date)
    closes_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=CycleStatus.DRAFT)
    # The questionnaire snapshot (Questionnaire.to_dict()) and its hash; set when the
    # cycle is created and refreshed when it opens, frozen from then on.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when the cycle first closes: from then on board leads see its results (SPEC 4a
    # rule 4), and a reopened cycle stays published.
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped in the same transaction as any change to what the cycle's figures are drawn
    # from (submitted answers, statuses, participations): an O(1) cache key.
    results_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def accepts_answers(self, today: dt.date) -> bool:
        """True while partners may answer: opened, on or after the opening date and not past
        the closing date (`today` is the date where the boards are, SURVEY_TIMEZONE:
        survey.config.site_today())."""
        return self.status == CycleStatus.OPEN and self.opens_on <= today <= self.closes_on

    def not_yet_open(self, today: dt.date) -> bool:
        """True before the opening date (or while a draft): links say when to come back."""
        return self.status == CycleStatus.DRAFT or today < self.opens_on


class Participation(Base):
    """A partnership's place in one cycle, with its board as it stood in that cycle."""

    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("cycle_id", "partnership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    board_code: Mapped[str] = mapped_column(String(20))
    board_name: Mapped[str] = mapped_column(String(200))
    partnership_name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(200), default="")
    # The participating boards besides the lead board, as they stood in the cycle:
    # board codes separated by spaces (SPEC 16).
    also_boards: Mapped[str] = mapped_column(String(400), default="", server_default="")

    cycle: Mapped[Cycle] = relationship()
    partnership: Mapped[Partnership] = relationship()
    board: Mapped[Board] = relationship()


class Invitation(Base):
    """One member's invitation to, and response in, one cycle (one per cycle and member)."""

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("cycle_id", "member_id"),
        CheckConstraint(
            "status IN ('not_started', 'in_progress', 'submitted')", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    participation_id: Mapped[int] = mapped_column(ForeignKey("participations.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=InvitationStatus.NOT_STARTED)
    # The member's partner type when they answered (members may change type later).
    partner_type: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(10), default="web")
    # The language the partner chose with the switch on their pages (kept for the link).
    language: Mapped[str | None] = mapped_column(String(5))
    invited_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    emailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    cycle: Mapped[Cycle] = relationship()
    member: Mapped[Member] = relationship()
    participation: Mapped[Participation] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan"
    )
    comments: Mapped[list[Comment]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan"
    )
    tokens: Mapped[list[InvitationToken]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan"
    )


class InvitationToken(Base):
    """A partner link for an invitation, stored as the sha256 of its token.

    Every printed or emailed link gets a fresh token (the token itself is never stored,
    so it cannot be shown again); earlier links keep working until revoked.
    """

    __tablename__ = "invitation_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    invitation: Mapped[Invitation] = relationship(back_populates="tokens")


class Answer(Base):
    """One answer to one item: a level, or "don't know" / "not applicable" (no score)."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("invitation_id", "item_code"),
        CheckConstraint(
            "(level IS NULL AND special IN ('DK', 'NA')) "
            "OR (level IS NOT NULL AND special IS NULL)",
            name="level_or_special",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    element_key: Mapped[str] = mapped_column(String(20))
    item_code: Mapped[str] = mapped_column(String(50))
    level: Mapped[int | None] = mapped_column(SmallInteger)
    special: Mapped[str | None] = mapped_column(String(2))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    invitation: Mapped[Invitation] = relationship(back_populates="answers")

    @property
    def value(self) -> str:
        """The answer as written in the import format: "1".."4", "DK" or "NA"."""
        return str(self.level) if self.level is not None else str(self.special)


class Comment(Base):
    """A respondent's optional comment on one element (evidence or examples)."""

    __tablename__ = "comments"
    __table_args__ = (UniqueConstraint("invitation_id", "element_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    element_key: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)

    invitation: Mapped[Invitation] = relationship(back_populates="comments")


class User(Base):
    """A staff account: administrator, state staff, or a board lead bound to one board."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'state', 'board')", name="role_known"),
        CheckConstraint("role <> 'board' OR board_id IS NOT NULL", name="board_lead_has_board"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(10))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id"))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped on password change/reset so that other sessions of this user end.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    board: Mapped[Board | None] = relationship()


class PlanStatus(enum.StrEnum):
    """Where an action-plan entry stands (SPEC section 11)."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class PlanEntry(Base):
    """A partnership's action plan for one element in one cycle (SPEC section 11)."""

    __tablename__ = "plan_entries"
    __table_args__ = (
        UniqueConstraint("partnership_id", "cycle_id", "element_key"),
        CheckConstraint(
            "status IN ('planned', 'in_progress', 'done', 'dropped')", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    element_key: Mapped[str] = mapped_column(String(20))
    priority: Mapped[bool] = mapped_column(default=False)
    goal: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=PlanStatus.PLANNED)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(320), default="")

    partnership: Mapped[Partnership] = relationship()
    cycle: Mapped[Cycle] = relationship()
    changes: Mapped[list[PlanChange]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="PlanChange.id"
    )


class PlanChange(Base):
    """Who changed a plan entry, when, and what (field -> [before, after])."""

    __tablename__ = "plan_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_entry_id: Mapped[int] = mapped_column(
        ForeignKey("plan_entries.id", ondelete="CASCADE"), index=True
    )
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(320))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)

    entry: Mapped[PlanEntry] = relationship(back_populates="changes")


class AuditEvent(Base):
    """One administrative action: who, when, what (SPEC section 14)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))  # a staff email, or "cli:<os user>"
    action: Mapped[str] = mapped_column(String(60))  # e.g. "cycle.close"
    target: Mapped[str] = mapped_column(String(300), default="")  # e.g. "cycle 2026"
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LoginThrottle(Base):
    """Failed sign-ins per key (an account and address pair, or an address), shared by
    every process: the slow-down state of SPEC section 14's login limits."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class StaffSession(Base):
    """A signed-in staff session, kept server-side so that logout really ends it."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class Release(Base):
    """One published, immutable, numbered snapshot of a cycle's results (SPEC 4b).

    `payload` is the zlib-compressed JSON of the state-wide results as every non-steward
    output shows them (reports.codec); `basis` the same of each submitted respondent's
    fingerprint at publishing (survey.releases: what a later revision is compared with).
    """

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("cycle_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    author: Mapped[str] = mapped_column(String(320))  # a staff email, or "cli:<os user>"
    note: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(80))  # the cycle's questionnaire
    figures_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the payload's JSON
    results_version: Mapped[int] = mapped_column(Integer)  # the cycle's, when published
    held_back: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # why, how many
    # read only when needed: a page asks for the release row on every request
    payload: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    basis: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class ReleasePart(Base):
    """One board's results of a release, stored apart (as survey.releases.board_view
    cuts them from the state's): a board's page reads its part only, at any state size."""

    __tablename__ = "release_parts"
    __table_args__ = (UniqueConstraint("release_id", "board_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"),
                                            index=True)
    board_code: Mapped[str] = mapped_column(String(20))
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class SecondFactor(Base):
    """A staff account's TOTP second factor (SPEC 17); one per account."""

    __tablename__ = "second_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(String(64))  # base32, as authenticator apps take it
    confirmed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The last time step whose code was accepted: a code works once.
    last_step: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """One of an account's one-use recovery codes, stored as a hash (SPEC 17)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A staff user's named token for /api/v1/, stored as the sha256 of the token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The rate limit's current window and the calls made in it, shared by every process.
    window_started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    window_calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    user: Mapped[User] = relationship()


class BoardTarget(Base):
    """A sector that a board's regional economic development strategy targets (SPEC 16)."""

    __tablename__ = "board_targets"
    __table_args__ = (UniqueConstraint("board_id", "sector_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    sector_code: Mapped[str] = mapped_column(String(20))

    board: Mapped[Board] = relationship()


class OutcomeValue(Base):
    """One outcome measure of one partnership in one cycle (SPEC 16): a figure about the
    partnership, not anyone's answers. `value` is None where the provider suppressed it."""

    __tablename__ = "outcome_values"
    __table_args__ = (UniqueConstraint("partnership_id", "cycle_id", "measure_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    measure_key: Mapped[str] = mapped_column(String(40))
    value: Mapped[float | None] = mapped_column(Float)
    suppressed: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(320), default="")

    partnership: Mapped[Partnership] = relationship()
    cycle: Mapped[Cycle] = relationship()
