"""Results as the API's JSON: plain dicts from reports.results objects (no Flask, no DB).

A figure is `{"value": 2.5, "n": 4, "status": "published"}`; a suppressed one is
`{"value": null, "n": ..., "status": "suppressed"}` and one with nothing to show
`{"value": null, "n": 0, "status": "no data"}`. Values are unrounded, as the workbook
stores them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reports.results import (
    AgreementResult,
    BenchmarkResult,
    ChangeResult,
    CycleResults,
    ItemResult,
    MarginResult,
    OutcomeRow,
    PlanRow,
    ScopeResult,
    Score,
    StageInfo,
)
from survey.services.focus import item_labels

PUBLISHED, SUPPRESSED, NO_DATA = "published", "suppressed", "no data"


def figure(score: Score | None) -> dict[str, Any]:
    """One figure with its status."""
    if score is None:
        return {"value": None, "n": 0, "status": NO_DATA}
    if score.suppressed:
        return {"value": None, "n": score.n, "status": SUPPRESSED}
    if score.value is None:
        return {"value": None, "n": score.n, "status": NO_DATA}
    return {"value": score.value, "n": score.n, "status": PUBLISHED}


def stage(info: StageInfo | None, overall: Score) -> dict[str, Any]:
    """A scope's stage: its level and label, or null beside why not."""
    if overall.suppressed:
        return {"level": None, "label": None, "status": SUPPRESSED}
    if info is None:
        return {"level": None, "label": None, "status": NO_DATA}
    return {"level": info.value, "label": info.label, "status": PUBLISHED}


def scope(results: CycleResults, scope: ScopeResult) -> dict[str, Any]:
    """A state, board or partnership with its element scores, overall and stage."""
    body: dict[str, Any] = {
        "label": scope.label,
        "invited": scope.invited, "responded": scope.responded,
        "response_rate": scope.response_rate,
        "elements": {e.key: figure(scope.elements.get(e.key)) for e in results.elements},
        "overall": figure(scope.overall),
        "stage": stage(scope.stage, scope.overall),
    }
    if scope.kind == "partnership":
        body["elements"] = {key: {**value, **meaning(results, scope.partnership_id, key)}
                            for key, value in body["elements"].items()}
        body = {"id": scope.partnership_id, "board_code": scope.board_code,
                "board": scope.board_name, "sector": scope.sector, **body}
    elif scope.kind == "board":
        body = {"code": scope.key, "partnerships": scope.partnerships, **body}
    else:
        body["partnerships"] = scope.partnerships
    return body


def change(item: ChangeResult) -> dict[str, Any]:
    """One element's (or the overall's) change against the earlier cycle."""
    suppressed = item.suppressed
    return {
        "element": item.element_key,
        "previous_cycle": item.previous_cycle,
        "previous": figure(item.previous) if item.previous is not None else figure(None),
        "current": figure(item.current),
        "delta": None if suppressed else item.delta,
        "status": SUPPRESSED if suppressed else (item.status or NO_DATA),
        "items_changed": item.items_changed,
        "within_margin": None if suppressed else item.within_margin,
    }


def agreement(found: AgreementResult | None) -> dict[str, Any] | None:
    """rwg(J) of a partnership element score and its reading, as the release has it."""
    if found is None:
        return None
    return {"rwg": found.rwg, "reading": found.reading, "n": found.n, "items": found.items}


def margin(found: MarginResult | None) -> dict[str, Any] | None:
    """A partnership element score's standard error and 90% interval."""
    if found is None:
        return None
    return {"se": found.se, "low": found.low, "high": found.high, "n": found.n}


def meaning(results: CycleResults, partnership_id: int | None, key: str) -> dict[str, Any]:
    """What an element score of a partnership means (SPEC 15): null where the release
    has none (a suppressed score, or too few respondents for a margin)."""
    return {"agreement": agreement(results.agreement_of(partnership_id, key)),
            "margin": margin(results.margin_of(partnership_id, key))}


def benchmark(row: BenchmarkResult) -> dict[str, Any]:
    """Quartiles of the published partnership scores of an element (or overall) in the
    state or one sector."""
    return {"scope": row.scope, "element": row.element_key, "partnerships": row.partnerships,
            "lower": row.lower, "median": row.median, "upper": row.upper}


def outcome(row: OutcomeRow) -> dict[str, Any]:
    """One outcome measure of a partnership with the last earlier value (SPEC 16)."""
    if row.suppressed:
        status, value = SUPPRESSED, None
    else:
        status, value = (NO_DATA, None) if row.value is None else (PUBLISHED, row.value)
    return {"measure": row.measure, "label": row.label, "unit": row.unit,
            "higher_is_better": row.higher_is_better, "value": value, "status": status,
            "source": row.source, "previous": row.previous,
            "previous_cycle": row.previous_cycle,
            "change": None if row.suppressed else row.change}


def item(result: ItemResult, labels: dict[str, str], levels: tuple[int, ...],
         minimum: int) -> dict[str, Any]:
    """One item's answers in one partnership."""
    if result.suppressed:
        return {"number": labels.get(result.item_code, ""), "code": result.item_code,
                "element": result.element_key, "text": result.text,
                "mean": figure(result.mean_score(minimum)), "counts": None,
                "dont_know": None, "not_applicable": None, "status": SUPPRESSED}
    mean = result.mean_score(minimum)
    # as the workbook: level counts go with the mean (a few counts reveal who chose what)
    counts = None if mean.suppressed else {
        str(level): result.counts.get(level, 0) for level in levels}
    return {"number": labels.get(result.item_code, ""), "code": result.item_code,
            "element": result.element_key, "text": result.text, "mean": figure(mean),
            "counts": counts, "dont_know": result.dont_know,
            "not_applicable": result.not_applicable, "status": PUBLISHED}


def items(results: CycleResults, partnership_id: int) -> list[dict[str, Any]]:
    """A partnership's item results, in questionnaire order."""
    labels = item_labels(results)
    levels = results.scale.values
    minimum = results.scale.min_respondents
    order = {i.code: n for n, i in enumerate(results.items)}
    rows = [r for r in results.item_results if r.partnership_id == partnership_id]
    rows.sort(key=lambda r: order.get(r.item_code, len(order)))
    return [item(r, labels, levels, minimum) for r in rows]


def plan(row: PlanRow) -> dict[str, Any]:
    """One action-plan entry."""
    return {"element": row.element_key, "element_title": row.element,
            "priority": row.priority, "goal": row.goal, "actions": row.actions,
            "owner": row.owner, "due_on": _date(row.due_on), "status": row.status,
            "overdue": row.overdue, "updated_at": _date(row.updated_at)}


def cycle_detail(results: CycleResults) -> dict[str, Any]:
    """The cycle's questionnaire outline and scale, for reading the figures."""
    labels = item_labels(results)
    scale = results.scale
    return {
        "elements": [{"key": e.key, "title": e.title, "order": e.order}
                     for e in sorted(results.elements, key=lambda e: e.order)],
        "items": [{"number": labels.get(i.code, ""), "code": i.code, "element": i.element_key,
                   "text": i.text} for i in results.items],
        "scale": {"levels": [{"level": s.value, "label": s.label, "min_score": s.min_score}
                             for s in scale.levels],
                  "min_respondents": scale.min_respondents,
                  "change_threshold": scale.change_threshold},
        "provisional": results.provisional,
    }


def _date(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()
