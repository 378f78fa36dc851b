"""What the staff dashboards show: cycle choice, the charts of each scope, page data.

Pure functions over `reports.results.CycleResults` plus a few small queries; no Flask.
The web layer caches results and rendered charts (survey/web/chart_cache.py) and
decides who may see what (survey/web/dashboards.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from reports.results import (
    OVERALL,
    STATE_SCOPE,
    ChangeResult,
    Comment,
    CycleResults,
    ElementInfo,
    ItemResult,
    ScopeResult,
    Score,
    StageInfo,
)
from survey.models import (
    PARTNER_TYPE_LABELS,
    Board,
    Cycle,
    CycleStatus,
    Invitation,
    InvitationStatus,
    Participation,
    Partnership,
    PartnershipBoard,
)
from survey.services import focus, meaning_pages

STATUSES = ("improved", "declined", "sustained", "no change")

def _charts() -> ModuleType:
    """reports.charts, imported on first use: matplotlib adds ~0.3 s to every command start."""
    from reports import charts

    return charts


# Chart slugs of each scope, as they appear in /charts/<cycle>/<scope>/.../<slug>.<png|svg>.
# Each builder takes (results, scope key) where the key is a board code or partnership id.
ChartBuilder = Callable[[CycleResults, str], Any]
SCOPE_CHARTS: dict[str, dict[str, ChartBuilder]] = {
    "state": {
        "board-heatmap": lambda r, _k: _charts().board_heatmap(r),
        "radar": lambda r, _k: _charts().radar(r),
        "sector-comparison": lambda r, _k: _charts().sector_comparison(r),
        "partner-types": lambda r, _k: _charts().partner_types(r, scope=STATE_SCOPE),
        "industry-gap": lambda r, _k: _charts().industry_gap(r, scope=STATE_SCOPE),
        "change": lambda r, _k: _charts().change(r, STATE_SCOPE),
        "outcomes": lambda r, _k: _charts().outcomes_against_maturity(r),
    },
    "boards": {
        "radar": lambda r, k: _charts().radar(r, board_code=k),
        "partnership-heatmap": lambda r, k: _charts().partnership_heatmap(r, board_code=k),
        "partner-types": lambda r, k: _charts().partner_types(r, scope=k),
        "industry-gap": lambda r, k: _charts().industry_gap(r, scope=k),
        "level-distribution": lambda r, k: _charts().level_distribution(r, board_code=k),
        "change": lambda r, k: _charts().change(r, k),
        "agreement": lambda r, k: _charts().board_agreement(r, k),
    },
    "partnerships": {
        "radar": lambda r, k: _charts().radar(
            r, board_code=page_board(r, _partnership(r, int(k))), partnership_id=int(k)
        ),
        "level-distribution": lambda r, k: _charts().level_distribution(r, partnership_id=int(k)),
        "change": lambda r, k: _charts().change(r, k),
        "margins": lambda r, k: _charts().score_margins(r, k),
        "peers": lambda r, k: _charts().peers(r, k),
    },
}


def build_chart(results: CycleResults, scope: str, key: str, name: str) -> Any | None:
    """The chart `name` of a scope ("state", "boards", "partnerships"), None if unknown."""
    builder = SCOPE_CHARTS.get(scope, {}).get(name)
    return None if builder is None else builder(results, key)


# --- cycles ---------------------------------------------------------------------------


def list_cycles(session: Session) -> list[Cycle]:
    """Every cycle, most recent first."""
    return list(
        session.execute(select(Cycle).order_by(Cycle.opens_on.desc(), Cycle.id.desc())).scalars()
    )


def find_cycle(session: Session, name: str) -> Cycle | None:
    """The cycle of this name, or None."""
    return session.execute(select(Cycle).where(Cycle.name == name)).scalar_one_or_none()


def default_cycle(cycles: list[Cycle]) -> Cycle | None:
    """The open cycle, else the most recent one that opened, else the most recent."""
    for wanted in (CycleStatus.OPEN, CycleStatus.CLOSED):
        chosen = next((c for c in cycles if c.status == wanted), None)
        if chosen is not None:
            return chosen
    return cycles[0] if cycles else None


def default_published_cycle(cycles: list[Cycle]) -> Cycle | None:
    """A board lead's default: the latest published cycle (its results are what a lead
    can read), else the open one (its progress), else default_cycle."""
    published = next((c for c in cycles if c.published_at is not None), None)
    return published or default_cycle(cycles)


@dataclass(frozen=True)
class CycleChoice:
    """The cycles a selector lists and the one chosen (None: no cycles, or unknown name)."""

    cycles: list[Cycle]
    current: Cycle | None
    unknown: bool = False

    @property
    def open_elsewhere(self) -> Cycle | None:
        """An open cycle other than the one shown: its progress goes beside the results."""
        return next((c for c in self.cycles
                     if c.status == CycleStatus.OPEN and c is not self.current), None)


def choose_cycle(session: Session, name: str | None, published_first: bool = False
                 ) -> CycleChoice:
    """The cycle named in `?cycle=`, or the default one when no name was given (for a
    board lead, `published_first`: the latest published cycle, SPEC 6 guardrails)."""
    cycles = list_cycles(session)
    if not name:
        pick = default_published_cycle if published_first else default_cycle
        return CycleChoice(cycles, pick(cycles))
    chosen = next((c for c in cycles if c.name == name), None)
    return CycleChoice(cycles, chosen, unknown=chosen is None)


@dataclass(frozen=True)
class Progress:
    """Invited, in progress and submitted in one cycle, for one board or all."""

    invited: int
    in_progress: int
    submitted: int

    @property
    def rate(self) -> float | None:
        return self.submitted / self.invited if self.invited else None


def cycle_progress(session: Session, cycle: Cycle, board_code: str | None = None) -> Progress:
    """How far a cycle's responses have come (counts only: no figures, SPEC 4a rule 4)."""
    def status_is(status: str) -> Any:
        return func.coalesce(func.sum(case((Invitation.status == status, 1), else_=0)), 0)

    query = (select(func.count(Invitation.id), status_is(InvitationStatus.IN_PROGRESS),
                    status_is(InvitationStatus.SUBMITTED))
             .join(Participation, Invitation.participation_id == Participation.id)
             .where(Invitation.cycle_id == cycle.id))
    if board_code is not None:
        query = query.where(Participation.board_code == board_code)
    invited, in_progress, submitted = session.execute(query).one()
    return Progress(int(invited), int(in_progress), int(submitted))


