"""CommunicationDAO: broadcasts (communications), their recipients (communication_recipients) and the
audiences they go to. The rules live in app/services/communications.py; this module only reads and writes.

An audience is a WHERE clause on ``users u`` (``audience_clause``): active accounts only, one row per user
by construction (every segment is an EXISTS on users, never a join that could repeat a user), limited to a
branch when one is given. A user's branch is the account's (kept equal to the profile's by the services),
else, for a PHP-era account without one, the branch of its student, instructor or staff profile.

Per-recipient delivery is the reminders row (related_type 'communication', related_id the communication,
recipient_user_id the user) the dispatcher works through; ``delivery_counts`` and ``deliveries`` read
those rows in one query per page.
"""
from __future__ import annotations

from typing import Any, Iterable

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, profile_ids

SORTS: dict[str, tuple[str, ...]] = {"date": ("c.created_at", "c.id")}
RECIPIENT_SORTS: dict[str, tuple[str, ...]] = {"name": ("u.last_name", "u.first_name", "u.id")}
ENROLMENT_STATUSES = ("active", "in_progress", "completed", "cancelled")
ROLES = ("student", "instructor", "staff", "admin")
CHUNK = 500
# The branch a broadcast belongs to (staff scope): its own; a PHP-era one (no segment, no branch) its sender's.
SCOPE_BRANCH = "COALESCE(c.branch_id, CASE WHEN c.segment IS NULL THEN su.branch_id END)"

_IN_BRANCH = (
    "(u.branch_id = :aud_branch OR (u.branch_id IS NULL AND ("
    "EXISTS (SELECT 1 FROM students xs WHERE xs.user_id = u.id AND xs.branch_id = :aud_branch)"
    " OR EXISTS (SELECT 1 FROM instructors xi WHERE xi.user_id = u.id AND xi.branch_id = :aud_branch)"
    " OR EXISTS (SELECT 1 FROM staff_profiles xp WHERE xp.user_id = u.id AND xp.branch_id = :aud_branch))))"
)
_ENROLLED = ("u.role = 'student' AND EXISTS (SELECT 1 FROM students xe JOIN enrollments e ON e.student_id = xe.id"
             " WHERE xe.user_id = u.id AND {test})")


def audience_clause(segment: str, value: Any, branch_id: int | None) -> tuple[str, dict[str, Any]]:
    """The WHERE text (on ``users u``) and parameters of one audience. ``segment`` and ``value`` are
    already checked by the service; ``branch_id`` None means every branch."""
    parts, params = ["u.status = 'active'"], {}
    if segment == "role":
        parts.append("u.role = :aud_role")
        params["aud_role"] = value
    elif segment == "course":
        parts.append(_ENROLLED.format(test="e.course_id = :aud_course"))
        params["aud_course"] = value
    elif segment == "enrolment_status":
        parts.append(_ENROLLED.format(test="e.status = :aud_status"))
        params["aud_status"] = value
    elif segment not in ("everyone", "branch"):
        raise ValueError(f"unknown segment {segment!r}")
    if branch_id is not None:
        parts.append(_IN_BRANCH)
        params["aud_branch"] = branch_id
    return " AND ".join(parts), params


