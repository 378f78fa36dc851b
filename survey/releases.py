"""Published releases (SPEC 4b): the one results service every output asks.

A release is an immutable, numbered snapshot of one cycle's results as any non-steward
output shows them, computed once through the gate (survey.scoring applies SPEC 4a) and
stored in `releases` as JSON (reports.codec). Board leads, partners, board workbooks,
PDFs and plan suggestions read the cycle's current release (or release N); stewards
read it too by default, and may ask for the live figures, marked `provisional`.

    publish_first(session, cycle, author)      # at the first close: release 1
    publish_missing(session)                   # `survey init`: release 1 of old cycles
    stored = current(session, cycle)           # the newest Release row, or None
    results = release_results(session, stored, board_code)   # a CycleResults of it
    pending = pending_changes(session, cycle)  # responses changed since the release

Revisions (release 2 and on) are published by survey.services.revisions after the
differencing rule of SPEC 4b.3.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import threading
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import cachetools
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reports import codec
from reports.results import STATE_SCOPE, CycleResults, ReleaseStamp, ScopeResult
from survey.models import (
    Answer,
    Comment,
    Cycle,
    Invitation,
    InvitationStatus,
    Participation,
    ReleasePart,
)
from survey.models import Release as ReleaseRow

FIRST_NOTE = "first publication, at the close"
UPGRADE_NOTE = "first publication, at the upgrade (data as it stood then)"
_CONTENT_SLOTS = 8  # decoded releases kept per process (immutable: never stale)


@dataclass(frozen=True)
class ReleaseContent:
    """What a release stores: the state-wide results, and each board's own sectors
    (a board's sector figures are over that board's partnerships only)."""

    results: CycleResults
    board_sectors: dict[str, tuple[ScopeResult, ...]]


@dataclass(frozen=True)
class Respondent:
    """One submitted respondent as a release saw them: where they stood, and digests of
    their element scores, of their answers per element and of their comments, to tell
    whose contribution to a figure changed since (SPEC 4b.3)."""

    partnership_id: int
    board_code: str
    sector: str
    partner_type: str
    scores: dict[str, str]  # element key -> digest of the element score (scored only)
    answers: dict[str, str]  # element key -> digest of that element's answers
    comments: str = ""


Basis = dict[int, Respondent]  # by invitation id


# --- building and storing -----------------------------------------------------------------


def build_content(session: Session, cycle: Cycle) -> ReleaseContent:
    """The cycle's results as they stand, for every output but stewards' live view."""
    from survey.scoring import board_sectors, cycle_results

    results = cycle_results(session, cycle)
    results = dataclasses.replace(results, responses=(), provisional=False, release=None)
    return ReleaseContent(results, board_sectors(session, cycle))


def respondent_basis(session: Session, cycle: Cycle) -> Basis:
    """Every submitted respondent of the cycle with digests of what they contribute."""
    from survey.questionnaire import Questionnaire

    needed = {e.key: e.half_threshold for e in Questionnaire.from_dict(cycle.content).elements}
    answers: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    levels: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    submitted = (Invitation.cycle_id == cycle.id,
                 Invitation.status == InvitationStatus.SUBMITTED)
    for iid, element, item, level, special in session.execute(
        select(Answer.invitation_id, Answer.element_key, Answer.item_code, Answer.level,
               Answer.special)
        .join(Invitation, Invitation.id == Answer.invitation_id).where(*submitted)
    ):
        answers[iid][element].append(f"{item}={level if level is not None else special}")
        if level is not None:
            levels[iid][element].append(level)
    comments: dict[int, list[str]] = defaultdict(list)
    for iid, element, text in session.execute(
        select(Comment.invitation_id, Comment.element_key, Comment.text)
        .join(Invitation, Invitation.id == Comment.invitation_id).where(*submitted)
    ):
        comments[iid].append(f"{element}:{text}")
    basis: Basis = {}
    for iid, partnership_id, board_code, sector, ptype in session.execute(
        select(Invitation.id, Participation.partnership_id, Participation.board_code,
               Participation.sector, Invitation.partner_type)
        .join(Participation, Participation.id == Invitation.participation_id).where(*submitted)
    ):
        scored = levels.get(iid, {})
        basis[iid] = Respondent(
            partnership_id, board_code, sector, ptype,
            {key: _digest([f"{sum(v)}/{len(v)}"]) for key, v in sorted(scored.items())
             if len(v) >= needed.get(key, 1)},
            {key: _digest(sorted(v)) for key, v in sorted(answers.get(iid, {}).items())},
            _digest(sorted(comments[iid])) if iid in comments else "")
    return basis


def _digest(parts: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


def _pack(value: Any) -> bytes:
    return zlib.compress(codec.dumps(value).encode("utf-8"), 6)


def store(session: Session, cycle: Cycle, content: ReleaseContent, basis: Basis, *,
          author: str, note: str, held_back: dict[str, Any] | None = None) -> ReleaseRow:
    """Add the cycle's next release (flush only); the caller holds the cycle's row lock."""
    session.flush()  # the cycle's results_version is bumped by flushes (survey.scoring.cycles)
    version = session.execute(select(Cycle.results_version).where(Cycle.id == cycle.id)).scalar()
    number = 1 + (session.execute(select(func.max(ReleaseRow.number))
                                  .where(ReleaseRow.cycle_id == cycle.id)).scalar() or 0)
    text = codec.dumps(content)
    row = ReleaseRow(
        cycle_id=cycle.id, number=number, author=author, note=note,
        content_hash=cycle.content_hash,
        figures_hash=hashlib.sha256(_figures_text(content).encode("utf-8")).hexdigest(),
        results_version=version or 0, held_back=held_back or {},
        payload=zlib.compress(text.encode("utf-8"), 6),
        basis=_pack({str(k): v for k, v in basis.items()}))
    session.add(row)
    session.flush()
    codes = {b.key for b in content.results.boards} | set(content.board_sectors)
    session.add_all(
        ReleasePart(release_id=row.id, board_code=code, payload=_pack(
            board_view(content.results, code, content.board_sectors.get(code, ()))))
        for code in sorted(codes))
    session.flush()
    return row


def _figures_text(content: ReleaseContent) -> str:
    """The payload without its build time: equal figures, equal hash."""
    data = codec.encode(content)
    data["results"].pop("generated_at", None)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def publish_first(session: Session, cycle: Cycle, author: str,
                  note: str = FIRST_NOTE) -> ReleaseRow | None:
    """Release 1 of a published cycle that has none yet (flush only); else None."""
    if cycle.published_at is None or current(session, cycle) is not None:
        return None
    row = store(session, cycle, build_content(session, cycle), respondent_basis(session, cycle),
                author=author, note=note)
    row.created_at = cycle.published_at if note == UPGRADE_NOTE else row.created_at
    return row


def ensure(session: Session, cycle: Cycle) -> ReleaseRow | None:
    """The current release of a cycle; for a published cycle without one (published
    before releases existed, or by hand), release 1 from the data as it stands (SPEC
    4b.6), added under the cycle's row lock (flush only: the caller commits)."""
    row = current(session, cycle)
    if row is not None or cycle.published_at is None:
        return row
    session.execute(select(Cycle.id).where(Cycle.id == cycle.id).with_for_update())
    return current(session, cycle) or publish_first(session, cycle, "upgrade", UPGRADE_NOTE)


