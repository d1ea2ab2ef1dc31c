"""EnrollmentRequestDAO (PHP EnrollmentRequestModel): the request queue, one request, the decision, and
ApplicationAttemptDAO: the per-address attempts of the public application form (rate limit).

Every read an actor triggers takes a :class:`RequestScope`, part of the SQL, so a list or a look-up never
returns a row the actor may not see (admin: all; staff: requests of students of their branch; an
instructor: the requests assigned to them). The request's branch is its student's branch.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.core import localtime
from app.core.pagination import ListQuery, Page
from app.core.params import valid_id
from app.dao.base import BaseDAO, as_datetime, like_pattern, money

STATUSES = ("pending", "approved", "declined")
SORTS: dict[str, tuple[str, ...]] = {
    "submitted": ("r.created_at",),
    "preferred": ("r.preferred_date", "r.preferred_time"),
    "status": ("r.status", "r.created_at"),
}
_SEARCH_COLUMNS = ("u.first_name", "u.last_name", "u.email", "s.license_number")

_COLUMNS = (
    "r.id, r.student_id, r.course_id, r.preferred_date, r.preferred_time, r.status, r.instructor_id,"
    " r.student_notes, r.admin_notes, r.decision_by, r.decision_at, r.created_at, r.updated_at, r.enrollment_id,"
    " s.branch_id, s.user_id, s.license_number, s.date_of_birth, u.first_name, u.last_name, u.email, u.phone,"
    " c.title AS course_title, c.price AS course_price, c.lesson_count AS course_lesson_count,"
    " b.name AS branch_name, iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name"
)
_JOINS = (
    " JOIN students s ON s.id = r.student_id JOIN users u ON u.id = s.user_id"
    " JOIN courses c ON c.id = r.course_id LEFT JOIN branches b ON b.id = s.branch_id"
    " LEFT JOIN instructors i ON i.id = r.instructor_id LEFT JOIN users iu ON iu.id = i.user_id"
)


@dataclass(frozen=True)
class RequestScope:
    """Which requests an actor may see; an empty scope matches nothing (deny by default)."""

    everything: bool = False
    branch_id: int | None = None
    instructor_id: int | None = None

    def clause(self) -> tuple[str, dict[str, Any]]:
        if self.everything:
            return "1 = 1", {}
        if self.branch_id is not None:
            return "s.branch_id = :scope_branch_id", {"scope_branch_id": self.branch_id}
        if self.instructor_id is not None:
            return "r.instructor_id = :scope_instructor_id", {"scope_instructor_id": self.instructor_id}
        return "1 = 0", {}


NOTHING = RequestScope()


def _normalise(row: dict | None) -> dict | None:
    if row is not None and "course_price" in row:
        row["course_price"] = money(row["course_price"])
    if row is not None and "preferred_time" in row:
        row["preferred_time"] = as_time(row["preferred_time"])
    return row


class EnrollmentRequestDAO(BaseDAO):
    def insert(self, data: dict[str, Any], now: datetime) -> int:
        row = {
            "student_id": data["student_id"], "course_id": data["course_id"],
            "preferred_date": data.get("preferred_date"), "preferred_time": data.get("preferred_time"),
            "status": "pending", "instructor_id": data.get("instructor_id"),
            "student_notes": data.get("student_notes"), "created_at": now, "updated_at": now,
        }
        return self.db.insert("enrollment_requests", row)

    # -- reading -----------------------------------------------------------------------------
    def _where(self, query: ListQuery, scope: RequestScope) -> tuple[str, dict[str, Any]]:
        scope_sql, params = scope.clause()
        clauses = [scope_sql]
        if query.filter("status"):
            clauses.append("r.status = :f_status")
            params["f_status"] = query.filter("status")
        for name, column in (("branch", "s.branch_id"), ("course", "r.course_id")):
            if query.filter(name):
                value = query.filter_int(name)
                clauses.append(f"{column} = :f_{name}")
                params[f"f_{name}"] = value if valid_id(value) else -1
        for i, term in enumerate(query.q.split()[:5]):
            clauses.append("(" + " OR ".join(f"{c} LIKE :q{i} ESCAPE '!'" for c in _SEARCH_COLUMNS) + ")")
            params[f"q{i}"] = like_pattern(term)
        return " AND ".join(clauses), params

    def _branch_first(self) -> str:
        """The requests of a branch, its students first (db.straight_join): left to itself MariaDB reads
        every request of a status (10,000 pending at scale L) and each one's student row to test its branch;
        from the branch's students (fk_students_branch, covering) each is one probe of
        idx_request_status_student or fk_request_student (tests/explain_test.py)."""
        return f"FROM students s {self.db.straight_join} enrollment_requests r ON r.student_id = s.id"

    def _from(self, query: ListQuery, scope: RequestScope) -> str:
        """The requests, joined to their student and account only when a branch or a search needs them (the
        count, the per-status counts and the page pick then read the requests' indexes alone; a request's
        student and account always exist). With a branch, its students come first (:meth:`_branch_first`)."""
        if query.filter("branch") or scope.branch_id is not None:
            people = self._branch_first()
        elif query.q:
            people = "FROM enrollment_requests r JOIN students s ON s.id = r.student_id"
        else:
            return "FROM enrollment_requests r"
        if query.q:
            people += " JOIN users u ON u.id = s.user_id"
        return people

    def list_page(self, query: ListQuery, scope: RequestScope, total: int | None = None) -> Page:
        """One page of the queue; ``total``: the caller's exact count of the same filters (from
        :meth:`status_counts`; no count statement then)."""
        where, params = self._where(query, scope)
        from_where = self._from(query, scope) + " WHERE " + where
        joins = "JOIN enrollment_requests r ON r.id = pick.pick_id" + _JOINS
        order_by = self.order_clause(SORTS, query, "r.id")
        if total is not None:
            page = self.fetch_page_capped(from_where, _COLUMNS, joins, params, order_by, query, pick="r.id",
                                          total=total)
        else:
            page = self.fetch_page_picked(from_where, _COLUMNS, joins, params, order_by, query, pick="r.id")
        for row in page.items:
            _normalise(row)
        return page

    def status_counts(self, query: ListQuery, scope: RequestScope) -> dict[str, int]:
        """How many requests per status for the list's other filters (one aggregate)."""
        without_status = ListQuery(sort=query.sort, q=query.q,
                                   filters={k: v for k, v in query.filters.items() if k != "status"})
        where, params = self._where(without_status, scope)
        rows = self.db.fetch_all(
            "SELECT r.status, COUNT(*) AS n " + self._from(without_status, scope)
            + " WHERE " + where + " GROUP BY r.status", params)
        counts = {status: 0 for status in STATUSES}
        for row in rows:
            counts[row["status"]] = int(row["n"])
        return counts

    def pending_count(self, scope: RequestScope) -> int:
        """How many pending requests ``scope`` sees (the navigation badge on every page; one aggregate, read
        from idx_request_status_student alone: the whole school's needs no join, a request's student always
        exists)."""
        if scope.everything:
            return int(self.db.fetch_value(
                "SELECT COUNT(*) AS n FROM enrollment_requests r WHERE r.status = 'pending'") or 0)
        scope_sql, params = scope.clause()
        if scope.branch_id is not None:  # the branch's students first
            people = self._branch_first()
        else:
            people = "FROM enrollment_requests r JOIN students s ON s.id = r.student_id"
        return int(self.db.fetch_value(
            "SELECT COUNT(*) AS n " + people
            + " WHERE r.status = 'pending' AND " + scope_sql, params) or 0)

    def find_for_scope(self, request_id: int, scope: RequestScope) -> dict | None:
        if not valid_id(request_id):
            return None
        scope_sql, params = scope.clause()
        return _normalise(self.db.fetch_one(
            f"SELECT {_COLUMNS} FROM enrollment_requests r{_JOINS} WHERE r.id = :id AND {scope_sql}",  # nosec B608 # interpolates only fragments this code builds from constants, module constants; every value is a bound :parameter
            {**params, "id": request_id}))

    def lock(self, request_id: int) -> dict | None:
        """The request row read FOR UPDATE (the first statement of a decision's transaction)."""
        if not valid_id(request_id):
            return None
        return self.db.fetch_one(
            "SELECT id, student_id, course_id, status, instructor_id, preferred_date, admin_notes"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            " FROM enrollment_requests WHERE id = :id" + self.db.for_update, {"id": request_id})

    def duplicates(self, request: dict, limit: int = 10) -> list[dict]:
        """Other students with the same e-mail, licence number or name and date of birth (a hint for the
        office: people apply twice, or already study here). One UNION arm per rule, each on its own index
        (users.email, idx_students_license_number, idx_users_name): an OR across the two tables would
        read every student in id order."""
        columns = "SELECT s.id, s.branch_id, u.first_name, u.last_name, u.email, s.license_number"
        people = " FROM students s JOIN users u ON u.id = s.user_id WHERE s.id <> :sid AND "
        arms = [columns + people + "u.email = :email",
                columns + people + "s.license_number = :licence",
                columns + people + "u.last_name = :last AND u.first_name = :first AND s.date_of_birth = :dob"]
        return self.db.fetch_all(
            "SELECT d.* FROM (" + " UNION ".join(arms) + ") d ORDER BY d.id LIMIT :limit",  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            {"sid": request["student_id"], "email": request["email"], "licence": request.get("license_number"),
             "first": request["first_name"], "last": request["last_name"], "dob": request.get("date_of_birth"),
             "limit": int(limit)})

    def other_requests(self, student_id: int, request_id: int, limit: int = 10) -> list[dict]:
        return self.db.fetch_all(
            "SELECT r.id, r.status, r.created_at, c.title AS course_title FROM enrollment_requests r"
            " JOIN courses c ON c.id = r.course_id WHERE r.student_id = :sid AND r.id <> :rid"
            " ORDER BY r.id DESC LIMIT :limit", {"sid": student_id, "rid": request_id, "limit": int(limit)})

    def for_student(self, student_id: int, limit: int = 20) -> list[dict]:
        """The student's own requests, newest first (their portal: status and the decision notes)."""
        return self.db.fetch_all(
            "SELECT r.id, r.status, r.created_at, r.decision_at, r.admin_notes, c.title AS course_title"
            " FROM enrollment_requests r JOIN courses c ON c.id = r.course_id WHERE r.student_id = :sid"
            " ORDER BY r.id DESC LIMIT :limit", {"sid": student_id, "limit": int(limit)})

    # -- writing -----------------------------------------------------------------------------
    def assign(self, request_id: int, instructor_id: int | None, now: datetime) -> int:
        return self.db.execute(
            "UPDATE enrollment_requests SET instructor_id = :iid, updated_at = :now WHERE id = :id",
            {"iid": instructor_id, "now": now, "id": request_id}).rowcount

    def decide(self, request_id: int, *, status: str, instructor_id: int | None, course_id: int,
               admin_notes: str | None, decision_by: int | None, enrollment_id: int | None, now: datetime) -> int:
        """Record the decision; only a pending request changes (the caller holds its row lock)."""
        return self.db.execute(
            "UPDATE enrollment_requests SET status = :status, instructor_id = :iid, course_id = :cid,"
            " admin_notes = :notes, decision_by = :by, decision_at = :now, enrollment_id = :eid, updated_at = :now"
            " WHERE id = :id AND status = 'pending'",
            {"status": status, "iid": instructor_id, "cid": course_id, "notes": admin_notes, "by": decision_by,
             "now": now, "eid": enrollment_id, "id": request_id}).rowcount

    # -- look-ups for the application and the decision ----------------------------------------
    def licence_in_use(self, license_number: str) -> bool:
        return self.db.fetch_value(
            "SELECT id FROM students WHERE license_number = :n ORDER BY id LIMIT 1", {"n": license_number}
        ) is not None

    def set_date_of_birth(self, student_id: int, value: date | None) -> int:
        return self.db.execute("UPDATE students SET date_of_birth = :dob WHERE id = :id",
                               {"dob": value, "id": student_id}).rowcount

    def set_progress_summary(self, student_id: int, text: str, now: datetime) -> int:
        return self.db.execute("UPDATE students SET progress_summary = :t, updated_at = :now WHERE id = :id",
                               {"t": text[:255], "now": now, "id": student_id}).rowcount

    def branch_staff_user_ids(self, branch_id: int) -> list[int]:
        """Active staff accounts of a branch (they are told about a new application)."""
        rows = self.db.fetch_all(
            "SELECT id FROM users WHERE role = 'staff' AND status = 'active' AND branch_id = :b ORDER BY id",
            {"b": branch_id})
        return [int(r["id"]) for r in rows]

    def course(self, course_id: int) -> dict | None:
        if not valid_id(course_id):
            return None
        return _normalise(self.db.fetch_one(
            "SELECT id, title, price AS course_price, lesson_count, status FROM courses WHERE id = :id",
            {"id": course_id}))

    def instructor(self, instructor_id: int) -> dict | None:
        if not valid_id(instructor_id):
            return None
        return self.db.fetch_one(
            "SELECT i.id, i.user_id, i.branch_id, u.first_name, u.last_name, u.status FROM instructors i"
            " JOIN users u ON u.id = i.user_id WHERE i.id = :id", {"id": instructor_id})

    def teaches(self, course_id: int, instructor_id: int) -> bool | None:
        """True/False when the course has allocated instructors; None when it has none (anyone may)."""
        rows = self.db.fetch_all("SELECT instructor_id FROM course_instructor WHERE course_id = :c",
                                 {"c": course_id})
        if not rows:
            return None
        return any(int(r["instructor_id"]) == instructor_id for r in rows)

    def instructor_options(self, only_branch: int | None = None) -> list[dict]:
        return self.db.fetch_all(
            "SELECT i.id, i.branch_id, u.first_name, u.last_name FROM instructors i JOIN users u ON u.id = i.user_id"
            " WHERE u.status = 'active' AND (:b IS NULL OR i.branch_id = :b) ORDER BY u.last_name, u.first_name, i.id",
            {"b": only_branch})

    def course_options(self, active_only: bool = False) -> list[dict]:
        return [_normalise(r) for r in self.db.fetch_all(
            "SELECT id, title, price AS course_price, lesson_count, status FROM courses"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            + (" WHERE status = 'active'" if active_only else "") + " ORDER BY title, id")]


class ApplicationAttemptDAO(BaseDAO):
    def record(self, ip: str, now: datetime) -> int:
        return self.db.insert("application_attempts", {"ip_address": ip[:45], "attempted_at": now})

    def since(self, ip: str, since: datetime) -> dict:
        row = self.db.fetch_one(
            "SELECT COUNT(*) AS n, MIN(attempted_at) AS oldest FROM application_attempts"
            " WHERE ip_address = :ip AND attempted_at >= :since", {"ip": ip[:45], "since": since})
        return {"count": int(row["n"] or 0), "oldest": as_datetime(row["oldest"])}

    def purge_before(self, cutoff: datetime) -> int:
        return self.db.execute("DELETE FROM application_attempts WHERE attempted_at < :c", {"c": cutoff}).rowcount


as_time = localtime.as_time  # TIME from either driver (PyMySQL hands back a timedelta)
