"""Offline and paper answers: the long-format responses import (SPEC section 7).

All or nothing: every row is checked in one streaming pass before anything is written
(`check_responses`, reads only, so a web view can run it before taking the write lock),
then `write_responses` writes with a handful of set-based SQLAlchemy Core statements:
partnerships, members, participations and invitations for the whole file, answers
streamed (COPY on PostgreSQL, executemany in chunks elsewhere). Imported respondents
count as submitted; importing the same file again replaces the answers it holds.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from survey.models import (
    PARTNER_TYPE_LABELS,
    Answer,
    Board,
    Cycle,
    Invitation,
    InvitationStatus,
    Member,
    Participation,
    Partnership,
    utcnow,
)
from survey.questionnaire import Questionnaire
from survey.scoring.cycles import bump_results_version
from survey.services import audit
from survey.services.boards import BoardIndex
from survey.services.bulk import chunks, insert_rows
from survey.services.partnerships import also_board_codes
from survey.services.rosters import (
    TEXT_MAX,
    clean_text,
    control_problems,
    ensure_partnerships,
    looks_like_email,
    parse_partner_type,
)
from survey.services.tabular import Problems, TableRow, row_number

RESPONSE_COLUMNS = (
    "cycle", "board", "partnership", "respondent", "partner_type", "element", "item", "score",
)
SPECIAL_SCORES = ("DK", "NA")

Value = tuple[str, int | None, str | None]  # element key, level, special ("DK"/"NA")


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
    """One respondent's answers, compact: memory grows by a few bytes per answer.

    `values[i]` is 0 when item i (in questionnaire order) is not in the file, else one
    plus the index of its (element, level, special) in the plan's value table;
    `rows[i]` is the file row that answered it.
    """

    board_id: int
    partnership: str
    respondent: str
    partner_type: str
    values: array[int]
    rows: array[int]


@dataclass(frozen=True)
class ResponsesPlan:
    """A checked responses file: what to write into which cycle, nothing written yet."""

    cycle_id: int
    cycle_name: str
    respondents: list[_Respondent]
    item_codes: list[str]  # questionnaire order: _Respondent.values[i] answers item_codes[i]
    value_table: list[Value]

    @property
    def answers(self) -> int:
        """How many answers the file holds (empty scores included)."""
        return sum(len(r.values) - r.values.count(0) for r in self.respondents)


def import_responses(
    session: Session, rows: Iterable[TableRow], cycle: Cycle
) -> ResponsesImportSummary:
    """Import long-format answers into a cycle (open or closed) as submitted responses."""
    return write_responses(session, check_responses(session, rows, cycle))


def check_responses(session: Session, rows: Iterable[TableRow], cycle: Cycle) -> ResponsesPlan:
    """Check every row in one pass (reads only); ImportProblem lists every bad row."""
    checker = _Checker(session, cycle)
    for index, row in enumerate(rows):
        checker.check(row_number(row, index), row)
    if not checker.respondents and not checker.problems:
        checker.problems.append("the file holds no answers")
    checker.problems.raise_any()
    return ResponsesPlan(cycle.id, cycle.name, list(checker.respondents.values()),
                         checker.item_codes, checker.value_table)


@dataclass(frozen=True)
class _Who:
    """Who answered, as a row names them, checked once per distinct spelling."""

    key: tuple[int, str, str] | None  # (board id, partnership, respondent) lower-cased
    board_id: int | None
    partnership: str
    respondent: str
    partner_type: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _What:
    """Which item and score a row gives, checked once per distinct (element, item, score)."""

    item_index: int | None
    item_code: str
    value: int  # 1 + the index in the plan's value table; 0 when the row is bad
    reasons: tuple[str, ...]


class _Checker:
    """One row at a time, with what was seen so far (answers, partner types).

    The columns that say who answered and what they answered repeat across rows, so
    each distinct combination is checked once and cached; only the cycle column, the
    partner-type consistency and duplicate items are looked at on every row.
    """

    def __init__(self, session: Session, cycle: Cycle) -> None:
        questionnaire = Questionnaire.from_dict(cycle.content)
        self.cycle_name = cycle.name
        self.items = {item.code: item for item in questionnaire.items}
        self.item_codes = [item.code for item in questionnaire.items]
        self.item_index = {code: index for index, code in enumerate(self.item_codes)}
        self.value_table: list[Value] = []
        self.elements = {element.key for element in questionnaire.elements}
        self.levels = {str(level.value): level.value for level in questionnaire.scale.levels}
        self.boards = BoardIndex.load(session)
        self.problems = Problems()
        self.respondents: dict[tuple[int, str, str], _Respondent] = {}
        self.type_rows: dict[tuple[int, str, str], int] = {}
        self._values: dict[Value, int] = {}  # value -> 1 + its index in value_table
        self._who: dict[tuple[str, str, str, str], _Who] = {}
        self._what: dict[tuple[str, str, str], _What] = {}

    def who(self, code: str, raw_partnership: str, respondent: str, type_text: str) -> _Who:
        reasons = []
        board = self.boards.find(code) if code else None
        if board is None:
            reasons.append(f"unknown board {code!r}" if code else "empty board")
        partnership = clean_text(raw_partnership)
        if not partnership:
            reasons.append("empty partnership")
        elif len(partnership) > TEXT_MAX:
            reasons.append(f"partnership longer than {TEXT_MAX} characters")
        if not respondent:
            reasons.append("empty respondent")
        elif len(respondent) > TEXT_MAX:
            reasons.append(f"respondent longer than {TEXT_MAX} characters")
        else:
            reasons += control_problems("respondent", respondent)
        partner_type = parse_partner_type(type_text)
        if partner_type is None:
            known = ", ".join(PARTNER_TYPE_LABELS)
            reasons.append(f"unknown partner type {type_text!r} (use one of {known})")
        key = None
        if board is not None and partnership and respondent:
            key = (board.id, partnership.lower(), respondent.lower())
        return _Who(key, board.id if board else None, partnership, respondent, partner_type,
                    tuple(reasons))

    def what(self, element: str, item_code: str, score: str) -> _What:
        reasons = []
        item = self.items.get(item_code)
        if element not in self.elements:
            reasons.append(f"unknown element {element!r}")
        if item is None:
            reasons.append(f"unknown item {item_code!r}")
        elif element in self.elements and item.element_key != element:
            reasons.append(f"item {item_code} belongs to element {item.element_key}, not {element}")
        level: int | None = None
        special: str | None = None
        if score.upper() in SPECIAL_SCORES:
            special = score.upper()
        elif score in self.levels:
            level = self.levels[score]
        elif score:
            allowed = ", ".join(self.levels)
            reasons.append(f"score {score!r} is not one of {allowed}, DK, NA or empty")
        value = 0
        if item is not None and not reasons:
            triple = (item.element_key, level, special)
            if triple not in self._values:
                self.value_table.append(triple)
                self._values[triple] = len(self.value_table)
            value = self._values[triple]
        return _What(self.item_index[item.code] if item else None, item_code, value,
                     tuple(reasons))

    def check(self, number: int, row: TableRow) -> None:
        get = row.get
        who_key = (get("board") or "", get("partnership") or "", get("respondent") or "",
                   get("partner_type") or "")
        who = self._who.get(who_key)
        if who is None:
            who = self._who[who_key] = self.who(*who_key)
        what_key = ((get("element") or "").lower(), get("item") or "", get("score") or "")
        what = self._what.get(what_key)
        if what is None:
            what = self._what[what_key] = self.what(*what_key)

        reasons: list[str] = []
        cycle_name = get("cycle") or ""
        if cycle_name != self.cycle_name:
            reasons.append(f"cycle {cycle_name!r} is not the cycle being imported "
                           f"({self.cycle_name})")
        reasons += who.reasons
        reasons += what.reasons
        entry = None
        if who.key is not None:
            entry = self.respondents.get(who.key)
            if entry is None and who.partner_type is not None:
                assert who.board_id is not None
                size = len(self.item_codes)
                entry = self.respondents[who.key] = _Respondent(
                    who.board_id, who.partnership, who.respondent, who.partner_type,
                    array("H", bytes(2 * size)), array("I", bytes(4 * size)))
                self.type_rows[who.key] = number
            elif entry is not None and who.partner_type not in (None, entry.partner_type):
                reasons.append(
                    f"respondent {who.respondent} has two partner types: {entry.partner_type} "
                    f"(row {self.type_rows[who.key]}) and {who.partner_type}"
                )
            index = what.item_index
            if entry is not None and index is not None and entry.values[index]:
                reasons.append(f"respondent {who.respondent} answers item {what.item_code} "
                               f"twice (rows {entry.rows[index]} and {number})")
        if reasons:
            self.problems.append(f"row {number}: {'; '.join(reasons)}")
        elif entry is not None and what.item_index is not None:
            entry.values[what.item_index], entry.rows[what.item_index] = what.value, number


def write_responses(session: Session, plan: ResponsesPlan) -> ResponsesImportSummary:
    """Write a checked file: set-based statements, answers in chunks; bumps the cycle's
    results version and records the import in the audit log, in the caller's transaction."""
    now = utcnow()
    partnerships, partnerships_created = ensure_partnerships(
        session, {(r.board_id, r.partnership): "" for r in plan.respondents})
    partnership_of = [partnerships[r.board_id, r.partnership.lower()] for r in plan.respondents]
    members, members_created = _ensure_members(session, plan.respondents, partnership_of, now)
    participations = _ensure_participations(session, plan.cycle_id, sorted(set(partnership_of)))
    invitations, fresh = _ensure_invitations(
        session, plan, members, [participations[p] for p in partnership_of], now)
    answers = _replace_answers(session, plan, invitations, fresh, now)
    bump_results_version(session, [plan.cycle_id])
    audit.record(session, "responses.import", f"cycle {plan.cycle_name}",
                 respondents=len(plan.respondents), answers=answers,
                 members_created=members_created, partnerships_created=partnerships_created)
    session.expire_all()  # Core writes: ORM objects loaded before must be read again
    return ResponsesImportSummary(plan.cycle_name, len(plan.respondents), answers,
                                  members_created, partnerships_created)


