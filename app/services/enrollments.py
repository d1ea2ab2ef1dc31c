"""Enrolments: the lifecycle, progress, direct enrolment by the office and branch transfers. No Flask here.

- Lifecycle (``TRANSITIONS``): active -> in_progress | completed | cancelled; in_progress -> completed |
  cancelled; completed -> in_progress (reopened); cancelled -> active (reinstated). Cancelling needs a
  reason. Every change is audited (before/after) in the transaction that makes it, under the row lock.
- Progress % is derived on read: completed lessons over the course's lesson count, at most 100
  (``progress``); a status change also writes it to ``progress_percentage`` (a completed enrolment is 100).
- The office enrols an existing student in a course directly (their page): the enrolment and its lesson
  package (packages.purchase, source ``office``) in one transaction; an open enrolment in the same course
  is refused (422). No invoice is issued here: the office invoices from the invoices pages.
- A transfer moves the student (profile and account) to another branch; staff may transfer only their own
  branch's students; audited with both branches.

Scope: admin everything; staff the students of their branch (anything else is 404).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from app.core import clock
from app.core.database import Database
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.params import parse_id
from app.dao.branch import BranchDAO
from app.dao.enrollment import EnrollmentDAO
from app.dao.enrollment_request import EnrollmentRequestDAO
from app.services import audit
from app.services.scope import Actor

STATUSES = ("active", "in_progress", "completed", "cancelled")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "active": ("in_progress", "completed", "cancelled"),
    "in_progress": ("completed", "cancelled"),
    "completed": ("in_progress",),
    "cancelled": ("active",),
}
STATUS_LABELS = {"active": "Active", "in_progress": "In progress", "completed": "Completed", "cancelled": "Cancelled"}
REASON_MAX = 255


def progress(completed: int, lesson_count: int) -> int:
    """Whole per cent of the course's lessons completed (0 without a lesson count; at most 100)."""
    if lesson_count <= 0:
        return 0
    return min(100, (100 * max(0, completed)) // lesson_count)


def _require_office(actor: Actor) -> None:
    if not actor.is_office:
        raise PermissionDenied("Only the office manages enrolments.")


def _in_scope(actor: Actor, branch_id: int | None) -> bool:
    allowed = actor.branch_filter()
    return allowed is None or branch_id == allowed


def get_enrollment(db: Database, actor: Actor, enrollment_id: int) -> dict:
    """The enrolment with its derived progress, if the office actor may see its student (else 404)."""
    _require_office(actor)
    row = EnrollmentDAO(db).find(enrollment_id)
    if row is None or not _in_scope(actor, row["branch_id"]):
        raise NotFound("Enrolment not found")
    row["progress"] = progress(row["completed_lessons"], int(row["lesson_count"] or 0))
    row["next_statuses"] = TRANSITIONS.get(row["status"], ())
    return row


def page(db: Database, actor: Actor, enrollment_id: int) -> dict:
    enrolment = get_enrollment(db, actor, enrollment_id)
    return {"enrollment": enrolment, "lessons": EnrollmentDAO(db).lessons(enrolment["id"])}


def progress_for(db: Database, enrollment_ids) -> dict[int, int]:
    """{enrolment id: progress %} for many enrolments in one statement."""
    return {eid: progress(v["completed"], v["lesson_count"])
            for eid, v in EnrollmentDAO(db).completed_counts(enrollment_ids).items()}


def course_choices(db: Database) -> list[tuple[Any, str]]:
    """The active courses the office may enrol a student in (select options)."""
    return [(c["id"], f"{c['title']} ({c['lesson_count']} lessons)")
            for c in EnrollmentRequestDAO(db).course_options(active_only=True)]


def branch_choices(db: Database, exclude: int | None) -> list[tuple[Any, str]]:
    """Every branch but the student's own (the transfer form)."""
    return [(b["id"], b["name"]) for b in BranchDAO(db).options() if b["id"] != exclude]


def change_status(db: Database, actor: Actor, enrollment_id: int, status: Any, reason: Any, *, now: datetime) -> dict:
    _require_office(actor)
    if status not in STATUSES:
        raise ValidationFailed("Choose active, in progress, completed or cancelled.", field="status")
    text = reason.strip() if isinstance(reason, str) else ""
    if len(text) > REASON_MAX:
        raise ValidationFailed(f"At most {REASON_MAX} characters.", field="reason")
    dao = EnrollmentDAO(db)
    with db.transaction():
        locked = dao.lock(enrollment_id)
        current = get_enrollment(db, actor, enrollment_id) if locked else None
        if current is None:
            raise NotFound("Enrolment not found")
        if status not in TRANSITIONS.get(locked["status"], ()):
            raise ValidationFailed(f"An enrolment that is {STATUS_LABELS.get(locked['status'], locked['status']).lower()}"
                                   f" cannot become {STATUS_LABELS[status].lower()}.", field="status")
        if status == "cancelled" and not text:
            raise ValidationFailed("Give the reason for cancelling.", field="reason")
        value = 100 if status == "completed" else current["progress"]
        dao.set_status(current["id"], status, value, now)
        audit.record(db, actor, "enrollment_status_changed", "enrollment", current["id"], now=now,
                     before={"status": locked["status"]}, after={"status": status, "progress": value},
                     details=f"(student {current['student_id']}) " + (text or STATUS_LABELS[status]))
    return {**current, "status": status}


def enrol(db: Database, actor: Actor, student_id: int, data: Mapping[str, Any], *, now: datetime) -> int:
    """Enrol an existing student in a course (the office, from the student's page)."""
    _require_office(actor)
    dao = EnrollmentDAO(db)
    raw_course = data.get("course_id")
    course_id = raw_course if isinstance(raw_course, int) and not isinstance(raw_course, bool) else parse_id(str(raw_course or ""))
    start = data.get("start_date")
    if start in (None, ""):
        start = clock.to_local(now).date()
    elif not isinstance(start, date) or isinstance(start, datetime):
        raise ValidationFailed("Enter a real date (YYYY-MM-DD).", field="start_date")
    with db.transaction():
        student = dao.lock_student(student_id)
        if student is None or not _in_scope(actor, student["branch_id"]):
            raise NotFound("Student not found")
        course = EnrollmentRequestDAO(db).course(course_id) if course_id else None
        if course is None:
            raise ValidationFailed(f"There is no course #{str(raw_course or '')[:20]}.", field="course_id")
        if course["status"] != "active":
            raise ValidationFailed(f"The course {course['title']} is no longer offered.", field="course_id")
        if dao.open_for(student_id, course["id"]):
            raise ValidationFailed(f"The student already has an open enrolment in {course['title']}.", field="course_id")
        enrollment_id = dao.insert(student_id, course["id"], start, "Enrolled by the office.", now)
        if int(course["lesson_count"] or 0) > 0:
            from app.services import packages

            packages.purchase(db, actor, enrollment_id, int(course["lesson_count"]), now=now, source="office")
        audit.record(db, actor, "enrollment_created", "enrollment", enrollment_id, now=now,
                     after={"student_id": student_id, "course_id": course["id"], "start_date": start, "status": "active"},
                     details=f"(student {student_id}) enrolled directly by the office")
    return enrollment_id


def transfer(db: Database, actor: Actor, student_id: int, branch_id: Any, reason: Any, *, now: datetime) -> dict:
    """Move a student to another branch (profile and account); audited with both branches."""
    _require_office(actor)
    dao = EnrollmentDAO(db)
    target_id = branch_id if isinstance(branch_id, int) and not isinstance(branch_id, bool) else parse_id(str(branch_id or ""))
    text = reason.strip() if isinstance(reason, str) else ""
    if len(text) > REASON_MAX:
        raise ValidationFailed(f"At most {REASON_MAX} characters.", field="reason")
    with db.transaction():
        student = dao.lock_student(student_id)
        if student is None or not _in_scope(actor, student["branch_id"]):
            raise NotFound("Student not found")
        target = dao.branch(target_id) if target_id else None
        if target is None:
            raise ValidationFailed(f"There is no branch #{str(branch_id or '')[:20]}.", field="branch_id")
        if target["id"] == student["branch_id"]:
            raise ValidationFailed("The student is already in this branch.", field="branch_id")
        dao.move_student(student_id, student["user_id"], target["id"], now)
        audit.record(db, actor, "student_transferred", "student", student_id, now=now,
                     before={"branch_id": student["branch_id"]}, after={"branch_id": target["id"]},
                     details=f"Transferred to {target['name']}" + (f": {text}" if text else "."))
    return {"student_id": student_id, "from": student["branch_id"], "to": target["id"], "branch_name": target["name"]}
