"""Issue 6: the UI patterns every page inherits (both backends, demo data).

One page header with breadcrumbs from the Dashboard on every page; one status-badge map (no per-module
badge classes); names link to their page only when the viewer may open it (link_for); dashboard figures
link to the filtered list they count; lists hide archived accounts unless asked for (status=active by
default, status= for all) and show a branch filter only to viewers of several branches; Australian
date/time formats; Australian spelling in the rendered text; the table-header sort links' colour.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import date, datetime, time

import pytest

from app.core.flask_db import get_db
from tests.conftest import ROOT, login

ADMIN = "admin@origin.com"
STAFF_CBD = "operations@origin.com"
AMELIA = "amelia.ward@origin.com"          # instructor at Bayside, teaches Jack
JACK = "jack.mason@student.com"


def _value(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {})


def _exec(app, sql, params=None):
    with app.app_context():
        get_db().execute(sql, params or {})


def _ids(app) -> dict:
    def one(sql, **p):
        return _value(app, sql, p)
    return {
        "jack": one("SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = :e", e=JACK),
        "mia": one("SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = :e",
                   e="mia.chen@student.com"),
        "amelia": one("SELECT i.id FROM instructors i JOIN users u ON u.id = i.user_id WHERE u.email = :e", e=AMELIA),
        "raj": one("SELECT i.id FROM instructors i JOIN users u ON u.id = i.user_id WHERE u.email = :e",
                   e="raj.patel@origin.com"),
        "vehicle": one("SELECT MIN(id) FROM vehicles"),
        "cbd": one("SELECT id FROM branches WHERE name LIKE 'CBD%'"),
        "course": one("SELECT MIN(id) FROM courses"),
        "staff": one("SELECT s.id FROM staff_profiles s JOIN users u ON u.id = s.user_id WHERE u.email = :e", e=STAFF_CBD),
    }


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _pages(role: str, ids: dict) -> list[str]:
    office = [
        "/dashboard/", "/students/", f"/students/{ids['mia']}", f"/students/{ids['mia']}/edit", "/students/new",
        "/instructors/", f"/instructors/{ids['raj']}", f"/instructors/{ids['raj']}/edit",
        f"/instructors/{ids['raj']}/hours", "/instructors/new",
        "/fleet/", "/fleet/new", "/branches/", f"/branches/{ids['cbd']}", "/courses/", "/courses/new",
        f"/courses/{ids['course']}", f"/courses/{ids['course']}/edit", "/account/password",
    ]
    if role == "admin":
        return office + ["/staff/", f"/staff/{ids['staff']}", f"/staff/{ids['staff']}/edit", "/staff/new",
                         "/branches/new", f"/branches/{ids['cbd']}/edit"]
    if role == "staff":
        return office
    if role == "instructor":
        return ["/dashboard/", "/students/", f"/students/{ids['jack']}", f"/instructors/{ids['amelia']}",
                f"/instructors/{ids['amelia']}/hours", "/account/password"]
    return ["/dashboard/", f"/students/{ids['jack']}", "/account/password"]


ROLES = [("admin", ADMIN), ("staff", STAFF_CBD), ("instructor", AMELIA), ("student", JACK)]
_TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S)
_US = re.compile(r"\b(enroll(?:s|ment\w*)?|licens\w*|organiz\w*|canceled|catalog|color|center)\b", re.I)
_LEADING_ZERO_DATE = re.compile(r"\b0\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", _TAGS.sub(" ", html))


@pytest.mark.parametrize("role,email", ROLES, ids=[r for r, _ in ROLES])
def test_every_page_has_the_one_header_badge_map_dates_and_spelling(seeded, role, email):
    ids = _ids(seeded)
    if role == "staff":  # CBD staff: a CBD vehicle
        ids["vehicle"] = _value(seeded, "SELECT MIN(id) FROM vehicles WHERE branch_id = :b", {"b": ids["cbd"]})
    client = _client(seeded, email)
    pages = _pages(role, ids)
    if role in ("admin", "staff"):
        pages += [f"/fleet/{ids['vehicle']}", f"/fleet/{ids['vehicle']}/edit"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        header = re.search(r'<div class="page-header">(.*?)<h1', html, re.S)
        assert header, f"{path}: no page_header()"
        crumbs = re.findall(r'<li class="breadcrumb-item[^"]*"[^>]*>(.*?)</li>', header.group(1), re.S)
        assert crumbs and _text(crumbs[0]).strip() == "Dashboard", f"{path}: breadcrumbs do not start at Dashboard"
        assert html.count("<h1") == 1, path
        for badge in re.findall(r'class="badge ([^"]*)"', html):
            assert "status-badge" in badge or "role-badge" in badge or "nav-badge" in badge, (
                f"{path}: badge outside the map: {badge}")  # nav-badge: a navigation count (base.html)
        assert "text-bg-" not in html.replace("text-bg-light role-badge", ""), path
        text = _text(html)
        assert not _US.findall(text), f"{path}: US spelling {_US.findall(text)}"
        assert not _LEADING_ZERO_DATE.search(text), f"{path}: date with a leading zero"


def test_per_module_badge_macros_are_gone():
    for path in ("students/_macros.html", "instructors/_macros.html", "fleet/_macros.html"):
        file = ROOT / "templates" / path
        if file.exists():
            assert not re.search(r"macro \w*(badge|status)", file.read_text()), path
    macros = [str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")
              if p.name != "page.html" and re.search(r"macro \w*(badge|status)\b", p.read_text())]
    assert macros == [], "badge macros outside _macros/page.html"
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")
                 if "strftime" in p.read_text() or re.search(r"\|date\('%", p.read_text())]
    assert offenders == [], "ad-hoc date formats"


# --------------------------------------------------------------------------- formats

def test_date_time_filters_use_the_australian_format(app):
    env = app.jinja_env
    render = lambda src, **kw: env.from_string(src).render(**kw)  # noqa: E731
    day = date(2027, 9, 7)
    assert render("{{ d|date }}", d=day) == "7 Sep 2027"
    assert render("{{ d|date(weekday=True) }}", d=day) == "Tue 7 Sep 2027"
    assert render("{{ t|hm }}", t=time(13, 0)) == "13:00"
    assert render("{{ t|hm }}", t=time(9, 5)) == "09:05"
    # a stored timestamp is UTC and is shown in APP_TIMEZONE (Melbourne: +10 in September)
    assert render("{{ v|datetime }}", v=datetime(2027, 9, 7, 3, 0)) == "7 Sep 2027, 13:00"
    assert render("{{ v|datetime(weekday=True, wall=True) }}", v=datetime(2027, 9, 27, 13, 0)) == "Mon 27 Sep 2027, 13:00"
    assert render("{{ v|date }}{{ w|datetime }}", v=None, w=None) == ""


# --------------------------------------------------------------------------- links

def _link_for(app, role, *, user_branch=None, instructor_id=None, student_id=None):
    """link_for as a given viewer (no database needed: the actor is what the request resolved)."""
    from flask import g

    from app.services.scope import Actor

    class Viewer:
        is_authenticated = True
        id = 99

        def __init__(self):
            self.role, self.branch_id = role, user_branch

    ctx = app.test_request_context("/")
    ctx.push()
    g._login_user = Viewer()
    g.actor = Actor(user_id=99, role=role, branch_id=user_branch, instructor_id=instructor_id, student_id=student_id)
    return ctx, app.jinja_env.globals["link_for"]


def test_link_for_follows_the_declared_roles_and_ownership(app):
    ctx, link_for = _link_for(app, "admin")
    try:
        assert link_for("student", 5) == "/students/5"
        assert link_for("staff", 3) == "/staff/3"
        assert link_for("invoice", 8, student_id=5) == "/invoices/8"
        assert link_for("lesson", 8, student_id=5) == "/schedules/8"   # a lesson has its event page
        assert link_for("branch", None) is None
        with pytest.raises(ValueError):
            link_for("nonsense", 1)
    finally:
        ctx.pop()

    ctx, link_for = _link_for(app, "staff", user_branch=2)
    try:
        assert link_for("staff", 3) is None                      # staff pages are admin-only
        assert link_for("vehicle", 4) == "/fleet/4"
        assert link_for("instructor", 4, branch_id=2) == "/instructors/4"
        assert link_for("instructor", 4, branch_id=3) is None    # another branch: would be a 404
        assert link_for("lesson", 8, branch_id=2) == "/schedules/8"
        assert link_for("lesson", 8, branch_id=3) is None        # another branch's lesson
    finally:
        ctx.pop()

    ctx, link_for = _link_for(app, "instructor", instructor_id=7)
    try:
        assert link_for("instructor", 7) == "/instructors/7"
        assert link_for("instructor", 8) is None                 # a colleague's profile
        assert link_for("student", 5, instructor_id=7) == "/students/5"
        assert link_for("student", 5, instructor_id=8) is None   # a colleague's lesson
        assert link_for("lesson", 9, instructor_id=7) == "/schedules/9"
        assert link_for("lesson", 9, instructor_id=8) is None and link_for("lesson", 9) is None
        assert link_for("course", 1) is None and link_for("vehicle", 1) is None
    finally:
        ctx.pop()

    ctx, link_for = _link_for(app, "student", student_id=5)
    try:
        assert link_for("student", 5) == "/students/5"
        assert link_for("invoice", 1, student_id=5) == "/my/invoices/1"
        assert link_for("lesson", 9, student_id=5) == "/schedules/9"
        assert link_for("lesson", 9, student_id=6) is None       # someone else's lesson
        assert link_for("student", 6) is None and link_for("invoice", 1, student_id=6) is None
        assert link_for("instructor", 7) is None and link_for("course", 1) is None
    finally:
        ctx.pop()


def _main(client, path) -> str:
    """The page's <main> (the navigation links to the viewer's own pages)."""
    html = client.get(path).get_data(as_text=True)
    return html[html.index("<main"):html.index("</main>")]


def test_dashboard_names_and_figures_link_where_the_viewer_may_go(seeded):
    ids = _ids(seeded)
    html = _main(_client(seeded, ADMIN), "/dashboard/")
    assert 'href="/students/?status=active"' in html and 'href="/fleet/?status=available"' in html
    assert 'href="/invoices/?status=overdue"' in html and re.search(r'href="/schedules/\d+"', html)
    assert re.search(r'href="/instructors/\d+"', html) and re.search(r'href="/courses/\d+"', html)

    html = _main(_client(seeded, AMELIA), "/dashboard/")
    assert 'href="/students/"' in html
    assert f'href="/students/{ids["jack"]}"' in html                   # her student
    assert "/courses/" not in html and "/instructors/" not in html       # pages she may not open

    html = _main(_client(seeded, JACK), "/dashboard/")
    assert 'href="/my/invoices"' in html and 'href="/my/lessons"' in html  # his own pages (issue 9, 8)
    assert re.search(r'href="/schedules/\d+"', html)                  # his next lessons
    assert "/instructors/" not in html and "/courses/" not in html
    assert not re.search(r'href="/students/(?!me|%d)' % ids["jack"], html)


def test_list_names_link_to_their_pages(seeded):
    ids = _ids(seeded)
    client = _client(seeded, ADMIN)
    assert f'href="/branches/{ids["cbd"]}"' in client.get("/students/").get_data(as_text=True)
    assert f'href="/instructors/{ids["raj"]}"' in client.get("/courses/").get_data(as_text=True)
    assert f'href="/branches/{ids["cbd"]}"' in client.get("/staff/").get_data(as_text=True)
    profile = client.get(f"/students/{ids['jack']}").get_data(as_text=True)
    assert re.search(r'href="/courses/\d+"', profile) and f'href="/instructors/{ids["amelia"]}"' in profile


# --------------------------------------------------------------------------- lists

@pytest.mark.parametrize("path,table,email", [
    ("/students/", "students", "noah.williams@student.com"),
    ("/instructors/", "instructors", "tom.nguyen@origin.com"),
    ("/staff/", "staff", "priya.raman@origin.com"),
])
def test_lists_hide_archived_accounts_unless_asked(seeded, path, table, email):
    _exec(seeded, "UPDATE users SET status = 'archived' WHERE email = :e", {"e": email})
    last_name = _value(seeded, "SELECT last_name FROM users WHERE email = :e", {"e": email})
    client = _client(seeded, ADMIN)
    default = client.get(path).get_data(as_text=True)
    assert last_name not in default
    assert re.search(r'<option value="active"\s*selected>Active</option>', default)
    assert re.search(r'<option value="archived"\s*>Archived</option>\s*<option value=""\s*>All</option>', default)
    archived = client.get(path + "?status=archived").get_data(as_text=True)
    assert last_name in archived
    everyone = client.get(path + "?status=").get_data(as_text=True)
    assert last_name in everyone and re.search(r'<option value=""\s*selected>All</option>', everyone)


def test_branch_filter_only_for_viewers_of_several_branches(seeded):
    admin, staff = _client(seeded, ADMIN), _client(seeded, STAFF_CBD)
    for path in ("/students/", "/instructors/", "/fleet/"):
        assert 'id="filter-branch"' in admin.get(path).get_data(as_text=True), path
        assert 'id="filter-branch"' not in staff.get(path).get_data(as_text=True), path
    assert 'id="filter-branch"' not in _client(seeded, AMELIA).get("/students/").get_data(as_text=True)


def test_sort_links_have_their_own_contrast_colour():
    css = (ROOT / "static" / "css" / "app.css").read_text()
    rule = re.search(r"\.table > thead \.sort-link \{([^}]*)\}", css)
    assert rule and "#0a58ca" in rule.group(1)


def test_people_named_on_a_profile_link_to_their_pages_when_the_viewer_may_open_them(seeded):
    """Note authors, uploaders, message senders and the timeline's "by": their staff or instructor page."""
    ids = _ids(seeded)
    oliver = _value(seeded, "SELECT s.id FROM staff_profiles s JOIN users u ON u.id = s.user_id"
                            " WHERE u.first_name = 'Oliver'")
    admin_html = _client(seeded, ADMIN).get(f"/students/{ids['jack']}").get_data(as_text=True)
    assert f'by <a href="/staff/{oliver}">Oliver Grant</a>' in admin_html  # timeline, uploader
    assert f'<td data-label="From"><a href="/staff/{oliver}">Oliver Grant</a>' in admin_html
    assert f'by <a href="/instructors/{ids["amelia"]}">Amelia Ward</a>' in admin_html  # a lesson's instructor
    # a student may open neither staff nor instructor pages: the names stay plain text
    student_html = _client(seeded, JACK).get(f"/students/{ids['jack']}").get_data(as_text=True)
    assert "Oliver Grant" in student_html
    assert f'href="/staff/{oliver}"' not in student_html and "href=\"/instructors/" not in student_html
