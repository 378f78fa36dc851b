"""Forms of staff sign-in beyond the password: reset by email and the second factor."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from survey.services.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from survey.web.staff_forms import email_address


class ResetRequestForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired("Enter your email address."),
                                             Length(max=320), email_address],
                        render_kw={"autocomplete": "username", "type": "email"})


class NewPasswordForm(FlaskForm):
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


class CodeForm(FlaskForm):
    code = StringField(
        "Code", validators=[DataRequired("Enter the code."), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                   "autocapitalize": "off", "spellcheck": "false"})
