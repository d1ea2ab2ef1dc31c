"""DisruptionDAO: the SQL of the conflicts panel (services/disruptions.py).

"Broken" lessons are found set-based, one UNION ALL arm per cause, each arm driven by the (small) table
of its cause and reaching the lessons through an index of ``schedules``:

=================  ==========================================  =========================================
cause              driven by                                   lessons through
=================  ==========================================  =========================================
unavailability     ``instructor_unavailability`` (future)      idx_schedule_instructor_date
accreditation      ``instructors`` with an expiry              idx_schedule_instructor_date
downtime           ``vehicle_downtime`` (future)               idx_schedule_vehicle_date
maintenance        ``vehicles`` in maintenance / in service    idx_schedule_vehicle_date
service_due        ``vehicles`` with a service due date        idx_schedule_vehicle_date
=================  ==========================================  =========================================

**The rules mirror services/conflicts.py exactly** (the ONE engine; tests/disruptions_test.py checks that
every row listed here is refused by ``conflicts.check`` for the same slot with the mapped kind):

- unavailability / downtime: the window overlaps the lesson's wall-clock interval, half-open
  (``window.start < day+end AND window.end > day+start``; touching is free), written as date and time
  parts (``DATE()``/``TIME()`` exist on both databases) so no dialect-specific date arithmetic is needed;
  ``conflicts.check`` -> ``instructor_unavailable`` / ``vehicle_unavailable``;
- accreditation: ``accreditation_expiry < scheduled_date`` -> ``accreditation_expired``;
- maintenance: ``vehicles.status IN ('maintenance', 'in_service')`` (``conflicts.UNAVAILABLE_VEHICLE``)
  -> ``vehicle_unavailable``;
- service_due: ``next_service_due < scheduled_date`` -> ``vehicle_unavailable``.

Only live future lessons are listed: ``status = 'scheduled'`` and starting after the local time of their
branch's zone (one cut-off per stored zone, as in dao/outcome.py). Scope is the lesson's branch (its own
``branch_id``, else its student's). A lesson broken for two reasons appears once under each cause; within
a cause, one row per lesson (overlapping windows: the first window).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Mapping, Sequence

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO

CAUSES = ("unavailability", "accreditation", "downtime", "maintenance", "service_due")
INSTRUCTOR_CAUSES = ("unavailability", "accreditation")
VEHICLE_CAUSES = ("downtime", "maintenance", "service_due")
LIVE = "('scheduled', 'completed', 'no_show')"  # conflicts.LIVE_STATUSES
UNAVAILABLE_STATUSES = "('maintenance', 'in_service')"  # conflicts.UNAVAILABLE_VEHICLE

# One cut-off per stored branch time zone: (branches.timezone or None, local date, local time now).
Cutoff = tuple[str | None, date, time]


def _overlap(window: str) -> str:
    """``window`` overlaps the lesson ``s`` (half-open, wall clock); the arm's join already holds
    DATE(window.start) <= s.scheduled_date <= DATE(window.end)."""
    return (f"(DATE({window}.start_datetime) < s.scheduled_date OR TIME({window}.start_datetime) < s.end_time)"
            f" AND (DATE({window}.end_datetime) > s.scheduled_date OR TIME({window}.end_datetime) > s.start_time)")


def _in(ids: Sequence[int]) -> tuple[str, dict]:
    params = {f"sid_{n}": int(v) for n, v in enumerate(ids)}
    return (", ".join(f":{k}" for k in params) or "NULL"), params


class DisruptionDAO(BaseDAO):
    # ------------------------------------------------------------------ the broken lessons

    def branch_zones(self) -> list[str]:
        rows = self.db.fetch_all("SELECT DISTINCT timezone FROM branches WHERE timezone IS NOT NULL")
        return sorted(r["timezone"] for r in rows)

    def _arm_list(self, cutoffs: Sequence[Cutoff], *, branch_id: int | None = None, causes: Sequence[str] = CAUSES,
                  instructor_id: int | None = None, vehicle_id: int | None = None,
                  ids: Sequence[int] | None = None, until: date | None = None) -> tuple[list[str], dict]:
        """One SELECT per chosen cause (in cause order) and their parameters."""
        params: dict[str, Any] = {}
        # the branch's zone looked up only for lessons dated on one of the zones' today (a few rows)
        future = self._future(cutoffs, params, "(SELECT bz.timezone FROM branches bz WHERE bz.id = s.branch_id)")
        floor = min((c[1] for c in cutoffs), default=date.min)
        params["d_floor"] = floor
        params["d_floor_at"] = datetime.combine(floor, time(0, 0))
        common = ["s.status = 'scheduled'", "s.scheduled_date >= :d_floor", future]
        if branch_id is not None:
            # the lesson's branch, else (a legacy row) its student's; deliberately not an index range on
            # schedules.branch_id: the arms start from the branch's instructors or vehicles instead
            common.append("COALESCE(s.branch_id, (SELECT sst.branch_id FROM enrollments se"
                          " JOIN students sst ON sst.id = se.student_id WHERE se.id = s.enrollment_id)) = :d_branch")
            params["d_branch"] = branch_id
        if instructor_id is not None:
            common.append("s.instructor_id = :d_instructor")
            params["d_instructor"] = instructor_id
        if vehicle_id is not None:
            common.append("s.vehicle_id = :d_vehicle")
            params["d_vehicle"] = vehicle_id
        if ids is not None:
            fragment, id_params = _in(ids)
            common.append(f"s.id IN ({fragment})")
            params.update(id_params)
        windows_end = ""
        if until is not None:  # the badge's horizon: lessons dated up to ``until``; later windows cannot touch them
            common.append("s.scheduled_date <= :d_until")
            params["d_until"] = until
            params["d_until_at"] = datetime.combine(until + timedelta(days=1), time(0, 0))
            windows_end = " AND {w}.start_datetime < :d_until_at"
        where = " AND ".join(common)
        # With a branch, each arm is driven by that branch's instructors or vehicles (a small set reached
        # through their branch index) rather than by the branch's lessons (tens of thousands of rows).
        mine_i = " AND i.branch_id = :d_branch" if branch_id is not None else ""
        mine_v = " AND v.branch_id = :d_branch" if branch_id is not None else ""
        if until is not None:  # an expiry or due date on or after the horizon breaks nothing before it
            expired_by = " AND i.accreditation_expiry < :d_until"
            due_by = " AND v.next_service_due < :d_until"
        else:
            expired_by = due_by = ""
        if instructor_id is not None:
            mine_i += " AND i.id = :d_instructor"
        if vehicle_id is not None:
            mine_v += " AND v.id = :d_vehicle"
        # MariaDB otherwise reaches an instructor's lessons through the one-column idx_schedule_instructor and
        # reads every lesson they ever taught; the (instructor_id, scheduled_date) index filters the dates first.
        # Without a branch it would rather scan every scheduled lesson by status; the vehicle arms are forced
        # onto (vehicle_id, scheduled_date) the same way.
        # SQLite, without statistics or with them, may start from the status index as well: INDEXED BY.
        # MariaDB may also start an arm from schedules itself (a full scan: the forced index has nothing to
        # look up when it is the first table), e.g. the later-days arm when no window spans days: the lessons
        # are joined with STRAIGHT_JOIN, always after their instructor, vehicle or window (tests/explain_test.py).
        if self.db.backend == "mysql":
            by_instructor = " FORCE INDEX (idx_schedule_instructor_date)"
            by_vehicle = " FORCE INDEX (idx_schedule_vehicle_date)"
            then = "STRAIGHT_JOIN"
        else:
            by_instructor = " INDEXED BY idx_schedule_instructor_date"
            by_vehicle = " INDEXED BY idx_schedule_vehicle_date"
            then = "JOIN"
        joins = ""
        columns = "s.id AS schedule_id, '{cause}' AS cause, {rank} AS cause_rank, {ref} AS ref_id," \
                  " s.scheduled_date AS sort_date, s.start_time AS sort_time"

        def window_arm(cause, rank, party, windows, on_party, lessons, on_lessons, w, mine):
            """Lessons overlapping a future window of the party, driven by the future windows themselves (a
            range of idx_unavailability_end / idx_downtime_end, migration 0028: the windows not ended yet are
            few, whereas every instructor or vehicle has past ones): those dated on the window's first day
            (an (id, date) index lookup per window), plus, for windows running into later days, those dated
            after it up to its last day; one row per lesson (its first window)."""
            head = (f"SELECT s.id AS schedule_id, {w}.id AS ref_id, s.scheduled_date AS sort_date,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                    f" s.start_time AS sort_time FROM {windows} {then} {party}"
                    f" ON {on_party} AND {w}.end_datetime > :d_floor_at{windows_end.format(w=w)}"
                    f" {then} {lessons} ON {on_lessons}")
            tail = f"{joins} WHERE {_overlap(w)}{mine} AND {where}"
            first_day = f"{head} AND s.scheduled_date = DATE({w}.start_datetime){tail}"
            later_days = (f"{head} AND s.scheduled_date > DATE({w}.start_datetime)"
                          f" AND s.scheduled_date <= DATE({w}.end_datetime){tail}"
                          f" AND DATE({w}.end_datetime) > DATE({w}.start_datetime)")
            return (f"SELECT u.schedule_id, '{cause}' AS cause, {rank} AS cause_rank, MIN(u.ref_id) AS ref_id,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                    f" u.sort_date, u.sort_time FROM ({first_day} UNION ALL {later_days}) u"
                    " GROUP BY u.schedule_id, u.sort_date, u.sort_time")

        sql = {
            "unavailability": window_arm("unavailability", 1, "instructors i", "instructor_unavailability w",
                                         "w.instructor_id = i.id", f"schedules s{by_instructor}",
                                         "s.instructor_id = w.instructor_id", "w", mine_i),
            "accreditation": (
                f"SELECT {columns.format(cause='accreditation', rank=2, ref='NULL')}"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                " FROM instructors i"
                f" {then} schedules s{by_instructor} ON s.instructor_id = i.id AND s.scheduled_date > i.accreditation_expiry"
                f"{joins} WHERE i.accreditation_expiry IS NOT NULL{expired_by}{mine_i} AND {where}"),
            "downtime": window_arm("downtime", 3, "vehicles v", "vehicle_downtime d", "d.vehicle_id = v.id",
                                   f"schedules s{by_vehicle}", "s.vehicle_id = d.vehicle_id", "d", mine_v),
            "maintenance": (
                f"SELECT {columns.format(cause='maintenance', rank=4, ref='NULL')}"  # nosec B608 # interpolates only fragments this code builds from constants, module constants; every value is a bound :parameter
                " FROM vehicles v"
                f" {then} schedules s{by_vehicle} ON s.vehicle_id = v.id"
                f"{joins} WHERE v.status IN {UNAVAILABLE_STATUSES}{mine_v} AND {where}"),
            "service_due": (
                f"SELECT {columns.format(cause='service_due', rank=5, ref='NULL')}"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                " FROM vehicles v"
                f" {then} schedules s{by_vehicle} ON s.vehicle_id = v.id AND s.scheduled_date > v.next_service_due"
                f"{joins} WHERE v.next_service_due IS NOT NULL{due_by}{mine_v} AND {where}"),
        }
        return [sql[c] for c in CAUSES if c in causes], params

    def _arms(self, cutoffs: Sequence[Cutoff], **scope: Any) -> tuple[str, dict]:
        """The UNION ALL of the chosen causes' arms: ``schedule_id, cause, cause_rank, ref_id, sort_date,
        sort_time`` (``ref_id`` the window of a window cause)."""
        arms, params = self._arm_list(cutoffs, **scope)
        return " UNION ALL ".join(arms), params

    def counts(self, cutoffs: Sequence[Cutoff], *, branch_id: int | None = None, soon: date | None = None,
               until: date | None = None, cap: int | None = None) -> dict:
        """One aggregate row: ``lessons`` (distinct broken lessons), ``row_count`` (lesson x cause), ``soon``
        (distinct lessons dated up to ``soon``) and one count per cause; with ``until`` (the panel's horizon)
        only lessons dated up to it, so the cost is bounded by the horizon, not by the school's future; with
        ``cap`` each cause is counted up to ``cap + 1`` rows (``lessons`` and ``soon`` then count those)."""
        if cap is None:
            union, params = self._arms(cutoffs, branch_id=branch_id, until=until)
        else:  # each cause's arm stops after cap + 1 rows: a count above cap means "cap or more"
            members, params = self._arm_list(cutoffs, branch_id=branch_id, until=until)
            union = " UNION ALL ".join(
                f"SELECT t{n}.schedule_id, t{n}.cause, t{n}.sort_date FROM (SELECT a.schedule_id, a.cause,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                f" a.sort_date FROM ({arm}) a LIMIT :d_cap) t{n}" for n, arm in enumerate(members))
            params["d_cap"] = int(cap) + 1
        sums = ", ".join(f"SUM(CASE WHEN x.cause = '{c}' THEN 1 ELSE 0 END) AS {c}" for c in CAUSES)
        row = self.db.fetch_one(
            "SELECT COUNT(DISTINCT x.schedule_id) AS lessons, COUNT(*) AS row_count,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " COUNT(DISTINCT CASE WHEN x.sort_date <= :d_soon THEN x.schedule_id END) AS soon,"
            f" {sums} FROM ({union}) x", {**params, "d_soon": soon or date.max}) or {}
        return {key: int(row.get(key) or 0) for key in ("lessons", "row_count", "soon", *CAUSES)}

    def lesson_count(self, cutoffs: Sequence[Cutoff], *, branch_id: int | None = None,
                     instructor_id: int | None = None, vehicle_id: int | None = None,
                     causes: Sequence[str] = CAUSES) -> int:
        """How many distinct future lessons are broken (the "N future lessons are affected" notice)."""
        union, params = self._arms(cutoffs, branch_id=branch_id, instructor_id=instructor_id,
                                   vehicle_id=vehicle_id, causes=causes)
        return int(self.db.fetch_value(f"SELECT COUNT(DISTINCT x.schedule_id) AS n FROM ({union}) x", params) or 0)  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter

    def capped_count(self, cutoffs: Sequence[Cutoff], *, until: date, cap: int, branch_id: int | None = None) -> int:
        """Distinct broken lessons dated up to ``until``, each arm stopping after ``cap`` rows (the navigation
        badge, run on every page: its cost is bounded whatever the school's size). A result of ``cap`` or more
        means "at least ``cap``"."""
        members, params = self._arm_list(cutoffs, branch_id=branch_id, until=until)
        capped = " UNION ALL ".join(f"SELECT t{n}.schedule_id FROM (SELECT a.schedule_id FROM ({arm}) a"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                                    f" LIMIT :d_cap) t{n}" for n, arm in enumerate(members))
        return int(self.db.fetch_value(f"SELECT COUNT(DISTINCT x.schedule_id) AS n FROM ({capped}) x",  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                                       {**params, "d_cap": int(cap)}) or 0)

    def page(self, cutoffs: Sequence[Cutoff], query: ListQuery, counts: Mapping[str, int], *,
             branch_id: int | None = None, causes: Sequence[str] = CAUSES, until: date | None = None) -> Page:
        """One page of (lesson, cause) rows in cause order, then date and time. ``counts`` (from
        :meth:`counts`) says which causes the page spans, so only those arms run, each sorted and cut to
        its part of the page; the page's rows are then joined with every name the panel shows."""
        total = sum(int(counts.get(c) or 0) for c in causes)
        last_page = max(1, -(-total // query.per_page))
        if query.page > last_page:
            query = query.with_page(last_page)
        spans, start = {}, 0
        for cause in causes:
            n = int(counts.get(cause) or 0)
            first, last = max(query.offset, start), min(query.offset + query.per_page, start + n)
            if first < last:
                spans[cause] = (first - start, last - first)  # (offset, limit) inside this cause
            start += n
        if not spans:
            return Page(items=[], total=total, query=query)
        arms, params = self._arm_list(cutoffs, branch_id=branch_id, causes=tuple(spans), until=until)
        parts = []
        for n, (arm, (offset, limit)) in enumerate(zip(arms, spans.values())):
            parts.append(f"SELECT p{n}.schedule_id, p{n}.cause, p{n}.cause_rank, p{n}.ref_id FROM"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                         f" (SELECT u.schedule_id, u.cause, u.cause_rank, u.ref_id FROM ({arm}) u"
                         f" ORDER BY u.sort_date, u.sort_time, u.schedule_id LIMIT :pl_{n} OFFSET :po_{n}) p{n}")
            params[f"pl_{n}"], params[f"po_{n}"] = limit, offset
        union = " UNION ALL ".join(parts)
        items = self.db.fetch_all(
            "SELECT x.cause, x.ref_id, s.id, s.scheduled_date, s.start_time, s.end_time, s.event_type,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " s.lesson_topic, s.status, s.instructor_id, s.vehicle_id, s.enrollment_id,"
            " COALESCE(s.branch_id, st.branch_id) AS branch_id, b.name AS branch_name,"
            " e.student_id, e.course_id, c.title AS course_title, st.user_id AS student_user_id,"
            " su.first_name AS student_first_name, su.last_name AS student_last_name,"
            " i.user_id AS instructor_user_id, i.accreditation_expiry,"
            " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name,"
            " v.name AS vehicle_name, v.plate_number AS vehicle_plate, v.status AS vehicle_status,"
            " v.next_service_due,"
            " w.start_datetime AS window_start, w.end_datetime AS window_end, w.reason AS window_reason,"
            " d.start_datetime AS downtime_start, d.end_datetime AS downtime_end, d.reason AS downtime_reason"
            f" FROM ({union}) x"
            " JOIN schedules s ON s.id = x.schedule_id"
            " JOIN enrollments e ON e.id = s.enrollment_id"
            " JOIN students st ON st.id = e.student_id"
            " JOIN users su ON su.id = st.user_id"
            " JOIN instructors i ON i.id = s.instructor_id"
            " JOIN users iu ON iu.id = i.user_id"
            " LEFT JOIN courses c ON c.id = e.course_id"
            " LEFT JOIN branches b ON b.id = COALESCE(s.branch_id, st.branch_id)"
            " LEFT JOIN vehicles v ON v.id = s.vehicle_id"
            " LEFT JOIN instructor_unavailability w ON x.cause = 'unavailability' AND w.id = x.ref_id"
            " LEFT JOIN vehicle_downtime d ON x.cause = 'downtime' AND d.id = x.ref_id"
            " ORDER BY x.cause_rank, s.scheduled_date, s.start_time, s.id", params)
        return Page(items=items, total=total, query=query)

    def causes_of(self, cutoffs: Sequence[Cutoff], ids: Sequence[int]) -> dict[int, list[str]]:
        """Every cause of each of the lessons ``ids`` (the page's), in cause order: one query driven by the
        ids, the same five rules as the arms evaluated per lesson (live and not started yet as well)."""
        if not ids:
            return {}
        fragment, params = _in(ids)
        future = self._future(cutoffs, params)
        flags = {
            "unavailability": "EXISTS (SELECT 1 FROM instructor_unavailability w WHERE w.instructor_id = s.instructor_id"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                              " AND DATE(w.start_datetime) <= s.scheduled_date AND DATE(w.end_datetime) >= s.scheduled_date"
                              f" AND {_overlap('w')})",
            "accreditation": "i.accreditation_expiry IS NOT NULL AND i.accreditation_expiry < s.scheduled_date",
            "downtime": "EXISTS (SELECT 1 FROM vehicle_downtime d WHERE d.vehicle_id = s.vehicle_id"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                        " AND DATE(d.start_datetime) <= s.scheduled_date AND DATE(d.end_datetime) >= s.scheduled_date"
                        f" AND {_overlap('d')})",
            "maintenance": f"v.status IN {UNAVAILABLE_STATUSES}",
            "service_due": "v.next_service_due IS NOT NULL AND v.next_service_due < s.scheduled_date",
        }
        columns = ", ".join(f"CASE WHEN {rule} THEN 1 ELSE 0 END AS {cause}" for cause, rule in flags.items())
        rows = self.db.fetch_all(
            f"SELECT s.id, {columns} FROM schedules s JOIN instructors i ON i.id = s.instructor_id"  # nosec B608 # interpolates only IN-list placeholders of db.in_params, fragments this code builds from constants; every value is a bound :parameter
            " LEFT JOIN vehicles v ON v.id = s.vehicle_id LEFT JOIN branches b ON b.id = s.branch_id"
            f" WHERE s.id IN ({fragment}) AND s.status = 'scheduled' AND {future}", params)
        found: dict[int, list[str]] = {}
        for row in rows:
            mine = [cause for cause in CAUSES if int(row[cause] or 0)]
            if mine:
                found[int(row["id"])] = mine
        return found

    @staticmethod
    def _future(cutoffs: Sequence[Cutoff], params: dict, zone: str = "b.timezone") -> str:
        """Not started yet in the zone of the lesson's branch (``zone``: the SQL of its ``timezone``; one
        cut-off per stored zone). A lesson dated after every zone's today is future without looking."""
        arms = []
        for n, (name, day, moment) in enumerate(cutoffs):
            match = f"{zone} IS NULL" if name is None else f"{zone} = :dz_{n}"
            if name is not None:
                params[f"dz_{n}"] = name
            params[f"dd_{n}"], params[f"dt_{n}"] = day, moment
            arms.append(f"({match} AND (s.scheduled_date > :dd_{n}"
                        f" OR (s.scheduled_date = :dd_{n} AND s.start_time > :dt_{n})))")
        params["d_ceil"] = max((c[1] for c in cutoffs), default=date.max)
        return f"(s.scheduled_date > :d_ceil OR {' OR '.join(arms) or '1 = 0'})"

    # ------------------------------------------------------------------ the free alternatives

    def free_instructors(self, weekdays: Mapping[int, int], limit: int = 2000) -> list[dict]:
        """For each lesson id in ``weekdays`` (id -> the lesson date's weekday, 0 = Monday, worked out by
        the caller: weekday functions differ between the databases), the other active instructors of the
        lesson's branch who are free for its exact slot by the engine's blocks (no live lesson
        overlapping, no unavailability overlapping, accreditation valid on the day) and, like the
        availability engine, work then (a working-hours period of that weekday contains the slot).
        ``allocated`` says whether they are allocated to the enrolment's course (else the engine warns)."""
        if not weekdays:
            return []
        fragment, params = _in(list(weekdays))
        cases = " ".join(f"WHEN :wd_id_{n} THEN :wd_{n}" for n in range(len(weekdays)))
        for n, (schedule_id, weekday) in enumerate(weekdays.items()):
            params[f"wd_id_{n}"], params[f"wd_{n}"] = schedule_id, weekday
        return self.db.fetch_all(
            "SELECT s.id AS schedule_id, i.id AS instructor_id, iu.first_name, iu.last_name,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params, fragments this code builds from constants, module constants; every value is a bound :parameter
            " (SELECT c.title FROM courses c WHERE c.id = e.course_id) AS course_title,"
            " (SELECT COUNT(*) FROM course_instructor ci WHERE ci.course_id = e.course_id"
            "   AND ci.instructor_id = i.id) AS allocated"
            " FROM schedules s"
            " JOIN enrollments e ON e.id = s.enrollment_id"
            " JOIN students st ON st.id = e.student_id"
            " JOIN instructors i ON i.branch_id = COALESCE(s.branch_id, st.branch_id) AND i.id <> s.instructor_id"
            " JOIN users iu ON iu.id = i.user_id AND iu.status = 'active'"
            f" WHERE s.id IN ({fragment})"
            " AND (i.accreditation_expiry IS NULL OR i.accreditation_expiry >= s.scheduled_date)"
            " AND EXISTS (SELECT 1 FROM instructor_working_hours h WHERE h.instructor_id = i.id"
            f"   AND h.weekday = CASE s.id {cases} END"
            "   AND h.start_time <= s.start_time AND h.end_time >= s.end_time)"
            " AND NOT EXISTS (SELECT 1 FROM schedules o WHERE o.instructor_id = i.id"
            f"   AND o.scheduled_date = s.scheduled_date AND o.status IN {LIVE}"
            "   AND o.start_time < s.end_time AND o.end_time > s.start_time AND o.id <> s.id)"
            " AND NOT EXISTS (SELECT 1 FROM instructor_unavailability w WHERE w.instructor_id = i.id"
            "   AND DATE(w.start_datetime) <= s.scheduled_date AND DATE(w.end_datetime) >= s.scheduled_date"
            f"   AND {_overlap('w')})"
            " ORDER BY s.id, iu.last_name, iu.first_name, i.id LIMIT :limit",
            {**params, "limit": int(limit)})

    def free_vehicles(self, ids: Sequence[int], limit: int = 2000) -> list[dict]:
        """For each lesson in ``ids``, the other vehicles of the lesson's branch free for its slot by the
        engine's blocks: not in maintenance or in service, service not due before the day, no downtime
        overlapping, no live lesson overlapping."""
        if not ids:
            return []
        fragment, params = _in(ids)
        return self.db.fetch_all(
            "SELECT s.id AS schedule_id, v.id AS vehicle_id, v.name, v.plate_number, v.transmission"  # nosec B608 # interpolates only IN-list placeholders of db.in_params, fragments this code builds from constants, module constants; every value is a bound :parameter
            " FROM schedules s"
            " JOIN enrollments e ON e.id = s.enrollment_id"
            " JOIN students st ON st.id = e.student_id"
            " JOIN vehicles v ON v.branch_id = COALESCE(s.branch_id, st.branch_id)"
            "   AND (s.vehicle_id IS NULL OR v.id <> s.vehicle_id)"
            f" WHERE s.id IN ({fragment})"
            f" AND (v.status IS NULL OR v.status NOT IN {UNAVAILABLE_STATUSES})"
            " AND (v.next_service_due IS NULL OR v.next_service_due >= s.scheduled_date)"
            " AND NOT EXISTS (SELECT 1 FROM schedules o WHERE o.vehicle_id = v.id"
            f"   AND o.scheduled_date = s.scheduled_date AND o.status IN {LIVE}"
            "   AND o.start_time < s.end_time AND o.end_time > s.start_time AND o.id <> s.id)"
            " AND NOT EXISTS (SELECT 1 FROM vehicle_downtime d WHERE d.vehicle_id = v.id"
            "   AND DATE(d.start_datetime) <= s.scheduled_date AND DATE(d.end_datetime) >= s.scheduled_date"
            f"   AND {_overlap('d')})"
            " ORDER BY s.id, v.name, v.id LIMIT :limit",
            {**params, "limit": int(limit)})

    # ------------------------------------------------------------------ the row lock

    def lock_lesson(self, schedule_id: int) -> dict | None:
        """The lesson's row, locked (taken after the booking locks, like BookingDAO.lock_schedule): the
        columns the panel's fingerprint is made of."""
        return self.db.fetch_one(
            "SELECT id, status, instructor_id, vehicle_id, scheduled_date, start_time, end_time"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            f" FROM schedules WHERE id = :id{self.db.for_update}", {"id": schedule_id})

    def parties_of(self, schedule_id: int) -> dict | None:
        """The user accounts to notify about a lesson (its student's and its instructor's) and the names
        the notification text uses."""
        return self.db.fetch_one(
            "SELECT s.id, s.event_type, st.user_id AS student_user_id, i.user_id AS instructor_user_id,"
            " su.first_name AS student_first_name, su.last_name AS student_last_name,"
            " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name"
            " FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id"
            " JOIN students st ON st.id = e.student_id JOIN users su ON su.id = st.user_id"
            " JOIN instructors i ON i.id = s.instructor_id JOIN users iu ON iu.id = i.user_id"
            " WHERE s.id = :id", {"id": schedule_id})
