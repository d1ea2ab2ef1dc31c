"""InstructorDAO (PHP InstructorModel): instructor profiles, their unavailability windows and working hours.

Unavailability start/end values and working-hour times are business wall-clock times in APP_TIMEZONE
(they are compared with lesson dates and times), not UTC timestamps.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Iterable

from app.core.pagination import ListQuery, Page
from app.core.params import valid_id
from app.dao.base import BaseDAO, like_pattern
from app.dao.user import UserDAO

PROFILE_FIELDS = ("branch_id", "certification_number", "accreditation_expiry", "experience_years",
                  "availability_notes", "bio", "rating")
ACCOUNT_FIELDS = ("first_name", "last_name", "email", "phone", "branch_id")

EXPIRING_DAYS = 60
ACCREDITATION_STATES = ("valid", "expiring", "expired", "missing")
USER_STATUSES = ("active", "archived")
MAX_SEARCH_TERMS = 5

# sort key -> ORDER BY expressions (each gets the direction)
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("u.last_name", "u.first_name"),
    "branch": ("b.name",),
    "expiry": ("i.accreditation_expiry",),
    "lessons": ("COALESCE(st.lessons, 0)",),
}

_PROFILE_COLUMNS = (
    "i.id, i.user_id, i.branch_id, i.certification_number, i.accreditation_expiry, i.experience_years,"
    " i.availability_notes, i.bio, i.rating, i.created_at, i.updated_at,"
    " u.first_name, u.last_name, u.email, u.phone, u.status, u.last_login_at, b.name AS branch_name,"
    " b.timezone AS branch_timezone"
)
# the list's counts come from the maintained aggregate (app/services/stats.py, `flask refresh-stats`),
# never from every lesson on a page view; an instructor without a row there has 0
_LESSON_TOTALS = "LEFT JOIN stat_instructor_totals st ON st.instructor_id = i.id"


def accreditation_state(expiry: date | None, today: date) -> str:
    """valid / expiring (within 60 days) / expired / missing: the same rule as the list filter."""
    if expiry is None:
        return "missing"
    if expiry < today:
        return "expired"
    if expiry <= today + timedelta(days=EXPIRING_DAYS):
        return "expiring"
    return "valid"


def _int(value: Any) -> int:
    return int(value or 0)


class InstructorDAO(BaseDAO):
    def id_for_user(self, user_id: int) -> int | None:
        return self.db.fetch_value(
            "SELECT id FROM instructors WHERE user_id = :user_id ORDER BY id LIMIT 1", {"user_id": user_id}
        )

    # -- reading ---------------------------------------------------------------------------
    def find(self, instructor_id: int) -> dict | None:
        """One profile with its account and branch name; ``activated`` says whether a password was set."""
        if not valid_id(instructor_id):
            return None
        row = self.db.fetch_one(
            f"SELECT {_PROFILE_COLUMNS},"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " CASE WHEN u.password_hash LIKE '!unset!%' THEN 0 ELSE 1 END AS activated"
            " FROM instructors i JOIN users u ON u.id = i.user_id"
            " LEFT JOIN branches b ON b.id = i.branch_id WHERE i.id = :id",
            {"id": instructor_id},
        )
        if row is not None:
            row["activated"] = bool(row["activated"])
        return row

    def list_page(self, query: ListQuery, today: date, only_branch: int | None = None) -> Page:
        """One page of instructors with lesson and completed counts, in two queries (count + page).

        Lessons = schedules of type lesson (any status); completed = status completed (any type),
        as in the original list, read from stat_instructor_totals (as of its last refresh,
        ``stats.refreshed_at(db, "instructor_totals")``): no query here touches schedules, and the
        sort by lessons orders the instructors by their maintained total.
        """
        where, params = self._where(query, today, only_branch)
        from_where = "FROM instructors i JOIN users u ON u.id = i.user_id LEFT JOIN branches b ON b.id = i.branch_id"
        if query.sort == "lessons":
            from_where += f" {_LESSON_TOTALS}"
        columns = (
            f"{_PROFILE_COLUMNS},"
            " COALESCE(st.lessons, 0) AS lesson_count, COALESCE(st.completed_lessons, 0) AS completed_count"
        )
        joins = ("JOIN instructors i ON i.id = pick.pick_id JOIN users u ON u.id = i.user_id"
                 f" LEFT JOIN branches b ON b.id = i.branch_id {_LESSON_TOTALS}")
        page = self.fetch_page_picked(from_where + where, columns, joins, params, self.order_clause(SORTS, query, "i.id"), query,
                                      pick="i.id")
        for row in page.items:
            row["lesson_count"] = _int(row["lesson_count"])
            row["completed_count"] = _int(row["completed_count"])
            row["accreditation"] = accreditation_state(row["accreditation_expiry"], today)
        return page

    @staticmethod
    def _where(query: ListQuery, today: date, only_branch: int | None) -> tuple[str, dict[str, Any]]:
        clauses = ["(:only_branch IS NULL OR i.branch_id = :only_branch)"]
        params: dict[str, Any] = {"only_branch": only_branch}
        for n, term in enumerate(query.q.split()[:MAX_SEARCH_TERMS]):
            key = f"q{n}"
            clauses.append(
                f"(u.first_name LIKE :{key} ESCAPE '!' OR u.last_name LIKE :{key} ESCAPE '!'"
                f" OR u.email LIKE :{key} ESCAPE '!' OR i.certification_number LIKE :{key} ESCAPE '!')"
            )
            params[key] = like_pattern(term)
        branch = query.filter_int("branch")
        if branch is not None:
            clauses.append("i.branch_id = :branch")
            branch = branch if valid_id(branch) else 0  # an impossible id matches nothing
            params["branch"] = branch
        status = query.filter("status")
        if status in USER_STATUSES:
            clauses.append("u.status = :status")
            params["status"] = status
        state = query.filter("accreditation")
        if state == "expired":
            clauses.append("i.accreditation_expiry < :today")
            params["today"] = today
        elif state == "expiring":
            clauses.append("i.accreditation_expiry >= :today AND i.accreditation_expiry <= :soon")
            params.update(today=today, soon=today + timedelta(days=EXPIRING_DAYS))
        elif state == "valid":
            clauses.append("i.accreditation_expiry > :soon")
            params["soon"] = today + timedelta(days=EXPIRING_DAYS)
        elif state == "missing":
            clauses.append("i.accreditation_expiry IS NULL")
        return " WHERE " + " AND ".join(clauses), params

    def accreditation_audit(self, until: date) -> list[dict]:
        """Active instructors whose accreditation is missing or ends on or before ``until`` (runbook, monthly)."""
        return self.db.fetch_all(
            "SELECT i.id, i.certification_number, i.accreditation_expiry, u.first_name, u.last_name, u.email,"
            " b.name AS branch_name"
            " FROM instructors i JOIN users u ON u.id = i.user_id LEFT JOIN branches b ON b.id = i.branch_id"
            " WHERE u.status = 'active' AND (i.accreditation_expiry IS NULL OR i.accreditation_expiry <= :until)"
            " ORDER BY i.accreditation_expiry IS NULL, i.accreditation_expiry, u.last_name, i.id",
            {"until": until},
        )

    def for_branch(self, branch_id: int) -> list[dict]:
        """Instructors of one branch by name (the original's forBranch)."""
        return self.db.fetch_all(
            "SELECT i.id, i.user_id, i.branch_id, u.first_name, u.last_name, u.email, u.status"
            " FROM instructors i JOIN users u ON u.id = i.user_id WHERE i.branch_id = :branch_id"
            " ORDER BY u.last_name, u.first_name, i.id",
            {"branch_id": branch_id},
        )

    def courses(self, instructor_id: int) -> list[dict]:
        """Courses the instructor is allocated to (course_instructor), by title."""
        return self.db.fetch_all(
            "SELECT c.id, c.title, c.category, c.lesson_count, c.status"
            " FROM course_instructor ci JOIN courses c ON c.id = ci.course_id"
            " WHERE ci.instructor_id = :id ORDER BY c.title, c.id",
            {"id": instructor_id},
        )

    # -- writing the profile -------------------------------------------------------------
    def insert(self, user_id: int, data: dict[str, Any], now: datetime) -> int:
        row = {f: data.get(f) for f in PROFILE_FIELDS}
        if row["experience_years"] is None:
            row["experience_years"] = 0
        return self.db.insert("instructors", {"user_id": user_id, **row, "created_at": now, "updated_at": now})

    def update(self, instructor_id: int, data: dict[str, Any], now: datetime) -> int:
        """Write every profile field (absent keys become NULL; experience defaults to 0)."""
        params = {f: data.get(f) for f in PROFILE_FIELDS}
        if params["experience_years"] is None:
            params["experience_years"] = 0
        sets = ", ".join(f"{f} = :{f}" for f in PROFILE_FIELDS)
        return self.db.execute(
            f"UPDATE instructors SET {sets}, updated_at = :now WHERE id = :id",  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            {**params, "now": now, "id": instructor_id},
        ).rowcount

    def update_account(self, user_id: int, data: dict[str, Any], now: datetime) -> int:
        """Name, e-mail, phone and branch of the instructor's login account (role and status untouched)."""
        return UserDAO(self.db).update_account(
            user_id, {f: data.get(f) for f in ACCOUNT_FIELDS}, now, roles=("instructor",))

    def set_availability_notes(self, instructor_id: int, notes: str | None, now: datetime) -> int:
        return self.db.execute(
            "UPDATE instructors SET availability_notes = :notes, updated_at = :now WHERE id = :id",
            {"notes": notes, "now": now, "id": instructor_id},
        ).rowcount

    # -- unavailability windows ------------------------------------------------------------
    def unavailability(self, instructor_id: int, ending_after: datetime | None = None, limit: int = 100) -> list[dict]:
        """Windows of one instructor by start; ``ending_after`` hides windows already over."""
        return self.db.fetch_all(
            "SELECT w.id, w.instructor_id, w.start_datetime, w.end_datetime, w.reason, w.created_at"
            " FROM instructor_unavailability w WHERE w.instructor_id = :id"
            " AND (:after IS NULL OR w.end_datetime > :after)"
            " ORDER BY w.start_datetime, w.id LIMIT :limit",
            {"id": instructor_id, "after": ending_after, "limit": int(limit)},
        )

    def find_unavailability(self, instructor_id: int, window_id: int) -> dict | None:
        """A window only when it belongs to that instructor."""
        if not (valid_id(instructor_id) and valid_id(window_id)):
            return None
        return self.db.fetch_one(
            "SELECT w.id, w.instructor_id, w.start_datetime, w.end_datetime, w.reason"
            " FROM instructor_unavailability w WHERE w.id = :window_id AND w.instructor_id = :id",
            {"window_id": window_id, "id": instructor_id},
        )

    def add_unavailability(self, instructor_id: int, start: datetime, end: datetime, reason: str | None,
                           now: datetime) -> int:
        return self.db.insert("instructor_unavailability", {
            "instructor_id": instructor_id, "start_datetime": start, "end_datetime": end, "reason": reason,
            "created_at": now, "updated_at": now,
        })

    def delete_unavailability(self, instructor_id: int, window_id: int) -> int:
        if not (valid_id(instructor_id) and valid_id(window_id)):
            return 0
        return self.db.execute(
            "DELETE FROM instructor_unavailability WHERE id = :window_id AND instructor_id = :id",
            {"window_id": window_id, "id": instructor_id},
        ).rowcount

    # -- weekly working hours --------------------------------------------------------------
    def working_hours(self, instructor_id: int) -> list[dict]:
        """Rows by weekday (0 = Monday .. 6 = Sunday) and start time."""
        return self.db.fetch_all(
            "SELECT h.id, h.weekday, h.start_time, h.end_time FROM instructor_working_hours h"
            " WHERE h.instructor_id = :id ORDER BY h.weekday, h.start_time, h.id",
            {"id": instructor_id},
        )

    def replace_working_hours(self, instructor_id: int, hours: Iterable[dict], now: datetime) -> int:
        """Delete the week and insert ``hours`` ({weekday, start_time, end_time}); call inside a transaction."""
        self.db.execute("DELETE FROM instructor_working_hours WHERE instructor_id = :id", {"id": instructor_id})
        count = 0
        for row in hours:
            self.db.insert("instructor_working_hours", {
                "instructor_id": instructor_id, "weekday": int(row["weekday"]), "start_time": row["start_time"],
                "end_time": row["end_time"], "created_at": now, "updated_at": now,
            })
            count += 1
        return count
