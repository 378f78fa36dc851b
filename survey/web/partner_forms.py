"""The element page as a WTForms form built from the cycle's questionnaire snapshot.

One radio group per item (named by the item code) and an optional comment. The CSRF
token is checked by the view itself (see web/partner.py), so the form has none; the
validation rules live in services/answers.parse_element_form, which this form calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wtforms import RadioField, SelectChoice, TextAreaField

from survey.questionnaire import Element, Questionnaire
from survey.services.answers import (
    COMMENT_FIELD,
    ElementInput,
    FormData,
    answer_values,
    item_field_id,
    parse_element_form,
)
from survey.web.forms import PlainForm

COMMENT_LABEL = "Evidence or examples (optional)"


class ElementForm(PlainForm):
    """An element page; `validate()` fills `input` with the parsed answers and comment."""

    questionnaire: Questionnaire
    element: Element
    comment_max_length: int

    def __init__(self, formdata: FormData | None = None, **kwargs: Any) -> None:
        super().__init__(formdata=formdata, **kwargs)
        self._posted = formdata
        self.input = ElementInput()
        self.summary: list[tuple[str, str]] = []

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the posted page; errors go to their fields and to the error summary."""
        if self._posted is None:
            return False
        self.input = parse_element_form(
            self.questionnaire, self.element, self._posted, self.comment_max_length
        )
        self.summary = []
        if "form" in self.input.errors:
            self.summary.append(("form", self.input.errors["form"]))
        for item in self.element.items:
            message = self.input.errors.get(item_field_id(item.code))
            if message:
                self[item.code].errors = [message]
                self.summary.append((item_field_id(item.code), message))
        if COMMENT_FIELD in self.input.errors:
            self[COMMENT_FIELD].errors = [self.input.errors[COMMENT_FIELD]]
            self.summary.append((COMMENT_FIELD, self.input.errors[COMMENT_FIELD]))
        return not self.input.errors


def element_form(
    questionnaire: Questionnaire,
    element: Element,
    comment_max_length: int,
    formdata: FormData | None = None,
    answers: Mapping[str, str] | None = None,
    comment: str | None = None,
) -> ElementForm:
    """The form of one element page, filled from a post or else from the saved answers."""
    scale = questionnaire.scale
    labels = {str(level.value): level.label for level in scale.levels}
    labels.update({"DK": scale.dont_know_label, "NA": scale.not_applicable_label})
    choices = [SelectChoice(value, labels[value]) for value in answer_values(questionnaire)]
    fields: dict[str, Any] = {
        item.code: RadioField(item.text, choices=choices, validate_choice=False,
                              id=item_field_id(item.code))
        for item in element.items
    }
    fields[COMMENT_FIELD] = TextAreaField(COMMENT_LABEL, id=COMMENT_FIELD)
    fields.update(questionnaire=questionnaire, element=element,
                  comment_max_length=comment_max_length)
    form_class = type(f"ElementForm_{element.key}", (ElementForm,), fields)
    data = {code: value for code, value in (answers or {}).items() if code in fields}
    data[COMMENT_FIELD] = comment or ""
    return form_class(formdata=formdata, data=data)
