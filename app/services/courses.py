"""The course catalogue (school-wide): admin and staff list, create, edit and retire courses.

Allocated instructors (course_instructor) are validated, unlike the original: every id must be an
existing instructor; staff may only allocate instructors of their own branch, and allocations that
belong to other branches are left as they are when staff save a course. Retiring a course is an edit
to ``status = inactive``. ``course_created`` / ``course_updated`` are audited with before/after
snapshots that include the allocated instructor ids.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from app.core.database import Database
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery
from app.core.params import parse_id
from app.dao.base import money
from app.dao.branch import BranchDAO
from app.dao.course import FIELDS, SORTS, STATUSES, CourseDAO
from app.services import audit
from app.services.scope import Actor

LIST_SORTS = tuple(SORTS)
DEFAULT_SORT = "title"
LIST_FILTERS = {"status": ("active", "inactive"), "category": "text"}
MAX_PRICE = Decimal("99999999.99")  # DECIMAL(10,2)
MAX_LESSONS = 1000
ALLOCATION_FORM_CAP = 100  # the edit form changes every allocation up to this many, else one branch's


def _require_office(actor: Actor) -> None:
    if not actor.is_office:
        raise PermissionDenied("Courses are managed by the office.")


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            value = value.strip() or None
        row[name] = value
    errors: dict[str, list[str]] = {}
    if not row["title"]:
        errors["title"] = ["Enter the course title."]
    price = _decimal(row["price"])
    if row["price"] is None:
        errors["price"] = ["Enter the price."]
    elif price is None or price < 0 or price > MAX_PRICE or price != price.quantize(Decimal("0.01")):
        errors["price"] = ["The price must be an amount from 0.00 to 99,999,999.99 with at most 2 decimals."]
    else:
        row["price"] = money(price)
    lessons = _integer(row["lesson_count"])
    if lessons is None or not 1 <= lessons <= MAX_LESSONS:
        errors["lesson_count"] = [f"The number of lessons must be a whole number from 1 to {MAX_LESSONS}."]
    else:
        row["lesson_count"] = lessons
    if (row["status"] or "active") not in STATUSES:
        errors["status"] = ["Choose active or inactive."]
    row["status"] = row["status"] or "active"
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors=errors)
    return row


def _decimal(value: Any) -> Decimal | None:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def _instructor_ids(raw: Iterable[Any] | None) -> list[int]:
    try:
        return sorted({int(i) for i in (raw or [])})
    except (TypeError, ValueError):
        raise ValidationFailed("Choose instructors from the list.", field="instructor_ids") from None


def _check_allocation(dao: CourseDAO, actor: Actor, wanted: list[int], current: list[int],
                      allowed_branch: int | None = None) -> None:
    """Every chosen instructor must exist; staff (and an administrator editing one branch's part) may
    only choose that branch's instructors; newly chosen instructors must have an active account."""
    found = dao.instructors_by_ids(wanted)
    problems = []
    for instructor_id in wanted:
        row = found.get(instructor_id)
        if row is None or (allowed_branch is not None and row["branch_id"] != allowed_branch):
            problems.append(f"Instructor #{instructor_id} is not one you can allocate.")
        elif row["user_status"] != "active" and instructor_id not in current:
            problems.append(f"{row['first_name']} {row['last_name']} is archived and cannot be allocated.")
    if problems:
        raise ValidationFailed(" ".join(problems), errors={"instructor_ids": problems})


def _final_allocation(dao: CourseDAO, wanted: list[int], current: list[int],
                      allowed_branch: int | None) -> list[int]:
    """Staff (and an administrator editing one branch) change only that branch's part of the allocation;
    other branches' allocations stay."""
    if allowed_branch is None:
        return wanted
    others = [i for i, row in dao.instructors_by_ids(current).items() if row["branch_id"] != allowed_branch]
    return sorted(set(wanted) | set(others))


def list_courses(db: Database, actor: Actor, query: ListQuery) -> dict:
    """One page of courses with active-enrolment counts and allocated instructor names (3 queries)."""
    _require_office(actor)
    dao = CourseDAO(db)
    page = dao.list_page(query)
    allocated = dao.instructor_summary([c["id"] for c in page.items], branch_id=actor.branch_filter())
    for course in page.items:
        entry = allocated.get(course["id"]) or {"count": 0, "branch_count": None, "preview": []}
        course["instructors"] = entry["preview"]  # the first few (the staff member's branch first)
        course["instructor_count"] = entry["count"]
        course["branch_instructor_count"] = entry["branch_count"]
    return {"page": page, "categories": dao.categories()}


ALLOCATED_SORTS = ("name",)


def course_page(db: Database, actor: Actor, course_id: int, query: ListQuery) -> dict:
    """The course page: the course, how many instructors are allocated (and of the staff member's branch),
    and one page (25) of the allocated instructors, searchable by name or e-mail. Staff see their branch's
    allocations listed; admin every branch's, or one branch's with ``?branch=`` (issue 13: a course can
    have thousands of allocations, so the page never lists them all)."""
    _require_office(actor)
    dao = CourseDAO(db)
    course = dao.find(course_id)
    if course is None:
        raise NotFound("Course not found")
    own = actor.branch_filter()
    shown_branch = own if own is not None else query.filter_int("branch")
    summary = dao.instructor_summary([course_id], branch_id=shown_branch, preview=0)[course_id]
    allocated = dao.allocated_page(course_id, query, branch_id=shown_branch)
    return {"course": course, "allocated": allocated, "instructor_count": summary["count"],
            "shown_count": summary["branch_count"] if shown_branch is not None else summary["count"],
            "shown_branch": shown_branch, "own_branch": own}


def allocation_branch(db: Database, actor: Actor, course_id: int, requested: Any = None) -> int | None:
    """The branch whose allocations the course's edit form changes: staff their own; an administrator
    every branch (None) while the course has at most ALLOCATION_FORM_CAP allocated instructors (the
    picker's chosen list), else one branch at a time (``requested``, else their own, else the first
    branch with an allocation), the others kept as they are: a form never carries 2,000 instructors,
    and saving it never drops the ones it did not show."""
    _require_office(actor)
    if actor.branch_filter() is not None:
        return actor.branch_filter()
    dao = CourseDAO(db)
    if dao.allocation_count(course_id) <= ALLOCATION_FORM_CAP:
        return None
    chosen = parse_id(requested)
    if chosen is not None and BranchDAO(db).find(chosen) is not None:
        return chosen
    return actor.branch_id or dao.first_allocated_branch(course_id)


def get_course(db: Database, actor: Actor, course_id: int, branch_id: int | None = None) -> dict:
    """The course with ``instructors``: its allocated instructors (of ``branch_id`` only when given, then
    ``other_allocations`` counts the rest)."""
    _require_office(actor)
    dao = CourseDAO(db)
    course = dao.find(course_id)
    if course is None:
        raise NotFound("Course not found")
    if branch_id is None:
        course["instructors"] = dao.instructors_for([course_id])[course_id]
        course["other_allocations"] = 0
    else:
        course["instructors"] = dao.instructors_of_branch(course_id, branch_id)
        course["other_allocations"] = dao.allocation_count(course_id, branch_id, outside=True)
    return course


def instructor_choices(db: Database, actor: Actor, include: Iterable[int] = ()) -> list[dict]:
    """Instructors the actor may allocate (admin: all active; staff: their branch's active ones).

    ``include``: ids to show even if they would not be offered (already allocated, archived since).
    """
    _require_office(actor)
    dao = CourseDAO(db)
    options = dao.instructor_options(actor.branch_filter())
    offered = {o["id"] for o in options}
    allowed_branch = actor.branch_filter()
    extra = [row for i, row in dao.instructors_by_ids([i for i in include if i not in offered]).items()
             if allowed_branch is None or row["branch_id"] == allowed_branch]
    return options + extra


def create_course(db: Database, actor: Actor, data: Mapping[str, Any], now: datetime) -> int:
    _require_office(actor)
    row = _clean(data)
    wanted = _instructor_ids(data.get("instructor_ids"))
    dao = CourseDAO(db)
    with db.transaction():
        _check_allocation(dao, actor, wanted, [], actor.branch_filter())
        course_id = dao.insert(row, now)
        dao.set_instructors(course_id, wanted)
        audit.record(db, actor, "course_created", "course", course_id, now=now,
                     after={**row, "instructor_ids": wanted})
    return course_id


def update_course(db: Database, actor: Actor, course_id: int, data: Mapping[str, Any], now: datetime) -> None:
    """Save the course; ``data["allocation_branch"]`` (the edit form's, see allocation_branch) confines
    an administrator's allocation change to that branch, as staff's is to theirs."""
    _require_office(actor)
    row = _clean(data)
    wanted = _instructor_ids(data.get("instructor_ids"))
    dao = CourseDAO(db)
    only = actor.branch_filter() if actor.branch_filter() is not None else parse_id(data.get("allocation_branch"))
    with db.transaction():
        current = dao.find(course_id)
        if current is None:
            raise NotFound("Course not found")
        current_ids = dao.instructor_ids(course_id)
        _check_allocation(dao, actor, wanted, current_ids, only)
        allocation = _final_allocation(dao, wanted, current_ids, only)
        before = {**{name: current[name] for name in FIELDS}, "instructor_ids": current_ids}
        dao.update(course_id, row, now)
        dao.set_instructors(course_id, allocation)
        audit.record(db, actor, "course_updated", "course", course_id, now=now, before=before,
                     after={**row, "instructor_ids": allocation})