def _member_index(session: Session, partnership_ids: Sequence[int]) -> dict[tuple[int, str], int]:
    """Member ids by (partnership, lower-cased email or respondent key); email wins."""
    table = Member.__table__
    by_email: dict[tuple[int, str], int] = {}
    by_key: dict[tuple[int, str], int] = {}
    for chunk in chunks(partnership_ids):
        query = (select(table.c.id, table.c.partnership_id, func.lower(table.c.email),
                        func.lower(table.c.respondent_key))
                 .where(table.c.partnership_id.in_(chunk)).order_by(table.c.id))
        for member_id, partnership_id, email, key in session.execute(query):
            if email:
                by_email.setdefault((partnership_id, email), member_id)
            if key:
                by_key.setdefault((partnership_id, key), member_id)
    return {**by_key, **by_email}


def _ensure_members(
    session: Session, respondents: Sequence[_Respondent], partnership_of: Sequence[int],
    now: Any,
) -> tuple[list[int], int]:
    """Each respondent's member id (a roster member by email or key, else a new member)."""
    ids = sorted(set(partnership_of))
    index = _member_index(session, ids)
    new = []
    for respondent, partnership_id in zip(respondents, partnership_of, strict=True):
        if (partnership_id, respondent.respondent.lower()) not in index:
            email = respondent.respondent.lower() if looks_like_email(respondent.respondent) \
                else None
            new.append({"partnership_id": partnership_id, "name": respondent.respondent,
                        "email": email, "respondent_key": respondent.respondent,
                        "partner_type": respondent.partner_type, "organization": "",
                        "active": True, "created_at": now})
    if new:
        session.execute(insert(Member.__table__), new)
        index = _member_index(session, ids)
    return [index[p, r.respondent.lower()] for r, p in zip(respondents, partnership_of,
                                                           strict=True)], len(new)


