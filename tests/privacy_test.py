"""services/privacy.py and PrivacyDAO on SQLite and MariaDB: a student's download holds every section of
their own data and nobody else's, in the same few statements whatever their history, and is audited; a
former student's anonymisation replaces exactly the personal fields (account, profile, notes, documents
and their files, free text of enrolments, requests and lessons, reminders and their delivery addresses,
notifications, contact preferences, sessions, tokens, second factor, sign-in attempts) and keeps invoices,
lines, payments, credits, lesson rows and every audit row (the chain still verifies); each refusal is a
409 naming its rule (or 404/403/422) and writes nothing."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from app.core.database import count_queries
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.dao.privacy import PrivacyDAO
from app.services import audit, privacy
from app.services.scope import Actor
from tests import factories as f

NOW = datetime(2026, 3, 10, 2, 30)
TODAY = date(2026, 3, 10)
SETTINGS = {"APP_NAME": "Origin Driving School", "APP_TIMEZONE": "Australia/Melbourne"}
PDF = b"%PDF-1.4\n% privacy test\n"


def _student(db, tag, branch, upload_dir: Path | None = None, *, status="active", history=True):
    """A student with a piece of every kind of personal data, each value carrying ``tag``."""
    user = f.make_user(db, role="student", branch_id=branch, status=status, first_name=f"Zz{tag}first",
                       last_name=f"Zz{tag}last", email=f"zz.{tag}@example.com", phone="0400 123 456",
                       last_login_at=NOW)
    sid = f.make_student(db, user_id=user, branch_id=branch, license_number=f"LIC{tag}99",
                         license_expiry=date(2028, 1, 1), emergency_contact_name=f"Zz{tag}mum",
                         emergency_contact_phone="0400 999 888", address_line=f"1 Zz{tag} Street", city="Carlton",
                         postcode="3053", progress_summary=f"Zz{tag} progress", date_of_birth=date(2004, 5, 6))
    ids = {"user": user, "student": sid}
    if not history:
        return ids
    course = f.make_course(db, title=f"Course {tag}")
    enrolment = f.make_enrollment(db, student_id=sid, course_id=course, notes=f"Zz{tag} enrolment note")
    instructor = f.make_instructor(db, branch_id=branch)
    ids["lesson"] = f.make_schedule(db, enrollment_id=enrolment, instructor_id=instructor, branch_id=branch,
                                    scheduled_date=TODAY - timedelta(days=3), status="completed", student_rating=4,
                                    student_feedback=f"Zz{tag} feedback", notes=f"Zz{tag} lesson note",
                                    pickup_location=f"2 Zz{tag} Road", lesson_topic="Parking")
    ids["cancelled"] = f.make_schedule(db, enrollment_id=enrolment, instructor_id=instructor, branch_id=branch,
                                       scheduled_date=TODAY - timedelta(days=1), status="cancelled",
                                       cancel_reason=f"Zz{tag} sick")
    db.insert("reschedule_proposals", {"schedule_id": ids["lesson"], "proposed_date": TODAY, "start_time": time(9),
                                       "end_time": time(10), "message": f"Zz{tag} proposal", "status": "declined",
                                       "expires_at": NOW, "created_at": NOW})
    ids["invoice"] = f.make_invoice(db, enrollment_id=enrolment, invoice_number=f"INV-{tag}", notes=f"Zz{tag} inv")
    for n in (1, 2):
        db.insert("invoice_items", {"invoice_id": ids["invoice"], "description": f"Line {n} {tag}", "quantity": 1,
                                    "unit_price": Decimal("484.00"), "total": Decimal("484.00")})
    ids["draft"] = f.make_invoice(db, enrollment_id=enrolment, invoice_number=f"DRAFT-{tag}", status="draft")
    ids["payment"] = f.make_payment(db, ids["invoice"], "968.00", reference=f"REF-{tag}")
    db.insert("account_credits", {"student_id": sid, "amount": Decimal("10.00"), "source": "overpayment",
                                  "created_at": NOW})
    db.insert("account_credits", {"student_id": sid, "amount": Decimal("-10.00"), "source": "applied",
                                  "created_at": NOW})
    stored = f"{tag.lower()}{'0' * 30}.pdf"
    if upload_dir is not None:
        (upload_dir / stored).write_bytes(PDF)
    ids["file"] = stored
    ids["document"] = db.insert("documents", {"user_id": user, "file_name": f"Zz{tag}licence.pdf", "file_path": stored,
                                              "mime_type": "application/pdf", "file_size": len(PDF),
                                              "category": "licence", "notes": f"Zz{tag} scan", "sha256": "a" * 64,
                                              "expiry_date": date(2028, 1, 1), "created_at": NOW})
    ids["request"] = f.make_enrollment_request(db, sid, course, student_notes=f"Zz{tag} wants Mondays",
                                               admin_notes=f"Zz{tag} approved", status="approved")
    ids["note"] = db.insert("notes", {"related_type": "student", "related_id": sid, "author_user_id": None,
                                      "content": f"Zz{tag} internal note", "created_at": NOW})
    db.insert("contact_preferences", {"user_id": user, "email_opt_out": 0, "sms_opt_out": 1, "in_app_opt_out": 0,
                                      "updated_at": NOW})
    db.insert("notifications", {"user_id": user, "title": f"Zz{tag} title", "message": f"Zz{tag} message",
                                "level": "info", "created_at": NOW})
    staff = f.make_user(db, role="staff", branch_id=branch)
    ids["staff_user"] = staff
    ids["staff_notice"] = db.insert("notifications", {
        "user_id": staff, "title": "New enrolment application", "message": f"Zz{tag}first applied",
        "level": "info", "created_at": NOW, "related_type": "enrollment_request", "related_id": ids["request"]})
    ids["unrelated_notice"] = db.insert("notifications", {"user_id": staff, "title": "Other", "message": "Keep me",
                                                          "level": "info", "created_at": NOW})
    comm = db.insert("communications", {"sender_user_id": staff, "audience_scope": "selected", "channel": "in-app",
                                        "subject": f"Broadcast {tag}", "message": "Road closed", "created_at": NOW})
    db.insert("communication_recipients", {"communication_id": comm, "user_id": user})
    ids["pending_reminder"] = db.insert("reminders", {
        "related_type": "invoice", "related_id": ids["invoice"], "recipient_user_id": user, "channel": "email",
        "reminder_type": "invoice_due", "message": f"Dear Zz{tag}first", "send_on": TODAY, "status": "pending",
        "created_at": NOW, "updated_at": NOW})
    ids["sent_reminder"] = db.insert("reminders", {
        "related_type": "schedule", "related_id": ids["lesson"], "recipient_user_id": user, "channel": "sms",
        "reminder_type": "lesson_24h", "message": f"Hi Zz{tag}first", "send_on": TODAY, "status": "sent",
        "created_at": NOW, "updated_at": NOW})
    db.insert("message_deliveries", {"reminder_id": ids["sent_reminder"], "attempt": 1, "channel": "sms",
                                     "backend": "log", "address": "0400 123 456", "state": "sent", "created_at": NOW})
    db.insert("user_sessions", {"user_id": user, "token_hash": f"{tag.lower()}" * 64, "created_at": NOW,
                                "last_seen_at": NOW, "ip_address": "203.0.113.9", "user_agent": "Firefox"})
    db.insert("account_tokens", {"user_id": user, "purpose": "reset", "token_hash": f"{tag.lower()}1" * 32,
                                 "expires_at": NOW, "created_at": NOW})
    db.insert("page_handoffs", {"key_hash": f"{tag.lower()}2" * 32, "user_id": user, "kind": "x", "payload": "{}",
                                "created_at": NOW, "expires_at": NOW})
    db.insert("calendar_feed_tokens", {"owner_type": "student", "owner_id": sid, "token_hash": f"{tag.lower()}3" * 32,
                                       "created_at": NOW})
    db.insert("user_second_factors", {"user_id": user, "secret": "enc", "created_at": NOW})
    db.insert("recovery_codes", {"user_id": user, "code_hash": "c" * 64, "created_at": NOW})
    db.insert("login_attempts", {"email": f"zz.{tag}@example.com", "user_id": user, "ip_address": "203.0.113.9",
                                 "succeeded": 1, "attempted_at": NOW})
    db.insert("login_attempts", {"email": f"zz.{tag}@example.com", "user_id": None, "ip_address": "203.0.113.9",
                                 "succeeded": 0, "attempted_at": NOW})
    f.make_waitlist_preferences(db, sid)
    ids["offer"] = f.make_gap_offer(db, ids["cancelled"], sid, instructor)
    return ids


def _actor(ids, branch):
    return Actor(user_id=ids["user"], role="student", branch_id=branch, student_id=ids["student"])


# --------------------------------------------------------------------------- download

def test_the_download_holds_every_section_of_the_own_student_and_nobody_elses(db):
    branch = f.make_branch(db)
    mine, other = _student(db, "A", branch), _student(db, "B", branch)
    data = privacy.collect(db, _actor(mine, branch), now=NOW, settings=SETTINGS)
    assert data["profile"]["email"] == "zz.A@example.com" and data["profile"]["license_number"] == "LICA99"
    assert data["profile"]["date_of_birth"] == date(2004, 5, 6) and data["profile"]["address_line"] == "1 ZzA Street"
    assert [e["course"] for e in data["enrolments"]] == ["Course A"]
    assert [l["id"] for l in data["lessons"]] == [mine["lesson"], mine["cancelled"]]
    first = data["lessons"][0]
    assert (first["pickup_location"], first["notes"], first["student_feedback"], first["student_rating"],
            first["start_time"]) == ("2 ZzA Road", "ZzA lesson note", "ZzA feedback", 4, time(9, 0))
    assert data["lessons"][1]["cancel_reason"] == "ZzA sick"
    assert [i["invoice_number"] for i in data["invoices"]] == ["INV-A"]  # the draft is not issued
    invoice = data["invoices"][0]
    assert [line["description"] for line in invoice["lines"]] == ["Line 1 A", "Line 2 A"]
    assert invoice["paid"] == Decimal("968.00") and invoice["balance_due"] == Decimal("0.00")
    assert [(p["reference"], p["amount"]) for p in data["payments"]] == [("REF-A", Decimal("968.00"))]
    assert [c["amount"] for c in data["account_credit"]] == [Decimal("10.00"), Decimal("-10.00")]
    assert [(d["file_name"], d["category"]) for d in data["documents"]] == [("ZzAlicence.pdf", "licence")]
    assert "file_path" not in data["documents"][0] and "sha256" not in data["documents"][0]
    assert [(r["student_notes"], r["decision_notes"]) for r in data["enrolment_requests"]] == [
        ("ZzA wants Mondays", "ZzA approved")]
    assert data["contact_preferences"] | {"updated_at": None} == {"email": True, "sms": False, "in_app": True,
                                                                  "updated_at": None}
    assert [n["title"] for n in data["notifications"]] == ["ZzA title"]
    assert [m["subject"] for m in data["messages_received"]] == ["Broadcast A"]
    assert [s["ip_address"] for s in data["sessions"]] == ["203.0.113.9"]
    assert data["waitlist"]["active"] is True and data["waitlist"]["weekdays"][0] == "Monday"
    text = privacy.to_json(data)
    parsed = json.loads(text)
    assert parsed["format"] == privacy.EXPORT_FORMAT and parsed["invoices"][0]["total"] == "968.00"
    assert parsed["lessons"][0]["scheduled_date"] == (TODAY - timedelta(days=3)).isoformat()
    assert parsed["generated_at"] == "2026-03-10T02:30:00Z"
    assert "ZzB" not in text and "INV-B" not in text and "REF-B" not in text  # nobody else's
    assert "ZzA internal note" not in text  # the office's internal notes are not shown to students
    assert other["user"] != mine["user"]


def test_the_download_costs_the_same_few_statements_whatever_the_history(db):
    branch = f.make_branch(db)
    small, big = _student(db, "S", branch), _student(db, "L", branch)
    enrolment = db.fetch_value("SELECT MIN(id) FROM enrollments WHERE student_id = :s", {"s": big["student"]})
    instructor = f.make_instructor(db, branch_id=branch)
    for n in range(60):
        f.make_schedule(db, enrollment_id=enrolment, instructor_id=instructor, scheduled_date=TODAY - timedelta(days=n + 5),
                        status="completed")
    for n in range(8):
        invoice = f.make_invoice(db, enrollment_id=enrolment)
        db.insert("invoice_items", {"invoice_id": invoice, "description": "Lesson", "quantity": 1,
                                    "unit_price": Decimal("80.00"), "total": Decimal("80.00")})
        f.make_payment(db, invoice, "10.00")
    counts = []
    for ids in (small, big):
        with count_queries() as counter:
            data = privacy.collect(db, _actor(ids, branch), now=NOW, settings=SETTINGS)
        counts.append(counter.count)
    assert len(data["lessons"]) == 62 and len(data["invoices"]) == 9
    assert counts[0] == counts[1] <= 15, counts


def test_the_download_is_audited_and_only_for_students(db):
    branch = f.make_branch(db)
    ids = _student(db, "A", branch, history=False)
    privacy.export(db, _actor(ids, branch), kind="json", now=NOW, settings=SETTINGS)
    row = db.fetch_one("SELECT user_id, entity_type, entity_id, details FROM audit_trail"
                       " WHERE action = 'personal_data_exported'")
    assert (row["user_id"], row["entity_type"], row["entity_id"]) == (ids["user"], "student", ids["student"])
    assert "JSON" in row["details"] and audit.verify(db).ok
    staff = Actor(user_id=f.make_user(db, role="staff", branch_id=branch), role="staff", branch_id=branch)
    with pytest.raises(PermissionDenied):
        privacy.collect(db, staff, now=NOW, settings=SETTINGS)
    with pytest.raises(NotFound):
        privacy.export(db, _actor(ids, branch), kind="xml", now=NOW, settings=SETTINGS)
    assert PrivacyDAO(db).counts(ids["user"], ids["student"])["lessons"] == 0


# --------------------------------------------------------------------------- anonymise

def _office(db, branch, role="staff"):
    return Actor(user_id=f.make_user(db, role=role, branch_id=branch if role == "staff" else None), role=role,
                 branch_id=branch if role == "staff" else None)


def _tally(db, ids):
    """Rows that must survive anonymisation, with the amounts."""
    sid = {"s": ids["student"]}
    return {
        "invoices": db.fetch_all("SELECT i.id, i.total, i.status FROM invoices i JOIN enrollments e ON"
                                 " e.id = i.enrollment_id WHERE e.student_id = :s ORDER BY i.id", sid),
        "items": db.fetch_value("SELECT COUNT(*) FROM invoice_items WHERE invoice_id = :i", {"i": ids["invoice"]}),
        "payments": db.fetch_all("SELECT id, amount, reference FROM payments WHERE id = :p", {"p": ids["payment"]}),
        "credits": db.fetch_value("SELECT COUNT(*) FROM account_credits WHERE student_id = :s", sid),
        "lessons": db.fetch_all("SELECT s.id, s.scheduled_date, s.status, s.student_rating, s.lesson_topic FROM"
                                " schedules s JOIN enrollments e ON e.id = s.enrollment_id WHERE e.student_id = :s"
                                " ORDER BY s.id", sid),
        "documents": db.fetch_value("SELECT COUNT(*) FROM documents WHERE user_id = :u", {"u": ids["user"]}),
        "notes": db.fetch_value("SELECT COUNT(*) FROM notes WHERE related_type = 'student' AND related_id = :s", sid),
        "audit": db.fetch_all("SELECT id, row_hash, details, after_json FROM audit_trail ORDER BY id"),
    }


def test_anonymising_a_former_student_replaces_the_personal_fields_and_keeps_the_records(db, tmp_path):
    branch = f.make_branch(db)
    ids, other = _student(db, "A", branch, tmp_path, status="archived"), _student(db, "B", branch, tmp_path)
    staff = _office(db, branch)
    audit.record(db, staff, "student_created", "student", ids["student"], now=NOW,
                 after={"email": "zz.A@example.com", "first_name": "ZzAfirst"})
    before, other_before = _tally(db, ids), _tally(db, other)
    done = privacy.anonymise(db, staff, ids["student"], "E-mail from ZzAfirst zz.A@example.com of 9 Mar,"
                             " phone 0400123456", now=NOW, upload_dir=tmp_path)
    assert (done.files_deleted, done.files_missing) == (1, 0)
    assert not (tmp_path / ids["file"]).exists() and (tmp_path / other["file"]).exists()

    user = db.fetch_one("SELECT first_name, last_name, email, phone, password_hash, status, anonymised_at,"
                        " last_login_at FROM users WHERE id = :u", {"u": ids["user"]})
    assert (user["first_name"], user["last_name"], user["phone"], user["status"], user["last_login_at"]) == (
        "Former", "student", None, "archived", None)
    assert user["email"] == f"anonymised-{ids['user']}@invalid.example" and user["anonymised_at"] == NOW
    assert user["password_hash"].startswith("!unset!")
    student = db.fetch_one("SELECT license_number, license_expiry, date_of_birth, emergency_contact_name,"
                           " emergency_contact_phone, address_line, city, postcode, progress_summary, branch_id,"
                           " license_status FROM students WHERE id = :s", {"s": ids["student"]})
    assert student == {"license_number": None, "license_expiry": None, "date_of_birth": None,
                       "emergency_contact_name": None, "emergency_contact_phone": None, "address_line": None,
                       "city": None, "postcode": None, "progress_summary": privacy.SUMMARY_TEXT, "branch_id": branch,
                       "license_status": "Learner"}
    assert db.fetch_value("SELECT content FROM notes WHERE id = :n", {"n": ids["note"]}) == privacy.NOTE_TEXT
    doc = db.fetch_one("SELECT file_name, file_path, notes, sha256, expiry_date, category FROM documents WHERE id = :d",
                       {"d": ids["document"]})
    assert doc == {"file_name": privacy.DOCUMENT_NAME, "file_path": "", "notes": None, "sha256": None,
                   "expiry_date": None, "category": "licence"}
    assert db.fetch_one("SELECT student_notes, admin_notes FROM enrollment_requests WHERE id = :r",
                        {"r": ids["request"]}) == {"student_notes": None, "admin_notes": None}
    assert db.fetch_value("SELECT COUNT(*) FROM enrollments WHERE student_id = :s AND notes IS NOT NULL",
                          {"s": ids["student"]}) == 0
    lesson = db.fetch_one("SELECT pickup_location, notes, student_feedback FROM schedules WHERE id = :l",
                          {"l": ids["lesson"]})
    assert set(lesson.values()) == {None}
    assert db.fetch_value("SELECT cancel_reason FROM schedules WHERE id = :l", {"l": ids["cancelled"]}) is None
    assert db.fetch_value("SELECT COUNT(*) FROM reschedule_proposals WHERE message IS NOT NULL AND schedule_id = :l",
                          {"l": ids["lesson"]}) == 0
    reminders = {r["id"]: r for r in db.fetch_all("SELECT id, status, message FROM reminders")}
    assert reminders[ids["pending_reminder"]]["status"] == "cancelled"
    assert reminders[ids["sent_reminder"]]["status"] == "sent"  # history stays, without its text
    assert {reminders[k]["message"] for k in ("pending_reminder", "sent_reminder") for k in [ids[k]]} == {
        privacy.MESSAGE_TEXT}
    assert reminders[other["pending_reminder"]] == {"id": other["pending_reminder"], "status": "pending",
                                                    "message": "Dear ZzBfirst"}
    assert db.fetch_value("SELECT address FROM message_deliveries WHERE reminder_id = :r",
                          {"r": ids["sent_reminder"]}) is None
    assert db.fetch_value("SELECT address FROM message_deliveries WHERE reminder_id = :r",
                          {"r": other["sent_reminder"]}) == "0400 123 456"
    assert db.fetch_value("SELECT COUNT(*) FROM notifications WHERE user_id = :u", {"u": ids["user"]}) == 0
    assert db.fetch_value("SELECT message FROM notifications WHERE id = :n", {"n": ids["staff_notice"]}) == \
        privacy.MESSAGE_TEXT
    assert db.fetch_value("SELECT message FROM notifications WHERE id = :n", {"n": ids["unrelated_notice"]}) == "Keep me"
    assert db.fetch_value("SELECT message FROM notifications WHERE id = :n", {"n": other["staff_notice"]}) == \
        "ZzBfirst applied"
    prefs = db.fetch_one("SELECT email_opt_out, sms_opt_out, in_app_opt_out FROM contact_preferences WHERE user_id = :u",
                         {"u": ids["user"]})
    assert {int(v) for v in prefs.values()} == {1}
    assert db.fetch_value("SELECT COUNT(*) FROM waitlist_preferences WHERE student_id = :s", {"s": ids["student"]}) == 0
    assert db.fetch_value("SELECT status FROM gap_offers WHERE id = :o", {"o": ids["offer"]}) == "expired"
    for table, column, key in (("user_sessions", "user_id", "user"), ("account_tokens", "user_id", "user"),
                               ("page_handoffs", "user_id", "user"), ("user_second_factors", "user_id", "user"),
                               ("recovery_codes", "user_id", "user"), ("calendar_feed_tokens", "owner_id", "student")):
        assert db.fetch_value(f"SELECT COUNT(*) FROM {table} WHERE {column} = :i", {"i": ids[key]}) == 0, table
        assert db.fetch_value(f"SELECT COUNT(*) FROM {table} WHERE {column} = :i", {"i": other[key]}) == 1, table
    attempts = db.fetch_all("SELECT email, ip_address FROM login_attempts WHERE email <> 'zz.B@example.com'")
    assert attempts == [{"email": user["email"], "ip_address": None}] * 2

    after = _tally(db, ids)
    for key in ("invoices", "items", "payments", "credits", "lessons", "documents", "notes"):
        assert after[key] == before[key], key  # financial, service and document rows all stay
    assert after["audit"][:-1] == before["audit"]  # no audit row changed; one was added
    assert _tally(db, other) == {**other_before, "audit": after["audit"]}
    row = db.fetch_one("SELECT action, entity_type, entity_id, user_id, details, after_json FROM audit_trail"
                       " ORDER BY id DESC LIMIT 1")
    assert (row["action"], row["entity_type"], row["entity_id"], row["user_id"]) == (
        "student_anonymised", "student", ids["student"], staff.user_id)
    recorded = row["details"] + row["after_json"]
    for personal in ("ZzA", "zz.A@", "0400", "LICA99", "Street", "Carlton"):
        assert personal not in recorded, personal
    assert row["details"] == "Reason: E-mail from [removed] [removed] of 9 Mar, phone [removed]"
    assert json.loads(row["after_json"])["documents"] == 1 and audit.verify(db).ok

    with pytest.raises(Conflict) as again:  # idempotent: the second request is refused, nothing changes
        privacy.anonymise(db, staff, ids["student"], "Again", now=NOW, upload_dir=tmp_path)
    assert "already anonymised on 10 Mar 2026" in again.value.message
    assert _tally(db, ids)["audit"] == after["audit"]


def _refused(db, actor, ids, tmp_path, error, reason="Asked by e-mail"):
    before = _tally(db, ids)
    user = db.fetch_one("SELECT first_name, email, anonymised_at FROM users WHERE id = :u", {"u": ids["user"]})
    with pytest.raises(error) as caught:
        privacy.anonymise(db, actor, ids["student"], reason, now=NOW, upload_dir=tmp_path)
    assert _tally(db, ids) == before
    assert db.fetch_one("SELECT first_name, email, anonymised_at FROM users WHERE id = :u", {"u": ids["user"]}) == user
    assert (tmp_path / ids["file"]).exists() if "file" in ids else True
    return caught.value


def test_each_refusal_names_its_rule_and_writes_nothing(db, tmp_path):
    branch, elsewhere = f.make_branch(db), f.make_branch(db)
    staff = _office(db, branch)
    active = _student(db, "A", branch, tmp_path)
    error = _refused(db, staff, active, tmp_path, Conflict)
    assert error.status == 409 and "Only a former student can be anonymised: this account is active" in error.message

    owing = _student(db, "O", branch, tmp_path, status="archived")
    db.execute("DELETE FROM payments WHERE id = :p", {"p": owing["payment"]})
    error = _refused(db, staff, owing, tmp_path, Conflict)
    assert "still owes $968.00 on issued invoices" in error.message

    credit = _student(db, "C", branch, tmp_path, status="archived")
    db.insert("account_credits", {"student_id": credit["student"], "amount": Decimal("25.00"), "source": "overpayment",
                                  "created_at": NOW})
    assert "holds $25.00 of account credit" in _refused(db, staff, credit, tmp_path, Conflict).message

    booked = _student(db, "K", branch, tmp_path, status="archived")
    db.execute("UPDATE schedules SET status = 'scheduled', scheduled_date = :d WHERE id = :l",
               {"d": TODAY + timedelta(days=2), "l": booked["lesson"]})
    assert "1 lesson booked from today on: cancel it first" in _refused(db, staff, booked, tmp_path, Conflict).message

    former = _student(db, "F", branch, tmp_path, status="archived")
    assert _refused(db, staff, former, tmp_path, ValidationFailed, reason="   ").field == "reason"
    assert _refused(db, staff, former, tmp_path, ValidationFailed, reason="x" * 501).field == "reason"
    _refused(db, _office(db, elsewhere), former, tmp_path, NotFound)  # another branch's staff: not found
    instructor = Actor(user_id=f.make_user(db, role="instructor", branch_id=branch), role="instructor",
                       branch_id=branch, instructor_id=f.make_instructor(db, branch_id=branch))
    _refused(db, instructor, former, tmp_path, PermissionDenied)
    assert privacy.anonymise(db, _office(db, None, "admin"), former["student"], "Asked by e-mail", now=NOW,
                             upload_dir=tmp_path).files_deleted == 1  # the control: admin, any branch


def test_the_claim_lets_only_one_request_through(db):
    ids = _student(db, "A", None, status="archived", history=False)
    dao = PrivacyDAO(db)
    claim = {"email": "anonymised-x@invalid.example", "password_hash": "!unset!x", "first_name": "Former",
             "last_name": "student", "now": NOW}
    assert dao.claim(ids["user"], **claim) is True
    assert dao.claim(ids["user"], **claim) is False  # already anonymised: the second request changes nothing
    active = _student(db, "B", None, history=False)
    assert dao.claim(active["user"], **{**claim, "email": "anonymised-y@invalid.example"}) is False
    assert dao.anonymised_at(ids["user"]) == NOW and dao.anonymised_at(active["user"]) is None


def test_a_student_account_without_a_profile_downloads_its_account_only(db):
    user = f.make_user(db, role="student", email="lonely@example.com")
    data = privacy.collect(db, Actor(user_id=user, role="student"), now=NOW, settings=SETTINGS)
    assert data["profile"]["email"] == "lonely@example.com" and data["profile"]["student_id"] is None
    assert data["lessons"] == data["invoices"] == data["payments"] == data["enrolments"] == []
    assert json.loads(privacy.to_json(data))["waitlist"] is None


def test_the_reason_loses_the_students_own_details_but_not_other_words():
    cleaned = privacy.clean_reason("Al asked by e-mail (al@x.com, 0400 111 222 / 0400111222). Also LIC9.",
                                   ("Al", "Smith", "al@x.com", "0400 111 222", "LIC9", None))
    assert cleaned == "[removed] asked by e-mail ([removed], [removed] / [removed]). Also [removed]."
    with pytest.raises(ValidationFailed):
        privacy.clean_reason(None)
