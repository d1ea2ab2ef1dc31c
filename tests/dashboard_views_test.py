"""Dashboard pages per role: the figures in scope, every figure's link opens the list it counts and that
list shows the same number, the charts with their tables, and a query count that does not grow with
the data. Both databases."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import html as htmllib
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from app.core.database import count_queries
from app.services import stats
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, login

WED = date(2026, 6, 3)                      # the frozen day: Wednesday 3 June 2026, 12:00 in Melbourne
NOW = datetime(2026, 6, 3, 2, 0)            # naive UTC
MON = date(2026, 6, 1)

KPI = re.compile(r'<a class="kpi-link" href="([^"]+)" data-testid="kpi-([\w-]+)">.*?<div class="kpi-value" data-value>(.*?)</div>',
                 re.S)
PIPELINE = re.compile(r'href="([^"]+)" data-testid="pipeline-(\w+)">\s*<span class="pipeline-value" data-value>([\d,]+)<')
TOTAL = re.compile(r'Showing \d+–\d+ of (\d+)</p>')


def _list_total(html: str) -> int:
    found = TOTAL.search(html)
    if found:
        return int(found.group(1))
    assert "No results" in html, html[-2000:]
    return 0


def _figures(html: str) -> dict[str, tuple[str, str]]:
    out = {name: (htmllib.unescape(href), value.strip()) for href, name, value in KPI.findall(html)}
    out.update({f"pipeline-{name}": (htmllib.unescape(href), value) for href, name, value in PIPELINE.findall(html)})
    return out


class World:
    """Two branches; accounts for each role in ``home``; lessons, invoices, cars, requests and summary
    rows in both branches (``other`` is what staff of ``home`` must never count)."""

    def __init__(self, db):
        from app.core import passwords

        pw = passwords.hash_password(DEMO_PASSWORD)
        self.db = db
        self.home, self.other = f.make_branch(db, name="Home"), f.make_branch(db, name="Other")
        f.make_user(db, role="admin", email="boss.dash@example.com", password_hash=pw)
        f.make_user(db, role="staff", branch_id=self.home, email="desk.dash@example.com", password_hash=pw)
        self.ann = f.make_instructor(db, f.make_user(db, role="instructor", branch_id=self.home,
                                                     email="ann.dash@example.com", password_hash=pw), branch_id=self.home)
        self.bob = f.make_instructor(db, branch_id=self.other)
        self.student = f.make_student(db, f.make_user(db, role="student", branch_id=self.home,
                                                      email="sam.dash@example.com", password_hash=pw,
                                                      first_name="Sam", last_name="Learner"), branch_id=self.home)
        self.course = f.make_course(db)
        self.enrolment = f.make_enrollment(db, student_id=self.student, course_id=self.course)
        self.car = f.make_vehicle(db, branch_id=self.home, name="Corolla")
        f.make_vehicle(db, branch_id=self.home, status="maintenance")
        f.make_vehicle(db, branch_id=self.other)
        self.lessons(self.home, self.ann, self.enrolment)
        self.lessons(self.other, self.bob, None)
        f.make_enrollment(db, student_id=f.make_student(db, branch_id=self.home), status="completed")
        f.make_enrollment_request(db, student_id=f.make_student(db, branch_id=self.home))
        f.make_enrollment_request(db, student_id=f.make_student(db, branch_id=self.other))
        invoice = f.make_invoice(db, enrollment_id=self.enrolment, status="overdue", branch_id=self.home,
                                 due_date=date(2026, 5, 20))
        f.make_payment(db, invoice, Decimal("68.00"))
        f.make_invoice(db, enrollment_id=f.make_enrollment(db, student_id=f.make_student(db, branch_id=self.other)),
                       status="overdue", branch_id=self.other)
        db.insert("package_ledger", {"enrollment_id": self.enrolment, "entry": "purchase", "credits": 10, "source": "enrolment",
                                     "created_at": NOW})
        db.insert("package_ledger", {"enrollment_id": self.enrolment, "entry": "consume", "credits": -3, "source": "outcome",
                                     "created_at": NOW})
        user_id = db.fetch_value("SELECT user_id FROM students WHERE id = :id", {"id": self.student})
        for n in range(6):
            db.insert("notifications", {"user_id": user_id, "title": f"Note {n}", "message": "Hello",
                                        "level": "info", "is_read": 1 if n < 2 else 0,
                                        "created_at": datetime(2026, 6, 1, 9, n)})
        for month, amount in ((date(2026, 5, 1), "1200.00"), (date(2026, 6, 1), "300.00")):
            for branch in (self.home, self.other):
                db.insert("stat_revenue_month", {"month_start": month, "branch_id": branch, "course_id": self.course,
                                                 "amount": Decimal(amount), "payments": 2})
        for instructor, branch in ((self.ann, self.home), (self.bob, self.other)):
            db.insert("stat_instructor_month", {"month_start": date(2026, 6, 1), "instructor_id": instructor,
                                                "branch_id": branch, "booked_minutes": 600, "working_minutes": 2400})
        db.insert("stat_freshness", {"name": "revenue_month", "refreshed_at": datetime(2026, 6, 3, 1, 45),
                                     "duration_ms": 10, "row_count": 4})
        # the population counts (students, pipeline) are read from stat_branch_totals: build it from the
        # rows above (only that summary: revenue and utilisation keep the hand-made rows)
        stats.refresh(db, NOW, names=["branch_totals"])

    def lessons(self, branch, instructor, enrolment, extra: int = 0):
        """Per branch: today 08:00 (ended, awaiting), 13:00 (to come), one cancelled; Monday completed;
        Tuesday still scheduled (awaiting); next Monday (outside the week)."""
        db = self.db
        enrolment = enrolment or f.make_enrollment(db, student_id=f.make_student(db, branch_id=branch))
        plan = [(WED, time(8, 0), "scheduled"), (WED, time(13, 0), "scheduled"), (WED, time(15, 0), "cancelled"),
                (MON, time(9, 0), "completed"), (date(2026, 6, 2), time(9, 0), "scheduled"),
                (date(2026, 6, 8), time(9, 0), "scheduled")]
        plan += [(date(2026, 6, 4), time(7 + n % 10, 0), "scheduled") for n in range(extra)]
        for day, start, status in plan:
            f.make_schedule(db, enrollment_id=enrolment, instructor_id=instructor, branch_id=branch,
                            scheduled_date=day, start_time=start,
                            end_time=(datetime.combine(day, start) + timedelta(hours=1)).time(), status=status,
                            vehicle_id=self.car if branch == self.home else None, pickup_location="Library")


@pytest.fixture
def world(app, frozen):
    from app.core.flask_db import get_db

    frozen(NOW)
    with app.app_context():
        return World(get_db())


def _page(client, email: str, path: str = "/dashboard/") -> str:
    login(client, email)
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ------------------------------------------------------------------ office

@pytest.mark.parametrize("email,expected", [
    ("desk.dash@example.com", {"students": "3", "today": "2", "week": "4", "awaiting": "2", "overdue": "1",
                        "fleet": "1 / 2", "utilisation": "25 %", "revenue": "$300.00",
                        "pipeline-pending": "1", "pipeline-learning": "1", "pipeline-completed": "1"}),
    ("boss.dash@example.com", {"students": "6", "today": "4", "week": "8", "awaiting": "4", "overdue": "2",
                        "fleet": "2 / 3", "utilisation": "25 %", "revenue": "$600.00",
                        "pipeline-pending": "2", "pipeline-learning": "3", "pipeline-completed": "1"}),
])
def test_office_figures_are_in_scope(world, client, email, expected):
    html = _page(client, email)
    figures = _figures(html)
    assert {name: figures[name][1] for name in expected} == expected
    coming = html[html.index('data-testid="upcoming"'):]
    coming = coming[:coming.index("</section>")]
    assert "Sam Learner" in coming and coming.count("<tr>") - 1 == (2 if email.startswith("desk") else 4)   # less the header row


def test_the_awaiting_figure_stops_counting_at_its_cap(world, client, monkeypatch):
    """A chain's backlog of lessons without an outcome (70,000 at scale L): the KPI says "cap+"."""
    from app.services import dashboard as dashboard_service

    monkeypatch.setattr(dashboard_service, "AWAITING_CAP", 3)
    assert _figures(_page(client, "boss.dash@example.com"))["awaiting"][1] == "3+"     # 4 awaiting
    monkeypatch.setattr(dashboard_service, "AWAITING_CAP", 4)
    assert _figures(client.get("/dashboard/").get_data(as_text=True))["awaiting"][1] == "4"


