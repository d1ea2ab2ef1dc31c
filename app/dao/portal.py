"""PortalDAO: the reads of a student's own pages (services/portal.py): their upcoming and past lessons,
one page each with every name joined in (instructor, branch with its phone and time zone, vehicle), the
totals of their lessons in one aggregate, and one lesson of theirs for the cancel and reschedule pages.

"Upcoming" and "past" are decided by the lesson's end in its branch's zone (the event's branch, else the
student's): one cut-off per stored zone, like OutcomeDAO's awaiting list, so a lesson in progress is
still upcoming and one that ended a minute ago is past. Writes go through services/self_service.py.
"""
from __future__ import annotations

from datetime import date, time
from typing import Any, Sequence

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO

# One cut-off per stored branch time zone: (branches.timezone value, or None for "no zone / no branch",
# the local date and time it is now in that zone).
Cutoff = tuple[str | None, date, time]

UPCOMING_ORDER = "s.scheduled_date ASC, s.start_time ASC, s.id ASC"
PAST_ORDER = "s.scheduled_date DESC, s.start_time DESC, s.id DESC"

_COLUMNS = (
    "s.id, s.scheduled_date, s.start_time, s.end_time, s.status, s.event_type, s.lesson_topic,"
    " s.pickup_location, s.student_rating, s.student_feedback, s.cancel_reason, s.cancelled_at,"
    " s.instructor_id, s.vehicle_id, e.student_id, COALESCE(s.branch_id, st.branch_id) AS branch_id,"
    " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name,"
    " i.branch_id AS instructor_branch_id,"
    " b.name AS branch_name, b.phone AS branch_phone, b.timezone AS branch_timezone,"
    " v.name AS vehicle_name, v.plate_number AS vehicle_plate"
)

_FROM = (
    " FROM schedules s"
    " JOIN enrollments e ON e.id = s.enrollment_id"
    " JOIN students st ON st.id = e.student_id"
    " LEFT JOIN instructors i ON i.id = s.instructor_id"
    " LEFT JOIN users iu ON iu.id = i.user_id"
    " LEFT JOIN branches b ON b.id = COALESCE(s.branch_id, st.branch_id)"
    " LEFT JOIN vehicles v ON v.id = s.vehicle_id"
)


def _ended(cutoffs: Sequence[Cutoff], params: dict[str, Any]) -> str:
    """SQL true when the lesson has ended by its zone's cut-off (adds the cut-offs to ``params``)."""
    arms = []
    for n, (zone, day, moment) in enumerate(cutoffs):
        match = "b.timezone IS NULL" if zone is None else f"b.timezone = :zone_{n}"
        if zone is not None:
            params[f"zone_{n}"] = zone
        params[f"day_{n}"], params[f"time_{n}"] = day, moment
        arms.append(f"({match} AND (s.scheduled_date < :day_{n}"
                    f" OR (s.scheduled_date = :day_{n} AND s.end_time <= :time_{n})))")
    return f"({' OR '.join(arms) or '1 = 0'})"


class PortalDAO(BaseDAO):
    def branch_zones(self) -> list[str]:
        """Every distinct time zone value stored on a branch (one cut-off each)."""
        rows = self.db.fetch_all("SELECT DISTINCT timezone FROM branches WHERE timezone IS NOT NULL")
        return sorted(r["timezone"] for r in rows)

    def lessons_page(self, student_id: int, query: ListQuery, cutoffs: Sequence[Cutoff], *,
                     upcoming: bool) -> Page:
        """One page of the student's lessons, exams and assessments (every status): those not ended yet,
        soonest first (``upcoming``), or those ended, latest first. A COUNT and one SELECT."""
        params: dict[str, Any] = {"student_id": student_id}
        ended = _ended(cutoffs, params)
        where = f" WHERE e.student_id = :student_id AND {'NOT ' if upcoming else ''}{ended}"
        select = f"SELECT {_COLUMNS}{_FROM}{where}"
        count = f"SELECT COUNT(*) AS n{_FROM}{where}"
        return self.fetch_page(select, count, params, UPCOMING_ORDER if upcoming else PAST_ORDER, query)

    def totals(self, student_id: int, cutoffs: Sequence[Cutoff]) -> dict:
        """The student's lesson totals in one aggregate: ``upcoming`` (scheduled, not ended),
        ``completed``, ``not_completed``, ``no_show``, ``cancelled``, ``rated`` and ``rating_sum``."""
        params: dict[str, Any] = {"student_id": student_id}
        ended = _ended(cutoffs, params)
        row = self.db.fetch_one(
            "SELECT"
            f" SUM(CASE WHEN s.status = 'scheduled' AND NOT {ended} THEN 1 ELSE 0 END) AS upcoming,"
            " SUM(CASE WHEN s.status = 'completed' THEN 1 ELSE 0 END) AS completed,"
            " SUM(CASE WHEN s.status = 'not_completed' THEN 1 ELSE 0 END) AS not_completed,"
            " SUM(CASE WHEN s.status = 'no_show' THEN 1 ELSE 0 END) AS no_show,"
            " SUM(CASE WHEN s.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,"
            " SUM(CASE WHEN s.student_rating IS NOT NULL THEN 1 ELSE 0 END) AS rated,"
            " SUM(COALESCE(s.student_rating, 0)) AS rating_sum"
            f"{_FROM} WHERE e.student_id = :student_id",
            params,
        ) or {}
        return {k: int(row.get(k) or 0) for k in ("upcoming", "completed", "not_completed", "no_show", "cancelled",
                                                   "rated", "rating_sum")}

    def lesson(self, schedule_id: int) -> dict | None:
        """One lesson with the same columns as the lists (``student_id`` tells whose it is); None when
        there is no such event."""
        return self.db.fetch_one(f"SELECT {_COLUMNS}{_FROM} WHERE s.id = :id", {"id": schedule_id})
