"""A small, realistic CycleResults built by hand, for tests, demos and benchmarks.

Two boards, four partnerships (one with too few respondents, so suppressed), three
cycles of trends, and changes with every status. Figures follow SPEC section 4 so
they are consistent with each other; the answers behind them are generated from a
fixed rule, so the same call always gives the same results.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from statistics import mean

from reports.results import (
    OVERALL,
    PARTNER_TYPE_LABELS,
    STATE_SCOPE,
    ChangeResult,
    Comment,
    CycleResults,
    ElementInfo,
    GapResult,
    ItemInfo,
    ItemResult,
    PartnerTypeResult,
    ResponseRow,
    ScaleInfo,
    ScopeResult,
    Score,
    StageInfo,
    TrendPoint,
)

SCALE = ScaleInfo(
    levels=(
        StageInfo(1, "Exploring", "The partnership is forming and exploring the practice.", 1.0),
        StageInfo(2, "Building", "The practice is being built and tried.", 1.75),
        StageInfo(3, "Implementing", "The practice is in place and used.", 2.5),
        StageInfo(4, "Sustaining", "The practice is routine, measured and improved.", 3.25),
    ),
    dont_know_label="Don't know",
    not_applicable_label="Not applicable",
    min_respondents=3,
    change_threshold=0.25,
    sustained_level=3,
)

ELEMENTS = (
    ElementInfo("data", "Driven by High-Quality Data", 1),
    ElementInfo("vision", "Founded on a Shared, Regional Vision", 2),
    ElementInfo("industry", "Directed by Industry", 3),
    ElementInfo("alignment", "Lead to Strategic Alignment", 4),
    ElementInfo(
        "services",
        "Transform How Services (jobseeker/worker and employer) are Delivered",
        5,
    ),
    ElementInfo("measured", "Measured, Improved and Sustained", 6),
)

_ITEM_TEXTS = (
    "Partners share labour market data for the sector.",
    "Employers validate the data with first-hand knowledge.",
    "The partnership reviews its priorities at least once a year.",
    "Decisions are recorded and shared with every partner.",
    "Results are reported back to the businesses that took part.",
)

ITEMS = tuple(
    ItemInfo(element.key, f"{element.key}-{number}", text)
    for element in ELEMENTS
    for number, text in enumerate(_ITEM_TEXTS, start=1)
)

CYCLES = ("2024", "2025", "2026")  # the last is the current one


@dataclass(frozen=True)
class _Partnership:
    id: int
    board_code: str
    board_name: str
    name: str
    sector: str
    partner_types: tuple[str, ...]  # one per submitted respondent
    invited: int
    in_progress: int
    base: float  # how mature its answers are
    deltas: tuple[float, ...] | None  # change since the previous cycle, per element


BOARDS = {"01": "CareerSource Escarosa", "02": "CareerSource Okaloosa Walton"}

_PARTNERSHIPS = (
    _Partnership(
        11, "01", BOARDS["01"], "Northwest Florida Health Care Partnership", "Health care",
        ("business", "business", "business", "workforce", "education", "community"),
        8, 1, 2.7, (0.4, -0.3, 0.1, 0.05, -0.1, 0.2),
    ),
    _Partnership(
        12, "01", BOARDS["01"], "Panhandle Advanced Manufacturing", "Manufacturing",
        ("business", "education"), 5, 1, 2.0, (0.3, 0.0, -0.2, 0.1, 0.0, 0.1),
    ),
    _Partnership(
        21, "02", BOARDS["02"], "Emerald Coast Construction Alliance", "Construction",
        ("business", "business", "economic_development", "labor"),
        6, 0, 1.9, (0.1, 0.3, -0.4, 0.0, 0.15, -0.05),
    ),
    _Partnership(
        22, "02", BOARDS["02"], "Gulf Coast Health Sciences Partnership", "Health care",
        ("business", "business", "workforce", "education", "other"),
        7, 2, 3.0, None,
    ),
)


def _answer(p: _Partnership, respondent: int, item_index: int, element_index: int) -> str:
    """A fixed, varied answer: a level "1".."4", "DK", "NA" or "" (unanswered)."""
    if (respondent * 5 + item_index * 3 + p.id) % 23 == 0:
        return ""
    if (respondent + item_index * 2 + p.id) % 13 == 0:
        return "DK"
    if (respondent * 3 + item_index + p.id) % 19 == 0:
        return "NA"
    spread = ((respondent * 7 + item_index * 3 + p.id) % 5 - 2) * 0.45
    level = p.base + (element_index - 2.5) * 0.12 + spread
    return str(min(4, max(1, round(level))))


def _respondent_scores(answers: dict[str, str]) -> dict[str, float | None]:
    """Element scores of one respondent: defined when half the items (rounded up) are scored."""
    scores: dict[str, float | None] = {}
    for element in ELEMENTS:
        codes = [i.code for i in ITEMS if i.element_key == element.key]
        scored = [int(answers[c]) for c in codes if answers[c].isdigit()]
        enough = len(scored) >= math.ceil(len(codes) / 2)
        scores[element.key] = mean(scored) if scored and enough else None
    return scores


def _pooled(values: list[float], min_n: int) -> Score:
    if not values:
        return Score(None, 0)
    if len(values) < min_n:
        return Score(None, len(values), suppressed=True)
    return Score(mean(values), len(values))


def _overall(scores: dict[str, Score]) -> Score:
    if any(s.suppressed for s in scores.values()):
        return Score(None, min(s.n for s in scores.values()), suppressed=True)
    if all(s.value is not None for s in scores.values()):
        return Score(mean(s.value for s in scores.values()), min(s.n for s in scores.values()))
    return Score(None, 0)


def _status(delta: float, current: float) -> str:
    return SCALE.change_status(delta, current)


def _scope(kind: str, key: str, label: str, raw: list[dict[str, float]], **counts) -> ScopeResult:
    """A board, sector or state scope: means over partnerships that have a score."""
    elements = {}
    for element in ELEMENTS:
        values = [r[element.key] for r in raw if r.get(element.key) is not None]
        elements[element.key] = Score(mean(values), len(values)) if values else Score(None, 0)
    overall = _overall(elements)
    return ScopeResult(
        kind, key, label, elements, overall, SCALE.stage(overall.value),
        partnerships=len(raw), **counts,
    )


def sample_results(board_code: str | None = None) -> CycleResults:
    """Results of cycle "2026" for two boards and four partnerships (one board if given)."""
    min_n = SCALE.min_respondents
    responses: list[ResponseRow] = []
    item_results: list[ItemResult] = []
    partnerships: list[ScopeResult] = []
    raw_by_partnership: dict[int, dict[str, float]] = {}  # unsuppressed, for rollups
    by_type: dict[tuple[str, str], list[dict[str, float | None]]] = {}
    for p in _PARTNERSHIPS:
        respondent_answers = []
        for r, partner_type in enumerate(p.partner_types, start=1):
            code = f"R{p.id}{r:02d}"
            answers = {}
            for e_index, element in enumerate(ELEMENTS):
                element_items = [i for i in ITEMS if i.element_key == element.key]
                for i_index, item in enumerate(element_items):
                    answers[item.code] = _answer(p, r, i_index + 6 * e_index, e_index)
                    responses.append(
                        ResponseRow(
                            CYCLES[-1], p.board_code, p.name, code, partner_type,
                            element.key, item.code, answers[item.code],
                        )
                    )
            respondent_answers.append(answers)
            scores = _respondent_scores(answers)
            for scope in (STATE_SCOPE, p.board_code):
                by_type.setdefault((scope, partner_type), []).append(scores)
        for item in ITEMS:
            given = [a[item.code] for a in respondent_answers]
            levels = [int(g) for g in given if g.isdigit()]
            item_results.append(
                ItemResult(
                    p.board_code, p.id, p.name, item.element_key, item.code, item.text,
                    n=len(levels), mean=mean(levels) if levels else None,
                    dont_know=given.count("DK"), not_applicable=given.count("NA"),
                    unanswered=given.count(""),
                    counts={level.value: levels.count(level.value) for level in SCALE.levels},
                )
            )
        per_respondent = [_respondent_scores(a) for a in respondent_answers]
        raw = {}
        elements = {}
        for element in ELEMENTS:
            values = [s[element.key] for s in per_respondent if s[element.key] is not None]
            if values:
                raw[element.key] = mean(values)
            elements[element.key] = _pooled(values, min_n)
        raw_by_partnership[p.id] = raw
        overall = _overall(elements)
        partnerships.append(
            ScopeResult(
                "partnership", str(p.id), p.name, elements, overall,
                None if overall.suppressed else SCALE.stage(overall.value),
                invited=p.invited, responded=len(p.partner_types), in_progress=p.in_progress,
                partnerships=1, board_code=p.board_code, board_name=p.board_name,
                sector=p.sector, partnership_id=p.id,
            )
        )

    def counts(ps: list[_Partnership]) -> dict[str, int]:
        return {
            "invited": sum(p.invited for p in ps),
            "responded": sum(len(p.partner_types) for p in ps),
            "in_progress": sum(p.in_progress for p in ps),
        }

    state = _scope(
        "state", STATE_SCOPE, "Florida", list(raw_by_partnership.values()),
        **counts(list(_PARTNERSHIPS)),
    )
    boards = []
    for code, name in BOARDS.items():
        members = [p for p in _PARTNERSHIPS if p.board_code == code]
        boards.append(
            replace(
                _scope("board", code, name, [raw_by_partnership[p.id] for p in members],
                       **counts(members)),
                board_code=code, board_name=name,
            )
        )
    sectors = []
    for sector in sorted({p.sector for p in _PARTNERSHIPS}):
        members = [p for p in _PARTNERSHIPS if p.sector == sector]
        sectors.append(
            _scope("sector", sector, sector, [raw_by_partnership[p.id] for p in members],
                   **counts(members))
        )

    partner_types = []
    gaps = []
    for scope in (STATE_SCOPE, *BOARDS):
        for key, label in PARTNER_TYPE_LABELS.items():
            rows = by_type.get((scope, key))
            if not rows:
                continue
            partner_types.append(
                PartnerTypeResult(
                    scope, key, label, len(rows),
                    {
                        e.key: _pooled([r[e.key] for r in rows if r[e.key] is not None], min_n)
                        for e in ELEMENTS
                    },
                )
            )
        for element in ELEMENTS:
            sides = {True: [], False: []}
            for (s, key), rows in by_type.items():
                if s == scope:
                    sides[key == "business"] += [r[element.key] for r in rows
                                                 if r[element.key] is not None]
            business, others = _pooled(sides[True], min_n), _pooled(sides[False], min_n)
            gap = (business.value - others.value
                   if business.shown and others.shown else None)
            gaps.append(GapResult(scope, element.key, business, others, gap))

    changes, trends = _history(partnerships, raw_by_partnership, state, boards)
    comments = (
        Comment(11, "industry", "business",
                "Employers set the agenda; =we would like quarterly meetings."),
        Comment(21, "data", "labor", "We have not seen the wage data yet."),
        Comment(22, "services", "education", "+ More work-based learning slots are needed."),
    )
    results = CycleResults(
        cycle=CYCLES[-1], cycle_status="closed",
        opens_on=dt.date(2026, 3, 2), closes_on=dt.date(2026, 4, 30),
        generated_at=dt.datetime(2026, 5, 4, 9, 30, 0),
        content_hash="3f5a9c0e1b7d4a2f8e6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170a",
        scale=SCALE, elements=ELEMENTS, items=ITEMS, board_code=None, state=state,
        boards=tuple(boards), sectors=tuple(sectors), partnerships=tuple(partnerships),
        item_results=tuple(item_results), partner_types=tuple(partner_types),
        gaps=tuple(gaps), changes=tuple(changes), responses=tuple(responses),
        comments=comments, trends=tuple(trends),
    )
    return limit_to_board(results, board_code) if board_code else results


def _history(partnerships, raw_by_partnership, state, boards):
    """Changes against 2025, and trends over 2024-2026 for every scope."""
    by_id = {p.id: p for p in _PARTNERSHIPS}
    changes: list[ChangeResult] = []
    history: dict[str, dict[int, dict[str, float]]] = {c: {} for c in CYCLES}
    history[CYCLES[-1]] = raw_by_partnership
    for p in _PARTNERSHIPS:
        if p.deltas is None:
            continue
        now = raw_by_partnership[p.id]
        history["2025"][p.id] = {k: now[k] - d for k, d in zip(now, p.deltas, strict=True)}
        history["2024"][p.id] = {k: v - 0.2 for k, v in history["2025"][p.id].items()}
    trends: list[TrendPoint] = []
    for cycle in CYCLES:
        raw = history[cycle]
        scopes = [("State", list(raw.values()))]
        scopes += [(b.key, [v for i, v in raw.items() if by_id[i].board_code == b.key])
                   for b in boards]
        for key, rows in scopes:
            if not rows:
                continue
            rolled = _scope("board", key, key, rows)
            for element_key, score in (*rolled.elements.items(), (OVERALL, rolled.overall)):
                trends.append(TrendPoint(cycle, key, element_key, score))
        for pid, values in raw.items():
            suppressed = len(by_id[pid].partner_types) < SCALE.min_respondents
            n = len(by_id[pid].partner_types)
            scores = {k: Score(None, n, True) if suppressed else Score(v, n)
                      for k, v in values.items()}
            scores[OVERALL] = _overall(scores)
            for element_key, score in scores.items():
                trends.append(TrendPoint(cycle, str(pid), element_key, score))
    for result in partnerships:
        pid = result.partnership_id
        p = by_id[pid]
        previous = history["2025"].get(pid)
        current_scores = {**result.elements, OVERALL: result.overall}
        previous_overall = mean(previous.values()) if previous else None
        for element_key, current in current_scores.items():
            if previous is None:
                changes.append(ChangeResult(p.board_code, pid, p.name, element_key,
                                            None, None, current, None, None))
                continue
            before = previous_overall if element_key == OVERALL else previous[element_key]
            if current.suppressed:
                changes.append(ChangeResult(
                    p.board_code, pid, p.name, element_key, "2025",
                    Score(None, current.n, True), current, None, None, suppressed=True))
                continue
            delta = current.value - before
            changes.append(ChangeResult(
                p.board_code, pid, p.name, element_key, "2025",
                Score(before, current.n), current, delta, _status(delta, current.value)))
    return changes, trends


def limit_to_board(results: CycleResults, board_code: str) -> CycleResults:
    """The same results as a board export would carry them: only that board's rows."""
    if board_code not in {b.key for b in results.boards}:
        raise KeyError(f"no board {board_code!r} in cycle {results.cycle}")
    partnership_keys = {p.key for p in results.partnerships if p.board_code == board_code}
    return replace(
        results,
        board_code=board_code,
        boards=tuple(b for b in results.boards if b.key == board_code),
        sectors=(),
        partnerships=tuple(p for p in results.partnerships if p.board_code == board_code),
        item_results=tuple(i for i in results.item_results if i.board_code == board_code),
        partner_types=tuple(t for t in results.partner_types if t.scope == board_code),
        gaps=tuple(g for g in results.gaps if g.scope == board_code),
        changes=tuple(c for c in results.changes if c.board_code == board_code),
        responses=tuple(r for r in results.responses if r.board == board_code),
        comments=tuple(c for c in results.comments if str(c.partnership_id) in partnership_keys),
        trends=tuple(t for t in results.trends
                     if t.scope_key in {STATE_SCOPE, board_code} | partnership_keys),
    )