# --- boards and partnerships ------------------------------------------------------------


def board_name(session: Session, code: str) -> str | None:
    """The current name of a board, or None when no board has this code."""
    return session.execute(select(Board.name).where(Board.code == code)).scalar_one_or_none()


@dataclass(frozen=True)
class PartnershipBoards:
    """A partnership's board as it stood in a cycle (None: not in it) and its board now."""

    in_cycle: str | None
    current: str
    name: str  # the partnership's current name
    # The boards it was shared with in the cycle and is shared with now (SPEC 16).
    also_in_cycle: tuple[str, ...] = ()
    also_current: tuple[str, ...] = ()

    @property
    def for_results(self) -> str:
        return self.in_cycle or self.current

    @property
    def every_board(self) -> tuple[str, ...]:
        """Every board code whose lead may open the partnership's page."""
        codes = (self.in_cycle, self.current, *self.also_in_cycle, *self.also_current)
        return tuple(code for code in codes if code)

    def results_board(self, viewer_board: str | None) -> str:
        """The board whose results the page shows: a participating board's lead sees
        the partnership within their own board (it counts there), others its lead's."""
        if viewer_board and viewer_board in self.also_in_cycle:
            return viewer_board
        return self.for_results

    def keeps_plan(self, viewer_board: str | None) -> bool:
        """Whether a board lead of `viewer_board` keeps the plan: the lead board's lead
        (now, or in the cycle); participating boards' leads only read it (SPEC 16)."""
        return viewer_board is not None and viewer_board in (self.current, self.in_cycle)


def partnership_boards(
    session: Session, cycle: Cycle, partnership_id: int
) -> PartnershipBoards | None:
    """Where a partnership stood in a cycle and stands now; None for an unknown partnership."""
    current = session.execute(
        select(Board.code, Partnership.name)
        .join(Partnership.board)
        .where(Partnership.id == partnership_id)
    ).one_or_none()
    if current is None:
        return None
    in_cycle = session.execute(
        select(Participation.board_code, Participation.also_boards).where(
            Participation.cycle_id == cycle.id, Participation.partnership_id == partnership_id
        )
    ).one_or_none()
    also_now = tuple(session.execute(
        select(Board.code).join(PartnershipBoard, PartnershipBoard.board_id == Board.id)
        .where(PartnershipBoard.partnership_id == partnership_id).order_by(Board.code)
    ).scalars())
    return PartnershipBoards(in_cycle.board_code if in_cycle else None, current.code,
                             current.name, tuple(in_cycle.also_boards.split()) if in_cycle
                             else (), also_now)


