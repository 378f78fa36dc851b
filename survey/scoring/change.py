"""Change against the most recent earlier cycle with a score, and trend points."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reports.results import OVERALL, ChangeResult, ScaleInfo, TrendPoint
from survey.questionnaire import Questionnaire
from survey.scoring.partnerships import PartnershipScores, ScoredCycle
from survey.scoring.scopes import build_scopes, partnership_shown


def change_status(delta: float, current: float, scale: ScaleInfo) -> str:
    """improved / declined past the threshold, else sustained at a high stage, else no change
    (the delta and the stage as shown, two decimals: ScaleInfo.change_status)."""
    return scale.change_status(delta, current)


def item_codes(questionnaire: Questionnaire) -> dict[str, frozenset[str]]:
    """Each element's item codes, and OVERALL's (every code): what a score is made of."""
    codes = {e.key: frozenset(item.code for item in e.items) for e in questionnaire.elements}
    codes[OVERALL] = frozenset(item.code for item in questionnaire.items)
    return codes


def items_changed(current: Mapping[str, frozenset[str]], previous: Mapping[str, frozenset[str]],
                  key: str) -> bool:
    """True when an element (or OVERALL) is not made of the same items in both cycles."""
    return current.get(key, frozenset()) != previous.get(key, frozenset())


def changes(scored: ScoredCycle, earlier: Sequence[ScoredCycle],
            members: Sequence[PartnershipScores]) -> tuple[ChangeResult, ...]:
    """Each current partnership score (elements and overall) against its latest earlier one."""
    history = [(s.cycle.name, {p.partnership_id: partnership_shown(p, s) for p in s.partnerships})
               for s in reversed(earlier)]
    codes = {s.cycle.name: item_codes(s.questionnaire) for s in (*earlier, scored)}
    results = []
    for p in members:
        current_scores = partnership_shown(p, scored)
        for key in (*scored.element_keys, OVERALL):
            current = current_scores.get(key)
            if current is None:
                continue
            found = next(((name, shown[p.partnership_id][key]) for name, shown in history
                          if key in shown.get(p.partnership_id, {})), None)
            previous_cycle, previous = found if found else (None, None)
            hidden = current.suppressed or (previous is not None and previous.suppressed)
            delta = status = None
            if previous is not None and not hidden:
                assert current.value is not None and previous.value is not None
                delta = current.value - previous.value
                status = change_status(delta, current.value, scored.scale)
            changed = previous_cycle is not None and items_changed(
                codes[scored.cycle.name], codes[previous_cycle], key)
            results.append(ChangeResult(p.board_code, p.partnership_id, p.partnership, key,
                                        previous_cycle, previous, current, delta, status, hidden,
                                        changed))
    return tuple(results)


def trends(history: Sequence[ScoredCycle], board_code: str | None,
           partnership_ids: set[int]) -> tuple[TrendPoint, ...]:
    """State, board and partnership scores per cycle, boards as they stood in each cycle."""
    points = []
    for scored in history:
        scopes = build_scopes(scored, {})
        boards = [b for b in scopes.boards if board_code is None or b.key == board_code]
        partnerships = [p for p in scopes.partnerships if p.partnership_id in partnership_ids]
        for scope in (scopes.state, *boards, *partnerships):
            for key, score in (*scope.elements.items(), (OVERALL, scope.overall)):
                points.append(TrendPoint(scored.cycle.name, scope.key, key, score, scope.kind))
    return tuple(points)
