"""StudentDAO (PHP StudentModel): student profiles, the CRM list and the profile page's reads.

Every read that an actor triggers takes a :class:`StudentScope`, and the scope is part of
the SQL (``WHERE ... AND <scope>``), so a list or a look-up never returns a row the actor
may not see. The profile reads (enrolments, lessons, invoices, communications, payments,
audit rows) take a student id that the caller has already resolved through
:meth:`StudentDAO.find_for_scope`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.core.pagination import ListQuery, Page
from app.core.params import valid_id
from app.dao.base import BaseDAO, escape_like, like_pattern, money, profile_ids
from app.dao.user import UserDAO

LICENSE_STATUSES = ("Learner", "P1", "P2", "Full")
ACCOUNT_STATUSES = ("active", "archived")
ACTIVE_ENROLLMENT_STATUSES = ("active", "in_progress")
# accounts.unusable_password_hash() starts with this: the account was never activated.
UNSET_PASSWORD_PREFIX = "!unset!"

PROFILE_FIELDS = (
    "branch_id", "license_number", "license_status", "license_expiry", "emergency_contact_name",
    "emergency_contact_phone", "address_line", "city", "postcode", "progress_summary",
)
_STUDENT_COLUMNS = "s.id, s.user_id, " + ", ".join(f"s.{f}" for f in PROFILE_FIELDS) + ", s.created_at, s.updated_at"
_USER_COLUMNS = (
    "u.first_name, u.last_name, u.email, u.phone, u.status AS account_status, u.last_login_at,"
    " u.branch_id AS user_branch_id"
)

# Sort key -> ORDER BY expressions (each gets the direction); s.id breaks ties, except that the name
# order ends on u.id, so it follows idx_users_name to the end (BaseDAO.order_clause adds no tiebreak then).
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("u.last_name", "u.first_name", "u.id"),
    "branch": ("b.name",),
    "license_expiry": ("s.license_expiry",),
    "created": ("s.created_at",),
}
MAX_SEARCH_TERMS = 5
_SEARCH_COLUMNS = ("u.first_name", "u.last_name", "u.email", "u.phone", "s.license_number")
# School-wide search: prefixes of indexed columns (idx_users_name, idx_users_first_name, email, idx_users_phone).
_PREFIX_COLUMNS = ("u.last_name", "u.first_name", "u.email", "u.phone")
COUNT_CAP = 10_000  # the list counts at most this many students ("10,000+"); filters narrow


@dataclass(frozen=True)
class StudentScope:
    """Which students an actor may see. Built by services.students.scope_for(actor).

    Exactly one of the fields is meant to be set; an empty scope matches nothing (deny by default).
    """

    everything: bool = False
    branch_id: int | None = None
    instructor_id: int | None = None
    student_id: int | None = None

    def clause(self, alias: str = "s") -> tuple[str, dict[str, Any]]:
        """SQL predicate on the students row ``alias`` plus its parameters."""
        if self.everything:
            return "1 = 1", {}
        if self.branch_id is not None:
            return f"{alias}.branch_id = :scope_branch_id", {"scope_branch_id": self.branch_id}
        if self.student_id is not None:
            return f"{alias}.id = :scope_student_id", {"scope_student_id": self.student_id}
        if self.instructor_id is not None:
            # The instructor's students as one set (their lessons through idx_schedule_instructor_enrolment,
            # their assigned requests), materialised once and joined to the students by id: never an
            # EXISTS per student of the school (issue 13: 200,000 students x their lessons).
            return (
                f"{alias}.id IN (SELECT scope_m.student_id FROM ("  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                "SELECT scope_e.student_id FROM schedules scope_sc"
                " JOIN enrollments scope_e ON scope_e.id = scope_sc.enrollment_id"
                " WHERE scope_sc.instructor_id = :scope_instructor_id"
                " UNION SELECT scope_r.student_id FROM enrollment_requests scope_r"
                " WHERE scope_r.instructor_id = :scope_instructor_id) scope_m)",
                {"scope_instructor_id": self.instructor_id},
            )
        return "1 = 0", {}


NOTHING = StudentScope()


class StudentDAO(BaseDAO):
    def id_for_user(self, user_id: int) -> int | None:
        return self.db.fetch_value(
            "SELECT id FROM students WHERE user_id = :user_id ORDER BY id LIMIT 1", {"user_id": user_id}
        )

    # -- the CRM list --------------------------------------------------------------------
    def list_page(self, query: ListQuery, scope: StudentScope) -> Page:
        """One page of students in ``scope``: search, filters (branch, license_status, course, status),
        sort and the active-enrolment count, in two statements."""
        scope_sql, params = scope.clause("s")
        clauses = [scope_sql]
        terms = query.q.split()[:MAX_SEARCH_TERMS]
        prefix = self.prefix_search(query, scope)
        for i, term in enumerate(terms):
            name = f"q{i}"
            if prefix:  # the whole school: the start of a name, e-mail or phone, through their indexes
                clauses.append("(" + " OR ".join(f"{c} LIKE :{name} ESCAPE '!'" for c in _PREFIX_COLUMNS) + ")")
                params[name] = escape_like(term) + "%"
            else:
                clauses.append("(" + " OR ".join(f"{c} LIKE :{name} ESCAPE '!'" for c in _SEARCH_COLUMNS) + ")")
                params[name] = like_pattern(term)
        branch = query.filter_int("branch")
        if query.filter("branch"):
            clauses.append("s.branch_id = :f_branch")
            params["f_branch"] = branch if valid_id(branch) else -1
        status = query.filter("license_status")
        if status:
            clauses.append("s.license_status = :f_license_status")
            params["f_license_status"] = status
        course = query.filter_int("course")
        if query.filter("course"):
            clauses.append("EXISTS (SELECT 1 FROM enrollments fe WHERE fe.student_id = s.id AND fe.course_id = :f_course)")
            params["f_course"] = course if valid_id(course) else -1
        enrolment = query.filter("enrolment")
        if enrolment:  # the dashboard's pipeline: an active (or in progress) enrolment, or a completed one
            # a count per student (idx_enrollments_student_status), not EXISTS: MariaDB turns an EXISTS into a
            # semi-join that first reads every enrolment of the chain (30 ms at scale L) before a page of 25
            clauses.append("(SELECT COUNT(*) FROM enrollments ee WHERE ee.student_id = s.id AND ee.status IN ("  # nosec B608 # the filter only chooses between two constant status lists; no request text reaches the SQL
                           + ("'active', 'in_progress'" if enrolment == "active" else "'completed'") + ")) > 0")
        account = query.filter("status")
        if account:
            clauses.append("u.status = :f_status")
            params["f_status"] = account
        users = self.users_table(prefix)
        from_where = (
            f"FROM students s JOIN {users} ON u.id = s.user_id"
            + (" LEFT JOIN branches b ON b.id = s.branch_id" if query.sort == "branch" else "")
            + " WHERE " + " AND ".join(clauses)
        )
        columns = (
            f"{_STUDENT_COLUMNS}, {_USER_COLUMNS}, b.name AS branch_name,"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " (SELECT COUNT(*) FROM enrollments ae WHERE ae.student_id = s.id"
            "  AND ae.status IN ('active', 'in_progress')) AS active_enrollments"
        )
        joins = ("JOIN students s ON s.id = pick.pick_id JOIN users u ON u.id = s.user_id"
                 " LEFT JOIN branches b ON b.id = s.branch_id")
        # the whole chain's students (the list as it opens) or learners (the dashboard's pipeline link):
        # when the summary already counts far more than the cap, the list says "10,000+" without counting
        # 10,001 students one by one
        over = (enrolment in ("", "active") and scope.everything and not terms and not query.filter("branch")
                and not status and not query.filter("course") and account in (None, "", "active")
                and self._far_over("learning_students" if enrolment else "active_students", COUNT_CAP))
        page = self.fetch_page_capped(from_where, columns, joins, params,
                                      self.order_clause(SORTS, query, "s.id"), query, cap=COUNT_CAP,
                                      over_cap=over)
        for row in page.items:
            row["active_enrollments"] = int(row["active_enrollments"] or 0)
        return page

    def _far_over(self, column: str, cap: int) -> bool:
        """Whether stat_branch_totals (flask refresh-stats, every 15 minutes) counts over ``cap`` x 1.1
        students in ``column``: ``active_students`` (active accounts) or ``learning_students`` (of them,
        those with an active enrolment), a lower bound of the list's matches (any account status counts
        there), with room for what changed since the refresh. Never refreshed: False (count)."""
        if column not in ("active_students", "learning_students"):
            raise ValueError(column)
        found = self.db.fetch_value(f"SELECT SUM({column}) AS n FROM stat_branch_totals")  # nosec B608 # one of two column names checked above
        return found is not None and int(found) > cap * 11 // 10

    @staticmethod
    def prefix_search(query: ListQuery, scope: StudentScope) -> bool:
        """A search over the whole school (admin, no branch chosen) matches the START of the first name,
        last name, e-mail or phone (indexed: a contains-search reads every one of 200,000 students at L);
        within one branch (staff, or a branch filter) or an instructor's students it matches anywhere in
        those and the licence number."""
        return bool(query.q.strip()) and scope.everything and not query.filter("branch")

    def course_options(self) -> list[dict]:
        """(id, title) of every course, for the list's course filter."""
        return self.db.fetch_all("SELECT id, title FROM courses ORDER BY title, id")

    # -- one student ---------------------------------------------------------------------
    def find_for_scope(self, student_id: int, scope: StudentScope) -> dict | None:
        """The student with account and branch name, or None when missing or outside ``scope``."""
        if not valid_id(student_id):
            return None
        scope_sql, params = scope.clause("s")
        row = self.db.fetch_one(
            f"SELECT {_STUDENT_COLUMNS}, {_USER_COLUMNS}, b.name AS branch_name,"  # nosec B608 # interpolates only fragments this code builds from constants, module constants; every value is a bound :parameter
            f" CASE WHEN SUBSTR(u.password_hash, 1, {len(UNSET_PASSWORD_PREFIX)}) = :unset THEN 0 ELSE 1 END"
            " AS activated"
            " FROM students s JOIN users u ON u.id = s.user_id LEFT JOIN branches b ON b.id = s.branch_id"
            f" WHERE s.id = :id AND {scope_sql}",
            {**params, "id": student_id, "unset": UNSET_PASSWORD_PREFIX},
        )
        if row is not None:
            row["activated"] = bool(int(row["activated"]))
        return row

    def insert(self, user_id: int, data: dict[str, Any], now: datetime) -> int:
        row = {f: data.get(f) for f in PROFILE_FIELDS}
        return self.db.insert("students", {"user_id": user_id, **row, "created_at": now, "updated_at": now})

    def update(self, student_id: int, data: dict[str, Any], now: datetime) -> int:
        """Write every profile field (missing keys become NULL)."""
        sets = ", ".join(f"{f} = :{f}" for f in PROFILE_FIELDS)
        params = {f: data.get(f) for f in PROFILE_FIELDS}
        return self.db.execute(
            f"UPDATE students SET {sets}, updated_at = :now WHERE id = :id", {**params, "now": now, "id": student_id}  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
        ).rowcount

    def update_account(self, user_id: int, first_name: str, last_name: str, phone: str | None,
                       branch_id: int | None, now: datetime) -> int:
        """The student's users row: name, phone and branch (the e-mail and role never change here)."""
        return UserDAO(self.db).update_account(
            user_id, {"first_name": first_name, "last_name": last_name, "phone": phone, "branch_id": branch_id},
            now, roles=("student",))

    # -- profile page reads (student already resolved through find_for_scope) -------------
    def enrollments(self, student_id: int, limit: int = 50) -> list[dict]:
        """The student's enrolments; ``progress_percentage`` is derived from the completed lessons over
        the course's lesson count (services/enrollments.progress's rule), not the stored column."""
        rows = self.db.fetch_all(
            "SELECT e.id, e.course_id, c.title AS course_title, e.start_date, e.status, c.lesson_count,"
            " (SELECT COUNT(*) FROM schedules s WHERE s.enrollment_id = e.id AND s.status = 'completed'"
            "  AND (s.event_type IS NULL OR s.event_type = 'lesson')) AS completed_lessons"
            " FROM enrollments e JOIN courses c ON c.id = e.course_id"
            " WHERE e.student_id = :sid ORDER BY e.start_date DESC, e.id DESC LIMIT :limit",
            {"sid": student_id, "limit": int(limit)},
        )
        for row in rows:
            count, done = int(row.pop("lesson_count") or 0), int(row["completed_lessons"] or 0)
            row["progress_percentage"] = min(100, 100 * done // count) if count > 0 else 0
        return rows

    _LESSON_SELECT = (
        "SELECT sc.id, sc.enrollment_id, sc.event_type, sc.scheduled_date, sc.start_time, sc.end_time, sc.status,"
        " sc.student_rating, sc.lesson_topic, c.title AS course_title, sc.instructor_id, e.course_id,"
        " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name"
        " FROM schedules sc"
        " JOIN enrollments e ON e.id = sc.enrollment_id"
        " JOIN courses c ON c.id = e.course_id"
        " JOIN instructors i ON i.id = sc.instructor_id"
        " JOIN users iu ON iu.id = i.user_id"
        " WHERE e.student_id = :sid"
    )

    def upcoming_lessons(self, student_id: int, today: date, limit: int = 20) -> list[dict]:
        """Still-scheduled lessons from today on, soonest first."""
        return self.db.fetch_all(
            self._LESSON_SELECT + " AND sc.status = 'scheduled' AND sc.scheduled_date >= :today"
            " ORDER BY sc.scheduled_date, sc.start_time, sc.id LIMIT :limit",
            {"sid": student_id, "today": today, "limit": int(limit)},
        )

    def past_lessons(self, student_id: int, today: date, limit: int = 20) -> list[dict]:
        """Everything else (before today, or already completed/cancelled/not completed), newest first."""
        return self.db.fetch_all(
            self._LESSON_SELECT + " AND (sc.scheduled_date < :today OR sc.status <> 'scheduled')"
            " ORDER BY sc.scheduled_date DESC, sc.start_time DESC, sc.id DESC LIMIT :limit",
            {"sid": student_id, "today": today, "limit": int(limit)},
        )

    def invoices(self, student_id: int, limit: int = 50) -> list[dict]:
        """The student's invoices with paid and balance due: one statement, payments summed in a subquery."""
        rows = self.db.fetch_all(
            "SELECT i.id, i.enrollment_id, i.invoice_number, i.issue_date, i.due_date, i.total, i.status,"
            " c.title AS course_title, e.course_id, COALESCE(p.paid, 0) AS paid"
            " FROM invoices i"
            " JOIN enrollments e ON e.id = i.enrollment_id"
            " JOIN courses c ON c.id = e.course_id"
            " LEFT JOIN (SELECT pp.invoice_id, SUM(pp.amount) AS paid FROM payments pp"
            "   JOIN invoices pi ON pi.id = pp.invoice_id"
            "   JOIN enrollments pe ON pe.id = pi.enrollment_id"
            "   WHERE pe.student_id = :sid GROUP BY pp.invoice_id) p ON p.invoice_id = i.id"
            " WHERE e.student_id = :sid"
            " ORDER BY i.issue_date DESC, i.id DESC LIMIT :limit",
            {"sid": student_id, "limit": int(limit)},
        )
        for row in rows:
            row["total"] = money(row["total"])
            row["paid"] = money(row["paid"])
            row["balance_due"] = row["total"] - row["paid"]
        return rows

    def invoice_totals(self, student_id: int) -> dict:
        """Over ALL the student's invoices (never a display page): how many, and the balance due
        (each invoice's total less its payments, counting only invoices that still owe money)."""
        row = self.db.fetch_one(
            "SELECT COUNT(*) AS invoices,"
            " SUM(CASE WHEN i.total - COALESCE(p.paid, 0) > 0 THEN i.total - COALESCE(p.paid, 0) ELSE 0 END)"
            " AS balance_due"
            " FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
            " LEFT JOIN (SELECT pp.invoice_id, SUM(pp.amount) AS paid FROM payments pp"
            "   JOIN invoices pi ON pi.id = pp.invoice_id JOIN enrollments pe ON pe.id = pi.enrollment_id"
            "   WHERE pe.student_id = :sid GROUP BY pp.invoice_id) p ON p.invoice_id = i.id"
            " WHERE e.student_id = :sid",
            {"sid": student_id},
        ) or {}
        return {"invoices": int(row.get("invoices") or 0), "balance_due": money(row.get("balance_due"))}

    def payments(self, student_id: int, limit: int = 20) -> list[dict]:
        """Payments on the student's invoices, newest first."""
        rows = self.db.fetch_all(
            "SELECT p.id, p.invoice_id, p.amount, p.payment_date, p.method, p.reference, p.created_at,"
            " i.invoice_number"
            " FROM payments p JOIN invoices i ON i.id = p.invoice_id JOIN enrollments e ON e.id = i.enrollment_id"
            " WHERE e.student_id = :sid ORDER BY p.payment_date DESC, p.id DESC LIMIT :limit",
            {"sid": student_id, "limit": int(limit)},
        )
        for row in rows:
            row["amount"] = money(row["amount"])
        return rows

    def communications(self, user_id: int, limit: int = 20) -> list[dict]:
        """Messages the student's account received (communication_recipients), newest first."""
        return self.db.fetch_all(
            "SELECT DISTINCT c.id, c.channel, c.subject, c.message, c.audience_scope, c.created_at,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            f" su.first_name AS sender_first_name, su.last_name AS sender_last_name, {profile_ids('su', 'sender')}"
            " FROM communication_recipients cr"
            " JOIN communications c ON c.id = cr.communication_id"
            " LEFT JOIN users su ON su.id = c.sender_user_id"
            " WHERE cr.user_id = :uid ORDER BY c.created_at DESC, c.id DESC LIMIT :limit",
            {"uid": user_id, "limit": int(limit)},
        )

    def audit_rows(self, student_id: int, user_id: int, document_tag: str, limit: int = 20) -> list[dict]:
        """Audit rows about the student, their account (archive/restore/activation, not sign-ins) and
        their documents, newest first.

        Document rows are matched by ``document_tag`` at the end of their details (the document
        service writes it), so rows about deleted documents are still found."""
        return self.db.fetch_all(
            "SELECT a.id, a.action, a.entity_type, a.entity_id, a.details, a.created_at, a.actor_role,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            f" au.first_name AS actor_first_name, au.last_name AS actor_last_name, {profile_ids('au', 'actor')}"
            " FROM audit_trail a LEFT JOIN users au ON au.id = a.user_id"
            " WHERE (a.entity_type = 'student' AND a.entity_id = :sid)"
            " OR (a.entity_type = 'user' AND a.entity_id = :uid AND a.action IN"
            "  ('user_archived', 'user_restored', 'activation_link_issued', 'account_activated'))"
            " OR (a.entity_type = 'document' AND a.details LIKE :doc_tag ESCAPE '!')"
            " ORDER BY a.created_at DESC, a.id DESC LIMIT :limit",
            {"sid": student_id, "uid": user_id, "doc_tag": "%" + escape_like(document_tag),
             "limit": int(limit)},
        )