def page_board(results: CycleResults, partnership: ScopeResult) -> str:
    """The board a partnership's page compares it with: the board the results are for
    when the partnership is shared with it (SPEC 16), else its lead board."""
    if results.board_code and partnership.in_board(results.board_code):
        return results.board_code
    return partnership.board_code


def _partnership(results: CycleResults, partnership_id: int) -> ScopeResult:
    found = find_partnership(results, partnership_id)
    if found is None:
        raise LookupError(f"partnership {partnership_id} is not in cycle {results.cycle}")
    return found


def find_partnership(results: CycleResults, partnership_id: int) -> ScopeResult | None:
    """A partnership's scores in these results, or None when it did not take part."""
    return next((p for p in results.partnerships if p.partnership_id == partnership_id), None)


def find_board(results: CycleResults, code: str) -> ScopeResult | None:
    """A board's scores in these results, or None when it had no partnerships in the cycle."""
    return next((b for b in results.boards if b.key == code and b.partnerships), None)


def chart_names(scope: str, results: CycleResults, key: str = "") -> list[str]:
    """The charts a scope's page shows (the partnership page needs the partnership)."""
    if scope == "partnerships" and find_partnership(results, int(key)) is None:
        return []
    if scope == "boards" and find_board(results, key) is None:
        return []
    return list(SCOPE_CHARTS.get(scope, {}))


# --- page data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeCount:
    """How many partnerships improved, declined, ... on one element (or overall)."""

    element_key: str
    title: str
    counts: dict[str, int]
    suppressed: int


@dataclass(frozen=True)
class StatePage:
    results: CycleResults
    charts: dict[str, Any]
    change_counts: list[ChangeCount]
    overall_changes: list[ChangeResult]
    has_previous: bool
    focus: focus.Focus | None = None  # what to work on


@dataclass(frozen=True)
class PartnershipRow:
    partnership: ScopeResult
    change: ChangeResult | None
    # SPEC 15: where it stands among its sector's partnerships, and its agreement:
    # (elements where partners agree, element keys mixed, element keys split)
    standing: str | None = None
    agreement: tuple[int, list[str], list[str]] = (0, [], [])


@dataclass(frozen=True)
class BoardPage:
    results: CycleResults
    code: str
    name: str
    board: ScopeResult | None  # None: the board had no partnerships in this cycle
    partnerships: list[PartnershipRow]
    charts: dict[str, Any]
    focus: focus.Focus | None = None  # what to work on
    splits: list[meaning_pages.SplitElement] = field(default_factory=list)


@dataclass(frozen=True)
class ElementRow:
    element: ElementInfo
    score: Score
    stage: StageInfo | None
    board: Score | None
    state: Score
    meaning: meaning_pages.ElementMeaning | None = None  # margin and agreement (SPEC 15)


@dataclass(frozen=True)
class ItemGroup:
    element: ElementInfo
    items: list[ItemResult]


@dataclass(frozen=True)
class CommentGroup:
    element: ElementInfo
    comments: list[tuple[str, str]]  # (partner type label, text): never a name


@dataclass(frozen=True)
class PartnershipPage:
    results: CycleResults
    partnership: ScopeResult | None  # None: did not take part in this cycle
    board: ScopeResult | None
    too_few: bool  # fewer than min_respondents responded: no numbers at all
    elements: list[ElementRow] = field(default_factory=list)
    item_groups: list[ItemGroup] = field(default_factory=list)
    comment_groups: list[CommentGroup] = field(default_factory=list)
    changes: list[ChangeResult] = field(default_factory=list)
    charts: dict[str, Any] = field(default_factory=dict)
    focus: focus.Focus | None = None  # what to work on
    item_labels: dict[str, str] = field(default_factory=dict)  # code -> "1.1"
    # SPEC 15: against its peers, and the elements where its partners split
    peers: list[meaning_pages.PeerRow] = field(default_factory=list)
    standing: str | None = None
    splits: list[meaning_pages.SplitElement] = field(default_factory=list)


def scope_charts(results: CycleResults, scope: str, key: str = "") -> dict[str, Any]:
    """Every chart a scope's page shows, by slug."""
    names = chart_names(scope, results, key)
    return {name: build_chart(results, scope, key, name) for name in names}


