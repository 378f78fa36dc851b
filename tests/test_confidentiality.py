"""SPEC 4a, played by the adversary: nothing a board lead (or a public-record request for
the state workbook) can see lets anyone work out one or two respondents' answers.

The adversary knows every respondent by name and type (the roster) and everything
published: each shown mean with its n is a known sum over a known set of respondents.
It tries every subtraction: with exact rational row reduction, is the indicator of any
set of 1 to min_respondents - 1 respondents in the span of what it knows? The sets
behind each shown figure are rebuilt here from the answers this test wrote, and each
shown value is checked against them, so the model is what the product actually showed.
Then the issue's reproductions are played through the web as a board lead would.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from reports.charts import radar
from reports.results import STATE_SCOPE, CycleResults, ReleaseStamp
from survey import disclosure
from survey.models import Board, Cycle, CycleStatus, Partnership
from survey.scoring import cycle_by_name, cycle_results
from survey.services.accounts import create_user
from tests.factories import (
    all_answers,
    answer,
    element_answers,
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
    shipped_questionnaire,
)

Q = shipped_questionnaire()
ELEMENTS = [e.key for e in Q.elements]
MINIMUM = Q.scale.min_respondents
PASSWORD = "correct horse battery"


# --- the world the test writes, and what it knows about every respondent -----------------


@dataclass
class Respondent:
    board: str
    partnership: int  # partnership id
    partner_type: str
    scores: dict[str, int | None]  # element -> level answered to every item, or None (DK)
    also: tuple[str, ...] = ()  # the other boards of a shared partnership (SPEC 16)

    @property
    def boards(self) -> tuple[str, ...]:
        return (self.board, *self.also)


@dataclass
class Roster:
    cycle: Cycle
    respondents: list[Respondent] = field(default_factory=list)


def respond(session: Session, roster: Roster, partnership: Partnership, partner_type: str,
            level: int, dont_know: Iterable[str] = (), comment: str | None = None,
            submit: bool = True) -> None:
    """A member answers every item at `level`, "don't know" throughout some elements."""
    member = make_member(session, partnership, partner_type)
    invitation, _ = make_invitation(session, roster.cycle, member)
    values = all_answers(Q, level)
    for key in dont_know:
        values.update(element_answers(Q, key, "DK"))
    answer(session, invitation, values, submit=submit,
           comments={"data": comment} if comment else None)
    if submit:
        roster.respondents.append(Respondent(
            partnership.board.code, partnership.id, partner_type,
            {key: None if key in dont_know else level for key in ELEMENTS},
            tuple(invitation.participation.also_boards.split())))


# --- the adversary ------------------------------------------------------------------------


def mean_of(respondents: Sequence[Respondent], element: str) -> Fraction:
    return Fraction(sum(r.scores[element] for r in respondents), len(respondents))


def known_sets(results: CycleResults, roster: Roster, element: str) -> list[list[int]]:
    """The sets of respondents (indexes) whose score sum in `element` is published, each
    checked against the figure shown; scope means checked to be means of shown ones."""
    people = [(i, r) for i, r in enumerate(roster.respondents) if r.scores[element] is not None]
    by_partnership: dict[int, list[int]] = {}
    for i, r in people:
        by_partnership.setdefault(r.partnership, []).append(i)
    sets: list[list[int]] = []
    published: set[int] = set()
    for p in results.partnerships:
        score = p.elements[element]
        members = by_partnership.get(p.partnership_id, [])
        if score.shown:
            assert score.n == len(members) >= MINIMUM
            assert Fraction(score.value).limit_denominator(10**6) == mean_of(
                [roster.respondents[i] for i in members], element)
            sets.append(members)
            published.add(p.partnership_id)
        else:
            assert score.value is None
    for scope in (results.state, *results.boards, *results.sectors):
        shown = [p.elements[element].value for p in results.partnerships
                 if p.partnership_id in published and (
                     scope.kind == "state"
                     or (scope.kind == "board" and p.in_board(scope.key))
                     or (scope.kind == "sector" and p.sector == scope.key))]
        score = scope.elements[element]
        if score.shown:  # a mean of published partnership scores only (SPEC 4 revised)
            assert shown and score.value == pytest.approx(sum(shown) / len(shown), abs=1e-12)
        else:
            assert not shown
    pooled = [(i, r) for i, r in people if r.partnership in published]
    for cell in results.partner_types:
        score = cell.elements[element]
        if not score.shown:
            assert score.value is None
            continue
        members = [i for i, r in pooled if r.partner_type == cell.partner_type
                   and cell.scope in (STATE_SCOPE, *r.boards)]
        assert len(members) >= MINIMUM and score.value == pytest.approx(
            float(mean_of([roster.respondents[i] for i in members], element)), abs=1e-12)
        sets.append(members)
    for gap in results.gaps:
        if gap.element_key == element and gap.others.shown:
            members = [i for i, r in pooled if r.partner_type != "business"
                       and gap.scope in (STATE_SCOPE, *r.boards)]
            assert gap.others.n == len(members)
            sets.append(members)
    return sets


def derivable(sets: list[list[int]], people: Sequence[int], minimum: int) -> list[tuple]:
    """Every set of 1 to minimum - 1 respondents whose sum lies in the span of the known
    sums (exact rational null space: a set is derivable iff it is orthogonal to it)."""
    columns = sorted(people)
    if not columns:
        return []
    position = {p: i for i, p in enumerate(columns)}
    rows = [[Fraction(0)] * len(columns) for _ in sets]
    for row, members in zip(rows, sets, strict=True):
        for m in members:
            row[position[m]] = Fraction(1)
    pivots: list[int] = []
    reduced: list[list[Fraction]] = []
    for column in range(len(columns)):
        pivot = next((r for r in rows if r[column] != 0), None)
        if pivot is None:
            continue
        rows.remove(pivot)
        pivot = [v / pivot[column] for v in pivot]
        rows = [[a - r[column] * b for a, b in zip(r, pivot, strict=True)] for r in rows]
        reduced = [[a - r[column] * b for a, b in zip(r, pivot, strict=True)] for r in reduced]
        reduced.append(pivot)
        pivots.append(column)
    free = [c for c in range(len(columns)) if c not in pivots]
    signature = {}
    for column in range(len(columns)):  # coordinates against the null space's basis
        if column in free:
            signature[column] = tuple(Fraction(int(f == column)) for f in free)
        else:
            row = reduced[pivots.index(column)]
            signature[column] = tuple(-row[f] for f in free)
    found = []
    for size in range(1, minimum):
        for subset in itertools.combinations(range(len(columns)), size):
            total = [sum(parts) for parts in zip(*(signature[c] for c in subset),
                                                 strict=True)] if free else []
            if not any(total):
                found.append(tuple(columns[c] for c in subset))
    return found


def assert_nobody_singled_out(results: CycleResults, roster: Roster) -> None:
    for element in ELEMENTS:
        people = [i for i, r in enumerate(roster.respondents) if r.scores[element] is not None]
        leaks = derivable(known_sets(results, roster, element), people, MINIMUM)
        assert not leaks, (element, [[roster.respondents[i] for i in leak] for leak in leaks])


# --- property: random small rosters -----------------------------------------------------

TYPES = ["business", "business", "labor", "education", "workforce"]
respondent_st = st.tuples(st.sampled_from(TYPES), st.integers(1, 4),
                          st.sets(st.sampled_from(ELEMENTS[:3]), max_size=2))
partnership_st = st.lists(respondent_st, min_size=1, max_size=6)
board_st = st.lists(partnership_st, min_size=1, max_size=3)
state_st = st.lists(board_st, min_size=1, max_size=3)
_counter = itertools.count()


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(state=state_st)
def test_no_set_of_one_or_two_respondents_can_be_derived(session, state):
    """Tiny partnerships, lone partner types and don't-know answers, at random."""
    run = next(_counter)
    cycle = make_cycle(session, f"p{run}", status=CycleStatus.CLOSED, questionnaire=Q)
    cycle.opens_on = cycle.opens_on.replace(year=1900 + (run % 100))  # no earlier cycle
    roster = Roster(cycle)
    for b, partnerships in enumerate(state):
        board = make_board(session, f"h{run}-{b}", f"Board {run}-{b}")
        for members in partnerships:
            partnership = make_partnership(session, board)
            for partner_type, level, dont_know in members:
                respond(session, roster, partnership, partner_type, level, dont_know)
    results = cycle_results(session, cycle)
    assert_nobody_singled_out(results, roster)
    assert_meaning_follows_the_gate(results, cycle, roster)


