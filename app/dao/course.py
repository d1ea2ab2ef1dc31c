"""CourseDAO (PHP CourseModel): the course catalogue and its allocated instructors (course_instructor)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, like_pattern, money

FIELDS = ("title", "description", "price", "lesson_count", "category", "status")
STATUSES = ("active", "inactive")
_COLUMNS = "c.id, " + ", ".join(f"c.{f}" for f in FIELDS) + ", c.created_at, c.updated_at"
PREVIEW = 3  # allocated instructors named per course on the list (the rest are counted)
SORTS = {"title": "c.title", "price": "c.price", "lesson_count": "c.lesson_count", "status": "c.status"}

# "Active students" in the original = enrolments whose status is active or in_progress (spec 3.8).
# One index range of idx_enrollments_course_status per course shown (never a GROUP BY over every
# enrolment of the school).
_ACTIVE_COUNT = ("(SELECT COUNT(*) FROM enrollments e WHERE e.course_id = c.id"
                 " AND e.status IN ('active', 'in_progress'))")
_INSTRUCTOR_COLUMNS = (
    "i.id, i.branch_id, u.first_name, u.last_name, u.status AS user_status, b.name AS branch_name"
)
_INSTRUCTOR_FROM = (
    " FROM instructors i JOIN users u ON u.id = i.user_id LEFT JOIN branches b ON b.id = i.branch_id"
)


def _normalise(row: dict | None) -> dict | None:
    if row is not None:
        row["price"] = money(row["price"])
        if "active_enrolments" in row:
            row["active_enrolments"] = int(row["active_enrolments"] or 0)
    return row


class CourseDAO(BaseDAO):
    def find(self, course_id: int) -> dict | None:
        """One course with its number of active enrolments."""
        return _normalise(self.db.fetch_one(
            f"SELECT {_COLUMNS}, {_ACTIVE_COUNT} AS active_enrolments FROM courses c"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " WHERE c.id = :id",
            {"id": course_id},
        ))

    def exists(self, course_id: int) -> bool:
        return self.db.fetch_value("SELECT id FROM courses WHERE id = :id", {"id": course_id}) is not None

    def list_page(self, query: ListQuery) -> Page:
        """Search title/category; filters ``status`` and ``category``; the active enrolments of
        stat_course_totals joined in."""
        params: dict[str, Any] = {}
        where = " WHERE 1 = 1"
        if query.q:
            where += " AND (c.title LIKE :q ESCAPE '!' OR c.category LIKE :q ESCAPE '!')"
            params["q"] = like_pattern(query.q)
        if query.filter("status") in STATUSES:
            where += " AND c.status = :status"
            params["status"] = query.filter("status")
        if query.filter("category"):
            where += " AND c.category = :category"
            params["category"] = query.filter("category")
        # the active students from stat_course_totals (flask refresh-stats; the page says as of when), not
        # counted over every enrolment of the chain on each view
        page = self.fetch_page(
            f"SELECT {_COLUMNS}, COALESCE(ct.active_enrolments, 0) AS active_enrolments FROM courses c"
            f" LEFT JOIN stat_course_totals ct ON ct.course_id = c.id{where}",  # nosec B608 # interpolates only fragments this code builds from constants, module constants; every value is a bound :parameter
            f"SELECT COUNT(*) AS n FROM courses c{where}",  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            params,
            self.order_clause(SORTS, query, "c.id"),
            query,
        )
        for row in page.items:
            _normalise(row)
        return page

    def categories(self) -> list[str]:
        rows = self.db.fetch_all(
            "SELECT DISTINCT category FROM courses WHERE category IS NOT NULL AND category <> '' ORDER BY category"
        )
        return [r["category"] for r in rows]

    def insert(self, data: dict[str, Any], now: datetime) -> int:
        row = {f: data.get(f) for f in FIELDS}
        row["status"] = row["status"] or "active"
        return self.db.insert("courses", {**row, "created_at": now, "updated_at": now})

    def update(self, course_id: int, data: dict[str, Any], now: datetime) -> int:
        sets = ", ".join(f"{f} = :{f}" for f in FIELDS)
        params = {f: data.get(f) for f in FIELDS}
        return self.db.execute(
            f"UPDATE courses SET {sets}, updated_at = :now WHERE id = :id", {**params, "now": now, "id": course_id}  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
        ).rowcount

    # -- allocated instructors (course_instructor) -------------------------------------------
    def instructors_for(self, course_ids: Iterable[int]) -> dict[int, list[dict]]:
        """Allocated instructors of several courses in one query: {course_id: [instructor, ...]}."""
        ids = list(dict.fromkeys(course_ids))
        result: dict[int, list[dict]] = {course_id: [] for course_id in ids}
        if not ids:
            return result
        fragment, params = self.db.in_params("cid", ids)
        rows = self.db.fetch_all(
            f"SELECT ci.course_id, {_INSTRUCTOR_COLUMNS} FROM course_instructor ci"  # nosec B608 # interpolates only IN-list placeholders of db.in_params, module constants; every value is a bound :parameter
            " JOIN instructors i ON i.id = ci.instructor_id JOIN users u ON u.id = i.user_id"
            " LEFT JOIN branches b ON b.id = i.branch_id"
            f" WHERE ci.course_id IN ({fragment}) ORDER BY u.last_name, u.first_name, i.id",
            params,
        )
        for row in rows:
            result[row.pop("course_id")].append(row)
        return result

    def instructor_summary(self, course_ids: Iterable[int], *, branch_id: int | None = None,
                           preview: int = PREVIEW) -> dict[int, dict]:
        """For a page of courses, in a fixed number of queries: how many instructors each has allocated
        (``count``; with ``branch_id`` also ``branch_count``, those of that branch) and the first ``preview`` of them
        (``branch_id``'s first, then by id): {course_id: {"count", "branch_count", "preview": [...]}}.

        Issue 13: the list names a few instructors, never every allocation (2,000 per course at L); the
        counts read course_instructor's primary key (a branch's: its instructors' allocations), the preview
        one short key range per course."""
        ids = list(dict.fromkeys(course_ids))
        result = {cid: {"count": 0, "branch_count": 0 if branch_id is not None else None, "preview": []}
                  for cid in ids}
        if not ids:
            return result
        fragment, params = self.db.in_params("cid", ids)
        # the counts: course_instructor's primary key per course (a branch's: its instructors' allocations)
        for row in self.db.fetch_all(
                "SELECT ci.course_id, COUNT(*) AS n FROM course_instructor ci"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
                f" WHERE ci.course_id IN ({fragment}) GROUP BY ci.course_id", params):
            result[int(row["course_id"])]["count"] = int(row["n"] or 0)
        if branch_id is not None:
            for row in self.db.fetch_all(
                    "SELECT ci.course_id, COUNT(*) AS n FROM instructors ai"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
                    " JOIN course_instructor ci ON ci.instructor_id = ai.id"
                    f" WHERE ai.branch_id = :pb AND ci.course_id IN ({fragment}) GROUP BY ci.course_id",
                    {**params, "pb": branch_id}):
                result[int(row["course_id"])]["branch_count"] = int(row["n"] or 0)
        if preview <= 0:
            return result
        # the preview: per course the first ``preview`` allocations by id (the branch's first), each arm a
        # short range of the primary key, instead of numbering every allocation of the page's courses
        arms, arm_params = [], {"preview": int(preview), "pb": branch_id}
        for n, cid in enumerate(ids):
            arm_params[f"c{n}"] = cid
            if branch_id is not None:
                arms.append(f"SELECT b{n}.course_id, b{n}.instructor_id, b{n}.mine_last FROM ("  # nosec B608 # a numbered placeholder only; every value is a bound :parameter
                            "SELECT ci.course_id, ci.instructor_id, 0 AS mine_last FROM course_instructor ci"
                            f" JOIN instructors ai ON ai.id = ci.instructor_id WHERE ci.course_id = :c{n}"
                            f" AND ai.branch_id = :pb ORDER BY ci.instructor_id LIMIT :preview) b{n}")
            arms.append(f"SELECT a{n}.course_id, a{n}.instructor_id, a{n}.mine_last FROM ("  # nosec B608 # a numbered placeholder only; every value is a bound :parameter
                        "SELECT ci.course_id, ci.instructor_id, 1 AS mine_last FROM course_instructor ci"
                        f" WHERE ci.course_id = :c{n} ORDER BY ci.instructor_id LIMIT :preview) a{n}")
        picked = self.db.fetch_all(
            f"SELECT p.course_id, p.mine_last, {_INSTRUCTOR_COLUMNS} FROM ("  # nosec B608 # interpolates only arms this method builds from constants; every value is a bound :parameter
            + " UNION ALL ".join(arms) + ") p JOIN instructors i ON i.id = p.instructor_id"
            " JOIN users u ON u.id = i.user_id LEFT JOIN branches b ON b.id = i.branch_id"
            " ORDER BY p.course_id, p.mine_last, i.id", arm_params)
        for row in picked:
            entry = result[int(row.pop("course_id"))]
            row.pop("mine_last")
            if len(entry["preview"]) < preview and all(row["id"] != seen["id"] for seen in entry["preview"]):
                entry["preview"].append(row)
        return result

    def allocated_page(self, course_id: int, query: ListQuery, *, branch_id: int | None = None) -> Page:
        """One page of a course's allocated instructors (name order), optionally of one branch and
        matching a name search: the course's course_instructor range joined to instructors and users."""
        where = " WHERE ci.course_id = :course_id"
        params: dict[str, Any] = {"course_id": course_id}
        if branch_id is not None:
            where += " AND i.branch_id = :branch_id"
            params["branch_id"] = branch_id
        for n, term in enumerate(query.q.split()[:3]):
            where += (f" AND (u.first_name LIKE :q{n} ESCAPE '!' OR u.last_name LIKE :q{n} ESCAPE '!'"
                      f" OR u.email LIKE :q{n} ESCAPE '!')")
            params[f"q{n}"] = like_pattern(term)
        base = " FROM course_instructor ci JOIN instructors i ON i.id = ci.instructor_id JOIN users u ON u.id = i.user_id"
        page = self.fetch_page(
            f"SELECT {_INSTRUCTOR_COLUMNS}{base} LEFT JOIN branches b ON b.id = i.branch_id{where}",
            f"SELECT COUNT(*) AS n{base}{where}",
            params, "u.last_name, u.first_name, i.id", query)
        return page

    def allocation_count(self, course_id: int, branch_id: int | None = None, *, outside: bool = False) -> int:
        """How many instructors the course has allocated (of ``branch_id``, or outside it with
        ``outside``): one index range of course_instructor."""
        if branch_id is None:
            return int(self.db.fetch_value(
                "SELECT COUNT(*) FROM course_instructor WHERE course_id = :id", {"id": course_id}) or 0)
        test = "(i.branch_id IS NULL OR i.branch_id <> :branch)" if outside else "i.branch_id = :branch"
        return int(self.db.fetch_value(
            "SELECT COUNT(*) FROM course_instructor ci JOIN instructors i ON i.id = ci.instructor_id"  # nosec B608 # interpolates only one of two constant conditions; every value is a bound :parameter
            f" WHERE ci.course_id = :id AND {test}", {"id": course_id, "branch": branch_id}) or 0)

    def first_allocated_branch(self, course_id: int) -> int | None:
        return self.db.fetch_value(
            "SELECT MIN(i.branch_id) FROM course_instructor ci JOIN instructors i ON i.id = ci.instructor_id"
            " WHERE ci.course_id = :id", {"id": course_id})

    def instructors_of_branch(self, course_id: int, branch_id: int) -> list[dict]:
        """The course's allocated instructors of one branch, by name."""
        return self.db.fetch_all(
            f"SELECT {_INSTRUCTOR_COLUMNS} FROM course_instructor ci JOIN instructors i ON i.id = ci.instructor_id"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " JOIN users u ON u.id = i.user_id LEFT JOIN branches b ON b.id = i.branch_id"
            " WHERE ci.course_id = :id AND i.branch_id = :branch ORDER BY u.last_name, u.first_name, i.id",
            {"id": course_id, "branch": branch_id})

    def instructor_ids(self, course_id: int) -> list[int]:
        rows = self.db.fetch_all(
            "SELECT instructor_id FROM course_instructor WHERE course_id = :id ORDER BY instructor_id",
            {"id": course_id},
        )
        return [int(r["instructor_id"]) for r in rows]

    def set_instructors(self, course_id: int, instructor_ids: Iterable[int]) -> tuple[list[int], list[int]]:
        """Make the allocation exactly ``instructor_ids``; returns (added, removed)."""
        wanted = sorted(set(int(i) for i in instructor_ids))
        current = self.instructor_ids(course_id)
        removed = [i for i in current if i not in wanted]
        added = [i for i in wanted if i not in current]
        if removed:
            fragment, params = self.db.in_params("iid", removed)
            self.db.execute(
                f"DELETE FROM course_instructor WHERE course_id = :course_id AND instructor_id IN ({fragment})",  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
                {**params, "course_id": course_id},
            )
        for instructor_id in added:
            self.db.insert("course_instructor", {"course_id": course_id, "instructor_id": instructor_id})
        return added, removed

    def instructor_options(self, only_branch: int | None = None) -> list[dict]:
        """Active instructors that can be allocated (all, or one branch's), grouped by branch name."""
        return self.db.fetch_all(
            f"SELECT {_INSTRUCTOR_COLUMNS}{_INSTRUCTOR_FROM}"
            " WHERE u.status = 'active' AND (:only_branch IS NULL OR i.branch_id = :only_branch)"
            " ORDER BY b.name, u.last_name, u.first_name, i.id",
            {"only_branch": only_branch},
        )

    def instructors_by_ids(self, instructor_ids: Iterable[int]) -> dict[int, dict]:
        """The given instructors (with branch and account status) that exist, keyed by id, in one query."""
        ids = list(dict.fromkeys(int(i) for i in instructor_ids))
        if not ids:
            return {}
        fragment, params = self.db.in_params("iid", ids)
        rows = self.db.fetch_all(f"SELECT {_INSTRUCTOR_COLUMNS}{_INSTRUCTOR_FROM} WHERE i.id IN ({fragment})", params)
        return {int(r["id"]): r for r in rows}
