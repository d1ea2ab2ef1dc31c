"""The broadcast form (field shapes only: the audience, channel, subject and message rules live in
services.communications, so a bad value comes back as a 422 naming its field with the typed text kept).

The audience (segment, segment_value) and the channel are chosen and previewed with a GET first; the send
form carries them as hidden fields, so what is sent is what the preview showed."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.core.forms import blank_to_none


class CommunicationForm(FlaskForm):
    segment = HiddenField(validators=[Optional(), Length(max=40)])
    segment_value = HiddenField(validators=[Optional(), Length(max=80)])
    channel = HiddenField(validators=[Optional(), Length(max=10)])
    subject = StringField("Subject", filters=[blank_to_none], render_kw={"maxlength": 160})
    message = TextAreaField("Message", render_kw={"rows": 6, "maxlength": 2000})