def publish_missing(session: Session, author: str = "upgrade") -> list[str]:
    """Release 1 of every published cycle without one (SPEC 4b.6); the cycles' names."""
    done = []
    for cycle in session.execute(select(Cycle).where(Cycle.published_at.is_not(None))
                                 .order_by(Cycle.opens_on, Cycle.id)).scalars():
        if publish_first(session, cycle, author, UPGRADE_NOTE) is not None:
            done.append(cycle.name)
    return done


# --- reading -----------------------------------------------------------------------------


def current(session: Session, cycle: Cycle, number: int | None = None) -> ReleaseRow | None:
    """The cycle's newest release (or release `number`), or None."""
    query = select(ReleaseRow).where(ReleaseRow.cycle_id == cycle.id)
    if number is not None:
        query = query.where(ReleaseRow.number == number)
    return session.execute(query.order_by(ReleaseRow.number.desc()).limit(1)).scalar()


def all_releases(session: Session, cycle: Cycle) -> list[ReleaseRow]:
    """Every release of the cycle, oldest first."""
    return list(session.execute(select(ReleaseRow).where(ReleaseRow.cycle_id == cycle.id)
                                .order_by(ReleaseRow.number)).scalars())


def stamp(row: ReleaseRow) -> ReleaseStamp:
    """The line every output of a release prints (number, date, note)."""
    at = row.created_at  # SQLite gives stored UTC times back without their zone
    at = at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return ReleaseStamp(row.number, at, row.note, row.figures_hash)