def assert_meaning_follows_the_gate(results: CycleResults, cycle: Cycle, roster: Roster) -> None:
    """SPEC 15's figures appear only where 4a and 15 let them: agreement beside published
    partnership scores, margins from min_respondents + 2, benchmarks from 5 or more
    published partnership scores and nothing else, the instrument for stewards only, and
    its don't know shares withheld where the respondents behind hidden item rows are 1 to
    min_respondents - 1 (the state workbook's Items sheet publishes the others' counts)."""
    shown = {(p.partnership_id, key): score for p in results.partnerships
             for key, score in p.elements.items()}
    for a in results.agreement:
        score = shown[a.partnership_id, a.element_key]
        assert score.shown and a.n == score.n >= MINIMUM, a
    for m in results.margins:
        score = shown[m.partnership_id, m.element_key]
        assert score.shown and m.n == score.n >= MINIMUM + 2, m
        assert 1 <= m.low <= score.value <= m.high <= 4, m
    margins = {(m.partnership_id, m.element_key) for m in results.margins}
    for c in results.changes:
        if c.within_margin is not None:
            assert (c.partnership_id, c.element_key) in margins and not c.suppressed, c
    for b in results.benchmarks:
        values = [p.overall.value if b.element_key == "overall" else p.elements[b.element_key].value
                  for p in results.partnerships
                  if (p.overall if b.element_key == "overall" else p.elements[b.element_key]).shown
                  and (b.scope == STATE_SCOPE or p.sector == b.scope)]
        assert b.partnerships == len(values) >= 5, b
        assert (b.lower, b.median, b.upper) == tuple(
            pytest.approx(v) for v in np.percentile(values, [25, 50, 75])), b
    hidden = sum(p.responded for p in results.partnerships if 0 < p.responded < MINIMUM)
    if 0 < hidden < MINIMUM:
        assert all(i.dont_know is None and i.not_applicable is None
                   for i in results.instrument_items)
    board = results.partnerships[0].board_code if results.partnerships else "none"
    # as a lead reads them: from a release (SPEC 4b), whose figures these are
    released = dataclasses.replace(results, release=ReleaseStamp(
        1, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "test"))
    lead = disclosure.for_viewer(released, cycle, disclosure.Viewer("board", board))
    assert lead.instrument == () and lead.instrument_items == ()
    assert disclosure.for_viewer(results, cycle, disclosure.Viewer.steward()).instrument \
        == results.instrument


