"""`flask seed-demo --scale` (app/services/scale_seed.py) on both backends, at a tiny size of its own:
tables filled in proportion, the audit chain valid, the demo logins signing in to the big school, the app's
rules holding on the data (a new invoice continues the numbering, a payment is taken), and the refusals."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import timedelta

import pytest

from app.core import clock, passwords
from app.dao.bulk_seed import ChainSize
from app.services import audit, scale_seed, seed
from tests.conftest import DEMO_PASSWORD, app_overrides, login

TINY = ChainSize(branches=2, instructors=4, students=40, lessons=800)


def run(db, size=TINY, **kw):
    return scale_seed.seed_scale(db, size, now=clock.now(), today=clock.today(), password_hash=kw.pop("hash", "x"), **kw)


def n(db, sql, params=None):
    return db.fetch_value(sql, params, cast=int)


def test_one_build_in_proportion_consistent_and_working(db):
    """One build (they cost seconds), checked three ways."""
    units, lines = [], []
    report = run(db, advance=units.append, log=lines.append)
    assert sum(units) == 100 and lines  # the progress bar reaches its end; one line per step
    check_proportions(db, report)
    check_consistency(db)
    check_app_works(db)


def check_proportions(db, report):
    c = report.counts
    assert (c["branches"], c["instructors"], c["students"], c["schedules"]) == (2, 4, 40, 800)
    assert c["users"] == 1 + 2 + 4 + 40 and c["vehicles"] == 4
    assert c["enrollments"] == 40 and c["invoices"] >= 40 and c["payments"] >= 30
    drawing = n(db, "SELECT COUNT(*) AS n FROM schedules WHERE status IN ('completed', 'no_show')")
    purchases = n(db, "SELECT COUNT(*) AS n FROM package_ledger WHERE entry = 'purchase'")
    assert c["package_ledger"] == drawing + purchases and purchases >= 40
    coming = n(db, "SELECT COUNT(*) AS n FROM schedules WHERE status = 'scheduled' AND scheduled_date >= :t",
               {"t": clock.today()})
    assert n(db, "SELECT COUNT(*) AS n FROM reminders WHERE related_type = 'schedule' AND status = 'pending'") == coming
    recent = n(db, "SELECT COUNT(*) AS n FROM schedules WHERE scheduled_date >= :a AND scheduled_date < :b",
               {"a": clock.today() - timedelta(days=scale_seed.HISTORY_DAYS), "b": clock.today()})
    assert n(db, "SELECT COUNT(*) AS n FROM reminders WHERE related_type = 'schedule' AND status = 'sent'") == recent
    assert c["message_deliveries"] == n(db, "SELECT COUNT(*) AS n FROM reminders WHERE status = 'sent'")
    assert c["notifications"] == 40 + c["payments"]
    # the audit trail: every booking, outcome and payment of its window, chained and intact
    since = clock.now() - timedelta(days=scale_seed.AUDIT_DAYS)
    outcomes = n(db, "SELECT COUNT(*) AS n FROM schedules WHERE completion_marked_at >= :s AND completion_marked_at < :t",
                 {"s": since, "t": clock.now()})
    assert n(db, "SELECT COUNT(*) AS n FROM audit_trail WHERE action = 'schedule_outcome_recorded'") == outcomes > 0
    assert n(db, "SELECT COUNT(*) AS n FROM audit_trail WHERE action = 'login'") > 0
    result = audit.verify(db)
    assert result.ok and result.checked == c["audit_trail"], result
    head = db.fetch_one("SELECT last_id, last_hash FROM audit_chain WHERE id = 1")
    assert head["last_id"] == n(db, "SELECT MAX(id) AS n FROM audit_trail")
    times = [r["created_at"] for r in db.fetch_all("SELECT created_at FROM audit_trail ORDER BY id")]
    assert times == sorted(times)  # ids follow the time
    assert "bulk_audit_events" not in db.tables() and "bench_meta" not in db.tables()
    assert not [t for t in db.tables() if t.startswith("bench_")]
    # appending through the app continues the same chain
    audit.record(db, None, "login", "user", 1, now=clock.now())
    assert audit.verify(db).ok


def check_consistency(db):
    for sql in ("SELECT COUNT(*) AS n FROM package_ledger l LEFT JOIN enrollments e ON e.id = l.enrollment_id WHERE e.id IS NULL",
                "SELECT COUNT(*) AS n FROM package_ledger l LEFT JOIN schedules s ON s.id = l.schedule_id"
                " WHERE l.schedule_id IS NOT NULL AND s.id IS NULL",
                "SELECT COUNT(*) AS n FROM notifications x LEFT JOIN users u ON u.id = x.user_id WHERE u.id IS NULL",
                "SELECT COUNT(*) AS n FROM reminders r LEFT JOIN users u ON u.id = r.recipient_user_id WHERE u.id IS NULL",
                "SELECT COUNT(*) AS n FROM message_deliveries d LEFT JOIN reminders r ON r.id = d.reminder_id WHERE r.id IS NULL",
                "SELECT COUNT(*) AS n FROM audit_trail a LEFT JOIN users u ON u.id = a.user_id"
                " WHERE a.user_id IS NOT NULL AND u.id IS NULL",
                "SELECT COUNT(*) AS n FROM schedules a JOIN schedules b ON b.instructor_id = a.instructor_id"
                " AND b.scheduled_date = a.scheduled_date AND b.id > a.id"
                " AND b.start_time < a.end_time AND a.start_time < b.end_time",
                "SELECT COUNT(*) AS n FROM (SELECT enrollment_id FROM package_ledger GROUP BY enrollment_id"
                " HAVING SUM(credits) < 0) x"):
        assert n(db, sql) == 0, sql
    people = {r["email"]: r for r in db.fetch_all(
        "SELECT u.id, u.email, u.role, u.branch_id, u.first_name FROM users u WHERE u.email LIKE '%@origin.com'"
        " OR u.email LIKE '%@student.com'")}
    assert {e: people[e]["role"] for e in people} == {e: r for e, r in seed.DEMO_ACCOUNTS}
    jack, amelia = people["jack.mason@student.com"], people["amelia.ward@origin.com"]
    assert (jack["first_name"], amelia["first_name"]) == ("Jack", "Amelia")
    assert jack["branch_id"] == amelia["branch_id"] == people["operations@origin.com"]["branch_id"] == 1
    lessons = db.fetch_all("SELECT s.scheduled_date, s.status, i.user_id FROM schedules s"
                           " JOIN enrollments e ON e.id = s.enrollment_id JOIN students st ON st.id = e.student_id"
                           " JOIN instructors i ON i.id = s.instructor_id WHERE st.user_id = :u", {"u": jack["id"]})
    assert {r["user_id"] for r in lessons} == {amelia["id"]}
    assert min(r["scheduled_date"] for r in lessons) < clock.today() <= max(r["scheduled_date"] for r in lessons)
    assert n(db, "SELECT COUNT(*) AS n FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
                 " JOIN students st ON st.id = e.student_id WHERE st.user_id = :u", {"u": jack["id"]}) >= 1


def check_app_works(db):
    """A new invoice continues the year's numbering (invoice_counters) and takes a payment."""
    from app.services import invoicing, payments
    from app.services.scope import Actor

    year = clock.today().year
    last = n(db, "SELECT last_number AS n FROM invoice_counters WHERE year = :y", {"y": year}) or 0
    office = Actor(user_id=2, role="staff", branch_id=1)
    enrollment = n(db, "SELECT MIN(e.id) AS n FROM enrollments e JOIN students s ON s.id = e.student_id"
                       " WHERE s.branch_id = 1")
    settings = {"APP_TIMEZONE": clock.timezone_name()}
    invoice_id = invoicing.create_invoice(db, office, enrollment_id=enrollment, now=clock.now(), settings=settings,
                                          issue=True, lines=[{"description": "Extra lesson", "quantity": 1,
                                                              "unit_price": "85.00", "kind": "lesson"}])
    number = db.fetch_value("SELECT invoice_number FROM invoices WHERE id = :id", {"id": invoice_id})
    assert number == f"INV-{year}-{last + 1:06d}"
    payments.record(db, office, invoice_id, {"amount": "10.00", "method": "card", "reference": "T1"},
                    now=clock.now(), settings=settings)
    assert db.fetch_value("SELECT status FROM invoices WHERE id = :id", {"id": invoice_id}) == "partial"
    assert audit.verify(db).ok


