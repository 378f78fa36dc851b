"""Confidentiality (SPEC section 4a): what of a cycle's results anyone may see.

Every figure, comment and row of results reaches a page, chart, workbook, CSV or PDF
through this module. Two halves:

The gate, for the web, the command line and the PDF (H6) - use these, never
`survey.scoring.cycle_results` directly in anything a person reads:

    viewer = Viewer.of(current_user)            # Viewer.steward() on the command line
    if withheld(cycle, viewer): ...             # a board lead and an unpublished cycle:
                                                # show progress only (progress()), 404 charts
    results = published_results(session, cycle, board_code, viewer)
        # a CycleResults made safe: raises ResultsWithheld as above; `provisional` set
        # while the cycle is unpublished (stewards only see it then); no row-level answers
    results = published_results(session, cycle, board_code, viewer, partnership_id=42)
        # one partnership's page: when the partnership stood in a board the viewer does
        # not lead (a moved partnership's old cycles), only its own figures and the
        # state's, never the former board's figures, series or trend lines
    for_viewer(results, cycle, viewer, partnership_id)   # the same over cached results

The rules, which survey.scoring applies while it builds figures (one home each):

- `published(n, minimum)`: a partnership element score (and so everything built from
  it) is published when at least `minimum` respondents have it; board, sector and state
  scores are means of published partnership scores only.
- `publishable_cells(atoms, minimum)`: complementary suppression of partner-type cells
  (and so the industry gap's sides) over the whole state at once (rule 1).
- `items_hidden`, `comments_shown`, `labelled_types`, `comment_order`: rules for item
  results and comments (rule 3).
- Cycles are published (`cycles.published_at`) when they first close (rule 4).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from reports.results import PARTNER_TYPE_LABELS, STATE_SCOPE, CycleResults
from survey.models import Cycle, Role

if TYPE_CHECKING:
    import numpy as np

# --- who is looking ------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who results are shown to: a steward (state staff, administrator) or a board lead."""

    role: str
    board_code: str | None = None

    @classmethod
    def of(cls, user: Any) -> Viewer:
        """The viewer for a signed-in staff user (survey.web.access.StaffUser)."""
        return cls(str(user.role), getattr(user, "board_code", None))

    @classmethod
    def steward(cls) -> Viewer:
        """State staff or an administrator (the command line acts as one)."""
        return cls(Role.STATE.value)

    @property
    def is_steward(self) -> bool:
        return self.role in (Role.ADMIN.value, Role.STATE.value)

    def leads(self, board_code: str | None) -> bool:
        """Whether this viewer may see a board's own figures (stewards: every board)."""
        return self.is_steward or (board_code is not None and board_code == self.board_code)


class ResultsWithheld(LookupError):
    """A board lead asked for the results of a cycle that is not published yet."""


def is_published(cycle: Cycle) -> bool:
    """Published once it first closed; reopening or importing answers keeps it so."""
    return cycle.published_at is not None


def withheld(cycle: Cycle, viewer: Viewer) -> bool:
    """Board leads see no results of an unpublished cycle, only its progress."""
    return not viewer.is_steward and not is_published(cycle)


def published_results(session: Session, cycle: Cycle, board_code: str | None = None,
                      viewer: Viewer | None = None, *,
                      partnership_id: int | None = None, release: int | None = None,
                      live: bool = False) -> CycleResults:
    """A cycle's results (the state, or one board) made safe for the viewer.

    Published cycles are read from their stored release (survey.releases, SPEC 4b): the
    current one, or release `release` (LookupError when there is none). Stewards get
    live figures, marked provisional, for an unpublished cycle or when `live` is asked.
    """
    from survey import releases
    from survey.scoring import cycle_results  # scoring applies the rules below

    viewer = viewer or Viewer.steward()
    if withheld(cycle, viewer):
        raise ResultsWithheld(cycle.name)
    row = None
    if release is not None:
        row = releases.current(session, cycle, release)
        if row is None:
            raise LookupError(f"cycle {cycle.name} has no release {release}")
    elif is_published(cycle) and not (live and viewer.is_steward):
        row = releases.ensure(session, cycle)
    if row is not None:
        results = releases.release_results(row, board_code, session)
        if board_code is not None and not results.partnerships:
            releases.known_board(session, board_code)  # UnknownBoardError otherwise
    else:
        results = dataclasses.replace(cycle_results(session, cycle, board_code), provisional=True)
    return for_viewer(results, cycle, viewer, partnership_id)


