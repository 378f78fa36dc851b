"""An independent oracle for SPEC section 4: every rollup figure from raw answer rows.

Written from SPEC.md alone (it imports nothing from survey/ or reports/) so that an
acceptance test can compare the Excel rollup with it cell by cell. All arithmetic is
exact (fractions): a delta of exactly 0.25 is `improved`, a score of exactly 2.5 is at
stage 3, whatever the float rounding of the product.
"""

from __future__ import annotations

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

    def stage(self, value: Fraction | None) -> int | None:
        """The highest level whose min_score is at or below the value."""
        if value is None:
            return None
        reached = [lv["value"] for lv in self.levels
                   if Fraction(str(lv["min_score"])) <= value]
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
        """Board or state: mean of partnerships' element scores (suppressed ones count);
        suppressed itself when fewer than min_respondents respondents stand behind it."""
        per_partnership = [self.partnership_scores(cycle, k) for k in keys]
        scores = {}
        for element in self.elements:
            found = [p[element["key"]] for p in per_partnership
                     if p[element["key"]].value is not None]
            respondents = sum(s.n for s in found)
            scores[element["key"]] = Score(mean([s.value for s in found]), respondents,
                                           0 < respondents < self.min_respondents)
        values = [s.value for s in scores.values()]
        overall = mean(values) if all(v is not None for v in values) else None
        scores["overall"] = Score(overall, min(s.n for s in scores.values()),
                                  any(s.suppressed for s in scores.values()))
        return scores

    def partner_type_cells(self, cycle: str, keys: Iterable[PartnershipKey]
                           ) -> dict[str, tuple[int, dict[str, Score]]]:
        """Per partner type: respondents, and each element's pooled respondent mean."""
        by_type: dict[str, list[Respondent]] = defaultdict(list)
        for key in keys:
            for respondent in self.answers[cycle].get(key, {}).values():
                by_type[respondent.partner_type].append(respondent)
        cells = {}
        for partner_type, respondents in by_type.items():
            row = {}
            for element in self.elements:
                scores = [s for r in respondents
                          if (s := self.respondent_score(r, element)) is not None]
                row[element["key"]] = Score(mean(scores), len(scores),
                                            len(scores) < self.min_respondents)
            cells[partner_type] = (len(respondents), row)
        return cells

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
            if delta >= self.threshold:
                row["status"] = "improved"
            elif delta <= -self.threshold:
                row["status"] = "declined"
            elif (self.stage(current.value) or 0) >= self.sustained_level:
                row["status"] = "sustained"
            else:
                row["status"] = "no change"
        return row

    def partnerships_in(self, board: str | None, universe: Iterable[PartnershipKey]
                        ) -> list[PartnershipKey]:
        return sorted(k for k in universe if board is None or k[0] == board)

    def submitted(self, cycle: str, key: PartnershipKey) -> int:
        return len(self.answers[cycle].get(key, {}))
