"""The reminder queue pages (blueprints/reminders.py), on SQLite: the list shows the branch's reminders with
their recipient, channel, status and what they are about (another branch's never), filtered by status; a
reminder's page shows its message and delivery log; retry, cancel and "run now" answer 303 back to the
reminder with a flash, or 409 naming the rule for a status they do not apply to; another branch's
reminder is 404, instructors and students get 403, and every POST needs its CSRF token. The dashboard's
dispatcher health line warns when no run is recent."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, timedelta

import pytest

from app.core import passwords
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

NOW = datetime(2026, 3, 10, 2, 30)


@pytest.fixture
def backend():
    """These pages' SQL is the DAO's (tests/reminder_queue_test.py runs it on both databases)."""
    return "sqlite"


def _user(db, role, branch, email, first="Pat", last="Lee"):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name=first, last_name=last,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


def _reminder(db, user, lesson, status, channel="in-app", **extra):
    return db.insert("reminders", {
        "related_type": "schedule", "related_id": lesson, "recipient_user_id": user, "channel": channel,
        "reminder_type": "lesson_24h", "message": f"Zzmessage {status} for your lesson", "send_on": date(2026, 3, 9),
        "send_at": NOW - timedelta(hours=1), "status": status, "created_at": NOW, "updated_at": NOW, **extra})


@pytest.fixture
def world(app, frozen):
    frozen(NOW)
    with app.app_context():
        db = get_db()
        branch, other = f.make_branch(db, name="Bayside"), f.make_branch(db, name="Northside")
        jack_user = _user(db, "student", branch, "jack@x.com", "Jack", "Mason")
        jack = f.make_student(db, user_id=jack_user, branch_id=branch)
        zed = _user(db, "student", other, "zed@x.com", "Zzforeign", "Student")
        staff = _user(db, "staff", branch, "staff@x.com", "Sam", "Desk")
        db.insert("staff_profiles", {"user_id": staff, "branch_id": branch, "position_title": "Desk"})
        _user(db, "admin", None, "admin@x.com", "Ada", "Admin")
        _user(db, "instructor", branch, "raj@x.com", "Raj", "Patel")
        lesson = f.make_schedule(db, f.make_enrollment(db, student_id=jack), branch_id=branch,
                                 scheduled_date=date(2026, 3, 20))
        ids = {status: _reminder(db, jack_user, lesson, status) for status in ("pending", "sent")}
        ids["failed"] = _reminder(db, jack_user, lesson, "failed", channel="sms", delivery_channel="email",
                                  attempts=2, last_error="Zzerror no channel left")
        db.insert("message_deliveries", {"reminder_id": ids["failed"], "attempt": 1, "channel": "sms",
                                         "backend": "sms-http", "address": "+61400111222", "state": "failed",
                                         "error": "HTTP 500", "created_at": NOW, "finished_at": NOW})
        ids["foreign"] = _reminder(db, zed, lesson, "failed")
    return {"ids": ids, "lesson": lesson}


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _status(app, reminder_id):
    with app.app_context():
        return get_db().fetch_value("SELECT status FROM reminders WHERE id = :i", {"i": reminder_id})


def _post(client, path, token=True):
    return client.post(path, data={"csrf_token": csrf_token(client, "/dashboard/")} if token else {})


def test_the_queue_lists_the_branch_reminders_and_filters_by_status(app, world):
    staff = _client(app, "staff@x.com")
    page = staff.get("/reminders/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("Jack Mason") == 3 and "Zzforeign" not in html
    assert f'href="/schedules/{world["lesson"]}"' in html  # what it is about: the lesson's page
    assert "SMS" in html and "E-mail" in html and "Zzerror no channel left" in html  # requested → used
    assert 'data-status-count="failed"' in html and "Failed <span class=\"small\">(1)</span>" in html
    failed = staff.get("/reminders/?status=failed").get_data(as_text=True)
    assert failed.count("Jack Mason") == 1 and f'/reminders/{world["ids"]["failed"]}"' in failed
    assert "was ignored" in staff.get("/reminders/?status=bogus").get_data(as_text=True)
    admin = _client(app, "admin@x.com").get("/reminders/").get_data(as_text=True)
    assert "Zzforeign" in admin


def test_a_reminder_page_shows_its_message_and_delivery_log(app, world):
    staff = _client(app, "staff@x.com")
    html = staff.get(f"/reminders/{world['ids']['failed']}").get_data(as_text=True)
    assert "Zzmessage failed" in html and "+61400111222" in html and "HTTP 500" in html and "sms-http" in html
    assert "/retry" in html and "/cancel" in html and "/run" not in html  # only the actions that apply
    assert staff.get(f"/reminders/{world['ids']['foreign']}").status_code == 404
    assert _post(staff, f"/reminders/{world['ids']['foreign']}/retry").status_code == 404
    assert _status(app, world["ids"]["foreign"]) == "failed"


def test_retry_cancel_and_run_answer_303_or_409(app, world):
    staff, ids = _client(app, "staff@x.com"), world["ids"]
    response = _post(staff, f"/reminders/{ids['failed']}/retry")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/reminders/{ids['failed']}")
    assert "pending again" in staff.get(response.headers["Location"]).get_data(as_text=True)
    assert _status(app, ids["failed"]) == "pending"
    refused = _post(staff, f"/reminders/{ids['sent']}/retry")
    assert refused.status_code == 409 and "can be retried" in refused.get_data(as_text=True)
    refused = _post(staff, f"/reminders/{ids['sent']}/cancel")
    assert refused.status_code == 409 and "can be cancelled" in refused.get_data(as_text=True)
    assert _status(app, ids["sent"]) == "sent"

    response = _post(staff, f"/reminders/{ids['pending']}/run")  # in-app: delivered in the request
    assert response.status_code == 303
    html = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "The reminder was sent." in html and "In-app notification" in html and "None written" not in html
    assert _status(app, ids["pending"]) == "sent"
    assert _post(staff, f"/reminders/{ids['pending']}/run").status_code == 409  # not pending any more
    assert _post(staff, f"/reminders/{ids['failed']}/cancel").status_code == 303
    assert _status(app, ids["failed"]) == "cancelled"


def test_csrf_and_roles(app, world):
    staff, ids = _client(app, "staff@x.com"), world["ids"]
    for action in ("retry", "cancel", "run"):
        assert _post(staff, f"/reminders/{ids['failed']}/{action}", token=False).status_code in (400, 403)
    assert _status(app, ids["failed"]) == "failed"
    for email in ("jack@x.com", "raj@x.com"):
        client = _client(app, email)
        assert client.get("/reminders/").status_code == 403
        assert client.get(f"/reminders/{ids['failed']}").status_code == 403
        assert _post(client, f"/reminders/{ids['failed']}/retry").status_code == 403
    assert _status(app, ids["failed"]) == "failed"


def test_the_dispatcher_health_line(app, world):
    """The partial alone (the lead includes it in the dashboard): a run 40 minutes ago is a warning."""
    from flask import render_template_string

    from app.services import reminders

    with app.app_context():
        db = get_db()
        db.insert("dispatcher_runs", {"host": "web1", "pid": 1, "started_at": NOW - timedelta(minutes=40),
                                      "finished_at": NOW - timedelta(minutes=39), "status": "ok", "claimed": 7,
                                      "sent": 5, "failed": 1, "skipped": 1, "flagged": 2, "held": 0})
        health = reminders.health(db, NOW)
    with app.test_request_context("/dashboard/"):
        html = render_template_string("{% include 'dashboard/_dispatcher_health.html' %}",
                                      data={"dispatcher": health})
    assert "has not run for 40 minutes" in html and "No recent run" in html
    assert "7 claimed" in html and "5 sent" in html and "2 flagged for review" in html
    assert "status=unknown" in html and "Oldest due reminder:" in html


def test_inbox_links_follow_the_readers_role():
    from app.blueprints.notifications import related_target

    assert related_target("student", "schedule", 7) == ("portal.lessons", {})
    assert related_target("instructor", "schedule", "7") == ("events.view", {"schedule_id": 7})
    assert related_target("student", "invoice", 3) == ("studentinvoices.view", {"invoice_id": 3})
    assert related_target("staff", "invoice", 3) == ("invoices.view", {"invoice_id": 3})
    assert related_target("instructor", "invoice", 3) is None
    assert related_target("admin", "enrollment_request", 4) == ("enrollmentrequests.view", {"request_id": 4})
    assert related_target("student", "enrollment_request", 4) is None
    assert related_target("student", "communication", 5) is None  # a broadcast: the message is all there is
    assert related_target("student", "gap_offer", 6) == ("waitlist.offers", {})
    assert related_target("student", None, None) is None and related_target("student", "schedule", None) is None


def test_the_inbox_links_each_notification_and_labels_transactional_ones(app, world):
    from app.services import notifications

    with app.app_context():
        db = get_db()
        jack = db.fetch_value("SELECT id FROM users WHERE email = 'jack@x.com'")
        notifications.notify(db, jack, "Lesson moved", "Now at 10:00", now=NOW, related_type="schedule",
                             related_id=world["lesson"], kind="transactional")
        notifications.notify(db, jack, "School news", "Closed Monday", now=NOW, related_type="communication",
                             related_id=1, kind="broadcast")
    html = _client(app, "jack@x.com").get("/notifications/").get_data(as_text=True)
    assert 'href="/my/lessons">Open the lesson' in html  # a student's lessons page (no page per lesson)
    assert html.count("Transactional") == 1 and html.count("Open the") == 1


def test_every_inbox_link_opens_for_its_reader_after_a_dispatch(seeded):
    """On the demo school: lesson, invoice and enrolment-request reminders are delivered in-app by the
    dispatcher; every link in each reader's inbox then opens (200) for that reader."""
    import re

    from app.core import clock
    from app.services import reminders

    with seeded.app_context():
        db = get_db()
        now = clock.now()
        pairs = db.fetch_all(
            "SELECT s.id AS schedule_id, st.user_id AS student_user, i.user_id AS instructor_user,"
            " (SELECT MIN(v.id) FROM invoices v WHERE v.enrollment_id = e.id) AS invoice_id"
            " FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id JOIN students st ON st.id = e.student_id"
            " JOIN instructors i ON i.id = s.instructor_id WHERE s.status = 'scheduled' AND s.scheduled_date > :d"
            " ORDER BY s.id LIMIT 1", {"d": clock.today()})
        (lesson,) = pairs
        request_id = db.fetch_value("SELECT MIN(id) FROM enrollment_requests")
        staff_user = db.fetch_value("SELECT id FROM users WHERE email = 'admin@origin.com'")
        for related_type, related_id, user in (("schedule", lesson["schedule_id"], lesson["student_user"]),
                                               ("schedule", lesson["schedule_id"], lesson["instructor_user"]),
                                               ("invoice", lesson["invoice_id"], lesson["student_user"]),
                                               ("enrollment_request", request_id, staff_user)):
            reminders.queue(db, related_type=related_type, related_id=related_id, recipient_user_id=user,
                            channel="in-app", reminder_type="Check", message="Zzlink check", send_at=now, now=now,
                            key=None)
        reminders.process_due(db, now, seeded.config)
        emails = {u: db.fetch_value("SELECT email FROM users WHERE id = :u", {"u": u})
                  for u in (lesson["student_user"], lesson["instructor_user"], staff_user)}
    opened = 0
    for email in emails.values():
        client = seeded.test_client()
        login(client, email)
        html = client.get("/notifications/").get_data(as_text=True)
        for block in html.split("Zzlink check")[1:]:
            href = re.search(r'href="(/[^"]+)"', block).group(1)
            assert client.get(href).status_code == 200, (email, href)
            opened += 1
    assert opened == 4