def for_viewer(results: CycleResults, cycle: Cycle, viewer: Viewer,
               partnership_id: int | None = None) -> CycleResults:
    """Results as this viewer may see them (see the module docstring)."""
    if withheld(cycle, viewer):
        raise ResultsWithheld(cycle.name)
    if results.release is None and not viewer.is_steward:
        raise ResultsWithheld(cycle.name)  # live figures are for stewards only (SPEC 4b)
    results = dataclasses.replace(
        results, responses=(),
        provisional=results.release is None and (results.provisional or not is_published(cycle)))
    if not instrument_visible(viewer):
        results = dataclasses.replace(results, instrument=(), instrument_items=())
    if partnership_id is not None and not viewer.leads(results.board_code):
        return only_partnership(results, partnership_id)
    return results


def for_insider(results: CycleResults, partnership_id: int,
                own_elements: Iterable[str]) -> CycleResults:
    """Rule 6: a partner's results page. The partner knows their own answers, so each of
    their partnership's element scores shows only where the respondents behind it other
    than that partner number at least `min_respondents` (`own_elements`: the elements
    where the partner has a score); the overall, stage, change and trend of the
    partnership go with any element hidden so. Board and state figures stay."""
    minimum = results.scale.min_respondents
    own = set(own_elements)
    partnership = next((p for p in results.partnerships if p.partnership_id == partnership_id),
                       None)
    if partnership is None:
        return results
    hidden = {key for key, score in partnership.elements.items()
              if score.shown and score.n - (1 if key in own else 0) < minimum}
    if not hidden:
        return results
    from reports.results import OVERALL, Score

    elements = {key: Score(None, s.n, suppressed=True) if key in hidden else s
                for key, s in partnership.elements.items()}
    masked = dataclasses.replace(
        partnership, elements=elements, stage=None,
        overall=Score(None, partnership.overall.n, suppressed=True))
    gone = hidden | {OVERALL}
    key = str(partnership_id)
    return dataclasses.replace(
        results,
        partnerships=tuple(masked if p is partnership else p for p in results.partnerships),
        changes=tuple(c for c in results.changes
                      if not (c.partnership_id == partnership_id and c.element_key in gone)),
        trends=tuple(t for t in results.trends
                     if not (t.scope_key == key and t.scope_kind in ("partnership", "")
                             and t.cycle == results.cycle and t.element_key in gone)),
        item_results=tuple(i for i in results.item_results
                           if i.partnership_id != partnership_id),
        comments=tuple(c for c in results.comments if c.partnership_id != partnership_id),
    )


def only_partnership(results: CycleResults, partnership_id: int) -> CycleResults:
    """One partnership's own figures and the state's: nothing of the board it stood in."""
    key = str(partnership_id)
    return dataclasses.replace(
        results,
        boards=(), sectors=(),
        partnerships=tuple(p for p in results.partnerships if p.partnership_id == partnership_id),
        item_results=tuple(i for i in results.item_results if i.partnership_id == partnership_id),
        partner_types=tuple(t for t in results.partner_types if t.scope == STATE_SCOPE),
        gaps=tuple(g for g in results.gaps if g.scope == STATE_SCOPE),
        changes=tuple(c for c in results.changes if c.partnership_id == partnership_id),
        comments=tuple(c for c in results.comments if c.partnership_id == partnership_id),
        trends=tuple(t for t in results.trends if t.scope_key in (STATE_SCOPE, key)),
        agreement=tuple(a for a in results.agreement if a.partnership_id == partnership_id),
        margins=tuple(m for m in results.margins if m.partnership_id == partnership_id),
        instrument=(), instrument_items=(),
        coverage=(),  # the board's sectors and medians: the former board's figures
        outcomes=tuple(o for o in results.outcomes if o.partnership_id == partnership_id),
    )