def _ensure_participations(session: Session, cycle_id: int,
                           partnership_ids: Sequence[int]) -> dict[int, int]:
    """Participation ids by partnership, snapshotting board and names for new ones."""
    table = Participation.__table__

    def known() -> dict[int, int]:
        found = {}
        for chunk in chunks(partnership_ids):
            found.update(session.execute(
                select(table.c.partnership_id, table.c.id)
                .where(table.c.cycle_id == cycle_id, table.c.partnership_id.in_(chunk))).all())
        return found

    found = known()
    missing = [p for p in partnership_ids if p not in found]
    if not missing:
        return found
    new = []
    also = also_board_codes(session, missing)
    for chunk in chunks(missing):
        query = (select(Partnership.id, Partnership.name, Partnership.sector, Board.id,
                        Board.code, Board.name)
                 .join(Board, Board.id == Partnership.board_id).where(Partnership.id.in_(chunk)))
        for p_id, p_name, sector, b_id, b_code, b_name in session.execute(query):
            new.append({"cycle_id": cycle_id, "partnership_id": p_id, "board_id": b_id,
                        "board_code": b_code, "board_name": b_name, "partnership_name": p_name,
                        "sector": sector, "also_boards": also.get(p_id, "")})
    session.execute(insert(table), new)
    return known()