@pytest.mark.parametrize("email", ["desk.dash@example.com", "boss.dash@example.com"])
def test_every_office_figure_opens_the_list_it_counts_with_the_same_number(world, client, email):
    html = _page(client, email)
    figures = _figures(html)
    assert {"students", "today", "week", "awaiting", "overdue", "fleet", "utilisation", "revenue",
            "pipeline-pending", "pipeline-approved", "pipeline-learning", "pipeline-completed"} <= set(figures)
    for name, (href, value) in figures.items():
        target = client.get(href)
        assert target.status_code == 200, (name, href)
        if name == "utilisation":                     # the utilisation report of this month: same percentage
            assert "/reports/utilisation?" in href and "date_from=2026-06" in href and "date_to=2026-06" in href
            assert value == "25 %" and "25.0 %" in target.get_data(as_text=True), href
            continue
        if name == "revenue":
            continue                                  # a sum: no row count to compare
        shown = _list_total(target.get_data(as_text=True))
        number = int(value.split(" / ")[0].replace(",", ""))
        assert shown == number, (name, href, shown, number)
    assert "status=overdue" in figures["overdue"][0] and "enrolment=active" in figures["pipeline-learning"][0]
    owing = "$900.00 owing" if email.startswith("desk") else "$1,868.00 owing"   # 968 - 68 (+ 968 elsewhere)
    assert owing in html


