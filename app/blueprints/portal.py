"""The student portal (issue 8, item 3): find a free slot and book it, see upcoming and past lessons
with their outcomes, cancel or reschedule one inside the branch's policy. Students only (every other
role gets the 403 page, like any route its role is not declared for).

- ``GET /my/book?duration_minutes=&instructor_id=``: choose a duration (30-120 minutes) and optionally
  one of the instructors the student may book; the next free slots (self_service.next_slots) grouped by
  day, each a small POST form (CSRF, instructor_id, date, start_time, duration_minutes, vehicle_id and the
  pick-up point typed in "Find a time") with one "Book" button. ``POST /my/book`` books it: 303 to the
  lesson's page with a flash; a refusal re-renders the page (409 for a policy or conflict refusal, 422
  for a field) with every reason in words, and the page's GET address for the address bar.
- ``GET /my/lessons``: upcoming lessons (Cancel / Reschedule when the policy allows it, otherwise who to
  call) and past ones with their outcome, rating and feedback; two pagers and the totals.
- ``GET|POST /my/lessons/<id>/cancel``: confirm with an optional reason; after the cut-off the refusal
  says who to call. ``GET|POST /my/lessons/<id>/reschedule``: the free slots for the same duration and
  instructor. Another student's lesson is 404 (before the form is read).

Reads live in services/portal.py, writes in services/self_service.py; this module parses and shapes.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import AppError, ValidationFailed
from app.core.flask_db import get_db
from app.core.web import see_other
from app.forms.portal import CancelLessonForm, SlotForm
from app.services import event_pages, portal, self_service
from app.services.scheduling import BookingConflict

bp = Blueprint("portal", __name__, url_prefix="/my")

STUDENT = ("student",)
FIELD_WORDS = {
    "instructor_id": "Instructor", "date": "Date", "start_time": "Start time", "end_time": "End time",
    "duration_minutes": "Duration", "vehicle_id": "Vehicle", "pickup_location": "Pick-up point",
    "reason": "Reason", "cancel_reason": "Reason", "body": "Booking", "status": "Lesson",
}


@bp.app_template_global()
def student_lesson_controls(schedule_id):
    """For the event page: the signed-in student's own lesson with ``may_change`` and ``cutoff_note``
    (None for anyone else, or when it is not theirs)."""
    actor = current_actor()
    if actor.role != "student":
        return None
    try:
        return portal.own_lesson(get_db(), actor, schedule_id, now=clock.now(), settings=current_app.config)
    except AppError:
        return None


# ------------------------------------------------------------------------------------------ book

@bp.route("/book", methods=["GET", "POST"])
@roles_required(*STUDENT)
def book():
    db, actor = get_db(), current_actor()
    if request.method in ("GET", "HEAD"):
        return _render_book(request.args, SlotForm(formdata=None))
    form = SlotForm()
    data = form.values()
    posted = request.form
    args = {"duration_minutes": posted.get("duration_minutes"), "instructor_id": posted.get("chosen_instructor_id"),
            "pickup_location": data["pickup_location"]}
    if not form.validate():  # the CSRF token only: the service checks every field
        return _render_book(args, form, 422, reasons=_form_reasons(form))
    try:
        booked = self_service.book(db, actor, data, now=clock.now(), settings=current_app.config)
    except AppError as exc:
        reasons, status = _refusal(exc)
        return _render_book(args, form, status, reasons=reasons)
    flash(f"Booked: {_booked_words(booked.id)}.", "success")
    return see_other(url_for("events.view", schedule_id=booked.id))


def _render_book(args, form: SlotForm, status: int = 200, reasons: list[dict] | None = None):
    db, actor = get_db(), current_actor()
    allowed = portal.bookable_instructors(db, actor)
    choice = portal.finder(args, allowed)
    slots, slot_note = _slots(choice["duration_minutes"], choice["instructor_id"], allowed=allowed)
    form.duration_minutes.data = str(choice["duration_minutes"])
    location = url_for(".book", duration_minutes=choice["duration_minutes"],
                       instructor_id=choice["instructor_id"] or None, pickup_location=choice["pickup_location"])
    context = {"page_location": location} if request.method == "POST" else {}
    if reasons:
        context["page_focus_form"] = "page-alert"  # app.js moves the focus to the refusal panel
    return render_template("portal/book.html", form=form, choice=choice, allowed=allowed,
                           durations=portal.DURATIONS, days=portal.slot_days(slots), slot_note=slot_note,
                           reasons=reasons, **context), status


# ------------------------------------------------------------------------------------------ my lessons

@bp.get("/lessons")
@roles_required(*STUDENT)
def lessons():
    page = portal.lessons(get_db(), current_actor(), request.args, now=clock.now(), settings=current_app.config)
    return render_template("portal/lessons.html", **page)


@bp.route("/lessons/<int:schedule_id>/cancel", methods=["GET", "POST"])
@roles_required(*STUDENT)
def cancel(schedule_id: int):
    db, actor = get_db(), current_actor()
    lesson = _own(schedule_id)  # 404 for anyone else's, before the form is read
    if request.method in ("GET", "HEAD"):
        return _render_cancel(lesson, CancelLessonForm(formdata=None))
    form = CancelLessonForm()
    if not form.validate():
        return _render_cancel(lesson, form, 422, reasons=_form_reasons(form))
    try:
        self_service.cancel(db, actor, schedule_id, form.reason.data or None, now=clock.now(),
                            settings=current_app.config)
    except AppError as exc:
        reasons, status = _refusal(exc)
        return _render_cancel(_own(schedule_id), form, status, reasons=reasons)
    flash(f"Cancelled: {_lesson_words(lesson)}.", "success")
    return see_other(url_for(".lessons"))


def _render_cancel(lesson: dict, form: CancelLessonForm, status: int = 200, reasons: list[dict] | None = None):
    context = {"page_location": url_for(".cancel", schedule_id=lesson["id"])} if request.method == "POST" else {}
    if reasons:
        context["page_focus_form"] = "page-alert"  # app.js moves the focus to the refusal panel
    return render_template("portal/cancel.html", lesson=lesson, form=form, reasons=reasons, **context), status


@bp.route("/lessons/<int:schedule_id>/reschedule", methods=["GET", "POST"])
@roles_required(*STUDENT)
def reschedule(schedule_id: int):
    db, actor = get_db(), current_actor()
    lesson = _own(schedule_id)
    if request.method in ("GET", "HEAD"):
        return _render_reschedule(lesson, SlotForm(formdata=None))
    form = SlotForm()
    if not form.validate():
        return _render_reschedule(lesson, form, 422, reasons=_form_reasons(form))
    data = form.values()
    try:
        moved = self_service.reschedule(db, actor, schedule_id, data, now=clock.now(), settings=current_app.config)
    except AppError as exc:
        reasons, status = _refusal(exc)
        return _render_reschedule(_own(schedule_id), form, status, reasons=reasons)
    flash(f"Rescheduled: {_booked_words(moved.id)}.", "success")
    return see_other(url_for("events.view", schedule_id=moved.id))


def _render_reschedule(lesson: dict, form: SlotForm, status: int = 200, reasons: list[dict] | None = None):
    days, slot_note = [], None
    duration = lesson.get("duration_minutes")
    if lesson["may_change"] and duration:
        slots, slot_note = _slots(duration, lesson["instructor_id"], ignore_schedule_id=lesson["id"])
        days = portal.slot_days(slots)
    form.duration_minutes.data = str(duration or "")
    context = {"page_location": url_for(".reschedule", schedule_id=lesson["id"])} if request.method == "POST" else {}
    if reasons:
        context["page_focus_form"] = "page-alert"  # app.js moves the focus to the refusal panel
    return render_template("portal/reschedule.html", lesson=lesson, form=form, days=days, slot_note=slot_note,
                           reasons=reasons, **context), status


# ------------------------------------------------------------------------------------------ helpers

def _own(schedule_id: int) -> dict:
    return portal.own_lesson(get_db(), current_actor(), schedule_id, now=clock.now(), settings=current_app.config)


def _slots(duration: int, instructor_id: int | None, ignore_schedule_id: int | None = None,
           allowed: list[dict] | None = None) -> tuple[list[dict], str | None]:
    """The next free slots, or ([], the reason in words) when the service refuses the question (a duration
    off the branch's grid: 422; an instructor no longer bookable: 404)."""
    try:
        found = portal.next_slots(get_db(), current_actor(), duration_minutes=duration, now=clock.now(),
                                  settings=current_app.config, instructor_id=instructor_id,
                                  ignore_schedule_id=ignore_schedule_id, allowed=allowed)
    except AppError as exc:
        if exc.status not in (404, 422):
            raise
        return [], (exc.message if exc.status == 422 else "That instructor has no bookable times for you.")
    return found, None


def _refusal(exc: AppError) -> tuple[list[dict], int]:
    """Every reason of a refused booking, cancellation or move, in words: [{"kind", "message"}], and the
    status (409 refused or conflicting, 422 a field). Anything else (403, 404, 503) is re-raised."""
    if isinstance(exc, BookingConflict):
        return [{"kind": c.get("kind"), "message": c.get("message")} for c in exc.conflicts], 409
    if isinstance(exc, self_service.Refused):
        reasons = list(getattr(exc, "reasons", None) or [])
        return (reasons or [{"kind": "refused", "message": exc.message}]), 409
    if isinstance(exc, ValidationFailed):
        return _field_reasons(exc.errors or {exc.field or "body": [exc.message]}), 422
    if exc.status == 409:  # BookingBusy and the like
        return [{"kind": "busy", "message": exc.message}], 409
    raise exc


def _field_reasons(errors: dict) -> list[dict]:
    out = []
    for name, messages in errors.items():
        label = FIELD_WORDS.get(name, str(name).replace("_", " ").capitalize())
        for message in messages if isinstance(messages, (list, tuple)) else [messages]:
            out.append({"kind": name, "message": f"{label}: {message}"})
    return out


def _form_reasons(form) -> list[dict]:
    errors = {field.name: list(field.errors) for field in form if field.errors}
    if form.form_errors or not errors:
        errors["body"] = list(form.form_errors) or ["The form has expired; reload the page and try again."]
    return _field_reasons(errors)


def _lesson_words(lesson: dict) -> str:
    """'Lesson with Raj Patel, Tue 8 Dec 2026, 09:00–10:00'."""
    kind = event_pages.noun(lesson.get("event_type"))
    return (f"{kind} with {lesson.get('instructor_name') or 'your instructor'}, "
            f"{event_pages.when(lesson['scheduled_date'].isoformat(), lesson['start_time'], lesson['end_time'])}")


def _booked_words(schedule_id: int) -> str:
    return _lesson_words(_own(schedule_id))
