"""Calendar feed pages: the public .ics URL (content type, cache header, the same 404 body for an unknown,
malformed or revoked token as for any missing page), the Generate/Regenerate buttons per role and scope
(foreign 404, other roles 403, no CSRF 403), the link shown once on the profile through a server-side
hand-off (never in the session cookie or a flash), and the audit row."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re

import icalendar
import pytest

from app.core.database import count_queries
from tests.conftest import login, post_form, session_contents

ADMIN = "admin@origin.com"
STAFF_CBD = "operations@origin.com"
STAFF_BAYSIDE = "priya.raman@origin.com"
AMELIA = "amelia.ward@origin.com"  # instructor, Bayside
RAJ = "raj.patel@origin.com"  # instructor, CBD
STUDENT = "jack.mason@student.com"  # Bayside
LINK = re.compile(r'id="feed-link-https" value="(https?://[^"]+/feeds/([A-Za-z0-9_-]+)\.ics)"')
WEBCAL = re.compile(r'id="feed-link-webcal" value="(webcal://[^"]+\.ics)"')


def instructor_id(db, email):
    return db.fetch_value("SELECT i.id FROM instructors i JOIN users u ON u.id = i.user_id WHERE u.email = :e",
                          {"e": email})


def student_id(db, email):
    return db.fetch_value("SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = :e",
                          {"e": email})


def body_of(response):
    """The page without its per-request reference (the error page names the request id)."""
    text = response.get_data(as_text=True)
    return re.sub(r"[0-9a-f]{8,}(-[0-9a-f]{4,})*", "<id>", text)


def logout(client):
    assert post_form(client, "/auth/logout").status_code in (302, 303)


def generate(client, path, token_from):
    posted = post_form(client, path, token_from=token_from)
    assert posted.status_code == 303, posted.get_data(as_text=True)[:500]
    page = client.get(posted.headers["Location"])
    return posted, page


def test_instructor_generates_their_feed_and_sees_the_link_once(seeded, client, db):
    login(client, AMELIA)
    amelia = instructor_id(db, AMELIA)
    profile = client.get(f"/instructors/{amelia}").get_data(as_text=True)
    assert 'id="calendar-feed"' in profile and "Generate link" in profile and 'data-feed-state="none"' in profile
    posted, page = generate(client, f"/feeds/instructor/{amelia}", f"/instructors/{amelia}")
    html = page.get_data(as_text=True)
    url, token = LINK.search(html).groups()
    assert WEBCAL.search(html).group(1).endswith(f"/feeds/{token}.ics")
    assert "Subscribe in Google Calendar, Outlook or Apple Calendar; regenerate to revoke the old link" in html
    assert 'data-copy-target="feed-link-https"' in html and 'data-feed-state="active"' in html
    assert "Regenerate link" in html and "#calendar-feed" in html  # data-location drops the spent key
    contents = session_contents(seeded, client, posted, page)
    assert token not in contents and "/feeds/" not in contents
    assert db.fetch_value("SELECT COUNT(*) FROM page_handoffs") == 0
    again = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert token not in again and 'data-feed-handoff="gone"' in again
    feed = seeded.test_client().get(f"/feeds/{token}.ics")
    assert feed.status_code == 200
    assert feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert feed.headers["Cache-Control"] == "private, max-age=300"
    cal = icalendar.Calendar.from_ical(feed.data)
    assert str(cal["X-WR-CALNAME"]) == "Origin: Amelia's lessons"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Australia/Melbourne"]
    raw = feed.get_data(as_text=True)
    surnames = [r["last_name"] for r in db.fetch_all(
        "SELECT DISTINCT u.last_name FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id"
        " JOIN students st ON st.id = e.student_id JOIN users u ON u.id = st.user_id WHERE s.instructor_id = :i",
        {"i": amelia})]
    assert cal.walk("VEVENT") and surnames
    assert not any(name in raw for name in surnames)
    rows = db.fetch_all("SELECT entity_type, entity_id FROM audit_trail WHERE action = 'calendar_feed_issued'")
    assert [(r["entity_type"], r["entity_id"]) for r in rows] == [("instructor", amelia)]


def test_regenerating_revokes_the_old_url_with_the_generic_404(seeded, client, db):
    login(client, STUDENT)
    jack = student_id(db, STUDENT)
    _, page = generate(client, f"/feeds/student/{jack}", f"/students/{jack}")
    old = LINK.search(page.get_data(as_text=True)).group(2)
    _, page = generate(client, f"/feeds/student/{jack}", f"/students/{jack}")
    new = LINK.search(page.get_data(as_text=True)).group(2)
    anonymous = seeded.test_client()
    assert anonymous.get(f"/feeds/{new}.ics").status_code == 200
    revoked = anonymous.get(f"/feeds/{old}.ics")
    unknown = anonymous.get(f"/feeds/{'A' * 43}.ics")
    missing = anonymous.get("/no-such-page")
    assert revoked.status_code == unknown.status_code == missing.status_code == 404
    assert body_of(revoked) == body_of(unknown) == body_of(missing)
    assert "feed" not in revoked.get_data(as_text=True).lower()


@pytest.mark.parametrize("token", ["x", "A" * 300, "..%2F..%2Fetc", "%C3%BCn%C3%AFc%C3%B8d%C3%A9", "%00"])
def test_bad_tokens_answer_404(seeded, client, token):
    assert client.get(f"/feeds/{token}.ics").status_code == 404
    assert client.get(f"/feeds/../{token}.ics").status_code == 404


def test_issuing_scope_roles_and_csrf(seeded, client, db):
    amelia, raj, jack = instructor_id(db, AMELIA), instructor_id(db, RAJ), student_id(db, STUDENT)
    login(client, STAFF_CBD)
    assert post_form(client, f"/feeds/instructor/{amelia}").status_code == 404  # Bayside: foreign
    assert post_form(client, f"/feeds/instructor/{raj}").status_code == 303
    assert post_form(client, "/feeds/student/999999").status_code == 404
    logout(client)
    login(client, AMELIA)
    assert post_form(client, f"/feeds/instructor/{raj}").status_code == 404  # someone else's
    assert post_form(client, f"/feeds/student/{jack}").status_code == 403  # instructors issue only their own
    assert client.post(f"/feeds/instructor/{amelia}").status_code == 403  # no CSRF token
    logout(client)
    login(client, STUDENT)
    assert post_form(client, f"/feeds/instructor/{amelia}").status_code == 403
    assert client.get(f"/feeds/student/{jack}").status_code == 405
    logout(client)
    login(client, STAFF_BAYSIDE)
    assert post_form(client, f"/feeds/student/{jack}").status_code == 303
    assert db.fetch_value("SELECT COUNT(*) FROM calendar_feed_tokens") == 2
    assert db.fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = 'calendar_feed_issued'") == 2


def test_the_panel_is_shown_only_to_who_may_issue(seeded, client, db):
    jack = student_id(db, STUDENT)
    login(client, AMELIA)
    page = client.get(f"/students/{jack}")
    assert page.status_code == 200 and 'id="calendar-feed"' not in page.get_data(as_text=True)
    logout(client)
    login(client, ADMIN)
    assert 'id="calendar-feed"' in client.get(f"/students/{jack}").get_data(as_text=True)


def test_the_public_feed_query_count_is_constant(seeded, client, db):
    login(client, AMELIA)
    amelia = instructor_id(db, AMELIA)
    _, page = generate(client, f"/feeds/instructor/{amelia}", f"/instructors/{amelia}")
    token = LINK.search(page.get_data(as_text=True)).group(2)
    anonymous = seeded.test_client()
    with count_queries() as counted:
        assert anonymous.get(f"/feeds/{token}.ics").status_code == 200
    assert counted.count <= 3, counted.statements
