"""The base classes of every form: a field sent as nothing but whitespace is empty.

A browser sends what was typed, so "   " or a lone line break reaches the server as a
value. Validators such as `Optional()` already treat it as blank and stop, but the field's
data still held the whitespace, and code after validation (`int(field.data) if
field.data else None`) then failed with a 500. Here every field's data is filtered once,
on the base class, so blank means blank in every form.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, ValidationError

from survey.db import MAX_ROW_ID


def blank_if_whitespace(value: Any) -> Any:
    """A WTForms filter: text of whitespace only becomes the empty string."""
    if isinstance(value, str) and not value.strip():
        return ""
    return value


class _WhitespaceIsBlank:
    """A form Meta mix-in that puts `blank_if_whitespace` first on every field."""

    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
        if not issubclass(unbound_field.field_class, FormField | FieldList):  # hold fields
            filters = (blank_if_whitespace, *unbound_field.kwargs.get("filters", ()))
            options = {**options, "filters": filters}
        return super().bind_field(form, unbound_field, options)  # type: ignore[misc]


class SurveyForm(FlaskForm):
    """A form with a CSRF token (Flask-WTF) whose whitespace-only fields are empty."""

    class Meta(_WhitespaceIsBlank):
        pass


class PlainForm(Form):
    """A form without Flask-WTF's token (its view checks the token itself) whose
    whitespace-only fields are empty."""

    class Meta(_WhitespaceIsBlank):
        pass


def row_id(form: Any, field: Any) -> None:
    """A WTForms validator: blank, or the id of a row a database column can hold."""
    value = field.data or ""
    if value and not (value.isascii() and value.isdigit() and int(value) <= MAX_ROW_ID):
        raise ValidationError("Not a known record.")
