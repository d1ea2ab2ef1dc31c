"""Row factories for DAO tests: ``make_x(db, **overrides) -> id``.

Each factory fills the NOT NULL columns with sensible defaults, creates the
parents it needs when their id is not given, and lets any column be overridden
by keyword. Unique values (e-mails, plates, invoice numbers) come from a
counter, so tests can call a factory many times. Dates default to fixed values
around ``TODAY``: nothing here reads the real clock.
"""
from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from app.core.database import Database

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 2, 30, 0)

_serial = itertools.count(1)


def _next() -> int:
    return next(_serial)


def make_branch(db: Database, **overrides: Any) -> int:
    n = _next()
    row = {"name": f"Branch {n}", "city": "Melbourne", "email": f"branch{n}@origin.com.au"}
    row.update(overrides)
    return db.insert("branches", row)


def make_user(db: Database, **overrides: Any) -> int:
    n = _next()
    row = {
        "role": "student",
        "first_name": f"First{n}",
        "last_name": f"Last{n}",
        "email": f"user{n}@example.com",
        "password_hash": "not-a-real-hash",
        "status": "active",
        "branch_id": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    row.update(overrides)
    return db.insert("users", row)


def make_student(db: Database, user_id: int | None = None, **overrides: Any) -> int:
    """A student profile; creates its user (role student, same branch) unless ``user_id`` is given."""
    branch_id = overrides.get("branch_id")
    if user_id is None:
        user_id = make_user(db, role="student", branch_id=branch_id)
    row = {"user_id": user_id, "branch_id": branch_id, "license_status": "Learner"}
    row.update(overrides)
    return db.insert("students", row)


def make_instructor(db: Database, user_id: int | None = None, **overrides: Any) -> int:
    """An instructor profile; creates its user (role instructor, same branch) unless ``user_id`` is given."""
    branch_id = overrides.get("branch_id")
    if user_id is None:
        user_id = make_user(db, role="instructor", branch_id=branch_id)
    row = {"user_id": user_id, "branch_id": branch_id, "experience_years": 1}
    row.update(overrides)
    return db.insert("instructors", row)


def make_course(db: Database, **overrides: Any) -> int:
    n = _next()
    row = {"title": f"Course {n}", "price": Decimal("880.00"), "lesson_count": 10, "status": "active"}
    row.update(overrides)
    return db.insert("courses", row)


def make_enrollment(db: Database, student_id: int | None = None, course_id: int | None = None,
                    **overrides: Any) -> int:
    if student_id is None:
        student_id = make_student(db)
    if course_id is None:
        course_id = make_course(db)
    row = {"student_id": student_id, "course_id": course_id, "start_date": TODAY - timedelta(days=30),
           "status": "active"}
    row.update(overrides)
    return db.insert("enrollments", row)


def make_vehicle(db: Database, **overrides: Any) -> int:
    n = _next()
    row = {"name": f"Car {n}", "plate_number": f"TST-{n:04d}", "transmission": "Automatic", "status": "available"}
    row.update(overrides)
    return db.insert("vehicles", row)


def make_schedule(db: Database, enrollment_id: int | None = None, instructor_id: int | None = None,
                  **overrides: Any) -> int:
    if enrollment_id is None:
        enrollment_id = make_enrollment(db)
    if instructor_id is None:
        instructor_id = make_instructor(db)
    row = {
        "enrollment_id": enrollment_id,
        "instructor_id": instructor_id,
        "event_type": "lesson",
        "scheduled_date": TODAY + timedelta(days=1),
        "start_time": time(9, 0),
        "end_time": time(10, 0),
        "status": "scheduled",
    }
    row.update(overrides)
    return db.insert("schedules", row)


def make_invoice(db: Database, enrollment_id: int | None = None, **overrides: Any) -> int:
    """An invoice; ``total`` defaults to subtotal + 10 % tax (968.00)."""
    if enrollment_id is None:
        enrollment_id = make_enrollment(db)
    n = _next()
    subtotal = Decimal(overrides.pop("subtotal", Decimal("880.00")))
    tax = Decimal(overrides.pop("tax_amount", (subtotal * Decimal("0.10")).quantize(Decimal("0.01"))))
    row = {
        "enrollment_id": enrollment_id,
        "invoice_number": f"INV-TEST-{n:05d}",
        "issue_date": TODAY - timedelta(days=7),
        "due_date": TODAY + timedelta(days=7),
        "subtotal": subtotal,
        "tax_amount": tax,
        "total": subtotal + tax,
        "status": "sent",
    }
    row.update(overrides)
    return db.insert("invoices", row)


def make_payment(db: Database, invoice_id: int, amount: Decimal | str = Decimal("100.00"), **overrides: Any) -> int:
    row = {"invoice_id": invoice_id, "amount": Decimal(amount), "payment_date": TODAY - timedelta(days=1),
           "method": "Card"}
    row.update(overrides)
    return db.insert("payments", row)


def make_unavailability(db: Database, instructor_id: int, start: datetime, end: datetime,
                        **overrides: Any) -> int:
    """An instructor_unavailability window (wall-clock datetimes)."""
    row = {"instructor_id": instructor_id, "start_datetime": start, "end_datetime": end, "reason": None,
           "created_at": NOW, "updated_at": NOW}
    row.update(overrides)
    return db.insert("instructor_unavailability", row)


def make_working_hours(db: Database, instructor_id: int, weekday: int, start: time, end: time,
                       **overrides: Any) -> int:
    """One instructor_working_hours row (weekday 0 = Monday)."""
    row = {"instructor_id": instructor_id, "weekday": weekday, "start_time": start, "end_time": end,
           "created_at": NOW, "updated_at": NOW}
    row.update(overrides)
    return db.insert("instructor_working_hours", row)


def make_downtime(db: Database, vehicle_id: int, start: datetime, end: datetime, **overrides: Any) -> int:
    """A vehicle_downtime window (wall-clock datetimes)."""
    row = {"vehicle_id": vehicle_id, "start_datetime": start, "end_datetime": end, "reason": None,
           "created_at": NOW, "updated_at": NOW}
    row.update(overrides)
    return db.insert("vehicle_downtime", row)


def allocate(db: Database, course_id: int, instructor_id: int) -> None:
    """Allocate an instructor to a course (course_instructor)."""
    db.insert("course_instructor", {"course_id": course_id, "instructor_id": instructor_id})


def make_waitlist_preferences(db: Database, student_id: int, **overrides: Any) -> int:
    """A student's waitlist preferences (opted in, Monday to Friday, 08:00-18:00 by default)."""
    row = {"student_id": student_id, "active": 1, "weekdays": "1111100", "earliest_time": time(8, 0),
           "latest_time": time(18, 0), "opted_in_at": NOW, "updated_at": NOW}
    row.update(overrides)
    db.insert("waitlist_preferences", row)
    return student_id


def make_gap_offer(db: Database, schedule_id: int, student_id: int, instructor_id: int, **overrides: Any) -> int:
    """An open gap offer of a cancelled lesson's slot (09:00-10:00 tomorrow, expiring in 12 hours)."""
    row = {"schedule_id": schedule_id, "student_id": student_id, "instructor_id": instructor_id,
           "branch_id": None, "vehicle_id": None, "slot_date": TODAY + timedelta(days=1), "start_time": time(9, 0),
           "end_time": time(10, 0), "status": "offered", "expires_at": NOW + timedelta(hours=12),
           "created_at": NOW}
    row.update(overrides)
    return db.insert("gap_offers", row)


def make_proposal(db: Database, schedule_id: int, **overrides: Any) -> int:
    """A pending reschedule proposal for the lesson (the day after TODAY + 1, 10:00-11:00, open 48 hours)."""
    row = {"schedule_id": schedule_id, "proposed_by": None, "proposed_date": TODAY + timedelta(days=2),
           "start_time": time(10, 0), "end_time": time(11, 0), "status": "pending",
           "expires_at": NOW + timedelta(hours=48), "created_at": NOW}
    row.update(overrides)
    return db.insert("reschedule_proposals", row)


def make_series(db: Database, student_id: int, instructor_id: int, schedule_ids: tuple[int, ...] = (),
                **overrides: Any) -> int:
    """A schedule_series row (weekly, 09:00-10:00, 10 occurrences from tomorrow by default); the given
    schedules become its occurrences (their series_id is set)."""
    first = overrides.pop("first_date", TODAY + timedelta(days=1))
    row = {"branch_id": None, "instructor_id": instructor_id, "student_id": student_id, "vehicle_id": None,
           "event_type": "lesson", "weekday": first.weekday(), "start_time": time(9, 0), "end_time": time(10, 0),
           "interval_weeks": 1, "first_date": first, "until_date": None, "occurrences": 10, "created_at": NOW}
    row.update(overrides)
    series_id = db.insert("schedule_series", row)
    for schedule_id in schedule_ids:
        db.execute("UPDATE schedules SET series_id = :s WHERE id = :id", {"s": series_id, "id": schedule_id})
    return series_id


def make_enrollment_request(db: Database, student_id: int | None = None, course_id: int | None = None,
                            **overrides: Any) -> int:
    """A pending enrolment request (creates the student and the course unless given)."""
    if student_id is None:
        student_id = make_student(db)
    if course_id is None:
        course_id = make_course(db)
    row = {"student_id": student_id, "course_id": course_id, "status": "pending", "created_at": NOW,
           "updated_at": NOW}
    row.update(overrides)
    return db.insert("enrollment_requests", row)
