"""The gap filler / waitlist for students (pages). Rules live in services/waitlist.py.

- ``GET /my/offers`` ("Earlier slots", students): whether they are waiting and for which days and times,
  then the slots offered to them (newest first, paginated) with a status badge and, while open, Accept.
- ``GET|POST /my/waitlist`` (students): opt in or out, the weekdays and the earliest start and latest
  finish. An error re-renders the form with what was typed and the errors in view (422); success flashes
  and answers 303 to the offers page.
- ``POST /my/offers/<id>/accept`` (the offer's student; anyone else's 404): books the slot and answers
  303 to the booked lesson's page; a refusal (expired, taken, the booking rules) re-renders the offers
  page with the reason and the real status (409).
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.web import PageAlert, action_refused, form_failure, see_other
from app.forms.waitlist import AcceptForm, PreferencesForm
from app.services import waitlist
from app.services.scheduling import BookingConflict

bp = Blueprint("waitlist", __name__)

FORM_ID = "waitlist-form"


def _render_offers(status: int = 200, **context):
    db, actor = get_db(), current_actor()
    query = ListQuery.from_args(request.args, waitlist.SORT_KEYS, waitlist.DEFAULT_SORT, "desc")
    page = waitlist.offers(db, actor, query, now=clock.now(), default_zone=current_app.config["APP_TIMEZONE"])
    return render_template("waitlist/offers.html", page=page, prefs=waitlist.preferences(db, actor),
                           weekday_names=waitlist.WEEKDAY_NAMES, form=AcceptForm(formdata=None), **context), status


@bp.get("/my/offers")
@roles_required("student")
def offers():
    return _render_offers()


@bp.post("/my/offers/<int:offer_id>/accept")
@roles_required("student")
def accept(offer_id: int):
    db, actor = get_db(), current_actor()
    form = AcceptForm()
    if not form.validate():
        raise AppError("The form has expired; reload the page and try again.")
    try:
        booked = waitlist.accept(db, actor, offer_id, now=clock.now(), settings=current_app.config)
    except BookingConflict as exc:  # the booking rules refuse the slot now (self_service.Refused)
        context, status = action_refused(exc, url_for(".offers"))
        return _render_offers(status, conflicts=exc.conflicts, **context)
    except AppError as exc:  # expired, taken, already accepted (409); 404 and 403 go to the error page
        context, status = action_refused(exc, url_for(".offers"))
        return _render_offers(status, **context)
    flash("The earlier lesson is yours: it is booked.", "success")
    return see_other(url_for("events.view", schedule_id=booked.id))


def _render_form(form: PreferencesForm, status: int = 200, **context):
    return render_template("waitlist/preferences.html", form=form, prefs=waitlist.preferences(get_db(), current_actor()),
                           **context), status


@bp.route("/my/waitlist", methods=["GET", "POST"])
@roles_required("student")
def preferences():
    db, actor = get_db(), current_actor()
    if request.method in ("GET", "HEAD"):
        prefs = waitlist.preferences(db, actor)
        form = PreferencesForm(formdata=None, data={
            "active": prefs["active"], "weekdays": [str(d) for d in prefs["weekdays"]],
            "earliest_time": prefs["earliest_time"], "latest_time": prefs["latest_time"]})
        return _render_form(form)
    form = PreferencesForm()
    status = 422
    if form.validate():
        try:
            saved = waitlist.save_preferences(db, actor, form.values(), now=clock.now())
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash("Saved: we will offer you earlier slots that fit these days and times." if saved["active"]
                  else "Saved: you are not waiting for earlier slots.", "success")
            return see_other(url_for(".offers"))
    problems = " ".join(form.form_errors + [m for f in form for m in f.errors]) or "check the highlighted fields."
    return _render_form(form, status, page_alert=PageAlert("Your preferences were not saved: " + problems, f"#{FORM_ID}"),
                        page_focus_form=FORM_ID)
