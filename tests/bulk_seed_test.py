"""app/dao/bulk_seed.py on both backends at a tiny size: the chain's counts and rules (no instructor
double-booked, one branch per lesson's people and car, courses allocated), the statements that fill the big
tables write at most CHUNK rows each, and the ledger, the history and the audit events it adds."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, timedelta

import pytest

from app.dao import bulk_seed
from app.dao.bulk_seed import ChainSize

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 2, 30, 0)
SIZE = ChainSize(branches=2, instructors=4, students=40, lessons=800)  # 200 lessons, 10 students each


def build(db, size=SIZE, **kw):
    chain = bulk_seed.build_chain(db, size, today=TODAY, now=NOW, password_hash="x", log=lambda line: None,
                                  domain="example.com", courses=bulk_seed.DEMO_COURSES,
                                  course_lessons=size.real.lessons_per_student, **kw)
    finance = bulk_seed.build_finance(db, students=size.real.students, today=TODAY, now=NOW, log=lambda line: None)
    return chain, finance


def count(db, sql, params=None):
    return db.fetch_value(sql, params, cast=int)


def test_chain_counts_and_rules(db):
    ticks = []
    chain, finance = build(db, tick=lambda step, fraction: ticks.append((step, fraction)))
    assert (chain["branches"], chain["instructors"], chain["students"], chain["lessons"]) == (2, 4, 40, 800)
    assert count(db, "SELECT COUNT(*) AS n FROM schedules") == 800
    assert count(db, "SELECT COUNT(*) AS n FROM students") == 40
    assert count(db, "SELECT COUNT(*) AS n FROM enrollments") == 40
    assert count(db, "SELECT COUNT(*) AS n FROM users WHERE email NOT LIKE '%@example.com'") == 0
    assert {s for s, _ in ticks} >= {"people", "students", "lessons", "reminders"}
    assert max(f for s, f in ticks if s == "lessons") == pytest.approx(1.0)
    # never two lessons at once for an instructor (cancelled ones included: the strictest reading)
    assert count(db, "SELECT COUNT(*) AS n FROM schedules a JOIN schedules b ON b.instructor_id = a.instructor_id"
                     " AND b.scheduled_date = a.scheduled_date AND b.id > a.id"
                     " AND b.start_time < a.end_time AND a.start_time < b.end_time") == 0
    # the student, the instructor, the car and the lesson belong to one branch; the course is allocated
    assert count(db, "SELECT COUNT(*) AS n FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id"
                     " JOIN students st ON st.id = e.student_id JOIN instructors i ON i.id = s.instructor_id"
                     " LEFT JOIN vehicles v ON v.id = s.vehicle_id"
                     " WHERE st.branch_id <> i.branch_id OR s.branch_id <> i.branch_id"
                     " OR (v.id IS NOT NULL AND v.branch_id <> i.branch_id)") == 0
    assert count(db, "SELECT COUNT(*) AS n FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id"
                     " LEFT JOIN course_instructor ci ON ci.course_id = e.course_id AND ci.instructor_id = s.instructor_id"
                     " WHERE ci.course_id IS NULL") == 0
    # no orphans among the foreign keys the pages join on
    for sql in ("SELECT COUNT(*) AS n FROM schedules s LEFT JOIN enrollments e ON e.id = s.enrollment_id WHERE e.id IS NULL",
                "SELECT COUNT(*) AS n FROM enrollments e LEFT JOIN students s ON s.id = e.student_id WHERE s.id IS NULL",
                "SELECT COUNT(*) AS n FROM students s LEFT JOIN users u ON u.id = s.user_id WHERE u.id IS NULL",
                "SELECT COUNT(*) AS n FROM instructors i LEFT JOIN users u ON u.id = i.user_id WHERE u.id IS NULL",
                "SELECT COUNT(*) AS n FROM invoices i LEFT JOIN enrollments e ON e.id = i.enrollment_id WHERE e.id IS NULL",
                "SELECT COUNT(*) AS n FROM payments p LEFT JOIN invoices i ON i.id = p.invoice_id WHERE i.id IS NULL",
                "SELECT COUNT(*) AS n FROM reminders r LEFT JOIN schedules s ON s.id = r.related_id"
                " WHERE r.related_type = 'schedule' AND s.id IS NULL"):
        assert count(db, sql) == 0, sql
    # nothing is dated after today (bookings and cancellations happened before it)
    assert count(db, "SELECT COUNT(*) AS n FROM schedules WHERE created_at >= :t OR cancelled_at >= :t",
                 {"t": datetime.combine(TODAY, datetime.min.time())}) == 0
    # invoice numbers continue from the counters
    last = count(db, "SELECT MAX(last_number) AS n FROM invoice_counters")
    assert last == count(db, "SELECT COUNT(*) AS n FROM invoices WHERE issue_date >= :y AND issue_date < :z",
                         {"y": date(TODAY.year, 1, 1), "z": date(TODAY.year + 1, 1, 1)}) or last > 0
    assert finance["fin_invoices"] >= 40


def test_big_statements_write_at_most_chunk_rows(db, monkeypatch):
    monkeypatch.setattr(bulk_seed, "CHUNK", 7)
    written: list[tuple[str, int]] = []
    original = db.execute

    def spy(sql, params=None):
        result = original(sql, params)
        if sql.lstrip().startswith("INSERT INTO") and " SELECT " in sql:
            written.append((sql.split()[2], result.rowcount))
        return result

    monkeypatch.setattr(db, "execute", spy)
    build(db)
    for table in ("users", "students", "enrollments", "reminders"):
        sizes = [n for t, n in written if t == table]
        assert sizes and max(sizes) <= 7, (table, sizes)
    assert count(db, "SELECT COUNT(*) AS n FROM students") == 40  # the same data, in more statements
    monkeypatch.setattr(db, "execute", original)
    ledger = bulk_seed.build_ledger(db, today=TODAY, now=NOW)
    assert ledger["ledger_consumes"] == count(db, "SELECT COUNT(*) AS n FROM schedules WHERE status IN ('completed', 'no_show')")
    numbered = [tuple(r.values()) for r in db.fetch_all(
        "SELECT enrollment_id, entry, credits, schedule_id, source, reason, created_by, created_at FROM package_ledger"
        " ORDER BY enrollment_id, entry, schedule_id, source, credits, created_at")]  # a total order: two purchases tie on the first three
    db.execute("DELETE FROM package_ledger")
    # every course holds the lessons of its students here: the plain draws give the same rows
    assert bulk_seed.build_ledger(db, today=TODAY, now=NOW, covered=True) == ledger
    assert [tuple(r.values()) for r in db.fetch_all(
        "SELECT enrollment_id, entry, credits, schedule_id, source, reason, created_by, created_at FROM package_ledger"
        " ORDER BY enrollment_id, entry, schedule_id, source, credits, created_at")] == numbered


def test_a_course_too_small_for_its_lessons_owes_the_rest(db):
    chain = bulk_seed.build_chain(db, SIZE, today=TODAY, now=NOW, password_hash="x", log=lambda line: None,
                                  course_lessons=3)
    assert chain["lessons"] == 800
    bulk_seed.build_ledger(db, today=TODAY, now=NOW)
    per = {r["enrollment_id"]: (int(r["credits"]), int(r["draws"]), int(r["owed"])) for r in db.fetch_all(
        "SELECT enrollment_id, SUM(credits) AS credits, SUM(CASE WHEN entry = 'consume' THEN 1 ELSE 0 END) AS draws,"
        " SUM(CASE WHEN reason = :r THEN 1 ELSE 0 END) AS owed FROM package_ledger GROUP BY enrollment_id",
        {"r": bulk_seed.OWED})}
    assert per and all(credits == max(0, 3 - draws) and owed == max(0, draws - 3) for credits, draws, owed in per.values())
    assert any(owed for _, _, owed in per.values())


def test_ledger_history_and_audit_events(db):
    build(db)
    ledger = bulk_seed.build_ledger(db, today=TODAY, now=NOW)
    assert count(db, "SELECT COUNT(*) AS n FROM package_ledger WHERE source = 'enrolment'") == 40
    assert ledger["ledger_consumes"] == count(db, "SELECT COUNT(*) AS n FROM schedules WHERE status IN ('completed', 'no_show')")
    assert ledger["ledger_consumes"] > 0
    # never below zero, nothing owed (each enrolment bought its lessons), one draw per lesson
    assert count(db, "SELECT COUNT(*) AS n FROM (SELECT enrollment_id FROM package_ledger GROUP BY enrollment_id"
                     " HAVING SUM(credits) < 0) x") == 0
    assert count(db, "SELECT COUNT(*) AS n FROM package_ledger WHERE reason = :r", {"r": bulk_seed.OWED}) == 0
    assert count(db, "SELECT COUNT(*) AS n FROM (SELECT schedule_id FROM package_ledger WHERE schedule_id IS NOT NULL"
                     " GROUP BY schedule_id HAVING COUNT(*) > 1) x") == 0
    assert count(db, "SELECT COUNT(*) AS n FROM package_ledger l JOIN invoice_items it ON it.id = l.source_id"
                     " WHERE l.source = 'invoice_line' AND l.credits <> it.credits") == 0
    since = TODAY - timedelta(days=30)
    history = bulk_seed.build_history(db, today=TODAY, now=NOW, since=since)
    assert history["sent_lesson_reminders"] == count(
        db, "SELECT COUNT(*) AS n FROM schedules WHERE scheduled_date >= :a AND scheduled_date < :b",
        {"a": since, "b": TODAY}) > 0
    assert history["deliveries"] == count(db, "SELECT COUNT(*) AS n FROM reminders WHERE status = 'sent'")
    assert history["notifications"] == 40 + count(db, "SELECT COUNT(*) AS n FROM payments")
    assert count(db, "SELECT COUNT(*) AS n FROM notifications WHERE is_read = 0") == count(
        db, "SELECT COUNT(*) AS n FROM payments WHERE created_at >= :t", {"t": NOW - timedelta(days=7)})
    assert count(db, "SELECT COUNT(*) AS n FROM notifications WHERE is_read = 1") >= 40
    assert count(db, "SELECT COUNT(*) AS n FROM reminders WHERE status = 'pending' AND related_type = 'schedule'") > 0
    start = NOW - timedelta(days=60)
    events = bulk_seed.fill_audit_events(db, since=start, now=NOW, logins=[(NOW - timedelta(days=1), 1, "admin")])
    rows = bulk_seed.audit_events(db, start, NOW)
    assert len(rows) == events > 0
    keys = [(r["at"], r["k"], r["entity_id"]) for r in rows]
    assert keys == sorted(keys) and all(start <= r["at"] < NOW for r in rows)
    assert {r["k"] for r in rows} >= {0, 6, 8}
    bulk_seed.drop_audit_events(db)
    assert "bulk_audit_events" not in db.tables()


def test_demo_people_point_at_a_student_with_past_and_coming_lessons(db):
    build(db)
    people = bulk_seed.demo_people(SIZE, TODAY)
    assert db.fetch_value("SELECT role FROM users WHERE id = :id", {"id": people["instructor_user"]}) == "instructor"
    student = db.fetch_one("SELECT s.user_id, e.id AS enrollment_id, e.status FROM students s"
                           " JOIN enrollments e ON e.student_id = s.id WHERE s.id = :id", {"id": people["student_id"]})
    assert student["user_id"] == people["student_user"] and student["enrollment_id"] == people["enrollment_id"]
    days = [r["scheduled_date"] for r in db.fetch_all(
        "SELECT scheduled_date FROM schedules WHERE enrollment_id = :e AND instructor_id = 1", {"e": people["enrollment_id"]})]
    assert min(days) < TODAY <= max(days)
    assert student["status"] == "active"
    assert bulk_seed.rename_user(db, people["student_user"], email="jack.mason@student.com", first_name="Jack",
                                 last_name="Mason") == 1
