"""seed_demo on both backends: demo accounts, every original table filled, refuses a second run, and every
demo instructor's lived-in fortnight (booked, recorded and cancelled through the real services)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import shutil
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.core import clock, localtime, passwords
from app.core.database import Database
from app.core.schema import init_db
from app.dao.instructor import InstructorDAO
from app.dao.report import ReportDAO
from app.dao.schedule import ScheduleDAO
from app.dao.student import StudentDAO
from app.dao.user import UserDAO
from app.services import audit, scheduling, seed
from app.services.scope import Actor
from tests.conftest import DEMO_PASSWORD, FAST_HASH, mysql_url, require_mysql, server_database

NOW = datetime(2026, 3, 10, 2, 30, 0)  # 13:30 on Tuesday 10 March in Melbourne
TODAY = date(2026, 3, 10)
FIRST, LAST = TODAY - timedelta(days=14), TODAY + timedelta(days=14)
LIVE = ("scheduled", "completed", "no_show", "not_completed")  # everything but cancelled holds its slot here

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
INSTRUCTORS = ("amelia.ward@origin.com", "raj.patel@origin.com", "tom.nguyen@origin.com")
EVENTS_SQL = (
    "SELECT s.id, s.instructor_id, s.vehicle_id, s.branch_id, s.event_type, s.scheduled_date, s.start_time,"
    " s.end_time, s.status, s.student_rating, s.student_feedback, s.completion_marked_by, s.completion_marked_at,"
    " s.lesson_topic, s.pickup_location, s.notes, s.cancel_reason, s.cancelled_by, s.cancelled_at,"
    " e.student_id, e.status AS enrollment_status, st.branch_id AS student_branch_id, su.email AS student_email,"
    " iu.email AS instructor_email, i.user_id AS instructor_user_id,"
    " v.branch_id AS vehicle_branch_id, v.status AS vehicle_status"
    " FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id JOIN students st ON st.id = e.student_id"
    " JOIN users su ON su.id = st.user_id JOIN instructors i ON i.id = s.instructor_id"
    " JOIN users iu ON iu.id = i.user_id LEFT JOIN vehicles v ON v.id = s.vehicle_id"
    " WHERE s.series_id IS NULL"  # the demo series (issue 8) runs past the fortnight: checked on its own
    " ORDER BY s.scheduled_date, s.start_time, s.id"
)


@pytest.fixture(autouse=True)
def fast_hashing():
    passwords.configure(FAST_HASH)
    yield
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


_SUMMARIES: dict = {}  # id(seeded_db) -> what its seed_demo returned


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def seeded_db(request, sqlite_template, ram_dir):
    """The whole demo seeded ONCE per backend for this module's tests that only read it (the seed is
    deterministic: test_the_diary_is_the_same_every_time_on_either_backend). Those tests run no writes;
    the one that tries (a second seed_demo) must be refused and leave the counts as they were. Tests that
    seed or write themselves take ``db`` (a fresh database each). MariaDB: a database of its own
    (the test database's name + "_seeded"), so the per-test emptying of the test database by ``db``
    never reaches it."""
    passwords.configure(FAST_HASH)
    if request.param == "sqlite":
        target = ram_dir / "seeded.sqlite3"
        shutil.copyfile(sqlite_template, target)
        database, drop = Database.from_url(f"sqlite:///{target}"), None
    else:
        require_mysql()
        url = mysql_url() + "_seeded"
        name = url.rsplit("/", 1)[1]
        server = server_database(url)
        server.execute(f"DROP DATABASE IF EXISTS `{name}`")
        server.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        server.close()
        database, drop = Database.from_url(url), name
        init_db(database, clock.now())
    try:
        _SUMMARIES[id(database)] = seed.seed_demo(database, NOW, TODAY)
        yield database
    finally:
        database.close()
        if drop:
            server = server_database(url)
            server.execute(f"DROP DATABASE IF EXISTS `{drop}`")
            server.close()


def _row_counts(db) -> dict:
    return {t: db.fetch_value(f"SELECT COUNT(*) AS n FROM {t}", cast=int) for t in ORIGINAL_TABLES}


def _zone() -> ZoneInfo:
    return ZoneInfo(clock.timezone_name())


def _instant(day: date, moment: time) -> datetime:
    return localtime.to_utc_naive(localtime.localize(day, moment, _zone()))


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _events(db) -> list[dict]:
    return db.fetch_all(EVENTS_SQL)


def _worked_days(db, instructor_id: int, branch_id: int, first: date, last: date) -> list[date]:
    """Days in first..last with a period both open (branch) and worked (instructor), and no unavailability."""
    opening = db.fetch_all("SELECT weekday FROM branch_opening_hours WHERE branch_id = :b", {"b": branch_id})
    hours = db.fetch_all("SELECT weekday FROM instructor_working_hours WHERE instructor_id = :i", {"i": instructor_id})
    away = {w["start_datetime"].date() for w in db.fetch_all(  # not the window recorded over a lesson afterwards
        "SELECT start_datetime FROM instructor_unavailability WHERE instructor_id = :i AND reason <> :broken",
        {"i": instructor_id, "broken": seed.BROKEN_REASON})}
    both = {r["weekday"] for r in opening} & {r["weekday"] for r in hours}
    days, day = [], first
    while day <= last:
        if day.weekday() in both and day not in away:
            days.append(day)
        day += timedelta(days=1)
    return days


def _check_the_fortnight(db, now: datetime, today: date) -> list[dict]:
    """The rules every seeded diary keeps, whatever ``today`` is; returns the events."""
    events = _events(db)
    first, last = today - timedelta(days=14), today + timedelta(days=14)
    instructors = db.fetch_all("SELECT i.id, i.branch_id, u.email FROM instructors i JOIN users u ON u.id = i.user_id")
    assert {i["email"] for i in instructors} == set(INSTRUCTORS)
    by_instructor = defaultdict(list)
    for event in events:
        by_instructor[event["instructor_id"]].append(event)
        assert first <= event["scheduled_date"] <= last, event

    for instructor in instructors:
        mine = by_instructor[instructor["id"]]
        assert any(e["scheduled_date"] < today for e in mine), instructor["email"]
        assert any(e["scheduled_date"] >= today for e in mine), instructor["email"]
        per_day = Counter(e["scheduled_date"] for e in mine)
        worked = _worked_days(db, instructor["id"], instructor["branch_id"], first, last)
        assert set(per_day) <= set(worked), instructor["email"]  # never on a closed or unworked day
        assert {day: per_day[day] for day in worked if not 3 <= per_day[day] <= 5} == {}, instructor["email"]
        # the calendar opens on a lived-in week: at least 8 events still on in this Monday-first week
        monday = today - timedelta(days=today.weekday())
        week = [e for e in mine if monday <= e["scheduled_date"] <= monday + timedelta(days=6)
                and e["status"] != "cancelled"]
        assert len(week) >= 8, (instructor["email"], len(week))

    opening = defaultdict(list)
    for row in db.fetch_all("SELECT branch_id, weekday, open_time, close_time FROM branch_opening_hours"):
        opening[(row["branch_id"], row["weekday"])].append((row["open_time"], row["close_time"]))
    hours = defaultdict(list)
    for row in db.fetch_all("SELECT instructor_id, weekday, start_time, end_time FROM instructor_working_hours"):
        hours[(row["instructor_id"], row["weekday"])].append((row["start_time"], row["end_time"]))
    for event in events:
        weekday, start, end = event["scheduled_date"].weekday(), event["start_time"], event["end_time"]
        assert weekday != 6, event  # demo branches are closed on Sundays
        assert any(o <= start and end <= c for o, c in opening[(event["branch_id"], weekday)]), event
        assert any(s <= start and end <= e for s, e in hours[(event["instructor_id"], weekday)]), event
        length = _minutes(end) - _minutes(start)
        assert 45 <= length <= 120 and _minutes(start) % 15 == 0 and length % 15 == 0, event
        # a car of the event's branch that can be driven, a student of that branch with an active enrolment
        assert event["vehicle_branch_id"] == event["branch_id"] and event["vehicle_status"] == "available", event
        assert event["student_branch_id"] == event["branch_id"], event
        assert event["enrollment_status"] in ("active", "in_progress"), event
        assert event["lesson_topic"] and event["pickup_location"], event

    # never two events at once for one instructor, student or car; and a gap between an instructor's events
    on = [e for e in events if e["status"] != "cancelled"]
    for key in ("instructor_id", "student_id", "vehicle_id"):
        seen = defaultdict(list)
        for event in on:
            seen[(event[key], event["scheduled_date"])].append(event)
        for (_, _), same_day in seen.items():
            same_day.sort(key=lambda e: e["start_time"])
            for before, after in zip(same_day, same_day[1:]):
                gap = _minutes(after["start_time"]) - _minutes(before["end_time"])
                assert gap >= (15 if key == "instructor_id" else 0), (key, before["id"], after["id"])

    # outcomes only on events that have started; coming scheduled events keep exactly one pending reminder
    pending = Counter(r["related_id"] for r in db.fetch_all(
        "SELECT related_id FROM reminders WHERE related_type = 'schedule' AND status = 'pending'"))
    for event in events:
        starts = _instant(event["scheduled_date"], event["start_time"])
        if event["status"] in ("completed", "not_completed", "no_show"):
            assert starts <= now, event
        if event["status"] == "scheduled" and starts > now:
            assert pending[event["id"]] == 1, event
        else:
            assert pending[event["id"]] == 0, event
    return events


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


def test_every_original_table_has_rows_and_the_summary_matches(seeded_db):
    db, summary = seeded_db, _SUMMARIES[id(seeded_db)]
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
    assert before["schedules"] > 100 and before["reminders"] > 50
    with pytest.raises(seed.AlreadySeeded):
        seed.seed_demo(seeded_db, NOW, TODAY)
    with pytest.raises(seed.AlreadySeeded):
        seed.seed_demo(seeded_db, NOW + timedelta(days=1), TODAY + timedelta(days=1))
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


# ------------------------------------------------------------------------------------------ the fortnight

def test_every_instructor_has_a_lived_in_fortnight_that_keeps_the_booking_rules(seeded_db):
    events = _check_the_fortnight(seeded_db, NOW, TODAY)
    assert 150 <= len(events) <= 260
    # the other rules hold for every status: in SQL too, on both backends (cancelled events never block)
    clashes = seeded_db.fetch_all(
        "SELECT a.id AS a_id, b.id AS b_id FROM schedules a"
        " JOIN schedules b ON b.id > a.id AND b.scheduled_date = a.scheduled_date"
        "  AND a.start_time < b.end_time AND b.start_time < a.end_time"
        " JOIN enrollments ea ON ea.id = a.enrollment_id JOIN enrollments eb ON eb.id = b.enrollment_id"
        " WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'"
        "  AND (a.instructor_id = b.instructor_id OR a.vehicle_id = b.vehicle_id OR ea.student_id = eb.student_id)")
    assert clashes == []
    # Raj's professional development day stays empty
    raj = next(e["instructor_id"] for e in events if e["instructor_email"] == "raj.patel@origin.com")
    window = seeded_db.fetch_one("SELECT start_datetime, end_datetime FROM instructor_unavailability"
                                 " WHERE instructor_id = :i", {"i": raj})
    away = window["start_datetime"].date()
    assert not [e for e in events if e["instructor_id"] == raj and e["scheduled_date"] == away]


def test_lessons_exams_and_assessments_with_topics_pick_ups_and_notes(seeded_db):
    events = _events(seeded_db)
    kinds = Counter(e["event_type"] for e in events)
    assert kinds["lesson"] > 0.8 * len(events) and kinds["exam"] >= 3 and kinds["assessment"] >= 3
    for email in INSTRUCTORS:
        mine = [e for e in events if e["instructor_email"] == email]
        assert {"lesson", "exam", "assessment"} <= {e["event_type"] for e in mine}, email
        assert len({e["student_id"] for e in mine}) >= 6, email  # shared by several learners
        assert len({e["lesson_topic"] for e in mine}) >= 8, email
    assert all(e["lesson_topic"] == "VicRoads drive test" for e in events if e["event_type"] == "exam")
    topics = {e["lesson_topic"] for e in events}
    assert {"Roundabouts and lane changes", "Reverse parallel parking", "Freeway merging", "Hazard perception",
            "Mock test route"} <= topics
    assert [e["status"] for e in events if e["lesson_topic"] == "Hill starts"] == ["not_completed"]
    suburbs = {e["pickup_location"].rsplit(", ", 1)[-1] for e in events}
    assert {"St Kilda", "Elwood", "Carlton", "Preston"} <= suburbs
    noted = [e for e in events if e["notes"]]
    assert 0.15 * len(events) <= len(noted) < len(events)
    # each student is driven in the one kind of car the branch has available (the gearbox when it can)
    cars = {r["id"]: r["transmission"] for r in seeded_db.fetch_all("SELECT id, transmission FROM vehicles")}
    assert {cars[e["vehicle_id"]] for e in events if e["instructor_email"] == "tom.nguyen@origin.com"} == {"Manual"}
    # no student sits the drive test and then keeps taking lessons
    exams = {e["student_id"]: e["scheduled_date"] for e in events if e["event_type"] == "exam"}
    assert all(e["scheduled_date"] <= exams[e["student_id"]] for e in events if e["student_id"] in exams)


def test_past_events_have_their_outcomes_and_a_few_await_one(seeded_db):
    events = _events(seeded_db)
    ended = [e for e in events if _instant(e["scheduled_date"], e["end_time"]) <= NOW]
    statuses = Counter(e["status"] for e in ended)
    assert statuses["completed"] > 0.7 * len(ended)
    assert statuses["not_completed"] >= 1 and 1 <= statuses["no_show"] <= 2
    assert statuses["cancelled"] == 0  # cancellations are all still to come
    for email in INSTRUCTORS:
        awaiting = [e for e in ended if e["status"] == "scheduled" and e["instructor_email"] == email]
        assert 1 <= len(awaiting) <= 2, email
        assert max(e["scheduled_date"] for e in awaiting) >= TODAY - timedelta(days=3), email  # the latest ones
    for event in ended:
        if event["status"] == "scheduled":
            assert event["completion_marked_by"] is None
            continue
        # recorded by the lesson's own instructor, at the seed's clock, through the outcome service
        assert event["completion_marked_by"] == event["instructor_user_id"], event
        assert event["completion_marked_at"] == NOW
        if event["status"] == "completed":
            assert 3 <= event["student_rating"] <= 5, event
        else:
            assert event["student_rating"] is None and event["notes"], event
    assert [e for e in events if e["status"] != "scheduled" and e not in ended and e["status"] != "cancelled"] == []
    recorded = seeded_db.fetch_value("SELECT COUNT(*) AS n FROM audit_trail WHERE action = 'schedule_outcome_recorded'",
                                     cast=int)
    assert recorded == len([e for e in ended if e["status"] != "scheduled"])


def test_coming_events_keep_one_reminder_and_a_few_are_cancelled_by_the_office(seeded_db):
    events = _events(seeded_db)
    reminders = seeded_db.fetch_all("SELECT related_id, status, send_at, send_on, recipient_user_id FROM reminders"
                                    " WHERE related_type = 'schedule'")
    by_event = defaultdict(list)
    for row in reminders:
        by_event[row["related_id"]].append(row)
    coming = [e for e in events if _instant(e["scheduled_date"], e["start_time"]) > NOW]
    assert len(coming) > 80
    for event in coming:
        rows = by_event[event["id"]]
        assert len(rows) == 1, event
        start = _instant(event["scheduled_date"], event["start_time"])
        assert rows[0]["send_at"] == max(start - timedelta(hours=24), NOW), event
        assert rows[0]["status"] == ("cancelled" if event["status"] == "cancelled" else "pending"), event
    assert all(not by_event[e["id"]] for e in events if e not in coming)  # no reminder for a past start

    cancelled = [e for e in events if e["status"] == "cancelled"]
    assert 3 <= len(cancelled) <= 6
    office = {r["id"] for r in seeded_db.fetch_all("SELECT id FROM users WHERE role IN ('admin', 'staff')")}
    for event in cancelled:
        assert event["cancel_reason"] in seed.CANCEL_REASONS and event["cancelled_at"] == NOW, event
        assert event["cancelled_by"] in office and event["event_type"] == "lesson", event
        assert TODAY < event["scheduled_date"] <= TODAY + timedelta(days=10), event
    assert {e["cancel_reason"] for e in cancelled} == set(seed.CANCEL_REASONS)
    assert {e["instructor_email"] for e in cancelled} == set(INSTRUCTORS)


def test_every_calendar_feed_opens_on_a_lived_in_week(seeded_db):
    monday = TODAY - timedelta(days=TODAY.weekday())
    args = {"start": monday.isoformat(), "end": (monday + timedelta(days=6)).isoformat()}
    settings = {"APP_TIMEZONE": clock.timezone_name()}
    for email in INSTRUCTORS:
        user = UserDAO(seeded_db).find_by_email(email)
        me = Actor(user_id=user["id"], role="instructor", branch_id=user["branch_id"],
                   instructor_id=InstructorDAO(seeded_db).id_for_user(user["id"]))
        feed = scheduling.list_events(seeded_db, me, args, settings=settings)
        on = [e for e in feed["events"] if e["status"] != "cancelled"]
        assert len(on) >= 8, email
        assert {e["instructor_id"] for e in feed["events"]} == {me.instructor_id}, email


def test_the_original_demo_lessons_are_still_there(seeded_db):
    events = _events(seeded_db)

    def one(topic, **where):
        found = [e for e in events if e["lesson_topic"] == topic and all(e[k] == v for k, v in where.items())]
        assert len(found) == 1, topic
        return found[0]

    urban = one("Urban driving fundamentals", student_email="jack.mason@student.com", student_rating=4,
                student_feedback="Good observation; work on lane changes.")
    assert urban["status"] == "completed"
    assert TODAY - timedelta(days=14) <= urban["scheduled_date"] < TODAY - timedelta(days=7)
    parking = one("Parking techniques")
    assert (parking["student_email"], parking["status"]) == ("jack.mason@student.com", "scheduled")
    assert TODAY < parking["scheduled_date"] <= TODAY + timedelta(days=3)
    roundabouts = one("Roundabouts and give-way rules")
    assert (roundabouts["student_email"], roundabouts["instructor_email"]) == ("mia.chen@student.com",
                                                                                "raj.patel@origin.com")
    assert TODAY < roundabouts["scheduled_date"] <= TODAY + timedelta(days=5)
    hills = one("Hill starts")
    assert (hills["status"], hills["notes"]) == ("not_completed", "Student unwell; rebook.")
    notification = seeded_db.fetch_value("SELECT message FROM notifications WHERE title = 'New Lesson Assigned'")
    assert notification == (f"Jack Mason has a lesson with you on {parking['scheduled_date'].strftime('%a')}"
                            f" {parking['scheduled_date'].day} {parking['scheduled_date'].strftime('%b')} at 09:00.")


def test_every_booking_is_audited_and_the_chain_verifies(seeded_db):
    # a series is audited as one action (series_created, with each occurrence's result), not per lesson
    schedules = seeded_db.fetch_value("SELECT COUNT(*) AS n FROM schedules WHERE series_id IS NULL", cast=int)
    booked = seeded_db.fetch_value("SELECT COUNT(*) AS n FROM audit_trail WHERE action = 'schedule_created'", cast=int)
    cancelled = seeded_db.fetch_value("SELECT COUNT(*) AS n FROM audit_trail WHERE action = 'schedule_cancelled'",
                                      cast=int)
    assert booked == schedules
    assert cancelled == seeded_db.fetch_value("SELECT COUNT(*) AS n FROM schedules WHERE status = 'cancelled'",
                                              cast=int)
    assert audit.verify(seeded_db).ok


def test_the_diary_is_the_same_every_time_on_either_backend(seeded_db, sqlite_template, tmp_path):
    target = tmp_path / "again.sqlite3"
    shutil.copyfile(sqlite_template, target)
    again = Database.from_url(f"sqlite:///{target}")
    try:
        seed.seed_demo(again, NOW, TODAY)

        def diary(db):
            return [(e["instructor_email"], e["student_email"], e["scheduled_date"], e["start_time"], e["end_time"],
                     e["event_type"], e["status"], e["lesson_topic"], e["student_rating"], e["cancel_reason"])
                    for e in _events(db)]

        assert diary(again) == diary(seeded_db)
    finally:
        again.close()


def _diary_keeps_its_rules(db, today):
    now = datetime.combine(today, time(1, 0))  # 11:00 or 12:00 in Melbourne: part of today is past
    seed.seed_demo(db, now, today)
    events = _check_the_fortnight(db, now, today)
    statuses = Counter(e["status"] for e in events)
    assert all(statuses[s] for s in ("scheduled", "completed", "not_completed", "no_show", "cancelled"))


@pytest.fixture
def sqlite_db(sqlite_template, tmp_path):
    target = tmp_path / "diary.sqlite3"
    shutil.copyfile(sqlite_template, target)
    database = Database.from_url(f"sqlite:///{target}")
    yield database
    database.close()


@pytest.mark.parametrize("today", [TODAY + timedelta(days=n) for n in range(1, 7)], ids=lambda d: f"{d:%a-%Y-%m-%d}")
def test_the_diary_keeps_its_rules_whatever_weekday_it_is_seeded(sqlite_db, today):
    """Each weekday: the diary's day-of-week logic is Python's, so SQLite is enough (the MariaDB seed is
    checked by the shared seeded_db and the clock-change days below)."""
    _diary_keeps_its_rules(sqlite_db, today)


@pytest.mark.parametrize("today", [date(2026, 4, 4), date(2026, 10, 3), date(2026, 11, 26)],
                         ids=lambda d: f"{d:%a-%Y-%m-%d}")
def test_the_diary_keeps_its_rules_around_the_clock_changes(db, today):
    """The Saturdays before the April and October clock changes, and a Thursday in summer time: local
    times stored as UTC, on both databases."""
    _diary_keeps_its_rules(db, today)


def test_without_the_fortnight_only_the_original_small_school_and_its_six_lessons(db):
    summary = seed.seed_demo(db, NOW, TODAY, lived_in=False)
    counts = _row_counts(db)
    assert (counts["students"], counts["schedules"]) == (5, 6)
    assert summary.counts["schedules"] == 6 and summary.counts["audit_trail"] == counts["audit_trail"]
    events = _events(db)
    assert sorted(e["lesson_topic"] for e in events) == sorted((
        "Urban driving fundamentals", "Parking techniques", "Freeway merging", "Roundabouts and give-way rules",
        "Hill starts", "Mock driving test"))
    assert {e["lesson_topic"]: e["status"] for e in events if e["scheduled_date"] < TODAY} == {
        "Urban driving fundamentals": "completed", "Hill starts": "not_completed"}
    pending = db.fetch_value("SELECT COUNT(*) AS n FROM reminders WHERE related_type = 'schedule'"
                             " AND status = 'pending'", cast=int)
    assert pending == 4  # one for each coming lesson
    assert audit.verify(db).ok


def test_the_demo_shows_self_service_in_use(seeded_db):
    """Issue 8 in the demo: Jack and Noah wait for earlier slots and the office's cancellations offered
    them some; Mia has a weekly series (booked occurrences and the clashes listed); Jack has a time
    proposed by Amelia to answer; one of Tom's coming lessons is broken by a window recorded over it."""
    db = seeded_db
    assert db.fetch_value("SELECT COUNT(*) FROM waitlist_preferences WHERE active = 1", cast=int) == 2
    assert db.fetch_value("SELECT COUNT(*) FROM gap_offers", cast=int) >= 1
    series = db.fetch_one("SELECT id, occurrences FROM schedule_series")
    booked = db.fetch_value("SELECT COUNT(*) FROM schedules WHERE series_id = :s", {"s": series["id"]}, cast=int)
    assert series["occurrences"] == 6 and 1 <= booked <= 6
    jack = db.fetch_value("SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = :e",
                          {"e": "jack.mason@student.com"})
    assert db.fetch_value("SELECT COUNT(*) FROM reschedule_proposals p JOIN schedules s ON s.id = p.schedule_id"
                          " JOIN enrollments e ON e.id = s.enrollment_id WHERE e.student_id = :j"
                          " AND p.status = 'pending'", {"j": jack}, cast=int) == 1
    window = db.fetch_one("SELECT instructor_id, start_datetime, end_datetime FROM instructor_unavailability"
                          " WHERE reason = :r", {"r": seed.BROKEN_REASON})
    assert db.fetch_value("SELECT COUNT(*) FROM schedules WHERE instructor_id = :i AND status = 'scheduled'"
                          " AND scheduled_date = :d", {"i": window["instructor_id"],
                                                      "d": window["start_datetime"].date()}, cast=int) >= 1


# ------------------------------------------------------------------------------------------ finance (issue 9)

def test_every_active_enrolment_is_on_its_package_and_completed_lessons_drew_credits(seeded_db):
    """Each demo enrolment bought its course's lessons (source enrolment) before any outcome, so every
    completed lesson (and a no-show: the branches' no_show_consumes is the default, 1) drew one credit (or
    would be recorded owed, 0 credits, had the package run out); the ledger never goes below zero."""
    enrolments = seeded_db.fetch_all(
        "SELECT e.id, c.lesson_count FROM enrollments e JOIN courses c ON c.id = e.course_id"
        " WHERE e.status IN ('active', 'in_progress')")
    bought = {r["enrollment_id"]: r for r in seeded_db.fetch_all(
        "SELECT enrollment_id, SUM(credits) AS credits, COUNT(*) AS n, MIN(id) AS first_id FROM package_ledger"
        " WHERE entry = 'purchase' AND source = 'enrolment' GROUP BY enrollment_id")}
    assert enrolments and {e["id"] for e in enrolments} == set(bought)
    for e in enrolments:
        assert (int(bought[e["id"]]["credits"]), int(bought[e["id"]]["n"])) == (e["lesson_count"], 1), e
    first_draw = seeded_db.fetch_value("SELECT MIN(id) FROM package_ledger WHERE entry = 'consume'", cast=int)
    assert first_draw > max(int(b["first_id"]) for b in bought.values())  # bought before the outcomes
    drawing = seeded_db.fetch_value(
        "SELECT COUNT(*) FROM schedules WHERE event_type = 'lesson' AND status IN ('completed', 'no_show')", cast=int)
    draws = seeded_db.fetch_all("SELECT schedule_id, credits, reason FROM package_ledger WHERE entry = 'consume'")
    assert len(draws) == drawing and len({d["schedule_id"] for d in draws}) == drawing
    assert all(d["credits"] == -1 or (d["credits"] == 0 and d["reason"].startswith("owed")) for d in draws)
    assert min(int(r["left"]) for r in seeded_db.fetch_all(
        "SELECT SUM(credits) AS `left` FROM package_ledger GROUP BY enrollment_id")) >= 0
    # the top-ups: paid invoices whose one line added its lessons; every booked lesson is covered
    top_ups = seeded_db.fetch_all(
        "SELECT i.status, it.credits, l.credits AS added FROM invoice_items it JOIN invoices i ON i.id = it.invoice_id"
        " LEFT JOIN package_ledger l ON l.source = 'invoice_line' AND l.source_id = it.id WHERE it.kind = 'package'")
    assert top_ups and all((t["status"], t["added"]) == ("paid", t["credits"]) for t in top_ups)
    ahead = {r["enrollment_id"]: int(r["n"]) for r in seeded_db.fetch_all(
        "SELECT enrollment_id, COUNT(*) AS n FROM schedules WHERE event_type = 'lesson' AND status = 'scheduled'"
        " GROUP BY enrollment_id")}
    left = {r["enrollment_id"]: int(r["n"]) for r in seeded_db.fetch_all(
        "SELECT enrollment_id, SUM(credits) AS n FROM package_ledger GROUP BY enrollment_id")}
    assert all(left.get(e, 0) >= n for e, n in ahead.items()), (ahead, left)


def test_the_demo_invoices_carry_branch_and_tax_and_show_partial_payment_fee_and_application(seeded_db):
    from app.services import payments as payment_service

    invoices = seeded_db.fetch_all(
        "SELECT i.id, i.invoice_number, i.status, i.branch_id, i.tax_rate, i.total, st.branch_id AS student_branch"
        " FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id JOIN students st ON st.id = e.student_id")
    assert all(i["branch_id"] == i["student_branch"] and i["tax_rate"] == 10 for i in invoices)
    # the original's demo invoice: Jack's course invoice, part-paid (400.00 of 968.00)
    jack = next(i for i in invoices if i["invoice_number"].endswith("-0001"))
    assert (jack["status"], jack["total"]) == ("partial", 968)
    # Lucas's deposit went through the payments service: his invoice is part-paid, the payment audited
    lucas = seeded_db.fetch_one(
        "SELECT i.id, i.status FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
        " JOIN students s ON s.id = e.student_id JOIN users u ON u.id = s.user_id"
        " WHERE u.email = 'lucas.rossi@student.com'")
    assert lucas["status"] == "partial"
    deposit = seeded_db.fetch_one("SELECT id, amount, method FROM payments WHERE invoice_id = :i", {"i": lucas["id"]})
    assert (deposit["amount"], deposit["method"]) == (seed.LUCAS_DEPOSIT, "card")
    assert payment_service.method_label(deposit["method"])
    assert seeded_db.fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = 'payment_recorded'"
                                 " AND entity_id = :p", {"p": deposit["id"]}, cast=int) == 1
    # Bayside's no-show fee: the fortnight's no-show there is on a draft invoice
    bayside = seeded_db.fetch_value("SELECT id FROM branches WHERE name = 'Bayside Training Hub'", cast=int)
    fees = seeded_db.fetch_all(
        "SELECT it.total, i.status, s.branch_id, s.status AS lesson_status FROM invoice_items it"
        " JOIN invoices i ON i.id = it.invoice_id JOIN schedules s ON s.id = it.schedule_id"
        " WHERE it.kind = 'fee_no_show'")
    assert fees and all((f["status"], f["branch_id"], f["lesson_status"], Decimal(f["total"])) ==
                        ("draft", bayside, "no_show", Decimal(seed.NO_SHOW_FEE)) for f in fees)
    # a public application waits in the queue
    applied = seeded_db.fetch_one(
        "SELECT r.status, r.instructor_id FROM enrollment_requests r JOIN students s ON s.id = r.student_id"
        " JOIN users u ON u.id = s.user_id WHERE u.email = :e", {"e": seed.APPLICANT_EMAIL})
    assert applied == {"status": "pending", "instructor_id": None}
    assert seeded_db.fetch_value("SELECT COUNT(*) FROM notifications WHERE title = 'New enrolment application'",
                                 cast=int) >= 1


def test_the_audit_trail_names_the_demo_invoices_and_payments(seeded_db):
    rows = seeded_db.fetch_all("SELECT * FROM audit_trail WHERE entity_type IN ('invoice', 'payment')"
                               " ORDER BY id")
    assert {r["entity_type"] for r in rows} == {"invoice", "payment"}
    refs = audit.describe_records(seeded_db, rows)
    for row in rows:
        ref = refs[row["id"]]
        assert ref.kind == "invoice" and ref.target_id, (row, ref)
        named = ref.text if row["entity_type"] == "invoice" else ref.parent
        assert named.startswith("Invoice ") and "(" in named, (row, ref)
