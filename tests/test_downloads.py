"""Chart images and Excel workbooks: formats, confinement to a board, and the cache."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy.orm import Session

from reports import charts
from survey import scoring
from tests.factories import all_answers, answer, make_invitation, make_member, shipped_questionnaire
from tests.test_dashboards import World, build_world

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEETS = ["Summary", "Boards", "Partnerships", "Items", "Partner types", "Change", "Agreement",
          "Benchmarks", "Outcomes", "Coverage", "Instrument", "Plans", "About"]
BOARD_SHEETS = [name for name in SHEETS if name not in ("Coverage", "Instrument")]  # the state's


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def test_state_charts_download_as_png_and_svg(client, auth, world):
    auth.login("state@example.org")
    png = client.get("/charts/2026/state/board-heatmap.png")
    assert png.status_code == 200
    assert png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
    svg = client.get("/charts/2026/state/radar.svg")
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data[:2000]
    # Opened on its own, the SVG keeps its inline styling and still runs no script.
    csp = svg.headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in csp and "default-src 'none'" in csp
    assert "script" not in csp


@pytest.mark.parametrize("url", [
    "/charts/2026/boards/15/radar.png",
    "/charts/2026/boards/15/partnership-heatmap.svg",
    "/charts/2026/boards/15/partner-types.png",
    "/charts/2026/boards/15/industry-gap.png",
    "/charts/2026/boards/15/change.png",
    "/charts/2026/partnerships/{strong}/radar.png",
    "/charts/2026/partnerships/{strong}/level-distribution.svg",
    "/charts/2026/partnerships/{strong}/change.png",
])
def test_board_lead_downloads_charts_of_their_board(client, auth, world, url):
    auth.login("lead@example.org")
    response = client.get(url.format(strong=world.strong.id))
    assert response.status_code == 200
    assert response.data.startswith(b"\x89PNG") or b"<svg" in response.data[:2000]


@pytest.mark.parametrize("url", [
    "/charts/2026/state/board-heatmap.png",
    "/charts/2026/boards/16/radar.png",
    "/charts/2026/partnerships/{elsewhere}/radar.svg",
    "/exports/2026.xlsx",
    "/exports/2026/16.xlsx",
])
def test_board_lead_gets_404_for_other_charts_and_exports(client, auth, world, url):
    auth.login("lead@example.org")
    response = client.get(url.format(elsewhere=world.elsewhere.id))
    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("url", [
    "/charts/1999/state/radar.png",  # unknown cycle
    "/charts/2026/state/no-such-chart.png",
    "/charts/2026/boards/99/radar.png",  # unknown board
    "/charts/2026/partnerships/99999/radar.png",
    "/charts/2026/state/radar.gif",
    "/exports/1999.xlsx",
    "/exports/2026/99.xlsx",
])
def test_unknown_downloads_are_404_pages(client, auth, world, url):
    auth.login("state@example.org")
    response = client.get(url)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_downloads_need_a_login(client, world):
    for url in ("/charts/2026/state/radar.png", "/exports/2026.xlsx", "/exports/2026/15.xlsx"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_state_workbook_opens_with_the_spec_sheets(client, auth, world):
    auth.login("state@example.org")
    response = client.get("/exports/2026.xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert response.headers["Content-Disposition"] == 'attachment; filename="survey-2026.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == SHEETS
    boards = [row[0] for row in workbook["Boards"].iter_rows(min_row=2, values_only=True)]
    assert boards == ["15", "16"]


def test_board_lead_downloads_their_board_workbook(client, auth, world):
    auth.login("lead@example.org")
    response = client.get("/exports/2026/15.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="survey-2026-15.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == BOARD_SHEETS
    sheet = workbook["Partnerships"]
    partnerships = {row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert "Logistics Alliance" not in partnerships
    assert "Health Care Partners" in partnerships


def test_a_repeated_chart_is_not_rendered_again_and_a_new_answer_leaves_the_release_alone(
    client, auth, session, world, monkeypatch
):
    renders: list[str] = []
    computed: list[str | None] = []
    png = charts.Chart.png
    cycle_results = scoring.cycle_results

    def counting_png(chart: charts.Chart) -> bytes:
        renders.append(chart.name)
        return png(chart)

    def counting_results(session, cycle, board_code=None, **kwargs):
        computed.append(board_code)
        return cycle_results(session, cycle, board_code, **kwargs)

    monkeypatch.setattr(charts.Chart, "png", counting_png)
    monkeypatch.setattr(scoring, "cycle_results", counting_results)
    auth.login("lead@example.org")
    url = "/charts/2026/boards/15/radar.png"
    first = client.get(url)
    second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert second.data == first.data
    assert len(renders) == 1
    assert computed == [None]  # release 1, once, state-wide (SPEC 4b.6: published by hand)
    client.get("/boards/15")  # the page reuses the release
    assert computed == [None]

    # A partner submits: the lead's chart is release 1's still (SPEC 4b.2).
    q = shipped_questionnaire()
    invitation, _ = make_invitation(session, _cycle_2026(session),
                                    make_member(session, world.strong, "labor"))
    answer(session, invitation, all_answers(q, 1))
    session.commit()
    third = client.get(url)
    assert third.status_code == 200
    assert third.data == first.data and len(renders) == 1 and computed == [None]
    # A steward's live view is drawn from the answers as they stand, and differs.
    auth.logout()
    auth.login("state@example.org")
    live = client.get(url + "?live=1")
    assert live.status_code == 200 and computed == [None, "15"]
    assert live.data != first.data


def test_a_chart_revalidates_by_etag(client, auth, world):
    auth.login("state@example.org")
    first = client.get("/charts/2026/state/radar.png")
    etag = first.headers["ETag"]
    again = client.get("/charts/2026/state/radar.png", headers={"If-None-Match": etag})
    assert again.status_code == 304


def _cycle_2026(session: Session):
    return scoring.cycle_by_name(session, "2026")