# --- rules: scores, items, comments ------------------------------------------------------


def published(n: int, minimum: int) -> bool:
    """A figure drawn from n respondents may be shown (small-n suppression)."""
    return n >= minimum


@dataclass(frozen=True)
class HeldBack:
    """Figures a revision holds back (SPEC 4b.3, survey.services.revisions): each would
    differ from an earlier release of the cycle by 1 to minimum - 1 respondents. Scoring
    treats them as suppressed, so rule 1 is applied again around them."""

    cycle_id: int = 0
    scores: frozenset[tuple[int, str]] = frozenset()  # (partnership id, element key)
    groups: frozenset[tuple[str, str, str]] = frozenset()  # (kind, key, element key)
    cells: frozenset[tuple[str, str, str]] = frozenset()  # (scope, partner type, element)
    others: frozenset[tuple[str, str]] = frozenset()  # gap's other side: (scope, element)
    items: frozenset[tuple[int, str]] = frozenset()  # (partnership id, element key)
    comments: frozenset[int] = frozenset()  # partnership ids

    def __len__(self) -> int:
        return (len(self.scores) + len(self.groups) + len(self.cells) + len(self.others)
                + len(self.items) + len(self.comments))

    def __or__(self, other: HeldBack) -> HeldBack:
        return HeldBack(self.cycle_id or other.cycle_id, self.scores | other.scores,
                        self.groups | other.groups, self.cells | other.cells,
                        self.others | other.others, self.items | other.items,
                        self.comments | other.comments)


_held: ContextVar[HeldBack | None] = ContextVar("survey_held_back", default=None)


@contextmanager
def holding_back(held: HeldBack) -> Iterator[None]:
    """Score the cycle `held.cycle_id` with these figures held back (suppressed)."""
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)


def held_back(cycle_id: int) -> HeldBack:
    """The figures held back while scoring this cycle (none outside a revision)."""
    held = _held.get()
    return held if held is not None and held.cycle_id == cycle_id else HeldBack()


def score_published(cycle_id: int, partnership_id: int, key: str, n: int, minimum: int) -> bool:
    """A partnership's element score may be shown: enough respondents, not held back."""
    return published(n, minimum) and (partnership_id, key) not in held_back(cycle_id).scores


def items_grouped_hidden(scored_counts: Iterable[int], minimum: int) -> bool:
    """Rule 7: a partnership's item figures in an element are hidden when its respondents,
    grouped by how many of the element's items they scored, form a group of 1 to
    minimum - 1 beside another group (item sums and the element score, which weighs items
    by 1 / items scored, are then independent equations)."""
    groups: dict[int, int] = defaultdict(int)
    for count in scored_counts:
        if count:
            groups[count] += 1
    return len(groups) > 1 and any(n < minimum for n in groups.values())


def items_hidden(responded: int, minimum: int) -> bool:
    """A partnership's item results are hidden whole (counts of don't know and not
    applicable too) when fewer than `minimum` respondents submitted: with one or two
    respondents every count is someone's answer."""
    return responded < minimum


def comments_shown(responded: int, minimum: int) -> bool:
    """Comments appear only in a partnership with at least `minimum` submitted."""
    return responded >= minimum


def labelled_types(responded: dict[str, int], minimum: int) -> set[str]:
    """The partner types a partnership's comments may be labelled with: those with at
    least `minimum` submitted, so long as the unlabelled rest number 0 or `minimum` or
    more (else one lone Labor member's comment is the one without a label); otherwise
    the smallest labelled type joins the rest, and so on."""
    labelled = {t for t, n in responded.items() if n >= minimum}
    while labelled and 0 < sum(n for t, n in responded.items() if t not in labelled) < minimum:
        labelled.remove(min(labelled, key=lambda t: (responded[t], _TYPE_RANK.get(t, 99), t)))
    return labelled


