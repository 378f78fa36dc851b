"""Out-of-range ids, whitespace, huge numbers and unicode never reach the database as a
500 (issue 18 items 3-5): every URL rule with an id, every form, and the site's date."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

from survey import RowIdConverter
from survey.db import MAX_ROW_ID
from survey.web.forms import PlainForm, SurveyForm
from survey.web.plans import EntryForm
from tests.conftest import csrf_token
from tests.factories import shipped_questionnaire
from tests.test_security import build_world, database, fill, rules, signed_in

ROOT = Path(__file__).resolve().parent.parent
EXTREME_IDS = st.one_of(
    st.sampled_from([MAX_ROW_ID, MAX_ROW_ID + 1, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64,
                     10**30]),
    st.integers(min_value=MAX_ROW_ID + 1, max_value=10**40))
ODD_TEXT = ["", " ", "   ", "\t", "\r\n\r\n", "\n", "\u00a0", "\u3000 ", "\u200b",
            "9" * 40, str(2**31), str(2**63), "-1", "-0", "1e309", "NaN", "0x10", "١٢٣",
            "é😀", "\u202egnp.exe", "Ω" * 300, "x" * 3000, "=1+1", "<b>x</b>", "2026-02-30"]
ODD_VALUES = st.one_of(st.sampled_from(ODD_TEXT),
                       st.text(st.characters(blacklist_categories=["Cs"],
                                             blacklist_characters="\x00"), max_size=40))
NEVER_POSTED = {"auth.logout"}  # it would sign the fuzzing administrator out


@pytest.fixture
def world(app: Flask) -> dict[str, str]:
    with database(app) as session:
        return build_world(session)


@pytest.fixture
def admin(app: Flask, world: dict[str, str]):
    return signed_in(app, "admin@example.org")


def id_rules(app: Flask) -> list:
    return sorted((r for r in app.url_map.iter_rules()
                   if any(isinstance(c, RowIdConverter) for c in r._converters.values())),
                  key=lambda r: (r.rule, sorted(r.methods)))


def with_ids(world: dict[str, str], value: int) -> dict[str, str]:
    return {**world, "p15": str(value), "m15": str(value), "u16": str(value)}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(big=EXTREME_IDS, data=st.data())
def test_every_rule_with_an_id_answers_404_for_ids_the_columns_cannot_hold(
        app, world, admin, big, data):
    """On PostgreSQL an INTEGER id past 2^31-1 was a 500 (NumericValueOutOfRange)."""
    rule = data.draw(st.sampled_from(id_rules(app)))
    url = fill(rule, with_ids(world, big), "15")
    if "GET" in rule.methods:
        response = admin.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert "Page not found" in response.get_data(as_text=True)
    if "POST" in rule.methods:
        token = csrf_token(admin, "/admin/")
        response = admin.post(url, data={"csrf_token": token, "member": str(big),
                                         "partnership": str(big)})
        assert response.status_code == 404, (url, response.status_code)


def test_every_int_route_uses_the_bounded_converter(app: Flask) -> None:
    converters = [c for r in app.url_map.iter_rules() for c in r._converters.values()
                  if "int" in type(c).__name__.lower() or isinstance(c, RowIdConverter)]
    assert converters and all(isinstance(c, RowIdConverter) for c in converters)


def form_field_names() -> list[str]:
    """Every field name a form of the site has: the form classes', the element pages'
    items and comment, the plan's per-element fields, and names written in templates."""
    names: set[str] = set()
    classes = [*SurveyForm.__subclasses__(), *PlainForm.__subclasses__()]
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        names |= {n for n in dir(cls) if isinstance(getattr(cls, n, None), UnboundField)}
    questionnaire = shipped_questionnaire()
    names |= {item.code for item in questionnaire.items} | {"comment"}
    entry = {n for n in dir(EntryForm) if isinstance(getattr(EntryForm, n, None), UnboundField)}
    names |= {f"{e.key}-{field}" for e in questionnaire.elements for field in entry}
    for template in (ROOT / "survey" / "templates").rglob("*.html"):
        names |= set(re.findall(r'name="([A-Za-z0-9_\-]+)"', template.read_text()))
    names.discard("csrf_token")
    return sorted(names)


FIELD_NAMES = form_field_names()  # once: requests make form classes of their own later


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_whitespace_huge_numbers_and_unicode_in_every_form_never_give_a_500(
        app, world, admin, data):
    sent = data.draw(st.dictionaries(st.sampled_from(FIELD_NAMES), ODD_VALUES,
                                     min_size=len(FIELD_NAMES) // 2))
    token = csrf_token(admin, "/admin/")
    for rule in rules(app, "POST"):
        if rule.endpoint in NEVER_POSTED:
            continue
        url = fill(rule, world, "15")
        client = admin
        response = client.post(url, data={**sent, "csrf_token": token})
        page = response.get_data(as_text=True)
        assert response.status_code < 500, (url, response.status_code, sent)
        assert "Traceback" not in page


@pytest.mark.parametrize("blank", ["\r\n\r\n", "   ", "\t", "\u00a0"])
def test_a_whitespace_only_reminder_field_means_the_whole_board(app, world, admin, blank):
    """`POST /admin/boards/N/remind` with `member=%0D%0A%0D%0A` was a 500 (int() of it)."""
    token = csrf_token(admin, "/admin/boards/15/roster")
    response = admin.post("/admin/boards/15/remind", data={
        "csrf_token": token, "member": blank, "partnership": blank})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/boards/15/roster")


def test_a_whitespace_only_name_is_refused_as_empty(app, world, admin):
    token = csrf_token(admin, "/admin/")
    response = admin.post(f"/admin/partnerships/{world['p15']}", data={
        "csrf_token": token, "name": " \r\n\t ", "sector": "   "})
    assert response.status_code in (400, 422)
    assert "Enter the partnership&#39;s name." in response.get_data(as_text=True)


def test_dates_are_the_sites_never_the_servers() -> None:
    """Plans turn overdue by SURVEY_TIMEZONE's date: `date.today()` (the server's) appears
    nowhere in survey/; `survey.config.site_today()` is the one way to ask."""
    found = [f"{path.relative_to(ROOT)}:{n}"
             for path in (ROOT / "survey").rglob("*.py")
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"\bdate\.today\(\)|\bdatetime\.now\(\)\.date\(\)", line)]
    assert found == []