_contents: cachetools.LRUCache[tuple[object, ...], ReleaseContent] = cachetools.LRUCache(
    _CONTENT_SLOTS)
_lock = threading.Lock()


def _key(row: ReleaseRow) -> tuple[object, ...]:
    """What names one stored release in this process: ids start again in another (or an
    emptied) database, and equal figures may be stored at another time, so the id, the
    figures' hash and the time it was stored, together."""
    return (row.id, row.figures_hash, row.created_at)


def forget() -> None:
    """Drop the releases this process has decoded: for a database emptied under it (as each
    test does), whose new releases reuse the ids, hashes and times of gone ones."""
    with _lock:
        for cache in (_contents, _parts, _bases, _pending):
            cache.clear()


def content(row: ReleaseRow) -> ReleaseContent:
    """A release's stored content, decoded once per process (releases never change)."""
    key = _key(row)
    with _lock:
        found = _contents.get(key)
    if found is None:
        found = codec.decode(ReleaseContent,
                             json.loads(zlib.decompress(row.payload).decode("utf-8")))
        with _lock:
            _contents[key] = found
    return found


_bases: cachetools.LRUCache[tuple[object, ...], Basis] = cachetools.LRUCache(_CONTENT_SLOTS)


def basis_of(row: ReleaseRow) -> Basis:
    """The respondents a release was drawn from (decoded once per process)."""
    key = _key(row)
    with _lock:
        found = _bases.get(key)
    if found is None:
        data = json.loads(zlib.decompress(row.basis).decode("utf-8"))
        found = {int(k): codec.decode(Respondent, v) for k, v in data.items()}
        with _lock:
            _bases[key] = found
    return found


def own_scored_elements(row: ReleaseRow, invitation_id: int) -> frozenset[str]:
    """The elements where this respondent had a score in the release (SPEC 4a rule 6)."""
    found = basis_of(row).get(invitation_id)
    return frozenset(found.scores) if found is not None else frozenset()


_parts: cachetools.LRUCache[tuple[object, ...], CycleResults | None] = cachetools.LRUCache(
    256)


def release_results(row: ReleaseRow, board_code: str | None = None,
                    session: Session | None = None) -> CycleResults:
    """A release's results, the state's or one board's, with the release's stamp. With a
    session, a board's results are read from its stored part alone (the same figures as
    cut from the state's: a board page costs the same at any state size)."""
    if board_code is not None and session is not None:
        part = _part(session, row, board_code)
        if part is not None:
            return _with_outcomes(session, row, dataclasses.replace(part, release=stamp(row)))
    stored = content(row)
    results = dataclasses.replace(stored.results, release=stamp(row))
    if board_code is not None:
        results = board_view(results, board_code, stored.board_sectors.get(board_code, ()))
    return _with_outcomes(session, row, results) if session is not None else results


@dataclasses.dataclass(frozen=True)
class _Owner:
    board_code: str
    partnership_id: int
    partnership: str


def _with_outcomes(session: Session, row: ReleaseRow, results: CycleResults) -> CycleResults:
    """A release with its partnerships' outcome figures (and the boards' targets) as they
    stand now. Outcomes are
    figures about a partnership, entered by its lead board's lead after results publish,
    not anyone's answers (SPEC 16: section 4a governs the answers beside them, not them),
    so a lead who enters them sees them beside the release's maturity figures."""
    from survey.scoring import outcomes
    from survey.scoring.cycles import previous_cycles

    cycle = session.get(Cycle, row.cycle_id)
    if cycle is None:
        return results
    from survey.scoring.coverage import cycle_coverage

    owners = [_Owner(p.board_code, p.partnership_id or 0, p.label) for p in results.partnerships]
    # and the boards' target industries as they stand, against the release's partnerships
    coverage = cycle_coverage(session, results.partnerships, results.board_code,
                              {b.key: b.label for b in results.boards})
    return dataclasses.replace(results, coverage=coverage, outcomes=outcomes.cycle_outcomes(
        session, cycle, previous_cycles(session, cycle), owners))