class CommunicationDAO(BaseDAO):
    # ------------------------------------------------------------------ audiences

    def audience_summary(self, where: str, params: dict[str, Any], channel: str) -> dict:
        """One aggregate over the audience: how many, how many have no address for ``channel`` and how
        many opted out of it (contact_preferences)."""
        address = {"email": "u.email", "sms": "u.phone"}.get(channel)
        opt_out = {"email": "cp.email_opt_out", "sms": "cp.sms_opt_out", "in-app": "cp.in_app_opt_out"}[channel]
        missing = f"SUM(CASE WHEN {address} IS NULL OR TRIM({address}) = '' THEN 1 ELSE 0 END)" if address else "0"
        row = self.db.fetch_one(
            f"SELECT COUNT(*) AS total, COALESCE({missing}, 0) AS no_address,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            f" COALESCE(SUM(CASE WHEN {opt_out} = 1 THEN 1 ELSE 0 END), 0) AS opted_out"
            f" FROM users u LEFT JOIN contact_preferences cp ON cp.user_id = u.id WHERE {where}", params) or {}
        return {key: int(row.get(key) or 0) for key in ("total", "no_address", "opted_out")}

    def audience_sample(self, where: str, params: dict[str, Any], limit: int = 8) -> list[dict]:
        """The first few people of the audience by name."""
        return self.db.fetch_all(
            f"SELECT u.id, u.first_name, u.last_name, u.role FROM users u WHERE {where}"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " ORDER BY u.last_name, u.first_name, u.id LIMIT :sample_limit", {**params, "sample_limit": limit})

    def audience_ids(self, where: str, params: dict[str, Any]) -> list[int]:
        """Every user id of the audience, in one query (each user once)."""
        rows = self.db.fetch_all(f"SELECT u.id FROM users u WHERE {where} ORDER BY u.id", params)  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
        return [int(r["id"]) for r in rows]

    def course_options(self) -> list[dict]:
        return self.db.fetch_all("SELECT id, title, status FROM courses ORDER BY title, id")

    def course_titles(self, course_ids: list[int]) -> dict[str, str]:
        """{str(id): title} of these courses, one query."""
        if not course_ids:
            return {}
        marks, params = self.db.in_params("course", course_ids)
        return {str(r["id"]): r["title"] for r in
                self.db.fetch_all(f"SELECT id, title FROM courses WHERE id IN ({marks})", params)}  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter

    def course_title(self, course_id: int) -> str | None:
        return self.db.fetch_value("SELECT title FROM courses WHERE id = :id", {"id": course_id})

    def branch_name(self, branch_id: int) -> str | None:
        return self.db.fetch_value("SELECT name FROM branches WHERE id = :id", {"id": branch_id})

    # ------------------------------------------------------------------ writes

    def insert(self, row: dict[str, Any]) -> int:
        return self.db.insert("communications", row)

    def insert_recipients(self, communication_id: int, user_ids: Iterable[int]) -> int:
        """One communication_recipients row per user, in multi-row INSERTs of 500."""
        return self.db.insert_many("communication_recipients",
                                   ({"communication_id": communication_id, "user_id": u} for u in user_ids),
                                   chunk=CHUNK)

    # ------------------------------------------------------------------ reads

    _COLUMNS = (
        "c.id, c.sender_user_id, c.audience_scope, c.channel, c.subject, c.message, c.created_at, c.branch_id,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params, module constants; every value is a bound :parameter
        " c.segment, c.segment_value, c.recipient_count, b.name AS branch_name,"
        f" {SCOPE_BRANCH} AS scope_branch_id,"
        " su.first_name AS sender_first_name, su.last_name AS sender_last_name,"
        " (SELECT COUNT(*) FROM communication_recipients rc WHERE rc.communication_id = c.id) AS recorded_recipients, "
        + profile_ids("su", "sender")
    )
    _JOINS = " LEFT JOIN branches b ON b.id = c.branch_id LEFT JOIN users su ON su.id = c.sender_user_id"

    def page(self, query: ListQuery, branch_id: int | None) -> Page:
        """Broadcasts newest first; ``branch_id`` limits to that branch's (staff scope, SCOPE_BRANCH)."""
        where, params = "", {}
        if branch_id is not None:
            where = ("WHERE (c.branch_id = :branch_id OR (c.branch_id IS NULL AND c.segment IS NULL AND c.sender_user_id"
                     " IN (SELECT sb.id FROM users sb WHERE sb.branch_id = :branch_id)))")
            params = {"branch_id": branch_id}
        return self.fetch_page_picked(
            f"FROM communications c {where}", self._COLUMNS,
            f"JOIN communications c ON c.id = pick.pick_id{self._JOINS}", params,
            self.order_clause(SORTS, query, "c.id"), query, pick="c.id")

    def find(self, communication_id: int) -> dict | None:
        return self.db.fetch_one(f"SELECT {self._COLUMNS} FROM communications c{self._JOINS} WHERE c.id = :id",  # nosec B608 # interpolates only module constants; every value is a bound :parameter
                                 {"id": communication_id})

    def delivery_counts(self, communication_ids: list[int]) -> dict[int, dict[str, int]]:
        """{communication id: {reminder status: count}} for the given broadcasts, one aggregate query."""
        if not communication_ids:
            return {}
        marks, params = self.db.in_params("cid", communication_ids)
        rows = self.db.fetch_all(
            "SELECT related_id, status, COUNT(*) AS total FROM reminders"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            f" WHERE related_type = 'communication' AND related_id IN ({marks})"
            " GROUP BY related_id, status", params)
        counts: dict[int, dict[str, int]] = {int(i): {} for i in communication_ids}
        for r in rows:
            counts.setdefault(int(r["related_id"]), {})[r["status"] or "pending"] = int(r["total"])
        return counts

    def recipients_page(self, communication_id: int, query: ListQuery, status: str | None = None) -> Page:
        """The broadcast's recipients by name with their profile ids; ``status`` keeps those whose
        reminder has that status."""
        where = "WHERE cr.communication_id = :cid"
        params: dict[str, Any] = {"cid": communication_id}
        if status:
            where += (" AND cr.user_id IN (SELECT rs.recipient_user_id FROM reminders rs WHERE"
                      " rs.related_type = 'communication' AND rs.related_id = :cid AND rs.status = :status)")
            params["status"] = status
        columns = ("cr.id AS recipient_id, u.id AS user_id, u.first_name, u.last_name, u.role, u.status AS account_status,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
                   " u.branch_id, (SELECT MIN(ps.id) FROM students ps WHERE ps.user_id = u.id) AS student_id, "
                   + profile_ids("u", "user"))
        return self.fetch_page_picked(
            f"FROM communication_recipients cr JOIN users u ON u.id = cr.user_id {where}", columns,
            "JOIN communication_recipients cr ON cr.id = pick.pick_id JOIN users u ON u.id = cr.user_id",
            params, self.order_clause(RECIPIENT_SORTS, query, "cr.id"), query, pick="cr.id")

    def deliveries(self, communication_id: int, user_ids: list[int]) -> dict[int, dict]:
        """{user id: the reminders row} of these recipients of the broadcast, one query."""
        if not user_ids:
            return {}
        marks, params = self.db.in_params("uid", user_ids)
        rows = self.db.fetch_all(
            "SELECT id, recipient_user_id, status, channel, delivery_channel, sent_at, last_error, attempts"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            " FROM reminders WHERE related_type = 'communication' AND related_id = :cid"
            f" AND recipient_user_id IN ({marks}) ORDER BY id", {**params, "cid": communication_id})
        return {int(r["recipient_user_id"]): r for r in rows}
