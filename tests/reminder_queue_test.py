"""The office's reminder queue (services/reminder_queue.py, dao/reminder_queue.py) on both databases: the list
is newest due first and filtered by status, channel and type, with the counts per status from one aggregate;
staff see only the reminders of their branch's accounts (404 for another branch's, none at all without a
branch); retry and cancel move only the statuses their rule allows (409 otherwise, nothing changed), are
audited and leave a retried row that the dispatcher sends again without colliding with its delivery log."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, timedelta

import pytest

from app.core.database import count_queries
from app.core.errors import Conflict, NotFound, PermissionDenied
from app.core.pagination import ListQuery
from app.services import reminder_queue, reminders
from app.services.scope import Actor
from tests import factories as f

NOW = datetime(2026, 3, 10, 2, 30)


def reminder(db, user_id, *, status="pending", channel="in-app", reminder_type="lesson_24h", send_at=None,
             **extra) -> int:
    send_at = send_at or NOW - timedelta(hours=1)
    return db.insert("reminders", {
        "related_type": "schedule", "related_id": 0, "recipient_user_id": user_id, "channel": channel,
        "reminder_type": reminder_type, "message": f"Your lesson ({status})", "send_on": send_at.date(),
        "send_at": send_at, "status": status, "created_at": NOW, "updated_at": NOW, **extra})


@pytest.fixture
def world(db):
    a, b = f.make_branch(db, name="Bayside"), f.make_branch(db, name="Northside")
    jack = f.make_user(db, role="student", branch_id=a, first_name="Jack", last_name="Mason")
    zed = f.make_user(db, role="student", branch_id=b, first_name="Zed", last_name="Foreign")
    staff = f.make_user(db, role="staff", branch_id=a, first_name="Pat", last_name="Lee")
    admin = f.make_user(db, role="admin", first_name="Ada", last_name="Admin")
    ids = {
        "pending": reminder(db, jack, send_at=NOW + timedelta(days=2)),
        "failed": reminder(db, jack, status="failed", channel="email", attempts=1, last_error="invalid e-mail address"),
        "dead": reminder(db, jack, status="dead", channel="sms", reminder_type="invoice_due", attempts=5,
                         send_at=NOW - timedelta(days=1)),
        "unknown": reminder(db, jack, status="unknown", channel="sms", attempts=1, send_at=NOW - timedelta(days=3)),
        "sent": reminder(db, jack, status="sent", send_at=NOW - timedelta(days=4), sent_at=NOW - timedelta(days=4)),
        "processing": reminder(db, jack, status="processing", channel="email", claim_token="c" * 32,
                               send_at=NOW - timedelta(days=5)),
        "skipped": reminder(db, jack, status="skipped", send_at=NOW - timedelta(days=6),
                            last_error="the lesson was cancelled"),
        "foreign": reminder(db, zed, status="failed", channel="email"),
    }
    # a PHP-era row (send_on only): due from the start of its day, sorted with the others
    ids["legacy"] = db.insert("reminders", {"related_type": "invoice", "related_id": 0, "recipient_user_id": jack,
                                            "channel": "sms", "reminder_type": "invoice_due", "message": "Old",
                                            "send_on": date(2026, 3, 7), "status": "pending"})
    return {"ids": ids, "branch": a, "jack": jack,
            "staff": Actor(user_id=staff, role="staff", branch_id=a), "admin": Actor(user_id=admin, role="admin")}


def _query(**filters) -> ListQuery:
    return ListQuery.from_args(filters, reminder_queue.SORT_KEYS, reminder_queue.DEFAULT_SORT, "desc",
                               filters=reminder_queue.FILTERS)


def _status(db, reminder_id):
    return db.fetch_one("SELECT status, attempts, max_attempts, claim_token, claimed_at, lease_until,"
                        " next_attempt_at, last_error FROM reminders WHERE id = :i", {"i": reminder_id})


def test_the_queue_is_newest_due_first_filtered_counted_and_scoped(db, world):
    ids = world["ids"]
    with count_queries() as queries:
        data = reminder_queue.queue(db, world["staff"], _query())
    assert queries.count <= 2  # one aggregate, one page query (recipient and subject joined in)
    listed = [r["id"] for r in data["page"].items]
    assert listed == [ids[k] for k in ("pending", "failed", "dead", "unknown", "legacy", "sent", "processing",
                                       "skipped")]
    assert ids["foreign"] not in listed and data["page"].total == 8
    first = data["page"].items[0]
    assert (first["recipient_first_name"], first["recipient_role"]) == ("Jack", "student")
    assert data["counts"] == {"pending": 2, "processing": 1, "sent": 1, "cancelled": 0, "failed": 1, "dead": 1,
                              "unknown": 1, "skipped": 1}
    assert data["types"] == ["invoice_due", "lesson_24h"]

    failed = reminder_queue.queue(db, world["staff"], _query(status="failed"))
    assert [r["id"] for r in failed["page"].items] == [ids["failed"]] and failed["page"].total == 1
    sms = reminder_queue.queue(db, world["staff"], _query(channel="sms"))
    assert {r["id"] for r in sms["page"].items} == {ids["dead"], ids["unknown"], ids["legacy"]}
    assert sms["counts"]["pending"] == 1 and sms["counts"]["failed"] == 0  # counts follow channel and type
    typed = reminder_queue.queue(db, world["staff"], _query(type="invoice_due", status="pending"))
    assert [r["id"] for r in typed["page"].items] == [ids["legacy"]]

    everything = reminder_queue.queue(db, world["admin"], _query())
    assert everything["page"].total == 9 and everything["counts"]["failed"] == 2
    branchless = reminder_queue.queue(db, Actor(user_id=1, role="staff", branch_id=None), _query())
    assert branchless["page"].total == 0 and branchless["page"].items == []


def test_one_reminder_with_its_delivery_log_and_scope(db, world):
    ids = world["ids"]
    db.insert("message_deliveries", {"reminder_id": ids["failed"], "attempt": 1, "channel": "email",
                                     "backend": "validation", "address": "jack@", "state": "failed",
                                     "error": "invalid e-mail address", "created_at": NOW, "finished_at": NOW})
    data = reminder_queue.get(db, world["staff"], ids["failed"])
    assert data["reminder"]["status"] == "failed" and data["may_retry"] and data["may_cancel"] and not data["may_run"]
    assert [(d["channel"], d["address"], d["state"]) for d in data["deliveries"]] == [("email", "jack@", "failed")]
    assert data["notification"] is None
    with pytest.raises(NotFound):
        reminder_queue.get(db, world["staff"], ids["foreign"])
    with pytest.raises(NotFound):
        reminder_queue.get(db, world["admin"], 999999)
    with pytest.raises(PermissionDenied):
        reminder_queue.get(db, Actor(user_id=world["jack"], role="student"), ids["failed"])
    assert reminder_queue.get(db, world["admin"], ids["foreign"])["reminder"]["recipient_last_name"] == "Foreign"


def test_retry_moves_only_failed_dead_flagged_or_skipped_back_to_the_queue(db, world):
    ids, staff = world["ids"], world["staff"]
    for name in ("failed", "dead", "unknown", "skipped"):
        reminder_queue.retry(db, staff, ids[name], now=NOW, settings={"REMINDER_MAX_ATTEMPTS": 3})
        row = _status(db, ids[name])
        assert row["status"] == "pending" and row["last_error"] == "retried by Pat Lee", name
        assert (row["claim_token"], row["claimed_at"], row["lease_until"]) == (None, None, None)
        assert row["next_attempt_at"] == NOW and row["max_attempts"] == row["attempts"] + 3  # a fresh budget
    for name in ("pending", "sent", "processing"):
        before = _status(db, ids[name])
        with pytest.raises(Conflict) as refused:
            reminder_queue.retry(db, staff, ids[name], now=NOW)
        assert "can be retried" in refused.value.message
        assert _status(db, ids[name]) == before
    with pytest.raises(NotFound):
        reminder_queue.retry(db, staff, ids["foreign"], now=NOW)
    assert _status(db, ids["foreign"])["status"] == "failed"
    audited = db.fetch_all("SELECT entity_id, details FROM audit_trail WHERE action = 'reminder_retried'")
    assert {a["entity_id"] for a in audited} == {ids[n] for n in ("failed", "dead", "unknown", "skipped")}


def test_cancel_withdraws_pending_and_undelivered_only(db, world):
    ids, staff = world["ids"], world["staff"]
    for name in ("pending", "failed", "dead", "unknown"):
        reminder_queue.cancel(db, staff, ids[name], now=NOW)
        row = _status(db, ids[name])
        assert row["status"] == "cancelled" and row["last_error"] == "cancelled by Pat Lee", name
    for name in ("sent", "processing", "skipped", "pending"):  # pending is cancelled by now
        before = _status(db, ids[name])
        with pytest.raises(Conflict) as refused:
            reminder_queue.cancel(db, staff, ids[name], now=NOW)
        assert "can be cancelled" in refused.value.message
        assert _status(db, ids[name]) == before
    assert db.fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = 'reminder_cancelled'") == 4


def test_run_now_refuses_anything_but_pending(db, world):
    with pytest.raises(Conflict):
        reminder_queue.run_now(db, world["staff"], world["ids"]["failed"], now=NOW, settings={})
    with pytest.raises(NotFound):
        reminder_queue.run_now(db, world["staff"], world["ids"]["foreign"], now=NOW, settings={})


def test_a_retried_reminder_is_sent_again_next_to_its_first_attempts(db, world, tmp_path):
    """The delivery log is unique per (reminder, attempt, channel): the retry keeps counting attempts, so the
    second try writes attempt 2 beside the first try's attempt 1."""
    rid = world["ids"]["failed"]
    db.execute("UPDATE users SET email = 'jack@example.com' WHERE id = :u", {"u": world["jack"]})
    student = f.make_student(db, user_id=world["jack"], branch_id=world["branch"])
    lesson = f.make_schedule(db, f.make_enrollment(db, student_id=student), branch_id=world["branch"],
                             scheduled_date=date(2026, 3, 20))
    db.execute("UPDATE reminders SET related_id = :s WHERE id = :r", {"s": lesson, "r": rid})
    db.insert("message_deliveries", {"reminder_id": rid, "attempt": 1, "channel": "email", "backend": "smtp",
                                     "address": "jack@example.com", "state": "failed", "error": "550 refused",
                                     "created_at": NOW, "finished_at": NOW})
    reminder_queue.retry(db, world["staff"], rid, now=NOW)
    settings = {"LOG_DIR": str(tmp_path), "EMAIL_BACKEND": "log", "APP_TIMEZONE": "Australia/Melbourne"}
    outcome = reminder_queue.run_now(db, world["admin"], rid, now=NOW + timedelta(minutes=1), settings=settings)
    assert outcome["status"] == "sent"
    log = db.fetch_all("SELECT attempt, channel, state FROM message_deliveries WHERE reminder_id = :r"
                       " ORDER BY attempt", {"r": rid})
    assert [(d["attempt"], d["channel"], d["state"]) for d in log] == [(1, "email", "failed"), (2, "email", "sent")]
    assert db.fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = 'reminder_run' AND entity_id = :r",
                          {"r": rid}) == 1
    assert reminders.STATUS_LABELS["unknown"] == reminder_queue.STATUS_LABELS["unknown"] == "Needs review"