def change_counts(results: CycleResults) -> list[ChangeCount]:
    """Per element and overall: partnerships by change status, and how many are suppressed."""
    rows = []
    keys = [(e.key, e.title) for e in results.elements] + [(OVERALL, "Overall")]
    for key, title in keys:
        changes = [c for c in results.changes if c.element_key == key and c.previous_cycle]
        counts = Counter(c.status for c in changes if not c.suppressed and c.status)
        rows.append(
            ChangeCount(key, title, {s: counts.get(s, 0) for s in STATUSES},
                        sum(1 for c in changes if c.suppressed))
        )
    return rows


def state_page(results: CycleResults) -> StatePage:
    """The state dashboard: charts, change counts and each partnership's overall change."""
    overall = sorted(
        (c for c in results.changes if c.element_key == OVERALL and c.previous_cycle),
        key=lambda c: (c.board_code, c.partnership.casefold()),
    )
    return StatePage(
        results=results,
        charts=scope_charts(results, "state"),
        change_counts=change_counts(results),
        overall_changes=overall,
        has_previous=any(c.previous_cycle for c in results.changes),
        focus=focus.state_focus(results),
    )


def board_page(results: CycleResults, code: str, name: str) -> BoardPage:
    """A board's dashboard: the board against the state, its partnerships and charts."""
    board = find_board(results, code)
    overall = {c.partnership_id: c for c in results.changes if c.element_key == OVERALL}
    partnerships = sorted(
        (p for p in results.partnerships if p.in_board(code)),  # shared ones too
        key=lambda p: p.label.casefold(),
    )
    return BoardPage(
        results=results,
        code=code,
        name=board.label if board else name,
        board=board,
        partnerships=[PartnershipRow(p, overall.get(p.partnership_id),
                                     meaning_pages.standing(results, p),
                                     meaning_pages.agreement_words(results, p.partnership_id))
                      for p in partnerships],
        charts=scope_charts(results, "boards", code) if board else {},
        focus=focus.board_focus(results, board) if board else None,
        splits=meaning_pages.split_elements(
            results, {p.partnership_id for p in partnerships if p.partnership_id is not None}),
    )


def partnership_page(results: CycleResults, partnership_id: int) -> PartnershipPage:
    """A partnership's page: element and item results, comments without names, change."""
    partnership = find_partnership(results, partnership_id)
    if partnership is None:
        return PartnershipPage(
            results, None, None, too_few=False,
            charts=scope_charts(results, "partnerships", str(partnership_id)),
        )
    board = find_board(results, page_board(results, partnership))
    too_few = partnership.responded < results.scale.min_respondents
    page = PartnershipPage(
        results=results,
        partnership=partnership,
        board=board,
        too_few=too_few,
        changes=_changes(results, partnership_id),
        charts=scope_charts(results, "partnerships", str(partnership_id)),
        focus=None if too_few else focus.partnership_focus(results, partnership),
        item_labels=focus.item_labels(results),
        peers=[] if too_few else meaning_pages.peer_rows(results, partnership),
        standing=None if too_few else meaning_pages.standing(results, partnership),
        splits=meaning_pages.split_elements(results, {partnership_id}),
    )
    if too_few:
        return page
    meanings = meaning_pages.element_meanings(results, partnership_id)
    page.elements.extend(
        ElementRow(
            element=e,
            score=partnership.elements[e.key],
            stage=partnership.element_stage(e.key, results.scale),
            board=board.elements[e.key] if board else None,
            state=results.state.elements[e.key],
            meaning=meanings[e.key],
        )
        for e in results.elements
    )
    items = [i for i in results.item_results if i.partnership_id == partnership_id]
    order = {item.code: n for n, item in enumerate(results.items)}
    for e in results.elements:
        group = sorted(
            (i for i in items if i.element_key == e.key), key=lambda i: order.get(i.item_code, 0)
        )
        page.item_groups.append(ItemGroup(e, group))
    comments = [c for c in results.comments if c.partnership_id == partnership_id]
    for e in results.elements:
        texts = [(partner_type_label(c), c.text) for c in comments if c.element_key == e.key]
        if texts:
            page.comment_groups.append(CommentGroup(e, texts))
    return page


def partner_type_label(comment: Comment) -> str:
    """The label of a comment's partner type (its only attribution), or "Partner type not
    shown" where too few of its type responded to name it (SPEC 4a rule 3)."""
    if not comment.partner_type:
        return "Partner type not shown"
    return PARTNER_TYPE_LABELS.get(comment.partner_type, comment.partner_type)


def _changes(results: CycleResults, partnership_id: int) -> list[ChangeResult]:
    order = {e.key: e.order for e in results.elements}
    rows = [c for c in results.changes if c.partnership_id == partnership_id]
    return sorted(rows, key=lambda c: order.get(c.element_key, 1_000))