# Worlds with partnerships shared across boards (SPEC 16): each partnership may also count
# in some of the other boards, so board scopes overlap (a board and a board sharing
# partnerships with it) and every board's cells and scores hold the shared respondents.
shared_partnership_st = st.tuples(partnership_st, st.sets(st.integers(0, 2), max_size=2))
shared_state_st = st.lists(st.lists(shared_partnership_st, min_size=1, max_size=3),
                           min_size=2, max_size=3)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(state=shared_state_st)
def test_no_set_can_be_derived_across_boards_that_share_partnerships(session, state):
    """The attacker also knows which boards share which partnerships; every board's
    published figures, over the overlapping scopes, still single nobody out."""
    from survey.services.partnerships import set_participating_boards

    run = next(_counter)
    cycle = make_cycle(session, f"s{run}", status=CycleStatus.CLOSED, questionnaire=Q)
    cycle.opens_on = cycle.opens_on.replace(year=1900 + (run % 100))
    cycle.status = CycleStatus.OPEN  # participations follow the boards set below
    roster = Roster(cycle)
    boards = [make_board(session, f"x{run}-{b}", f"Board {run}-{b}") for b in range(len(state))]
    shared = 0
    for b, partnerships in enumerate(state):
        for members, others in partnerships:
            partnership = make_partnership(session, boards[b])
            also = [boards[o] for o in sorted(others) if o < len(boards) and o != b]
            set_participating_boards(session, partnership, also)
            shared += bool(also)
            for partner_type, level, dont_know in members:
                respond(session, roster, partnership, partner_type, level, dont_know)
    cycle.status = CycleStatus.CLOSED
    session.flush()
    results = cycle_results(session, cycle)
    assert sum(1 for p in results.partnerships if p.also_boards) == shared
    assert_nobody_singled_out(results, roster)


