"""What to work on (survey/services/focus.py): weakest elements and items, widest gap;
only from figures the dashboards publish."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from reports.results import GapResult, Score
from survey.services import focus
from tests.factories import shipped_questionnaire
from tests.test_dashboards import build_world, results_2026


def test_item_labels_number_items_as_the_partner_pages_do(session: Session) -> None:
    build_world(session)
    results = results_2026(session)
    labels = focus.item_labels(results)
    q = shipped_questionnaire()
    for position, element in enumerate(q.elements, start=1):
        for index, item in enumerate(element.items, start=1):
            assert labels[item.code] == f"{position}.{index}"


def test_board_focus_skips_partnerships_too_small_to_publish(session: Session) -> None:
    world = build_world(session)
    results = results_2026(session, "15")
    board = next(b for b in results.boards if b.key == "15")
    found = focus.board_focus(results, board)
    # Health Care Partners has one respondent who chose level 1 everywhere: its items
    # are never pooled, so the weakest items are the strong partnership's (4, 3, 3).
    assert found.items and all(abs(i.mean - 10 / 3) < 1e-9 for i in found.items)
    assert all(i.partnerships == 1 and i.n == 3 for i in found.items)
    assert [i.label for i in found.items] == ["1.1", "1.2", "1.3"]
    small = next(p for p in results.partnerships if p.partnership_id == world.small.id)
    assert focus.partnership_focus(results, small).items == []


def test_weakest_elements_are_the_lowest_published_scores(session: Session) -> None:
    build_world(session)
    results = results_2026(session)
    found = focus.state_focus(results)
    scores = sorted(s.value for s in results.state.elements.values() if s.value is not None)
    assert [e.score for e in found.elements] == scores[:3]
    assert all(e.stage == results.scale.stage(e.score) for e in found.elements)


def test_widest_gap_is_the_largest_in_size_either_way(session: Session) -> None:
    build_world(session)
    results = results_2026(session)
    keys = [e.key for e in results.elements]
    score = Score(2.0, 5)
    gaps = (GapResult("State", keys[0], score, score, 0.4),
            GapResult("State", keys[1], score, score, -0.6),
            GapResult("State", keys[2], score, score, None),  # a suppressed side
            GapResult("15", keys[3], score, score, 1.5))  # another scope
    found = focus.widest_gap(replace(results, gaps=gaps), "State")
    assert found == focus.WidestGap(results.element_titles[keys[1]], -0.6)
    assert focus.widest_gap(replace(results, gaps=gaps[2:3]), "State") is None
