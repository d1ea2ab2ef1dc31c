"""Student forms: register, edit, note, and the empty form behind action buttons (field rules only)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.core.forms import PHONE, blank_to_none, branch_choices, optional_int, plausible_date, strip
from app.dao.student import LICENSE_STATUSES


class StudentForm(FlaskForm):
    """Edit: profile fields plus the account's name, phone and branch (not the e-mail)."""

    first_name = StringField("First name", filters=[strip],
                             validators=[DataRequired("Enter the first name."), Length(max=80)])
    last_name = StringField("Last name", filters=[strip],
                            validators=[DataRequired("Enter the last name."), Length(max=80)])
    phone = StringField("Phone", filters=[blank_to_none], validators=[Optional(), Length(max=32), PHONE])
    branch_id = SelectField("Branch", coerce=optional_int, validate_choice=False,
                            validators=[DataRequired("Choose a branch.")])
    license_number = StringField("Licence number", filters=[blank_to_none], validators=[Optional(), Length(max=45)])
    license_status = SelectField("Licence status", choices=[(s, s) for s in LICENSE_STATUSES], default="Learner")
    license_expiry = DateField("Licence expiry", validators=[Optional(), plausible_date])
    emergency_contact_name = StringField("Emergency contact name", filters=[blank_to_none],
                                         validators=[Optional(), Length(max=120)])
    emergency_contact_phone = StringField("Emergency contact phone", filters=[blank_to_none],
                                          validators=[Optional(), Length(max=32), PHONE])
    address_line = StringField("Address", filters=[blank_to_none], validators=[Optional(), Length(max=160)])
    city = StringField("City", filters=[blank_to_none], validators=[Optional(), Length(max=80)])
    postcode = StringField("Postcode", filters=[blank_to_none], validators=[Optional(), Length(max=12)])
    progress_summary = StringField("Progress summary", filters=[blank_to_none],
                                   validators=[Optional(), Length(max=255)])

    def set_branches(self, branches: list[dict]) -> None:
        branch_choices(self.branch_id, branches)

    def validate_branch_id(self, field):
        if field.data is None:
            raise ValidationError("Choose a branch.")
        if field.data not in {value for value, _ in (field.choices or []) if value != ""}:
            raise ValidationError("Choose a branch from the list.")


class RegisterStudentForm(StudentForm):
    email = EmailField("E-mail address", filters=[strip],
                       validators=[DataRequired("Enter the e-mail address."), Email("Enter a valid e-mail address."),
                                   Length(max=160)])
    phone = StringField("Phone", filters=[blank_to_none],
                        validators=[DataRequired("Enter a phone number."), Length(max=32), PHONE])


class NoteForm(FlaskForm):
    content = TextAreaField("Note", filters=[strip],
                            validators=[DataRequired("Write the note."),
                                        Length(max=5000, message="A note can be at most 5000 characters.")])


class ActionForm(FlaskForm):
    """Empty form: the buttons (archive, restore, activation link, delete) carry a CSRF token."""