def test_the_adversary_finds_the_old_leaks():
    """The check can fail: a board's sum beside its one published partnership, and a
    state cell beside all but one board cell, each give away a pair."""
    assert derivable([[0, 1, 2, 3, 4], [0, 1, 2]], range(5), 3) == [(3, 4)]
    assert derivable([[0, 1, 2, 3, 4], [2, 3, 4]], range(5), 3) == [(0, 1)]
    assert derivable([[0, 1, 2, 3], [0, 1, 2], [3, 4, 5]], range(6), 3) == [(3,), (4, 5)]
    assert derivable([[0, 1, 2, 3], [1, 2, 3, 4]], range(5), 3) == []


# --- the reproductions, through the web -------------------------------------------


@dataclass
class World:
    roster: Roster
    boards: dict[str, Board]
    partnerships: dict[str, Partnership]


def build(session: Session, *, published: bool = True) -> World:
    """Board 03: a partnership of 6 and one of 2. Board 14: 3 business and a lone Labor
    member; board 15: 3 labor and 3 business (so the state's Labor cell has 4). One
    partnership, Ports, moves from 14 to 15 after cycle 2025."""
    earlier = make_cycle(session, "2025", status=CycleStatus.CLOSED, questionnaire=Q)
    current = make_cycle(session, "2026", status=CycleStatus.CLOSED if published
                         else CycleStatus.OPEN, questionnaire=Q)
    earlier.opens_on = current.opens_on.replace(year=current.opens_on.year - 1)
    earlier.closes_on = current.closes_on.replace(year=current.closes_on.year - 1)
    boards = {code: make_board(session, code, f"Board {code}") for code in ("03", "14", "15")}
    names = {"six": "03", "pair": "03", "ports": "14", "mixed": "14", "labor": "15"}
    partnerships = {name: make_partnership(session, boards[code], name.title())
                    for name, code in names.items()}
    old = Roster(earlier)
    for level in (1, 1, 2):
        respond(session, old, partnerships["ports"], "business", level)
    for level in (4, 4, 4):
        respond(session, old, partnerships["mixed"], "business", level)
    for level in (2, 2, 2):
        respond(session, old, partnerships["labor"], "labor", level)
    roster = Roster(current)
    for level in (2, 2, 3, 3, 2, 3):
        respond(session, roster, partnerships["six"], "business", level)
    respond(session, roster, partnerships["pair"], "business", 4, comment="Pair says hi")
    respond(session, roster, partnerships["pair"], "labor", 4)
    for level in (3, 3, 2):
        respond(session, roster, partnerships["mixed"], "business", level,
                comment=f"Business view {level}")
    respond(session, roster, partnerships["mixed"], "labor", 1, comment="Labor: we are unheard")
    for level in (2, 3, 3):
        respond(session, roster, partnerships["labor"], "labor", level)
    for level in (1, 2, 2):
        respond(session, roster, partnerships["labor"], "business", level)
    for level in (3, 3, 3):
        respond(session, roster, partnerships["ports"], "business", level)
    # a draft and an invitation: progress only
    respond(session, roster, partnerships["six"], "education", 1, submit=False)
    make_invitation(session, current, make_member(session, partnerships["six"], "labor"))
    create_user(session, "state@example.org", PASSWORD, "state")
    create_user(session, "lead03@example.org", PASSWORD, "board", board=boards["03"])
    create_user(session, "lead14@example.org", PASSWORD, "board", board=boards["14"])
    create_user(session, "lead15@example.org", PASSWORD, "board", board=boards["15"])
    session.commit()
    return World(roster, boards, partnerships)


def workbook(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    return openpyxl.load_workbook(io.BytesIO(response.data))


def rows(book, sheet: str) -> list[dict]:
    values = list(book[sheet].iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=False)) for row in values[1:]]


def text_of(body: str) -> str:
    main = body[body.index("<main"):body.index("</main>")] if "<main" in body else body
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def test_the_published_world_gives_no_one_away(session):
    world = build(session)
    assert_nobody_singled_out(cycle_results(session, world.roster.cycle), world.roster)


