"""Audit viewer, CSV export, chain check, and the security events the app records; the viewer's names,
record links, action labels, before/after diff, filters that never 500 and a bounded query count."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import csv
import io
import re
from datetime import datetime

import pytest

from app.core.database import count_queries
from app.core.flask_db import get_db
from app.services import audit
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import login, mysql_url, require_mysql

ADMIN = "admin@origin.com"
STAFF = "operations@origin.com"


def actions(app):
    with app.app_context():
        return [r["action"] for r in get_db().fetch_all("SELECT action FROM audit_trail ORDER BY id")]


def test_sign_in_failure_logout_and_refusals_are_audited(seeded, client):
    login(client, ADMIN, "wrong")
    login(client, ADMIN)
    staff = seeded.test_client()
    login(staff, STAFF)
    assert staff.get("/audit/").status_code == 403       # role refusal
    from tests.conftest import post_form
    post_form(client, "/auth/logout")
    recorded = actions(seeded)
    for action in ("login_failed", "login", "access_denied", "logout"):
        assert action in recorded, action


def test_only_admin_sees_the_viewer(seeded, client):
    login(client, STAFF)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    admin = seeded.test_client()
    login(admin, ADMIN)
    page = admin.get("/audit/")
    assert page.status_code == 200 and "Student registered" in page.get_data(as_text=True)


def test_filters_and_detail_page(seeded, client):
    login(client, ADMIN)
    html = client.get("/audit/?action=login").get_data(as_text=True)
    rows = _rows_html(html)
    assert rows and all(">Signed in</span>" in row for row in rows)
    assert ">Student registered</span>" not in html
    bad = client.get("/audit/?date_from=2026-13-45")
    assert bad.status_code == 200 and "The from date filter was ignored" in bad.get_data(as_text=True)
    with seeded.app_context():
        audit_id = get_db().fetch_value("SELECT MIN(id) AS id FROM audit_trail")
    assert client.get(f"/audit/{audit_id}").status_code == 200
    assert client.get("/audit/99999999").status_code == 404
    assert client.get("/audit/" + "9" * 30).status_code == 404  # beyond any id (and SQLite's integers)
    assert client.get("/audit/0").status_code == 404


def test_csv_export_is_spreadsheet_safe_and_audited(seeded, client):
    with seeded.app_context():
        db = get_db()
        db.insert("audit_trail", {"action": "note", "details": "=HYPERLINK(\"http://x\")", "created_at": "2026-01-01 00:00:00"})
    login(client, ADMIN)
    response = client.get("/audit/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "id" and len(rows) > 2
    details = [r[8] for r in rows[1:]]
    assert "'=HYPERLINK(\"http://x\")" in details
    assert "audit_exported" in actions(seeded)


def test_verify_page_and_command_detect_tampering(seeded, client, runner):
    login(client, ADMIN)
    assert "The chain is intact" in client.get("/audit/verify").get_data(as_text=True)
    assert runner.invoke(args=["verify-audit"]).exit_code == 0
    with seeded.app_context():
        db = get_db()
        target = db.fetch_value("SELECT MAX(id) AS id FROM audit_trail WHERE row_hash IS NOT NULL")
        db.execute("UPDATE audit_trail SET action = 'tampered' WHERE id = :id", {"id": target})
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 1 and f"row {target}" in result.output
    assert "Tampering detected" in client.get("/audit/verify").get_data(as_text=True)


# --------------------------------------------------------------------------- the bounded chain check

def _append(app, count: int) -> list[int]:
    with app.app_context():
        db = get_db()
        return [audit.record(db, None, "note", None, None, now=datetime(2026, 12, 1, 9, 0), details=f"n{n}")
                for n in range(count)]


def _tamper(app, audit_id: int, sql: str = "action = 'tampered'") -> None:
    with app.app_context():
        get_db().execute(f"UPDATE audit_trail SET {sql} WHERE id = :id", {"id": audit_id})


def _checks(app) -> list[dict]:
    with app.app_context():
        return get_db().fetch_all("SELECT * FROM audit_verifications ORDER BY id")


def _walked_from(monkeypatch) -> list[int]:
    """The after_id of every chain_batch read (where the page's walk started)."""
    from app.dao.audit import AuditDAO

    seen, original = [], AuditDAO.chain_batch
    monkeypatch.setattr(AuditDAO, "chain_batch",
                        lambda self, after_id, limit=500: seen.append(after_id) or original(self, after_id, limit))
    return seen


def test_verify_command_records_its_result(seeded, runner):
    """flask verify-audit walks the whole chain and keeps its result, ok or not, with the last entry
    it found intact (id and hash) and, when it fails, the first bad entry and why."""
    assert _checks(seeded) == []
    assert runner.invoke(args=["verify-audit"]).exit_code == 0
    with seeded.app_context():
        db = get_db()
        newest = db.fetch_one("SELECT id, row_hash FROM audit_trail ORDER BY id DESC LIMIT 1")
        hashed = db.fetch_value("SELECT COUNT(*) AS n FROM audit_trail WHERE row_hash IS NOT NULL", cast=int)
    [check] = _checks(seeded)
    assert (check["ok"], check["checked"], check["last_id"], check["last_hash"]) == (1, hashed, newest["id"],
                                                                                     newest["row_hash"])
    assert check["first_bad_id"] is None and check["reason"] is None and check["verified_at"] is not None
    appended = _append(seeded, 3)
    _tamper(seeded, appended[1])
    assert runner.invoke(args=["verify-audit"]).exit_code == 1
    failed = _checks(seeded)[-1]
    assert (failed["ok"], failed["first_bad_id"], failed["last_id"]) == (0, appended[1], appended[0])
    assert "changed" in failed["reason"] and failed["checked"] == hashed + 2
    with seeded.app_context():
        assert failed["last_hash"] == get_db().fetch_value("SELECT row_hash FROM audit_trail WHERE id = :id",
                                                           {"id": appended[0]})


def test_verify_page_starts_after_the_last_full_check(seeded, client, runner, monkeypatch):
    """With a recorded full check, the page re-hashes only the entries after it (the checkpoint's hash
    is the link the first must carry) and says so; a change after it is found, one before it is left to
    the nightly walk, whose failure the page then shows. The GET writes nothing."""
    login(client, ADMIN)
    assert runner.invoke(args=["verify-audit"]).exit_code == 0
    [check] = _checks(seeded)
    appended = _append(seeded, 3)
    walked = _walked_from(monkeypatch)
    with seeded.app_context(), count_queries() as counter:
        html = client.get("/audit/verify").get_data(as_text=True)
    assert walked and min(walked) == check["last_id"]  # nothing before the checkpoint was read
    assert not [s for s in counter.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert f"The chain is intact: verified in full up to entry #{check['last_id']}" in html
    assert "the 3 hashed entries since then verified now" in html and "caught by the nightly full check" in html
    assert len(_checks(seeded)) == 1
    _tamper(seeded, appended[2])
    html = client.get("/audit/verify").get_data(as_text=True)
    assert f'Tampering detected at entry <a href="/audit/{appended[2]}">#{appended[2]}</a>' in html
    assert "content does not match its hash" in html
    _tamper(seeded, appended[2], "action = 'note'")
    before = check["last_id"] - 1
    _tamper(seeded, before)  # before the checkpoint: not this page's to find...
    assert "The chain is intact" in client.get("/audit/verify").get_data(as_text=True)
    assert runner.invoke(args=["verify-audit"]).exit_code == 1  # ...the full walk finds it
    html = client.get("/audit/verify").get_data(as_text=True)
    assert "Tampering detected by the last full check" in html
    assert f'at entry <a href="/audit/{before}">#{before}</a>' in html
    assert f"verified in full up to entry #{check['last_id']}" in html  # still from the newest ok check


def test_verify_page_detects_a_broken_link_right_after_the_checkpoint(seeded, client, runner):
    """The first entry after the checkpoint must link to the checkpoint's hash: one re-chained elsewhere
    (its own hash recomputed, so its content matches) is found."""
    login(client, ADMIN)
    assert runner.invoke(args=["verify-audit"]).exit_code == 0
    [first, _] = _append(seeded, 2)
    with seeded.app_context():
        db = get_db()
        row = db.fetch_one("SELECT * FROM audit_trail WHERE id = :id", {"id": first})
        forged = "0" * 64
        db.execute("UPDATE audit_trail SET prev_hash = :prev, row_hash = :hash WHERE id = :id",
                   {"prev": forged, "hash": audit.row_hash(forged, row), "id": first})
    html = client.get("/audit/verify").get_data(as_text=True)
    assert f'Tampering detected at entry <a href="/audit/{first}">#{first}</a>' in html
    assert "previous-row link broken" in html


def test_verify_page_checks_at_most_the_page_limit(seeded, client, runner, monkeypatch):
    """At most PAGE_LIMIT entries per view, from the start without a checkpoint, after it with one: the
    rest is named as not yet checked (never called intact); a change within the window is found."""
    monkeypatch.setattr(audit, "PAGE_LIMIT", 3)
    login(client, ADMIN)
    with seeded.app_context():
        ids = [r["id"] for r in get_db().fetch_all("SELECT id FROM audit_trail ORDER BY id")]
    assert len(ids) > 3
    html = client.get("/audit/verify").get_data(as_text=True)
    assert "The chain is intact" not in html and "3 hashed entries verified now, from the start" in html
    assert f"Entries after #{ids[2]} (up to #{ids[-1]}, the newest) not yet checked here" in html
    assert "run <code>flask verify-audit</code>" in html and "at most 3 entries per view" in html
    _tamper(seeded, ids[3])  # beyond the window: not found here, and not called intact either
    assert "not yet checked here" in client.get("/audit/verify").get_data(as_text=True)
    _tamper(seeded, ids[1])
    assert f'Tampering detected at entry <a href="/audit/{ids[1]}">' in client.get("/audit/verify").get_data(as_text=True)
    appended = _append(seeded, 5)  # a checkpoint after the changed entries: the window starts after it
    with seeded.app_context():
        db = get_db()
        newest = db.fetch_one("SELECT id, row_hash FROM audit_trail ORDER BY id DESC LIMIT 1")
        db.insert("audit_verifications", {"verified_at": datetime(2026, 12, 1, 3, 30), "checked": 1,
                                           "last_id": appended[0], "last_hash": db.fetch_value(
                                               "SELECT row_hash FROM audit_trail WHERE id = :id", {"id": appended[0]}),
                                           "ok": 1})
    html = client.get("/audit/verify").get_data(as_text=True)
    assert f"Verified in full up to entry #{appended[0]}" in html and "the 3 hashed entries since then" in html
    assert f"Entries after #{appended[3]} (up to #{newest['id']}, the newest) not yet checked here" in html


def test_print_grants_makes_audit_append_only(tmp_path):
    require_mysql()
    from app.bootstrap import create_app
    from tests.conftest import app_overrides

    app = create_app(app_overrides(mysql_url(), tmp_path))
    result = app.test_cli_runner().invoke(args=["print-grants", "--user", "origin_app"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    audit_line = [line for line in lines if "`audit_trail`" in line][0]
    assert audit_line.startswith("GRANT SELECT, INSERT ON") and "UPDATE" not in audit_line
    assert any("`users`" in line and "UPDATE, DELETE" in line for line in lines)


# --------------------------------------------------------------------------- viewer: names, links, labels, diff

def _rows_html(html: str) -> list[str]:
    return re.findall(r'<tr data-audit-id="\d+">(.*?)</tr>', html, re.S)


def _row_html(html: str, audit_id: int) -> str:
    match = re.search(rf'<tr data-audit-id="{audit_id}">(.*?)</tr>', html, re.S)
    assert match, f"entry {audit_id} not listed"
    return match.group(1)


def _admin(app):
    admin = app.test_client()
    assert login(admin, ADMIN).status_code == 302
    return admin


def _value(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {})


def _write(app, actor, action, entity, entity_id, **kw):
    from app.core import clock

    with app.app_context():
        return audit.record(get_db(), actor, action, entity, entity_id, now=clock.now(), **kw)


def _staff_actor(app):
    user_id = _value(app, "SELECT id FROM users WHERE email = :e", {"e": STAFF})
    return Actor(user_id=user_id, role="staff")


def _school(app):
    with app.app_context():
        db = get_db()
        student_user = f.make_user(db, role="student", first_name="Zoe", last_name="Quill")
        staff_user = f.make_user(db, role="staff", first_name="Sam", last_name="Ledger")
        return dict(
            student=f.make_student(db, user_id=student_user), student_user=student_user,
            instructor=f.make_instructor(db, user_id=f.make_user(db, role="instructor", first_name="Ivy",
                                                                 last_name="Tutor")),
            staff=db.insert("staff_profiles", {"user_id": staff_user}), staff_user=staff_user,
            vehicle=f.make_vehicle(db, name="Yaris", plate_number="YAR001"),
            branch=f.make_branch(db, name="Northside"), course=f.make_course(db, title="Night driving"),
        )


def test_list_and_entry_show_people_by_name_with_role_in_words(seeded):
    admin = _admin(seeded)
    seeded_row = _value(seeded, "SELECT id FROM audit_trail WHERE action = 'student_created'")
    staff_name = _value(seeded, "SELECT first_name FROM users WHERE email = :e", {"e": STAFF})
    html = admin.get("/audit/?per_page=100").get_data(as_text=True)
    row = _row_html(html, seeded_row)
    assert staff_name in row and ">Staff<" in row and ">Student registered</span>" in row
    assert "user #" not in html.lower()
    system = _write(seeded, None, "login_failed", "user", None, details="unknown e-mail")
    with seeded.app_context():
        db = get_db()
        db.execute("SET FOREIGN_KEY_CHECKS = 0" if db.backend == "mysql" else "PRAGMA foreign_keys = OFF")
        try:
            removed = audit.record(db, Actor(user_id=987654, role="instructor"), "student_updated", "student", 1,
                                   now=datetime(2026, 1, 5, 3, 0))
        finally:
            db.execute("SET FOREIGN_KEY_CHECKS = 1" if db.backend == "mysql" else "PRAGMA foreign_keys = ON")
    html = admin.get("/audit/?per_page=100").get_data(as_text=True)
    assert ">System<" in _row_html(html, system) and ">Sign-in failed</span>" in _row_html(html, system)
    assert "Unknown (removed account)" in _row_html(html, removed) and "Instructor" in _row_html(html, removed)
    entry = admin.get(f"/audit/{seeded_row}").get_data(as_text=True)
    assert staff_name in entry and "(Staff)" in entry and "user #" not in entry.lower()
    staff_profile = _value(seeded, "SELECT p.id FROM staff_profiles p JOIN users u ON u.id = p.user_id"
                                   " WHERE u.email = :e", {"e": STAFF})
    link = f'<a href="/staff/{staff_profile}">{staff_name}'
    assert link in entry and link in row  # the person who acted links to their page
    assert "<h1" in entry and "Student registered" in entry.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert "Unknown (removed account)" in admin.get(f"/audit/{removed}").get_data(as_text=True)
    assert "System" in admin.get(f"/audit/{system}").get_data(as_text=True)


def test_records_link_to_their_page_or_their_parents_page(seeded):
    s = _school(seeded)
    actor = _staff_actor(seeded)
    ids = {
        "student": _write(seeded, actor, "student_updated", "student", s["student"]),
        "instructor": _write(seeded, actor, "instructor_updated", "instructor", s["instructor"]),
        "vehicle": _write(seeded, actor, "vehicle_updated", "vehicle", s["vehicle"]),
        "branch": _write(seeded, actor, "branch_updated", "branch", s["branch"]),
        "course": _write(seeded, actor, "course_updated", "course", s["course"]),
        "staff": _write(seeded, actor, "staff_updated", "staff", s["staff"]),
        "user_student": _write(seeded, actor, "activation_link_issued", "user", s["student_user"]),
        "user_staff": _write(seeded, actor, "user_archived", "user", s["staff_user"]),
        "downtime": _write(seeded, actor, "vehicle_downtime_deleted", "vehicle_downtime", 77,
                           before={"vehicle_id": s["vehicle"], "reason": "Tyres"}),
        "service": _write(seeded, actor, "vehicle_service_logged", "vehicle_service_log", 78,
                          after={"vehicle_id": s["vehicle"]}),
        "window": _write(seeded, actor, "instructor_unavailability_added", "instructor_unavailability", 79,
                         after={"instructor_id": s["instructor"]}),
        "document": _write(seeded, actor, "document_deleted", "document", 80,
                           details=f"permit.pdf (student {s['student']})"),
        "gone": _write(seeded, actor, "student_updated", "student", 999999),
    }
    html = _admin(seeded).get("/audit/?per_page=100").get_data(as_text=True)
    expected = {
        "student": (f"/students/{s['student']}", "Student Zoe Quill"),
        "instructor": (f"/instructors/{s['instructor']}", "Instructor Ivy Tutor"),
        "vehicle": (f"/fleet/{s['vehicle']}", "Vehicle Yaris (YAR001)"),
        "branch": (f"/branches/{s['branch']}", "Branch Northside"),
        "course": (f"/courses/{s['course']}", "Course Night driving"),
        "staff": (f"/staff/{s['staff']}", "Staff member Sam Ledger"),
        "user_student": (f"/students/{s['student']}", "Account Zoe Quill"),
        "user_staff": (f"/staff/{s['staff']}", "Account Sam Ledger"),
        "downtime": (f"/fleet/{s['vehicle']}", "Vehicle Yaris (YAR001)"),
        "service": (f"/fleet/{s['vehicle']}", "Vehicle Yaris (YAR001)"),
        "window": (f"/instructors/{s['instructor']}", "Instructor Ivy Tutor"),
        "document": (f"/students/{s['student']}", "Student Zoe Quill"),
    }
    for name, (href, text) in expected.items():
        row = _row_html(html, ids[name])
        assert f'<a href="{href}">{text}</a>' in row, (name, row)
    assert "Downtime #77" in _row_html(html, ids["downtime"]) and "Document #80" in _row_html(html, ids["document"])
    gone = _row_html(html, ids["gone"])
    assert "Student #999999" in gone and "/students/999999" not in gone


def test_entry_page_shows_a_field_by_field_diff_with_secrets_masked(seeded):
    branch = _write(seeded, _staff_actor(seeded), "branch_updated", "branch", 1,
                    before={"name": "CBD", "city": "Melbourne", "phone": None, "password_hash": "old-secret"},
                    after={"name": "CBD North", "city": "Melbourne", "phone": "03 9000 0000",
                           "password_hash": "new-secret"})
    html = _admin(seeded).get(f"/audit/{branch}").get_data(as_text=True)
    table = html.split("data-audit-diff", 1)[1].split("</table>", 1)[0]
    name_row = re.search(r'<tr data-field="name" data-status="changed".*?</tr>', table, re.S).group(0)
    assert "Changed</span>" in name_row and "<del>CBD</del>" in name_row and "<ins>CBD North</ins>" in name_row
    phone_row = re.search(r'<tr data-field="phone" data-status="changed".*?</tr>', table, re.S).group(0)
    assert "(empty)" in phone_row and "03 9000 0000" in phone_row
    secret_row = re.search(r'<tr data-field="password_hash" data-status="hidden".*?</tr>', table, re.S).group(0)
    assert "Hidden</span>" in secret_row and "***" in secret_row
    assert 'data-field="city"' not in table  # unchanged fields are listed apart, collapsed
    unchanged = html.split("data-audit-unchanged", 1)[1].split("</details>", 1)[0]
    assert "1 unchanged field<" in unchanged and "City" in unchanged and "Melbourne" in unchanged
    assert "old-secret" not in html and "new-secret" not in html
    created = _write(seeded, _staff_actor(seeded), "course_created", "course", 1, after={"title": "Night"})
    page = _admin(seeded).get(f"/audit/{created}").get_data(as_text=True)
    assert 'data-field="title" data-status="added"' in page and "Recorded values (new)" in page
    bare = _write(seeded, _staff_actor(seeded), "audit_exported", None, None)
    assert "no before/after snapshot" in _admin(seeded).get(f"/audit/{bare}").get_data(as_text=True)


def test_action_filter_offers_words_and_unknown_codes_read_as_words(seeded):
    _write(seeded, _staff_actor(seeded), "fee_waived", "student", 1)
    html = _admin(seeded).get("/audit/").get_data(as_text=True)
    select = html.split('id="audit-action"', 1)[1].split("</select>", 1)[0]
    assert re.search(r'<option value="login"\s*>Signed in</option>', select)
    assert re.search(r'<option value="student_created"\s*>Student registered</option>', select)
    assert re.search(r'<option value="fee_waived"\s*>Fee waived</option>', select)
    entity = html.split('id="audit-entity"', 1)[1].split("</select>", 1)[0]
    assert re.search(r'<option value="student"\s*>Student</option>', entity)
    chosen = _admin(seeded).get("/audit/?action=fee_waived").get_data(as_text=True)
    assert len(_rows_html(chosen)) == 1 and ">Fee waived</span>" in chosen


# --------------------------------------------------------------------------- filters never 500

@pytest.mark.parametrize("args,label", [
    ({"user_id": "²"}, "person"),
    ({"user_id": "٣"}, "person"),
    ({"user_id": "1e3"}, "person"),
    ({"user_id": "9" * 30}, "person"),
    ({"entity_id": "-4"}, "record number"),
    ({"entity_id": "0"}, "record number"),
    ({"date_from": "0001-01-01"}, "from date"),
    ({"date_to": "0001-01-01"}, "to date"),
    ({"date_from": "9999-12-31"}, "from date"),
    ({"date_to": "9999-12-31"}, "to date"),
    ({"date_from": "1899-12-31"}, "from date"),
    ({"date_to": "2101-01-01"}, "to date"),
    ({"date_from": "2026-02-30"}, "from date"),
    ({"date_to": "２０２６-01-01"}, "to date"),
])
def test_bad_filter_values_are_ignored_with_a_visible_note(seeded, args, label):
    admin = _admin(seeded)
    response = admin.get("/audit/", query_string=args)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"The {label} filter was ignored" in html
    assert len(_rows_html(html)) == _value(seeded, "SELECT COUNT(*) AS n FROM audit_trail")  # not filtered
    export = admin.get("/audit/export.csv", query_string=args)
    assert export.status_code == 200 and export.get_data(as_text=True).startswith("id,")


def test_dates_at_the_edges_of_the_range_are_accepted(seeded):
    admin = _admin(seeded)
    html = admin.get("/audit/?date_from=1900-01-01&date_to=2100-12-31").get_data(as_text=True)
    assert "filter was ignored" not in html and _rows_html(html)
    assert admin.get("/audit/export.csv?date_from=1900-01-01&date_to=2100-12-31").status_code == 200
    backwards = admin.get("/audit/?date_from=2026-05-02&date_to=2026-05-01").get_data(as_text=True)
    assert "from date is after the to date" in backwards and not _rows_html(backwards)


def test_local_day_filter_selects_that_day(seeded):
    # 10:30 on 3 Mar 2026 in Melbourne is 23:30 UTC on 2 Mar.
    with seeded.app_context():
        inside = audit.record(get_db(), None, "logout", None, None, now=datetime(2026, 3, 2, 23, 30))
        audit.record(get_db(), None, "logout", None, None, now=datetime(2026, 3, 3, 14, 0))  # 4 Mar local
    html = _admin(seeded).get("/audit/?date_from=2026-03-03&date_to=2026-03-03").get_data(as_text=True)
    assert re.findall(r'<tr data-audit-id="(\d+)">', html) == [str(inside)]


# --------------------------------------------------------------------------- bounded queries

def test_list_query_count_does_not_grow_with_rows(seeded):
    s = _school(seeded)
    actor = _staff_actor(seeded)
    kinds = [("student_updated", "student", s["student"], {}), ("user_archived", "user", s["student_user"], {}),
             ("vehicle_downtime_added", "vehicle_downtime", 5, {"after": {"vehicle_id": s["vehicle"]}}),
             ("document_deleted", "document", 6, {"details": f"x.pdf (student {s['student']})"}),
             ("staff_updated", "staff", s["staff"], {}), ("course_updated", "course", s["course"], {}),
             ("instructor_unavailability_deleted", "instructor_unavailability", 7,
              {"before": {"instructor_id": s["instructor"]}}),
             ("branch_updated", "branch", s["branch"], {}), ("schedule_created", "schedule", 9, {}),
             ("logout", None, None, {})]

    def add(n, start):
        for i in range(start, start + n):
            action, entity, entity_id, kw = kinds[i % len(kinds)]
            _write(seeded, actor, action, entity, entity_id, **kw)

    admin = _admin(seeded)
    admin.get("/audit/")  # warm up (session touch)
    add(3, 0)
    with count_queries() as few:
        assert admin.get("/audit/?per_page=100").status_code == 200
    add(27, 3)
    with count_queries() as many:
        response = admin.get("/audit/?per_page=100")
    assert response.status_code == 200
    assert len(_rows_html(response.get_data(as_text=True))) == _value(seeded, "SELECT COUNT(*) AS n FROM audit_trail")
    assert many.count == few.count, (few.statements, many.statements)
    with count_queries() as entry:
        assert admin.get(f"/audit/{_value(seeded, 'SELECT MAX(id) AS n FROM audit_trail')}").status_code == 200
    assert entry.count <= few.count
