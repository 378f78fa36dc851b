"""Staff dashboards: what state staff and board leads see, and what they must not."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from survey.models import Board, CycleStatus, Partnership
from survey.scoring import cycle_results
from survey.services.accounts import create_user
from survey.services.dashboard_data import find_cycle
from tests.factories import (
    all_answers,
    answer,
    make_board,
    make_cycle,
    make_invitation,
    make_member,
    make_partnership,
    shipped_questionnaire,
)

PASSWORD = "correct horse battery"
SECRET_NAME = "Wilhelmina Quarterfield"
SECRET_EMAIL = "wilhelmina.q@secret-employer.example"
COMMENT = "We meet monthly & share <labour market> data."


@dataclass
class World:
    """Two boards, two cycles, and staff accounts; ids for the URLs under test."""

    board: Board  # "15", with the board lead
    other: Board  # "16"
    strong: Partnership  # 15: 3 respondents in 2026 and 2025
    small: Partnership  # 15: 1 respondent (suppressed)
    elsewhere: Partnership  # 16: 3 respondents


def build_world(session: Session) -> World:
    """Boards 15 and 16, cycle 2025 (closed) and 2026 (open, published: closed once and
    reopened, so board leads see its results), answers, three staff users."""
    q = shipped_questionnaire()
    board = make_board(session, "15", "CareerSource Heartland")
    other = make_board(session, "16", "CareerSource Gulf Coast")
    strong = make_partnership(session, board, "Advanced Manufacturing <b>x</b>")
    small = make_partnership(session, board, "Health Care Partners", sector="Health care")
    elsewhere = make_partnership(session, other, "Logistics Alliance", sector="Logistics")
    earlier = make_cycle(session, "2025", status=CycleStatus.CLOSED)
    current = make_cycle(session, "2026")
    current.published_at = earlier.published_at  # see test_confidentiality for unpublished
    earlier.opens_on = current.opens_on.replace(year=current.opens_on.year - 1)
    earlier.closes_on = current.closes_on.replace(year=current.closes_on.year - 1)

    members = [
        make_member(session, strong, "business", email=SECRET_EMAIL, name=SECRET_NAME),
        make_member(session, strong, "education"),
        make_member(session, strong, "workforce"),
    ]
    for member, level in zip(members, (2, 2, 3), strict=True):
        invitation, _ = make_invitation(session, earlier, member)
        answer(session, invitation, all_answers(q, level))
    for member, level in zip(members, (4, 3, 3), strict=True):
        invitation, _ = make_invitation(session, current, member)
        comments = {"data": COMMENT} if member.email == SECRET_EMAIL else None
        answer(session, invitation, all_answers(q, level), comments=comments)
    lone = make_member(session, small, "business")
    invitation, _ = make_invitation(session, current, lone)
    answer(session, invitation, all_answers(q, 1))
    make_invitation(session, current, make_member(session, small, "labor"))
    for level in (1, 2, 2):
        invitation, _ = make_invitation(session, current, make_member(session, elsewhere))
        answer(session, invitation, all_answers(q, level))

    create_user(session, "state@example.org", PASSWORD, "state")
    create_user(session, "admin@example.org", PASSWORD, "admin")
    create_user(session, "lead@example.org", PASSWORD, "board", board=board)
    session.commit()
    return World(board, other, strong, small, elsewhere)


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.get_data(as_text=True)


def text_of(body: str) -> str:
    """The visible text of a page, tags dropped and whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())



def results_2026(session: Session, board_code: str | None = None):
    return cycle_results(session, find_cycle(session, "2026"), board_code)


