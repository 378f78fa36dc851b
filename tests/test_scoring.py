"""Scoring rules of SPEC section 4, each proved on a small hand-computed fixture.

The fixtures use a test questionnaire: `data` has 6 items, every other element 5, the
shipped scale (1.0 / 1.75 / 2.5 / 3.25), min_respondents 3, change_threshold 0.25,
sustained_level 3.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reports.results import OVERALL, STATE_SCOPE, Score
from survey.models import Cycle, Invitation, Partnership, utcnow
from survey.questionnaire import ELEMENT_KEYS, Questionnaire
from survey.scoring import (
    UnknownBoardError,
    cycle_by_name,
    cycle_results,
    partnership_scores,
    previous_cycles,
    results_version,
)
from survey.scoring.change import change_status
from tests.factories import (
    all_answers,
    answer,
    element_answers,
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
)

LEVELS = [
    ("Exploring", 1.0), ("Building", 1.75), ("Implementing", 2.5), ("Sustaining", 3.25),
]


def make_questionnaire(data_items: int = 6, other_items: int = 5) -> Questionnaire:
    """A small valid questionnaire with the shipped scale."""
    levels = [{"value": i + 1, "label": label, "description": f"{label} stage",
               "min_score": min_score} for i, (label, min_score) in enumerate(LEVELS)]
    elements = []
    for order, key in enumerate(ELEMENT_KEYS, start=1):
        count = data_items if key == "data" else other_items
        elements.append({
            "key": key, "title": f"Title of {key}", "order": order, "description": "",
            "items": [{"code": f"{key}-{i}", "text": f"Practice {key} {i}",
                       "levels": {str(v): f"level {v}" for v in range(1, 5)}, "help": None}
                      for i in range(1, count + 1)],
        })
    return Questionnaire.from_dict({
        "scale": {"levels": levels, "dont_know_label": "Don't know",
                  "not_applicable_label": "Not applicable", "min_respondents": 3,
                  "change_threshold": 0.25, "sustained_level": 3},
        "elements": elements,
    })


SECRET = "instance-secret-for-tests"  # respondent codes are keyed (SPEC 4a rule 8)
Q = make_questionnaire()


def cycle(session: Session, name: str = "2026", year: int | None = None,
          published: bool = True) -> Cycle:
    """A cycle open for answers; published (closed once and reopened) unless asked not to:
    only published cycles feed change and trends (SPEC 4b.1)."""
    opens = dt.date(year or int(name), 1, 15)
    made = make_cycle(session, name, opens_on=opens, closes_on=opens + dt.timedelta(days=60),
                      questionnaire=Q)
    if published:
        made.published_at = utcnow()
    return made


def levels(*values: int | str, key: str = "vision") -> dict[str, int | str]:
    """Answers to the first items of one element, in order."""
    return {f"{key}-{i}": v for i, v in enumerate(values, start=1)}


def respond(session: Session, c: Cycle, partnership: Partnership,
            values: Mapping[str, int | str] | int, partner_type: str = "business",
            submit: bool = True, comments: Mapping[str, str] | None = None) -> Invitation:
    """A new member of the partnership answers (every item at one level, or given answers)."""
    member = make_member(session, partnership, partner_type)
    invitation, _ = make_invitation(session, c, member)
    chosen = all_answers(Q, values) if isinstance(values, int) else values
    return answer(session, invitation, chosen, submit=submit, comments=comments)


def crowd(session: Session, c: Cycle, partnership: Partnership, *values: int,
          partner_type: str = "business") -> None:
    """One respondent per value, each answering every item at that level."""
    for value in values:
        respond(session, c, partnership, value, partner_type)


def element_values(scores: Mapping[str, Score]) -> dict[str, float | None]:
    return {key: score.value for key, score in scores.items()}


def partnership_result(results, partnership: Partnership):
    return next(p for p in results.partnerships if p.partnership_id == partnership.id)


def board_result(results, code: str):
    return next(b for b in results.boards if b.key == code)


# --- respondent element scores -----------------------------------------------------------


def test_dont_know_not_applicable_and_unanswered_carry_no_score_but_are_counted(session):
    c = cycle(session)
    p = make_partnership(session, make_board(session, "01"))
    data = {"data-1": 4, "data-2": 4, "data-3": 2, "data-4": "DK", "data-5": "NA"}  # data-6 blank
    for _ in range(3):
        respond(session, c, p, data)
    results = cycle_results(session, c)
    score = partnership_result(results, p).elements["data"]
    assert score == Score(pytest.approx(10 / 3), 3)
    items = {i.item_code: i for i in results.item_results if i.partnership_id == p.id}
    assert (items["data-1"].n, items["data-1"].mean, items["data-1"].counts) == (
        3, 4.0, {1: 0, 2: 0, 3: 0, 4: 3})
    assert (items["data-4"].n, items["data-4"].mean, items["data-4"].dont_know) == (0, None, 3)
    assert (items["data-5"].n, items["data-5"].not_applicable, items["data-5"].unanswered) == (
        0, 3, 0)
    assert (items["data-6"].n, items["data-6"].dont_know, items["data-6"].unanswered) == (0, 0, 3)
    assert items["vision-1"].unanswered == 3
    assert partnership_result(results, p).elements["vision"] == Score(None, 0)


def test_an_element_score_needs_half_the_items_scored_rounded_up(session):
    c = cycle(session)
    p = make_partnership(session, make_board(session, "01"))
    # data has 6 items: 3 scored is enough, 2 is not. vision has 5: 3 needed.
    respond(session, c, p, {"data-1": 2, "data-2": 2, "data-3": 2, "data-4": "DK",
                            **levels(3, 3, 3, "DK", "NA")})
    respond(session, c, p, {"data-1": 4, "data-2": 4, "data-3": "DK", "data-4": "DK",
                            **levels(4, 4, "DK")})
    respond(session, c, p, 1)
    respond(session, c, p, 3)
    scores = partnership_result(cycle_results(session, c), p).elements
    assert scores["data"] == Score(2.0, 3)  # (2 + 1 + 3) / 3; the 2-item respondent left out
    assert scores["vision"] == Score(pytest.approx(7 / 3), 3)  # (3 + 1 + 3) / 3
    assert scores["industry"] == Score(None, 2, suppressed=True)  # only two answered industry


def test_drafts_count_only_towards_in_progress(session):
    c = cycle(session)
    board = make_board(session, "01")
    p = make_partnership(session, board)
    crowd(session, c, p, 2, 2, 2)
    respond(session, c, p, 4, submit=False)
    make_invitation(session, c, make_member(session, p))  # invited, not started
    results = cycle_results(session, c)
    result = partnership_result(results, p)
    assert result.elements["data"] == Score(2.0, 3)
    assert (result.invited, result.responded, result.in_progress) == (5, 3, 1)
    assert result.response_rate == 3 / 5
    assert (results.state.invited, results.state.responded, results.state.in_progress) == (
        5, 3, 1)
    draft_rows = [r for r in cycle_results(session, c, include_responses=True,
                                           respondent_salt=SECRET).responses if r.score == "4"]
    assert draft_rows == []


# --- partnership, board and state scores -----------------------------------------------


def test_small_partnerships_are_suppressed_and_left_out_of_board_and_state(session):
    """SPEC 4 revised: scopes are means of published partnership scores only (otherwise
    the board's score minus the published partnership gives the hidden one away)."""
    c = cycle(session)
    board = make_board(session, "01")
    small, large = make_partnership(session, board), make_partnership(session, board)
    crowd(session, c, small, 4, 4)
    crowd(session, c, large, 2, 2, 2)
    results = cycle_results(session, c)
    hidden = partnership_result(results, small)
    assert all(s == Score(None, 2, suppressed=True) for s in hidden.elements.values())
    assert hidden.overall == Score(None, 2, suppressed=True)
    assert hidden.stage is None
    assert partnership_result(results, large).overall == Score(2.0, 3)
    assert board_result(results, "01").elements["data"] == Score(2.0, 1)  # not (4 + 2) / 2
    assert results.state.elements["vision"] == Score(2.0, 1)
    assert results.state.overall.value == 2.0
    assert results.state.stage.label == "Building"


def test_one_suppressed_element_suppresses_the_partnership_overall(session):
    c = cycle(session)
    p = make_partnership(session, make_board(session, "01"))
    crowd(session, c, p, 3, 3)
    respond(session, c, p, {**all_answers(Q, 3), **element_answers(Q, "measured", "DK")})
    result = partnership_result(cycle_results(session, c), p)
    assert result.elements["data"] == Score(3.0, 3)
    assert result.elements["measured"] == Score(None, 2, suppressed=True)
    assert result.overall == Score(None, 2, suppressed=True)
    assert result.stage is None


def test_every_partnership_weighs_the_same(session):
    c = cycle(session)
    board = make_board(session, "01")
    big, small = make_partnership(session, board), make_partnership(session, board)
    crowd(session, c, big, *[4] * 10)
    crowd(session, c, small, 1, 1, 1)
    results = cycle_results(session, c)
    assert partnership_result(results, big).elements["data"] == Score(4.0, 10)
    assert board_result(results, "01").elements["data"] == Score(2.5, 2)  # not 43/13
    assert results.state.overall == Score(2.5, 2)


def test_the_state_is_over_partnerships_not_a_mean_of_board_means(session):
    c = cycle(session)
    one, three = make_board(session, "01"), make_board(session, "02")
    crowd(session, c, make_partnership(session, one), 4, 4, 4)
    for _ in range(3):
        crowd(session, c, make_partnership(session, three), 1, 1, 1)
    results = cycle_results(session, c)
    assert board_result(results, "01").elements["data"] == Score(4.0, 1)
    assert board_result(results, "02").elements["data"] == Score(1.0, 3)
    assert results.state.elements["data"] == Score(1.75, 4)  # board means would give 2.5
    assert results.state.partnerships == 4
    assert board_result(results, "02").partnerships == 3


def test_sectors_are_means_over_their_partnerships(session):
    c = cycle(session)
    b1, b2 = make_board(session, "01"), make_board(session, "02")
    crowd(session, c, make_partnership(session, b1, sector="Health care"), 4, 4, 4)
    crowd(session, c, make_partnership(session, b2, sector="Health care"), 2, 2, 2)
    crowd(session, c, make_partnership(session, b2, sector="Logistics"), 1, 1, 1)
    sectors = {s.key: s for s in cycle_results(session, c).sectors}
    assert sectors["Health care"].elements["data"] == Score(3.0, 2)
    assert sectors["Health care"].partnerships == 2
    assert sectors["Logistics"].overall == Score(1.0, 1)


def test_overall_only_when_all_six_elements_are_present(session):
    c = cycle(session)
    board = make_board(session, "01")
    full, partial = make_partnership(session, board), make_partnership(session, board)
    mixed = {**element_answers(Q, "data", 1), **element_answers(Q, "vision", 2),
             **element_answers(Q, "industry", 3), **element_answers(Q, "alignment", 4),
             **element_answers(Q, "services", 1), **element_answers(Q, "measured", 2)}
    for _ in range(3):
        respond(session, c, full, mixed)
        respond(session, c, partial, {**all_answers(Q, 2), **element_answers(Q, "measured", "NA")})
    results = cycle_results(session, c)
    assert partnership_result(results, full).overall == Score(pytest.approx(13 / 6), 3)
    assert partnership_result(results, full).stage.label == "Building"
    missing = partnership_result(results, partial)
    assert missing.elements["measured"] == Score(None, 0)
    assert missing.overall.value is None and not missing.overall.suppressed
    assert missing.stage is None
    # The board still has a measured score (from `full`), so its overall is defined.
    assert board_result(results, "01").elements["measured"] == Score(2.0, 1)
    assert board_result(results, "01").overall.value == pytest.approx(
        (1.5 + 2 + 2.5 + 3 + 1.5 + 2) / 6)


@pytest.mark.parametrize(("crowd_levels", "stage"), [
    ((1, 1, 1), "Exploring"),
    ((1, 2, 2, 2), "Building"),  # exactly 1.75
    ((2, 2, 3), "Building"),  # 2.33
    ((2, 2, 3, 3), "Implementing"),  # exactly 2.5
    ((3, 3, 3, 4), "Sustaining"),  # exactly 3.25
])
def test_stage_is_the_highest_level_whose_minimum_is_reached(session, crowd_levels, stage):
    c = cycle(session)
    p = make_partnership(session, make_board(session, "01"))
    crowd(session, c, p, *crowd_levels)
    result = partnership_result(cycle_results(session, c), p)
    assert result.overall.value == pytest.approx(sum(crowd_levels) / len(crowd_levels))
    assert result.stage.label == stage


def test_scale_comes_from_the_cycle_snapshot(session):
    c = cycle(session)
    info = cycle_results(session, c).scale
    assert info == Q.scale
    assert (info.min_respondents, info.change_threshold, info.sustained_level) == (3, 0.25, 3)
    assert info.stage(2.4999).label == "Implementing"  # shown as 2.50 (SPEC 4, revised)
    assert info.stage(2.4949).label == "Building"  # shown as 2.49


# --- partner types and the industry gap ------------------------------------------------


def test_partner_types_are_pooled_over_respondents_of_published_partnerships(session):
    c = cycle(session)
    b1, b2 = make_board(session, "01"), make_board(session, "02")
    p1, p2 = make_partnership(session, b1), make_partnership(session, b1)
    crowd(session, c, p1, 4, 4, 1, partner_type="business")
    crowd(session, c, p1, 2, 2, 2, partner_type="workforce")
    crowd(session, c, p2, 3, 3, 3, partner_type="education")
    crowd(session, c, make_partnership(session, b2), 2, 2, partner_type="business")
    make_invitation(session, c, make_member(session, p2, "labor"))  # invited, no answer
    results = cycle_results(session, c)
    types = {(t.scope, t.partner_type): t for t in results.partner_types}

    business = types["01", "business"]
    assert business.partner_type_label == "Business / industry"
    assert business.respondents == 3
    assert business.elements["data"] == Score(3.0, 3)  # (4+4+1)/3
    assert types["01", "workforce"].elements["vision"] == Score(2.0, 3)
    assert types["01", "education"].elements["data"] == Score(3.0, 3)
    assert types["01", "labor"].respondents == 0
    assert types["01", "labor"].elements["data"] == Score(None, 0, suppressed=True)
    # board 02's pair is a suppressed partnership: in no pool, the state's included
    assert types[STATE_SCOPE, "business"].elements["data"] == Score(3.0, 3)
    assert types["02", "business"].respondents == 2
    assert types["02", "business"].elements["data"] == Score(None, 0, suppressed=True)
    assert ("01", "community") not in types  # nobody of that type invited

    gaps = {(g.scope, g.element_key): g for g in results.gaps}
    assert gaps["01", "data"].business == Score(3.0, 3)
    assert gaps["01", "data"].others == Score(pytest.approx(2.5), 6)  # (2+2+2+3+3+3)/6
    assert gaps["01", "data"].gap == pytest.approx(0.5)
    assert gaps[STATE_SCOPE, "data"].gap == pytest.approx(0.5)
    assert gaps["02", "data"].gap is None
    assert gaps["02", "data"].others == Score(None, 0, suppressed=True)


def test_partner_type_cells_that_would_give_a_small_cell_away_are_suppressed(session):
    """SPEC 4a rule 1. Board 01: p1 has 2 business and 3 workforce respondents, p2 one
    business and 2 education. Education (2) is suppressed, so one more board cell goes
    (business, the smallest); and since p1's workforce trio is the board's whole
    workforce cell, p1's sum (mean times n) minus that cell would give p1's business
    pair: every cell of the element goes, the gap with them."""
    c = cycle(session)
    b1, b2 = make_board(session, "01"), make_board(session, "02")
    p1, p2 = make_partnership(session, b1), make_partnership(session, b1)
    crowd(session, c, p1, 4, 4, partner_type="business")
    crowd(session, c, p1, 2, 2, 2, partner_type="workforce")
    crowd(session, c, p2, 1, partner_type="business")
    crowd(session, c, p2, 3, 3, partner_type="education")
    crowd(session, c, make_partnership(session, b2), 2, 2, partner_type="business")
    results = cycle_results(session, c)
    assert partnership_result(results, p1).elements["data"] == Score(pytest.approx(2.8), 5)
    for t in results.partner_types:
        assert all(s == Score(None, 0, suppressed=True) for s in t.elements.values()), t
    assert {(t.scope, t.partner_type): t.respondents for t in results.partner_types} == {
        ("01", "business"): 3, ("01", "workforce"): 3, ("01", "education"): 2,
        ("02", "business"): 2, (STATE_SCOPE, "business"): 5, (STATE_SCOPE, "workforce"): 3,
        (STATE_SCOPE, "education"): 2}
    assert all(g.gap is None and not g.others.shown for g in results.gaps)


def test_partner_type_is_the_type_at_answer_time(session):
    c = cycle(session)
    p = make_partnership(session, make_board(session, "01"))
    crowd(session, c, p, 2, 2, 2, partner_type="labor")
    for invitation in session.scalars(select(Invitation)):
        invitation.member.partner_type = "business"
    session.flush()
    types = {(t.scope, t.partner_type): t for t in cycle_results(session, c).partner_types}
    assert types[STATE_SCOPE, "labor"].elements["data"] == Score(2.0, 3)
    assert (STATE_SCOPE, "business") not in types


# --- change ----------------------------------------------------------------------------


def test_change_compares_with_the_most_recent_earlier_cycle_with_a_score(session):
    board = make_board(session, "01")
    p = make_partnership(session, board)
    current = cycle(session, "2026")  # created first: order is by opens_on, not id
    first, middle = cycle(session, "2024"), cycle(session, "2025")
    crowd(session, first, p, 2, 2, 2)
    respond(session, middle, p, 4, submit=False)  # a draft: no score in 2025
    crowd(session, current, p, 3, 3, 3)
    assert [c.name for c in previous_cycles(session, current)] == ["2024", "2025"]
    changes = {ch.element_key: ch for ch in cycle_results(session, current).changes}
    data = changes["data"]
    assert (data.previous_cycle, data.previous, data.current) == ("2024", Score(2.0, 3),
                                                                  Score(3.0, 3))
    assert (data.delta, data.status, data.suppressed) == (1.0, "improved", False)
    assert changes[OVERALL].previous_cycle == "2024"
    assert changes[OVERALL].delta == 1.0
    assert set(changes) == {*ELEMENT_KEYS, OVERALL}


def test_first_cycle_has_no_previous(session):
    c = cycle(session)
    p = make_partnership(session, make_board(session, "01"))
    crowd(session, c, p, 2, 2, 2)
    row = cycle_results(session, c).changes[0]
    assert (row.previous_cycle, row.previous, row.delta, row.status) == (None, None, None, None)
    assert row.current == Score(2.0, 3)


def _vision_crowd(session, c, p, *rows: tuple[int, ...]) -> None:
    """Respondents answering the five vision items as given, every other item at 2."""
    for row in rows:
        respond(session, c, p, {**all_answers(Q, 2), **levels(*row)})


# 5-item vision scores as respondent rows: 1.2, 1.4, 1.6, 3.0 -> 1.8 and 1, 1, 2.8, 3.4 ->
# 2.05; in floating point 2.05 - 1.8 is 0.2499999..., which must still count as 0.25.
LOW = [(2, 1, 1, 1, 1), (2, 2, 1, 1, 1), (2, 2, 2, 1, 1), (3, 3, 3, 3, 3)]
HIGH = [(1, 1, 1, 1, 1), (1, 1, 1, 1, 1), (3, 3, 3, 3, 2), (4, 4, 3, 3, 3)]


@pytest.mark.parametrize(("before", "after", "delta", "status"), [
    ([(2,) * 5, (2,) * 5, (3,) * 5, (3,) * 5], [(2,) * 5, (3,) * 5, (3,) * 5, (3,) * 5],
     0.25, "improved"),  # 2.5 -> 2.75
    ([(3,) * 5, (3,) * 5, (3,) * 5, (4,) * 5], [(3,) * 5] * 4, -0.25, "declined"),  # 3.25 -> 3
    (LOW, HIGH, 0.25, "improved"),
    (HIGH, LOW, -0.25, "declined"),
    ([(3,) * 5] * 3, [(3,) * 5, (3,) * 5, (3, 3, 3, 3, 2)], -0.2 / 3, "sustained"),
    ([(2,) * 5] * 3, [(2,) * 5, (2,) * 5, (3, 2, 2, 2, 2)], 0.2 / 3, "no change"),
])
def test_change_status(session, before, after, delta, status):
    board = make_board(session, "01")
    p = make_partnership(session, board)
    previous, current = cycle(session, "2025"), cycle(session, "2026")
    _vision_crowd(session, previous, p, *before)
    _vision_crowd(session, current, p, *after)
    row = next(ch for ch in cycle_results(session, current).changes if ch.element_key == "vision")
    assert row.delta == pytest.approx(delta)
    assert row.status == status


def test_change_status_at_exactly_the_threshold():
    scale = Q.scale
    assert change_status(2.75 - 2.5, 2.75, scale) == "improved"
    assert change_status(2.05 - 1.8, 2.05, scale) == "improved"
    assert change_status(1.8 - 2.05, 1.8, scale) == "declined"
    assert change_status(0.24, 2.6, scale) == "sustained"
    assert change_status(-0.24, 2.4, scale) == "no change"


def test_suppressed_scores_give_a_suppressed_change(session):
    board = make_board(session, "01")
    was_small, now_small = make_partnership(session, board), make_partnership(session, board)
    previous, current = cycle(session, "2025"), cycle(session, "2026")
    crowd(session, previous, was_small, 2, 2)
    crowd(session, current, was_small, 3, 3, 3)
    crowd(session, previous, now_small, 2, 2, 2)
    crowd(session, current, now_small, 3, 3)
    changes = {(ch.partnership_id, ch.element_key): ch
               for ch in cycle_results(session, current).changes}
    before = changes[was_small.id, "data"]
    assert (before.previous, before.current) == (Score(None, 2, True), Score(3.0, 3))
    assert (before.suppressed, before.delta, before.status) == (True, None, None)
    after = changes[now_small.id, OVERALL]
    assert (after.previous, after.current) == (Score(2.0, 3), Score(None, 2, True))
    assert (after.suppressed, after.delta, after.status) == (True, None, None)


def test_no_change_row_without_a_current_score(session):
    board = make_board(session, "01")
    p = make_partnership(session, board)
    previous, current = cycle(session, "2025"), cycle(session, "2026")
    crowd(session, previous, p, 2, 2, 2)
    respond(session, current, p, 3, submit=False)
    assert cycle_results(session, current).changes == ()


# --- response rates, board filter, boards as they stood ---------------------------------


def test_response_rates_per_scope(session):
    c = cycle(session)
    b1, b2 = make_board(session, "01"), make_board(session, "02")
    p1, p2 = make_partnership(session, b1), make_partnership(session, b2)
    crowd(session, c, p1, 2, 2)
    make_invitation(session, c, make_member(session, p1))
    crowd(session, c, p2, 3)
    respond(session, c, p2, 3, submit=False)
    make_invitation(session, c, make_member(session, p2))
    make_invitation(session, c, make_member(session, p2))
    results = cycle_results(session, c)
    assert (board_result(results, "01").invited, board_result(results, "01").responded) == (3, 2)
    two = board_result(results, "02")
    assert (two.invited, two.responded, two.in_progress, two.response_rate) == (4, 1, 1, 0.25)
    assert (results.state.invited, results.state.responded) == (7, 3)
    assert results.state.response_rate == 3 / 7


def test_board_filter_limits_everything_but_the_state(session):
    c = cycle(session)
    b1, b2 = make_board(session, "01"), make_board(session, "02")
    mine, theirs = make_partnership(session, b1), make_partnership(session, b2)
    for _ in range(3):
        respond(session, c, mine, 4, comments={"data": "Good data"})
        respond(session, c, theirs, 2, partner_type="education", comments={"data": "Other"})
    results = cycle_results(session, c, "01")
    assert results.board_code == "01"
    assert [b.key for b in results.boards] == ["01"]
    assert [p.partnership_id for p in results.partnerships] == [mine.id]
    assert results.state.elements["data"] == Score(3.0, 2)
    assert {i.partnership_id for i in results.item_results} == {mine.id}
    results = cycle_results(session, c, "01", include_responses=True, respondent_salt=SECRET)
    assert {t.scope for t in results.partner_types} == {STATE_SCOPE, "01"}
    assert (STATE_SCOPE, "education") in {(t.scope, t.partner_type)
                                          for t in results.partner_types}
    assert {g.scope for g in results.gaps} == {STATE_SCOPE, "01"}
    assert {ch.partnership_id for ch in results.changes} == {mine.id}
    assert {r.board for r in results.responses} == {"01"}
    assert [cm.text for cm in results.comments] == ["Good data"] * 3
    assert {t.scope_key for t in results.trends} == {STATE_SCOPE, "01", str(mine.id)}


def test_unknown_board_is_an_error_and_a_known_board_without_partnerships_is_empty(session):
    c = cycle(session)
    crowd(session, c, make_partnership(session, make_board(session, "01")), 2, 2, 2)
    make_board(session, "07", "Quiet board")
    with pytest.raises(UnknownBoardError):
        cycle_results(session, c, "99")
    quiet = cycle_results(session, c, "07")
    assert [(b.key, b.label, b.partnerships, b.invited) for b in quiet.boards] == [
        ("07", "Quiet board", 0, 0)]
    assert quiet.partnerships == () and quiet.state.elements["data"] == Score(2.0, 1)


def test_each_cycle_is_reported_against_the_boards_as_they_stood(session):
    old, new = make_board(session, "05", "Old board"), make_board(session, "06", "New board")
    p = make_partnership(session, old, name="Health")
    first, second = cycle(session, "2025"), cycle(session, "2026")
    crowd(session, first, p, 2, 2, 2)
    p.board = new
    session.flush()
    crowd(session, second, p, 3, 3, 3)

    then = cycle_results(session, first)
    assert [(b.key, b.label) for b in then.boards] == [("05", "Old board")]
    assert partnership_result(then, p).board_code == "05"
    assert cycle_results(session, first, "05").partnerships[0].partnership_id == p.id
    assert cycle_results(session, first, "06").partnerships == ()

    now = cycle_results(session, second, "06")
    assert partnership_result(now, p).board_code == "06"
    data = next(ch for ch in now.changes if ch.element_key == "data")
    assert (data.previous_cycle, data.delta, data.board_code) == ("2025", 1.0, "06")
    trend = {(t.cycle, t.scope_key, t.element_key): t.score for t in cycle_results(
        session, second).trends}
    assert trend["2025", "05", "data"] == Score(2.0, 1)
    assert trend["2026", "06", "data"] == Score(3.0, 1)
    assert ("2026", "05", "data") not in trend
    assert trend["2025", str(p.id), OVERALL] == Score(2.0, 3)


def test_trends_keep_suppressed_partnership_scores_suppressed(session):
    """Suppressed partnerships stay suppressed across cycles, and so does a scope with
    no published partnership score."""
    board = make_board(session, "01")
    p = make_partnership(session, board)
    first, second = cycle(session, "2025"), cycle(session, "2026")
    crowd(session, first, p, 4, 4)
    crowd(session, second, p, 3, 3, 3)
    trend = {(t.cycle, t.scope_key, t.element_key): t.score
             for t in cycle_results(session, second).trends}
    assert trend["2025", str(p.id), "data"] == Score(None, 2, suppressed=True)
    assert trend["2025", str(p.id), OVERALL] == Score(None, 2, suppressed=True)
    # The state's only partnership had 2 respondents: its mean would show their answers.
    assert trend["2025", STATE_SCOPE, "data"] == Score(None, 0, suppressed=True)
    assert trend["2026", str(p.id), OVERALL] == Score(3.0, 3)
    assert trend["2026", STATE_SCOPE, "data"] == Score(3.0, 1)


# --- responses, comments, cache key -------------------------------------------------------


def test_responses_are_anonymised_rows_in_the_import_format(session):
    c = cycle(session)
    p = make_partnership(session, make_board(session, "01"), name="Health")
    invitation = respond(session, c, p, {"data-1": 3, "data-2": "DK", "vision-1": "NA"},
                         partner_type="labor", comments={"vision": "We meet monthly"})
    respond(session, c, p, 1, submit=False)
    results = cycle_results(session, c, include_responses=True, respondent_salt=SECRET)
    rows = results.responses
    assert len(rows) == len(Q.items)  # one respondent, every item, drafts left out
    assert {(r.cycle, r.board, r.partnership, r.partner_type) for r in rows} == {
        ("2026", "01", "Health", "labor")}
    by_item = {r.item: r for r in rows}
    assert (by_item["data-1"].score, by_item["data-2"].score, by_item["vision-1"].score,
            by_item["data-3"].score) == ("3", "DK", "NA", "")
    assert by_item["vision-1"].element == "vision"
    code = rows[0].respondent
    member = invitation.member
    assert code.startswith("R") and len(code) == 13 and {r.respondent for r in rows} == {code}
    assert code not in (member.email, member.name, str(invitation.id), str(member.id))
    assert cycle_results(session, c, respondent_salt="other",
                         include_responses=True).responses[0].respondent != code
    assert results.comments == ()  # one submitted respondent: no comments (SPEC 4a)
    assert cycle_results(session, c).responses == ()


def test_results_carry_the_cycle_and_its_content(session):
    c = cycle(session)
    results = cycle_results(session, c)
    assert (results.cycle, results.cycle_status, results.opens_on) == (
        "2026", "open", dt.date(2026, 1, 15))
    assert results.content_hash == Q.content_hash
    assert [e.key for e in results.elements] == list(ELEMENT_KEYS)
    assert results.element_titles["data"] == "Title of data"
    assert len(results.items) == 6 + 5 * 5
    assert results.state.overall == Score(None, 0) and results.state.stage is None
    assert cycle_by_name(session, "2026") is c and cycle_by_name(session, "1999") is None


def test_results_version_changes_when_submitted_answers_change(session):
    c = cycle(session)
    p = make_partnership(session, make_board(session, "01"))
    crowd(session, c, p, 2, 2, 2)
    before = results_version(session, c)
    assert results_version(session, c) == before
    invitation = respond(session, c, p, 3)
    after = results_version(session, c)
    assert after != before
    invitation.answers[0].level = 1
    session.flush()
    assert results_version(session, c) != after


def test_partnership_scores_are_unsuppressed_figures_for_reuse(session):
    c = cycle(session)
    p = make_partnership(session, make_board(session, "01"))
    crowd(session, c, p, 4, 2)
    scored = partnership_scores(session, c)
    assert scored.partnerships[0].elements["data"].value == 3.0
    assert scored.partnerships[0].elements["data"].n == 2


def test_scope_without_a_published_partnership_is_suppressed(session):
    """A board whose only partnership has 2 respondents shows no number (it would be
    theirs), and the state leaves that partnership out."""
    small_board, big_board = make_board(session, "01"), make_board(session, "02")
    small = make_partnership(session, small_board)
    big = make_partnership(session, big_board)
    current = cycle(session, "2026")
    crowd(session, current, small, 2, 2)
    crowd(session, current, big, 4, 4, 4)
    results = cycle_results(session, current)
    boards = {b.key: b for b in results.boards}
    assert boards["01"].elements["data"] == Score(None, 0, suppressed=True)
    assert boards["01"].overall.suppressed and boards["01"].stage is None
    assert boards["02"].elements["data"] == Score(4.0, 1)
    assert results.state.elements["data"] == Score(4.0, 1)  # not (2 + 4) / 2
    assert not results.state.overall.suppressed


def test_a_cycle_never_published_feeds_no_change_or_trend(session):
    """SPEC 4b.1: a historical cycle filled by import and never published is no baseline."""
    p = make_partnership(session, make_board(session, "01"))
    history = cycle(session, "2025", published=False)
    current = cycle(session, "2026")
    crowd(session, history, p, 1, 1, 1)
    crowd(session, current, p, 3, 3, 3)
    results = cycle_results(session, current)
    assert results.changes and all(c.previous_cycle is None for c in results.changes)
    assert {t.cycle for t in results.trends} == {"2026"}
    history.published_at = utcnow()
    session.flush()
    assert {c.previous_cycle for c in cycle_results(session, current).changes} == {"2025"}
