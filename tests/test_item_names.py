"""One name per item (SPEC 9): its number as partners saw it and its text on every page,
plan suggestion, PDF, workbook and email; codes such as `measured-9` only in files and
scripts (the workbook's `Item` column, the CSV, the import formats)."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from survey.models import CycleStatus, Invitation
from survey.services import mail
from survey.services.accounts import create_user
from survey.services.invitations import IssuedLink
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
from tests.test_dashboards import text_of

PASSWORD = "correct horse battery"
CODE = re.compile(r"\b(?:data|vision|industry|alignment|services|measured)-\d+\b")


@pytest.fixture
def world(session):
    """Board 15: a partnership whose partners chose the lowest level on most items in 2025
    (so the plan suggests items), 2024 before it, 2026 open; a lead and state staff."""
    q = shipped_questionnaire()
    today = dt.date.today()
    board = make_board(session, "15", "CareerSource Heartland")
    partnership = make_partnership(session, board, "Advanced Manufacturing")
    members = [make_member(session, partnership, t) for t in ("business", "education",
                                                               "workforce")]
    cycles = {}
    for back, name in ((2, "2024"), (1, "2025")):
        cycles[name] = make_cycle(session, name, status=CycleStatus.CLOSED,
                                  opens_on=today - dt.timedelta(days=365 * back + 7),
                                  closes_on=today - dt.timedelta(days=365 * back - 30))
    cycles["2026"] = make_cycle(session, "2026")
    tokens = {}
    for name, levels in (("2024", (2, 2, 3)), ("2025", (1, 1, 2))):
        for member, level in zip(members, levels, strict=True):
            invitation, token = make_invitation(session, cycles[name], member)
            answer(session, invitation, all_answers(q, level))
            tokens[name] = token
    make_invitation(session, cycles["2026"], members[0])
    create_user(session, "state@example.org", PASSWORD, "state")
    create_user(session, "lead@example.org", PASSWORD, "board", board=board)
    session.commit()
    return partnership.id, tokens


def no_code(where: str, text: str) -> None:
    found = CODE.findall(text)
    assert not found, f"{where} shows item codes {sorted(set(found))[:5]}"


def test_no_page_pdf_plan_workbook_or_email_shows_a_bare_item_code(
        app, session, client, auth, world, tmp_path):
    partnership_id, tokens = world
    q = shipped_questionnaire()
    first = q.elements[0].items[0]
    auth.login("lead@example.org")
    for url in ("/boards/15?cycle=2025", f"/partnerships/{partnership_id}?cycle=2025",
                f"/partnerships/{partnership_id}/plan?cycle=2025"):
        response = client.get(url)
        assert response.status_code == 200, url
        no_code(url, text_of(response.get_data(as_text=True)))
    page = text_of(client.get(f"/partnerships/{partnership_id}?cycle=2025")
                   .get_data(as_text=True))
    assert f"1.1 {first.text}" in page
    plan = text_of(client.get(f"/partnerships/{partnership_id}/plan?cycle=2025")
                   .get_data(as_text=True))
    # Suggestions name the item as partners saw it, and the element only once.
    named = re.findall(r"for item (\d)\.(\d+) ([^.]+)", plan)
    assert named
    for element, position, text in named:
        assert q.elements[int(element) - 1].items[int(position) - 1].text.startswith(text)
    title = q.elements[0].title
    assert f"{title}: {title}" not in plan

    # The workbook: codes only in the Items sheet's Item column, its No. beside them.
    workbook = load_workbook(io.BytesIO(client.get("/exports/2025/15.xlsx").data))
    for ws in workbook.worksheets:
        headers = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=1, values_only=True):
            cells = [v for h, v in zip(headers, row, strict=False)
                     if not (ws.title == "Items" and h == "Item")]
            no_code(f"sheet {ws.title}", " ".join(str(v) for v in cells if v is not None))
    items = list(workbook["Items"].iter_rows(values_only=True))
    header = list(items[0])
    numbered = {row[header.index("Item")]: row[header.index("No.")] for row in items[1:]}
    assert numbered[first.code] == "1.1"
    assert numbered[q.elements[5].items[1].code] == "6.2"

    # The PDF, as pdftotext reads it.
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(client.get("/reports/2025/15.pdf").data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    no_code("the PDF", text)
    assert re.search(r"\b\d\.\d \S", text)  # the items most in need, by number

    # A partner's pages, and the next cycle's invitation email.
    for url in (f"/s/{tokens['2025']}", f"/s/{tokens['2025']}/data",
                f"/s/{tokens['2025']}/review", f"/s/{tokens['2025']}/results"):
        response = client.get(url)
        assert response.status_code == 200, url
        no_code(url, text_of(response.get_data(as_text=True)))
    invitation = session.execute(select(Invitation).join(Invitation.cycle)
                                 .where(Invitation.cycle.has(name="2026"))).scalar_one()
    message = mail.compose_invitation(IssuedLink(invitation, "t" * 43),
                                      mail.MailSettings("", "board@example.org",
                                                        "http://survey.test"))
    no_code("the invitation email", message.as_string())