def _part(session: Session, row: ReleaseRow, board_code: str) -> CycleResults | None:
    key = (*_key(row), board_code)
    with _lock:
        if key in _parts:
            return _parts[key]
    data = session.execute(select(ReleasePart.payload).where(
        ReleasePart.release_id == row.id, ReleasePart.board_code == board_code)).scalar()
    found = None if data is None else codec.decode(
        CycleResults, json.loads(zlib.decompress(data).decode("utf-8")))
    with _lock:
        _parts[key] = found
    return found


def board_view(results: CycleResults, board_code: str,
               sectors: tuple[ScopeResult, ...]) -> CycleResults:
    """State-wide results limited to one board as survey.scoring would build them: the
    state stays whole; boards, partnerships, items, changes, comments, trends, agreement
    and margins of that board only; partner types and gaps of the state and the board."""
    members = [p for p in results.partnerships if p.in_board(board_code)]  # shared too
    ids = {p.partnership_id for p in members}
    partnership_keys = {str(i) for i in ids}
    boards = tuple(b for b in results.boards if b.key == board_code) or (
        _empty_board(results, board_code),)
    return dataclasses.replace(
        results, board_code=board_code, boards=boards, sectors=sectors,
        partnerships=tuple(members),
        item_results=tuple(i for i in results.item_results if i.partnership_id in ids),
        partner_types=tuple(t for t in results.partner_types
                            if t.scope in (STATE_SCOPE, board_code)),
        gaps=tuple(g for g in results.gaps if g.scope in (STATE_SCOPE, board_code)),
        changes=tuple(c for c in results.changes if c.partnership_id in ids),
        comments=tuple(c for c in results.comments if c.partnership_id in ids),
        trends=tuple(t for t in results.trends if t.scope_kind == "state"
                     or (t.scope_kind == "board" and t.scope_key == board_code)
                     or (t.scope_kind == "partnership" and t.scope_key in partnership_keys)),
        # what the figures mean (SPEC 15): the board's partnerships' own, the peers'
        # quartiles as they are (state and sectors), the instrument in the state's only
        agreement=tuple(a for a in results.agreement if a.partnership_id in ids),
        margins=tuple(m for m in results.margins if m.partnership_id in ids),
        instrument=(), instrument_items=(),
        # SPEC 16: the board's own coverage; outcomes of the partnerships it counts
        coverage=tuple(c for c in results.coverage if c.board_code == board_code),
        outcomes=tuple(o for o in results.outcomes if o.partnership_id in ids),
    )


def known_board(session: Session, board_code: str) -> None:
    """Raise survey.scoring.UnknownBoardError unless a board has this code."""
    from survey.models import Board
    from survey.scoring import UnknownBoardError

    if session.execute(select(Board.id).where(Board.code == board_code)).first() is None:
        raise UnknownBoardError(f"unknown board: {board_code}")


def _empty_board(results: CycleResults, board_code: str) -> ScopeResult:
    from reports.results import EMPTY
    return ScopeResult(kind="board", key=board_code, label=board_code,
                       elements={e.key: EMPTY for e in results.elements}, overall=EMPTY,
                       stage=None, board_code=board_code)


# --- what changed since ----------------------------------------------------------------------


def changed_respondents(before: Basis, after: Basis) -> set[int]:
    """Invitation ids added, removed, moved or with other answers between two bases."""
    return {iid for iid in before.keys() | after.keys() if before.get(iid) != after.get(iid)}


_pending: cachetools.LRUCache[tuple[int, str, int, int], int] = cachetools.LRUCache(64)


def pending_changes(session: Session, cycle: Cycle) -> tuple[ReleaseRow, int] | None:
    """The current release and how many responses changed since it; None without one."""
    row = current(session, cycle)
    if row is None:
        return None
    # read now: a flush bumps the counter in SQL, past the loaded object (survey.scoring.cycles)
    version = session.execute(select(Cycle.results_version).where(Cycle.id == cycle.id)).scalar()
    if row.results_version == version:
        return row, 0
    key = (row.id, row.figures_hash, cycle.id, version or 0)
    with _lock:
        found = _pending.get(key)
    if found is None:
        found = len(changed_respondents(basis_of(row), respondent_basis(session, cycle)))
        with _lock:
            _pending[key] = found
    return row, found
