"""An independent oracle for SPEC sections 4 and 4a: every rollup figure from raw rows.

Written from SPEC.md alone (it imports nothing from survey/ or reports/) so that an
acceptance test can compare the Excel rollup with it cell by cell. All arithmetic is
exact (fractions): a delta of exactly 0.25 is `improved`, a score of exactly 2.5 is at
stage 3, whatever the float rounding of the product; stages and statuses are taken
from the figure rounded to two decimals, half up (SPEC 4: a shown 1.75 is Building).

Section 4a rule 1 (complementary suppression) leaves the order of "suppress further
parts, smallest first" to the product; this follows the order survey.disclosure
documents (scopes' partner-type cells board by board then the state, then the state's
cells against their board cells; ties by board code then partner-type order; a set of
fewer than min_respondents respondents still derivable suppresses its boards' cells and
the state cells of its partnerships' types) and checks derivability with exact rational
elimination rather than the product's modular one.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

SUPPRESSED = "suppressed"
PARTNER_TYPES: dict[str, str] = {
    "business": "Business / industry",
    "workforce": "Workforce development",
    "education": "Education and training",
    "economic_development": "Economic development",
    "labor": "Labor",
    "community": "Community organization",
    "other": "Other",
}

Answer = int | str | None  # a level, "DK", "NA" or None (unanswered)
PartnershipKey = tuple[str, str]  # (board code, partnership name)


@dataclass(frozen=True)
class Score:
    """A figure with the number of respondents behind it; value None when undefined."""

    value: Fraction | None
    n: int = 0
    suppressed: bool = False


NO_SCORE = Score(None)


def mean(values: Sequence[Fraction]) -> Fraction | None:
    """The exact mean, or None of nothing."""
    return Fraction(sum(values)) / len(values) if values else None


@dataclass
class Respondent:
    """One submitted respondent's answers in one cycle."""

    partner_type: str
    answers: dict[str, Answer] = field(default_factory=dict)