def test_a_board_of_a_six_and_a_two_shows_the_six_as_the_board(client, auth, session):
    """Board 03's score is the published partnership's, so nothing is left to subtract."""
    world = build(session)
    auth.login("lead03@example.org")
    book = workbook(client, "/exports/2026/03.xlsx")
    title = Q.element("data").title
    partnerships = {r["Partnership"]: r for r in rows(book, "Partnerships")}
    assert partnerships["Pair"][title] == "suppressed"
    six = partnerships["Six"][title]
    assert six == pytest.approx(15 / 6)
    assert rows(book, "Boards")[0][title] == six  # not (2.5 + 4) / 2
    items = [r for r in rows(book, "Items") if r["Partnership"] == "Pair"]
    assert items and all(r["n"] == r["Don't know"] == r["Mean"] == "suppressed" for r in items)
    assert "Responses" not in book.sheetnames
    about = " ".join(str(v) for r in book["About"].iter_rows(values_only=True) for v in r if v)
    assert "subtraction" in about and "responses.csv" in about
    page = text_of(client.get(f"/partnerships/{world.partnerships['pair'].id}").get_data(
        as_text=True))
    assert "Pair says hi" not in page  # two respondents: no comments at all
    assert not re.search(r"\b[1-4]\.\d\d\b", page)


def test_a_lone_labor_member_is_neither_a_cell_nor_a_label(client, auth, session):
    world = build(session)
    results = cycle_results(session, world.roster.cycle)
    cells = {(t.scope, t.partner_type): t.elements["data"] for t in results.partner_types}
    assert not cells["14", "labor"].shown
    assert not cells["14", "business"].shown  # else board 14's sum minus it is the lone one
    assert not cells[STATE_SCOPE, "labor"].shown  # else minus board 15's three is the lone
    auth.login("lead14@example.org")
    body = client.get(f"/partnerships/{world.partnerships['mixed'].id}").get_data(as_text=True)
    comments = text_of(body)[text_of(body).index("Comments"):]
    # Three business members and one Labor: labelling the business comments would leave
    # the Labor member's as the one without a label, so none is labelled.
    assert "Partner type not shown Labor: we are unheard" in comments
    assert "Partner type not shown Business view 2" in comments
    assert "Business / industry" not in comments
    # listed by text, not by who submitted when
    assert comments.index("Business view 2") < comments.index("Business view 3") < \
        comments.index("Labor: we are unheard")
    book = workbook(client, "/exports/2026/14.xlsx")
    for row in rows(book, "Partner types"):
        assert all(row[e.title] == "suppressed" for e in Q.elements), row


