"""Partners in English or Spanish (SPEC 13): catalogues, the language rule, the switch,
every partner page, error and email in Spanish, and answers that do not depend on it."""

from __future__ import annotations

import datetime as dt
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey.db import db
from survey.models import Answer, Comment, CycleStatus, Invitation, Member
from survey.questionnaire import Questionnaire
from survey.services import mail
from survey.services.invitations import IssuedLink
from tests.conftest import csrf_token
from tests.factories import make_board, make_cycle, make_invitation, make_member, make_partnership
from tests.test_mail import Mailbox, smtp_server  # noqa: F401  (a real SMTP server fixture)

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "survey" / "translations" / "es" / "LC_MESSAGES"
DEADLINE = dt.date(2099, 1, 9)
# Interface text an English partner page shows; none may be left on a Spanish page.
ENGLISH_LEFTOVERS = (
    "Save and continue", "Review your answers", "Your response", "items answered",
    "Skip to main content", "Deadline", "Not answered", "Before you start", "Don't know",
    "Not applicable", "Evidence or examples", "Submit your answers", "The six elements",
    "Page not found", "This link", "This cycle closed", "There is a problem", "Exploring",
)


# --- the catalogues -----------------------------------------------------------------------


def test_the_compiled_catalogue_matches_the_po_file() -> None:
    """The committed .mo is what `pybabel compile` makes of the committed .po."""
    with open(CATALOGUE / "messages.po", "rb") as f:
        po = read_po(f, locale="es")
    with open(CATALOGUE / "messages.mo", "rb") as f:
        mo = read_mo(f)
    compiled = BytesIO()
    write_mo(compiled, po)
    compiled.seek(0)
    expected = read_mo(compiled)
    def messages(catalog):
        return {(m.id if isinstance(m.id, str) else tuple(m.id)):
                (m.string if isinstance(m.string, str) else tuple(m.string))
                for m in catalog if m.id}
    as_dict = messages(mo)
    assert as_dict == messages(expected)
    assert len(as_dict) > 90


def test_every_partner_facing_string_is_translated() -> None:
    """Every string `pybabel extract -F babel.cfg` finds has a Spanish translation."""
    method_map = [("survey/**.py", "python"), ("survey/templates/base.html", "jinja2"),
                  ("survey/templates/error.html", "jinja2"),
                  ("survey/templates/partner/**.html", "jinja2"),
                  ("survey/templates/dashboards/_macros.html", "jinja2")]
    assert "[jinja2: survey/templates/partner/**.html]" in (ROOT / "babel.cfg").read_text()
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_mark": None}
    found = {message[2] if isinstance(message[2], str) else message[2][0]: message[0]
             for message in extract_from_dir(str(ROOT), method_map, keywords=keywords)}
    with open(CATALOGUE / "messages.po", "rb") as f:
        po = read_po(f, locale="es")
    translated = {(m.id if isinstance(m.id, str) else m.id[0]) for m in po
                  if m.id and (m.string if isinstance(m.string, str) else all(m.string))}
    missing = sorted(set(found) - translated)
    assert missing == []
    assert not [m.id for m in po if m.fuzzy and m.id]


# --- a Spanish-speaking partner -------------------------------------------------------------


def make_link(app: Flask, language: str | None = None, status: str = CycleStatus.OPEN,
              name: str = "Ana Soto") -> tuple[str, int]:
    with app.app_context():
        session = db.session
        board = make_board(session)
        partnership = make_partnership(session, board, "Manufactura avanzada")
        member = make_member(session, partnership, name=name)
        member.language = language
        cycle = make_cycle(session, name=f"{name} {status}", status=status, closes_on=DEADLINE,
                           opens_on=dt.date(2098, 12, 1) if status == CycleStatus.DRAFT
                           else None)
        invitation, token = make_invitation(session, cycle, member)
        session.commit()
        return f"/s/{token}", invitation.id


