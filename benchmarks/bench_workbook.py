"""Time build_workbook on a state-sized cycle: python benchmarks/bench_workbook.py

24 boards x 5 partnerships x 15 respondents x 36 items = 64,800 answer rows. The
baseline, measured in the same run, writes only the Responses sheet with a plain
normal-mode openpyxl workbook (every cell kept in memory until save), so the ratio
shows what the whole streamed rollup costs against the naive way of writing its
largest sheet.
"""

from __future__ import annotations

import io
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openpyxl import Workbook  # noqa: E402

from reports.results import (  # noqa: E402
    OVERALL,
    STATE_SCOPE,
    ChangeResult,
    CycleResults,
    ElementInfo,
    GapResult,
    ItemInfo,
    ItemResult,
    PartnerTypeResult,
    ResponseRow,
    ScopeResult,
    Score,
    TrendPoint,
)
from reports.sample import ELEMENTS, PARTNER_TYPE_LABELS, SCALE, sample_results  # noqa: E402
from reports.workbook import RESPONSE_COLUMNS, build_workbook  # noqa: E402

BOARDS, PARTNERSHIPS, RESPONDENTS, ITEMS_PER_ELEMENT = 24, 5, 15, 6


def _score(rng: random.Random, n: int) -> Score:
    if n < SCALE.min_respondents:
        return Score(None, n, suppressed=True)
    return Score(rng.uniform(1.2, 3.8), n)


def _scope(rng, kind, key, label, elements: tuple[ElementInfo, ...], n, **extra) -> ScopeResult:
    scores = {e.key: _score(rng, n) for e in elements}
    overall = (Score(None, n, True) if any(s.suppressed for s in scores.values())
               else Score(statistics.mean(s.value for s in scores.values()), n))
    return ScopeResult(kind, key, label, scores, overall, SCALE.stage(overall.value), **extra)


def large_results(seed: int = 7) -> CycleResults:
    """A synthetic state-sized CycleResults (values random but well formed)."""
    rng = random.Random(seed)
    items = tuple(ItemInfo(e.key, f"{e.key}-{i}", f"Statement {i} about {e.title.lower()}.")
                  for e in ELEMENTS for i in range(1, ITEMS_PER_ELEMENT + 1))
    types = list(PARTNER_TYPE_LABELS)
    boards, partnerships, item_results, responses, changes, trends = [], [], [], [], [], []
    for b in range(1, BOARDS + 1):
        code = f"{b:02d}"
        name = f"CareerSource Area {code}"
        boards.append(_scope(rng, "board", code, name, ELEMENTS, PARTNERSHIPS,
                             invited=PARTNERSHIPS * 20, responded=PARTNERSHIPS * RESPONDENTS,
                             partnerships=PARTNERSHIPS, board_code=code, board_name=name))
        for p in range(1, PARTNERSHIPS + 1):
            pid = b * 100 + p
            label = f"{name} partnership {p}"
            respondents = RESPONDENTS if p != 5 else 2
            partnerships.append(_scope(
                rng, "partnership", str(pid), label, ELEMENTS, respondents, invited=20,
                responded=RESPONDENTS, partnerships=1, board_code=code, board_name=name,
                sector=rng.choice(["Health care", "Manufacturing", "Construction", "Logistics"]),
                partnership_id=pid))
            for item in items:
                counts = {level.value: rng.randint(0, 5) for level in SCALE.levels}
                n = sum(counts.values())
                item_results.append(ItemResult(
                    code, pid, label, item.element_key, item.code, item.text, n,
                    sum(k * v for k, v in counts.items()) / n if n else None,
                    rng.randint(0, 2), rng.randint(0, 1), 0, counts))
            for r in range(RESPONDENTS):
                partner_type = types[r % len(types)]
                for item in items:
                    responses.append(ResponseRow(
                        "2026", code, label, f"R{pid}{r:02d}", partner_type, item.element_key,
                        item.code, rng.choice(["1", "2", "3", "4", "DK", "NA", ""])))
            for key in [*(e.key for e in ELEMENTS), OVERALL]:
                before, now = rng.uniform(1, 4), rng.uniform(1, 4)
                delta = now - before
                status = ("improved" if delta >= 0.25 else "declined" if delta <= -0.25
                          else "no change")
                changes.append(ChangeResult(code, pid, label, key, "2025", Score(before, 15),
                                            Score(now, 15), delta, status))
                for cycle in ("2024", "2025", "2026"):
                    trends.append(TrendPoint(cycle, str(pid), key, Score(rng.uniform(1, 4), 15)))
    partner_types, gaps = [], []
    for scope in (STATE_SCOPE, *(b.key for b in boards)):
        for key, label in PARTNER_TYPE_LABELS.items():
            n = rng.randint(1, 30)
            partner_types.append(PartnerTypeResult(scope, key, label, n,
                                                   {e.key: _score(rng, n) for e in ELEMENTS}))
        for e in ELEMENTS:
            business, others = _score(rng, 20), _score(rng, 40)
            gaps.append(GapResult(scope, e.key, business, others,
                                  business.value - others.value))
    state = _scope(rng, "state", STATE_SCOPE, "Florida", ELEMENTS, BOARDS * PARTNERSHIPS,
                   invited=BOARDS * PARTNERSHIPS * 20,
                   responded=BOARDS * PARTNERSHIPS * RESPONDENTS,
                   partnerships=BOARDS * PARTNERSHIPS)
    return replace(
        sample_results(), items=items, state=state, boards=tuple(boards), sectors=(),
        partnerships=tuple(partnerships), item_results=tuple(item_results),
        partner_types=tuple(partner_types), gaps=tuple(gaps), changes=tuple(changes),
        responses=tuple(responses), trends=tuple(trends), comments=(),
    )


def naive_responses_sheet(results: CycleResults) -> bytes:
    """Baseline: the Responses sheet alone, in a normal (in-memory) openpyxl workbook."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Responses"
    ws.append(RESPONSE_COLUMNS)
    for r in results.responses:
        ws.append((r.cycle, r.board, r.partnership, r.respondent, r.partner_type, r.element,
                   r.item, r.score))
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _best(function, argument, repeat: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        size = len(function(argument))
        times.append(time.perf_counter() - start)
    return min(times), size


def main() -> None:
    """Build the large cycle, time both writers, print rows per second and the ratio."""
    start = time.perf_counter()
    results = large_results()
    rows = len(results.responses)
    print(f"synthetic cycle: {len(results.boards)} boards, {len(results.partnerships)} "
          f"partnerships, {len(results.item_results)} item rows, {rows} answer rows "
          f"(built in {time.perf_counter() - start:.2f} s)")
    small, _ = _best(build_workbook, sample_results(), 3)
    full, full_size = _best(build_workbook, results, 3)
    naive, naive_size = _best(naive_responses_sheet, results, 3)
    print(f"sample workbook ({len(sample_results().responses)} answers): {small * 1000:.0f} ms")
    print(f"build_workbook, all 8 sheets: {full:.2f} s, {full_size / 1e6:.1f} MB, "
          f"{rows / full:,.0f} answer rows/s")
    print(f"baseline, naive Responses sheet only: {naive:.2f} s, {naive_size / 1e6:.1f} MB, "
          f"{rows / naive:,.0f} answer rows/s")
    print(f"ratio full rollup / naive Responses sheet: {full / naive:.2f}x")


if __name__ == "__main__":
    main()
