"""InvoiceDAO (PHP InvoiceModel): invoices with their computed balance."""
from __future__ import annotations

from datetime import date, datetime

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, as_datetime, like_pattern, money


# ---------------------------------------------------------------------------------------------------
# Issue 9: the invoicing service's reads and writes (app/services/invoicing.py holds the rules).

INVOICE_COLUMNS = ("enrollment_id", "invoice_number", "issue_date", "due_date", "subtotal", "tax_amount", "total",
                   "status", "notes", "created_at", "updated_at", "discount_amount", "tax_rate", "tax_inclusive",
                   "branch_id", "issued_at", "credit_note_for", "created_by")
ITEM_COLUMNS = ("invoice_id", "description", "quantity", "unit_price", "total", "kind", "credits", "discount",
                "schedule_id")
INVOICE_SORTS = {
    "issued": ("i.issue_date", "i.id"),
    "number": "i.invoice_number",
    "due": ("i.due_date", "i.id"),
    "total": ("i.total", "i.id"),
}
COUNT_CAP = 10_000  # the list counts and sums at most this many matching invoices (issue 13)
_MONEY_KEYS = ("subtotal", "tax_amount", "total", "discount_amount", "paid", "credited", "unit_price",
               "discount", "amount", "tax_rate")

# Joins from an invoice alias ``i`` to its enrolment, course, student (name, account) and branch.
_PEOPLE = (" JOIN enrollments e ON e.id = i.enrollment_id"
           " JOIN courses c ON c.id = e.course_id"
           " JOIN students st ON st.id = e.student_id"
           " JOIN users su ON su.id = st.user_id"
           " LEFT JOIN branches b ON b.id = COALESCE(i.branch_id, st.branch_id)")
_PEOPLE_COLUMNS = (" c.title AS course_title, e.student_id, e.course_id, st.user_id AS student_user_id,"
                   " su.first_name AS student_first_name, su.last_name AS student_last_name,"
                   " su.email AS student_email, st.branch_id AS student_branch_id,"
                   " COALESCE(i.branch_id, st.branch_id) AS scope_branch_id, b.name AS branch_name,"
                   " b.address AS branch_address, b.phone AS branch_phone, b.email AS branch_email")
_INVOICE_ALL = ("{p}id, {p}enrollment_id, {p}invoice_number, {p}issue_date, {p}due_date, {p}subtotal,"
                " {p}tax_amount, {p}total, {p}status, {p}notes, {p}created_at, {p}updated_at, {p}discount_amount,"
                " {p}tax_rate, {p}tax_inclusive, {p}branch_id, {p}issued_at, {p}voided_at, {p}void_reason,"
                " {p}credit_note_for, {p}created_by")
_ITEM_ALL = ("it.id, it.invoice_id, it.description, it.quantity, it.unit_price, it.total, it.kind, it.credits,"
             " it.discount, it.waived_at, it.waived_by, it.waive_reason, it.schedule_id")
_PAID = "COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.invoice_id = i.id), 0)"
_CREDITED = ("COALESCE((SELECT -SUM(cn.total) FROM invoices cn WHERE cn.credit_note_for = i.id"
             " AND cn.status <> 'void' AND cn.status <> 'draft'), 0)")


def _branch_clause(name: str) -> str:
    """``COALESCE(i.branch_id, <student's branch>) = :name`` on the invoice alone: the first half lets the
    optimiser read the branch's rows by ``idx_invoices_branch_cover`` (ref_or_null); an invoice without a
    branch of its own (the original's rows) belongs to its student's branch."""
    return (f"(i.branch_id = :{name} OR i.branch_id IS NULL) AND (i.branch_id = :{name} OR i.enrollment_id IN"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            f" (SELECT be.id FROM enrollments be JOIN students bs ON bs.id = be.student_id WHERE bs.branch_id = :{name}))")


