"""Broadcasts (services.communications, dao.communication) on SQLite and MariaDB: every segment and its
branch scope, archived accounts and duplicates left out, the send as one transaction (a failure leaves
nothing), the delivery counts from one aggregate, and the scope of the history and the detail page."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.database import count_queries
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery
from app.dao.communication import CommunicationDAO
from app.services import communications, reminders
from app.services.scope import Actor
from tests import factories as f

NOW = f.NOW
SETTINGS = {"APP_NAME": "Origin Driving School"}


def _school(db) -> dict:
    """Branches A and B. A: staff, instructor, two students (one enrolled twice in course C, one
    'completed' in course D), an archived student enrolled in C, a PHP-era student whose account has no
    branch (only the profile's). B: a student enrolled in C, an instructor. Plus an admin without a branch."""
    a, b = f.make_branch(db, name="Alpha"), f.make_branch(db, name="Beta")
    course_c, course_d = f.make_course(db, title="Car licence"), f.make_course(db, title="Truck licence")
    w: dict = {"a": a, "b": b, "c": course_c, "d": course_d}
    w["admin"] = f.make_user(db, role="admin")
    w["staff_a"] = f.make_user(db, role="staff", branch_id=a)
    db.insert("staff_profiles", {"user_id": w["staff_a"], "branch_id": a, "position_title": "Desk"})
    w["staff_b"] = f.make_user(db, role="staff", branch_id=b)
    w["instr_a"] = db.fetch_value("SELECT user_id FROM instructors WHERE id = :i",
                                  {"i": f.make_instructor(db, branch_id=a)})
    w["instr_b"] = db.fetch_value("SELECT user_id FROM instructors WHERE id = :i",
                                  {"i": f.make_instructor(db, branch_id=b)})

    def student(branch, user_branch="same", status="active"):
        user = f.make_user(db, role="student", branch_id=branch if user_branch == "same" else None, status=status)
        return user, f.make_student(db, user_id=user, branch_id=branch)

    w["s1"], s1 = student(a)
    f.make_enrollment(db, s1, course_c)
    f.make_enrollment(db, s1, course_c, status="in_progress")  # twice in the same course: still one recipient
    w["s2"], s2 = student(a)
    f.make_enrollment(db, s2, course_d, status="completed")
    w["archived"], s3 = student(a, status="archived")
    f.make_enrollment(db, s3, course_c)
    w["legacy"], s4 = student(a, user_branch=None)  # PHP-era: the account has no branch, the profile has
    w["s_b"], s5 = student(b)
    f.make_enrollment(db, s5, course_c)
    w["admin_actor"] = Actor(user_id=w["admin"], role="admin")
    w["staff_actor"] = Actor(user_id=w["staff_a"], role="staff", branch_id=a)
    return w


def _ids(db, actor, segment, value=""):
    where, params = communications.resolve_audience(db, actor, segment, value).clause()
    return set(CommunicationDAO(db).audience_ids(where, params))


def test_every_segment_resolves_active_people_once_and_staff_only_their_branch(db):
    w = _school(db)
    admin, staff = w["admin_actor"], w["staff_actor"]
    everyone = {w[k] for k in ("admin", "staff_a", "staff_b", "instr_a", "instr_b", "s1", "s2", "legacy", "s_b")}
    assert _ids(db, admin, "everyone") == everyone  # never the archived student
    assert _ids(db, staff, "everyone") == {w["staff_a"], w["instr_a"], w["s1"], w["s2"], w["legacy"]}
    assert _ids(db, admin, "role", "student") == {w["s1"], w["s2"], w["legacy"], w["s_b"]}
    assert _ids(db, staff, "role", "instructor") == {w["instr_a"]}
    assert _ids(db, admin, "role", "admin") == {w["admin"]}
    assert _ids(db, admin, "branch", str(w["b"])) == {w["staff_b"], w["instr_b"], w["s_b"]}
    assert _ids(db, staff, "branch", str(w["a"])) == _ids(db, staff, "everyone")  # their own branch: allowed
    assert _ids(db, admin, "course", str(w["c"])) == {w["s1"], w["s_b"]}
    assert _ids(db, staff, "course", str(w["c"])) == {w["s1"]}
    assert _ids(db, admin, "enrolment_status", "completed") == {w["s2"]}
    assert _ids(db, admin, "enrolment_status", "in_progress") == {w["s1"]}
    # the preview's aggregate agrees with the list, and its sample is the first names
    shown = communications.preview(db, admin, "course", str(w["c"]), "sms")
    assert shown["total"] == 2 and {p["id"] for p in shown["sample"]} == {w["s1"], w["s_b"]}
    assert shown["no_address"] == 2  # the factory's users have no phone: the dispatcher falls back


@pytest.mark.parametrize("segment, value, field", [
    ("", "", "segment"), ("nobody", "", "segment"), ("role", "owner", "segment_value"),
    ("course", "0", "segment_value"), ("course", "999999", "segment_value"), ("course", "1e3", "segment_value"),
    ("enrolment_status", "paused", "segment_value"), ("branch", "abc", "segment_value"),
])
def test_bad_segments_are_422_naming_the_field(db, segment, value, field):
    actor = Actor(user_id=1, role="admin")
    with pytest.raises(ValidationFailed) as caught:
        communications.resolve_audience(db, actor, segment, value)
    assert field in caught.value.errors


def test_send_validation_scope_and_nobody(db):
    w = _school(db)
    staff, admin = w["staff_actor"], w["admin_actor"]
    good = {"segment": "role", "segment_value": "student", "channel": "sms", "subject": "", "message": "Hello all"}
    for change, field in (({"channel": "fax"}, "channel"), ({"message": "Hi"}, "message"),
                          ({"message": "x" * 2001}, "message"), ({"subject": "s" * 161}, "subject"),
                          ({"segment": "branch", "segment_value": str(w["b"])}, "segment_value"),
                          ({"segment": "enrolment_status", "segment_value": "cancelled"}, "segment")):  # nobody
        with pytest.raises(ValidationFailed) as caught:
            communications.send(db, staff, {**good, **change}, now=NOW, settings=SETTINGS)
        assert field in caught.value.errors, change
    with pytest.raises(PermissionDenied):
        communications.send(db, Actor(user_id=w["instr_a"], role="instructor"), good, now=NOW, settings=SETTINGS)
    with pytest.raises(NotFound):
        communications.history(db, Actor(user_id=w["s1"], role="student"), ListQuery(sort="date"))
    branchless = Actor(user_id=w["staff_b"], role="staff", branch_id=None)
    with pytest.raises(ValidationFailed) as caught:
        communications.send(db, branchless, {**good, "segment": "everyone"}, now=NOW, settings=SETTINGS)
    assert "segment" in caught.value.errors  # a staff account without a branch reaches nobody
    assert db.fetch_value("SELECT COUNT(*) FROM communications") == 0
    assert db.fetch_value("SELECT COUNT(*) FROM reminders") == 0
    assert communications.send(db, admin, good, now=NOW, settings=SETTINGS) > 0


def test_send_records_recipients_and_queues_one_reminder_each_in_one_transaction(db):
    w = _school(db)
    cid = communications.send(db, w["staff_actor"], {
        "segment": "course", "segment_value": str(w["c"]), "channel": "email", "subject": "",
        "message": "  Lessons resume on Monday.\r\nSee you then.  "}, now=NOW, settings=SETTINGS)
    row = db.fetch_one("SELECT * FROM communications WHERE id = :id", {"id": cid})
    assert (row["sender_user_id"], row["branch_id"], row["segment"], row["segment_value"], row["channel"],
            row["recipient_count"], row["audience_scope"]) == (w["staff_a"], w["a"], "course", str(w["c"]), "email",
                                                               1, f"course:{w['c']}")
    assert row["subject"] == "A message from Origin Driving School"
    assert row["message"] == "Lessons resume on Monday.\nSee you then."
    assert [r["user_id"] for r in db.fetch_all(
        "SELECT user_id FROM communication_recipients WHERE communication_id = :c", {"c": cid})] == [w["s1"]]
    queued = db.fetch_all("SELECT * FROM reminders WHERE related_type = 'communication' AND related_id = :c", {"c": cid})
    assert len(queued) == 1
    r = queued[0]
    assert (r["recipient_user_id"], r["channel"], r["reminder_type"], r["status"], r["transactional"],
            r["idempotency_key"]) == (w["s1"], "email", "Broadcast", "pending", 0, f"communication:{cid}:{w['s1']}")
    assert r["message"] == "A message from Origin Driving School\n\nLessons resume on Monday.\nSee you then."
    assert r["send_at"] == NOW
    assert db.fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = 'communication_sent' AND entity_id = :c",
                          {"c": cid}) == 1
    # the dispatcher delivers it (here e-mail is off, so in-app, with the subject as the title)
    from app.services import reminders

    result = reminders.process_due(db, NOW, {**SETTINGS, "MAIL_ENABLED": False, "SMS_QUIET_HOURS": ""})
    assert result.sent == 1
    note = db.fetch_one("SELECT title, message, kind, related_type, related_id FROM notifications"
                        " WHERE reminder_id = :r", {"r": r["id"]})
    assert (note["title"], note["kind"], note["related_type"], note["related_id"]) == (
        "A message from Origin Driving School", "broadcast", "communication", cid)
    assert note["message"].startswith("Lessons resume on Monday.\nSee you then.")