def page(client: FlaskClient, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code in (200, 403, 404), response.status_code
    return response.get_data(as_text=True)


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def assert_spanish(html: str) -> None:
    assert '<html lang="es">' in html
    text = visible_text(html)
    leftovers = [phrase for phrase in ENGLISH_LEFTOVERS if phrase in text]
    assert leftovers == []


def test_roster_language_es_gives_every_page_in_spanish(app: Flask, client: FlaskClient,
                                                        ) -> None:
    url, _ = make_link(app, "es")
    english = {"Accept-Language": "en-US,en;q=0.9"}  # the roster wins over the browser
    overview = page(client, url, **english)
    assert_spanish(overview)
    assert "Su respuesta" in overview and "9 de enero de 2099" in overview
    assert "Los seis elementos" in overview and "Basada en datos de calidad" in overview
    assert "Quién ve sus respuestas" in overview and "minutos" in overview
    element = page(client, f"{url}/vision", **english)
    assert_spanish(element)
    assert "Fundada en una visión regional compartida" in element
    assert "Guardar y continuar" in element and "Consolidando" in element and "No sé" in element
    assert "<details" in element and "¿Qué significa esto?" in element
    review = page(client, f"{url}/review", **english)
    assert_spanish(review)
    assert "Revise sus respuestas" in review and "45 afirmaciones sin responder" in review


def test_a_spanish_error_on_a_form(app: Flask, client: FlaskClient) -> None:
    url, _ = make_link(app, "es")
    data = {"csrf_token": csrf_token(client, f"{url}/data"), "action": "continue",
            "data-1": "9", "comment": "x" * 2001}
    response = client.post(f"{url}/data", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert_spanish(html)
    assert "Hay un problema" in html and "Elija una de las opciones para «La alianza usó" in html
    assert "El comentario debe tener como máximo 2,000 caracteres (tiene 2,001)" in html


def test_error_pages_under_s_follow_the_partner(app: Flask, client: FlaskClient) -> None:
    # An unknown link: no partner to ask, so the browser's language.
    html = page(client, "/s/not-a-real-token", **{"Accept-Language": "es-MX,es;q=0.8"})
    assert_spanish(html)
    assert "Este enlace no es válido" in html and "Página no encontrada" in html
    spanish, _ = make_link(app, "es", name="Sin página")
    html = page(client, f"{spanish}/no-such-element")
    assert_spanish(html)
    assert "Esta encuesta no tiene esa página" in html
    html = page(client, f"{spanish}/results")  # the cycle is open: no results yet
    assert_spanish(html)
    assert "cuando se cierre el ciclo, el 9 de enero de 2099" in html
    assert "not valid" in page(client, "/s/not-a-real-token")  # no header: English
    # A survey not open yet, and a closed one refusing a save: the roster's language.
    draft, _ = make_link(app, "es", status=CycleStatus.DRAFT, name="Draft")
    html = page(client, draft)
    assert_spanish(html)
    assert "todavía no está abierta" in html and "1 de diciembre de 2098" in html
    closed, _ = make_link(app, "es", status=CycleStatus.CLOSED, name="Closed")
    token = csrf_token(client, f"{closed}/data")
    response = client.post(f"{closed}/data", data={"csrf_token": token, "data-1": "2"})
    assert response.status_code == 403
    assert_spanish(response.get_data(as_text=True))
    assert "ya no se pueden cambiar" in response.get_data(as_text=True)


def test_a_removed_member_reads_why_in_spanish(app: Flask, client: FlaskClient) -> None:
    url, invitation_id = make_link(app, "es")
    with app.app_context():
        db.session.get(Invitation, invitation_id).member.active = False
        db.session.commit()
    response = client.get(url)
    assert response.status_code == 403
    assert "ya no figura en la lista" in response.get_data(as_text=True)


def test_browser_language_is_the_fallback(app: Flask, client: FlaskClient) -> None:
    url, _ = make_link(app, None)
    assert_spanish(page(client, url, **{"Accept-Language": "es-US,es;q=0.9,en;q=0.5"}))
    english = page(client, url, **{"Accept-Language": "en-US,es;q=0.5"})
    assert '<html lang="en">' in english and "Your response" in english
    assert "January 9, 2099" in english
    assert '<html lang="en">' in page(client, url, **{"Accept-Language": "fr-FR"})


def test_staff_pages_stay_in_english(client: FlaskClient) -> None:
    html = page(client, "/login", **{"Accept-Language": "es"})
    assert '<html lang="en">' in html and "Skip to main content" in html


def test_closed_overview_reads_as_closed(app: Flask, client: FlaskClient) -> None:
    url, _ = make_link(app, None, status=CycleStatus.CLOSED)
    html = page(client, url)
    assert "stop at any time" not in html
    assert "This self-assessment closed on January 9, 2099" in html
    assert "Closed on" in html and "Deadline" not in html


def test_help_contact_time_and_who_sees(app: Flask, client: FlaskClient) -> None:
    url, _ = make_link(app, None)
    html = visible_text(page(client, url))
    assert "Questions or help" not in html  # unset: nothing shown
    assert "About 35 minutes for 45 statements" in html
    assert "combined results of at least 3 people, never who answered what" in html
    app.config["HELP_CONTACT"] = "Maria Diaz <help@board15.org>, 813-555-0100"
    html = page(client, url)
    assert "Questions or help" in html
    assert "Maria Diaz &lt;help@board15.org&gt;, 813-555-0100" in html


# --- the switch -----------------------------------------------------------------------------


def test_switch_is_kept_for_the_link_and_needs_post_and_csrf(app: Flask,
                                                            client: FlaskClient) -> None:
    url, invitation_id = make_link(app, None)
    assert client.get(f"{url}/language").status_code in (404, 405)  # never a GET write
    no_token = client.post(f"{url}/language", data={"language": "es"})
    assert no_token.status_code == 400
    bad = client.post(f"{url}/language",
                      data={"csrf_token": csrf_token(client, url), "language": "fr"})
    assert bad.status_code == 400 and "Choose English or Spanish." in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).language is None
    switched = client.post(f"{url}/language", data={
        "csrf_token": csrf_token(client, url), "language": "es", "next": f"{url}/review"})
    assert switched.status_code == 303 and switched.headers["Location"].endswith(f"{url}/review")
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).language == "es"
    assert_spanish(page(client, url, **{"Accept-Language": "en"}))
    # Somewhere else is not a place the switch sends anyone.
    away = client.post(f"{url}/language", data={
        "csrf_token": csrf_token(client, url), "language": "en", "next": "https://evil.test/"})
    assert away.headers["Location"].endswith(url)
    assert '<html lang="en">' in page(client, url, **{"Accept-Language": "es"})


