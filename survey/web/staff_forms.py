"""Forms of the staff side: sign-in, password, and the administration pages."""

from __future__ import annotations

from typing import Any

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from survey.models import PARTNER_TYPE_LABELS
from survey.sectors import find_sector, unknown_sector
from survey.services.accounts import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    ROLE_LABELS,
    AccountError,
    checked_email,
)
from survey.web.forms import SurveyForm, row_id


def email_address(form: Any, field: Any) -> None:
    """A WTForms validator: blank, or an email address by email-validator's rules."""
    if field.data and field.data.strip():
        try:
            checked_email(field.data)
        except AccountError:
            raise ValidationError("Enter an email address like name@example.org.") from None


def sector_on_list(form: Any, field: Any) -> None:
    """A WTForms validator: blank, or a code or name of the sector list (SPEC 16); the
    field's data becomes the list's name."""
    text = (field.data or "").strip()
    if not text:
        field.data = ""
        return
    sector = find_sector(text)
    if sector is None:
        reason = unknown_sector(text)
        raise ValidationError(reason[0].upper() + reason[1:] + ".")
    field.data = sector.name


class ActionForm(SurveyForm):
    """A button that changes something: only the CSRF token."""


class LoginForm(SurveyForm):
    email = StringField("Email", validators=[DataRequired("Enter your email address."),
                                             Length(max=320)],
                        render_kw={"autocomplete": "username", "type": "email"})
    password = PasswordField("Password", validators=[DataRequired("Enter your password."),
                                                     Length(max=MAX_PASSWORD_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class PasswordChangeForm(SurveyForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password.")],
        render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired("Enter a new password."),
            Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
                   message=f"The new password must be at least {MIN_PASSWORD_LENGTH} "
                   "characters long."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired("Enter the new password again."),
                    EqualTo("new_password", "The two new passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class CycleForm(SurveyForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired("Enter a name for the cycle, such as 2026."),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$",
                   message="Use letters, digits, dots, dashes or underscores (such as 2026)."),
        ],
    )
    opens_on = DateField("Opens on", validators=[InputRequired("Enter the opening date.")])
    closes_on = DateField("Closes on", validators=[InputRequired("Enter the closing date.")])

    def validate_closes_on(self, field: DateField) -> None:
        if self.opens_on.data and field.data and field.data < self.opens_on.data:
            raise ValidationError("The closing date must not be before the opening date.")


class SendForm(SurveyForm):
    """Send invitations or reminders by email, or download the links, for all or one board."""

    board = SelectField("Board", choices=[], validate_choice=True)
    invite = SubmitField("Send invitations")
    remind = SubmitField("Send reminders")


class LinksForm(SurveyForm):
    board = SelectField("Board", choices=[], validate_choice=True)
    reminders = BooleanField("Only members who have not submitted")


class BoardNameForm(SurveyForm):
    name = StringField("Name", validators=[DataRequired("Enter the board's name."),
                                           Length(max=200)])


class MergeBoardForm(SurveyForm):
    target = SelectField("Merge into", choices=[], validate_choice=True,
                         validators=[DataRequired("Choose the board to merge into.")])


class PartnershipForm(SurveyForm):
    name = StringField("Name", validators=[DataRequired("Enter the partnership's name."),
                                           Length(max=200)])
    sector = StringField("Sector", validators=[Optional(), Length(max=200), sector_on_list])
    also_boards = StringField("Other boards it spans", validators=[Optional(), Length(max=400)])


class MovePartnershipForm(SurveyForm):
    board = SelectField("Move to board", choices=[], validate_choice=True,
                        validators=[DataRequired("Choose a board.")])


class MemberForm(SurveyForm):
    name = StringField("Name", validators=[DataRequired("Enter the member's name."),
                                           Length(max=200)])
    email = StringField("Email", validators=[Optional(), Length(max=320), email_address])
    organization = StringField("Organization", validators=[Optional(), Length(max=200)])
    partner_type = SelectField(
        "Partner type", choices=[SelectChoice(k, v) for k, v in PARTNER_TYPE_LABELS.items()],
        validate_choice=True)


class RosterUploadForm(SurveyForm):
    file = FileField(
        "Roster file",
        validators=[FileRequired("Choose a CSV or XLSX file."),
                    FileAllowed(["csv", "xlsx"], "The file must be .csv or .xlsx.")],
    )


class UserForm(SurveyForm):
    email = StringField("Email", validators=[DataRequired("Enter an email address."),
                                             Length(max=320), email_address])
    role = SelectField("Role",
                       choices=[SelectChoice(str(k), v) for k, v in ROLE_LABELS.items()],
                       validate_choice=True)
    board = SelectField("Board (board leads only)", choices=[], validate_choice=True)


class RemindForm(SurveyForm):
    """Reminders from a board's roster page: the whole board, one partnership or one member."""

    partnership = HiddenField(validators=[row_id])
    member = HiddenField(validators=[row_id])
