"""Plain result objects handed from scoring to charts, workbooks and pages.

Everything here is computed already; renderers only lay it out. A suppressed figure
carries no value at all (``value is None and suppressed``), so no renderer can leak it.
Values are unrounded; round only for display.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

STATE_SCOPE = "State"
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
        """The highest level whose min_score is at or below the score (None for no score)."""
        if score is None:
            return None
        reached = [level for level in self.levels if level.min_score <= score]
        return reached[-1] if reached else None

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
    # SPEC 16: each board's target industries against its partnerships (state and board
    # pages, the state workbook's Coverage sheet), and partnerships' outcome figures.
    coverage: tuple[CoverageRow, ...] = ()
    outcomes: tuple[OutcomeRow, ...] = ()

    def element(self, key: str) -> ElementInfo:
        return next(e for e in self.elements if e.key == key)

    @property
    def element_titles(self) -> dict[str, str]:
        return {e.key: e.title for e in self.elements}
