"""AuditDAO (PHP AuditModel): the append-only audit_trail and its hash-chain head.

There is deliberately no update or delete method for audit_trail rows.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Iterator, Mapping

from app.core.errors import Conflict
from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, like_pattern

_COLUMNS = (
    "a.id, a.user_id, a.action, a.entity_type, a.entity_id, a.details, a.created_at,"
    " a.actor_role, a.ip_address, a.before_json, a.after_json, a.prev_hash, a.row_hash"
)

# The acting user, joined: actor_user_id is NULL when the row's user no longer exists.
_ACTOR = "u.id AS actor_user_id, u.first_name, u.last_name, u.email, u.role AS user_role"

# each sort follows one index to the row id (idx_audit_created, idx_audit_action, idx_audit_entity), so a
# page reads its rows in index order instead of sorting the whole trail
SORTS = {"created_at": ("a.created_at", "a.id"), "action": ("a.action", "a.created_at", "a.id"),
         "entity": ("a.entity_type", "a.entity_id", "a.id")}


class AuditDAO(BaseDAO):
    def lock_head(self) -> dict:
        """The chain head (last id and hash), locked until the transaction ends."""
        sql = f"SELECT id, last_id, last_hash FROM audit_chain WHERE id = 1{self.db.for_update}"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
        head = self.db.fetch_one(sql)
        if head is None:
            try:  # the schema seeds this row; this covers a database emptied by hand
                self.db.execute("INSERT INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL)")
            except Conflict as exc:
                if exc.constraint is None:  # a deadlock or lock timeout, not "another writer created it"
                    raise
            head = self.db.fetch_one(sql)
        return head

    def move_head(self, last_id: int, last_hash: str, now: datetime, *, data_change: bool = True) -> None:
        """The chain's new head; ``data_change`` also moves last_data_id (the data version)."""
        self.db.execute(
            "UPDATE audit_chain SET last_id = :last_id, last_hash = :last_hash, updated_at = :now"  # nosec B608 # appends only a constant clause; every value is a bound :parameter
            + (", last_data_id = :last_id" if data_change else "") + " WHERE id = 1",
            {"last_id": last_id, "last_hash": last_hash, "now": now},
        )

    def head(self) -> dict | None:
        return self.db.fetch_one("SELECT id, last_id, last_hash FROM audit_chain WHERE id = 1")

    def insert(self, row: dict[str, Any]) -> int:
        return self.db.insert("audit_trail", row)

    def find(self, audit_id: int) -> dict | None:
        """One row with its actor's name (see _ACTOR)."""
        return self.db.fetch_one(
            f"SELECT {_COLUMNS}, {_ACTOR} FROM audit_trail a LEFT JOIN users u ON u.id = a.user_id WHERE a.id = :id",  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            {"id": audit_id},
        )

    def chain_batch(self, after_id: int, limit: int = 500) -> list[dict]:
        """Rows in id order for verification, ``limit`` at a time."""
        return self.db.fetch_all(
            f"SELECT {_COLUMNS} FROM audit_trail a WHERE a.id > :after_id ORDER BY a.id LIMIT :limit",  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            {"after_id": after_id, "limit": int(limit)},
        )

    def row_before(self, audit_id: int) -> dict | None:
        """The row just before ``audit_id`` in id order (where a range's chain check starts), or None."""
        return self.db.fetch_one(
            "SELECT id, prev_hash, row_hash FROM audit_trail WHERE id < :id ORDER BY id DESC LIMIT 1",
            {"id": int(audit_id)},
        )

    def ids_after(self, after_id: int, skip: int, limit: int) -> list[int]:
        """Ids in id order after ``after_id``, the first ``skip`` of them left out, at most ``limit``."""
        rows = self.db.fetch_all(
            "SELECT id FROM audit_trail WHERE id > :after_id ORDER BY id LIMIT :limit OFFSET :skip",
            {"after_id": int(after_id), "skip": int(skip), "limit": int(limit)},
        )
        return [int(r["id"]) for r in rows]

    def record_verification(self, row: Mapping[str, Any]) -> int:
        """One result of a full chain check (audit_verifications: verified_at, checked, last_id,
        last_hash, ok, first_bad_id, reason)."""
        return self.db.insert("audit_verifications", dict(row))

    def latest_verification(self, ok_only: bool = False) -> dict | None:
        """The newest full chain check (``ok_only``: the newest that passed), or None."""
        return self.db.fetch_one(
            "SELECT id, verified_at, checked, last_id, last_hash, ok, first_bad_id, reason"
            " FROM audit_verifications WHERE ok = 1 OR :any_result = 1 ORDER BY id DESC LIMIT 1",
            {"any_result": 0 if ok_only else 1},
        )

    @staticmethod
    def _where(query: ListQuery) -> tuple[str, dict]:
        clauses, params = ["1 = 1"], {}
        if query.filter_int("user_id") is not None:
            clauses.append("a.user_id = :user_id")
            params["user_id"] = query.filter_int("user_id")
        if query.filter("entity_type"):
            clauses.append("a.entity_type = :entity_type")
            params["entity_type"] = query.filter("entity_type")
        if query.filter_int("entity_id") is not None:
            clauses.append("a.entity_id = :entity_id")
            params["entity_id"] = query.filter_int("entity_id")
        if query.filter("action"):
            clauses.append("a.action = :action")
            params["action"] = query.filter("action")
        if query.filter("from_at"):
            clauses.append("a.created_at >= :from_at")
            params["from_at"] = query.filter("from_at")
        if query.filter("to_at"):
            clauses.append("a.created_at < :to_at")
            params["to_at"] = query.filter("to_at")
        if query.q:
            clauses.append("(a.action LIKE :q ESCAPE '!' OR a.details LIKE :q ESCAPE '!'"
                           " OR u.email LIKE :q ESCAPE '!')")
            params["q"] = like_pattern(query.q)
        return " AND ".join(clauses), params

    def list_page(self, query: ListQuery) -> Page:
        """Filters: user_id, entity_type, entity_id, action, from_at/to_at ('YYYY-MM-DD HH:MM:SS' UTC)."""
        where, params = self._where(query)
        # a capped count ("10,000+"; the trail grows by thousands a day) and the page's ids picked first
        return self.fetch_page_capped(
            "FROM audit_trail a LEFT JOIN users u ON u.id = a.user_id WHERE " + where,
            f"{_COLUMNS}, {_ACTOR}",
            "JOIN audit_trail a ON a.id = pick.pick_id LEFT JOIN users u ON u.id = a.user_id",
            params,
            self.order_clause(SORTS, query, "a.id"),
            query,
            pick="a.id",
        )

    def export(self, query: ListQuery, batch: int = 1000) -> Iterator[dict]:
        """Every matching row in id order, fetched in batches (for CSV export)."""
        where, params = self._where(query)
        last_id = 0
        while True:
            rows = self.db.fetch_all(
                f"SELECT {_COLUMNS}, u.email FROM audit_trail a LEFT JOIN users u ON u.id = a.user_id"  # nosec B608 # interpolates only fragments this code builds from constants, module constants; every value is a bound :parameter
                f" WHERE {where} AND a.id > :last_id ORDER BY a.id LIMIT :batch",
                {**params, "last_id": last_id, "batch": int(batch)},
            )
            if not rows:
                return
            yield from rows
            last_id = rows[-1]["id"]

    def distinct_actions(self) -> list[str]:
        return [r["action"] for r in self.db.fetch_all("SELECT DISTINCT action FROM audit_trail ORDER BY action")]

    def distinct_entity_types(self) -> list[str]:
        rows = self.db.fetch_all(
            "SELECT DISTINCT entity_type FROM audit_trail WHERE entity_type IS NOT NULL ORDER BY entity_type"
        )
        return [r["entity_type"] for r in rows]

    def record_names(self, wanted: Mapping[str, Iterable[int]]) -> list[dict]:
        """Names of the records a page of audit rows points at, in ONE statement whatever the row count.

        ``wanted`` maps a kind (student, instructor, vehicle, branch, course, staff, invoice, user) to ids.
        Each result row: kind, ref_id, first_name, last_name (an invoice: its student), title (an invoice:
        its number), extra (vehicle plate / user role) and
        profile_id (for users: the student, instructor or staff profile matching their role).
        """
        parts, params = [], {}
        for kind, ids in wanted.items():
            if kind not in _NAME_SQL:
                continue
            names = []
            for n, value in enumerate(sorted({int(i) for i in ids})):
                params[f"{kind}_{n}"] = value
                names.append(f":{kind}_{n}")
            if names:
                parts.append(_NAME_SQL[kind].format(ids=", ".join(names)))
        if not parts:
            return []
        return self.db.fetch_all(" UNION ALL ".join(parts), params)


