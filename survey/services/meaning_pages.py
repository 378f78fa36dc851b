"""What the dashboards say about SPEC 15's figures: agreement beside a score, where a
partnership stands among its peers, elements where partners split, the instrument's weak
items. Pure functions over `reports.results.CycleResults` (no Flask, no database), which
carry only what the gate published."""

from __future__ import annotations

from dataclasses import dataclass

from reports.results import (
    OVERALL,
    STATE_SCOPE,
    AgreementResult,
    BenchmarkResult,
    CycleResults,
    InstrumentElement,
    InstrumentItem,
    MarginResult,
    ScopeResult,
)
from survey.scoring.statistics import peer_position

WEAK_ITEM_REST = 0.30  # SPEC 15: an item correlating less with the rest may measure else
MANY_DONT_KNOW = 0.25  # and one that more than a quarter cannot judge


@dataclass(frozen=True)
class ElementMeaning:
    """Beside one element score: its margin and agreement (None where not published)."""

    margin: MarginResult | None
    agreement: AgreementResult | None


@dataclass(frozen=True)
class PeerRow:
    """One element (or overall) of a partnership against its sector and the state."""

    key: str
    title: str
    value: float | None  # the partnership's published score
    sector: BenchmarkResult | None
    state: BenchmarkResult | None
    position: str | None  # against the sector where it has quartiles, else the state
    against: str  # "Healthcare partnerships" or "partnerships statewide"


@dataclass(frozen=True)
class SplitElement:
    """An element on which a partnership's partners are split."""

    partnership_id: int
    partnership: str
    element_key: str
    title: str
    rwg: float


def element_meanings(results: CycleResults,
                     partnership_id: int | None) -> dict[str, ElementMeaning]:
    """Margin and agreement of each element of one partnership, by element key."""
    return {e.key: ElementMeaning(results.margin_of(partnership_id, e.key),
                                  results.agreement_of(partnership_id, e.key))
            for e in results.elements}


def peer_rows(results: CycleResults, partnership: ScopeResult) -> list[PeerRow]:
    """Each element and overall of a partnership against its peers' quartiles."""
    rows = []
    titles = {**results.element_titles, OVERALL: "Overall"}
    for key in (*(e.key for e in results.elements), OVERALL):
        score = partnership.overall if key == OVERALL else partnership.elements[key]
        value = score.value if score.shown else None
        sector = results.benchmark_of(partnership.sector, key) if partnership.sector else None
        state = results.benchmark_of(STATE_SCOPE, key)
        peers = sector or state
        against = f"{partnership.sector} partnerships" if sector else "partnerships statewide"
        position = None
        if value is not None and peers is not None:
            position = peer_position(value, peers.lower, peers.median, peers.upper)
        rows.append(PeerRow(key, titles[key], value, sector, state, position, against))
    return rows


def standing(results: CycleResults, partnership: ScopeResult) -> str | None:
    """One sentence on where a partnership's overall score stands among its peers:
    "above the median of Manufacturing partnerships"; None where it cannot be said."""
    overall = next(r for r in peer_rows(results, partnership) if r.key == OVERALL)
    if overall.position is None:
        return None
    return f"{overall.position} of {overall.against}"


def split_elements(results: CycleResults, partnership_ids: set[int]) -> list[SplitElement]:
    """Elements where partners split, for these partnerships, lowest agreement first."""
    titles = results.element_titles
    found = [SplitElement(a.partnership_id, a.partnership, a.element_key,
                          titles.get(a.element_key, a.element_key), a.rwg)
             for a in results.agreement
             if a.reading == "split" and a.partnership_id in partnership_ids]
    return sorted(found, key=lambda s: (s.rwg, s.partnership.casefold(), s.title))


def agreement_words(results: CycleResults, partnership_id: int | None) -> tuple[int, list[str],
                                                                                list[str]]:
    """(elements where partners agree, element keys where mixed, element keys where split)."""
    mine = [a for a in results.agreement if a.partnership_id == partnership_id]
    return (sum(1 for a in mine if a.reading == "agree"),
            [a.element_key for a in mine if a.reading == "mixed"],
            [a.element_key for a in mine if a.reading == "split"])


@dataclass(frozen=True)
class InstrumentRow:
    """One item on the instrument page, with why it is flagged (empty: not flagged)."""

    item: InstrumentItem
    number: str
    text: str
    flags: tuple[str, ...]


@dataclass(frozen=True)
class InstrumentGroup:
    element: InstrumentElement
    title: str
    rows: list[InstrumentRow]


def instrument_groups(results: CycleResults, numbers: dict[str, str]) -> list[InstrumentGroup]:
    """The instrument's elements with their items, weak items flagged."""
    texts = {i.code: i.text for i in results.items}
    titles = results.element_titles
    groups = []
    for element in results.instrument:
        rows = [InstrumentRow(item, numbers.get(item.item_code, item.item_code),
                              texts.get(item.item_code, ""), item_flags(item))
                for item in results.instrument_items if item.element_key == element.element_key]
        groups.append(InstrumentGroup(element, titles.get(element.element_key, ""), rows))
    return groups


def item_flags(item: InstrumentItem) -> tuple[str, ...]:
    """Why an item is weak: item-rest below 0.30, don't know above 25%."""
    flags = []
    if item.item_rest is not None and item.item_rest < WEAK_ITEM_REST:
        flags.append(f"item-rest below {WEAK_ITEM_REST:.2f}")
    if item.dont_know is not None and item.dont_know > MANY_DONT_KNOW:
        flags.append(f"don't know above {MANY_DONT_KNOW:.0%}")
    return tuple(flags)


def weakest_items(groups: list[InstrumentGroup]) -> list[InstrumentRow]:
    """The flagged items, the most doubtful first (lowest item-rest, then most don't know)."""
    flagged = [row for group in groups for row in group.rows if row.flags]
    return sorted(flagged, key=lambda r: (-len(r.flags), r.item.item_rest
                                          if r.item.item_rest is not None else 1.0,
                                          -(r.item.dont_know or 0.0)))
