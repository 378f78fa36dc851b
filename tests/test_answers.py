"""The answer-saving service: validating a page, upserting answers, submitting, progress."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from survey.models import Answer, Comment, InvitationStatus
from survey.questionnaire import Questionnaire
from survey.services.answers import (
    parse_element_form,
    progress,
    save_element,
    saved_answers,
    saved_comments,
    submit,
)
from tests.factories import make_board, make_cycle, make_invitation, make_member, make_partnership


@pytest.fixture
def invitation(session):
    board = make_board(session)
    member = make_member(session, make_partnership(session, board))
    invitation, _ = make_invitation(session, make_cycle(session), member)
    return invitation


@pytest.fixture
def questionnaire(invitation) -> Questionnaire:
    return Questionnaire.from_dict(invitation.cycle.content)


def naive(moment):
    """SQLite hands back naive datetimes; compare instants without the zone."""
    return moment.replace(tzinfo=None)


def rows(session, invitation) -> list[tuple[str, int | None, str | None]]:
    found = session.execute(
        select(Answer).where(Answer.invitation_id == invitation.id).order_by(Answer.item_code)
    ).scalars()
    return [(a.item_code, a.level, a.special) for a in found]


# --- parse_element_form ----------------------------------------------------------------


def test_parse_accepts_levels_specials_and_blanks(questionnaire):
    element = questionnaire.elements[0]
    codes = [item.code for item in element.items]
    form = MultiDict({codes[0]: "1", codes[1]: "4", codes[2]: "DK", codes[3]: "NA",
                      "comment": "  line one\r\nline two  ", "csrf_token": "t", "action": "x"})
    parsed = parse_element_form(questionnaire, element, form, 2000)
    assert parsed.errors == {}
    assert parsed.answers == {codes[0]: "1", codes[1]: "4", codes[2]: "DK", codes[3]: "NA"}
    assert parsed.comment == "line one\nline two"


def test_parse_without_a_comment_field_leaves_the_comment_alone(questionnaire):
    parsed = parse_element_form(questionnaire, questionnaire.elements[0], MultiDict(), 2000)
    assert parsed.errors == {} and parsed.answers == {} and parsed.comment is None


@pytest.mark.parametrize("value", ["0", "5", "9", "dk", "", "1.0", "NA "])
def test_parse_rejects_values_no_radio_button_offers(questionnaire, value):
    element = questionnaire.elements[0]
    code = element.items[0].code
    parsed = parse_element_form(questionnaire, element, MultiDict({code: value}), 2000)
    assert f"item-{code}" in parsed.errors
    assert code not in parsed.answers


def test_parse_rejects_a_value_sent_twice(questionnaire):
    element = questionnaire.elements[0]
    code = element.items[0].code
    form = MultiDict([(code, "1"), (code, "2")])
    assert f"item-{code}" in parse_element_form(questionnaire, element, form, 2000).errors


@pytest.mark.parametrize("name", ["nosuch-1", "vision-1", "level"])
def test_parse_rejects_fields_that_are_not_items_of_this_page(questionnaire, name):
    element = questionnaire.element("data")
    name = questionnaire.element("vision").items[0].code if name == "vision-1" else name
    parsed = parse_element_form(questionnaire, element, MultiDict({name: "2"}), 2000)
    assert "form" in parsed.errors


def test_parse_counts_the_comment_after_normalising_line_breaks(questionnaire):
    element = questionnaire.elements[0]
    at_limit = "a\r\n" * 10  # 20 characters once CRLF reads as one line break
    ok = parse_element_form(questionnaire, element, MultiDict({"comment": at_limit + "b"}), 21)
    assert ok.errors == {}
    over = parse_element_form(questionnaire, element, MultiDict({"comment": "x" * 22}), 21)
    assert "21 characters or fewer" in over.errors["comment"]


# --- save_element --------------------------------------------------------------------------


def test_save_inserts_then_updates_one_row_per_item(session, invitation, questionnaire):
    element = questionnaire.elements[0]
    a, b, c = (item.code for item in element.items[:3])
    save_element(session, invitation, element, {a: "2", b: "DK"}, None)
    assert rows(session, invitation) == sorted([(a, 2, None), (b, None, "DK")])
    save_element(session, invitation, element, {a: "NA", c: "4"}, None)
    assert rows(session, invitation) == sorted([(a, None, "NA"), (b, None, "DK"), (c, 4, None)])
    save_element(session, invitation, element, {b: None}, None)  # None clears an item
    assert rows(session, invitation) == sorted([(a, None, "NA"), (c, 4, None)])
    assert saved_answers(session, invitation) == {a: "NA", c: "4"}


def test_save_sets_started_and_in_progress(session, invitation, questionnaire):
    element = questionnaire.elements[0]
    assert invitation.status == InvitationStatus.NOT_STARTED
    save_element(session, invitation, element, {}, None)  # nothing given: not started yet
    assert invitation.status == InvitationStatus.NOT_STARTED and invitation.started_at is None
    save_element(session, invitation, element, {element.items[0].code: "3"}, None)
    assert invitation.status == InvitationStatus.IN_PROGRESS
    assert invitation.started_at is not None and invitation.updated_at is not None


def test_save_keeps_a_submitted_response_submitted(session, invitation, questionnaire):
    element = questionnaire.elements[0]
    submit(session, invitation)
    submitted_at = invitation.submitted_at
    save_element(session, invitation, element, {element.items[0].code: "1"}, None)
    assert invitation.status == InvitationStatus.SUBMITTED
    assert naive(invitation.submitted_at) == naive(submitted_at)


def test_comment_is_upserted_and_an_empty_one_deleted(session, invitation, questionnaire):
    element = questionnaire.elements[0]
    save_element(session, invitation, element, {}, "First")
    save_element(session, invitation, element, {}, "Second")
    assert saved_comments(session, invitation) == {element.key: "Second"}
    count = session.execute(select(Comment).where(Comment.invitation_id == invitation.id)).all()
    assert len(count) == 1
    save_element(session, invitation, element, {}, None)  # no comment field: unchanged
    assert saved_comments(session, invitation) == {element.key: "Second"}
    save_element(session, invitation, element, {}, "")
    assert saved_comments(session, invitation) == {}


def test_save_refuses_items_of_another_element(session, invitation, questionnaire):
    data, vision = questionnaire.element("data"), questionnaire.element("vision")
    with pytest.raises(ValueError):
        save_element(session, invitation, data, {vision.items[0].code: "1"}, None)
    assert rows(session, invitation) == []


# --- submit and progress ----------------------------------------------------------------------


def test_submit_is_idempotent_and_keeps_the_first_time(session, invitation):
    submit(session, invitation)
    first = invitation.submitted_at
    assert invitation.status == InvitationStatus.SUBMITTED and first is not None
    submit(session, invitation)
    assert naive(invitation.submitted_at) == naive(first)
    assert naive(invitation.updated_at) >= naive(first)


def test_progress_counts_answered_items_per_element(questionnaire):
    data = questionnaire.element("data")
    answers = {item.code: "2" for item in data.items}
    vision_first = questionnaire.element("vision").items[0].code
    answers[vision_first] = "DK"  # don't know counts as answered (it is an answer)
    result = progress(questionnaire, answers)
    states = {row.element.key: row.state for row in result.elements}
    assert states["data"] == "complete"
    assert states["vision"] == "in progress"
    assert states["measured"] == "not started"
    assert result.answered == len(data.items) + 1
    assert result.total == len(questionnaire.items)
    assert result.unanswered == result.total - result.answered
    vision = next(row for row in result.elements if row.element.key == "vision")
    assert vision_first not in vision.unanswered_codes
    assert len(vision.unanswered_codes) == vision.total - 1
