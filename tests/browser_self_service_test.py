"""The self-service journey of issue 8 in headless Chromium (Playwright), against a live demo server.

Jack books the first free time on "Book a lesson", tries to cancel it inside the cancellation cut-off
and is refused with the branch's phone number, then books a time beyond the cut-off and cancels that
one. Noah, who waits for earlier slots, is offered the freed time ("Earlier slots", and a notification)
and accepts it on a phone-sized screen: the lesson is his. Every page on the way is checked clean (no
request leaves 127.0.0.1, no console error or CSP violation) and fits the screen.

The world is the demo school with two changes made before the server starts, so that the journey does
not depend on the hour it runs at: Amelia (Bayside) also works Tuesday to Saturday afternoons (the
demo fortnight fills her mornings), and Bayside's policy has a 7-day cancellation cut-off (any time in
the first few days is inside it; a time 8 or more days ahead is outside it), 10 lessons a week and any
instructor of the branch. Uses the browser and session fixtures of tests/browser_test.py (skipped the
same way without Chromium or playwright, unless REQUIRE_BROWSER=1)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
import shutil
import threading
from datetime import date, time, timedelta

import pytest

from browser_test import DESKTOP, PHONE, _closing, browser, session  # noqa: F401  (fixtures)
from conftest import app_overrides

pytestmark = pytest.mark.browser

from playwright.sync_api import expect  # noqa: E402  (importable: browser_test skipped the module otherwise)

JACK, NOAH = "jack.mason@student.com", "noah.williams@student.com"
BRANCH_CALL = "call Bayside Training Hub on (03) 8111 9200"


@pytest.fixture(scope="module")
def live_server(sqlite_template, tmp_path_factory):
    """The seeded demo on SQLite with Amelia's afternoons and Bayside's journey policy, on 127.0.0.1."""
    from werkzeug.serving import make_server

    from app.bootstrap import create_app
    from app.core import clock, passwords
    from app.core.flask_db import get_db
    from app.services import policy
    from app.services.scope import SYSTEM
    from app.services.seed import seed_demo

    tmp_path = tmp_path_factory.mktemp("browser_self_service")
    target = tmp_path / "browser.sqlite3"
    shutil.copyfile(sqlite_template, target)
    application = create_app(app_overrides(f"sqlite:///{target}", tmp_path))
    with application.app_context():
        db = get_db()
        seed_demo(db, clock.now(), clock.today())
        amelia = db.fetch_value("SELECT i.id FROM instructors i JOIN users u ON u.id = i.user_id WHERE u.email = :e",
                                {"e": "amelia.ward@origin.com"})
        bayside = db.fetch_value("SELECT id FROM branches WHERE email = :e", {"e": "bayside@origin.com.au"})
        for weekday in range(1, 6):
            db.insert("instructor_working_hours", {"instructor_id": amelia, "weekday": weekday,
                                                   "start_time": time(13, 0), "end_time": time(19, 0)})
        policy.update(db, SYSTEM, bayside, {"cancel_cutoff_minutes": 10080, "max_lessons_per_week": 10,
                                            "students_any_instructor": True}, now=clock.now())

    server = make_server("127.0.0.1", 0, _closing(application), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-self-service", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


def _book_on(page, day: date | None) -> str:
    """Press the first Book button (of ``day``'s list when given) and return the lesson page's URL."""
    if day is None:
        button = page.locator("#slots form.portal-slot-form button").first
    else:
        section = page.locator("details.portal-day", has=page.locator(f"#day-{day.isoformat()}"))
        expect(section).to_have_count(1)
        if section.get_attribute("open") is None:
            section.locator("summary").click()
        button = section.locator("form.portal-slot-form button").first
    expect(button).to_be_visible()
    button.click()
    expect(page).to_have_url(re.compile(r"/schedules/\d+$"))
    expect(page.locator(".flash-stack")).to_contain_text("Booked")
    return page.url


def test_a_student_books_is_refused_inside_the_cutoff_cancels_outside_it_and_a_waiting_student_takes_the_slot(
        session):
    from app.core import clock

    s = session(DESKTOP)
    page = s.page
    s.login(JACK)
    page.get_by_label("Main navigation").get_by_role("link", name="Book a lesson").click()
    expect(page.locator("main h1")).to_have_text("Book a lesson")
    assert s.horizontal_overflow() == 0
    s.shot("self-service-book")

    # The first free time is inside the 7-day cut-off: booked, but it cannot be cancelled online.
    first = _book_on(page, None)
    lesson_id = first.rsplit("/", 1)[1]
    page.goto(f"{s.base_url}/my/lessons/{lesson_id}/cancel")
    expect(page.locator("main")).to_contain_text(BRANCH_CALL)
    expect(page.get_by_role("button", name=re.compile(r"^Cancel this"))).to_have_count(0)
    s.shot("self-service-cutoff")
    page.goto(f"{s.base_url}/my/lessons")
    expect(page.locator("main")).to_contain_text("cut-off")

    # A time 8 or more days ahead is outside it: booked, then cancelled from "My lessons".
    page.get_by_label("Main navigation").get_by_role("link", name="Book a lesson").click()
    expect(page.locator("main h1")).to_have_text("Book a lesson")  # .all() below does not wait for the page
    expect(page.locator("h2.portal-day-title").first).to_be_visible()
    days = [date.fromisoformat(h.get_attribute("id")[4:]) for h in page.locator("h2.portal-day-title").all()]
    later = next(d for d in days if d >= clock.today() + timedelta(days=8))
    second = _book_on(page, later)
    second_id = second.rsplit("/", 1)[1]
    page.goto(f"{s.base_url}/my/lessons/{second_id}/cancel")
    page.get_by_label(re.compile(r"Reason")).fill("Family holiday")
    page.get_by_role("button", name=re.compile(r"^Cancel this")).click()
    expect(page.locator(".flash-stack")).to_contain_text(re.compile(r"cancel", re.I))
    assert "/cancel" not in page.url  # never left on a POST address
    s.check_clean()

    # Noah waits for earlier slots: the freed time is offered to him; he takes it on his phone.
    n = session(PHONE)
    phone = n.page
    n.login(NOAH)
    phone.goto(f"{n.base_url}/my/offers")
    expect(phone.locator("main h1")).to_be_visible()
    accept = phone.get_by_role("button", name=re.compile(r"^Accept"))
    expect(accept.first).to_be_visible()
    assert n.horizontal_overflow() == 0
    n.shot("self-service-offer-phone")
    accept.first.click()
    expect(phone).to_have_url(re.compile(r"/schedules/\d+$"))
    assert phone.url.rsplit("/", 1)[1] != second_id  # a new lesson of his, in the freed slot
    expect(phone.locator("main")).to_contain_text("Noah")
    n.shot("self-service-offer-accepted-phone")
    phone.goto(f"{n.base_url}/notifications/")
    expect(phone.locator("main")).to_contain_text("An earlier lesson is free")
    n.check_clean()
