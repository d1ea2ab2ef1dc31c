"""ReminderQueueDAO: the office's view of the reminder queue (issue 10 item 9): the list with its counts,
one reminder with its delivery log and the notification it wrote, and the status changes staff make by
hand (retry, cancel). The dispatcher's own SQL lives in app/dao/reminder.py; the rules in
app/services/reminder_queue.py.

Scope is the recipient's branch (``users.branch_id``): ``branch_id=None`` means every branch (admin).
The list costs two queries whatever its size: one statement of capped counts per status (within the
channel and type filters; "10,000+" past the cap) and the type choices, and one page query that picks
the page's ids from the due-order indexes first and joins the recipient and what the reminder is about
only for those rows.

Hand-made status changes lock the row (``lock``: FOR UPDATE on MariaDB; BEGIN IMMEDIATE serialises
writers on SQLite) and name the status they expect in the UPDATE's WHERE, so a row the dispatcher has
claimed meanwhile is left alone (rowcount 0).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, profile_ids

# When a reminder is due: send_at (naive UTC), else the start of its send_on day (a PHP-era row).
DUE = "COALESCE(r.send_at, r.send_on)"
ORDER = f"{DUE} DESC, r.id DESC"

_REMINDER_COLUMNS = (
    "r.id, r.related_type, r.related_id, r.recipient_user_id, r.channel, r.delivery_channel, r.reminder_type,"
    " r.message, r.send_on, r.send_at, r.status, r.transactional, r.attempts, r.max_attempts, r.next_attempt_at,"
    " r.claimed_at, r.lease_until, r.last_error, r.sent_at, r.idempotency_key, r.created_at, r.updated_at"
)
# The recipient (and the profile pages their name links to) and what the reminder is about: a lesson,
# an invoice, a broadcast or an enrolment request (one LEFT JOIN each, matched on related_type).
_CONTEXT_COLUMNS = (
    f"{_REMINDER_COLUMNS}, u.first_name AS recipient_first_name, u.last_name AS recipient_last_name,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params, module constants; every value is a bound :parameter
    " u.role AS recipient_role, u.branch_id AS recipient_branch_id, u.status AS recipient_status,"
    " (SELECT MIN(rst.id) FROM students rst WHERE rst.user_id = u.id) AS recipient_student_id,"
    f" {profile_ids('u', 'recipient')},"
    " s.scheduled_date AS lesson_date, s.start_time AS lesson_start, s.status AS lesson_status,"
    " s.branch_id AS lesson_branch_id, s.instructor_id AS lesson_instructor_id,"
    " i.invoice_number, i.status AS invoice_status, c.subject AS communication_subject,"
    " er.status AS request_status"
)
_CONTEXT_JOINS = (
    " JOIN users u ON u.id = r.recipient_user_id"
    " LEFT JOIN schedules s ON r.related_type = 'schedule' AND s.id = r.related_id"
    " LEFT JOIN invoices i ON r.related_type = 'invoice' AND i.id = r.related_id"
    " LEFT JOIN communications c ON r.related_type = 'communication' AND c.id = r.related_id"
    " LEFT JOIN enrollment_requests er ON r.related_type = 'enrollment_request' AND er.id = r.related_id"
)


def _scope(branch_id: int | None, params: dict) -> tuple[str, str]:
    """(JOIN, WHERE condition) limiting reminders to recipients of ``branch_id`` (none for admin)."""
    if branch_id is None:
        return "", "1 = 1"
    params["scope_branch"] = branch_id
    return " JOIN users su ON su.id = r.recipient_user_id", "su.branch_id = :scope_branch"


class ReminderQueueDAO(BaseDAO):
    # A branch's page is picked down the due index when its count reached this (the list's cap) and the page
    # ends within the first WALK_DEPTH rows (see page).
    WALK_FROM = 10_000
    WALK_DEPTH = 250

    # ------------------------------------------------------------------ the list

    def counts(self, branch_id: int | None, statuses: Iterable[str], *, channel: str | None = None,
               reminder_type: str | None = None, cap: int = 10_000) -> tuple[dict[str, int], list[str]]:
        """({status: n} within the channel and type filters, each counted up to ``cap + 1`` (more than
        ``cap`` means "cap or more"), [every reminder type in scope]): one statement whatever the queue's
        size, each count an index range of idx_reminder_status_channel_type (admin) or of the branch's
        recipients through idx_reminder_recipient_queue (staff) cut at the cap, the types a loose
        scan of idx_reminder_type (migration 0028). Never a GROUP BY over every reminder (issue 13)."""
        params: dict[str, Any] = {"cap_limit": int(cap) + 1}
        join, where = _scope(branch_id, params)
        narrow = where
        for column, value in (("channel", channel), ("reminder_type", reminder_type)):
            if value:
                narrow += f" AND r.{column} = :f_{column}"
                params[f"f_{column}"] = value
        chosen = list(statuses)
        columns = []
        for n, status in enumerate(chosen):
            params[f"st_{n}"] = status
            columns.append(f"(SELECT COUNT(*) FROM (SELECT r.id FROM reminders r{join} WHERE {narrow}"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                           f" AND r.status = :st_{n} LIMIT :cap_limit) c{n}) AS c{n}")
        zeros = ", ".join("0" for _ in chosen)
        # The types: the school's (a loose scan of idx_reminder_type), each kept for a branch when a recipient
        # there has one: per type, the branch's accounts in turn (fk_users_branch) and their reminders
        # (idx_reminder_recipient_queue, covering) up to the first of the type, a scalar LIMIT 1 subquery (an
        # EXISTS becomes a semi-join that reads them all). A DISTINCT over the branch's reminders read every
        # one of them (40,000 at scale L); a branch without reminders has no accounts to read.
        in_scope = "" if branch_id is None else (
            f" WHERE (SELECT 1 FROM users su {self.db.straight_join} reminders r ON r.recipient_user_id = su.id WHERE {where}"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " AND r.reminder_type = t.reminder_type LIMIT 1) IS NOT NULL")
        rows = self.db.fetch_all(
            f"SELECT NULL AS reminder_type, {', '.join(columns)}"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            f" UNION ALL SELECT t.reminder_type, {zeros} FROM (SELECT DISTINCT r.reminder_type FROM reminders r"
            f" WHERE r.reminder_type IS NOT NULL) t{in_scope}", params)
        counts: dict[str, int] = dict.fromkeys(chosen, 0)
        types: list[str] = []
        for row in rows:
            if row["reminder_type"] is None:
                counts = {status: int(row[f"c{n}"] or 0) for n, status in enumerate(chosen)}
            else:
                types.append(row["reminder_type"])
        return counts, sorted(set(types))

    def page(self, branch_id: int | None, filters: Mapping[str, str], query: ListQuery, total: int) -> Page:
        """One page of reminders in scope, newest due first, with their recipient and subject (one query;
        ``total`` comes from :meth:`counts`). A page past the end is clamped to the last one.

        The due order (``COALESCE(send_at, send_on)``) is served by indexes, not sorted over the queue: the
        rows with a ``send_at`` in its index order (idx_reminder_send_at, idx_reminder_status_send_at) and
        the PHP-era rows without one by ``send_on`` (idx_reminder_send_at_on, idx_reminder_status_send),
        each cut at the page's depth, merged, and only the page's ids joined with their context."""
        params: dict[str, Any] = {}
        join, where = _scope(branch_id, params)
        for column in ("status", "channel", "reminder_type"):
            if filters.get(column):
                where += f" AND r.{column} = :f_{column}"
                params[f"f_{column}"] = filters[column]
        last_page = max(1, -(-total // query.per_page))
        if query.page > last_page:
            query = query.with_page(last_page)
        if not total:
            return Page(items=[], total=0, query=query)
        timed_from = f"reminders r{join}"
        if (branch_id is not None and total >= self.WALK_FROM and query.offset + query.per_page <= self.WALK_DEPTH
                and self.db.backend == "mysql"):
            # A branch with this many reminders in the filters (the count reached its cap): its newest are
            # found soonest down the due index itself (idx_reminder_send_at, idx_reminder_status_send_at),
            # each reminder's recipient probed for the branch; MariaDB would rather read every reminder of the
            # branch's accounts and sort them (40,000 at scale L). A smaller branch, or a deep page, keeps that.
            # The index is forced: on a small table MariaDB would rather scan the recipients' index and sort.
            due = "idx_reminder_status_send_at" if filters.get("status") else "idx_reminder_send_at"
            timed_from = f"reminders r FORCE INDEX ({due}) STRAIGHT_JOIN users su ON su.id = r.recipient_user_id"
        timed = (f"SELECT r.id, r.send_at AS due FROM {timed_from} WHERE {where} AND r.send_at IS NOT NULL"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                 " ORDER BY r.send_at DESC, r.id DESC LIMIT :page_depth")
        dated = (f"SELECT r.id, r.send_on AS due FROM reminders r{join} WHERE {where} AND r.send_at IS NULL"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                 " ORDER BY r.send_on DESC, r.id DESC LIMIT :page_depth")
        pick = (f"SELECT m.id AS pick_id FROM (SELECT a.id, a.due FROM ({timed}) a"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                f" UNION ALL SELECT b.id, b.due FROM ({dated}) b) m"
                " ORDER BY m.due DESC, m.id DESC LIMIT :page_limit OFFSET :page_offset")
        items = self.db.fetch_all(
            f"SELECT {_CONTEXT_COLUMNS} FROM ({pick}) pick"  # nosec B608 # interpolates only fragments this code builds from constants, module constants; every value is a bound :parameter
            f" JOIN reminders r ON r.id = pick.pick_id{_CONTEXT_JOINS} ORDER BY {ORDER}",
            {**params, "page_limit": query.per_page, "page_offset": query.offset,
             "page_depth": query.offset + query.per_page})
        return Page(items=items, total=total, query=query)

    # ------------------------------------------------------------------ one reminder

    def find(self, reminder_id: int) -> dict | None:
        """One reminder with its recipient and what it is about."""
        return self.db.fetch_one(
            f"SELECT {_CONTEXT_COLUMNS}, u.email AS recipient_email, u.phone AS recipient_phone"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            f" FROM reminders r{_CONTEXT_JOINS} WHERE r.id = :id", {"id": reminder_id})

    def deliveries(self, reminder_id: int, limit: int = 200) -> list[dict]:
        """The delivery log of one reminder, oldest attempt first."""
        return self.db.fetch_all(
            "SELECT id, attempt, channel, backend, address, state, provider_message_id, error, created_at,"
            " finished_at FROM message_deliveries WHERE reminder_id = :id ORDER BY attempt, created_at, id"
            " LIMIT :limit", {"id": reminder_id, "limit": int(limit)})

    def notification(self, reminder_id: int) -> dict | None:
        """The in-app notification the reminder wrote (at most one: UNIQUE reminder_id)."""
        return self.db.fetch_one(
            "SELECT id, user_id, title, message, level, is_read, kind, created_at FROM notifications"
            " WHERE reminder_id = :id", {"id": reminder_id})

    # ------------------------------------------------------------------ hand-made status changes

    def lock(self, reminder_id: int) -> dict | None:
        """The reminder's row, locked for the rest of the transaction (take it before any plain read),
        with its recipient's branch (read after the lock, from the users row, unlocked)."""
        row = self.db.fetch_one(
            "SELECT id, status, recipient_user_id, channel, reminder_type, attempts, max_attempts, last_error, claim_token"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            f" FROM reminders WHERE id = :id{self.db.for_update}", {"id": reminder_id})
        if row is None:
            return None
        row["recipient_branch_id"] = self.db.fetch_value(
            "SELECT branch_id FROM users WHERE id = :u", {"u": row["recipient_user_id"]})
        return row

    def recipient_branch(self, reminder_id: int) -> tuple[bool, int | None]:
        """(exists, the recipient's branch) without locking: the scope check before "run now"."""
        row = self.db.fetch_one(
            "SELECT r.id, u.branch_id FROM reminders r JOIN users u ON u.id = r.recipient_user_id WHERE r.id = :id",
            {"id": reminder_id})
        return (row is not None, row["branch_id"] if row else None)

    def retry(self, reminder_id: int, expected: Iterable[str], *, note: str, now: datetime, budget: int) -> int:
        """Back to pending, due now, with no claim and a fresh budget of ``budget`` attempts; only while the
        status is one of ``expected`` (returns the rowcount: 0 when the row moved on meanwhile).

        ``attempts`` keeps counting (max_attempts moves up instead): the delivery log numbers its rows by
        attempt (UNIQUE reminder_id, attempt, channel), so starting again at 1 would collide with the
        first try's rows."""
        fragment, params = self.db.in_params("expected", expected)
        return self.db.execute(
            "UPDATE reminders SET status = 'pending', max_attempts = attempts + :budget, next_attempt_at = :now,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            " claim_token = NULL, claimed_at = NULL, lease_until = NULL, delivery_channel = NULL, sent_at = NULL,"
            f" last_error = :note, updated_at = :now WHERE id = :id AND status IN ({fragment})",
            {**params, "id": reminder_id, "now": now, "note": note[:255], "budget": int(budget)}).rowcount

    def cancel(self, reminder_id: int, expected: Iterable[str], *, note: str, now: datetime) -> int:
        """Withdrawn (cancelled) with the reason in last_error; only while the status is one of ``expected``."""
        fragment, params = self.db.in_params("expected", expected)
        return self.db.execute(
            "UPDATE reminders SET status = 'cancelled', claim_token = NULL, claimed_at = NULL, lease_until = NULL,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            f" last_error = :note, updated_at = :now WHERE id = :id AND status IN ({fragment})",
            {**params, "id": reminder_id, "now": now, "note": note[:255]}).rowcount