def test_demo_logins_sign_in_and_see_the_school(db_url, tmp_path):
    from app.bootstrap import create_app
    from app.core.flask_db import get_db

    app = create_app(app_overrides(db_url, tmp_path))
    with app.app_context():
        run(get_db(), hash=passwords.hash_password(DEMO_PASSWORD))
    pages = {"admin": "/students/?q=Mason", "staff": "/students/?q=Mason", "instructor": "/students/?q=Mason",
             "student": "/my/lessons"}
    for email, role in seed.DEMO_ACCOUNTS:
        client = app.test_client()
        response = login(client, email)
        assert response.status_code == 302 and "/auth/login" not in response.headers["Location"], email
        page = client.get(pages[role])
        assert page.status_code == 200, (email, page.status_code)
        html = page.get_data(as_text=True)
        assert ("Mason" in html) if role != "student" else ("Amelia" in html and "Ward" in html), email


def test_refuses_a_database_with_users(db):
    db.insert("users", {"role": "admin", "first_name": "A", "last_name": "B", "email": "a@example.com",
                        "password_hash": "x", "status": "active"})
    with pytest.raises(scale_seed.NotEmpty, match="has 1 users"):
        run(db)
    assert n(db, "SELECT COUNT(*) AS n FROM schedules") == 0
    with pytest.raises(ValueError, match="unknown scale"):
        scale_seed.size_of("XL")
    assert scale_seed.size_of("m") == ("M", scale_seed.SCALES["M"])