def test_row_level_answers_go_to_stewards_only(client, auth, session):
    world = build(session)
    auth.login("lead14@example.org")
    assert client.get("/exports/2026/responses.csv").status_code == 404
    auth.logout()
    auth.login("state@example.org")
    response = client.get("/exports/2026/responses.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "private, no-store"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len({r["respondent"] for r in table}) == len(world.roster.respondents)
    assert len(table) == len(world.roster.respondents) * len(Q.items)
    assert not any("@" in v or "Acme" in v for r in table for v in r.values())


def test_what_the_figures_mean_follows_the_gate_on_the_web(client, auth, session):
    """Board 03's Pair (two respondents) has no agreement anywhere, the state's don't
    know shares are withheld (its two would be the state's count minus the published
    ones), and the instrument is the stewards': no sheet, page or figure for a lead."""
    world = build(session)
    auth.login("lead03@example.org")
    book = workbook(client, "/exports/2026/03.xlsx")
    assert "Instrument" not in book.sheetnames
    agreement = rows(book, "Agreement")
    assert {r["Partnership"] for r in agreement} == {"Six"}
    assert all(r["n"] == 6 for r in agreement)
    assert client.get("/state/instrument").status_code == 404
    page = text_of(client.get(f"/partnerships/{world.partnerships['pair'].id}?cycle=2026")
                   .get_data(as_text=True))
    assert "agree 0." not in page and "split 0." not in page.split("How to read")[0]
    six = text_of(client.get(f"/partnerships/{world.partnerships['six'].id}?cycle=2026")
                  .get_data(as_text=True))
    # levels 2, 2, 3, 3, 2, 3 on every item: s^2 = 0.3, so rwg(J) = J 0.76 / (J 0.76 + 0.24)
    j = len(Q.elements[0].items)
    assert f"agree {j * 0.76 / (j * 0.76 + 0.24):.2f}" in six
    auth.logout()
    auth.login("state@example.org")
    book = workbook(client, "/exports/2026.xlsx")
    items = [r for r in rows(book, "Instrument") if r["Item"]]
    assert items and {r["Don't know"] for r in items} == {"suppressed"}
    assert {r["Not applicable"] for r in items} == {"suppressed"}
    assert client.get("/state/instrument?cycle=2026").status_code == 200


def test_an_open_cycle_shows_board_leads_progress_only(client, auth, session):
    world = build(session, published=False)
    auth.login("lead03@example.org")
    body = client.get("/boards/03?cycle=2026").get_data(as_text=True)
    text = text_of(body)
    assert "still open" in text and "Response progress" in text
    assert re.search(r"Six 8 1 6 75%", text)  # invited, in progress, submitted, rate
    assert not re.search(r"\b[1-4]\.\d\d\b", text)
    page = client.get(f"/partnerships/{world.partnerships['six'].id}?cycle=2026")
    assert page.status_code == 200 and not re.search(r"\b[1-4]\.\d\d\b",
                                                     text_of(page.get_data(as_text=True)))
    for url in ("/exports/2026/03.xlsx", "/charts/2026/boards/03/radar.png",
                f"/charts/2026/partnerships/{world.partnerships['six'].id}/radar.svg"):
        assert client.get(url).status_code == 404, url
    assert client.get("/exports/2025/03.xlsx").status_code == 200  # a closed cycle


def test_an_open_cycle_is_provisional_for_state_staff(client, auth, session):
    build(session, published=False)
    auth.login("state@example.org")
    text = text_of(client.get("/state?cycle=2026").get_data(as_text=True))
    assert "Provisional" in text
    book = workbook(client, "/exports/2026.xlsx")
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True)}
    assert summary["Results"].startswith("provisional")
    cycle = cycle_by_name(session, "2026")
    results = disclosure.published_results(session, cycle)
    assert results.provisional
    assert "(provisional)" in radar(results).title
    with pytest.raises(disclosure.ResultsWithheld):
        disclosure.published_results(session, cycle, "03", disclosure.Viewer("board", "03"))


def test_closing_publishes_and_reopening_keeps_it_published(session):
    from survey.services.cycles import close_cycle

    cycle = make_cycle(session, "2030", questionnaire=Q)
    assert not disclosure.is_published(cycle)
    assert close_cycle(session, cycle)
    first = cycle.published_at
    assert first is not None
    cycle.status = CycleStatus.OPEN  # reopened
    assert disclosure.is_published(cycle) and cycle.published_at == first
    assert not disclosure.withheld(cycle, disclosure.Viewer("board", "03"))


def test_a_moved_partnership_shows_its_own_history_but_not_the_old_board(client, auth,
                                                                         session):
    world = build(session)
    ports = world.partnerships["ports"]
    ports.board = world.boards["15"]
    session.commit()
    auth.login("lead15@example.org")
    text = text_of(client.get(f"/partnerships/{ports.id}?cycle=2025").get_data(as_text=True))
    then = cycle_results(session, cycle_by_name(session, "2025"))
    board14 = next(b for b in then.boards if b.key == "14")
    assert f"{board14.elements['data'].value:.2f}" == "2.67"  # (4/3 + 4) / 2
    assert f"{then.state.elements['data'].value:.2f}" == "2.44"  # (4/3 + 4 + 2) / 3
    assert "2.67" not in text  # board 14's figure, in no table and no chart data
    assert "Board 14 Board 14" not in text  # nor as a radar series
    assert "1.33" in text and "2.44" in text  # its own (1 + 1 + 2) / 3, and the state
    for chart in ("radar", "level-distribution", "change"):
        assert client.get(f"/charts/2025/partnerships/{ports.id}/{chart}.svg").status_code == 200
    assert "3.00" in text_of(client.get(f"/partnerships/{ports.id}?cycle=2026").get_data(
        as_text=True))
    auth.logout()
    auth.login("lead14@example.org")  # the old board still sees its 2025 partnership
    assert "2.67" in text_of(client.get(f"/partnerships/{ports.id}?cycle=2025").get_data(
        as_text=True))
