"""ReminderService and ReminderDAO on SQLite and MariaDB (issue 10): queueing with idempotency keys, the
claim, in-app exactly once, e-mail/SMS through the log backend, fallback, consent, skips with reasons,
quiet hours (and daylight saving), PHP-era rows, expired leases, "run now", the health line, the command.
Outbound through real SMTP and HTTP servers: tests/outbound_test.py; parallel runs and kills on MariaDB:
tests/dispatcher_concurrency_test.py."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from app.core.errors import Conflict, NotFound
from app.dao.reminder import ReminderDAO
from app.services import contact, reminders
from app.services.scope import Actor
from tests.factories import make_branch, make_enrollment, make_invoice, make_schedule, make_student, make_user

NOW = datetime(2026, 3, 10, 2, 30)  # 13:30 in Melbourne (AEDT, +11)


@pytest.fixture
def settings(tmp_path):
    return {"APP_TIMEZONE": "Australia/Melbourne", "APP_NAME": "Origin Driving School", "LOG_DIR": str(tmp_path),
            "EMAIL_BACKEND": "log", "SMS_BACKEND": "log", "MAIL_ENABLED": True, "SMS_ENABLED": True,
            "SMS_QUIET_HOURS": "21:00-08:00", "REMINDER_BATCH_SIZE": 3, "REMINDER_MAX_ATTEMPTS": 3,
            "REMINDER_BACKOFF_SECONDS": 60, "REMINDER_BACKOFF_CAP_SECONDS": 3600, "REMINDER_LEASE_SECONDS": 900}


def outbound_lines(settings) -> list[dict]:
    path = Path(settings["LOG_DIR"]) / "outbound.log"
    if not path.exists():
        return []
    return [json.loads(line.split("] ", 1)[1]) for line in path.read_text().splitlines()]


def person(db, **overrides) -> int:
    return make_user(db, **{"phone": "0400 111 222", **overrides})


def queue(db, user_id, channel="in-app", *, related_type="invoice", related_id=None, key=None, send_at=NOW,
          transactional=False, message="Your invoice is due.", reminder_type="Invoice Due"):
    if related_id is None:
        related_id = make_invoice(db)
    return reminders.queue(db, related_type=related_type, related_id=related_id, recipient_user_id=user_id,
                           channel=channel, reminder_type=reminder_type, message=message, send_at=send_at, now=NOW,
                           key=key, transactional=transactional)


def row(db, reminder_id) -> dict:
    return db.fetch_one("SELECT * FROM reminders WHERE id = :id", {"id": reminder_id})


def deliveries(db, reminder_id) -> list[tuple]:
    return [(d["channel"], d["backend"], d["state"]) for d in ReminderDAO(db).deliveries(reminder_id)]


# ------------------------------------------------------------------------------------------ queueing

def test_the_same_key_is_queued_once_and_a_withdrawn_one_comes_back(db):
    user = person(db)
    first = queue(db, user, key="invoice:1:due:2d")
    assert queue(db, user, key="invoice:1:due:2d") is None
    assert db.fetch_value("SELECT COUNT(*) FROM reminders WHERE idempotency_key = 'invoice:1:due:2d'") == 1
    got = row(db, first)
    assert got["status"] == "pending" and got["send_on"] == date(2026, 3, 10) and got["attempts"] == 0
    db.execute("UPDATE reminders SET status = 'cancelled' WHERE id = :id", {"id": first})
    assert queue(db, user, key="invoice:1:due:2d") == first
    assert row(db, first)["status"] == "pending"
    db.execute("UPDATE reminders SET status = 'sent' WHERE id = :id", {"id": first})
    assert queue(db, user, key="invoice:1:due:2d") is None and row(db, first)["status"] == "sent"


def test_queue_many_writes_every_row_in_bulk(db):
    users = [person(db) for _ in range(4)]
    written = reminders.queue_many(db, [
        {"related_type": "invoice", "related_id": 7, "recipient_user_id": u, "channel": "in-app",
         "reminder_type": "Broadcast", "message": "Subject\n\nBody", "send_at": NOW, "key": f"c:7:{u}"}
        for u in users], NOW)
    assert written == 4
    assert db.fetch_value("SELECT COUNT(*) FROM reminders WHERE reminder_type = 'Broadcast' AND status = 'pending'") == 4


# ------------------------------------------------------------------------------------------ delivery

def test_in_app_is_delivered_once_with_its_notification_and_delivery_log(db, settings):
    user = person(db)
    ids = [queue(db, user) for _ in range(5)]  # batches of 3: two claims
    result = reminders.process_due(db, NOW, settings)
    assert (result.claimed, result.sent, result.failed, result.skipped) == (5, 5, 0, 0)
    notes = db.fetch_all("SELECT reminder_id, title, level, kind, related_type FROM notifications ORDER BY reminder_id")
    assert [n["reminder_id"] for n in notes] == ids
    assert notes[0]["title"] == "Reminder: Invoice Due" and notes[0]["level"] == "info"
    assert notes[0]["kind"] == "reminder" and notes[0]["related_type"] == "invoice"
    for rid in ids:
        got = row(db, rid)
        assert got["status"] == "sent" and got["delivery_channel"] == "in-app" and got["sent_at"] == NOW
        assert got["claim_token"] is None and got["attempts"] == 1
        assert deliveries(db, rid) == [("in-app", "in-app", "sent")]
    again = reminders.process_due(db, NOW + timedelta(minutes=15), settings)
    assert again.claimed == 0 and db.fetch_value("SELECT COUNT(*) FROM notifications") == 5
    runs = db.fetch_all("SELECT status, claimed, sent FROM dispatcher_runs ORDER BY id")
    assert [(r["status"], r["claimed"], r["sent"]) for r in runs] == [("ok", 5, 5), ("ok", 0, 0)]


def test_not_yet_due_rows_wait_and_limit_caps_a_run(db, settings):
    user = person(db)
    later = queue(db, user, send_at=NOW + timedelta(hours=1))
    for _ in range(4):
        queue(db, user)
    assert reminders.process_due(db, NOW, settings, limit=2).claimed == 2
    assert reminders.process_due(db, NOW, settings).claimed == 2
    assert row(db, later)["status"] == "pending"
    assert reminders.process_due(db, NOW + timedelta(hours=1), settings).sent == 1


def test_email_and_sms_go_through_the_log_backend(db, settings):
    user = person(db, email="jack@student.com", first_name="Jack")
    by_mail = queue(db, user, "email")
    by_sms = queue(db, user, "sms")
    result = reminders.process_due(db, NOW, settings)
    assert result.sent == 2 and result.by_channel == {"email": 1, "sms": 1}
    lines = outbound_lines(settings)
    assert {(l["channel"], l["to"]) for l in lines} == {("email", "jack@student.com"), ("sms", "+61400111222")}
    mail = next(l for l in lines if l["channel"] == "email")
    assert mail["subject"] == "Reminder: Invoice Due" and "Hello Jack" in mail["message"]
    assert deliveries(db, by_mail) == [("email", "log", "sent")]
    assert deliveries(db, by_sms) == [("sms", "log", "sent")]
    assert row(db, by_sms)["delivery_channel"] == "sms"
    assert db.fetch_value("SELECT COUNT(*) FROM notifications") == 0  # e-mail and SMS make no in-app copy


def test_an_invalid_phone_falls_back_to_email_then_a_missing_email_to_an_in_app_warning(db, settings):
    user = person(db, phone="12ab", email="amy@student.com")
    rid = queue(db, user, "sms")
    nobody = person(db, phone=None, email="not-an-address")
    other = queue(db, nobody, "sms")
    reminders.process_due(db, NOW, settings)
    assert deliveries(db, rid) == [("sms", "validation", "failed"), ("email", "log", "sent")]
    assert row(db, rid)["delivery_channel"] == "email" and row(db, rid)["status"] == "sent"
    assert deliveries(db, other) == [("sms", "validation", "failed"), ("email", "validation", "failed"),
                                     ("in-app", "in-app", "sent")]
    note = db.fetch_one("SELECT level, message FROM notifications WHERE reminder_id = :id", {"id": other})
    assert note["level"] == "warning" and "could not reach you by SMS" in note["message"]
    errors = [d["error"] for d in ReminderDAO(db).deliveries(other)]
    assert errors[:2] == ["no phone number", "invalid e-mail address"]


def test_disabled_backends_never_pretend_and_fall_back_in_app(db, settings):
    settings.update(EMAIL_BACKEND="disabled", SMS_BACKEND="disabled")
    rid = queue(db, person(db), "sms")
    reminders.process_due(db, NOW, settings)
    assert deliveries(db, rid) == [("sms", "disabled", "failed"), ("email", "disabled", "failed"),
                                   ("in-app", "in-app", "sent")]
    assert outbound_lines(settings) == []


def test_consent_is_honoured_and_transactional_messages_still_go_in_app(db, settings):
    quiet = person(db)
    contact.set_preferences(db, Actor(quiet, "student"), email=True, sms=False, in_app=True, now=NOW)
    by_email = queue(db, quiet, "sms")
    silent = person(db)
    contact.set_preferences(db, Actor(silent, "student"), email=False, sms=False, in_app=False, now=NOW)
    skipped = queue(db, silent, "sms")
    urgent = queue(db, silent, "email", transactional=True, reminder_type="Invoice issued", message="INV-1 issued")
    reminders.process_due(db, NOW, settings)
    assert deliveries(db, by_email) == [("sms", "consent", "failed"), ("email", "log", "sent")]
    assert row(db, skipped)["status"] == "skipped"
    assert row(db, skipped)["last_error"] == "the recipient opted out of every channel"
    assert row(db, urgent)["status"] == "sent" and row(db, urgent)["delivery_channel"] == "in-app"
    note = db.fetch_one("SELECT title, kind, level FROM notifications WHERE reminder_id = :id", {"id": urgent})
    assert (note["title"], note["kind"]) == ("Invoice issued", "transactional")
    assert contact.preferences(db, silent) == {"email": False, "sms": False, "in_app": False}
    assert contact.preferences(db, person(db)) == {"email": True, "sms": True, "in_app": True}
    assert db.fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = 'contact_preferences_changed'") == 2


def test_nothing_to_remind_is_skipped_with_its_reason(db, settings):
    user = person(db)
    student = make_student(db, user_id=user)
    enrolment = make_enrollment(db, student_id=student)
    cancelled = make_schedule(db, enrolment, status="cancelled")
    started = make_schedule(db, enrolment, scheduled_date=date(2026, 3, 10), start_time=time(13, 0),
                            end_time=time(14, 0))
    upcoming = make_schedule(db, enrolment, scheduled_date=date(2026, 3, 11), start_time=time(9, 0),
                             end_time=time(10, 0))
    paid = make_invoice(db, enrolment, status="paid")
    void = make_invoice(db, enrolment, status="void")
    archived = person(db, status="archived")
    cases = {
        queue(db, user, related_type="schedule", related_id=cancelled): "the lesson was cancelled",
        queue(db, user, related_type="schedule", related_id=started): "the lesson has already started",
        queue(db, user, related_type="schedule", related_id=999999): "the lesson no longer exists",
        queue(db, user, related_id=paid): "the invoice is paid",
        queue(db, user, related_id=void): "the invoice is void",
        queue(db, user, related_id=999999): "the invoice no longer exists",
        queue(db, archived): "the recipient's account is archived",
        queue(db, user, related_type="schedule", related_id=upcoming,
              key=reminders.lesson_key(upcoming, datetime(2026, 3, 10, 22, 0))): None,  # 09:00 AEDT: still true
        queue(db, user, related_type="schedule", related_id=upcoming,
              key=reminders.lesson_key(upcoming, datetime(2026, 3, 10, 23, 0))):
            "the lesson has moved since this reminder was queued",
    }
    result = reminders.process_due(db, NOW, settings)
    assert result.skipped == 8 and result.sent == 1
    for rid, reason in cases.items():
        got = row(db, rid)
        assert (got["status"], got["last_error"]) == (("sent", None) if reason is None else ("skipped", reason))


def test_a_php_era_row_is_due_from_the_start_of_its_day_in_the_school_zone(db, settings):
    user = person(db)
    invoice = make_invoice(db)
    legacy = db.insert("reminders", {"related_type": "invoice", "related_id": invoice, "recipient_user_id": user,
                                     "channel": "email", "reminder_type": "Invoice Due",
                                     "message": "Invoice INV-20250101-0001 is due", "send_on": date(2026, 3, 11),
                                     "status": "pending"})
    # 23:59 on the 10th in Melbourne (12:59 UTC): not yet
    assert reminders.process_due(db, datetime(2026, 3, 10, 12, 59), settings).claimed == 0
    assert row(db, legacy)["send_at"] == datetime(2026, 3, 10, 13, 0)  # midnight AEDT, in UTC
    assert reminders.process_due(db, datetime(2026, 3, 10, 13, 0), settings).sent == 1
    got = row(db, legacy)
    assert got["status"] == "sent" and got["delivery_channel"] == "email" and got["attempts"] == 1


# ------------------------------------------------------------------------------------------ time

def test_sms_waits_for_the_end_of_quiet_hours_in_the_branch_zone_email_does_not(db, settings):
    perth = make_branch(db, timezone="Australia/Perth")
    night_sms = queue(db, person(db), "sms")                     # 22:00 in Melbourne
    night_mail = queue(db, person(db), "email")
    west = queue(db, person(db, branch_id=perth), "sms")          # 19:00 in Perth: may go
    at = datetime(2026, 3, 10, 11, 0)
    result = reminders.process_due(db, at, settings)
    assert (result.held, result.sent) == (1, 2)
    held = row(db, night_sms)
    assert held["status"] == "pending" and held["attempts"] == 0
    assert held["next_attempt_at"] == datetime(2026, 3, 10, 21, 0)  # 08:00 AEDT on the 11th
    assert "until 08:00" in held["last_error"]
    assert row(db, night_mail)["status"] == "sent" and row(db, west)["status"] == "sent"
    assert reminders.process_due(db, datetime(2026, 3, 10, 20, 59), settings).claimed == 0
    assert reminders.process_due(db, datetime(2026, 3, 10, 21, 0), settings).sent == 1


@pytest.mark.parametrize("at, expected", [
    # 22:30 AEDT on Sat 4 Apr 2026; clocks go back at 03:00 on the 5th: 08:00 AEST is 22:00 UTC
    (datetime(2026, 4, 4, 11, 30), datetime(2026, 4, 4, 22, 0)),
    # 22:30 AEST on Sat 3 Oct 2026; clocks go forward at 02:00 on the 4th: 08:00 AEDT is 21:00 UTC
    (datetime(2026, 10, 3, 12, 30), datetime(2026, 10, 3, 21, 0)),
    # 07:59 AEDT: one minute left
    (datetime(2026, 3, 10, 20, 59), datetime(2026, 3, 10, 21, 0)),
])
def test_quiet_hours_end_at_local_eight_across_daylight_saving(at, expected):
    from zoneinfo import ZoneInfo

    settings = {"SMS_QUIET_HOURS": "21:00-08:00"}
    assert reminders.quiet_until(at, ZoneInfo("Australia/Melbourne"), settings) == expected
    assert reminders.quiet_until(datetime(2026, 3, 10, 2, 30), ZoneInfo("Australia/Melbourne"), settings) is None


def test_backoff_doubles_up_to_its_cap():
    import random

    settings = {"REMINDER_BACKOFF_SECONDS": 60, "REMINDER_BACKOFF_CAP_SECONDS": 600}
    rng = random.Random(7)
    waits = [reminders.backoff(n, settings, rng).total_seconds() for n in range(1, 7)]
    for n, wait in enumerate(waits[:4], start=1):
        assert 60 * 2 ** (n - 1) <= wait <= 60 * 2 ** (n - 1) * 1.25
    assert waits[4] == waits[5] == 600


# ------------------------------------------------------------------------------------------ recovery

def test_an_expired_claim_is_flagged_when_a_message_was_in_flight_and_requeued_when_not(db, settings):
    user = person(db)
    in_flight, idle = queue(db, user, "sms"), queue(db, user, "sms")
    dao = ReminderDAO(db)
    with db.transaction():
        dao.claim([in_flight, idle], "deadbeef" * 4, NOW, NOW + timedelta(minutes=15))
        dao.insert_delivery({"reminder_id": in_flight, "attempt": 1, "channel": "sms", "backend": "sms-http",
                             "address": "+61400111222", "state": "queued", "created_at": NOW})
    early = reminders.process_due(db, NOW + timedelta(minutes=14), settings)
    assert early.flagged == 0 and row(db, in_flight)["status"] == "processing"
    later = NOW + timedelta(minutes=16)
    result = reminders.process_due(db, later, settings)
    assert result.flagged == 1 and result.returned == 1
    flagged = row(db, in_flight)
    assert flagged["status"] == "unknown" and "check with the recipient" in flagged["last_error"]
    assert deliveries(db, in_flight) == [("sms", "sms-http", "unknown")]
    assert row(db, idle)["status"] == "sent"  # back in the queue, then sent in the same run
    assert len([l for l in outbound_lines(settings) if l["channel"] == "sms"]) == 1  # never the flagged one
    assert db.fetch_value("SELECT flagged FROM dispatcher_runs ORDER BY id DESC LIMIT 1") == 1


def test_run_now_sends_a_pending_reminder_early_and_refuses_others(db, settings):
    user = person(db)
    later = queue(db, user, send_at=NOW + timedelta(days=3))
    result = reminders.process_one(db, later, NOW, settings)
    assert result.sent == 1 and row(db, later)["status"] == "sent"
    with pytest.raises(Conflict):
        reminders.process_one(db, later, NOW, settings)
    with pytest.raises(NotFound):
        reminders.process_one(db, 987654, NOW, settings)


def test_health_warns_when_the_dispatcher_has_not_run_for_thirty_minutes(db, settings):
    assert "never run" in reminders.health(db, NOW, settings)["warning"]
    queue(db, person(db), send_at=NOW - timedelta(minutes=5))
    reminders.process_due(db, NOW, settings)
    waiting = queue(db, person(db), send_at=NOW + timedelta(minutes=10))
    fresh = reminders.health(db, NOW + timedelta(minutes=20), settings)
    assert fresh["warning"] is None and fresh["last_run"]["sent"] == 1
    assert fresh["oldest_due"] == row(db, waiting)["send_at"]
    stale = reminders.health(db, NOW + timedelta(minutes=31), settings)
    assert stale["stale"] and "has not run for 31 minutes" in stale["warning"]


def test_each_instructor_gets_tomorrows_agenda_once_by_the_channels_they_allow(db, settings):
    from tests.factories import make_instructor

    busy = make_instructor(db)
    for start, status in ((time(8, 0), "scheduled"), (time(13, 0), "scheduled"), (time(15, 0), "cancelled")):
        make_schedule(db, instructor_id=busy, scheduled_date=date(2026, 3, 11), start_time=start,
                      end_time=time(start.hour + 1, 30), status=status)
    idle = make_instructor(db)
    make_schedule(db, instructor_id=idle, scheduled_date=date(2026, 3, 12))  # not tomorrow
    gone = make_instructor(db, user_id=person(db, role="instructor", status="archived"))
    make_schedule(db, instructor_id=gone, scheduled_date=date(2026, 3, 11))
    assert reminders.queue_agendas(db, NOW, settings) == 1
    assert reminders.queue_agendas(db, NOW, settings) == 0  # keyed per instructor and day
    agenda = db.fetch_one("SELECT * FROM reminders WHERE related_type = 'instructor'")
    assert agenda["related_id"] == busy and agenda["channel"] == "email"
    assert agenda["message"].startswith("You have 2 lessons on Wed 11 Mar from 08:00 to 14:30.")
    user = db.fetch_value("SELECT user_id FROM instructors WHERE id = :i", {"i": busy})
    contact.set_preferences(db, Actor(user, "instructor"), email=False, sms=False, in_app=True, now=NOW)
    assert reminders.process_due(db, NOW, settings).sent == 1
    assert deliveries(db, agenda["id"]) == [("email", "consent", "failed"), ("in-app", "in-app", "sent")]


def test_a_freed_slot_offer_goes_by_sms_while_it_stands_and_never_in_app_twice(db, settings):
    from tests.factories import make_gap_offer

    user = person(db)
    student = make_student(db, user_id=user)
    enrolment = make_enrollment(db, student_id=student)

    def offer(**extra):
        lesson = make_schedule(db, enrolment, status="cancelled")
        instructor = db.fetch_value("SELECT instructor_id FROM schedules WHERE id = :s", {"s": lesson})
        return make_gap_offer(db, lesson, student, instructor, **extra)

    standing = offer(expires_at=NOW + timedelta(hours=6))
    taken = offer(status="taken", expires_at=NOW + timedelta(hours=6))
    expired = offer(expires_at=NOW - timedelta(minutes=1))
    ids = {offer: queue(db, user, "sms", related_type="gap_offer", related_id=offer, key=f"gap_offer:{offer}:sms",
                        reminder_type="An earlier lesson is free", message="A lesson has come free.")
           for offer in (standing, taken, expired)}
    silent = person(db)
    contact.set_preferences(db, Actor(silent, "student"), email=False, sms=False, in_app=True, now=NOW)
    muted = queue(db, silent, "sms", related_type="gap_offer", related_id=standing, message="A lesson has come free.")
    reminders.process_due(db, NOW, settings)
    assert row(db, ids[standing])["status"] == "sent" and row(db, ids[standing])["delivery_channel"] == "sms"
    assert row(db, ids[taken])["last_error"] == "the offer was taken before it could be sent"
    assert row(db, ids[expired])["last_error"] == "the offer has expired"
    assert row(db, muted)["status"] == "skipped" and "in their notifications" in row(db, muted)["last_error"]
    assert db.fetch_value("SELECT COUNT(*) FROM notifications") == 0  # the offer's own notice is the in-app copy
