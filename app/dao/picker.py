"""PickerDAO: the searchable, paginated pickers' reads (instructors, students, vehicles of a branch).

A form control that could list thousands of rows (every instructor of a national chain, every student
of a branch) shows one page of matches instead (services/pickers.py). Each kind reads one page of
(id, label parts) rows in name order plus their count, both bounded by the page size, and looks up the
few chosen ids (the values a form already carries) in one statement.
"""
from __future__ import annotations

from typing import Any, Iterable

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, like_pattern

MAX_SEARCH_TERMS = 4

# kind -> (columns, FROM with joins, branch column, status condition, searched columns, order)
_KINDS: dict[str, dict[str, str | tuple[str, ...]]] = {
    "instructor": {
        "columns": "i.id, u.first_name, u.last_name, u.email, u.status, i.branch_id, b.name AS branch_name",
        "from": " FROM instructors i JOIN users u ON u.id = i.user_id LEFT JOIN branches b ON b.id = i.branch_id",
        "branch": "i.branch_id",
        "active": "u.status = 'active'",
        "search": ("u.first_name", "u.last_name", "u.email"),
        "order": "u.last_name, u.first_name, i.id",
        "id": "i.id",
    },
    "student": {
        "columns": "st.id, u.first_name, u.last_name, u.email, u.status, st.branch_id, b.name AS branch_name",
        "from": " FROM students st JOIN users u ON u.id = st.user_id LEFT JOIN branches b ON b.id = st.branch_id",
        "branch": "st.branch_id",
        "active": "u.status = 'active'",
        "search": ("u.first_name", "u.last_name", "u.email"),
        "order": "u.last_name, u.first_name, st.id",
        "id": "st.id",
    },
    "vehicle": {
        "columns": "v.id, v.name, v.plate_number, v.status, v.branch_id, b.name AS branch_name",
        "from": " FROM vehicles v LEFT JOIN branches b ON b.id = v.branch_id",
        "branch": "v.branch_id",
        "active": "1 = 1",
        "search": ("v.name", "v.plate_number"),
        "order": "v.name, v.plate_number, v.id",
        "id": "v.id",
    },
}

KINDS = tuple(_KINDS)


class PickerDAO(BaseDAO):
    def search(self, kind: str, query: ListQuery, *, branch_id: int | None, active_only: bool = True,
               enrolled_only: bool = False) -> Page:
        """One page of ``kind`` rows of ``branch_id`` (None: every branch) matching every word of
        ``query.q`` (names, e-mail or plate), by name. ``enrolled_only`` (students): only those with an
        active or in-progress enrolment (the booking forms)."""
        spec = _KINDS[kind]
        where, params = self._where(spec, query.q, branch_id, active_only)
        if enrolled_only and kind == "student":
            where += (" AND EXISTS (SELECT 1 FROM enrollments e WHERE e.student_id = st.id"
                      " AND e.status IN ('active', 'in_progress'))")
        return self.fetch_page(
            f"SELECT {spec['columns']}{spec['from']} WHERE {where}",
            f"SELECT COUNT(*) AS n{spec['from']} WHERE {where}",
            params, str(spec["order"]), query,
        )

    def by_ids(self, kind: str, ids: Iterable[int]) -> dict[int, dict]:
        """The given rows of ``kind`` that exist (any branch, any status), keyed by id, in one query."""
        wanted = list(dict.fromkeys(int(i) for i in ids))[:100]
        if not wanted:
            return {}
        spec = _KINDS[kind]
        fragment, params = self.db.in_params("pid", wanted)
        rows = self.db.fetch_all(
            f"SELECT {spec['columns']}{spec['from']} WHERE {spec['id']} IN ({fragment})",
            params,
        )
        return {int(r["id"]): r for r in rows}

    @staticmethod
    def _where(spec: dict, q: str, branch_id: int | None, active_only: bool) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"branch_id": branch_id}
        parts = [f"(:branch_id IS NULL OR {spec['branch']} = :branch_id)"]
        if active_only:
            parts.append(str(spec["active"]))
        for n, word in enumerate(q.split()[:MAX_SEARCH_TERMS]):
            params[f"q{n}"] = like_pattern(word)
            parts.append("(" + " OR ".join(f"{column} LIKE :q{n} ESCAPE '!'" for column in spec["search"]) + ")")
        return " AND ".join(parts), params
