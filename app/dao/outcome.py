"""OutcomeDAO: the SQL of lesson outcomes (services/outcomes.py).

One event with every name its outcome page shows, the event's row locked for recording, the outcome
write itself (conditional on the status the service read, so a concurrent change writes nothing), and
the paginated "awaiting an outcome" list (past events still ``scheduled``) with student, instructor
and branch names joined in the list query. Reminders are withdrawn through BookingDAO.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Sequence

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, like_pattern

# Sort keys of the awaiting list: the most recent lessons first by default (services/outcomes.py).
AWAITING_SORTS = {
    "date": ("s.scheduled_date", "s.start_time", "s.branch_id"),  # idx_schedule_status_date's order (ids last)
    "student": ("su.last_name", "su.first_name"),
    "instructor": ("iu.last_name", "iu.first_name"),
}

_EVENT_COLUMNS = (
    "s.id, s.enrollment_id, s.instructor_id, s.vehicle_id, s.branch_id, s.event_type, s.scheduled_date,"
    " s.start_time, s.end_time, s.status, s.student_rating, s.student_feedback, s.notes, s.lesson_topic,"
    " s.pickup_location, s.completion_marked_by, s.completion_marked_at, s.cancelled_at, s.cancelled_by,"
    " s.cancel_reason,"
    " e.student_id, e.course_id, st.branch_id AS student_branch_id, st.user_id AS student_user_id,"
    " su.first_name AS student_first_name, su.last_name AS student_last_name,"
    " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name,"
    " mu.first_name AS marked_by_first_name, mu.last_name AS marked_by_last_name,"
    " b.name AS branch_name, b.timezone AS branch_timezone, v.name AS vehicle_name, c.title AS course_title"
)

# The lists' joins: student (and their account) through the enrolment, the instructor's account, the
# event's branch (its time zone decides "past").
_LIST_FROM = (
    " FROM schedules s"
    " JOIN enrollments e ON e.id = s.enrollment_id"
    " JOIN students st ON st.id = e.student_id"
    " JOIN users su ON su.id = st.user_id"
    " JOIN instructors i ON i.id = s.instructor_id"
    " JOIN users iu ON iu.id = i.user_id"
    " LEFT JOIN branches b ON b.id = s.branch_id"
)

# One cut-off per stored branch time zone: (branches.timezone value or None for "no zone / no branch",
# the local date and time it is now in that zone).
Cutoff = tuple[str | None, date, time]


AWAITING_COUNT_CAP = 1_000  # the awaiting list counts this many at most (a total above it means "1,000+", as the
# dashboard's figure does: counting 10,001 rows of the chain's backlog was most of the page, 64 ms at scale L)


class OutcomeDAO(BaseDAO):
    # ------------------------------------------------------------------ one event

    def find_event(self, schedule_id: int) -> dict | None:
        """The event with its student, instructor, branch (name, zone), vehicle, course and the name of
        whoever marked its outcome: one statement."""
        return self.db.fetch_one(
            f"SELECT {_EVENT_COLUMNS}"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " FROM schedules s"
            " JOIN enrollments e ON e.id = s.enrollment_id"
            " JOIN students st ON st.id = e.student_id"
            " JOIN users su ON su.id = st.user_id"
            " LEFT JOIN instructors i ON i.id = s.instructor_id"
            " LEFT JOIN users iu ON iu.id = i.user_id"
            " LEFT JOIN users mu ON mu.id = s.completion_marked_by"
            " LEFT JOIN branches b ON b.id = s.branch_id"
            " LEFT JOIN vehicles v ON v.id = s.vehicle_id"
            " LEFT JOIN courses c ON c.id = e.course_id"
            " WHERE s.id = :id",
            {"id": schedule_id},
        )

    def lock_event(self, schedule_id: int) -> dict | None:
        """The event's outcome columns, the row locked until the transaction ends (FOR UPDATE on
        MariaDB; on SQLite the transaction's BEGIN IMMEDIATE already holds the write lock)."""
        return self.db.fetch_one(
            "SELECT id, status, student_rating, student_feedback, notes, completion_marked_by,"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            f" completion_marked_at FROM schedules WHERE id = :id{self.db.for_update}",
            {"id": schedule_id},
        )

    def set_outcome(self, schedule_id: int, *, expected_status: str, status: str, rating: int | None,
                    feedback: str | None, notes: str | None, by_user_id: int | None, now: datetime) -> int:
        """Write the outcome when the event still has ``expected_status``; returns the rows written (0
        when someone changed it first)."""
        return self.db.execute(
            "UPDATE schedules SET status = :status, student_rating = :rating, student_feedback = :feedback,"
            " notes = :notes, completion_marked_by = :by, completion_marked_at = :now, updated_at = :now"
            " WHERE id = :id AND status = :expected",
            {"id": schedule_id, "expected": expected_status, "status": status, "rating": rating,
             "feedback": feedback, "notes": notes, "by": by_user_id, "now": now},
        ).rowcount

    # ------------------------------------------------------------------ the awaiting list

    def branch_zones(self) -> list[str]:
        """Every distinct time zone value stored on a branch (the awaiting list needs one cut-off each)."""
        rows = self.db.fetch_all("SELECT DISTINCT timezone FROM branches WHERE timezone IS NOT NULL")
        return sorted(r["timezone"] for r in rows)

    @staticmethod
    def _awaiting_where(cutoffs: Sequence[Cutoff], *, q: str, instructor_id: int | None, branch_id: int | None,
                        scope_instructor_id: int | None, scope_branch_id: int | None) -> tuple[str, dict]:
        """Still ``scheduled`` and ended by the local time of its branch's zone (events of a branch
        without a zone, or without a branch, use the ``None`` cut-off); the search (student or instructor
        name, topic), filters and scope ANDed."""
        params: dict[str, Any] = {}
        arms = []
        for n, (zone, day, moment) in enumerate(cutoffs):
            match = "b.timezone IS NULL" if zone is None else f"b.timezone = :zone_{n}"
            if zone is not None:
                params[f"zone_{n}"] = zone
            params[f"day_{n}"], params[f"time_{n}"] = day, moment
            arms.append(f"({match} AND (s.scheduled_date < :day_{n}"
                        f" OR (s.scheduled_date = :day_{n} AND s.end_time <= :time_{n})))")
        clauses = ["s.status = 'scheduled'", "s.scheduled_date <= :latest", f"({' OR '.join(arms) or '1 = 0'})"]
        params["latest"] = max((c[1] for c in cutoffs), default=date.min)
        for column, name, value in (("s.instructor_id", "instructor_id", instructor_id),
                                    ("s.instructor_id", "scope_instructor_id", scope_instructor_id),
                                    ("COALESCE(s.branch_id, st.branch_id)", "branch_id", branch_id),
                                    ("COALESCE(s.branch_id, st.branch_id)", "scope_branch_id", scope_branch_id)):
            if value is not None:
                if column.startswith("COALESCE"):
                    # sargable first: the lessons of the branch (or legacy rows without one) are two ranges
                    # of idx_schedule_branch_status_date; the COALESCE then settles the legacy rows (issue 13)
                    clauses.append(f"(s.branch_id = :{name} OR s.branch_id IS NULL)")
                clauses.append(f"{column} = :{name}")
                params[name] = value
        if q:
            clauses.append("(su.first_name LIKE :q ESCAPE '!' OR su.last_name LIKE :q ESCAPE '!'"
                           " OR iu.first_name LIKE :q ESCAPE '!' OR iu.last_name LIKE :q ESCAPE '!'"
                           " OR s.lesson_topic LIKE :q ESCAPE '!')")
            params["q"] = like_pattern(q)
        return " WHERE " + " AND ".join(clauses), params

    def awaiting_page(self, query: ListQuery, cutoffs: Sequence[Cutoff], *, instructor_id: int | None = None,
                      branch_id: int | None = None, scope_instructor_id: int | None = None,
                      scope_branch_id: int | None = None) -> Page:
        """Past events still ``scheduled``, one page with the names joined in: a capped COUNT, then the
        page's ids picked from the lessons alone, then only those rows joined (fetch_page_capped).

        The pick and the count join only what their WHERE and ORDER BY read: the branch (its zone) always,
        the student's branch for a branch filter or scope, the names for a search or a sort by name (every
        lesson has its enrolment, student, instructor and accounts). By date (the default) the pick walks
        idx_schedule_status_date backwards and stops after a page, whatever the backlog: before, the
        optimiser started from the instructors and sorted every past lesson with its five joins (50 ms at
        scale M, seconds at L; issue 13)."""
        where, params = self._awaiting_where(cutoffs, q=query.q, instructor_id=instructor_id, branch_id=branch_id,
                                             scope_instructor_id=scope_instructor_id,
                                             scope_branch_id=scope_branch_id)
        by_name = query.sort in ("student", "instructor")
        narrowed = any(v is not None for v in (instructor_id, branch_id, scope_instructor_id, scope_branch_id))
        if by_name and not narrowed and not query.q:
            # the whole chain by name: the most recent AWAITING_COUNT_CAP + 1 lessons (the rows a capped list
            # offers, and its "1,000+") by the status index, then those sorted by name; not every past lesson
            # of the chain joined to its names and sorted (2 s at scale L)
            recent = ("SELECT s.id FROM schedules s LEFT JOIN branches b ON b.id = s.branch_id" + where  # nosec B608 # interpolates only the WHERE this class builds from constants; every value is a bound :parameter
                      + " ORDER BY s.scheduled_date DESC, s.start_time DESC, s.branch_id DESC, s.id DESC"
                      " LIMIT :recent_cap")
            from_where = (" FROM (" + recent + ") recent JOIN schedules s ON s.id = recent.id"
                          + _LIST_FROM.removeprefix(" FROM schedules s"))
            params["recent_cap"] = AWAITING_COUNT_CAP + 1
            total = int(self.db.fetch_value("SELECT COUNT(*) AS n FROM (" + recent + ") counted", params) or 0)  # nosec B608 # the statement above, counted; every value is a bound :parameter
        else:
            from_where, total = None, None
        narrow = " FROM schedules s"
        if query.q or by_name or branch_id is not None or scope_branch_id is not None:
            narrow += " JOIN enrollments e ON e.id = s.enrollment_id JOIN students st ON st.id = e.student_id"
        if query.q or by_name:
            narrow += (" JOIN users su ON su.id = st.user_id JOIN instructors i ON i.id = s.instructor_id"
                       " JOIN users iu ON iu.id = i.user_id")
        narrow += " LEFT JOIN branches b ON b.id = s.branch_id"
        columns = (
            "s.id, s.scheduled_date, s.start_time, s.end_time, s.event_type, s.lesson_topic, s.status,"
            " s.instructor_id, iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name,"
            " e.student_id, su.first_name AS student_first_name, su.last_name AS student_last_name,"
            " COALESCE(s.branch_id, st.branch_id) AS branch_id, b.name AS branch_name"
        )
        joins = " JOIN schedules s ON s.id = pick.pick_id" + _LIST_FROM.removeprefix(" FROM schedules s")
        # The count stops at AWAITING_COUNT_CAP + 1 rows (shown as "1,000+"): the whole chain's backlog is
        # never counted on each view. The whole chain by date follows idx_schedule_status_date (branch_id is
        # its next column); an instructor or a branch is a range of its own index, sorted: the same order
        # without the branch_id step, which would tempt the optimiser to walk the chain's backlog in order
        # for one instructor's few (issue 13)
        sorts = {**AWAITING_SORTS, "date": AWAITING_SORTS["date"][:2]} if narrowed else AWAITING_SORTS
        return self.fetch_page_capped(from_where or narrow + where, columns, joins, params,
                                      self.order_clause(sorts, query, "s.id"), query,
                                      cap=AWAITING_COUNT_CAP, total=total)

    def instructor_options(self, branch_id: int | None = None, limit: int = 500) -> list[dict]:
        """(id, first_name, last_name) of the instructors of ``branch_id`` (None: every branch), for the
        awaiting list's filter."""
        return self.db.fetch_all(
            "SELECT i.id, u.first_name, u.last_name FROM instructors i JOIN users u ON u.id = i.user_id"
            " WHERE (:branch_id IS NULL OR i.branch_id = :branch_id)"
            " ORDER BY u.last_name, u.first_name, i.id LIMIT :limit",
            {"branch_id": branch_id, "limit": int(limit)},
        )
