"""Outcomes (SPEC 16): measures as content, entered on the partnership page by the lead
board's lead or imported by state staff, shown beside maturity with change since the
last cycle, in the workbook's Outcomes sheet and the PDF."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from survey.models import CycleStatus, OutcomeValue, utcnow
from survey.outcome_measures import load_measures
from survey.services.accounts import create_user
from survey.services.partnerships import set_participating_boards
from tests.conftest import csrf_token
from tests.factories import make_board, make_cycle, make_partnership
from tests.test_questionnaire import SHIPPED, run
from tests.test_scoring import Q, crowd

PASSWORD = "correct horse battery"
HEADER = ["board", "partnership", "measure", "value", "source"]


def text_of(response) -> str:
    body = response.get_data(as_text=True)
    main = body[body.index("<main"):body.index("</main>")] if "<main" in body else body
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def test_the_shipped_measures_load_with_spanish_labels():
    measures = {m.key: m for m in load_measures(SHIPPED)}
    assert list(measures) == ["employers_engaged", "job_seekers_trained", "credentials_earned",
                              "placements", "median_wage", "retention_6_months"]
    assert measures["median_wage"].unit == "money"
    assert measures["retention_6_months"].unit == "percent"
    assert measures["placements"].label_in("es") == "Colocaciones laborales"
    assert measures["placements"].label_in("en") == "Placements"


def test_check_names_file_measure_and_problem(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(SHIPPED, folder)
    text = (folder / "outcomes.yaml").read_text(encoding="utf-8")
    text = text.replace("unit: money", "unit: euros").replace(
        "key: placements", "key: employers_engaged")
    (folder / "outcomes.yaml").write_text(text, encoding="utf-8")
    spanish = (folder / "es" / "outcomes.yaml").read_text(encoding="utf-8")
    (folder / "es" / "outcomes.yaml").write_text(
        spanish.replace("  credentials_earned:", "  credentials:"), encoding="utf-8")
    result = run(folder, "check")
    assert result.exit_code == 1
    out = result.output
    assert "outcomes.yaml: measure 'employers_engaged': duplicate key" in out
    assert "outcomes.yaml: measure 'median_wage': unit must be one of count, money, " \
        "percent, not 'euros'" in out
    assert "es/outcomes.yaml: measure 'credentials': extra, no such measure in English" in out
    assert "es/outcomes.yaml: measure 'credentials_earned': missing translation" in out


@pytest.fixture
def world(session):
    """Board 03 leads Gulf Ports (shared with 04); cycles 2025 and 2026, both closed."""
    boards = {c: make_board(session, c, f"Board {c}") for c in ("03", "04", "06")}
    cycles = {}
    for year in (2025, 2026):
        cycle = make_cycle(session, str(year), status=CycleStatus.OPEN, questionnaire=Q)
        cycle.opens_on = cycle.opens_on.replace(year=year)
        cycle.closes_on = cycle.closes_on.replace(year=year + 1)
        cycles[year] = cycle
    ports = make_partnership(session, boards["03"], "Gulf Ports", sector="Marine")
    set_participating_boards(session, ports, [boards["04"]])
    for cycle in cycles.values():
        crowd(session, cycle, ports, 3, 3, 4)
        cycle.status = CycleStatus.CLOSED
        cycle.published_at = cycle.closed_at = utcnow()
    for code in ("03", "04", "06"):
        create_user(session, f"lead{code}@example.org", PASSWORD, "board", board=boards[code])
    create_user(session, "state@example.org", PASSWORD, "state")
    session.commit()
    return {"ports": ports, "cycles": cycles}


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


def test_state_staff_import_outcomes_all_or_nothing(runner, session, world, tmp_path):
    bad = write(tmp_path / "o.csv", [
        ["03", "Gulf Ports", "placements", "41", "State wage records"],
        ["03", "Gulf Ports", "median_wage", "$18.5x", ""],
        ["03", "Gulf Ports", "retention_6_months", "120", ""],
        ["03", "Nowhere", "placements", "3", ""],
        ["03", "Gulf Ports", "happiness", "9", ""],
        ["03", "Gulf Ports", "placements", "40", ""],
        ["03", "Gulf Ports", "credentials_earned", "2.5", ""],
    ])
    result = runner.invoke(args=["outcomes", "import", str(bad), "--cycle", "2025"])
    assert result.exit_code == 1
    out = result.output
    assert "6 bad rows in o.csv, no outcome values imported" in out
    assert "row 3: Median wage at placement: '$18.5x' is not a number" in out
    assert "row 4: Retention at six months: '120' is a percent, from 0 to 100" in out
    assert "row 5: board 03 leads no partnership named 'Nowhere'" in out
    assert "row 6: unknown measure 'happiness' (use one of employers_engaged," in out
    assert "row 7: placements of 'Gulf Ports' is also on row 2" in out
    assert "row 8: Credentials earned: '2.5' is a count, a whole number" in out
    assert session.execute(select(OutcomeValue)).first() is None
    assert runner.invoke(args=["outcomes", "import", str(bad), "--cycle", "1999"]
                         ).exit_code == 1
    good = write(tmp_path / "good.csv", [
        ["03", "Gulf Ports", "placements", "41", "State wage records"],
        ["03", "Gulf Ports", "Median wage at placement", "$18.50", "State wage records"],
        ["3", "gulf ports", "employers_engaged", "suppressed", "Provider"],
    ])
    result = runner.invoke(args=["outcomes", "import", str(good), "--cycle", "2025"])
    assert result.exit_code == 0, result.output
    assert "imported 3 outcome values into cycle 2025: 3 new or changed" in result.output
    stored = {v.measure_key: (v.value, v.suppressed) for v in
              session.execute(select(OutcomeValue)).scalars()}
    assert stored == {"placements": (41.0, False), "median_wage": (18.5, False),
                      "employers_engaged": (None, True)}


def test_a_lead_enters_outcomes_and_sees_them_beside_maturity_and_the_change_next_cycle(
        client, auth, session, world, runner, tmp_path):
    ports = world["ports"]
    assert runner.invoke(args=["outcomes", "import", str(write(tmp_path / "o.csv", [
        ["03", "Gulf Ports", "placements", "30", "Wage records"],
        ["03", "Gulf Ports", "median_wage", "17.25", "Wage records"]])), "--cycle", "2025"]
    ).exit_code == 0
    url = f"/partnerships/{ports.id}?cycle=2026"
    post_url = f"/partnerships/{ports.id}/outcomes?cycle=2026"
    auth.login("lead04@example.org")  # shared with 04: reads, cannot enter
    assert "Enter this cycle's outcomes" not in text_of(client.get(url))
    token = csrf_token(client, url)
    assert client.post(post_url, data={"csrf_token": token, "value-placements": "1"}
                       ).status_code == 404
    auth.logout()
    auth.login("lead06@example.org")
    assert client.post(post_url, data={"value-placements": "1"}).status_code in (400, 404)
    auth.logout()

    auth.login("lead03@example.org")
    page = client.get(url)
    assert "Enter this cycle's outcomes" in text_of(page)
    token = csrf_token(client, url)
    assert client.post(post_url, data={"value-placements": "41"}).status_code == 400  # CSRF
    bad = client.post(post_url, data={"csrf_token": token, "value-placements": "forty",
                                      "value-median_wage": "18.50",
                                      "source-placements": "<script>x</script>"})
    assert bad.status_code == 422
    assert "Placements: 'forty' is not a number (or the word suppressed)" in text_of(bad)
    assert 'value="forty"' in bad.get_data(as_text=True)  # typed values kept
    assert "<script>x</script>" not in bad.get_data(as_text=True)
    assert session.execute(select(OutcomeValue).where(
        OutcomeValue.cycle_id == world["cycles"][2026].id)).first() is None
    saved = client.post(post_url, data={
        "csrf_token": token, "value-placements": "41", "source-placements": "Wage records",
        "value-median_wage": "$18.50", "value-retention_6_months": "suppressed"})
    assert saved.status_code == 303
    text = text_of(client.get(url))
    assert "Placements 41 30 (2025) +11 (better) Wage records" in text
    assert "Median wage at placement $18.50 $17.25 (2025) +$1.25 (better)" in text
    assert "Retention at six months suppressed" in text
    auth.logout()

    auth.login("lead04@example.org")  # the others read them
    assert "Placements 41 30 (2025) +11" in text_of(client.get(url))
    book = openpyxl.load_workbook(io.BytesIO(client.get("/exports/2026/04.xlsx").data))
    rows = list(book["Outcomes"].iter_rows(values_only=True))
    assert rows[0][:7] == ("Board code", "Partnership", "Measure", "Value", "Previous",
                           "Change", "Source")
    by_measure = {r[2]: r for r in rows[1:]}
    assert by_measure["Placements"][:7] == ("03", "Gulf Ports", "Placements", 41, 30, 11,
                                            "Wage records")
    assert by_measure["Retention at six months"][3] == "suppressed"
    pdf = client.get("/reports/2026/04.pdf")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf.data)
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], check=True,
                                   capture_output=True, text=True).stdout.split())
    assert "Outcomes" in text and "$18.50" in text and "$17.25 (2025)" in text


def test_the_state_page_plots_each_measure_against_the_overall_score(
        client, auth, session, world, runner, tmp_path):
    assert runner.invoke(args=["outcomes", "import", str(write(tmp_path / "o.csv", [
        ["03", "Gulf Ports", "placements", "41", ""],
        ["03", "Gulf Ports", "median_wage", "18.5", ""]])), "--cycle", "2026"]).exit_code == 0
    auth.login("state@example.org")
    page = client.get("/state?cycle=2026").get_data(as_text=True)
    assert "/charts/2026/state/outcomes.svg" in page
    assert "Outcomes against the overall score, 2026" in page
    svg = client.get("/charts/2026/state/outcomes.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    text = text_of(client.get("/state?cycle=2026"))
    assert "Median wage at placement 03 Gulf Ports 3.33 $18.50" in text  # the chart's table


def test_a_partner_reads_the_outcomes_in_spanish_on_their_results_page(
        app, session, world, runner, tmp_path):
    from tests.factories import make_invitation, make_member

    assert runner.invoke(args=["outcomes", "import", str(write(tmp_path / "o.csv", [
        ["03", "Gulf Ports", "placements", "41", ""],
        ["03", "Gulf Ports", "retention_6_months", "suppressed", ""]])), "--cycle", "2026"]
    ).exit_code == 0
    member = make_member(session, world["ports"], "business")
    member.language = "es"
    _, token = make_invitation(session, world["cycles"][2026], member)
    session.commit()
    page = app.test_client().get(f"/s/{token}/results")
    assert page.status_code == 200
    text = text_of(page)
    assert "Lo que logró la alianza" in text
    assert "Colocaciones laborales 41" in text and "Retención a los seis meses" in text