def _money_row(row: dict | None) -> dict | None:
    if row is None:
        return None
    for key in _MONEY_KEYS:
        if key in row and row[key] is not None:
            row[key] = money(row[key])
    if "total" in row and "paid" in row:
        row["balance_due"] = row["total"] - row["paid"] - row.get("credited", money(0))
    if "tax_inclusive" in row and row["tax_inclusive"] is not None:
        row["tax_inclusive"] = bool(int(row["tax_inclusive"]))
    return row


class InvoiceWriteDAO(BaseDAO):
    """The issue-9 reads and writes; InvoiceDAO below adds the dashboard's ``recent``."""

    # -- context ----------------------------------------------------------------------------------
    def enrollment_context(self, enrollment_id: int) -> dict | None:
        """The enrolment with its course (title, price), student (account, name, branch)."""
        return _money_row(self.db.fetch_one(
            "SELECT e.id AS enrollment_id, e.student_id, e.course_id, c.title AS course_title, c.price AS unit_price,"
            " st.user_id AS student_user_id, st.branch_id, su.first_name AS student_first_name,"
            " su.last_name AS student_last_name"
            " FROM enrollments e JOIN courses c ON c.id = e.course_id JOIN students st ON st.id = e.student_id"
            " JOIN users su ON su.id = st.user_id WHERE e.id = :id", {"id": enrollment_id}))

    # -- invoices ---------------------------------------------------------------------------------
    def insert_invoice(self, row: dict) -> int:
        unknown = set(row) - set(INVOICE_COLUMNS)
        if unknown:
            raise ValueError(f"not an invoice column: {sorted(unknown)}")
        return self.db.insert("invoices", row)

    def set_number(self, invoice_id: int, number: str) -> int:
        return self.db.execute("UPDATE invoices SET invoice_number = :n WHERE id = :id",
                               {"id": invoice_id, "n": number}).rowcount

    def find(self, invoice_id: int) -> dict | None:
        """The invoice with people, branch, amount paid and credited (credit notes) in one query."""
        return _money_row(self.db.fetch_one(
            f"SELECT {_INVOICE_ALL.format(p='i.')}, {_PAID} AS paid, {_CREDITED} AS credited,"  # nosec B608 # interpolates only fragments this code builds from constants, module constants; every value is a bound :parameter
            " (SELECT o.invoice_number FROM invoices o WHERE o.id = i.credit_note_for) AS credit_note_for_number,"
            + _PEOPLE_COLUMNS + " FROM invoices i" + _PEOPLE + " WHERE i.id = :id", {"id": invoice_id}))

    def lock(self, invoice_id: int) -> dict | None:
        return _money_row(self.db.fetch_one(f"SELECT {_INVOICE_ALL.format(p='')} FROM invoices WHERE id = :id" + self.db.for_update,  # nosec B608 # interpolates only fragments this code builds from constants, the backend's row-lock clause; every value is a bound :parameter
                                            {"id": invoice_id}))

    def amounts(self, invoice_id: int) -> dict | None:
        """total, paid (payments, refunds negative) and credited (issued credit notes) of one invoice."""
        return _money_row(self.db.fetch_one(
            f"SELECT i.id, i.enrollment_id, i.total, i.status, i.due_date, i.credit_note_for, {_PAID} AS paid, {_CREDITED} AS credited"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " FROM invoices i WHERE i.id = :id", {"id": invoice_id}))

    def update_totals(self, invoice_id: int, *, subtotal, discount, tax, total, now: datetime) -> int:
        return self.db.execute(
            "UPDATE invoices SET subtotal = :s, discount_amount = :d, tax_amount = :t, total = :total,"
            " updated_at = :now WHERE id = :id AND status = 'draft'",
            {"id": invoice_id, "s": subtotal, "d": discount, "t": tax, "total": total, "now": now}).rowcount

    def mark_issued(self, invoice_id: int, *, number: str, issue_date: date, due_date: date, status: str,
                    now: datetime) -> int:
        return self.db.execute(
            "UPDATE invoices SET invoice_number = :n, issue_date = :issue, due_date = :due, status = :status,"
            " issued_at = :now, updated_at = :now WHERE id = :id AND status = 'draft'",
            {"id": invoice_id, "n": number, "issue": issue_date, "due": due_date, "status": status,
             "now": now}).rowcount

    def set_status(self, invoice_id: int, status: str, now: datetime) -> int:
        return self.db.execute(
            "UPDATE invoices SET status = :status, updated_at = :now WHERE id = :id AND status <> 'void'"
            " AND status <> 'draft'", {"id": invoice_id, "status": status, "now": now}).rowcount

    def mark_void(self, invoice_id: int, reason: str, now: datetime) -> int:
        return self.db.execute(
            "UPDATE invoices SET status = 'void', voided_at = :now, void_reason = :reason, updated_at = :now"
            " WHERE id = :id AND status <> 'void'", {"id": invoice_id, "reason": reason, "now": now}).rowcount

    def open_draft(self, enrollment_id: int) -> dict | None:
        """The enrolment's newest draft (locked), which fee lines join."""
        return self.db.fetch_one(
            "SELECT id FROM invoices WHERE enrollment_id = :e AND status = 'draft' AND credit_note_for IS NULL"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            " ORDER BY id DESC LIMIT 1" + self.db.for_update, {"e": enrollment_id})

    def credit_notes_of(self, invoice_id: int) -> list[dict]:
        return [_money_row(r) for r in self.db.fetch_all(
            "SELECT id, invoice_number, issue_date, total, status FROM invoices WHERE credit_note_for = :id"
            " ORDER BY id", {"id": invoice_id})]

    def overdue_candidates(self, today: date, limit: int = 1000) -> list[int]:
        """Issued, unpaid invoices past their due date that are not yet marked overdue."""
        return [int(r["id"]) for r in self.db.fetch_all(
            "SELECT id FROM invoices WHERE status IN ('sent','partial') AND due_date < :today"
            " ORDER BY id LIMIT :limit", {"today": today, "limit": int(limit)})]

    # -- numbers ----------------------------------------------------------------------------------
    def next_number(self, year: int) -> int:
        """Take the next number of ``year``: the year's row is created when missing or incremented when
        present in ONE statement (an upsert, which takes the row's exclusive lock on MariaDB and needs
        no gap lock, so two first issuers of a year cannot deadlock on an empty gap), then read back
        with a locking read. The lock is held until the issuing transaction ends."""
        if self.db.backend == "mysql":
            self.db.execute("INSERT INTO invoice_counters (year, last_number) VALUES (:y, 1)"
                            " ON DUPLICATE KEY UPDATE last_number = last_number + 1", {"y": year})
        else:
            self.db.execute("INSERT INTO invoice_counters (year, last_number) VALUES (:y, 1)"
                            " ON CONFLICT (year) DO UPDATE SET last_number = last_number + 1", {"y": year})
        return int(self.db.fetch_value("SELECT last_number FROM invoice_counters WHERE year = :y"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
                                       + self.db.for_update, {"y": year}))

    # -- items ------------------------------------------------------------------------------------
    def insert_item(self, row: dict) -> int:
        unknown = set(row) - set(ITEM_COLUMNS)
        if unknown:
            raise ValueError(f"not an invoice item column: {sorted(unknown)}")
        return self.db.insert("invoice_items", row)

    def items(self, invoice_id: int) -> list[dict]:
        rows = self.db.fetch_all(
            f"SELECT {_ITEM_ALL}, wu.first_name AS waived_by_first_name, wu.last_name AS waived_by_last_name"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " FROM invoice_items it LEFT JOIN users wu ON wu.id = it.waived_by"
            " WHERE it.invoice_id = :id ORDER BY it.id", {"id": invoice_id})
        return [_money_row(r) for r in rows]

    def item(self, item_id: int) -> dict | None:
        return _money_row(self.db.fetch_one(
            f"SELECT {_ITEM_ALL}, i.status AS invoice_status, i.enrollment_id FROM invoice_items it"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " JOIN invoices i ON i.id = it.invoice_id WHERE it.id = :id", {"id": item_id}))

    def waive_item(self, item_id: int, *, by: int | None, reason: str, now: datetime) -> int:
        return self.db.execute(
            "UPDATE invoice_items SET waived_at = :now, waived_by = :by, waive_reason = :reason, total = 0"
            " WHERE id = :id AND waived_at IS NULL", {"id": item_id, "by": by, "reason": reason, "now": now}).rowcount

    def lines_with_credits_added(self, item_ids: list[int]) -> set[int]:
        """Which of these lines already added their lessons to the package ledger (source invoice_line)."""
        marks, params = self.db.in_params("item", item_ids)
        if not params:
            return set()
        return {int(r["source_id"]) for r in self.db.fetch_all(
            f"SELECT DISTINCT source_id FROM package_ledger WHERE source = 'invoice_line' AND source_id IN ({marks})",  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            params)}

    # -- reminders --------------------------------------------------------------------------------
    def withdraw_reminders(self, invoice_id: int, now: datetime) -> int:
        return self.db.execute(
            "UPDATE reminders SET status = 'cancelled', updated_at = :now"
            " WHERE related_type = 'invoice' AND related_id = :id AND status = 'pending'",
            {"id": invoice_id, "now": now}).rowcount

    def reminders_of(self, invoice_id: int) -> list[dict]:
        return self.db.fetch_all(
            "SELECT id, status, send_on, send_at, reminder_type, channel, recipient_user_id, message, transactional"
            " FROM reminders WHERE related_type = 'invoice' AND related_id = :id ORDER BY send_on, id", {"id": invoice_id})

    # -- lists ------------------------------------------------------------------------------------
    def _list_where(self, query: ListQuery, branch_id: int | None, student_id: int | None,
                    issued_only: bool = False) -> tuple[str, dict]:
        clauses, params = ["1 = 1"], {}
        if issued_only:
            clauses.append("i.status <> 'draft'")
        if branch_id is not None:
            clauses.append(_branch_clause("branch_id"))
            params["branch_id"] = branch_id
        if student_id is not None:
            clauses.append("i.enrollment_id IN (SELECT se.id FROM enrollments se WHERE se.student_id = :student_id)")
            params["student_id"] = student_id
        status = query.filter("status")
        if status:
            clauses.append("i.status = :status")
            params["status"] = status
        branch = query.filter_int("branch")
        if branch is not None:
            clauses.append(_branch_clause("filter_branch"))
            params["filter_branch"] = branch
        if query.q:
            clauses.append("(su.first_name LIKE :q ESCAPE '!' OR su.last_name LIKE :q ESCAPE '!'"
                           " OR su.email LIKE :q ESCAPE '!' OR i.invoice_number LIKE :q ESCAPE '!')")
            params["q"] = like_pattern(query.q)
        return " WHERE " + " AND ".join(clauses), params

    def page(self, query: ListQuery, *, branch_id: int | None = None, student_id: int | None = None,
             issued_only: bool = False) -> Page:
        """One page of invoices (people, branch, paid, credited) plus, in ``page.totals``, the sums of
        total, paid and balance over every matching invoice (aggregates, not the page). The count stops
        at COUNT_CAP (``page.capped``); past it ``page.totals`` come from the maintained summary ("as of")
        or are None (a search). A branch or a student narrows the list through an index: the exact sums
        then run first and their count serves the pager."""
        where, params = self._list_where(query, branch_id, student_id, issued_only)
        # the count and the sums join the people only for a search (every other filter is on invoices)
        people = (" JOIN enrollments e ON e.id = i.enrollment_id JOIN students st ON st.id = e.student_id"
                  " JOIN users su ON su.id = st.user_id") if query.q else ""
        base = " FROM invoices i" + people + where
        order = self.order_clause(INVOICE_SORTS, query, "i.id")
        sums_sql = ("SELECT COUNT(*) AS n,"
                    " COALESCE(SUM(CASE WHEN i.status IN ('draft','void') THEN 0 ELSE i.total END), 0) AS total,"
                    f" COALESCE(SUM(CASE WHEN i.status IN ('draft','void') THEN 0 ELSE {_PAID} END), 0) AS paid"
                    + base)  # paid per matching invoice through the payments' invoice index
        # a branch (scope or filter) or a student narrows the invoices through an index: the exact sums
        # first, and their count serves the pager (no separate count)
        narrowed = branch_id is not None or student_id is not None or query.filter_int("branch") is not None
        sums = (self.db.fetch_one(sums_sql, params) or {}) if narrowed else None
        # the page's invoice ids first (index order, LIMIT), then only those 25 rows get their people and
        # their paid/credited subqueries (never every matching invoice's, issue 13)
        page = self.fetch_page_capped(
            base,
            f"i.id, i.invoice_number, i.issue_date, i.due_date, i.total, i.status, i.credit_note_for,"
            f" {_PAID} AS paid, {_CREDITED} AS credited, c.title AS course_title, e.course_id, e.student_id,"
            " su.first_name AS student_first_name, su.last_name AS student_last_name, b.id AS branch_id,"
            " b.name AS branch_name",
            "JOIN invoices i ON i.id = pick.pick_id" + _PEOPLE, params, order, query, pick="i.id", cap=COUNT_CAP,
            total=int(sums.get("n") or 0) if sums is not None else None)
        page.items = [_money_row(r) for r in page.items]
        if page.capped:
            # over COUNT_CAP matching invoices (the whole chain, issue 13): no sum over every invoice on
            # each view. Without a search the maintained summary answers (branch, status; "as of" its
            # refresh); with one the page says a narrower filter brings the exact totals.
            summary_branch = branch_id if branch_id is not None else query.filter_int("branch")
            page.totals = (self.summary_totals(summary_branch, query.filter("status") or None)
                           if not query.q and student_id is None and not issued_only else None)
            return page
        if sums is None:
            sums = self.db.fetch_one(sums_sql, params) or {}
        total, paid = money(sums.get("total")), money(sums.get("paid"))
        page.totals = {"total": total, "paid": paid, "balance": total - paid}
        return page

    def summary_totals(self, branch_id: int | None, status: str | None) -> dict | None:
        """The invoices of a branch (or all) and status (or all) from stat_invoice_totals (summary
        "invoice_totals", refreshed by ``flask refresh-stats``): count, invoiced, paid and owing (drafts
        and void invoices counted, not summed, as in :meth:`page`) and ``refreshed_at``; None before the
        first refresh. One read of a few hundred summary rows."""
        row = self.db.fetch_one(
            "SELECT COALESCE(SUM(t.invoices), 0) AS n,"
            " COALESCE(SUM(CASE WHEN t.status IN ('draft','void') THEN 0 ELSE t.total END), 0) AS total,"
            " COALESCE(SUM(CASE WHEN t.status IN ('draft','void') THEN 0 ELSE t.paid END), 0) AS paid,"
            " (SELECT f.refreshed_at FROM stat_freshness f WHERE f.name = 'invoice_totals') AS refreshed_at"
            " FROM stat_invoice_totals t WHERE (:b IS NULL OR t.branch_id = :b) AND (:s IS NULL OR t.status = :s)",
            {"b": branch_id, "s": status}) or {}
        if row.get("refreshed_at") is None:
            return None
        total, paid = money(row.get("total")), money(row.get("paid"))
        return {"total": total, "paid": paid, "balance": total - paid, "count": int(row.get("n") or 0),
                "refreshed_at": as_datetime(row["refreshed_at"])}

    def student_brief(self, student_id: int) -> dict | None:
        """The student's name, e-mail and branch (the statement's header and scope)."""
        return self.db.fetch_one(
            "SELECT st.id, st.branch_id, su.first_name, su.last_name, su.email, b.name AS branch_name,"
            " b.address AS branch_address, b.phone AS branch_phone, b.email AS branch_email"
            " FROM students st JOIN users su ON su.id = st.user_id LEFT JOIN branches b ON b.id = st.branch_id"
            " WHERE st.id = :id", {"id": student_id})

    # -- statement --------------------------------------------------------------------------------
    def statement_entries(self, student_id: int, start: date, end: date) -> dict:
        """A student's issued invoices and credit notes (by issue date) and payments (by payment date):
        the sums before ``start`` (opening balance) and the rows from ``start`` to ``end``."""
        params = {"s": student_id, "start": start, "end": end}
        invoices = "FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id WHERE e.student_id = :s" \
                   " AND i.status NOT IN ('draft','void')"
        pays = "FROM payments p JOIN invoices i ON i.id = p.invoice_id JOIN enrollments e ON e.id = i.enrollment_id" \
               " WHERE e.student_id = :s"
        opening = self.db.fetch_one(
            f"SELECT (SELECT COALESCE(SUM(i.total), 0) {invoices} AND i.issue_date < :start) AS invoiced,"
            f" (SELECT COALESCE(SUM(p.amount), 0) {pays} AND p.payment_date < :start) AS paid", params) or {}
        rows = self.db.fetch_all(
            f"SELECT 'invoice' AS entry, i.id AS invoice_id, i.invoice_number AS reference, i.issue_date AS day,"
            f" i.total AS amount, i.credit_note_for, i.id AS row_id {invoices}"
            " AND i.issue_date >= :start AND i.issue_date <= :end"
            " UNION ALL"
            f" SELECT 'payment' AS entry, i.id AS invoice_id, i.invoice_number AS reference, p.payment_date AS day,"
            f" p.amount AS amount, NULL AS credit_note_for, p.id AS row_id {pays}"
            " AND p.payment_date >= :start AND p.payment_date <= :end"
            " ORDER BY day, entry, row_id", params)
        for row in rows:
            row["amount"] = money(row["amount"])
            if not isinstance(row["day"], date):
                from app.core.database import _parse_date
                row["day"] = _parse_date(str(row["day"]))
        return {"opening_invoiced": money(opening.get("invoiced")), "opening_paid": money(opening.get("paid")),
                "rows": rows}