# Every part names its columns (the first part of a UNION names the result, whichever kind comes first).
_NAME_SQL = {
    "student": "SELECT 'student' AS kind, s.id AS ref_id, su.first_name AS first_name, su.last_name AS last_name,"
               " NULL AS title, NULL AS extra, NULL AS profile_id"
               " FROM students s JOIN users su ON su.id = s.user_id WHERE s.id IN ({ids})",
    "instructor": "SELECT 'instructor' AS kind, i.id AS ref_id, iu.first_name AS first_name, iu.last_name AS last_name,"
                  " NULL AS title, NULL AS extra, NULL AS profile_id"
                  " FROM instructors i JOIN users iu ON iu.id = i.user_id WHERE i.id IN ({ids})",
    "staff": "SELECT 'staff' AS kind, p.id AS ref_id, pu.first_name AS first_name, pu.last_name AS last_name,"
             " NULL AS title, NULL AS extra, NULL AS profile_id"
             " FROM staff_profiles p JOIN users pu ON pu.id = p.user_id WHERE p.id IN ({ids})",
    "vehicle": "SELECT 'vehicle' AS kind, v.id AS ref_id, NULL AS first_name, NULL AS last_name, v.name AS title,"
               " v.plate_number AS extra, NULL AS profile_id FROM vehicles v WHERE v.id IN ({ids})",
    "branch": "SELECT 'branch' AS kind, b.id AS ref_id, NULL AS first_name, NULL AS last_name, b.name AS title,"
              " NULL AS extra, NULL AS profile_id FROM branches b WHERE b.id IN ({ids})",
    "course": "SELECT 'course' AS kind, c.id AS ref_id, NULL AS first_name, NULL AS last_name, c.title AS title,"
              " NULL AS extra, NULL AS profile_id FROM courses c WHERE c.id IN ({ids})",
    "invoice": "SELECT 'invoice' AS kind, inv.id AS ref_id, isu.first_name AS first_name, isu.last_name AS last_name,"
               " inv.invoice_number AS title, NULL AS extra, NULL AS profile_id"
               " FROM invoices inv LEFT JOIN enrollments ie ON ie.id = inv.enrollment_id"
               " LEFT JOIN students ist ON ist.id = ie.student_id LEFT JOIN users isu ON isu.id = ist.user_id"
               " WHERE inv.id IN ({ids})",
    "user": "SELECT 'user' AS kind, ru.id AS ref_id, ru.first_name AS first_name, ru.last_name AS last_name,"
            " NULL AS title, ru.role AS extra,"
            " CASE ru.role"
            " WHEN 'student' THEN (SELECT MIN(x.id) FROM students x WHERE x.user_id = ru.id)"
            " WHEN 'instructor' THEN (SELECT MIN(x.id) FROM instructors x WHERE x.user_id = ru.id)"
            " WHEN 'staff' THEN (SELECT MIN(x.id) FROM staff_profiles x WHERE x.user_id = ru.id)"
            " END AS profile_id FROM users ru WHERE ru.id IN ({ids})",
}