def comment_order(element_order: int, text: str) -> tuple[int, str, str]:
    """Comments are listed by element, then by their text: never by who wrote when."""
    return (element_order, text.casefold(), text)


# --- rules for what the figures mean (SPEC 15) -------------------------------------------

PEER_MINIMUM = 5  # partnerships with a published score before a scope's quartiles show


def agreement_shown(score_published: bool) -> bool:
    """Agreement appears only beside a published partnership element score."""
    return score_published


def margin_shown(n: int, minimum: int) -> bool:
    """A margin appears only where the score is drawn from min_respondents + 2 or more:
    with fewer, mean and spread together say too much of a few respondents' answers."""
    return n >= minimum + 2


def benchmark_shown(partnerships: int) -> bool:
    """Quartiles of a scope appear where at least 5 partnerships have a published score."""
    return partnerships >= PEER_MINIMUM


def instrument_shares_shown(hidden_respondents: int, minimum: int) -> bool:
    """Statewide don't know and not applicable shares count every submitted respondent;
    the Items sheet publishes the counts of partnerships whose item figures show, so the
    respondents behind the hidden rows must number 0 or at least `minimum` (rule 1)."""
    return hidden_respondents == 0 or hidden_respondents >= minimum


def instrument_visible(viewer: Viewer) -> bool:
    """The instrument's figures are for the questionnaire's owners: stewards only."""
    return viewer.is_steward


# --- rule 1: complementary suppression of partner-type cells ---------------------------

Cell = tuple[str, str]  # (board code or STATE_SCOPE, partner type)
_PRIME = 2_147_483_647  # exact arithmetic modulo a prime (products fit in int64)
_BUDGET = 200_000  # subsets tried per check; past it, suppress every cell (safe)
_TYPE_RANK = {t: i for i, t in enumerate(PARTNER_TYPE_LABELS)}


@dataclass(frozen=True)
class Atom:
    """The respondents of one partner type in one partnership that have a score in one
    element, the partnership's score there being published: everything published
    splits respondents along these lines, so they are what subtraction can isolate."""

    partnership: int  # participation id
    board: str  # as it stood in the cycle
    partner_type: str
    n: int
    # The other boards a shared partnership counts in (SPEC 16): their cells hold the
    # atom too, so the scopes overlap and subtraction may run across them.
    also: tuple[str, ...] = ()

    @property
    def boards(self) -> tuple[str, ...]:
        return (self.board, *self.also)


def publishable_cells(atoms: Iterable[Atom], minimum: int,
                      held: Iterable[Cell] = ()) -> frozenset[Cell]:
    """The partner-type cells of one element that may be shown, boards' and the state's.

    1. A cell of fewer than `minimum` respondents is suppressed.
    2. In order, until none applies: where the suppressed cells of a scope (a board,
       then the state) or the suppressed board cells of a published state cell hold
       1 to minimum - 1 respondents, suppress the smallest published one of them
       (ties: board code, then partner-type order), or the state cell when none is left.
    3. If some set of fewer than `minimum` respondents can still be summed from what is
       published (partnership sums, i.e. mean times n, and the cells), suppress every
       cell of the boards involved and the state cells of every partner type in the
       partnerships involved (every cell when that changes nothing); back to 2.
    """
    atoms = [a for a in atoms if a.n > 0]
    sizes: dict[Cell, int] = defaultdict(int)
    for a in atoms:
        for board in a.boards:
            sizes[board, a.partner_type] += a.n
        sizes[STATE_SCOPE, a.partner_type] += a.n
    shown = {cell for cell, n in sizes.items() if n >= minimum} - set(held)
    while True:
        _complement(sizes, shown, minimum)
        if not shown:  # partnerships alone: each holds `minimum` or more
            return frozenset()
        leaks = derivable_small_sets(atoms, shown, minimum)
        if not leaks:
            return frozenset(shown)
        involved = {a.partnership for leak in leaks for a in leak}
        boards = {board for leak in leaks for a in leak for board in a.boards}
        types = {a.partner_type for a in atoms if a.partnership in involved}
        drop = {c for c in shown if c[0] in boards or (c[0] == STATE_SCOPE and c[1] in types)}
        if leaks == [()] or not drop:
            shown.clear()
        shown -= drop


