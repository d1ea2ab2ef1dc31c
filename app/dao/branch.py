"""BranchDAO (PHP BranchModel): branches, their time zone and structured opening hours.

``branches.opening_hours`` is the original's free-text label (shown as is, never parsed);
``branch_opening_hours`` holds the structured periods behind the ``branch_closed`` rule: one row per
period, weekday 0 = Monday .. 6 = Sunday, wall-clock times in the branch's zone, close after open. A
weekday without a row is closed; a branch without any row has no structured hours (no rule applies).
``branches.timezone`` is an IANA zone name, NULL meaning APP_TIMEZONE (app/core/localtime.py).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, like_pattern

FIELDS = ("name", "address", "city", "state", "postcode", "phone", "email", "manager_name", "opening_hours")
# timezone is read with the row but written only by set_timezone (an edit form without it keeps it).
_COLUMNS = "b.id, " + ", ".join(f"b.{f}" for f in FIELDS) + ", b.timezone, b.created_at, b.updated_at"
SORTS = {"name": "b.name", "city": "b.city", "manager": "b.manager_name"}
UPCOMING_DAYS = 28  # the branch page's "lessons in the next 4 weeks" (a bounded range, issue 13)


class BranchDAO(BaseDAO):
    def find(self, branch_id: int) -> dict | None:
        return self.db.fetch_one(f"SELECT {_COLUMNS} FROM branches b WHERE b.id = :id", {"id": branch_id})  # nosec B608 # interpolates only module constants; every value is a bound :parameter

    def options(self, only_id: int | None = None) -> list[dict]:
        """(id, name) pairs for select boxes; ``only_id`` limits to one branch (staff scope)."""
        return self.db.fetch_all(
            "SELECT id, name FROM branches WHERE (:only_id IS NULL OR id = :only_id) ORDER BY name, id",
            {"only_id": only_id},
        )

    def exists(self, branch_id: int) -> bool:
        return self.db.fetch_value("SELECT id FROM branches WHERE id = :id", {"id": branch_id}) is not None

    def list_page(self, query: ListQuery, only_id: int | None = None) -> Page:
        params: dict[str, Any] = {"only_id": only_id}
        where = " WHERE (:only_id IS NULL OR b.id = :only_id)"
        if query.q:
            where += (" AND (b.name LIKE :q ESCAPE '!' OR b.city LIKE :q ESCAPE '!'"
                      " OR b.manager_name LIKE :q ESCAPE '!' OR b.postcode LIKE :q ESCAPE '!')")
            params["q"] = like_pattern(query.q)
        select = (
            f"SELECT {_COLUMNS},"  # nosec B608 # interpolates only fragments this code builds from constants, module constants; every value is a bound :parameter
            " (SELECT COUNT(*) FROM students s WHERE s.branch_id = b.id) AS student_count,"
            " (SELECT COUNT(*) FROM instructors i WHERE i.branch_id = b.id) AS instructor_count,"
            " (SELECT COUNT(*) FROM vehicles v WHERE v.branch_id = b.id) AS vehicle_count"
            " FROM branches b" + where
        )
        return self.fetch_page(select, "SELECT COUNT(*) AS n FROM branches b" + where, params,  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                               self.order_clause(SORTS, query, "b.id"), query)

    def counts(self, branch_id: int, today: date) -> dict[str, int]:
        """What hangs off one branch, in one query (detail page). ``upcoming_lessons``: the scheduled lessons
        of the next UPCOMING_DAYS days from ``today`` (a bounded index range of idx_schedule_branch_date,
        never the branch's whole future); the enrolments are counted through idx_enrollments_student_status."""
        row = self.db.fetch_one(
            "SELECT"
            " (SELECT COUNT(*) FROM students s WHERE s.branch_id = :id) AS students,"
            " (SELECT COUNT(*) FROM instructors i WHERE i.branch_id = :id) AS instructors,"
            " (SELECT COUNT(*) FROM staff_profiles sp WHERE sp.branch_id = :id) AS staff,"
            " (SELECT COUNT(*) FROM vehicles v WHERE v.branch_id = :id) AS vehicles,"
            " (SELECT COUNT(*) FROM enrollments e JOIN students es ON es.id = e.student_id"
            "   WHERE es.branch_id = :id AND e.status IN ('active', 'in_progress')) AS active_enrolments,"
            " (SELECT COUNT(*) FROM schedules sc WHERE sc.branch_id = :id AND sc.status = 'scheduled'"
            "   AND sc.scheduled_date >= :today AND sc.scheduled_date < :until) AS upcoming_lessons",
            {"id": branch_id, "today": today, "until": today + timedelta(days=UPCOMING_DAYS)},
        ) or {}
        return {k: int(v or 0) for k, v in row.items()}

    def insert(self, data: dict[str, Any], now: datetime) -> int:
        row = {f: data.get(f) for f in FIELDS}
        return self.db.insert("branches", {**row, "created_at": now, "updated_at": now})

    def update(self, branch_id: int, data: dict[str, Any], now: datetime) -> int:
        sets = ", ".join(f"{f} = :{f}" for f in FIELDS)
        params = {f: data.get(f) for f in FIELDS}
        return self.db.execute(
            f"UPDATE branches SET {sets}, updated_at = :now WHERE id = :id", {**params, "now": now, "id": branch_id}  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
        ).rowcount

    def set_timezone(self, branch_id: int, timezone: str | None, now: datetime) -> int:
        """Set (or clear, with None) the branch's IANA zone; the caller validates the name."""
        return self.db.execute(
            "UPDATE branches SET timezone = :tz, updated_at = :now WHERE id = :id",
            {"tz": timezone or None, "now": now, "id": branch_id},
        ).rowcount

    # ------------------------------------------------------------------ structured opening hours

    def opening_hours(self, branch_id: int, weekday: int | None = None) -> list[dict]:
        """The branch's opening periods (``weekday``, ``open_time``, ``close_time``), by weekday then
        opening time; ``weekday`` limits them to one day (0 = Monday)."""
        return self.db.fetch_all(
            "SELECT h.weekday, h.open_time, h.close_time FROM branch_opening_hours h"
            " WHERE h.branch_id = :branch_id AND (:weekday IS NULL OR h.weekday = :weekday)"
            " ORDER BY h.weekday, h.open_time, h.id",
            {"branch_id": branch_id, "weekday": weekday},
        )

    def replace_opening_hours(self, branch_id: int, rows: Iterable[Mapping[str, Any]], now: datetime) -> int:
        """Replace every opening period of the branch with ``rows`` (mappings with ``weekday``,
        ``open_time``, ``close_time`` as ``datetime.time``; an empty list clears them), in one transaction (a savepoint
        inside the caller's): either all new rows are stored or the old ones stay. The database refuses
        a weekday outside 0..6 or a close not after the open (IntegrityViolation); the service checks
        overlaps and formats first. Returns the number of rows stored."""
        periods = list(rows)
        values, params = [], {"branch_id": branch_id, "now": now}
        for n, row in enumerate(periods):
            values.append(f"(:branch_id, :weekday_{n}, :open_{n}, :close_{n}, :now, :now)")
            params.update({f"weekday_{n}": row["weekday"], f"open_{n}": row["open_time"],
                           f"close_{n}": row["close_time"]})
        with self.db.transaction():
            self.db.execute("DELETE FROM branch_opening_hours WHERE branch_id = :branch_id", {"branch_id": branch_id})
            if values:
                self.db.execute(
                    "INSERT INTO branch_opening_hours (branch_id, weekday, open_time, close_time, created_at,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                    " updated_at) VALUES " + ", ".join(values), params)
        return len(periods)