def test_office_charts_come_with_their_tables_and_freshness(world, client, app):
    html = _page(client, "desk.dash@example.com")
    for chart in ("revenue-chart", "week-chart"):
        start = html.index(f'data-testid="chart-{chart}"')
        figure = html[start:html.index("</figure>", start)]
        # (the chart macro now hides the picture from assistive technology and gives a summary in words)
        assert f'id="{chart}-name"' in figure and "<table" in figure and "Show the figures" in figure
    assert ">May 26</a>" in html and "$1,200.00" in html        # the revenue table links each month
    assert "/payments/?date_from=2026-05-01&amp;date_to=2026-05-31" in html
    assert "Figures as of" in html and "3 Jun" in html
    assert "Reminder dispatcher" not in html                     # the health line is the admin's
    assert "Reminder dispatcher" in _page(app.test_client(), "boss.dash@example.com")


def test_population_counts_are_the_summary_as_of_its_refresh(world, client, app):
    """Students and the pipeline come from stat_branch_totals: a student added after the refresh is
    counted at the next refresh (the page says when), lessons and overdue invoices are live."""
    from app.core.flask_db import get_db

    html = _page(client, "desk.dash@example.com")
    assert "Active students and the enrolment pipeline as of 3 Jun" in html
    with app.app_context():
        db = get_db()
        f.make_enrollment(db, student_id=f.make_student(db, branch_id=world.home))
        f.make_invoice(db, enrollment_id=world.enrolment, status="overdue", branch_id=world.home)
    figures = _figures(client.get("/dashboard/").get_data(as_text=True))
    assert (figures["students"][1], figures["pipeline-learning"][1], figures["overdue"][1]) == ("3", "1", "2")
    with app.app_context():
        stats.refresh(get_db(), NOW + timedelta(minutes=15), names=["branch_totals"])
    figures = _figures(client.get("/dashboard/").get_data(as_text=True))
    assert (figures["students"][1], figures["pipeline-learning"][1]) == ("4", "2")


def test_before_the_first_refresh_the_counts_say_so(app, client, frozen):
    from app.core import passwords
    from app.core.flask_db import get_db

    frozen(NOW)
    with app.app_context():
        db = get_db()
        f.make_user(db, role="admin", email="first.dash@example.com", password_hash=passwords.hash_password(DEMO_PASSWORD))
        f.make_student(db)
    html = _page(client, "first.dash@example.com")
    assert "have not been counted yet" in html and _figures(html)["students"][1] == "0"


def test_week_chart_bars_open_that_days_lessons(world, client):
    html = _page(client, "desk.dash@example.com")
    start = html.index('data-testid="chart-week-chart"')
    figure = html[start:html.index("</figure>", start)]
    wednesday = htmllib.unescape(re.search(r'href="([^"]*date_from=2026-06-03[^"]*)"', figure).group(1))
    assert _list_total(client.get(wednesday).get_data(as_text=True)) == 2


def test_staff_lessons_list_ignores_another_branch_and_keeps_to_their_own(world, client):
    login(client, "desk.dash@example.com")
    html = client.get(f"/dashboard/lessons?date_from=2026-06-01&date_to=2026-06-07&branch={world.other}")
    assert _list_total(html.get_data(as_text=True)) == 4


