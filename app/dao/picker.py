"""PickerDAO: the searchable, paginated pickers' reads (instructors, students, vehicles of a branch).

A form control that could list thousands of rows (every instructor of a national chain, every student
of a branch) shows one page of matches instead (services/pickers.py). Each kind reads one page of
(id, label parts) rows in name order plus their count, both bounded by the page size, and looks up the
few chosen ids (the values a form already carries) in one statement.
"""
from __future__ import annotations

from typing import Any, Iterable

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, escape_like, like_pattern

MAX_SEARCH_TERMS = 4
COUNT_CAP = 1_000  # a picker counts at most this many matches ("1,000+"): typing narrows them

# kind -> the picked table (``pick``: its id), the users join (people), what the page shows, the branch
# column, the status condition, the searched columns (``prefix``: those an index serves, for a search
# over the whole chain) and the order
_KINDS: dict[str, dict[str, str | tuple[str, ...]]] = {
    "instructor": {
        "table": "instructors i", "pick": "i.id", "users": " JOIN {users} ON u.id = i.user_id",
        "columns": "i.id, u.first_name, u.last_name, u.email, u.status, i.branch_id, b.name AS branch_name",
        "shown": " LEFT JOIN branches b ON b.id = i.branch_id",
        "branch": "i.branch_id",
        "active": "u.status = 'active'",
        "search": ("u.first_name", "u.last_name", "u.email"),
        "prefix": ("u.last_name", "u.first_name", "u.email"),
        "order": "u.last_name, u.first_name, i.id",
        "id": "i.id",
    },
    "student": {
        "table": "students st", "pick": "st.id", "users": " JOIN {users} ON u.id = st.user_id",
        "columns": "st.id, u.first_name, u.last_name, u.email, u.status, st.branch_id, b.name AS branch_name",
        "shown": " LEFT JOIN branches b ON b.id = st.branch_id",
        "branch": "st.branch_id",
        "active": "u.status = 'active'",
        "search": ("u.first_name", "u.last_name", "u.email"),
        "prefix": ("u.last_name", "u.first_name", "u.email"),
        "order": "u.last_name, u.first_name, st.id",
        "id": "st.id",
    },
    "vehicle": {
        "table": "vehicles v", "pick": "v.id", "users": "",
        "columns": "v.id, v.name, v.plate_number, v.status, v.branch_id, b.name AS branch_name",
        "shown": " LEFT JOIN branches b ON b.id = v.branch_id",
        "branch": "v.branch_id",
        "active": "1 = 1",
        "search": ("v.name", "v.plate_number"),
        "prefix": ("v.name", "v.plate_number"),
        "order": "v.name, v.plate_number, v.id",
        "id": "v.id",
    },
}

KINDS = tuple(_KINDS)


class PickerDAO(BaseDAO):
    def search(self, kind: str, query: ListQuery, *, branch_id: int | None, active_only: bool = True,
               enrolled_only: bool = False) -> Page:
        """One page of ``kind`` rows of ``branch_id`` (None: every branch) matching every word of
        ``query.q`` (names, e-mail or plate), by name, with a count capped at COUNT_CAP (``capped``).
        Within a branch a word matches anywhere; over the whole chain (no branch) it matches the start of
        a name, e-mail or plate, through their indexes (a contains-search reads all 200,000 students at
        scale L). ``enrolled_only`` (students): only those with an active or in-progress enrolment (the
        booking forms)."""
        spec = _KINDS[kind]
        prefix = branch_id is None and bool(query.q.split())
        where, params = self._where(spec, query.q, branch_id, active_only, prefix)
        if enrolled_only and kind == "student":
            where += (" AND EXISTS (SELECT 1 FROM enrollments e WHERE e.student_id = st.id"
                      " AND e.status IN ('active', 'in_progress'))")
        users = self.users_table(prefix and bool(spec["users"]))
        from_where = f"FROM {spec['table']}{str(spec['users']).format(users=users)} WHERE {where}"
        joins = (f"JOIN {spec['table']} ON {spec['id']} = pick.pick_id"
                 f"{str(spec['users']).format(users='users u')}{spec['shown']}")
        return self.fetch_page_capped(from_where, str(spec["columns"]), joins, params, str(spec["order"]), query,
                                      pick=str(spec["pick"]), cap=COUNT_CAP)

    def by_ids(self, kind: str, ids: Iterable[int]) -> dict[int, dict]:
        """The given rows of ``kind`` that exist (any branch, any status), keyed by id, in one query."""
        wanted = list(dict.fromkeys(int(i) for i in ids))[:100]
        if not wanted:
            return {}
        spec = _KINDS[kind]
        fragment, params = self.db.in_params("pid", wanted)
        rows = self.db.fetch_all(
            f"SELECT {spec['columns']} FROM {spec['table']}{str(spec['users']).format(users='users u')}{spec['shown']}"  # nosec B608 # interpolates only module constants and IN-list placeholders of db.in_params; every value is a bound :parameter
            f" WHERE {spec['id']} IN ({fragment})",
            params,
        )
        return {int(r["id"]): r for r in rows}

    @staticmethod
    def _where(spec: dict, q: str, branch_id: int | None, active_only: bool,
               prefix: bool = False) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {}
        parts = ["1 = 1"]
        if branch_id is not None:  # a plain equality (not ":b IS NULL OR ..."), so the branch index serves it
            parts.append(f"{spec['branch']} = :branch_id")
            params["branch_id"] = branch_id
        if active_only:
            parts.append(str(spec["active"]))
        columns = spec["prefix"] if prefix else spec["search"]
        for n, word in enumerate(q.split()[:MAX_SEARCH_TERMS]):
            params[f"q{n}"] = escape_like(word) + "%" if prefix else like_pattern(word)
            parts.append("(" + " OR ".join(f"{column} LIKE :q{n} ESCAPE '!'" for column in columns) + ")")
        return " AND ".join(parts), params