class InvoiceDAO(InvoiceWriteDAO):
    def recent(self, limit: int = 5, student_id: int | None = None, branch_id: int | None = None) -> list[dict]:
        """Newest issued invoices (drafts left out) with student, course and balance due, in one query.

        The invoices are picked and limited first (newest issue date), then joined to names; the
        amount paid is summed per picked invoice through the payments foreign-key index.
        """
        # drafts are not issued yet; a credit note shows as what it credits (the original's balance)
        clauses, params = ["x.status <> 'draft'", "x.credit_note_for IS NULL"], {"limit": int(limit)}
        if student_id is not None:
            clauses.append("x.enrollment_id IN (SELECT en.id FROM enrollments en WHERE en.student_id = :student_id)")
            params["student_id"] = student_id
        if branch_id is not None:
            clauses.append("x.enrollment_id IN (SELECT en.id FROM enrollments en JOIN students sb ON sb.id = en.student_id"
                           " WHERE sb.branch_id = :branch_id)")
            params["branch_id"] = branch_id
        rows = self.db.fetch_all(
            "SELECT i.id, i.invoice_number, i.issue_date, i.due_date, i.total, i.status,"  # nosec B608 # interpolates only fragments this code builds from constants, module constants; every value is a bound :parameter
            " c.title AS course_title, su.first_name AS student_first_name, su.last_name AS student_last_name,"
            " e.student_id, e.course_id, st.branch_id AS student_branch_id,"
            f" {_PAID} AS paid, {_CREDITED} AS credited"
            " FROM (SELECT x.id, x.enrollment_id, x.invoice_number, x.issue_date, x.due_date, x.total, x.status"
            f"   FROM invoices x WHERE {' AND '.join(clauses)}"
            "   ORDER BY x.issue_date DESC, x.id DESC LIMIT :limit) i"
            " JOIN enrollments e ON e.id = i.enrollment_id"
            " JOIN courses c ON c.id = e.course_id"
            " JOIN students st ON st.id = e.student_id"
            " JOIN users su ON su.id = st.user_id"
            " ORDER BY i.issue_date DESC, i.id DESC",
            params,
        )
        for row in rows:
            row["total"] = money(row["total"])
            row["paid"] = money(row["paid"])
            row["balance_due"] = row["total"] - row["paid"] - money(row.pop("credited"))
        return rows

