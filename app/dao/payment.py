"""PaymentDAO: payments (refunds are negative rows of kind 'refund') and the account_credits ledger
(migration 0017). The rules live in app/services/payments.py; this module only reads and writes.

Locking: ``lock_invoice`` / ``lock_payment`` / ``lock_student`` are locking reads (FOR UPDATE on MariaDB;
on SQLite BEGIN IMMEDIATE already serialises writers). The service takes them before any plain read of
the same transaction, so on MariaDB the plain reads that follow see what the previous holder committed.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping

from app.core.pagination import ListQuery, Page
from app.core.params import valid_id
from app.dao.base import BaseDAO, as_datetime, like_pattern, money

SORTS: dict[str, tuple[str, ...]] = {
    "date": ("p.payment_date", "p.id"),
    "amount": ("p.amount", "p.id"),
    "method": ("p.method", "p.id"),
}
METHODS = ("cash", "card", "bank_transfer", "gateway", "account_credit")
MAX_SEARCH_TERMS = 4
COUNT_CAP = 10_000  # the ledger counts and sums at most this many matching entries (issue 13)
EXPORT_LIMIT = 100_000  # a CSV export is bounded (the filters narrow it further)

_PAYMENT_COLUMNS = (
    "p.id, p.invoice_id, p.amount, p.payment_date, p.method, p.reference, p.notes, p.recorded_by, p.kind,"
    " p.refund_of, p.reason, p.idempotency_key, p.gateway, p.gateway_reference, p.created_at"
)
_CONTEXT_JOINS = (
    " JOIN invoices i ON i.id = p.invoice_id"
    " JOIN enrollments e ON e.id = i.enrollment_id"
    " JOIN students st ON st.id = e.student_id"
    " JOIN users su ON su.id = st.user_id"
    " LEFT JOIN branches b ON b.id = COALESCE(i.branch_id, st.branch_id)"
    " LEFT JOIN users ru ON ru.id = p.recorded_by"
)
# The branch an invoice belongs to (scope): its own (migration 0016), else its student's.
_SCOPE_BRANCH = "COALESCE(i.branch_id, st.branch_id)"
_CONTEXT_COLUMNS = (
    f"{_PAYMENT_COLUMNS}, i.invoice_number, i.total AS invoice_total, i.status AS invoice_status,"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
    " e.student_id, COALESCE(i.branch_id, st.branch_id) AS branch_id, st.user_id AS student_user_id,"
    " b.name AS branch_name,"
    " su.first_name AS student_first_name, su.last_name AS student_last_name,"
    " ru.first_name AS recorder_first_name, ru.last_name AS recorder_last_name, ru.role AS recorder_role,"
    " (SELECT COALESCE(-SUM(r.amount), 0) FROM payments r WHERE r.refund_of = p.id) AS refunded"
)


def _branch_clause(name: str) -> str:
    """``_SCOPE_BRANCH = :name`` on the invoice alone: the first half lets the optimiser read the branch's
    invoices by ``idx_invoices_branch_cover`` (ref_or_null); an invoice without a branch of its own (the
    original's rows) belongs to its student's branch."""
    return (f"(i.branch_id = :{name} OR i.branch_id IS NULL) AND (i.branch_id = :{name} OR i.enrollment_id IN"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            f" (SELECT be.id FROM enrollments be JOIN students bs ON bs.id = be.student_id WHERE bs.branch_id = :{name}))")


def _money_row(row: dict | None) -> dict | None:
    if row is None:
        return None
    for key in ("amount", "invoice_total", "refunded", "total", "paid"):
        if key in row:
            row[key] = money(row[key])
    return row


class PaymentDAO(BaseDAO):
    # ------------------------------------------------------------------ locks (before any plain read)

    def lock_invoice(self, invoice_id: int) -> dict | None:
        return _money_row(self.db.fetch_one(
            "SELECT id, enrollment_id, invoice_number, total, status, due_date FROM invoices"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            f" WHERE id = :id{self.db.for_update}", {"id": invoice_id}))

    def lock_payment(self, payment_id: int) -> dict | None:
        return _money_row(self.db.fetch_one(
            f"SELECT id, invoice_id, amount, kind, method FROM payments WHERE id = :id{self.db.for_update}",  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            {"id": payment_id}))

    def lock_student(self, student_id: int) -> None:
        """Serialises spending of one student's account credit."""
        self.db.fetch_one(f"SELECT id FROM students WHERE id = :id{self.db.for_update}", {"id": student_id})  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter

    def lock_key(self, key: str) -> dict | None:
        """The payment already recorded under ``key`` (a locking read: it sees the latest commit)."""
        return self.db.fetch_one(
            f"SELECT id, invoice_id FROM payments WHERE idempotency_key = :k{self.db.for_update}", {"k": key})  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter

    # ------------------------------------------------------------------ reads

    def invoice_context(self, invoice_id: int) -> dict | None:
        """The invoice with its student, the student's branch and the amount paid so far."""
        return _money_row(self.db.fetch_one(
            "SELECT i.id, i.invoice_number, i.total, i.status, i.due_date, i.issue_date, i.enrollment_id,"
            " e.student_id, COALESCE(i.branch_id, st.branch_id) AS branch_id, st.user_id AS student_user_id,"
            " su.first_name AS student_first_name, su.last_name AS student_last_name,"
            " (SELECT COALESCE(SUM(p.amount), 0) FROM payments p WHERE p.invoice_id = i.id) AS paid"
            " FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
            " JOIN students st ON st.id = e.student_id JOIN users su ON su.id = st.user_id"
            " WHERE i.id = :id", {"id": invoice_id}))

    def paid_total(self, invoice_id: int) -> Decimal:
        return money(self.db.fetch_value(
            "SELECT COALESCE(SUM(amount), 0) AS paid FROM payments WHERE invoice_id = :id", {"id": invoice_id}))

    def refunded_total(self, payment_id: int) -> Decimal:
        """What has been refunded of one payment so far (a positive amount)."""
        return money(self.db.fetch_value(
            "SELECT COALESCE(-SUM(amount), 0) AS refunded FROM payments WHERE refund_of = :id", {"id": payment_id}))

    def find(self, payment_id: int) -> dict | None:
        """One payment with its invoice, student, branch, who recorded it and what was refunded of it."""
        return _money_row(self.db.fetch_one(
            f"SELECT {_CONTEXT_COLUMNS} FROM payments p{_CONTEXT_JOINS} WHERE p.id = :id", {"id": payment_id}))  # nosec B608 # interpolates only module constants; every value is a bound :parameter

    def for_invoice(self, invoice_id: int, limit: int = 200) -> list[dict]:
        """An invoice's payments and refunds, oldest first, in one query."""
        rows = self.db.fetch_all(
            f"SELECT {_CONTEXT_COLUMNS} FROM payments p{_CONTEXT_JOINS} WHERE p.invoice_id = :id"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " ORDER BY p.payment_date, p.id LIMIT :limit", {"id": invoice_id, "limit": int(limit)})
        return [_money_row(r) for r in rows]

    def for_student(self, student_id: int, limit: int = 10) -> list[dict]:
        """A student's latest payments and refunds (their receipts), newest first, in one query."""
        rows = self.db.fetch_all(
            f"SELECT {_CONTEXT_COLUMNS} FROM payments p{_CONTEXT_JOINS} WHERE e.student_id = :id"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " ORDER BY p.payment_date DESC, p.id DESC LIMIT :limit", {"id": student_id, "limit": int(limit)})
        return [_money_row(r) for r in rows]

    def credit_balance(self, student_id: int) -> Decimal:
        return money(self.db.fetch_value(
            "SELECT COALESCE(SUM(amount), 0) AS balance FROM account_credits WHERE student_id = :id",
            {"id": student_id}))

    def credits_for(self, payment_id: int) -> list[dict]:
        rows = self.db.fetch_all(
            "SELECT id, student_id, amount, source, invoice_id, payment_id, notes, created_at FROM account_credits"
            " WHERE payment_id = :id ORDER BY id", {"id": payment_id})
        return [_money_row(r) for r in rows]

    # ------------------------------------------------------------------ writes

    def insert(self, row: Mapping[str, Any]) -> int:
        return self.db.insert("payments", dict(row))

    def add_credit(self, row: Mapping[str, Any]) -> int:
        return self.db.insert("account_credits", dict(row))

    def set_invoice_status(self, invoice_id: int, status: str, now: datetime) -> None:
        self.db.execute("UPDATE invoices SET status = :status, updated_at = :now WHERE id = :id",
                        {"status": status, "now": now, "id": invoice_id})

    # ------------------------------------------------------------------ the ledger

    @staticmethod
    def _where(query: ListQuery, only_branch: int | None) -> tuple[str, dict[str, Any]]:
        clauses, params = ["1 = 1"], {}
        if only_branch is not None:
            clauses.append(_branch_clause("only_branch"))
            params["only_branch"] = only_branch
        for n, term in enumerate(query.q.split()[:MAX_SEARCH_TERMS]):
            key = f"q{n}"
            clauses.append(f"(su.first_name LIKE :{key} ESCAPE '!' OR su.last_name LIKE :{key} ESCAPE '!'"
                           f" OR i.invoice_number LIKE :{key} ESCAPE '!' OR p.reference LIKE :{key} ESCAPE '!')")
            params[key] = like_pattern(term)
        branch = query.filter_int("branch")
        if branch is not None:
            clauses.append(_branch_clause("branch"))
            params["branch"] = branch if valid_id(branch) else 0
        if query.filter("method") in METHODS:
            clauses.append("p.method = :method")
            params["method"] = query.filter("method")
        if query.filter("kind") in ("payment", "refund"):
            clauses.append("p.kind = :kind")
            params["kind"] = query.filter("kind")
        day_from, day_to = query.filter_date("date_from"), query.filter_date("date_to")
        if day_from is not None:
            clauses.append("p.payment_date >= :date_from")
            params["date_from"] = day_from
        if day_to is not None:
            clauses.append("p.payment_date <= :date_to")
            params["date_to"] = day_to
        return " WHERE " + " AND ".join(clauses), params

    _LEDGER_FROM = (" FROM payments p JOIN invoices i ON i.id = p.invoice_id"
                    " JOIN enrollments e ON e.id = i.enrollment_id JOIN students st ON st.id = e.student_id"
                    " JOIN users su ON su.id = st.user_id")

    def _ledger_from(self, query: ListQuery, only_branch: int | None = None) -> str:
        """The ledger's count and totals join the people only for a search (the other filters need the
        payment and its invoice alone, and no invoice without a branch scope or filter: every payment
        has its invoice, a foreign key)."""
        if query.q.strip():
            return self._LEDGER_FROM
        if only_branch is None and query.filter_int("branch") is None:
            return " FROM payments p"
        return " FROM payments p JOIN invoices i ON i.id = p.invoice_id"

    def ledger_page(self, query: ListQuery, only_branch: int | None, total: int | None = None) -> Page:
        """One page of the payments ledger (count + page of ids, then the page's rows). The count stops at
        COUNT_CAP matching entries (``page.capped``, issue 13); ``total``: the caller's exact count (no
        count statement then)."""
        where, params = self._where(query, only_branch)
        page = self.fetch_page_capped(
            self._ledger_from(query, only_branch) + where, _CONTEXT_COLUMNS,
            "JOIN payments p ON p.id = pick.pick_id" + _CONTEXT_JOINS,
            params, self.order_clause(SORTS, query, "p.id"), query, pick="p.id", cap=COUNT_CAP, total=total)
        page.items = [_money_row(r) for r in page.items]
        return page

    def ledger_totals(self, query: ListQuery, only_branch: int | None) -> dict:
        """Received, refunded and net of the whole filtered ledger, from one aggregate."""
        where, params = self._where(query, only_branch)
        row = self.db.fetch_one(
            "SELECT COUNT(*) AS n,"
            " COALESCE(SUM(CASE WHEN p.kind = 'refund' THEN 0 ELSE p.amount END), 0) AS received,"
            " COALESCE(-SUM(CASE WHEN p.kind = 'refund' THEN p.amount ELSE 0 END), 0) AS refunded,"
            " COALESCE(SUM(p.amount), 0) AS net" + self._ledger_from(query, only_branch) + where, params) or {}
        return {"count": int(row.get("n") or 0), "received": money(row.get("received")),
                "refunded": money(row.get("refunded")), "net": money(row.get("net"))}

    def summary_totals(self, query: ListQuery, only_branch: int | None) -> dict | None:
        """The ledger's totals from stat_payment_totals (summary "payment_totals", refreshed by
        ``flask refresh-stats``) for the filters it keeps (branch, method, kind): None with a search or a
        date filter (the live totals serve those) or before the first refresh."""
        if query.q.strip() or query.filter_date("date_from") or query.filter_date("date_to"):
            return None
        branch = only_branch if only_branch is not None else query.filter_int("branch")
        method = query.filter("method") if query.filter("method") in METHODS else None
        kind = query.filter("kind") if query.filter("kind") in ("payment", "refund") else None
        row = self.db.fetch_one(
            "SELECT COALESCE(SUM(t.entries), 0) AS n,"
            " COALESCE(SUM(CASE WHEN t.kind = 'refund' THEN 0 ELSE t.amount END), 0) AS received,"
            " COALESCE(-SUM(CASE WHEN t.kind = 'refund' THEN t.amount ELSE 0 END), 0) AS refunded,"
            " COALESCE(SUM(t.amount), 0) AS net,"
            " (SELECT f.refreshed_at FROM stat_freshness f WHERE f.name = 'payment_totals') AS refreshed_at"
            " FROM stat_payment_totals t WHERE (:b IS NULL OR t.branch_id = :b) AND (:m IS NULL OR t.method = :m)"
            " AND (:k IS NULL OR t.kind = :k)", {"b": branch, "m": method, "k": kind}) or {}
        if row.get("refreshed_at") is None:
            return None
        return {"count": int(row.get("n") or 0), "received": money(row.get("received")),
                "refunded": money(row.get("refunded")), "net": money(row.get("net")),
                "refreshed_at": as_datetime(row["refreshed_at"])}

    def ledger_export(self, query: ListQuery, only_branch: int | None) -> list[dict]:
        """Every filtered row for the CSV (bounded by EXPORT_LIMIT), in the ledger's order."""
        where, params = self._where(query, only_branch)
        rows = self.db.fetch_all(
            "SELECT p.id, p.payment_date, p.kind, p.amount, p.method, p.reference, p.refund_of, p.reason,"
            " i.invoice_number, su.first_name AS student_first_name, su.last_name AS student_last_name,"
            " b.name AS branch_name, ru.first_name AS recorder_first_name, ru.last_name AS recorder_last_name,"
            " p.created_at" + self._LEDGER_FROM +
            f" LEFT JOIN branches b ON b.id = {_SCOPE_BRANCH} LEFT JOIN users ru ON ru.id = p.recorded_by"
            + where + f" ORDER BY {self.order_clause(SORTS, query, 'p.id')} LIMIT :export_limit",
            {**params, "export_limit": EXPORT_LIMIT})
        return [_money_row(r) for r in rows]

