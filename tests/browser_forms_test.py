"""Forms inside detail pages, in headless Chromium (Playwright): a failed note or service entry is answered
422 with the page re-rendered; the address bar then holds the section's GET address (never the POST-only
one), focus is on the first invalid field, what was typed is kept, the alert at the top is visible, and a
reload is a plain GET (nothing is submitted again). Also the one-time activation link panel.

Uses the live server, browser and session fixtures of tests/browser_test.py (skipped the same way
without Chromium or playwright, unless REQUIRE_BROWSER=1)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import date, timedelta

import pytest

from browser_test import browser, live_server, session  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

from playwright.sync_api import expect  # noqa: E402  (importable: browser_test skipped the module otherwise)


def _first_id(page, path: str, pattern: str) -> str:
    page.goto(path)
    href = page.locator("main table tbody a").first.get_attribute("href") or ""
    match = re.search(pattern, href)
    assert match, f"no record link on {path} ({href!r})"
    return match.group(1)


def _reload_is_a_get(page) -> None:
    methods: list[str] = []
    page.on("request", lambda r: methods.append(r.method) if r.resource_type == "document" else None)
    with page.expect_response(lambda r: r.request.resource_type == "document") as info:
        page.reload()
    assert info.value.request.method == "GET" and info.value.status == 200
    assert methods == ["GET"]  # nothing was posted again
    expect(page.locator("#page-alert")).to_have_count(0)


def _check_clean(s, deliberate: str) -> None:
    """Session.check_clean, less the console line Chromium logs for the deliberate 422 document itself (its
    URL carries the form action's #anchor, which Session's own filter does not expect)."""
    s.console_errors[:] = [e for e in s.console_errors
                           if not (e.startswith("Failed to load resource: the server responded with a status of 422")
                                   and e.endswith(f"{deliberate})"))]
    s.check_clean()


def _in_viewport(locator) -> bool:
    """Whether the element is (or within a moment comes) fully inside the viewport."""
    try:
        locator.page.wait_for_function(
            "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }",
            arg=locator.element_handle(), timeout=2_000)
        return True
    except Exception:
        print("not in view:", locator.evaluate("el => JSON.stringify([el.getBoundingClientRect(), window.scrollY,"
                                               " window.innerHeight])"))
        return False


def test_invalid_note_stays_on_the_profile_address_with_focus_and_text_kept(session):  # noqa: F811
    s = session()
    page = s.page
    s.login("priya.raman@origin.com")  # Bayside staff: Jack Mason is theirs
    expect(page).to_have_url(re.compile(r"/dashboard/"))
    student = _first_id(page, "/students/?q=Mason", r"/students/(\d+)$")
    page.goto(f"/students/{student}")
    notes_before = page.locator("#notes [data-note-id]").count()
    note = page.get_by_role("textbox", name="Note", exact=True)
    typed = ("Reverse parking needs work. " * 200).strip()  # over 5000 characters
    # maxlength stops a person typing past 5000; a pasted or scripted value reaches the server's rule
    note.evaluate("(el, value) => { el.value = value; }", typed)
    page.get_by_role("button", name="Add note").click()

    expect(page).to_have_url(f"{s.base_url}/students/{student}#notes")
    alert = page.locator("#page-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("The note was not added: A note can be at most 5000 characters.")
    expect(alert.get_by_role("link", name="Go to the form")).to_have_attribute("href", "#notes")
    expect(page.locator("#content")).to_be_focused()  # app.js moves the focus after load: wait for it
    assert note.get_attribute("aria-invalid") == "true"
    assert note.input_value() == typed
    assert _in_viewport(note)
    s.shot("forms-note-invalid")

    _reload_is_a_get(page)
    expect(page).to_have_url(f"{s.base_url}/students/{student}#notes")
    assert page.locator("#notes [data-note-id]").count() == notes_before  # nothing was added

    # success is Post/Redirect/Get to the section
    page.get_by_role("textbox", name="Note", exact=True).fill("Booked a mock test.")
    page.get_by_role("button", name="Add note").click()
    expect(page).to_have_url(f"{s.base_url}/students/{student}#notes")
    expect(page.locator("#notes").get_by_text("Booked a mock test.")).to_be_visible()
    _check_clean(s, f"/students/{student}/notes#notes")


def test_invalid_service_entry_stays_on_the_vehicle_address_with_focus_and_values_kept(session):  # noqa: F811
    s = session()
    page = s.page
    s.login("admin@origin.com")
    expect(page).to_have_url(re.compile(r"/dashboard/"))
    vehicle = _first_id(page, "/fleet/", r"/fleet/(\d+)$")
    page.goto(f"/fleet/{vehicle}")
    form = page.locator("#servicing-form")
    served = (date.today() - timedelta(days=7)).isoformat()
    form.get_by_label("Service date").fill(served)
    form.get_by_label("Odometer (km)").fill("-5")
    form.get_by_label("Work done").fill("New tyres all round")
    form.get_by_role("button", name="Log service").click()

    expect(page).to_have_url(f"{s.base_url}/fleet/{vehicle}#servicing")
    alert = page.locator("#page-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("The service was not logged: Enter a distance from 0 to 2,000,000 km.")
    odometer = page.locator("#servicing-form").get_by_label("Odometer (km)")
    expect(page.locator("#odometer_km")).to_be_focused()  # app.js moves the focus after load: wait for it
    assert odometer.input_value() == "-5"
    assert page.locator("#servicing-form").get_by_label("Work done").input_value() == "New tyres all round"
    assert page.locator("#servicing-form").get_by_label("Service date").input_value() == served
    assert _in_viewport(odometer)
    s.shot("forms-service-invalid")

    _reload_is_a_get(page)
    expect(page).to_have_url(f"{s.base_url}/fleet/{vehicle}#servicing")
    _check_clean(s, f"/fleet/{vehicle}/service#servicing")


def test_activation_link_panel_is_shown_once_with_a_copy_button(session):  # noqa: F811
    s = session()
    page = s.page
    s.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=s.base_url)
    s.login("admin@origin.com")
    expect(page).to_have_url(re.compile(r"/dashboard/"))
    page.goto("/staff/new")
    page.get_by_label("First name").fill("Casey")
    page.get_by_label("Last name").fill("Nguyen")
    page.get_by_label("E-mail address").fill("casey.nguyen@origin.com")
    page.get_by_label("Branch").select_option(index=1)
    page.get_by_role("button", name=re.compile("Create|Save")).click()

    expect(page).to_have_url(re.compile(r"/staff/\d+$"))  # the spent key left the address bar
    panel = page.locator("[data-handoff=shown]")
    expect(panel).to_be_visible()
    link = page.locator("#handoff-link").input_value()
    assert re.search(r"/auth/activate/[A-Za-z0-9_-]+$", link)
    panel.get_by_role("button", name="Copy link").click()
    expect(panel.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    s.shot("forms-activation-link")

    page.reload()
    expect(page.locator("[data-handoff]")).to_have_count(0)
    assert link not in page.content()
    s.check_clean()