def test_a_failure_while_queueing_leaves_nothing(db, monkeypatch):
    w = _school(db)

    def broken(db_, rows, now):
        reminders.ReminderDAO(db_).insert_many([reminders.reminder_row(now=now, **rows[0])])  # one row written...
        raise RuntimeError("disk full")                                                       # ...then it fails

    monkeypatch.setattr(reminders, "queue_many", broken)
    before = {t: db.fetch_value(f"SELECT COUNT(*) FROM {t}") for t in
              ("communications", "communication_recipients", "reminders", "audit_trail")}
    with pytest.raises(RuntimeError):
        communications.send(db, w["admin_actor"], {"segment": "everyone", "channel": "in-app",
                                                   "message": "Closed tomorrow."}, now=NOW, settings=SETTINGS)
    assert {t: db.fetch_value(f"SELECT COUNT(*) FROM {t}") for t in before} == before


def test_history_counts_deliveries_with_one_aggregate_and_staff_see_only_their_branch(db):
    w = _school(db)
    admin, staff = w["admin_actor"], w["staff_actor"]
    mine = communications.send(db, staff, {"segment": "everyone", "channel": "sms", "message": "Branch A news"},
                               now=NOW, settings=SETTINGS)
    for n in range(3):  # admin's, to every branch
        communications.send(db, admin, {"segment": "role", "segment_value": "student", "channel": "in-app",
                                        "subject": f"Note {n}", "message": "School-wide news"},
                            now=NOW + timedelta(minutes=n + 1), settings=SETTINGS)
    ids = [r["id"] for r in db.fetch_all("SELECT id FROM reminders WHERE related_id = :c ORDER BY id", {"c": mine})]
    db.execute("UPDATE reminders SET status = 'sent' WHERE id IN (:a, :b)", {"a": ids[0], "b": ids[1]})
    db.execute("UPDATE reminders SET status = 'failed', last_error = 'no number' WHERE id = :a", {"a": ids[2]})
    with count_queries() as counter:
        page = communications.history(db, admin, ListQuery(sort="date", direction="desc"))
    assert counter.count <= 4  # count, page, the one delivery aggregate, course titles at most: never per row
    assert [r["subject"] for r in page.items][:3] == ["Note 2", "Note 1", "Note 0"]
    found = next(r for r in page.items if r["id"] == mine)
    assert found["recipients"] == 5 and found["segment_label"] == "Everyone (Alpha)"
    assert page.items[0]["segment_label"] == "Students (all branches)"
    assert {s: n for s, _, n in found["deliveries"]} == {"sent": 2, "failed": 1, "pending": 2}
    assert CommunicationDAO(db).delivery_counts([mine])[mine] == {"sent": 2, "failed": 1, "pending": 2}
    # staff: their branch's broadcast only; an admin's to every branch is outside their scope (404)
    assert [r["id"] for r in communications.history(db, staff, ListQuery(sort="date")).items] == [mine]
    other = page.items[0]["id"]
    with pytest.raises(NotFound):
        communications.get(db, staff, other)
    with pytest.raises(NotFound):
        communications.get(db, Actor(user_id=w["staff_b"], role="staff", branch_id=w["b"]), mine)
    # the detail page's recipients, each with its reminders row; filtered by delivery status
    c, recipients = communications.recipients(db, staff, mine, ListQuery(sort="name"))
    assert c["id"] == mine and recipients.total == 5
    assert sorted(r["delivery"]["status"] for r in recipients.items) == ["failed", "pending", "pending", "sent", "sent"]
    _, failed = communications.recipients(db, staff, mine, ListQuery(sort="name", filters={"status": "failed"}))
    assert failed.total == 1 and failed.items[0]["delivery"]["last_error"] == "no number"


