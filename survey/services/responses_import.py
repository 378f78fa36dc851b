"""Offline and paper answers: the long-format responses import (SPEC section 7).

All or nothing: every row is checked before anything is written. Imported respondents
count as submitted; importing the same file again replaces the answers it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from survey.models import (
    PARTNER_TYPE_LABELS,
    Answer,
    Board,
    Cycle,
    InvitationStatus,
    Member,
    Partnership,
    utcnow,
)
from survey.questionnaire import Questionnaire
from survey.services.boards import BoardIndex
from survey.services.invitations import invitation_for
from survey.services.rosters import (
    TEXT_MAX,
    PartnershipIndex,
    clean_text,
    looks_like_email,
    parse_partner_type,
    partnership_key,
)
from survey.services.tabular import ImportProblem, TableRow, row_number

RESPONSE_COLUMNS = (
    "cycle", "board", "partnership", "respondent", "partner_type", "element", "item", "score",
)
SPECIAL_SCORES = ("DK", "NA")


@dataclass(frozen=True)
class ResponsesImportSummary:
    """What a responses import did."""

    cycle: str
    respondents: int
    answers: int
    members_created: int
    partnerships_created: int

    def __str__(self) -> str:
        return (
            f"imported {self.answers} answers from {self.respondents} respondents into cycle "
            f"{self.cycle}: {self.members_created} joined a roster; "
            f"{self.partnerships_created} new partnerships"
        )


@dataclass
class _Respondent:
    board: Board
    partnership: str
    respondent: str
    partner_type: str
    answers: dict[str, tuple[str, int | None, str | None]] = field(default_factory=dict)


def import_responses(
    session: Session, rows: Sequence[TableRow], cycle: Cycle
) -> ResponsesImportSummary:
    """Import long-format answers into a cycle (open or closed) as submitted responses."""
    respondents = _validate(session, rows, cycle)
    partnerships = PartnershipIndex(session)
    now = utcnow()
    answers = members_created = 0
    for entry in respondents:
        partnership = partnerships.get_or_create(entry.board, entry.partnership, "")
        session.flush()
        member = _find_member(session, partnership, entry.respondent)
        if member is None:
            email = entry.respondent.lower() if looks_like_email(entry.respondent) else None
            member = Member(partnership=partnership, name=entry.respondent, email=email,
                            respondent_key=entry.respondent, partner_type=entry.partner_type)
            session.add(member)
            session.flush()
            members_created += 1
        invitation, _ = invitation_for(session, cycle, member)
        invitation.status = InvitationStatus.SUBMITTED
        invitation.source = "import"
        invitation.partner_type = entry.partner_type
        invitation.started_at = invitation.started_at or now
        invitation.submitted_at = invitation.submitted_at or now
        invitation.updated_at = now
        session.flush()
        session.execute(delete(Answer).where(
            Answer.invitation_id == invitation.id, Answer.item_code.in_(list(entry.answers))
        ))
        values = [
            {"invitation_id": invitation.id, "element_key": element, "item_code": code,
             "level": level, "special": special, "updated_at": now}
            for code, (element, level, special) in entry.answers.items()
            if level is not None or special is not None
        ]
        if values:
            session.execute(insert(Answer), values)
        answers += len(values)
    session.expire_all()
    return ResponsesImportSummary(cycle.name, len(respondents), answers, members_created,
                                  partnerships.created)


def _validate(session: Session, rows: Sequence[TableRow], cycle: Cycle) -> list[_Respondent]:
    questionnaire = Questionnaire.from_dict(cycle.content)
    items = {item.code: item for item in questionnaire.items}
    elements = {element.key for element in questionnaire.elements}
    levels = {str(level.value): level.value for level in questionnaire.scale.levels}
    boards = BoardIndex.load(session)
    problems: list[str] = []
    respondents: dict[tuple[int, str, str], _Respondent] = {}
    type_rows: dict[tuple[int, str, str], int] = {}
    item_rows: dict[tuple[int, str, str, str], int] = {}
    for index, row in enumerate(rows):
        number = row_number(row, index)
        reasons: list[str] = []
        cycle_name = (row.get("cycle") or "").strip()
        code = (row.get("board") or "").strip()
        partnership = clean_text(row.get("partnership"))
        respondent = (row.get("respondent") or "").strip()
        type_text = row.get("partner_type") or ""
        element = (row.get("element") or "").strip().lower()
        item_code = (row.get("item") or "").strip()
        score = (row.get("score") or "").strip()

        if cycle_name != cycle.name:
            reasons.append(f"cycle {cycle_name!r} is not the cycle being imported ({cycle.name})")
        board = boards.find(code) if code else None
        if board is None:
            reasons.append(f"unknown board {code!r}" if code else "empty board")
        if not partnership:
            reasons.append("empty partnership")
        elif len(partnership) > TEXT_MAX:
            reasons.append(f"partnership longer than {TEXT_MAX} characters")
        if not respondent:
            reasons.append("empty respondent")
        elif len(respondent) > TEXT_MAX:
            reasons.append(f"respondent longer than {TEXT_MAX} characters")
        partner_type = parse_partner_type(type_text)
        if partner_type is None:
            known = ", ".join(PARTNER_TYPE_LABELS)
            reasons.append(f"unknown partner type {type_text!r} (use one of {known})")
        item = items.get(item_code)
        if element not in elements:
            reasons.append(f"unknown element {element!r}")
        if item is None:
            reasons.append(f"unknown item {item_code!r}")
        elif element in elements and item.element_key != element:
            reasons.append(f"item {item_code} belongs to element {item.element_key}, not {element}")
        level: int | None = None
        special: str | None = None
        if score.upper() in SPECIAL_SCORES:
            special = score.upper()
        elif score in levels:
            level = levels[score]
        elif score:
            allowed = ", ".join(levels)
            reasons.append(f"score {score!r} is not one of {allowed}, DK, NA or empty")

        entry = None
        if board is not None and partnership and respondent:
            key = (*partnership_key(board, partnership), respondent.lower())
            entry = respondents.get(key)
            if entry is None and partner_type is not None:
                entry = respondents[key] = _Respondent(board, partnership, respondent, partner_type)
                type_rows[key] = number
            elif entry is not None and partner_type not in (None, entry.partner_type):
                reasons.append(
                    f"respondent {respondent} has two partner types: {entry.partner_type} "
                    f"(row {type_rows[key]}) and {partner_type}"
                )
            if item is not None:
                seen = item_rows.setdefault((*key, item.code), number)
                if seen != number:
                    reasons.append(
                        f"respondent {respondent} answers item {item.code} twice "
                        f"(rows {seen} and {number})"
                    )
        if reasons:
            problems.append(f"row {number}: {'; '.join(reasons)}")
        elif entry is not None and item is not None:
            entry.answers[item.code] = (item.element_key, level, special)
    if not rows:
        problems.append("the file holds no answers")
    if problems:
        raise ImportProblem(problems)
    return list(respondents.values())


def _find_member(session: Session, partnership: Partnership, respondent: str) -> Member | None:
    """The roster member a respondent identifier names: by email, else by respondent key."""
    if partnership.id is None:
        return None
    lowered = respondent.lower()
    matches = list(session.execute(
        select(Member).where(
            Member.partnership_id == partnership.id,
            or_(func.lower(Member.email) == lowered, func.lower(Member.respondent_key) == lowered),
        ).order_by(Member.email.is_(None), Member.id)
    ).scalars())
    return matches[0] if matches else None
