"""The report pages (blueprints/reports.py) on both databases: every report opens for admin and staff with
its figures, chart and freshness line; staff see their own branch only (a foreign ?branch= or ?branch_id=
is ignored and the page says so); instructors and students get 403 on every report route; the CSV of each
report is named report_<type>_<from>_<to>.csv, holds the scoped rows and quotes cells a spreadsheet would
run as formulas; an unknown report is 404; bad filters are a 400 naming the field (never a 500); and the
queries per page are bounded and do not grow with the data."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import csv
import io
import re
from datetime import date, datetime, time

import pytest

from app.core import passwords
from app.core.database import count_queries
from app.core.flask_db import get_db
from app.services import reports, stats
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, login

NOW = datetime(2026, 3, 10, 2, 30)
TODAY = date(2026, 3, 10)
NAMES = tuple(reports.REPORTS)
CHARTED = {"revenue", "instructors", "utilisation", "cancellations", "retention", "ageing", "licence"}


def _user(db, role, branch, email, first="Pat", last="Lee"):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name=first, last_name=last,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


def _side(db, tag: str, branch: int, day: int) -> dict:
    """A branch's instructor (working Mondays), a student with lessons, a drive-test pass, an overdue
    invoice part-paid, a payment, and a vehicle due for service. Names carry the tag (ZznorthX...)."""
    teacher = f.make_instructor(db, user_id=_user(db, "instructor", branch, f"teacher.{tag}@x.com", "Teacher",
                                                  f"Zz{tag}teacher"), branch_id=branch,
                                accreditation_expiry=date(2026, 3, day))
    f.make_working_hours(db, teacher, 0, time(9), time(17))
    student = f.make_student(db, user_id=_user(db, "student", branch, f"student.{tag}@x.com", "Student",
                                               f"Zz{tag}student"), branch_id=branch)
    course = f.make_course(db, title=f"Zz{tag}course")
    enrolment = f.make_enrollment(db, student, course, start_date=date(2026, 1, day))
    for n in range(day):
        f.make_schedule(db, enrolment, teacher, scheduled_date=date(2026, 2, 2 + n), status="completed", branch_id=branch)
    f.make_schedule(db, enrolment, teacher, scheduled_date=date(2026, 2, 20), status="cancelled", branch_id=branch)
    f.make_schedule(db, enrolment, teacher, scheduled_date=date(2026, 3, 2), status="completed", event_type="exam",
                    branch_id=branch)
    invoice = f.make_invoice(db, enrolment, invoice_number=f"ZZINV-{tag}", issue_date=date(2026, 1, 1),
                             due_date=date(2026, 2, day), status="partial")
    f.make_payment(db, invoice, f"{100 * day}.00", payment_date=date(2026, 3, 1))
    f.make_vehicle(db, branch_id=branch, name=f"Zz{tag}car", next_service_due=date(2026, 3, 1))
    return {"branch": branch, "teacher": teacher, "student": student, "invoice": invoice}


@pytest.fixture
def world(app, frozen):
    frozen(NOW)
    with app.app_context():
        db = get_db()
        north, south = f.make_branch(db, name="Zznorth branch"), f.make_branch(db, name="Zzsouth branch")
        a, b = _side(db, "north", north, 3), _side(db, "south", south, 5)
        _user(db, "staff", north, "staff@x.com")
        _user(db, "staff", None, "nobranch@x.com")
        _user(db, "admin", None, "admin@x.com")
        stats.refresh(db, NOW, today=TODAY)
    return {"north": a, "south": b}


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _text(response) -> str:
    return response.get_data(as_text=True)


def _figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">(?:<a [^>]*>)?([^<]*)<', html)
    assert match, name
    return match.group(1).strip()


@pytest.mark.parametrize("name", NAMES)
def test_each_report_opens_for_admin_with_every_branch(app, world, name):
    html = _text(response := _client(app, "admin@x.com").get(f"/reports/{name}"))
    assert response.status_code == 200, html[:300]
    assert "report-figure" in html and 'id="report-branch"' in html
    if name in CHARTED:
        assert 'class="chart-svg"' in html and "Show the figures" in html  # the picture and its table
    if name in ("revenue", "instructors", "utilisation", "cancellations", "retention", "ageing", "licence"):
        assert "Figures as of" in html                                     # read from a summary
    if name in ("instructors", "utilisation", "cancellations", "compliance"):
        assert "Zznorthteacher" in html and "Zzsouthteacher" in html
        assert f'href="/instructors/{world["south"]["teacher"]}"' in html     # names link to their page
    assert "style=" not in html


@pytest.mark.parametrize("name", NAMES)
def test_staff_see_their_branch_only_whatever_the_query_says(app, world, name):
    staff = _client(app, "staff@x.com")
    south = world["south"]["branch"]
    for query in ("", f"?branch={south}", f"?branch_id={south}"):
        response = staff.get(f"/reports/{name}{query}")
        html = _text(response)
        assert response.status_code == 200, (query, html[:300])
        assert "Zzsouth" not in html and 'id="report-branch"' not in html, query
        assert "Branch: Zznorth branch" in html
        if "branch=" in query:
            assert "The branch filter was ignored" in html
    csv_text = _text(staff.get(f"/reports/{name}.csv?branch={south}"))
    assert "Zzsouth" not in csv_text


def test_staff_figures_are_their_branchs(app, world):
    staff, admin = _client(app, "staff@x.com"), _client(app, "admin@x.com")
    # revenue in March: north paid 300, south 500
    assert _figure(_text(staff.get("/reports/revenue?date_from=2026-03&date_to=2026-03")), "total") == "$300.00"
    assert _figure(_text(admin.get("/reports/revenue?date_from=2026-03&date_to=2026-03")), "total") == "$800.00"
    south = world["south"]["branch"]
    assert _figure(_text(admin.get(f"/reports/revenue?date_from=2026-03&date_to=2026-03&branch={south}")),
                   "total") == "$500.00"
    # cancellations: one each; staff's count is their branch's
    assert _figure(_text(staff.get("/reports/cancellations?date_from=2026-02&date_to=2026-03")), "cancelled") == "1"
    assert _figure(_text(admin.get("/reports/cancellations?date_from=2026-02&date_to=2026-03")), "cancelled") == "2"
    # ageing: north's invoice is 968 - 300 owing, due 3 Feb (35 days: 31-60)
    assert _figure(_text(staff.get("/reports/ageing")), "owing-2") == "$668.00"
    assert _figure(_text(admin.get("/reports/ageing")), "owing-2") == "$1,136.00"   # + south's 968 - 500
    # lessons to licence: north's student took 3 lessons, south's 5
    html = _text(admin.get("/reports/licence?date_from=2026-02-01&date_to=2026-03-10"))
    assert _figure(html, "students") == "2" and _figure(html, "average") == "4.0"
    assert _figure(_text(staff.get("/reports/licence?date_from=2026-02-01&date_to=2026-03-10")), "median") == "3"


def test_the_reports_home_shows_the_kpis_and_links_every_report(app, world):
    for email in ("admin@x.com", "staff@x.com"):
        html = _text(_client(app, email).get("/reports/"))
        for name in NAMES:
            assert f'href="/reports/{name}"' in html
        assert "How the figures are counted" in html and 'data-figure="students"' in html
    assert _figure(_text(_client(app, "staff@x.com").get("/reports/")), "overdue_invoices") == "1"
    assert _figure(_text(_client(app, "admin@x.com").get("/reports/")), "overdue_invoices") == "2"


def test_instructors_and_students_get_403_on_every_report_route(app, world):
    for email in ("teacher.north@x.com", "student.north@x.com"):
        client = _client(app, email)
        for path in ["/reports/", *(f"/reports/{n}" for n in NAMES), *(f"/reports/{n}.csv" for n in NAMES)]:
            assert client.get(path).status_code == 403, (email, path)


def test_branchless_staff_are_told_and_shown_nothing(app, world):
    client = _client(app, "nobranch@x.com")
    for path in ("/reports/", "/reports/revenue", "/reports/ageing"):
        html = _text(response := client.get(path))
        assert response.status_code == 200 and "No branch is assigned to your account" in html
        assert "Zznorth" not in html and "Zzsouth" not in html
    rows = list(csv.reader(io.StringIO(_text(client.get("/reports/ageing.csv")))))
    assert rows == [list(reports.CSV_COLUMNS["ageing"])]


@pytest.mark.parametrize("name", NAMES)
def test_each_csv_is_named_by_type_and_range(app, world, name):
    response = _client(app, "admin@x.com").get(f"/reports/{name}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed                                 # written as it is read, not held whole
    disposition = response.headers["Content-Disposition"]
    kind = reports.REPORTS[name]
    expected = {"month": r"\d{4}-\d{2}_\d{4}-\d{2}", "day": r"\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}",
                "asof": r"all_2026-03-10", "due": r"2026-03-10_2026-05-09"}[kind.range]
    assert re.fullmatch(rf'attachment; filename="report_{name}_{expected}\.csv"', disposition), disposition
    rows = list(csv.reader(io.StringIO(_text(response))))
    assert rows[0] == list(reports.CSV_COLUMNS[name])


def test_a_past_ageing_is_live_and_says_so(app, world):
    client = _client(app, "admin@x.com")
    today = _text(client.get("/reports/ageing"))
    assert "Figures as of" in today and 'data-testid="ageing-live"' not in today
    past = _text(client.get("/reports/ageing?date_to=2026-02-01"))
    assert 'data-testid="ageing-live"' in past and "Figures as of" not in past


def test_csv_contents_and_chosen_range(app, world):
    admin = _client(app, "admin@x.com")
    response = admin.get("/reports/revenue.csv?date_from=2026-01&date_to=2026-03")
    assert 'filename="report_revenue_2026-01_2026-03.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(_text(response))))
    assert rows[1:] == [["2026-03", "Zznorth branch", "Zznorthcourse", "300.00", "1"],
                        ["2026-03", "Zzsouth branch", "Zzsouthcourse", "500.00", "1"]]
    rows = list(csv.reader(io.StringIO(_text(admin.get("/reports/ageing.csv")))))
    assert [r[0] for r in rows[1:]] == ["ZZINV-north", "ZZINV-south"]                  # most overdue first


def test_csv_cells_that_look_like_formulas_are_quoted(app, world):
    with app.app_context():
        db = get_db()
        user_id = db.fetch_value("SELECT user_id FROM students WHERE id = :id", {"id": world["north"]["student"]})
        db.execute("UPDATE users SET first_name = :f, last_name = :l WHERE id = :id",
                   {"f": "=HYPERLINK(\"http://evil\",\"x\")", "l": "+1", "id": user_id})
        db.execute("UPDATE invoices SET invoice_number = :n WHERE id = :id", {"n": "-2+3", "id": world["north"]["invoice"]})
        db.execute("UPDATE vehicles SET name = :n WHERE name = 'Zznorthcar'", {"n": "@SUM(1+1)"})
        db.execute("UPDATE courses SET title = :n WHERE title = 'Zznorthcourse'", {"n": "\tcourse"})
        stats.refresh(db, NOW, today=TODAY)
    admin = _client(app, "admin@x.com")
    ageing = list(csv.reader(io.StringIO(_text(admin.get("/reports/ageing.csv")))))
    north = next(r for r in ageing[1:] if r[0].endswith("2+3"))
    assert north[0] == "'-2+3" and north[1] == "'=HYPERLINK(\"http://evil\",\"x\") +1"
    compliance = _text(admin.get("/reports/compliance.csv"))
    assert "'@SUM(1+1)" in compliance and ",@SUM" not in compliance
    revenue = list(csv.reader(io.StringIO(_text(admin.get("/reports/revenue.csv?date_from=2026-03&date_to=2026-03")))))
    assert ["2026-03", "Zznorth branch", "'\tcourse", "300.00", "1"] in revenue
    for text in (_text(admin.get(f"/reports/{n}.csv")) for n in NAMES):
        for row in csv.reader(io.StringIO(text)):
            assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row), row


def test_unknown_reports_are_404(app, world):
    admin = _client(app, "admin@x.com")
    for path in ("/reports/bogus", "/reports/bogus.csv", "/reports/revenue_monthly.csv", "/reports/..%2Fetc.csv",
                 "/reports/revenue.csv.exe"):
        assert admin.get(path).status_code == 404, path


BAD = [
    ("revenue", "date_from=0001-01", "date_from"), ("revenue", "date_to=9999-12", "date_to"),
    ("revenue", "date_from=2026-05&date_to=2026-01", "date_from"), ("revenue", "date_from=1900-01&date_to=2100-12", "date_from"),
    ("instructors", "date_from=abc", "date_from"), ("utilisation", "branch=999999", "branch"),
    ("cancellations", "branch=x", "branch"), ("retention", "date_from=2026-03-10&date_to=2026-01-01", "date_from"),
    ("ageing", "date_to=2026-02-30", "date_to"), ("licence", "date_from=2020-01-01&date_to=2026-01-01", "date_from"),
    ("compliance", "date_to=2001-01-01", "date_to"), ("compliance", "date_to=2099-01-01", "date_to"),
]


@pytest.mark.parametrize("name, query, field", BAD)
def test_bad_filters_are_a_400_naming_the_field(app, world, name, query, field):
    admin = _client(app, "admin@x.com")
    response = admin.get(f"/reports/{name}?{query}")
    html = _text(response)
    assert response.status_code == 400, html[:300]
    assert f'data-field="{field}"' in html and 'data-testid="report-problem"' in html
    assert 'id="report-to"' in html                                # the filters stay on the page to fix
    export = admin.get(f"/reports/{name}.csv?{query}")
    assert export.status_code == 400 and _text(export).startswith(f"{field}:")


def test_huge_page_numbers_and_odd_sorts_show_a_page(app, world):
    admin = _client(app, "admin@x.com")
    for path in ("/reports/instructors?page=99999999999999999999", "/reports/ageing?page=1000000&sort=bogus",
                 "/reports/compliance?page=5&vehicle_page=-3", "/reports/utilisation?sort=utilisation&dir=sideways"):
        response = admin.get(path)
        assert response.status_code == 200, path


def _page_queries(app, email, paths):
    client = _client(app, email)
    client.get("/reports/")                  # warm the session
    counts = {}
    for path in paths:
        with count_queries() as counter:
            assert client.get(path).status_code == 200, path
        counts[path] = counter.count
    return counts


PAGES = ["/reports/", *(f"/reports/{n}" for n in NAMES), *(f"/reports/{n}.csv" for n in NAMES)]


def test_queries_per_page_are_bounded_and_do_not_grow_with_the_data(app, world):
    before = {email: _page_queries(app, email, PAGES) for email in ("admin@x.com", "staff@x.com")}
    for counts in before.values():
        assert max(counts.values()) <= 20, counts
    with app.app_context():  # more of everything in both branches and a third one
        db = get_db()
        west = f.make_branch(db, name="West")
        for tag, branch in (("east", world["north"]["branch"]), ("west", west), ("far", world["south"]["branch"])):
            _side(db, tag, branch, 4)
        stats.refresh(db, NOW, today=TODAY)
    after = {email: _page_queries(app, email, PAGES) for email in ("admin@x.com", "staff@x.com")}
    assert after == before
