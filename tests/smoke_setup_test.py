"""services.smoke_setup (`flask smoke-setup`): the smoke branch, course and accounts through the office
services, in one transaction, on both databases."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime

import pytest

from app.core.errors import Conflict, ValidationFailed
from app.services import courses, second_factor, smoke_setup

NOW = datetime(2026, 12, 2, 0, 0)
TODAY = date(2026, 12, 2)


def _count(db, sql):
    return db.fetch_value(sql, cast=int)


def test_everything_the_smoke_test_needs_is_made_and_audited(app, db):
    made = smoke_setup.set_up(db, "school.example", by="ops", now=NOW, today=TODAY, settings=app.config)
    rows = db.fetch_all("SELECT u.email, u.role, u.status, u.branch_id FROM users u WHERE u.email LIKE 'smoke-%' ORDER BY u.email")
    assert [(r["email"], r["role"], r["status"], r["branch_id"]) for r in rows] == [
        ("smoke-instructor@school.example", "instructor", "active", made.branch_id),
        ("smoke-office@school.example", "staff", "active", made.branch_id),
        ("smoke-student@school.example", "student", "active", made.branch_id)]
    instructor = db.fetch_one("SELECT id, accreditation_expiry FROM instructors WHERE branch_id = :b", {"b": made.branch_id})
    assert str(instructor["accreditation_expiry"]) == "2027-12-02"
    assert _count(db, f"SELECT COUNT(*) FROM instructor_working_hours WHERE instructor_id = {int(instructor['id'])}") == 7
    assert _count(db, f"SELECT COUNT(*) FROM course_instructor WHERE course_id = {made.course_id}"
                      f" AND instructor_id = {int(instructor['id'])}") == 1
    assert db.fetch_one(f"SELECT status FROM enrollments WHERE id = {made.enrollment_id}")["status"] == "active"
    office = db.fetch_one("SELECT id FROM users WHERE email = 'smoke-office@school.example'")["id"]
    assert second_factor.state(db, office) == "on"
    assert second_factor.code_at(made.totp_secret, NOW) == second_factor.current_code(db, office, NOW, app.config)
    assert len(made.recovery_codes) == 10 and len(set(made.passwords.values())) == 3
    actions = {r["action"] for r in db.fetch_all("SELECT action FROM audit_trail")}
    assert {"branch_created", "course_created", "enrollment_created", "second_factor_enabled", "user_created"} <= actions


def test_a_failure_half_way_leaves_nothing(app, db, monkeypatch):
    def broken(*args, **kwargs):
        raise ValidationFailed("no courses today", field="title")

    monkeypatch.setattr(courses, "create_course", broken)
    before = {t: _count(db, f"SELECT COUNT(*) FROM {t}") for t in ("users", "branches", "instructors", "audit_trail")}
    with pytest.raises(ValidationFailed):
        smoke_setup.set_up(db, "school.example", by="ops", now=NOW, today=TODAY, settings=app.config)
    assert {t: _count(db, f"SELECT COUNT(*) FROM {t}") for t in before} == before


def test_it_runs_once_and_wants_a_real_domain(app, db):
    smoke_setup.set_up(db, "school.example", by="ops", now=NOW, today=TODAY, settings=app.config)
    with pytest.raises(Conflict, match="the smoke accounts exist already"):
        smoke_setup.set_up(db, "school.example", by="ops", now=NOW, today=TODAY, settings=app.config)
    with pytest.raises(Conflict, match="a branch named 'Smoke test' exists already"):
        smoke_setup.set_up(db, "other.example", by="ops", now=NOW, today=TODAY, settings=app.config)
    for bad in ("", "localhost", "a b.example", "x@y.example"):
        with pytest.raises(ValidationFailed, match="--domain"):
            smoke_setup.set_up(db, bad, by="ops", now=NOW, today=TODAY, settings=app.config)
