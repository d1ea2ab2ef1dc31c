"""Runbook maintenance jobs: notification purge, access review, accreditation audit, log rotation."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import gzip
from datetime import date, datetime, timedelta

from app.services import maintenance
from tests import factories as f

NOW = datetime(2026, 11, 26, 3, 0, 0)


def test_months_before_clamps_to_month_end():
    assert maintenance.months_before(datetime(2026, 5, 31, 3), 3) == datetime(2026, 2, 28, 3)
    assert maintenance.months_before(datetime(2026, 11, 26, 3), 12) == datetime(2025, 11, 26, 3)
    assert maintenance.months_before(datetime(2024, 3, 31), 1) == datetime(2024, 2, 29)


def test_purge_notifications_keeps_the_last_twelve_months(db):
    user = f.make_user(db)
    for days in (500, 400, 366, 364, 10):
        db.insert("notifications", {"user_id": user, "title": "t", "message": "m",
                                    "created_at": NOW - timedelta(days=days)})
    assert maintenance.purge_notifications(db, NOW, months=12, batch=2) == 3
    assert db.fetch_value("SELECT COUNT(*) AS n FROM notifications", cast=int) == 2
    assert maintenance.purge_notifications(db, NOW) == 0


def test_access_review_flags_what_needs_a_look(db):
    branch = f.make_branch(db)
    idle = f.make_user(db, role="staff", branch_id=branch, last_login_at=NOW - timedelta(days=120))
    fresh = f.make_user(db, role="staff", branch_id=branch, last_login_at=NOW - timedelta(days=1))
    never = f.make_user(db, role="student", created_at=NOW - timedelta(days=60))
    loose = f.make_user(db, role="staff", branch_id=None, last_login_at=NOW)
    f.make_user(db, role="student", status="archived")
    rows = {r.user["id"]: r.flags for r in maintenance.access_review(db, NOW)}
    assert rows[idle] == ["no sign-in for 90+ days"]
    assert rows[fresh] == []
    assert rows[never] == ["never signed in (30+ days)"]
    assert "staff without a branch" in rows[loose]
    assert len(rows) == 4  # archived accounts are not listed


def test_accreditation_audit_lists_missing_expired_and_expiring_only(db):
    today = date(2026, 11, 26)
    expired = f.make_instructor(db, accreditation_expiry=today - timedelta(days=1))
    soon = f.make_instructor(db, accreditation_expiry=today + timedelta(days=30))
    f.make_instructor(db, accreditation_expiry=today + timedelta(days=300))
    missing = f.make_instructor(db, accreditation_expiry=None)
    states = {r["id"]: r["state"] for r in maintenance.accreditation_audit(db, today, 60)}
    assert states == {expired: "expired", soon: "expiring", missing: "missing"}


def test_rotate_logs_renames_then_compresses_next_run_and_prunes(tmp_path):
    log = tmp_path / "application.log"
    log.write_text("line one\n")
    (tmp_path / "empty.log").write_text("")
    rotated, deleted = maintenance.rotate_logs(tmp_path, NOW, keep_days=30)
    assert rotated == [tmp_path / "application.log.20261126-030000"] and deleted == []
    assert not log.exists() and (tmp_path / "empty.log").exists()
    log.write_text("line two\n")
    maintenance.rotate_logs(tmp_path, NOW + timedelta(days=1), keep_days=30)
    with gzip.open(tmp_path / "application.log.20261126-030000.gz", "rt") as handle:
        assert handle.read() == "line one\n"
    _, deleted = maintenance.rotate_logs(tmp_path, NOW + timedelta(days=45), keep_days=30)
    assert tmp_path / "application.log.20261126-030000.gz" in deleted


def test_runbook_commands_run(seeded, runner, tmp_path):
    for args in (["purge-notifications"], ["accreditation-audit"], ["rotate-logs"],
                 ["access-review", "--output", str(tmp_path / "review.csv")]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
    assert "admin@origin.com" in (tmp_path / "review.csv").read_text()
    strict = runner.invoke(args=["accreditation-audit", "--days", "0", "--fail-on-expired"])
    assert strict.exit_code == 0, strict.output  # the demo accreditations are all in the future