def _ensure_invitations(
    session: Session, plan: ResponsesPlan, member_ids: Sequence[int],
    participation_ids: Sequence[int], now: Any,
) -> tuple[list[int], set[int]]:
    """Each respondent's invitation id, marked submitted by import; and the new ones' ids."""
    table = Invitation.__table__

    def known() -> dict[int, int]:
        found = {}
        for chunk in chunks(sorted(set(member_ids))):
            found.update(session.execute(
                select(table.c.member_id, table.c.id)
                .where(table.c.cycle_id == plan.cycle_id, table.c.member_id.in_(chunk))).all())
        return found

    found = known()
    new, changed = [], []
    for respondent, member_id, participation_id in zip(plan.respondents, member_ids,
                                                       participation_ids, strict=True):
        if member_id in found:
            changed.append({"b_id": found[member_id], "b_type": respondent.partner_type})
        else:
            new.append({"cycle_id": plan.cycle_id, "member_id": member_id,
                        "participation_id": participation_id,
                        "status": InvitationStatus.SUBMITTED.value, "source": "import",
                        "partner_type": respondent.partner_type, "invited_at": now,
                        "started_at": now, "updated_at": now, "submitted_at": now})
    if changed:
        session.execute(
            update(table).where(table.c.id == bindparam("b_id")).values(
                status=InvitationStatus.SUBMITTED.value, source="import",
                partner_type=bindparam("b_type"), updated_at=now,
                started_at=func.coalesce(table.c.started_at, now),
                submitted_at=func.coalesce(table.c.submitted_at, now)),
            changed)
    if new:
        session.execute(insert(table), new)
        existing = set(found.values())
        found = known()
        fresh = set(found.values()) - existing
    else:
        fresh = set()
    return [found[m] for m in member_ids], fresh


def _replace_answers(session: Session, plan: ResponsesPlan, invitation_ids: Sequence[int],
                     fresh: set[int], now: Any) -> int:
    """Delete the answers the file holds for existing invitations, insert the new ones."""
    table = Answer.__table__
    codes = plan.item_codes
    by_items: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for respondent, invitation_id in zip(plan.respondents, invitation_ids, strict=True):
        if invitation_id not in fresh:
            held = tuple(codes[i] for i, value in enumerate(respondent.values) if value)
            by_items[held].append(invitation_id)
    for items, ids in by_items.items():
        for chunk in chunks(ids, 500):
            session.execute(delete(table).where(table.c.invitation_id.in_(chunk),
                                                table.c.item_code.in_(items)))
    columns = ("invitation_id", "element_key", "item_code", "level", "special")
    return insert_rows(session.connection(), table, columns, _answer_rows(plan, invitation_ids),
                       "updated_at", now)


AnswerRow = tuple[int, str, str, int | None, str | None]


def _answer_rows(plan: ResponsesPlan, invitation_ids: Sequence[int]) -> Iterator[AnswerRow]:
    """(invitation id, element, item, level, special) of every answer to store."""
    codes, values = plan.item_codes, plan.value_table
    for respondent, invitation_id in zip(plan.respondents, invitation_ids, strict=True):
        for index, value in enumerate(respondent.values):
            if not value:
                continue
            element, level, special = values[value - 1]
            if level is None and special is None:
                continue  # an empty score: unanswered (any earlier answer is deleted above)
            yield invitation_id, element, codes[index], level, special
