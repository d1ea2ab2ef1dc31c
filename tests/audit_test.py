"""AuditDAO and the audit service: append-only rows, hash chain, tamper detection, filters."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime, timedelta

import pytest

from app.core.database import count_queries
from app.core.pagination import ListQuery
from app.dao.audit import AuditDAO
from app.services import audit
from app.services.scope import Actor
from tests import factories as f

NOW = datetime(2026, 11, 26, 9, 0, 0)


def _actor(db):
    user = f.make_user(db, role="staff")
    return Actor(user_id=user, role="staff", branch_id=None, ip="203.0.113.5")


def _write(db, actor, n=3):
    return [audit.record(db, actor, "branch_updated", "branch", i + 1, now=NOW + timedelta(seconds=i),
                         before={"name": f"Old {i}"}, after={"name": f"New {i}", "password_hash": "x"})
            for i in range(n)]


def test_record_writes_actor_snapshot_ip_and_chains_hashes(db):
    actor = _actor(db)
    ids = _write(db, actor)
    rows = [AuditDAO(db).find(i) for i in ids]
    assert rows[0]["user_id"] == actor.user_id and rows[0]["actor_role"] == "staff"
    assert rows[0]["ip_address"] == "203.0.113.5"
    assert '"name":"Old 0"' in rows[0]["before_json"]
    assert '"password_hash":"***"' in rows[0]["after_json"]  # secrets never stored
    assert rows[0]["prev_hash"] is None
    assert rows[1]["prev_hash"] == rows[0]["row_hash"] and rows[2]["prev_hash"] == rows[1]["row_hash"]
    assert AuditDAO(db).head()["last_id"] == ids[-1]
    assert audit.verify(db).ok and audit.verify(db).checked == 3


def test_verify_names_the_first_changed_row(db):
    ids = _write(db, _actor(db), 4)
    db.execute("UPDATE audit_trail SET details = :d WHERE id = :id", {"d": "edited", "id": ids[1]})
    result = audit.verify(db)
    assert not result.ok and result.first_bad_id == ids[1]
    assert "changed" in result.reason


def test_verify_detects_a_removed_row_and_removed_newest_rows(db):
    ids = _write(db, _actor(db), 4)
    db.execute("DELETE FROM audit_trail WHERE id = :id", {"id": ids[1]})
    result = audit.verify(db)
    assert not result.ok and result.first_bad_id == ids[2]


def test_verify_detects_truncated_tail(db):
    ids = _write(db, _actor(db), 3)
    db.execute("DELETE FROM audit_trail WHERE id = :id", {"id": ids[-1]})
    result = audit.verify(db)
    assert not result.ok and "newest" in result.reason


def test_legacy_rows_without_hash_are_accepted_before_the_chain(db):
    db.insert("audit_trail", {"user_id": None, "action": "student_created", "entity_type": "student",
                              "entity_id": 1, "details": "PHP era", "created_at": NOW - timedelta(days=300)})
    _write(db, _actor(db), 2)
    assert audit.verify(db).ok


def test_failed_audit_write_rolls_back_the_business_change(db, monkeypatch):
    actor = _actor(db)

    def broken_insert(self, row):
        raise RuntimeError("audit storage down")

    monkeypatch.setattr(AuditDAO, "insert", broken_insert)
    with pytest.raises(RuntimeError):
        with db.transaction():
            db.insert("branches", {"name": "Should vanish"})
            audit.record(db, actor, "branch_created", "branch", 1, now=NOW)
    assert db.fetch_value("SELECT COUNT(*) AS n FROM branches WHERE name = :n", {"n": "Should vanish"}, cast=int) == 0


def test_list_page_filters_and_costs_two_queries(db):
    actor = _actor(db)
    _write(db, actor, 3)
    audit.record(db, actor, "vehicle_created", "vehicle", 9, now=NOW + timedelta(minutes=5))
    dao = AuditDAO(db)
    with count_queries() as counter:
        page = dao.list_page(ListQuery.from_args({"entity_type": "vehicle"}, ["created_at"], "created_at",
                                                 "desc", filters=["entity_type"]))
    assert counter.count == 2
    assert page.total == 1 and page.items[0]["action"] == "vehicle_created"
    by_action = dao.list_page(ListQuery.from_args({"action": "branch_updated", "per_page": "2"}, ["created_at"],
                                                  "created_at", "desc", filters=["action"]))
    assert by_action.total == 3 and len(by_action.items) == 2
    by_time = dao.list_page(ListQuery.from_args({"from_at": "2026-11-26 09:00:01", "to_at": "2026-11-26 09:00:02"},
                                                ["created_at"], "created_at", filters=["from_at", "to_at"]))
    assert [r["entity_id"] for r in by_time.items] == [2]
    by_user = dao.list_page(ListQuery.from_args({"user_id": str(actor.user_id), "q": "vehicle"}, ["created_at"],
                                                "created_at", filters=["user_id"]))
    assert by_user.total == 1


def test_export_streams_all_matching_rows_in_id_order(db):
    _write(db, _actor(db), 5)
    rows = list(AuditDAO(db).export(ListQuery.from_args({}, ["created_at"], "created_at"), batch=2))
    assert [r["entity_id"] for r in rows] == [1, 2, 3, 4, 5]


def test_distinct_actions_and_entity_types(db):
    actor = _actor(db)
    _write(db, actor, 1)
    audit.record(db, actor, "login", None, None, now=NOW)
    assert AuditDAO(db).distinct_actions() == ["branch_updated", "login"]
    assert AuditDAO(db).distinct_entity_types() == ["branch"]


def test_dao_offers_no_update_or_delete():
    assert not [name for name in dir(AuditDAO) if name.startswith(("update", "delete", "remove"))]


# --------------------------------------------------------------------------- display helpers (viewer)

def _school(db):
    """One record of every linked kind, plus accounts of each role."""
    branch = f.make_branch(db, name="Bayside")
    student_user = f.make_user(db, role="student", first_name="Jack", last_name="Mason")
    student = f.make_student(db, user_id=student_user)
    instructor_user = f.make_user(db, role="instructor", first_name="Amelia", last_name="Ward")
    instructor = f.make_instructor(db, user_id=instructor_user)
    staff_user = f.make_user(db, role="staff", first_name="Priya", last_name="Raman")
    staff = db.insert("staff_profiles", {"user_id": staff_user, "branch_id": branch})
    admin_user = f.make_user(db, role="admin", first_name="Ada", last_name="Admin")
    vehicle = f.make_vehicle(db, name="Corolla", plate_number="ABC123")
    course = f.make_course(db, title="Manual beginner")
    return dict(branch=branch, student=student, student_user=student_user, instructor=instructor,
                instructor_user=instructor_user, staff=staff, staff_user=staff_user, admin_user=admin_user,
                vehicle=vehicle, course=course)


def test_record_names_resolves_every_kind_in_one_statement(db):
    s = _school(db)
    wanted = {"student": [s["student"], 999999], "instructor": [s["instructor"]], "staff": [s["staff"]],
              "vehicle": [s["vehicle"]], "branch": [s["branch"]], "course": [s["course"]],
              "user": [s["student_user"], s["instructor_user"], s["staff_user"], s["admin_user"]]}
    with count_queries() as counter:
        rows = AuditDAO(db).record_names(wanted)
    assert counter.count == 1
    found = {(r["kind"], int(r["ref_id"])): r for r in rows}
    assert ("student", 999999) not in found
    assert found[("student", s["student"])]["first_name"] == "Jack"
    assert found[("instructor", s["instructor"])]["last_name"] == "Ward"
    assert found[("staff", s["staff"])]["first_name"] == "Priya"
    assert (found[("vehicle", s["vehicle"])]["title"], found[("vehicle", s["vehicle"])]["extra"]) == ("Corolla", "ABC123")
    assert found[("branch", s["branch"])]["title"] == "Bayside"
    assert found[("course", s["course"])]["title"] == "Manual beginner"
    profiles = {int(r["ref_id"]): (r["extra"], r["profile_id"]) for r in rows if r["kind"] == "user"}
    assert profiles[s["student_user"]] == ("student", s["student"])
    assert profiles[s["instructor_user"]] == ("instructor", s["instructor"])
    assert profiles[s["staff_user"]] == ("staff", s["staff"])
    assert profiles[s["admin_user"]] == ("admin", None)
    assert AuditDAO(db).record_names({}) == [] and AuditDAO(db).record_names({"schedule": [1]}) == []


def test_describe_records_names_and_targets_in_one_query(db):
    s = _school(db)
    actor = _actor(db)

    def write(action, entity, entity_id, **kw):
        return audit.record(db, actor, action, entity, entity_id, now=NOW, **kw)

    ids = {
        "student": write("student_created", "student", s["student"]),
        "gone": write("student_updated", "student", 999999),
        "user": write("login", "user", s["instructor_user"]),
        "admin": write("login", "user", s["admin_user"]),
        "staff": write("staff_updated", "staff", s["staff"]),
        "downtime": write("vehicle_downtime_added", "vehicle_downtime", 7, after={"vehicle_id": s["vehicle"]}),
        "window": write("instructor_unavailability_deleted", "instructor_unavailability", 3,
                        before={"instructor_id": s["instructor"]}),
        "document": write("document_deleted", "document", 5, details=f"licence.pdf (student {s['student']})"),
        "orphan_doc": write("document_downloaded", "document", 6, details="staff.pdf"),
        "service_gone": write("vehicle_service_logged", "vehicle_service_log", 2, after={"vehicle_id": 888888}),
        "schedule": write("schedule_created", "schedule", 4),
        "none": write("login_failed", "user", None),
        "bare": write("audit_exported", None, None),
    }
    rows = [AuditDAO(db).find(i) for i in ids.values()]
    with count_queries() as counter:
        refs = audit.describe_records(db, rows)
    assert counter.count == 1
    ref = {name: refs[audit_id] for name, audit_id in ids.items()}
    assert (ref["student"].text, ref["student"].kind, ref["student"].target_id) == ("Student Jack Mason", "student", s["student"])
    assert (ref["gone"].text, ref["gone"].kind) == ("Student #999999", None)
    assert (ref["user"].text, ref["user"].kind, ref["user"].target_id) == \
        ("Account Amelia Ward", "instructor", s["instructor"])
    assert ref["admin"].text == "Account Ada Admin" and ref["admin"].kind is None
    assert (ref["staff"].text, ref["staff"].kind) == ("Staff member Priya Raman", "staff")
    assert (ref["downtime"].text, ref["downtime"].parent, ref["downtime"].kind, ref["downtime"].target_id) == \
        ("Downtime #7", "Vehicle Corolla (ABC123)", "vehicle", s["vehicle"])
    assert (ref["window"].parent, ref["window"].kind) == ("Instructor Amelia Ward", "instructor")
    assert (ref["document"].text, ref["document"].parent, ref["document"].target_id) == \
        ("Document #5", "Student Jack Mason", s["student"])
    assert (ref["orphan_doc"].text, ref["orphan_doc"].kind, ref["orphan_doc"].parent) == ("Document #6", None, None)
    assert (ref["service_gone"].parent, ref["service_gone"].kind) == ("Vehicle #888888", None)
    assert (ref["schedule"].text, ref["schedule"].kind) == ("Lesson #4", None)
    assert ref["none"].text == "" and ref["bare"].text == ""
    assert audit.describe_records(db, []) == {}


def test_actor_display_names_people_system_and_removed_accounts(db):
    s = _school(db)
    named = audit.record(db, Actor(user_id=s["staff_user"], role="staff"), "staff_updated", "staff", 1, now=NOW)
    activated = audit.record(db, Actor(user_id=s["student_user"], role="unknown"), "account_activated", "user",
                             s["student_user"], now=NOW)
    system = audit.record(db, None, "login_failed", "user", None, now=NOW)
    # A user id whose account no longer exists (PHP-era rows): written with foreign keys off.
    if db.backend == "mysql":
        db.execute("SET FOREIGN_KEY_CHECKS = 0")
    else:
        db.execute("PRAGMA foreign_keys = OFF")
    try:
        removed = audit.record(db, Actor(user_id=987654, role="staff"), "student_updated", "student", 1, now=NOW)
    finally:
        db.execute("SET FOREIGN_KEY_CHECKS = 1" if db.backend == "mysql" else "PRAGMA foreign_keys = ON")
    dao = AuditDAO(db)
    assert audit.actor_display(dao.find(named)) == audit.ActorName("Priya Raman", "Staff", s["staff_user"])
    assert audit.actor_display(dao.find(activated)) == audit.ActorName("Jack Mason", "Student", s["student_user"])
    assert audit.actor_display(dao.find(system)).name == "System"
    gone = audit.actor_display(dao.find(removed))
    assert (gone.name, gone.role, gone.user_id) == ("Unknown (removed account)", "Staff", 987654)
    page = dao.list_page(ListQuery.from_args({}, ["created_at"], "created_at"))
    by_id = {r["id"]: audit.actor_display(r).name for r in page.items}
    assert by_id[named] == "Priya Raman" and by_id[removed] == "Unknown (removed account)"
    assert audit.verify(db).ok  # the display joins change nothing in the chain


def _recorded_actions() -> set[str]:
    """Every action code the app writes: the literal action argument of audit.record(...) and
    record_refusal(...) calls, found by parsing the source."""
    import ast
    from pathlib import Path

    found = set()
    for path in (Path(__file__).resolve().parent.parent / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
            position = 2 if (name == "record" and owner == "audit") else 0 if name == "record_refusal" else None
            if position is not None and len(node.args) > position:
                arg = node.args[position]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
            # Helpers that audit on the caller's behalf take the action as ``failed_action=...``.
            for keyword in node.keywords:
                if keyword.arg == "failed_action" and isinstance(keyword.value, ast.Constant):
                    found.add(keyword.value.value)
    return found


def test_action_labels_cover_every_recorded_action():
    recorded = _recorded_actions()
    assert {"login", "login_failed", "access_denied", "access_refused", "student_created"} <= recorded
    assert not recorded - set(audit.ACTION_LABELS), "add labels for: " + ", ".join(sorted(recorded - set(audit.ACTION_LABELS)))
    assert audit.action_label("student_created") == "Student registered"
    assert audit.action_label("login") == "Signed in" and audit.action_label("login_failed") == "Sign-in failed"
    assert audit.action_label("activation_link_issued") == "Activation link issued"
    assert audit.action_label("fee_waived_by_manager") == "Fee waived by manager"  # readable fallback
    assert audit.entity_label("vehicle_service_log") == "Service record" and audit.entity_label("odd_thing") == "Odd thing"
    assert audit.role_label("admin") == "Administrator" and audit.role_label("unknown") == ""


def test_diff_marks_each_field_and_keeps_secrets_masked():
    before = audit.snapshot({"name": "Old", "city": "Melbourne", "phone": None, "password_hash": "a", "gone": 1})
    after = audit.snapshot({"name": "New", "city": "Melbourne", "phone": "", "password_hash": "b", "new": True})
    changes = {c.field: c for c in audit.diff(before, after)}
    assert [c.field for c in audit.diff(before, after)] == sorted(changes)
    assert (changes["name"].status, changes["name"].before, changes["name"].after) == ("changed", "Old", "New")
    assert changes["name"].status_label == "Changed" and changes["name"].label == "Name"
    assert changes["city"].status == "same"
    assert (changes["phone"].status, changes["phone"].before, changes["phone"].after) == ("changed", "(empty)", "(blank)")
    assert (changes["gone"].status, changes["gone"].after) == ("removed", "—")
    assert (changes["new"].status, changes["new"].before, changes["new"].after) == ("added", "—", "Yes")
    secret = changes["password_hash"]
    assert (secret.status, secret.before, secret.after) == ("hidden", "***", "***")
    created = audit.diff(None, audit.snapshot({"title": "Course"}))
    assert [(c.field, c.status, c.after) for c in created] == [("title", "added", "Course")]
    assert audit.diff(None, None) == []
    assert audit.diff("not json", None)[0].status == "removed"  # unreadable snapshots are shown, not a 500
