"""Change across a content change: when an element's items differ between the two cycles
compared (content version 2 split and replaced items), the Change sheet and the change
displays say so beside the delta."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from reports.results import OVERALL
from reports.workbook import build_workbook
from survey.models import CycleStatus
from survey.questionnaire import Questionnaire
from survey.scoring import cycle_results
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


def older_content() -> Questionnaire:
    """The shipped content with one data item that was later replaced by another."""
    data: dict[str, Any] = shipped_questionnaire().to_dict()
    data.pop("translations")
    first = data["elements"][0]["items"][0]
    assert data["elements"][0]["key"] == "data"
    data["elements"][0]["items"][0] = {**first, "code": "data-99", "text": "An older question."}
    return Questionnaire.from_dict(data)


def crowd(session: Session, cycle: Any, partnership: Any, level: int) -> None:
    questionnaire = Questionnaire.from_dict(cycle.content)
    for _ in range(3):
        invitation, _token = make_invitation(session, cycle, make_member(session, partnership))
        answer(session, invitation, all_answers(questionnaire, level))


def test_items_changed_is_flagged_per_element_and_overall(session: Session) -> None:
    partnership = make_partnership(session, make_board(session, "15"))
    before = make_cycle(session, "2025", status=CycleStatus.CLOSED,
                        opens_on=dt.date(2025, 1, 5), closes_on=dt.date(2025, 3, 1),
                        questionnaire=older_content())
    now = make_cycle(session, "2026", status=CycleStatus.CLOSED,
                     opens_on=dt.date(2026, 1, 5), closes_on=dt.date(2026, 3, 1))
    crowd(session, before, partnership, 2)
    crowd(session, now, partnership, 3)
    session.commit()

    results = cycle_results(session, now)
    by_key = {c.element_key: c for c in results.changes}
    assert by_key["data"].previous_cycle == "2025" and by_key["data"].delta == 1.0
    assert by_key["data"].items_changed and by_key[OVERALL].items_changed
    assert not any(by_key[key].items_changed for key in ("vision", "industry", "alignment",
                                                          "services", "measured"))

    sheet = load_workbook(io.BytesIO(build_workbook(results)))["Change"]
    header = [cell.value for cell in sheet[1]]
    assert header[-2:] == ["Items changed", "Margin"]  # SPEC 15: Margin at the end
    assert header[:8] == ["Board code", "Partnership", "Element", "Previous cycle", "Previous",
                          "Current", "Delta", "Status"]
    changed = header.index("Items changed")
    rows = {row[2]: row[changed] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["Driven by High-Quality Data"] == "yes" and rows["Overall"] == "yes"
    assert rows["Directed by Industry"] == "no"
    about = load_workbook(io.BytesIO(build_workbook(results)))["About"]
    assert any(row[0] == "Items changed" and "differ between the two cycles" in row[1]
               for row in about.iter_rows(values_only=True) if row[0] and row[1])


def test_no_earlier_cycle_says_nothing_about_items(session: Session) -> None:
    partnership = make_partnership(session, make_board(session, "15"))
    now = make_cycle(session, "2026", status=CycleStatus.CLOSED)
    crowd(session, now, partnership, 3)
    session.commit()
    results = cycle_results(session, now)
    assert results.changes and not any(c.items_changed for c in results.changes)
    sheet = load_workbook(io.BytesIO(build_workbook(results)))["Change"]
    assert {row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)} == {None}


def test_partnership_page_says_items_changed(session: Session, client: Any, auth: Any) -> None:
    from survey.services import accounts

    partnership = make_partnership(session, make_board(session, "15"))
    before = make_cycle(session, "2025", status=CycleStatus.CLOSED,
                        opens_on=dt.date(2025, 1, 5), closes_on=dt.date(2025, 3, 1),
                        questionnaire=older_content())
    now = make_cycle(session, "2026", status=CycleStatus.CLOSED,
                     opens_on=dt.date(2026, 1, 5), closes_on=dt.date(2026, 3, 1))
    crowd(session, before, partnership, 2)
    crowd(session, now, partnership, 3)
    accounts.create_user(session, "state@example.org", "correct horse battery", "state")
    session.commit()
    auth.login("state@example.org")
    html = client.get(f"/partnerships/{partnership.id}?cycle=2026").get_data(as_text=True)
    assert html.count("(items changed since 2025)") >= 2  # the data element and overall
