"""What to work on: the weakest elements and items of a scope, and its widest industry gap.

Pure functions over `reports.results.CycleResults` (no Flask, no database). They read only
figures the dashboards already publish: suppressed scores are skipped, item means come
only from partnerships with at least `min_respondents` submitted responses and items
scored by at least that many, so nothing here reveals what a page hides (SPEC 4a).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reports.results import CycleResults, ItemResult, ScopeResult, StageInfo

TOP = 3


@dataclass(frozen=True)
class WeakElement:
    """An element with one of the lowest published scores of its scope."""

    key: str
    title: str
    score: float
    stage: StageInfo | None


@dataclass(frozen=True)
class WeakItem:
    """An item with one of the lowest published means, labelled as partners saw it."""

    label: str  # "2.3": element position, item position (the partner pages' numbers)
    text: str
    element_title: str
    mean: float
    n: int  # scored answers behind the mean
    partnerships: int  # partnerships pooled (1 on a partnership page)


@dataclass(frozen=True)
class WidestGap:
    """The element where business partners and the others disagree most."""

    title: str
    gap: float  # business minus the others


@dataclass(frozen=True)
class Focus:
    """The three kinds of "what to work on" a dashboard lists first."""

    elements: list[WeakElement]
    items: list[WeakItem]
    gap: WidestGap | None

    @property
    def empty(self) -> bool:
        return not (self.elements or self.items or self.gap)


def item_labels(results: CycleResults) -> dict[str, str]:
    """Each item code's number as the partner pages show it: "element.item", from 1."""
    return results.item_numbers


def weakest_elements(results: CycleResults, scope: ScopeResult) -> list[WeakElement]:
    """The scope's lowest published element scores, lowest first."""
    scored = [
        WeakElement(e.key, e.title, s.value, results.scale.stage(s.value))
        for e in results.elements
        if (s := scope.elements[e.key]).value is not None and not s.suppressed
    ]
    return sorted(scored, key=lambda w: (w.score, w.title))[:TOP]


def weakest_items(results: CycleResults, partnership_ids: Iterable[int]) -> list[WeakItem]:
    """The lowest item means pooled over these partnerships' published item results."""
    minimum = results.scale.min_respondents
    wanted = {
        p.partnership_id
        for p in results.partnerships
        if p.partnership_id in set(partnership_ids) and p.responded >= minimum
    }
    pooled: dict[str, list[ItemResult]] = {}
    for item in results.item_results:
        if item.partnership_id in wanted and item.mean is not None and item.n >= minimum:
            pooled.setdefault(item.item_code, []).append(item)
    labels = item_labels(results)
    titles = results.element_titles
    weak = []
    for code, parts in pooled.items():
        n = sum(p.n for p in parts)
        mean = sum(p.mean * p.n for p in parts if p.mean is not None) / n
        first = parts[0]
        weak.append(WeakItem(labels.get(code, code), first.text,
                             titles.get(first.element_key, first.element_key),
                             mean, n, len(parts)))
    return sorted(weak, key=lambda w: (w.mean, w.label))[:TOP]


def widest_gap(results: CycleResults, scope_key: str) -> WidestGap | None:
    """The published industry gap of the largest size in a scope ("State" or a board code)."""
    gaps = [g for g in results.gaps if g.scope == scope_key and g.gap is not None]
    if not gaps:
        return None
    widest = max(gaps, key=lambda g: (abs(g.gap or 0.0), g.element_key))
    return WidestGap(results.element_titles.get(widest.element_key, widest.element_key),
                     widest.gap or 0.0)


def board_focus(results: CycleResults, board: ScopeResult) -> Focus:
    """A board's weakest elements and items (over its partnerships) and widest gap."""
    ids = [p.partnership_id for p in results.partnerships
           if p.board_code == board.key and p.partnership_id is not None]
    return Focus(weakest_elements(results, board), weakest_items(results, ids),
                 widest_gap(results, board.key))


def state_focus(results: CycleResults) -> Focus:
    """The state's weakest elements and items and its widest gap."""
    ids = [p.partnership_id for p in results.partnerships if p.partnership_id is not None]
    return Focus(weakest_elements(results, results.state), weakest_items(results, ids),
                 widest_gap(results, results.state.key))


def partnership_focus(results: CycleResults, partnership: ScopeResult) -> Focus:
    """A partnership's weakest elements and items (no gap: that is a board figure)."""
    ids = [partnership.partnership_id] if partnership.partnership_id is not None else []
    return Focus(weakest_elements(results, partnership), weakest_items(results, ids), None)