@pytest.mark.parametrize("path,status", [("/dashboard/lessons?date_from=2026-06-07&date_to=2026-06-01", 200),
                                         ("/dashboard/lessons?date_from=2020-01-01&date_to=2026-06-01", 422),
                                         ("/dashboard/lessons?date_from=yesterday&status=nonsense&page=99999", 200)])
def test_lessons_list_bad_input_is_a_4xx_or_an_empty_page(world, client, path, status):
    login(client, "boss.dash@example.com")
    response = client.get(path)
    assert response.status_code == status
    if status == 200 and "2026-06-07" in path:
        assert "from date is after the to date" in response.get_data(as_text=True)


def test_students_may_not_open_the_lessons_list(world, client):
    login(client, "sam.dash@example.com")
    assert client.get("/dashboard/lessons").status_code in (403, 404)


# ------------------------------------------------------------------ instructor

def test_instructor_sees_their_run_sheet_week_students_and_awaiting(world, client):
    html = _page(client, "ann.dash@example.com")
    figures = _figures(html)
    assert {k: v[1] for k, v in figures.items()} == {"today": "2", "week": "4", "students": "1", "awaiting": "2"}
    sheet = html[html.index('data-testid="run-sheet"'):html.index("</section>", html.index('data-testid="run-sheet"'))]
    assert sheet.index("08:00") < sheet.index("13:00") < sheet.index("15:00")
    assert "Corolla" in sheet and "Library" in sheet and "Sam Learner" in sheet
    assert "Record outcome" in sheet and "run-sheet-cancelled" in sheet
    assert 'data-testid="chart-week-chart"' in html and "<table" in html
    for name, (href, value) in figures.items():
        shown = _list_total(client.get(href).get_data(as_text=True))
        assert shown == int(value), (name, href)


def test_instructor_without_a_profile_gets_the_notice(app, client, frozen):
    from app.core import passwords
    from app.core.flask_db import get_db

    frozen(NOW)
    with app.app_context():
        f.make_user(get_db(), role="instructor", email="noprofile.dash@example.com",
                    password_hash=passwords.hash_password(DEMO_PASSWORD))
    html = _page(client, "noprofile.dash@example.com")
    assert 'data-testid="missing-profile"' in html and 'data-testid="kpis"' not in html


# ------------------------------------------------------------------ student

def test_student_sees_next_lessons_balance_package_and_notifications(world, client):
    html = _page(client, "sam.dash@example.com")
    figures = _figures(html)
    assert figures["owing"][1] == "$900.00" and figures["package"][1] == "7" and figures["unread"][1] == "4"
    assert "3 Jun" in figures["next"][1] and "13:00 with" in html   # today's 08:00 has ended: 13:00 is next
    assert "3 used of 10" in html and "1 overdue invoice" in html
    notes = html[html.index('data-testid="notifications"'):html.index('data-testid="packages"')]
    assert notes.count('class="list-group-item') == 5 and "Note 5" in notes and "Note 0" not in notes
    assert "/notifications/" in figures["unread"][0] and figures["owing"][0].startswith("/my/invoices")
    lessons = html[html.index('data-testid="next-lessons"'):html.index('data-testid="notifications"')]
    assert "13:00" in lessons and "15:00" not in lessons         # cancelled lessons are not coming


# ------------------------------------------------------------------ query counts

@pytest.mark.parametrize("email", ["boss.dash@example.com", "desk.dash@example.com", "ann.dash@example.com", "sam.dash@example.com"])
def test_dashboard_query_count_does_not_grow_with_the_data(world, client, email, app):
    from app.core.flask_db import get_db

    login(client, email)
    with count_queries() as before:
        assert client.get("/dashboard/").status_code == 200
    with app.app_context():
        db = get_db()
        world.db = db
        world.lessons(world.home, world.ann, world.enrolment, extra=15)
        world.lessons(world.other, world.bob, None, extra=15)
        for _ in range(5):
            f.make_invoice(db, enrollment_id=world.enrolment, status="overdue", branch_id=world.home)
            f.make_student(db, branch_id=world.home)
        stats.refresh(db, NOW, names=["branch_totals"])
    with count_queries() as after:
        assert client.get("/dashboard/").status_code == 200
    assert after.count == before.count, after.statements
    assert after.count <= {"boss": 20, "desk": 16, "ann": 14, "sam": 13}[email.split(".")[0]], after.statements