def test_scales_are_the_issue_sizes():
    s, m, l_ = (scale_seed.SCALES[k] for k in "SML")
    assert (s.branches, s.instructors, s.students) == (1, 10, 500)
    assert (m.branches, m.instructors, m.students, m.lessons) == (10, 100, 10_000, 200_000)
    assert (l_.branches, l_.instructors, l_.students, l_.lessons) == (40, 2_000, 200_000, 4_000_000)
    assert all(size.real == size for size in (s, m, l_))  # whole numbers per instructor: built exactly


def test_command_builds_refuses_and_keeps_the_plain_seed(db_url, tmp_path, monkeypatch, db):
    from app.bootstrap import create_app

    monkeypatch.setitem(scale_seed.SCALES, "S", TINY)
    app = create_app(app_overrides(db_url, tmp_path))
    built = app.test_cli_runner().invoke(args=["seed-demo", "--scale", "s"])
    assert built.exit_code == 0, built.output
    assert "Scale S built" in built.output and "admin@origin.com" in built.output
    assert n(db, "SELECT COUNT(*) AS n FROM schedules") == 800
    again = app.test_cli_runner().invoke(args=["seed-demo", "--scale", "S"])
    assert again.exit_code == 1 and "--scale" in again.output and "47 users" in again.output
    quiet = app.test_cli_runner().invoke(args=["seed-demo", "--scale", "S", "--if-empty"])
    assert quiet.exit_code == 0 and "not built" in quiet.output
    plain = app.test_cli_runner().invoke(args=["seed-demo"])  # without --scale: the normal seed's refusal
    assert plain.exit_code == 1 and "already has users" in plain.output
    assert app.test_cli_runner().invoke(args=["verify-audit"]).exit_code == 0


def test_command_refused_in_production(db_url, tmp_path, db):
    from app.bootstrap import create_app

    app = create_app(app_overrides(db_url, tmp_path, APP_ENV="production", SESSION_COOKIE_SECURE=True,
                                   TRUSTED_HOSTS="localhost", SECOND_FACTOR_ROLES="admin,staff"))
    refused = app.test_cli_runner().invoke(args=["seed-demo", "--scale", "S"])
    assert refused.exit_code == 1 and "refused" in refused.output
    assert n(db, "SELECT COUNT(*) AS n FROM users") == 0


def test_audit_rows_are_hashed_and_written_a_batch_at_a_time(db, monkeypatch):
    """Memory stays flat: at most AUDIT_BATCH rows are held before they are written (and the chain head
    moves with each batch, so the chain verifies after every one)."""
    from app.dao import bulk_seed
    from app.dao.audit import AuditDAO

    monkeypatch.setattr(scale_seed, "AUDIT_BATCH", 50)
    sizes, heads = [], []
    original = bulk_seed.insert_audit_rows

    def spy(database, rows):
        rows = list(rows)
        sizes.append(len(rows))
        return original(database, rows)

    moved = AuditDAO.move_head

    def move(self, last_id, last_hash, now):
        moved(self, last_id, last_hash, now)
        heads.append(audit.verify(self.db).ok)

    monkeypatch.setattr(bulk_seed, "insert_audit_rows", spy)
    monkeypatch.setattr(AuditDAO, "move_head", move)
    report = run(db)
    assert sizes and max(sizes) <= 50 and sum(sizes) == report.counts["audit_trail"]
    assert len(heads) == len(sizes) and all(heads)
