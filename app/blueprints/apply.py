"""Public: the enrolment application (``/apply``, linked from the sign-in page) and its confirmation.

Rules live in services/applications.py. A valid application answers 303 to ``/apply/thanks`` (which names
nobody); the activation link is e-mailed after the commit, never shown on the page (anyone can type any
address into a public form). Errors re-render the form with what was typed: 422 for a field, 409 for a
duplicate (one message whatever matched, with the chosen branch's phone), 429 with Retry-After when the
connection has used up its applications for the hour.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for

from app.core import clock
from app.core.auth import public
from app.core.errors import AppError, TooManyAttempts
from app.core.flask_db import get_db
from app.core.web import PageAlert, form_failure, see_other
from app.forms.apply import ApplyForm
from app.services import accounts, applications

bp = Blueprint("apply", __name__, url_prefix="/apply")

FORM_ID = "apply-form"


def _render(form: ApplyForm, status: int = 200, **context):
    return render_template("apply/form.html", form=form, form_id=FORM_ID, **context), status


@bp.route("/", methods=["GET", "POST"], strict_slashes=False)
@public
def form():
    db = get_db()
    form = ApplyForm()
    options = applications.choices(db)
    form.set_choices(options["branches"], options["courses"])
    if request.method in ("GET", "HEAD"):
        return _render(form)
    if not form.validate():
        return _render(form, 422, page_alert=PageAlert("Your application was not sent: check the highlighted fields.",
                                                       f"#{FORM_ID}"), page_focus_form=FORM_ID)
    try:
        applied = applications.apply(db, form.values(), ip=request.remote_addr, now=clock.now(),
                                     settings=current_app.config)
    except TooManyAttempts as exc:
        response = current_app.make_response(_render(form, 429, page_alert=PageAlert(exc.message)))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AppError as exc:
        status = form_failure(form, exc)
        phone = applications.branch_phone(db, form.branch_id.data) if status == 409 else None
        return _render(form, status, branch_phone=phone, page_focus_form=FORM_ID,
                       page_alert=PageAlert("Your application was not sent: "
                                            + ("see the message on the form." if status == 409 else exc.message),
                                            f"#{FORM_ID}"))
    link = url_for("activation.activate", token=applied.token, _external=True)
    accounts.send_activation(current_app.config, applied.email, applied.first_name, link)
    return see_other(url_for(".thanks"))


@bp.get("/thanks")
@public
def thanks():
    return render_template("apply/thanks.html", hours=accounts.ACTIVATION_HOURS)
