"""Plain result objects handed from scoring to charts, workbooks and pages.

Everything here is computed already; renderers only lay it out. A suppressed figure
carries no value at all (``value is None and suppressed``), so no renderer can leak it.
Values are unrounded; round only for display.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

STATE_SCOPE = "State"
CENT = Decimal("0.01")
OVERALL = "overall"

# The partner types of SPEC section 5 and how screens and exports name them.
PARTNER_TYPE_LABELS: dict[str, str] = {
    "business": "Business / industry",
    "workforce": "Workforce development",
    "education": "Education and training",
    "economic_development": "Economic development",
    "labor": "Labor",
    "community": "Community organization",
    "other": "Other",
}


def shown_value(value: float) -> float:
    """The figure people read: the value rounded to two decimals, half up (away from zero).

    Read at 15 significant digits, as Excel's `0.00` format does, so a computed
    1.7449999999999999 reads 1.75 on every page, chart, PDF and workbook alike (Python's
    own `f"{v:.2f}"` would print 1.74 for it). Stages and change statuses are taken from
    this figure (SPEC 4), never from the unrounded one.
    """
    return float(Decimal(f"{value:.15g}").quantize(CENT, rounding=ROUND_HALF_UP))


def two_decimals(value: float, signed: bool = False) -> str:
    """A score or delta as text, two decimals, exactly as shown_value rounds it."""
    rounded = shown_value(value) + 0.0  # + 0.0: no "-0.00"
    return f"{rounded:+.2f}" if signed else f"{rounded:.2f}"


def item_numbers(elements: tuple[ElementInfo, ...] | list[ElementInfo],
                 items: tuple[ItemInfo, ...] | list[ItemInfo]) -> dict[str, str]:
    """Each item code's number as partners saw it (SPEC 9): element order, then position
    within the element, both from 1 ("6.2")."""
    order = [e.key for e in sorted(elements, key=lambda e: e.order)]
    seen: dict[str, int] = {}
    numbers = {}
    for item in items:
        seen[item.element_key] = seen.get(item.element_key, 0) + 1
        position = order.index(item.element_key) + 1 if item.element_key in order else 0
        numbers[item.code] = f"{position}.{seen[item.element_key]}"
    return numbers


@dataclass(frozen=True)
class StageInfo:
    """One level of the scale (survey.questionnaire's Level)."""

    value: int
    label: str
    description: str
    min_score: float


@dataclass(frozen=True)
class ScaleInfo:
    """The scale and thresholds a cycle was scored with (survey.questionnaire's Scale)."""

    levels: tuple[StageInfo, ...]
    dont_know_label: str
    not_applicable_label: str
    min_respondents: int
    change_threshold: float
    sustained_level: int

    @property
    def values(self) -> tuple[int, ...]:
        """The level values, lowest first."""
        return tuple(level.value for level in self.levels)

    def stage(self, score: float | None) -> StageInfo | None:
        """The highest level whose min_score is at or below the score as shown (rounded to
        two decimals, half up: a shown 1.75 is Building); None for no score."""
        if score is None:
            return None
        figure = shown_value(score)
        reached = [level for level in self.levels if level.min_score <= figure]
        return reached[-1] if reached else None

    def change_status(self, delta: float, current: float) -> str:
        """improved / declined when the delta as shown reaches the threshold, else
        sustained at or above sustained_level (by the stage shown), else no change."""
        shown_delta = shown_value(delta)
        threshold = shown_value(self.change_threshold)
        if shown_delta >= threshold:
            return "improved"
        if shown_delta <= -threshold:
            return "declined"
        stage = self.stage(current)
        sustained = stage is not None and stage.value >= self.sustained_level
        return "sustained" if sustained else "no change"

    def level(self, value: int) -> StageInfo:
        """The level with this value (KeyError if there is none)."""
        for level in self.levels:
            if level.value == value:
                return level
        raise KeyError(value)


@dataclass(frozen=True)
class ElementInfo:
    key: str
    title: str
    order: int


@dataclass(frozen=True)
class ItemInfo:
    element_key: str
    code: str
    text: str


@dataclass(frozen=True)
class Score:
    """One figure: its unrounded value and how many it was drawn from.

    `n` counts respondents for partnership and partner-type figures, partnerships for
    board, sector and state figures. `suppressed` means drawn from fewer than
    min_respondents respondents: then `value` is None.
    """

    value: float | None
    n: int
    suppressed: bool = False

    @property
    def shown(self) -> bool:
        return self.value is not None and not self.suppressed


EMPTY = Score(None, 0)


@dataclass(frozen=True)
class ScopeResult:
    """Scores of one scope (state, a board, a sector or a partnership) in one cycle."""

    kind: str  # "state", "board", "sector" or "partnership"
    key: str  # "State", a board code, a sector name, or a partnership id as text
    label: str
    elements: dict[str, Score]  # by element key, every element present
    overall: Score
    stage: StageInfo | None  # None when overall is undefined or suppressed
    invited: int = 0
    responded: int = 0  # submitted
    in_progress: int = 0
    partnerships: int = 0  # partnerships in the scope (boards, sectors, state)
    board_code: str = ""  # partnerships (and boards): the board as it stood in the cycle
    board_name: str = ""
    sector: str = ""  # partnerships
    partnership_id: int | None = None  # partnerships
    # Partnerships shared across boards (SPEC 16): the participating boards besides the
    # lead board (board_code), as (code, name) pairs; the partnership counts in each.
    also_boards: tuple[tuple[str, str], ...] = ()

    @property
    def board_codes(self) -> tuple[str, ...]:
        """A partnership's lead board code, then its participating boards' codes."""
        return (self.board_code, *(code for code, _ in self.also_boards))

    def in_board(self, code: str) -> bool:
        """Whether this partnership counts in the board `code` (lead or participating)."""
        return code in self.board_codes

    def shared_with(self, code: str) -> tuple[tuple[str, str], ...]:
        """The other boards of a shared partnership, seen from board `code`."""
        boards = ((self.board_code, self.board_name), *self.also_boards)
        return tuple(b for b in boards if b[0] != code) if self.also_boards else ()

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.invited if self.invited else None

    def element_stage(self, key: str, scale: ScaleInfo) -> StageInfo | None:
        return scale.stage(self.elements[key].value)


@dataclass(frozen=True)
class ItemResult:
    """Answers to one item within one partnership (submitted responses only)."""

    board_code: str
    partnership_id: int
    partnership: str
    element_key: str
    item_code: str
    text: str
    n: int  # scored answers
    mean: float | None  # None when no scored answer
    dont_know: int
    not_applicable: int
    unanswered: int
    counts: dict[int, int]  # level value -> answers at that level
    # The whole row is withheld (fewer than min_respondents submitted in the partnership):
    # then n, the counts and the mean are zero or None and read "suppressed".
    suppressed: bool = False

    def mean_score(self, min_respondents: int) -> Score:
        """The item mean as a Score, suppressed when fewer than min_respondents scored it."""
        if self.suppressed:
            return Score(None, 0, suppressed=True)
        if self.n and self.n < min_respondents:
            return Score(None, self.n, suppressed=True)
        return Score(self.mean, self.n)


@dataclass(frozen=True)
class PartnerTypeResult:
    """Pooled element scores of respondents of one partner type within a scope."""

    scope: str  # "State" or a board code
    partner_type: str  # key, e.g. "business"
    partner_type_label: str
    respondents: int
    elements: dict[str, Score]  # suppressed where n < min_respondents


@dataclass(frozen=True)
class GapResult:
    """Industry gap for one element in one scope: business minus all other types."""

    scope: str  # "State" or a board code
    element_key: str
    business: Score
    others: Score
    gap: float | None  # None when either side is suppressed or undefined


@dataclass(frozen=True)
class ChangeResult:
    """Change for one partnership and element (or OVERALL) against an earlier cycle."""

    board_code: str
    partnership_id: int
    partnership: str
    element_key: str  # an element key or OVERALL
    previous_cycle: str | None  # None when no earlier cycle had a score
    previous: Score | None
    current: Score
    delta: float | None  # None when either side is suppressed or missing
    status: str | None  # "improved", "declined", "sustained", "no change"; None as delta
    suppressed: bool = False  # current or previous suppressed: figures read "suppressed"
    # The element's items (codes) differ between the two cycles' questionnaires, so the
    # delta compares different questions (content version 2 split and replaced items).
    items_changed: bool = False
    # SPEC 15: True when |delta| is below 1.645 sqrt(SE1^2 + SE2^2), both margins known;
    # None when either margin is not (too few respondents, suppressed, no delta).
    within_margin: bool | None = None


@dataclass(frozen=True)
class ResponseRow:
    """One anonymised answer, in the responses import format's columns."""

    cycle: str
    board: str
    partnership: str
    respondent: str  # a respondent code, never a name or email
    partner_type: str
    element: str
    item: str
    score: str  # "1".."4", "DK", "NA" or "" (unanswered)


@dataclass(frozen=True)
class Comment:
    """A comment without its author."""

    partnership_id: int
    element_key: str
    partner_type: str  # "" where too few of its type submitted to name it (SPEC 4a)
    text: str


@dataclass(frozen=True)
class TrendPoint:
    """One scope's score for one element (or OVERALL) in one cycle, for change lines."""

    cycle: str
    scope_key: str
    element_key: str
    score: Score
    scope_kind: str = ""  # "state", "board" or "partnership" (a board code may equal an id)


@dataclass(frozen=True)
class PlanRow:
    """One action-plan entry of a partnership for one element (SPEC section 11)."""

    board_code: str
    partnership_id: int
    partnership: str
    element_key: str
    element: str  # the element's title
    priority: bool
    goal: str
    actions: str
    owner: str
    due_on: dt.date | None
    status: str  # "planned", "in progress", "done" or "dropped"
    updated_at: dt.datetime
    overdue: bool = False  # due before today and still planned or in progress


@dataclass(frozen=True)
class AgreementResult:
    """How far a partnership's respondents agree on one element (SPEC 15): rwg(J) over
    the element's items against the uniform null, and its reading. Present only for a
    published partnership element score."""

    board_code: str
    partnership_id: int
    partnership: str
    element_key: str
    n: int  # respondents with the element score
    items: int  # J: the items kept (two or more respondents scored them)
    rwg: float
    reading: str  # "agree", "mixed" or "split"


@dataclass(frozen=True)
class MarginResult:
    """A partnership element score's standard error and 90% interval (SPEC 15): only
    where the score is published and n >= min_respondents + 2."""

    partnership_id: int
    element_key: str
    n: int
    se: float
    low: float  # clipped to the scale
    high: float


@dataclass(frozen=True)
class BenchmarkResult:
    """Quartiles of the published partnership scores of one element (or OVERALL) in one
    scope: "State" or a sector, where at least 5 partnerships have one (SPEC 15)."""

    scope: str  # STATE_SCOPE or a sector name
    element_key: str  # an element key or OVERALL
    partnerships: int
    lower: float
    median: float
    upper: float


@dataclass(frozen=True)
class InstrumentElement:
    """Cronbach's alpha of one element over the cycle's submitted respondents statewide
    who scored all its items, with Feldt's 95% interval (None where undefined)."""

    element_key: str
    respondents: int
    alpha: float | None
    alpha_low: float | None
    alpha_high: float | None


@dataclass(frozen=True)
class InstrumentItem:
    """One item of the questionnaire statewide: item-rest correlation and alpha if
    dropped (same respondents as its element's alpha), and the shares of don't know and
    not applicable among all submitted respondents (None where undefined or withheld)."""

    element_key: str
    item_code: str
    respondents: int
    item_rest: float | None
    alpha_if_dropped: float | None
    dont_know: float | None
    not_applicable: float | None


@dataclass(frozen=True)
class CoverageRow:
    """One board and sector (SPEC 16): targeted or not, its partnerships in the cycle and
    their median published overall score (None when none is published)."""

    board_code: str
    board: str
    sector: str
    targeted: bool
    partnerships: int
    median_overall: float | None


@dataclass(frozen=True)
class OutcomeRow:
    """One outcome measure of one partnership in a cycle, with the last earlier value
    (SPEC 16). Figures about the partnership, not anyone's answers."""

    board_code: str
    partnership_id: int
    partnership: str
    measure: str  # the measure's key
    label: str
    unit: str  # "count", "money" or "percent"
    higher_is_better: bool
    value: float | None  # None: not reported, or suppressed by the provider
    suppressed: bool
    source: str
    previous: float | None = None
    previous_cycle: str | None = None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def format_outcome(value: float | None, unit: str) -> str:
    """An outcome figure as people read it: 1,234 / $18.50 / 85.0% (– for none)."""
    if value is None:
        return "–"
    if unit == "money":
        return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"
    if unit == "percent":
        return f"{value:.1f}%"
    return f"{value:,.0f}"


@dataclass(frozen=True)
class ReleaseStamp:
    """Which published release results come from (SPEC 4b.4): printed on every output."""

    number: int
    published_at: dt.datetime
    note: str
    figures_hash: str = ""

    @property
    def line(self) -> str:
        """"Release 2, 2026-03-02: paper responses from two partnerships"."""
        return f"Release {self.number}, {self.published_at:%Y-%m-%d}: {self.note}"


@dataclass(frozen=True)
class CycleResults:
    """Everything the figures of one cycle (optionally one board) are drawn from."""

    cycle: str
    cycle_status: str
    opens_on: dt.date
    closes_on: dt.date
    generated_at: dt.datetime
    content_hash: str
    scale: ScaleInfo
    elements: tuple[ElementInfo, ...]
    items: tuple[ItemInfo, ...]
    board_code: str | None  # set when limited to one board
    state: ScopeResult  # over every partnership in the cycle (even in a board export)
    boards: tuple[ScopeResult, ...]
    sectors: tuple[ScopeResult, ...]
    partnerships: tuple[ScopeResult, ...]
    item_results: tuple[ItemResult, ...]
    partner_types: tuple[PartnerTypeResult, ...]
    gaps: tuple[GapResult, ...]
    changes: tuple[ChangeResult, ...]
    responses: tuple[ResponseRow, ...] = ()
    comments: tuple[Comment, ...] = ()
    trends: tuple[TrendPoint, ...] = field(default=())
    # The cycle is not published yet (open, or never closed): stewards only, marked so.
    provisional: bool = False
    plans: tuple[PlanRow, ...] = ()  # this cycle's action plans (workbook Plans sheet, report)
    # What the figures mean (SPEC 15), computed in survey.scoring.meaning:
    agreement: tuple[AgreementResult, ...] = ()
    margins: tuple[MarginResult, ...] = ()
    benchmarks: tuple[BenchmarkResult, ...] = ()  # statewide and per sector, even for a board
    instrument: tuple[InstrumentElement, ...] = ()  # stewards only, the state workbook only
    instrument_items: tuple[InstrumentItem, ...] = ()
    # The published release these results are (survey.releases); None for live figures.
    release: ReleaseStamp | None = None
    # SPEC 16: each board's target industries against its partnerships (state and board
    # pages, the state workbook's Coverage sheet), and partnerships' outcome figures.
    coverage: tuple[CoverageRow, ...] = ()
    outcomes: tuple[OutcomeRow, ...] = ()

    def element(self, key: str) -> ElementInfo:
        return next(e for e in self.elements if e.key == key)

    @property
    def element_titles(self) -> dict[str, str]:
        return {e.key: e.title for e in self.elements}

    @property
    def item_numbers(self) -> dict[str, str]:
        """Item code -> its number as partners saw it ("6.2")."""
        return item_numbers(self.elements, self.items)

    def item_name(self, code: str) -> str:
        """An item as every output names it: its number and its text (SPEC 9)."""
        text = next((i.text for i in self.items if i.code == code), "")
        number = self.item_numbers.get(code)
        return f"{number} {text}".strip() if number else text or code
    def agreement_of(self, partnership_id: int | None, element_key: str
                     ) -> AgreementResult | None:
        """A partnership's agreement on an element, None where none is published."""
        return next((a for a in self.agreement if a.partnership_id == partnership_id
                     and a.element_key == element_key), None)

    def margin_of(self, partnership_id: int | None, element_key: str) -> MarginResult | None:
        """A partnership element score's margin, None where none is published."""
        return next((m for m in self.margins if m.partnership_id == partnership_id
                     and m.element_key == element_key), None)

    def benchmark_of(self, scope: str, element_key: str) -> BenchmarkResult | None:
        """The quartiles of a scope ("State" or a sector) for an element or OVERALL."""
        return next((b for b in self.benchmarks if b.scope == scope
                     and b.element_key == element_key), None)
