"""The `next` target after sign-in never sends the browser to another host (open redirect), and no
hostile value answers 500: through the real sign-in POST and the GET of /auth/login?next=... ."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re

from app.core.auth import safe_next
from tests.conftest import DEMO_PASSWORD, csrf_token

ADMIN = "admin@origin.com"

HOSTILE = [
    "//evil.example",
    "/\t/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https://evil.example",
    "http:evil",
    "http://localhost@evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/%0A/evil",
    "/%09/evil.example",
    "/\n/evil",
    "/\r\n/evil",
    "\x00//evil.example",
    "/\x7f/evil",
    " //evil",
    "\t//evil.example",
    "/%5C%5Cevil",
    "/%5cevil.example",
    "/%2F/evil.example",
    "///evil.example",
    "/.//evil",
    "/%2e%2e//evil",
    "/" + "a" * 3000,
    "\uff0f\uff0fevil.example",          # fullwidth solidus
    "/\u202e/evil.example",             # right-to-left override
    "/%E2%80%AE/evil.example",          # the same, percent-encoded
    "/\u2028/evil.example",             # line separator
    "/\u3000/evil.example",             # ideographic space
    "/\u200b/evil.example",             # zero-width space
    "/\x85/evil.example",               # C1 next-line
]

SAFE = [
    "/account/password",
    "/students/?q=mason&page=2",
    "/students/?q=Jos%C3%A9%20Mason",
    "/students/?q=José",
    "/students/12",
    "/dashboard/",
]

_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))


def browser_view(location: str) -> str:
    """A Location value the way a browser's URL parser reads it (WHATWG: C0 controls and spaces
    stripped at both ends, tab/CR/LF removed anywhere, backslash read as slash)."""
    return re.sub(r"[\t\r\n]", "", location.strip(_C0_AND_SPACE)).replace("\\", "/")


def assert_stays_on_host(location: str, value: str) -> None:
    seen = browser_view(location)
    if seen.startswith("http://localhost/"):  # an absolute URL to ourselves is fine too
        seen = seen[len("http://localhost"):]
    assert seen.startswith("/") and not seen.startswith("//"), (value, location)
    assert not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", seen), (value, location)


def sign_in(app, value: str):
    client = app.test_client()
    token = csrf_token(client)
    return client.post("/auth/login", query_string={"next": value},
                       data={"email": ADMIN, "password": DEMO_PASSWORD, "csrf_token": token})


def test_hostile_next_values_fall_back_to_the_dashboard_and_never_500(seeded):
    assert len(HOSTILE) >= 15
    problems = []
    for value in HOSTILE:
        response = sign_in(seeded, value)
        if response.status_code != 302:
            problems.append((value, response.status_code))
            continue
        location = response.headers["Location"]
        assert_stays_on_host(location, value)
        if not location.endswith("/dashboard/"):
            problems.append((value, location))
    assert problems == []


def test_login_page_drops_a_hostile_next_from_its_form(seeded):
    client = seeded.test_client()
    for value in HOSTILE:
        response = client.get("/auth/login", query_string={"next": value})
        assert response.status_code == 200, value
        action = re.search(r'<form method="post" action="([^"]*)"', response.get_data(as_text=True)).group(1)
        assert action == "/auth/login", (value, action)


def test_local_paths_are_kept(seeded):
    for value in SAFE:
        response = sign_in(seeded, value)
        assert response.status_code == 302, value
        location = response.headers["Location"]
        assert_stays_on_host(location, value)
        assert not location.endswith("/dashboard/") or value == "/dashboard/", (value, location)
        assert location.startswith("/"), location


def test_safe_next_rules():
    from app.core.auth import NEXT_MAX_LENGTH

    assert safe_next("/students/?") == "/students/"  # request.full_path ends with "?" without a query
    assert safe_next("/students/?q=a%2F%2Fb") == "/students/?q=a%2F%2Fb"  # a query cannot change the host
    assert safe_next("/" + "a" * (NEXT_MAX_LENGTH - 1)) is not None
    assert safe_next("/" + "a" * NEXT_MAX_LENGTH) is None
    assert safe_next("") is None and safe_next(None) is None
    for value in HOSTILE:
        assert safe_next(value) is None, value


def test_anonymous_request_is_sent_to_sign_in_with_its_own_path(seeded):
    client = seeded.test_client()
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login?next=/account/password")