def test_php_era_broadcasts_read_with_the_original_label_and_belong_to_the_senders_branch(db):
    a, b = f.make_branch(db), f.make_branch(db)
    user, sender = f.make_user(db, role="student"), f.make_user(db, role="staff", branch_id=a,
                                                                first_name="Old", last_name="Timer")
    cid = db.insert("communications", {"sender_user_id": sender, "audience_scope": "all_students", "channel": "email",
                                       "subject": "Old", "message": "From the PHP days", "created_at": NOW})
    db.insert("communication_recipients", {"communication_id": cid, "user_id": user})
    orphan = db.insert("communications", {"sender_user_id": None, "audience_scope": "selected", "channel": "sms",
                                          "subject": "Older", "message": "No sender left", "created_at": NOW})
    page = communications.history(db, Actor(user_id=1, role="admin"), ListQuery(sort="date"))
    row = next(r for r in page.items if r["id"] == cid)
    assert (row["segment_label"], row["recipients"], row["deliveries"], row["sender_name"]) == (
        "All students", 1, [], "Old Timer")
    _, recipients = communications.recipients(db, Actor(user_id=1, role="admin"), cid, ListQuery(sort="name"))
    assert recipients.total == 1 and recipients.items[0]["delivery"] is None
    staff_a, staff_b = (Actor(user_id=sender, role="staff", branch_id=a), Actor(user_id=2, role="staff", branch_id=b))
    assert [r["id"] for r in communications.history(db, staff_a, ListQuery(sort="date")).items] == [cid]
    assert communications.get(db, staff_a, cid)["id"] == cid
    assert communications.history(db, staff_b, ListQuery(sort="date")).total == 0
    for actor, target in ((staff_b, cid), (staff_a, orphan)):
        with pytest.raises(NotFound):
            communications.get(db, actor, target)
