"""Enrolment request and enrolment forms: the decision, assignment, direct enrolment, status, transfer."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.core.forms import blank_to_none, optional_int, plausible_date


class DecisionForm(FlaskForm):
    decision = RadioField("Decision", choices=[("approve", "Approve"), ("decline", "Decline")],
                          validators=[DataRequired("Choose approve or decline.")])
    instructor_id = SelectField("Instructor", coerce=optional_int, validate_choice=False, validators=[Optional()])
    course_id = SelectField("Course", coerce=optional_int, validate_choice=False, validators=[Optional()])
    notes = TextAreaField("Note to the applicant (optional)", filters=[blank_to_none],
                          validators=[Optional(), Length(max=1000)])
    reason = TextAreaField("Reason for declining (the applicant sees it)", filters=[blank_to_none],
                           validators=[Optional(), Length(max=1000)])

    def values(self) -> dict:
        return {"decision": self.decision.data, "instructor_id": self.instructor_id.data,
                "course_id": self.course_id.data, "notes": self.notes.data, "reason": self.reason.data}


class AssignForm(FlaskForm):
    # Its own HTML id: the decision form on the same page has an instructor_id select too.
    instructor_id = SelectField("Assign to", id="assign_instructor_id", coerce=optional_int, validate_choice=False,
                                validators=[Optional()])


class EnrolForm(FlaskForm):
    course_id = SelectField("Course", coerce=optional_int, validate_choice=False,
                            validators=[DataRequired("Choose a course.")])
    start_date = DateField("Start date", validators=[Optional(), plausible_date])


class StatusForm(FlaskForm):
    status = SelectField("New status", choices=[("in_progress", "In progress"), ("completed", "Completed"),
                                                ("cancelled", "Cancelled"), ("active", "Active")],
                         validators=[DataRequired("Choose the new status.")])
    reason = StringField("Reason", filters=[blank_to_none], validators=[Optional(), Length(max=255)])


class TransferForm(FlaskForm):
    branch_id = SelectField("Move to branch", coerce=optional_int, validate_choice=False,
                            validators=[DataRequired("Choose a branch.")])
    reason = StringField("Reason", filters=[blank_to_none], validators=[Optional(), Length(max=255)])