def test_state_page_shows_every_board_with_the_scoring_figures(client, auth, session, world):
    auth.login("state@example.org")
    body = page(client, "/state")
    results = results_2026(session)
    text = text_of(body)
    assert "cycle 2026" in text
    assert {b.key for b in results.boards} == {"15", "16"}
    for board in results.boards:
        assert f'href="/boards/{board.key}?cycle=2026"' in body
        assert board.label in text
        assert f"{board.overall.value:.2f}" in text
    state = results.state
    assert f"{state.overall.value:.2f}" in text
    assert f'<span class="badge stage-{state.stage.value}">{state.stage.label}</span>' in body
    assert f"{state.responded} of {state.invited} ({state.responded / state.invited:.0%})" in text
    assert 'href="/exports/2026.xlsx"' in body
    assert '<img src="/charts/2026/state/board-heatmap.png" alt="' in body
    assert 'href="/charts/2026/state/radar.svg"' in body


def test_state_page_lists_change_since_the_last_cycle(client, auth, world):
    auth.login("admin@example.org")
    text = text_of(page(client, "/state"))
    # The strong partnership went from 2.33 overall in 2025 to 3.33 in 2026.
    assert re.search(r"Advanced Manufacturing <b>x</b> 2025 2\.33 3\.33 \+1\.00 improved", text)


def test_cycle_selector_switches_cycle_and_unknown_cycle_is_404(client, auth, world):
    auth.login("state@example.org")
    body = page(client, "/state")
    assert '<option value="2026" selected>' in body
    assert '<option value="2025"' in body
    earlier = text_of(page(client, "/state?cycle=2025"))
    assert "cycle 2025" in earlier
    assert "Logistics Alliance" not in earlier  # took no part in 2025
    assert client.get("/state?cycle=1999").status_code == 404


def test_board_lead_sees_own_board(client, auth, session, world):
    auth.login("lead@example.org")
    body = page(client, "/boards/15")
    text = text_of(body)
    results = results_2026(session, "15")
    strong = next(p for p in results.partnerships if p.partnership_id == world.strong.id)
    assert f'href="/partnerships/{world.strong.id}?cycle=2026"' in body
    assert f'href="/partnerships/{world.small.id}?cycle=2026"' in body
    assert f"{strong.overall.value:.2f}" in text
    assert "3 of 3" in text  # response progress
    assert "1 of 2" in text
    assert '<progress max="3" value="3"' in body
    assert 'href="/exports/2026/15.xlsx"' in body
    assert 'href="/admin/boards/15/roster"' in body
    assert '<img src="/charts/2026/boards/15/radar.png"' in body
    assert '<img src="/charts/2026/boards/15/partner-types.png"' in body
    assert '<img src="/charts/2026/boards/15/industry-gap.png"' in body
    assert "Logistics Alliance" not in text  # another board's partnership


def test_suppressed_partnership_in_board_table_shows_no_number(client, auth, world):
    auth.login("lead@example.org")
    body = page(client, "/boards/15")
    row = re.search(r'<tr>\s*<th scope="row"><a[^>]*>Health Care Partners</a>.*?</tr>', body, re.S)
    assert row, "the small partnership's row"
    assert '<span class="badge suppressed">suppressed</span>' in row.group(0)
    assert not re.search(r"\d\.\d\d", row.group(0))


@pytest.mark.parametrize("url", ["/state", "/boards/16", "/partnerships/{elsewhere}"])
def test_board_lead_gets_404_outside_their_board(client, auth, world, url):
    auth.login("lead@example.org")
    response = client.get(url.format(elsewhere=world.elsewhere.id))
    assert response.status_code == 404
    assert "Logistics Alliance" not in response.get_data(as_text=True)


def test_unknown_board_and_partnership_are_404(client, auth, world):
    auth.login("state@example.org")
    assert client.get("/boards/99").status_code == 404
    assert client.get("/partnerships/99999").status_code == 404


