"""Document upload form (field rules only; the content check is in services.documents)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from app.core.forms import blank_to_none, plausible_date
from app.services.documents import CATEGORIES, CATEGORY_LABELS, MAX_DESCRIPTION, canonical_category


class UploadForm(FlaskForm):
    document = FileField("File (PDF, Word, JPEG or PNG)", validators=[FileRequired("Choose a file to upload.")])
    category = SelectField("Category", choices=[("", "Choose…")] + [(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
                           filters=[canonical_category], validate_choice=False)
    expiry_date = DateField("Expiry date", validators=[Optional(), plausible_date])
    description = StringField("Description", filters=[blank_to_none],
                              validators=[Optional(), Length(max=MAX_DESCRIPTION)])

    def validate_category(self, field):
        if field.data not in CATEGORIES:
            raise ValidationError("Choose licence, ID, medical, assessment or other.")
