"""seed_demo on both backends: demo accounts, every original table filled, refuses a second run."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime

import pytest

from app.core import passwords
from app.dao.instructor import InstructorDAO
from app.dao.report import ReportDAO
from app.dao.schedule import ScheduleDAO
from app.dao.student import StudentDAO
from app.dao.user import UserDAO
from app.services import seed
from tests.conftest import DEMO_PASSWORD, FAST_HASH

NOW = datetime(2026, 3, 10, 2, 30, 0)
TODAY = date(2026, 3, 10)

# spec (docs/original-system.md) §1: the 22 tables of the PHP schema
ORIGINAL_TABLES = (
    "branches", "users", "students", "instructors", "staff_profiles", "courses", "course_instructor", "vehicles",
    "enrollments", "enrollment_requests", "schedules", "instructor_unavailability", "invoices", "invoice_items",
    "payments", "reminders", "notifications", "communications", "communication_recipients", "documents", "notes",
    "audit_trail",
)
DEMO_ACCOUNTS = {
    "admin@origin.com": "admin",
    "operations@origin.com": "staff",
    "amelia.ward@origin.com": "instructor",
    "jack.mason@student.com": "student",
}


@pytest.fixture(autouse=True)
def fast_hashing():
    passwords.configure(FAST_HASH)
    yield
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


@pytest.fixture
def seeded_db(db):
    seed.seed_demo(db, NOW, TODAY)
    return db


def _row_counts(db) -> dict:
    return {t: db.fetch_value(f"SELECT COUNT(*) AS n FROM {t}", cast=int) for t in ORIGINAL_TABLES}


def test_demo_accounts_exist_with_their_roles_and_the_demo_password(seeded_db):
    users = UserDAO(seeded_db)
    for email, role in DEMO_ACCOUNTS.items():
        creds = users.find_credentials(email)
        assert creds is not None, email
        assert (creds["role"], creds["status"]) == (role, "active"), email
        assert passwords.verify_password(creds["password_hash"], DEMO_PASSWORD), email
        assert not passwords.verify_password(creds["password_hash"], "Password123"), email
    assert seed.DEMO_PASSWORD == DEMO_PASSWORD
    assert {email: role for email, role in seed.DEMO_ACCOUNTS} == DEMO_ACCOUNTS


def test_demo_accounts_keep_the_original_names(seeded_db):
    users = UserDAO(seeded_db)
    assert users.find_by_email("admin@origin.com")["first_name"] == "Laura"
    jack = users.find_by_email("jack.mason@student.com")
    assert (jack["first_name"], jack["last_name"]) == ("Jack", "Mason")


def test_every_original_table_has_rows_and_the_summary_matches(db):
    summary = seed.seed_demo(db, NOW, TODAY)
    counts = _row_counts(db)
    empty = [t for t, n in counts.items() if n == 0]
    assert empty == []
    assert set(counts) <= set(summary.counts)
    assert all(summary.counts[t] == n for t, n in counts.items())
    assert summary.tables == len(summary.counts) and summary.rows == sum(summary.counts.values())
    for table, n in summary.counts.items():
        assert db.fetch_value(f"SELECT COUNT(*) AS n FROM {table}", cast=int) == n, table


def test_second_run_raises_already_seeded_and_writes_nothing(seeded_db):
    before = _row_counts(seeded_db)
    with pytest.raises(seed.AlreadySeeded):
        seed.seed_demo(seeded_db, NOW, TODAY)
    assert _row_counts(seeded_db) == before


def test_any_existing_user_blocks_seeding(db):
    db.insert("users", {"role": "admin", "first_name": "A", "last_name": "B", "email": "only@origin.com",
                        "password_hash": "x"})
    with pytest.raises(seed.AlreadySeeded):
        seed.seed_demo(db, NOW, TODAY)
    counts = _row_counts(db)
    assert counts["users"] == 1
    assert sum(counts.values()) == 1


def test_seeded_dashboard_has_upcoming_lessons_and_an_overdue_invoice(seeded_db):
    summary = ReportDAO(seeded_db).dashboard_summary(TODAY)
    assert summary["upcoming_lessons"] >= 1
    assert summary["overdue_invoices"] >= 1
    assert summary["students"] >= 1
    assert 1 <= summary["fleet_available"] <= summary["fleet_total"]
    # and they stay upcoming relative to the day the seed was given, not the calendar
    assert all(r["scheduled_date"] >= TODAY for r in ScheduleDAO(seeded_db).upcoming(TODAY))


def test_seeded_demo_student_and_instructor_dashboards_are_not_empty(seeded_db):
    users = UserDAO(seeded_db)
    jack_user = users.find_by_email("jack.mason@student.com")["id"]
    amelia_user = users.find_by_email("amelia.ward@origin.com")["id"]
    jack = StudentDAO(seeded_db).id_for_user(jack_user)
    amelia = InstructorDAO(seeded_db).id_for_user(amelia_user)
    assert jack is not None and amelia is not None
    reports = ReportDAO(seeded_db)
    assert reports.student_summary(jack, TODAY)["upcoming_lessons"] >= 1
    assert reports.student_summary(jack, TODAY)["overdue_invoices"] >= 1
    assert reports.instructor_summary(amelia, TODAY)["upcoming_lessons"] >= 1