@dataclass
class Oracle:
    """SPEC section 4 over a questionnaire dump (`survey questionnaires dump`) and rows."""

    questionnaire: Mapping
    cycles: Sequence[str]  # chronological
    rows: Iterable[Mapping[str, str]] = ()
    # Partnerships that span boards (SPEC 16): key -> the other boards it counts in. A
    # board's scope holds them too; the state and a sector hold each partnership once.
    shared: Mapping[PartnershipKey, tuple[str, ...]] = field(default_factory=dict)
    # answers[cycle][(board, partnership)][respondent]
    answers: dict[str, dict[PartnershipKey, dict[str, Respondent]]] = field(init=False)

    def __post_init__(self) -> None:
        scale = self.questionnaire["scale"]
        self.levels = sorted(scale["levels"], key=lambda level: level["value"])
        self.min_respondents = int(scale["min_respondents"])
        self.threshold = Fraction(str(scale["change_threshold"]))
        self.sustained_level = int(scale["sustained_level"])
        self.elements = sorted(self.questionnaire["elements"], key=lambda e: e["order"])
        self.item_element = {i["code"]: e["key"] for e in self.elements for i in e["items"]}
        self.answers = {cycle: defaultdict(dict) for cycle in self.cycles}
        for row in self.rows:
            self.add(row)

    def add(self, row: Mapping[str, str]) -> None:
        """Record one import row (SPEC section 7 columns)."""
        key = (row["board"], row["partnership"])
        respondents = self.answers[row["cycle"]][key]
        respondent = respondents.setdefault(row["respondent"], Respondent(row["partner_type"]))
        raw = row["score"].strip()
        respondent.answers[row["item"]] = (
            None if raw == "" else raw if raw in ("DK", "NA") else int(raw)
        )

    # -- figures -------------------------------------------------------------------

    @staticmethod
    def shown(value: Fraction) -> Fraction:
        """The value rounded to two decimals, half up (away from zero): the figure read."""
        cents = abs(value) * 100
        whole = int(cents) + (1 if cents - int(cents) >= Fraction(1, 2) else 0)
        return Fraction(whole if value >= 0 else -whole, 100)

    def stage(self, value: Fraction | None) -> int | None:
        """The highest level whose min_score is at or below the value as shown (SPEC 4)."""
        if value is None:
            return None
        reached = [lv["value"] for lv in self.levels
                   if Fraction(str(lv["min_score"])) <= self.shown(value)]
        return max(reached) if reached else None

    def stage_label(self, value: Fraction | None) -> str | None:
        stage = self.stage(value)
        return None if stage is None else next(
            lv["label"] for lv in self.levels if lv["value"] == stage)

    def respondent_score(self, respondent: Respondent, element: Mapping) -> Fraction | None:
        """Mean of scored items, defined when at least half (rounded up) are scored."""
        codes = [item["code"] for item in element["items"]]
        scored = [Fraction(v) for c in codes
                  if isinstance(v := respondent.answers.get(c), int)]
        return mean(scored) if len(scored) >= math.ceil(len(codes) / 2) else None

    def partnership_element(self, cycle: str, key: PartnershipKey, element: Mapping) -> Score:
        scores = [s for r in self.answers[cycle].get(key, {}).values()
                  if (s := self.respondent_score(r, element)) is not None]
        return Score(mean(scores), len(scores), len(scores) < self.min_respondents)

    def partnership_scores(self, cycle: str, key: PartnershipKey) -> dict[str, Score]:
        """Each element's score, plus "overall" (suppressed when any element is)."""
        scores = {e["key"]: self.partnership_element(cycle, key, e) for e in self.elements}
        values = [s.value for s in scores.values()]
        overall = NO_SCORE
        if all(v is not None for v in values):
            overall = Score(mean(values), min(s.n for s in scores.values()),
                            any(s.suppressed for s in scores.values()))
        scores["overall"] = overall
        return scores

    def scope_scores(self, cycle: str, keys: Iterable[PartnershipKey]) -> dict[str, Score]:
        """Board or state: mean of the *published* partnership element scores (SPEC 4
        revised); suppressed when partnerships have scores but none is published."""
        per_partnership = [self.partnership_scores(cycle, k) for k in keys]
        scores = {}
        for element in self.elements:
            found = [p[element["key"]] for p in per_partnership
                     if p[element["key"]].value is not None]
            published = [s for s in found if not s.suppressed]
            if published:
                scores[element["key"]] = Score(mean([s.value for s in published]),
                                               len(published))
            else:
                # a placeholder value: the figure exists but reads "suppressed"
                scores[element["key"]] = Score(Fraction(0) if found else None, 0, bool(found))
        values = [s.value for s in scores.values()]
        overall = mean(values) if all(v is not None for v in values) else None
        scores["overall"] = Score(overall, min(s.n for s in scores.values()),
                                  any(s.suppressed for s in scores.values()))
        return scores

    def partner_type_cells(self, cycle: str, keys: Iterable[PartnershipKey],
                           scope: str) -> dict[str, tuple[int, dict[str, Score]]]:
        """Per partner type: submitted respondents (everyone), and each element's mean
        pooled over respondents of partnerships whose score there is published, shown
        only where complementary suppression over the whole state lets it through.
        `scope` is "State" or a board code."""
        keys = list(keys)
        by_type: dict[str, list[tuple[PartnershipKey, Respondent]]] = defaultdict(list)
        for key in keys:
            for respondent in self.answers[cycle].get(key, {}).values():
                by_type[respondent.partner_type].append((key, respondent))
        cells = {}
        for partner_type, members in by_type.items():
            row = {}
            for element in self.elements:
                shown = self.shown_cells(cycle, element["key"])
                scores = [s for key, r in members if self.published(cycle, key, element)
                          and (s := self.respondent_score(r, element)) is not None]
                hidden = (scope, partner_type) not in shown
                row[element["key"]] = Score(mean(scores), len(scores), hidden)
            cells[partner_type] = (len(members), row)
        return cells

    def published(self, cycle: str, key: PartnershipKey, element: Mapping) -> bool:
        score = self.partnership_element(cycle, key, element)
        return score.value is not None and not score.suppressed

    # -- SPEC 4a rule 1 -----------------------------------------------------------------

    def atoms(self, cycle: str, element_key: str) -> dict[tuple, int]:
        """Respondents with a score, per (board, partnership, partner type), in partnerships
        whose score in the element is published."""
        element = next(e for e in self.elements if e["key"] == element_key)
        counts: dict[tuple, int] = defaultdict(int)
        for key, respondents in self.answers[cycle].items():
            if not self.published(cycle, key, element):
                continue
            for r in respondents.values():
                if self.respondent_score(r, element) is not None:
                    counts[key[0], key, r.partner_type] += 1
        return dict(counts)

    def shown_cells(self, cycle: str, element_key: str) -> set[tuple[str, str]]:
        """(scope, partner type) cells of one element that may be published."""
        cache = self.__dict__.setdefault("_shown", {})
        if (cycle, element_key) not in cache:
            cache[cycle, element_key] = self._complementary(self.atoms(cycle, element_key))
        return cache[cycle, element_key]

    def _complementary(self, atoms: dict[tuple, int]) -> set[tuple[str, str]]:
        m = self.min_respondents
        order = {t: i for i, t in enumerate(PARTNER_TYPES)}
        size: dict[tuple[str, str], int] = defaultdict(int)
        for (board, _, kind), n in atoms.items():
            size[board, kind] += n
            size["State", kind] += n
        shown = {cell for cell, n in size.items() if n >= m}
        boards = sorted({cell[0] for cell in size if cell[0] != "State"})
        kinds = sorted({cell[1] for cell in size}, key=lambda k: (order.get(k, 99), k))

        def first_violation() -> tuple[list, tuple | None] | None:
            for scope in [*boards, "State"]:
                parts = [c for c in size if c[0] == scope]
                if 0 < sum(size[c] for c in parts if c not in shown) < m:
                    return parts, None
            for kind in kinds:
                if ("State", kind) in shown:
                    parts = [c for c in size if c[1] == kind and c[0] != "State"]
                    if 0 < sum(size[c] for c in parts if c not in shown) < m:
                        return parts, ("State", kind)
            return None

        while True:
            while (violation := first_violation()) is not None:
                parts, whole = violation
                still = [c for c in parts if c in shown]
                if still:
                    shown.remove(min(still, key=lambda c: (size[c], c[0], order.get(c[1], 99))))
                else:
                    shown.remove(whole)
            if not shown:
                return shown
            leaks = self._leaks(atoms, shown)
            if not leaks:
                return shown
            partnerships = {a[1] for leak in leaks for a in leak}
            leak_boards = {a[0] for leak in leaks for a in leak}
            leak_kinds = {a[2] for a in atoms if a[1] in partnerships}
            drop = {c for c in shown if c[0] in leak_boards
                    or (c[0] == "State" and c[1] in leak_kinds)}
            shown = shown - drop if drop else set()

    def _leaks(self, atoms: dict[tuple, int], shown: set[tuple[str, str]]) -> list[tuple]:
        """Every set of atoms with 1 to min_respondents - 1 respondents whose sum follows
        from the partnerships' sums and the shown cells' sums (exact row reduction)."""
        names = sorted(atoms)
        index = {a: i for i, a in enumerate(names)}
        generators = []
        for key in sorted({a[1] for a in names}):
            generators.append({index[a] for a in names if a[1] == key})
        for scope, kind in sorted(shown):
            generators.append({index[a] for a in names
                               if a[2] == kind and scope in ("State", a[0])})
        basis = _row_reduce([[Fraction(int(i in g)) for i in range(len(names))]
                             for g in generators])
        small = [a for a in names if atoms[a] < self.min_respondents]
        found = []
        for size in range(1, self.min_respondents):
            for subset in itertools.combinations(small, size):
                if sum(atoms[a] for a in subset) >= self.min_respondents:
                    continue
                vector = [Fraction(int(a in subset)) for a in names]
                if _in_span(vector, basis):
                    found.append(subset)
        return found

    def items_withheld(self, cycle: str, key: PartnershipKey) -> bool:
        """SPEC 4a: a partnership with fewer than min_respondents submitted shows no item
        figure at all (with one or two respondents every count is someone's answer)."""
        return self.submitted(cycle, key) < self.min_respondents

    def items_grouped_withheld(self, cycle: str, key: PartnershipKey, element: dict) -> bool:
        """SPEC 4a rule 7: grouped by how many of the element's items they scored, the
        respondents form two or more groups and one has fewer than min_respondents."""
        codes = [item["code"] for item in element["items"]]
        groups: dict[int, int] = {}
        for respondent in self.answers[cycle].get(key, {}).values():
            scored = sum(1 for code in codes if isinstance(respondent.answers.get(code), int))
            if scored:
                groups[scored] = groups.get(scored, 0) + 1
        return len(groups) > 1 and any(n < self.min_respondents for n in groups.values())

    def item_counts(self, cycle: str, key: PartnershipKey, code: str) -> dict:
        """n, mean, don't know, not applicable and the count at each level for one item."""
        answers = [r.answers.get(code) for r in self.answers[cycle].get(key, {}).values()]
        levels = [Fraction(a) for a in answers if isinstance(a, int)]
        return {
            "n": len(levels),
            "mean": mean(levels),
            "dk": answers.count("DK"),
            "na": answers.count("NA"),
            "levels": {lv["value"]: sum(1 for a in answers if a == lv["value"])
                       for lv in self.levels},
        }

    def change(self, cycle: str, key: PartnershipKey, element: str) -> dict | None:
        """The Change row for a partnership and element (or "overall"), None without a
        current score: previous is the most recent earlier cycle that had a score."""
        current = self.partnership_scores(cycle, key)[element]
        if current.value is None:
            return None
        earlier = list(self.cycles[: self.cycles.index(cycle)])
        previous_cycle, previous = None, NO_SCORE
        for name in reversed(earlier):
            score = self.partnership_scores(name, key)[element]
            if score.value is not None:
                previous_cycle, previous = name, score
                break
        row = {"previous_cycle": previous_cycle, "previous": previous, "current": current,
               "delta": None, "status": None}
        if previous.value is not None:
            delta = current.value - previous.value
            row["delta"] = delta
            if self.shown(delta) >= self.threshold:
                row["status"] = "improved"
            elif self.shown(delta) <= -self.threshold:
                row["status"] = "declined"
            elif (self.stage(current.value) or 0) >= self.sustained_level:
                row["status"] = "sustained"
            else:
                row["status"] = "no change"
        return row

    def partnerships_in(self, board: str | None, universe: Iterable[PartnershipKey]
                        ) -> list[PartnershipKey]:
        """The distinct partnerships of a board (led by it or shared with it), or of the
        state (board None): each once."""
        return sorted({k for k in universe
                       if board is None or board in (k[0], *self.shared.get(k, ()))})

    def submitted(self, cycle: str, key: PartnershipKey) -> int:
        return len(self.answers[cycle].get(key, {}))


def _row_reduce(rows: list[list[Fraction]]) -> list[tuple[int, list[Fraction]]]:
    """Reduced row echelon form: (pivot column, row) pairs."""
    rows = [list(r) for r in rows]
    basis: list[tuple[int, list[Fraction]]] = []
    width = len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((r for r in rows if r[column] != 0), None)
        if pivot is None:
            continue
        rows.remove(pivot)
        pivot = [v / pivot[column] for v in pivot]
        rows = [[a - r[column] * b for a, b in zip(r, pivot, strict=True)] for r in rows]
        basis = [(c, [a - r[column] * b for a, b in zip(r, pivot, strict=True)])
                 for c, r in basis]
        basis.append((column, pivot))
    return basis


def _in_span(vector: list[Fraction], basis: list[tuple[int, list[Fraction]]]) -> bool:
    rest = list(vector)
    for column, row in basis:
        if rest[column] != 0:
            factor = rest[column]
            rest = [a - factor * b for a, b in zip(rest, row, strict=True)]
    return not any(rest)