def test_switch_on_an_element_page_saves_the_page_first(app: Flask, client: FlaskClient) -> None:
    url, invitation_id = make_link(app, None)
    html = page(client, f"{url}/data")
    assert 'form="element-form" name="action" value="language-es"' in html
    data = {"csrf_token": csrf_token(client, f"{url}/data"), "action": "language-es",
            "data-1": "3", "data-7": "DK"}
    response = client.post(f"{url}/data", data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{url}/data")
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        assert invitation.language == "es"
        rows = db.session.execute(select(Answer.item_code, Answer.level, Answer.special)
                                  .where(Answer.invitation_id == invitation_id)).all()
    assert sorted(rows) == [("data-1", 3, None), ("data-7", None, "DK")]
    again = page(client, f"{url}/data")
    assert_spanish(again)
    assert re.search(r'name="data-1" value="3"\s+checked', again)


# --- answers do not depend on the language ------------------------------------------------


def answer_everything(client: FlaskClient, url: str, questionnaire: Questionnaire) -> None:
    for element in questionnaire.elements:
        values = {item.code: ("DK" if n == 2 else str(1 + n % 4))
                  for n, item in enumerate(element.items)}
        data = {"csrf_token": csrf_token(client, f"{url}/{element.key}"),
                "action": "continue", "comment": f"Ejemplo {element.key}", **values}
        assert client.post(f"{url}/{element.key}", data=data).status_code == 303
    submit = client.post(f"{url}/submit",
                         data={"csrf_token": csrf_token(client, f"{url}/review")})
    assert submit.status_code == 303


def stored_rows(app: Flask, invitation_id: int) -> tuple[list[tuple[str, str]], list, str]:
    with app.app_context():
        session = db.session
        answers = session.execute(select(Answer.item_code, Answer.level, Answer.special)
                                  .where(Answer.invitation_id == invitation_id)).all()
        comments = session.execute(select(Comment.element_key, Comment.text)
                                   .where(Comment.invitation_id == invitation_id)).all()
        status = session.get(Invitation, invitation_id).status
        return sorted(answers), sorted(comments), str(status)


def test_spanish_and_english_partners_store_the_same_rows(app: Flask,
                                                         client: FlaskClient) -> None:
    spanish_url, spanish_id = make_link(app, "es", name="Ana")
    with app.app_context():
        invitation = db.session.get(Invitation, spanish_id)
        questionnaire = Questionnaire.from_dict(invitation.cycle.content)
        partnership = invitation.member.partnership
        english_member = Member(partnership=partnership, partner_type="business",
                                email="en@example.org", name="Ed", organization="Acme",
                                language="en")
        db.session.add(english_member)
        db.session.flush()
        english, token = make_invitation(db.session, invitation.cycle, english_member)
        english_id = english.id
        db.session.commit()
    answer_everything(client, spanish_url, questionnaire)
    answer_everything(app.test_client(), f"/s/{token}", questionnaire)
    spanish_rows, english_rows = stored_rows(app, spanish_id), stored_rows(app, english_id)
    assert spanish_rows == english_rows
    assert len(spanish_rows[0]) == 45 and spanish_rows[2] == "submitted"
    thanks = page(client, f"{spanish_url}?submitted=1")
    assert "Gracias. Sus respuestas se han enviado." in thanks


# --- email ----------------------------------------------------------------------------------


@pytest.mark.smtp
def test_invitation_email_follows_the_roster_language(app: Flask, runner,
                                                      smtp_server: Mailbox) -> None:  # noqa: F811
    with app.app_context():
        session = db.session
        board = make_board(session, "15", "CareerSource Tampa Bay")
        partnership = make_partnership(session, board, "Manufactura avanzada")
        spanish = make_member(session, partnership, email="ana@example.org", name="Ana Soto")
        spanish.language = "es"
        make_member(session, partnership, email="ed@example.org", name="Ed Lee")
        make_cycle(session, "2027", closes_on=dt.date(2027, 1, 10))
        session.commit()
    result = runner.invoke(args=["invite", "--cycle", "2027", "--send"])
    assert result.exit_code == 0, result.output
    ana, ed = smtp_server.to("ana@example.org"), smtp_server.to("ed@example.org")
    assert ana.message["Content-Language"] == "es"
    assert ana.message["Subject"] == (
        "Su invitación: autoevaluación 2027 de Manufactura avanzada")
    assert "Estimado/a Ana Soto:" in ana.text
    assert "Envíe sus respuestas antes del: 10 de enero de 2027" in ana.text
    assert "Su enlace personal (no lo comparta):" in ana.text
    assert "Abrir su autoevaluación" in ana.html
    assert ed.message["Content-Language"] == "en"
    assert "Please submit by: January 10, 2027" in ed.text
    # The link opens in Spanish for Ana, whatever her browser says.
    html = app.test_client().get(f"/s/{ana.token}",
                                 headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert_spanish(html)
    # Once she switches the link to English, her next email is in English.
    with app.app_context():
        invitation = db.session.execute(
            select(Invitation).join(Member).where(Member.email == "ana@example.org")
        ).scalar_one()
        invitation.language = "en"
        settings = mail.MailSettings.from_config(app.config)
        reminder = mail.compose_invitation(IssuedLink(invitation, "t" * 43), settings,
                                           reminder=True)
    assert reminder["Content-Language"] == "en"
    assert reminder["Subject"] == "Reminder: Manufactura avanzada self-assessment 2027"


def test_a_closed_page_shows_the_chosen_answer_in_words(app: Flask, client: FlaskClient) -> None:
    url, invitation_id = make_link(app, "es", status=CycleStatus.CLOSED)
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        db.session.add(Answer(invitation=invitation, element_key="data", item_code="data-1",
                              level=3))
        db.session.commit()
    html = page(client, f"{url}/data")
    chosen = re.search(r'name="data-1" value="3"\s+checked disabled>\s*<label[^>]*>'
                       r'<strong class="level-label">Implementando <span class="your-answer">'
                       r'\(su respuesta\)</span>', html)
    assert chosen, "the closed page names the chosen level in words, not only a grey dot"
    assert html.count("(su respuesta)") == 1


def test_a_spanish_partner_reads_published_results_in_spanish(app: Flask,
                                                             client: FlaskClient) -> None:
    url, invitation_id = make_link(app, "es", status=CycleStatus.CLOSED)
    with app.app_context():
        from tests.factories import all_answers, answer

        invitation = db.session.get(Invitation, invitation_id)
        questionnaire = Questionnaire.from_dict(invitation.cycle.content)
        answer(db.session, invitation, all_answers(questionnaire, 3))
        for n in range(2):
            other = make_member(db.session, invitation.member.partnership, name=f"Otro {n}")
            answer(db.session, make_invitation(db.session, invitation.cycle, other)[0],
                   all_answers(questionnaire, 2))
        db.session.commit()
    overview = page(client, url)
    assert "Resultados y plan de acción de su alianza" in overview
    results = page(client, f"{url}/results")
    assert_spanish(results)
    assert "Dónde está la alianza" in results and "El plan de acción" in results
    assert 'value="en"' in results  # the switch is on this page too
    for english in ("Driven by High-Quality Data", "Building", "Implementing", "no stage"):
        assert english not in visible_text(results), english
    assert "Basada en datos de calidad" in results


def test_next_cycles_spanish_invitation_says_what_changed_in_spanish(session) -> None:
    from survey.services import plans
    from survey.services.dashboard_data import find_cycle
    from tests.test_dashboards import build_world

    world = build_world(session)
    find_cycle(session, "2026").published_at = None
    plans.save_plan(session, world.strong, find_cycle(session, "2025"), {
        "data": plans.PlanInput(priority=True, goal="Un tablero compartido")}, "lead@x.org")
    invitation = session.execute(select(Invitation).where(
        Invitation.cycle_id == find_cycle(session, "2026").id,
        Invitation.participation.has(partnership_id=world.strong.id))).scalars().first()
    invitation.member.language = "es"
    session.commit()
    settings = mail.MailSettings("", "survey@example.org", "http://survey.test")
    text = mail.compose_invitation(IssuedLink(invitation, "t" * 30), settings).get_body(
        ("plain",)).get_content()
    # 2025: three partners answered 2, 2 and 3 everywhere: overall 2.33, stage Building.
    assert ("Qué cambió desde el último ciclo: En el ciclo 2025, la puntuación general de la "
            "alianza fue 2.33 (Construyendo)") in text
    assert "Su plan de acción fijó 1 prioridad para este ciclo." in text
    assert "What changed" not in text and "Building" not in text
    # The same facts for an English partner of the same batch read in English.
    invitation.member.language = None
    english = mail.compose_invitation(IssuedLink(invitation, "t" * 30), settings).get_body(
        ("plain",)).get_content()
    assert "In cycle 2025 the partnership's overall score was 2.33 (Building)" in english