def _cell_key(cell: Cell, sizes: dict[Cell, int]) -> tuple[int, str, int]:
    return sizes[cell], cell[0], _TYPE_RANK.get(cell[1], len(_TYPE_RANK))


def _complement(sizes: dict[Cell, int], shown: set[Cell], minimum: int) -> None:
    """Step 2 of publishable_cells, in place."""
    scopes = sorted({c[0] for c in sizes} - {STATE_SCOPE}) + [STATE_SCOPE]
    types = sorted({c[1] for c in sizes}, key=lambda t: (_TYPE_RANK.get(t, 99), t))
    groups: list[tuple[Cell | None, list[Cell]]] = [
        (None, [c for c in sizes if c[0] == scope]) for scope in scopes]
    groups += [((STATE_SCOPE, t), [c for c in sizes if c[1] == t and c[0] != STATE_SCOPE])
               for t in types]
    changed = True
    while changed:
        changed = False
        for whole, parts in groups:
            if whole is not None and whole not in shown:
                continue
            hidden = sum(sizes[c] for c in parts if c not in shown)
            if 0 < hidden < minimum:
                candidates = [c for c in parts if c in shown]
                if candidates:
                    shown.discard(min(candidates, key=lambda c: _cell_key(c, sizes)))
                elif whole is not None:
                    shown.discard(whole)
                else:  # a whole scope under the minimum: cannot be (its partnerships are
                    continue  # published), but never loop on it
                changed = True
                break


def derivable_small_sets(atoms: Sequence[Atom], shown: Iterable[Cell],
                         minimum: int) -> list[tuple[Atom, ...]]:
    """Every set of atoms holding 1 to minimum - 1 respondents whose sum can be worked
    out from the partnerships' sums and the shown cells' sums; [()] when too many
    subsets would have to be tried to be sure."""
    atoms = [a for a in atoms if a.n > 0]
    generators: list[list[int]] = []
    by_partnership: dict[int, list[int]] = defaultdict(list)
    by_cell: dict[Cell, list[int]] = defaultdict(list)
    for index, a in enumerate(atoms):
        by_partnership[a.partnership].append(index)
        for board in a.boards:
            by_cell[board, a.partner_type].append(index)
        by_cell[STATE_SCOPE, a.partner_type].append(index)
    generators += by_partnership.values()
    generators += [by_cell[c] for c in shown if c in by_cell]
    found = small_derivable([a.n for a in atoms], generators, minimum)
    return [()] if found == [()] else [tuple(atoms[i] for i in subset) for subset in found]