def test_counts_stop_at_the_cap_and_the_list_pages_through_that_many(db, world, monkeypatch):
    for n in range(3):
        reminder(db, world["jack"], status="sent", send_at=NOW - timedelta(days=10 + n))
    monkeypatch.setattr(reminder_queue, "COUNT_CAP", 2)
    data = reminder_queue.queue(db, world["staff"], _query())
    assert data["counts"]["sent"] == 2 and data["capped"] == ["sent"] and data["total_capped"]
    assert data["counts"]["failed"] == 1 and "failed" not in data["capped"]
    only_failed = reminder_queue.queue(db, world["staff"], _query(status="failed"))
    assert not only_failed["total_capped"] and only_failed["page"].total == 1
    sent = reminder_queue.queue(db, world["staff"], _query(status="sent"))
    assert sent["page"].total == 2 and sent["total_capped"] and sent["page"].pages == 1
    listed = sent["page"].items
    assert [r["status"] for r in listed] == ["sent"] * 4  # the first page still shows what there is, newest first
    assert [r["send_at"] for r in listed] == sorted((r["send_at"] for r in listed), reverse=True)


def test_the_list_merges_timed_and_php_era_rows_in_due_order_across_pages(db, world):
    ids = world["ids"]
    order = [ids[k] for k in ("pending", "failed", "dead", "unknown", "legacy", "sent", "processing", "skipped")]
    seen = []
    for number in (1, 2, 3):
        query = ListQuery.from_args({"page": str(number), "per_page": "3"}, reminder_queue.SORT_KEYS,
                                    reminder_queue.DEFAULT_SORT, "desc", filters=reminder_queue.FILTERS)
        seen += [r["id"] for r in reminder_queue.queue(db, world["staff"], query)["page"].items]
    assert seen == order