def test_dashboards_need_a_login(client, world):
    for url in ("/state", "/boards/15", f"/partnerships/{world.strong.id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_partnership_page_shows_items_and_comments_without_names(client, auth, session, world):
    auth.login("lead@example.org")
    body = page(client, f"/partnerships/{world.strong.id}")
    text = text_of(body)
    results = results_2026(session, "15")
    items = [i for i in results.item_results if i.partnership_id == world.strong.id]
    assert items
    for item in items:
        assert item.text in text
    assert f"{items[0].mean:.2f}" in text  # (4 + 3 + 3) / 3
    assert COMMENT in text
    assert html.escape(COMMENT, quote=False) in body  # escaped, not markup
    # one respondent of each type: the comment is not labelled with its partner type
    comments = text[text.index("Comments"):]
    assert "Partner type not shown " + COMMENT in comments
    assert "Business / industry" not in comments
    assert SECRET_NAME not in body
    assert SECRET_EMAIL not in body
    for element in results.elements:
        assert element.title in text
    pid = world.strong.id
    assert f'<img src="/charts/2026/partnerships/{pid}/radar.png"' in body
    assert f'<img src="/charts/2026/partnerships/{pid}/level-distribution.png"' in body
    assert f'<img src="/charts/2026/partnerships/{pid}/change.png"' in body


def test_partnership_page_shows_each_elements_change(client, auth, world):
    auth.login("lead@example.org")
    text = text_of(page(client, f"/partnerships/{world.strong.id}"))
    title = shipped_questionnaire().element("data").title
    assert re.search(re.escape(title) + r" 2025 2\.33 3\.33 \+1\.00 improved", text)
    assert re.search(r"Overall 2025 2\.33 3\.33 \+1\.00 improved", text)


def test_suppressed_partnership_page_shows_no_numbers(client, auth, world):
    auth.login("lead@example.org")
    body = page(client, f"/partnerships/{world.small.id}")
    text = text_of(body)
    assert "Fewer than 3 partners responded; scores are suppressed to protect respondents" in text
    main = body[body.index("<main"):body.index("</main>")]
    assert not re.search(r"\d\.\d\d", main)
    assert "radar.png" not in main
    assert "level-distribution" not in main


def test_user_typed_text_is_escaped(client, auth, world):
    auth.login("state@example.org")
    for url in ("/state", "/boards/15", f"/partnerships/{world.strong.id}"):
        body = page(client, url)
        assert "Advanced Manufacturing &lt;b&gt;x&lt;/b&gt;" in body
        assert "<b>x</b>" not in body


def test_lead_may_follow_a_partnership_that_moved_to_their_board(client, auth, session, world):
    # Logistics Alliance moves from board 16 to 15 after 2026: its history moves with it.
    world.elsewhere.board = world.board
    session.commit()
    auth.login("lead@example.org")
    text = text_of(page(client, f"/partnerships/{world.elsewhere.id}?cycle=2026"))
    assert "Logistics Alliance" in text
    assert "board 16 CareerSource Gulf Coast" in text  # reported as the board stood then


def test_an_item_few_partners_scored_shows_suppressed_mean_and_counts(client, auth, session, world):
    # Two of the three strong partners answer "don't know" to data-1 in a fresh cycle; the
    # third says "don't know" to data-2, so all three scored as many data items (else
    # SPEC 4a rule 7 hides the element's item figures whole).
    q = shipped_questionnaire()
    later = make_cycle(session, "2027", status=CycleStatus.CLOSED)  # published
    for member, first, second in zip(world.strong.members, (4, "DK", "DK"), ("DK", 3, 3),
                                     strict=True):
        invitation, _ = make_invitation(session, later, member)
        answer(session, invitation, {**all_answers(q, 3), "data-1": first, "data-2": second})
    session.commit()
    auth.login("lead@example.org")
    body = page(client, f"/partnerships/{world.strong.id}?cycle=2027")
    # The item is numbered as partners saw it ("1.1"), beside its text, never its code.
    row = re.search(r'<tr>\s*<th scope="row"><span class="item-number">1\.1</span>.*?</tr>',
                    body, re.S)
    assert row
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    assert cells[0] == "1"  # n
    assert "suppressed" in cells[1]  # the mean of one answer
    assert cells[2] == "2"  # don't know is counted and shown
    assert all("suppressed" in c for c in cells[4:])  # level counts would reveal the answer
    assert "4.00" not in row.group(0)


def test_default_cycle_is_the_open_one_and_empty_scopes_say_so(client, auth, session, world):
    make_cycle(session, "2027", status=CycleStatus.DRAFT)
    session.commit()
    auth.login("state@example.org")
    assert '<option value="2026" selected>' in page(client, "/state")
    text = text_of(page(client, "/boards/16?cycle=2025"))
    assert "This board had no partnerships in cycle 2025." in text
    text = text_of(page(client, f"/partnerships/{world.elsewhere.id}?cycle=2025"))
    assert "did not take part in cycle 2025" in text


def test_pages_without_any_cycle(client, auth, session):
    board = make_board(session, "07", "CareerSource Capital Region")
    create_user(session, "state@example.org", PASSWORD, "state")
    create_user(session, "lead@example.org", PASSWORD, "board", board=board)
    session.commit()
    auth.login("state@example.org")
    assert "There is no assessment cycle yet" in page(client, "/state")
    assert "There is no assessment cycle yet" in page(client, "/boards/07")


# --- layout: the decision first, a legend, folded data, keyboard-reachable scrolling ---------


def test_board_page_leads_with_stage_change_and_what_to_work_on(client, auth, session, world):
    auth.login("state@example.org")
    body = page(client, "/boards/15?cycle=2026")
    main = body[body.index("<main"):]
    table = main.index('<table class="partnerships">')
    focus = main.index("What to work on")
    first_chart = main.index("<img ")
    assert table < focus < first_chart  # table, then what to work on, then the charts
    row = re.search(r'<tr>\s*<th scope="row"><a[^>]*>Advanced Manufacturing.*?</tr>', main, re.S)
    assert row
    results = results_2026(session, "15")
    strong = next(p for p in results.partnerships if p.partnership_id == world.strong.id)
    cells = text_of(row.group(0))
    # Stage, change with its status and delta, then the overall score, in that order.
    assert re.search(rf"{strong.stage.label} improved \+1\.00 {strong.overall.value:.2f}", cells)
    # Each element's score is a cell coloured by its stage, as in the heatmap.
    for key, score in strong.elements.items():
        stage = results.scale.stage(score.value)
        assert f'<td class="num cell stage-{stage.value}">{score.value:.2f}' in row.group(0), key


def test_every_dashboard_has_a_legend_with_the_rules(client, auth, world):
    auth.login("state@example.org")
    for url in ("/state", "/boards/15", f"/partnerships/{world.strong.id}"):
        text = text_of(page(client, url))
        assert "Exploring 1.00 to under 1.75" in text, url
        assert "Sustaining 3.25 and up" in text, url
        assert "improved when it rose by 0.25 or more" in text, url
        assert "declined when it fell by 0.25 or more" in text, url
        # "sustained" is explained, and told apart from the Sustaining stage.
        assert "sustained when the stage is Implementing or higher" in text, url
        assert "not the same as the Sustaining stage" in text, url


def test_chart_data_is_folded_and_scroll_regions_take_the_keyboard(client, auth, world):
    auth.login("state@example.org")
    for url in ("/state", "/boards/15", f"/partnerships/{world.strong.id}"):
        body = page(client, url)
        assert '<details class="chart-data">' in body, url
        assert '<details class="chart-data" open' not in body, url
        scrollers = re.findall(r'<div class="table-scroll"[^>]*>', body)
        assert scrollers, url
        for tag in scrollers:
            assert 'tabindex="0"' in tag and 'role="region"' in tag, (url, tag)
            assert "aria-label=" in tag or "aria-labelledby=" in tag, (url, tag)


def test_what_to_work_on_names_items_as_partners_saw_them(client, auth, session, world):
    auth.login("state@example.org")
    text = text_of(page(client, f"/partnerships/{world.strong.id}?cycle=2025"))
    focus = text[text.index("What to work on"):text.index("How to read")]
    q = shipped_questionnaire()
    first = q.elements[0].items[0]
    assert "Weakest elements" in focus and "Weakest items" in focus
    # Every strong partner chose the same level on every item in 2025: the first three
    # items in questionnaire order tie, numbered 1.1, 1.2, 1.3 with their text.
    assert f"1.1 {first.text}" in focus
    assert "data-1" not in text