def small_derivable(sizes: Sequence[int], generators: list[list[int]],
                    minimum: int) -> list[tuple[int, ...]]:
    """Every set of parts (indexes) holding 1 to minimum - 1 respondents in all (`sizes`:
    respondents per part) whose sum is in the span of the known sums (`generators`: the
    parts each known sum adds up); [()] when too many subsets would have to be tried."""
    import numpy as np  # local: numpy adds ~0.1 s to every command start

    small = [i for i, n in enumerate(sizes) if 0 < n < minimum]
    if not small:
        return []
    signatures = _signatures(len(sizes), generators)
    # One number per part (its signature against fixed random weights): subsets are
    # searched by these, and a subset whose numbers add to 0 is confirmed on the vectors.
    weights = np.random.default_rng(20_260_401).integers(1, _PRIME, signatures.shape[1])
    hashes = [int(h) for h in _dot_mod(signatures, weights)]
    by_hash: dict[int, list[int]] = defaultdict(list)
    for position, index in enumerate(small):
        by_hash[hashes[index]].append(position)
    found: list[tuple[int, ...]] = []
    tried = 0
    # (first position free to add, respondents so far, hash sum so far, parts chosen)
    stack: list[tuple[int, int, int, tuple[int, ...]]] = [(0, 0, 0, ())]
    while stack:
        start, total, summed, chosen = stack.pop()
        tried += 1
        if tried > _BUDGET:
            return [()]
        # complete the subset with one part whose number cancels the sum
        for position in by_hash.get((-summed) % _PRIME, ()):
            index = small[position]
            if position >= start and total + sizes[index] < minimum:
                subset = [*chosen, index]
                if not (signatures[subset].sum(axis=0) % _PRIME).any():
                    found.append(tuple(subset))
        # or add a part that leaves room for at least one more
        for position in range(start, len(small)):
            index = small[position]
            if total + sizes[index] + 1 < minimum:
                stack.append((position + 1, total + sizes[index],
                              (summed + hashes[index]) % _PRIME, (*chosen, index)))
    return found


def _dot_mod(matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each row of `matrix` times `weights`, modulo the prime, without int64 overflow."""
    import numpy as np  # local: see derivable_small_sets
    result = np.zeros(len(matrix), dtype=np.int64)
    for column in range(matrix.shape[1]):
        result = (result + matrix[:, column] * int(weights[column]) % _PRIME) % _PRIME
    return result


def _signatures(count: int, generators: list[list[int]]) -> np.ndarray:
    """Per atom, its coordinates against a basis of the vectors orthogonal to every
    generator (mod a prime): a set's sum is derivable when its coordinates add to 0."""
    import numpy as np  # local: see derivable_small_sets
    matrix = np.zeros((len(generators), count), dtype=np.int64)
    for row, members in enumerate(generators):
        matrix[row, members] = 1
    pivots: list[int] = []
    rank = 0
    for column in range(count):
        if rank == len(matrix):
            break
        nonzero = np.nonzero(matrix[rank:, column])[0]
        if not len(nonzero):
            continue
        pivot = rank + int(nonzero[0])
        matrix[[rank, pivot]] = matrix[[pivot, rank]]
        inverse = pow(int(matrix[rank, column]), _PRIME - 2, _PRIME)
        matrix[rank] = (matrix[rank] * inverse) % _PRIME
        factors = matrix[:, column].copy()
        factors[rank] = 0
        rows = np.nonzero(factors)[0]  # incidence rows are sparse: touch only these
        if len(rows):
            matrix[rows, column:] = (matrix[rows, column:] - np.outer(
                factors[rows], matrix[rank, column:]) % _PRIME) % _PRIME
        pivots.append(column)
        rank += 1
    free = [c for c in range(count) if c not in set(pivots)]
    signatures = np.zeros((count, len(free)), dtype=np.int64)
    for j, column in enumerate(free):
        signatures[column, j] = 1
    for i, column in enumerate(pivots):
        signatures[column] = (-matrix[i, free]) % _PRIME
    return signatures


# --- progress, for board leads while a cycle is open -----------------------------------------


@dataclass(frozen=True)
class PartnershipProgress:
    """Response progress of one partnership: counts only, never a figure."""

    partnership_id: int
    label: str
    invited: int
    in_progress: int
    responded: int


def progress(results: CycleResults, board_code: str) -> list[PartnershipProgress]:
    """Invited, in progress and submitted per partnership of a board (rule 4's allowance)."""
    return sorted(
        (PartnershipProgress(p.partnership_id or 0, p.label, p.invited, p.in_progress,
                             p.responded)
         for p in results.partnerships if p.in_board(board_code)),
        key=lambda p: p.label.casefold())
