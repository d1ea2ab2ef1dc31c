"""ProposalDAO: reschedule proposals (``reschedule_proposals``, migration 0014) on SQLite and MariaDB.

A proposal names a lesson (``schedule_id``), who proposed it, the new date and times and, optionally, a
different instructor or vehicle (NULL keeps the lesson's own). ``status`` is pending, accepted, declined,
expired or withdrawn; ``expires_at`` is naive UTC. The rules (one pending proposal per lesson, who may
answer, the conflict check on acceptance) live in services/proposals.py; this module only reads and
writes rows. Every read joins the names it shows in one statement (no per-row queries).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO

STATUSES = ("pending", "accepted", "declined", "expired", "withdrawn")
COLUMNS = ("schedule_id", "proposed_by", "proposed_date", "start_time", "end_time", "instructor_id", "vehicle_id",
           "message", "status", "expires_at", "created_at", "answered_at", "answered_by")
ANSWERED_SORTS = {"answered": ("COALESCE(p.answered_at, p.expires_at)", "p.id")}

# One proposal with its lesson (the current slot, student, branch) and every name a page shows.
_DETAIL = (
    "SELECT p.id, p.schedule_id, p.proposed_by, p.proposed_date, p.start_time, p.end_time, p.instructor_id,"
    " p.vehicle_id, p.message, p.status, p.expires_at, p.created_at, p.answered_at, p.answered_by,"
    " s.scheduled_date AS lesson_date, s.start_time AS lesson_start, s.end_time AS lesson_end,"
    " s.status AS lesson_status, s.event_type, s.instructor_id AS lesson_instructor_id,"
    " s.vehicle_id AS lesson_vehicle_id, s.branch_id, e.student_id, st.user_id AS student_user_id,"
    " st.branch_id AS student_branch_id, b.timezone AS branch_timezone, b.name AS branch_name,"
    " pu.first_name AS proposer_first_name, pu.last_name AS proposer_last_name, pu.role AS proposer_role,"
    " li.first_name AS lesson_instructor_first_name, li.last_name AS lesson_instructor_last_name,"
    " ni.first_name AS new_instructor_first_name, ni.last_name AS new_instructor_last_name,"
    " nv.name AS new_vehicle_name, nv.plate_number AS new_vehicle_plate"
    " FROM reschedule_proposals p"
    " JOIN schedules s ON s.id = p.schedule_id"
    " JOIN enrollments e ON e.id = s.enrollment_id"
    " JOIN students st ON st.id = e.student_id"
    " LEFT JOIN branches b ON b.id = s.branch_id"
    " LEFT JOIN users pu ON pu.id = p.proposed_by"
    " LEFT JOIN instructors lin ON lin.id = s.instructor_id"
    " LEFT JOIN users li ON li.id = lin.user_id"
    " LEFT JOIN instructors nin ON nin.id = p.instructor_id"
    " LEFT JOIN users ni ON ni.id = nin.user_id"
    " LEFT JOIN vehicles nv ON nv.id = p.vehicle_id"
)


class ProposalDAO(BaseDAO):
    # ------------------------------------------------------------------ writes

    def insert(self, row: Mapping[str, Any]) -> int:
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"not a proposal column: {sorted(unknown)}")
        return self.db.insert("reschedule_proposals", row)

    def lock(self, proposal_id: int) -> dict | None:
        """The proposal's row, locked (FOR UPDATE on MariaDB; SQLite's BEGIN IMMEDIATE serialises)."""
        return self.db.fetch_one(
            "SELECT id, schedule_id, status, expires_at, proposed_by FROM reschedule_proposals"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            f" WHERE id = :id{self.db.for_update}", {"id": proposal_id})

    def pending_ids(self, schedule_id: int) -> list[int]:
        """The lesson's pending proposals (at most one while the service's rule holds), locked."""
        rows = self.db.fetch_all(
            "SELECT id FROM reschedule_proposals WHERE schedule_id = :sid AND status = 'pending'"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            f" ORDER BY id{self.db.for_update}", {"sid": schedule_id})
        return [r["id"] for r in rows]

    def close(self, proposal_id: int, status: str, by_user_id: int | None, now: datetime) -> int:
        """Move a pending proposal to ``status`` (accepted, declined, withdrawn, expired), recording who and
        when; 0 when it was no longer pending."""
        if status not in STATUSES or status == "pending":
            raise ValueError(f"not a closing status: {status!r}")
        return self.db.execute(
            "UPDATE reschedule_proposals SET status = :status, answered_at = :now, answered_by = :by"
            " WHERE id = :id AND status = 'pending'",
            {"id": proposal_id, "status": status, "now": now, "by": by_user_id}).rowcount

    def withdraw_pending(self, schedule_id: int, by_user_id: int | None, now: datetime) -> int:
        """Withdraw every pending proposal of the lesson (a new proposal replaces the old one)."""
        return self.db.execute(
            "UPDATE reschedule_proposals SET status = 'withdrawn', answered_at = :now, answered_by = :by"
            " WHERE schedule_id = :sid AND status = 'pending'",
            {"sid": schedule_id, "now": now, "by": by_user_id}).rowcount

    def expire_due(self, now: datetime, limit: int = 500) -> list[int]:
        """Mark up to ``limit`` pending proposals whose ``expires_at`` is at or before ``now`` expired
        (answered_at = their expiry, nobody answered); returns their ids."""
        rows = self.db.fetch_all(
            "SELECT id FROM reschedule_proposals WHERE status = 'pending' AND expires_at <= :now"
            " ORDER BY id LIMIT :limit", {"now": now, "limit": int(limit)})
        ids = [r["id"] for r in rows]
        if ids:
            fragment, params = self.db.in_params("pid", ids)
            self.db.execute(
                "UPDATE reschedule_proposals SET status = 'expired', answered_at = expires_at, answered_by = NULL"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
                f" WHERE status = 'pending' AND expires_at <= :now AND id IN ({fragment})", {**params, "now": now})
        return ids

    # ------------------------------------------------------------------ reads

    def find(self, proposal_id: int) -> dict | None:
        """One proposal with its lesson and the names it shows (one statement)."""
        return self.db.fetch_one(_DETAIL + " WHERE p.id = :id", {"id": proposal_id})

    def pending_for_schedule(self, schedule_id: int) -> dict | None:
        """The lesson's newest pending proposal with its names, or None."""
        return self.db.fetch_one(
            _DETAIL + " WHERE p.schedule_id = :sid AND p.status = 'pending' ORDER BY p.id DESC LIMIT 1",
            {"sid": schedule_id})

    def pending_for_student(self, student_id: int, limit: int = 50) -> list[dict]:
        """The student's pending proposals (expired ones included: the service shows them as expired),
        soonest lesson first, at most ``limit``."""
        return self.db.fetch_all(
            _DETAIL + " WHERE e.student_id = :student AND p.status = 'pending'"
            " ORDER BY s.scheduled_date, s.start_time, p.id LIMIT :limit",
            {"student": student_id, "limit": int(limit)})

    def open_count_for_student(self, student_id: int, now: datetime) -> int:
        """How many of the student's proposals are open: pending, not past their expiry, lesson scheduled."""
        return int(self.db.fetch_value(
            "SELECT COUNT(*) FROM reschedule_proposals p JOIN schedules s ON s.id = p.schedule_id"
            " JOIN enrollments e ON e.id = s.enrollment_id"
            " WHERE e.student_id = :student AND p.status = 'pending' AND p.expires_at > :now"
            " AND s.status = 'scheduled'",
            {"student": student_id, "now": now}) or 0)

    def answered_for_student(self, student_id: int, query: ListQuery) -> Page:
        """The student's answered, withdrawn or expired proposals, newest first, one page."""
        where = (" FROM reschedule_proposals p JOIN schedules s ON s.id = p.schedule_id"
                 " JOIN enrollments e ON e.id = s.enrollment_id"
                 " WHERE e.student_id = :student AND p.status <> 'pending'")
        order = self.order_clause(ANSWERED_SORTS, query, "p.id")
        return self.fetch_page(
            _DETAIL + " WHERE e.student_id = :student AND p.status <> 'pending'",
            "SELECT COUNT(*) AS n" + where, {"student": student_id}, order, query)
