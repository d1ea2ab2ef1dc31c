"""Stored XSS: a script payload saved in every text field of every form renders escaped on every page
that shows it (ASVS 4.0.3 V5.3.1/V5.3.3; figure 9 of shared/docs/security-reliability.md §7).

The forms are found as tests/fuzz_forms_test.py finds them (every POST form on every page each role
can open, anonymous visitors included, in the fuzz world where every form appears), and posted with
that sweep's valid baseline. Each text field (input type text/search/tel/url and textarea) in turn
gets a payload with a per-field number: ``<script>alert(N)</script>"'><img src=x onerror=alert(N)>``
(a shorter one, ``"'><img src=x onerror=alert(N)>``, when the field refuses the long one). Then:

- the answer to the post (the 422 form that echoes the value, or the page the 303 leads to) holds no
  raw payload;
- afterwards every page (every GET route with the world's ids, as every role) is read: 0 raw
  occurrences of any payload; the escaped form is found for the stored payloads (their view and list
  pages show them).

And reflected XSS: every GET page without an id, as every role, with every query parameter of its GET
forms (plus q, sort, dir, page, next) set to the payload: 0 raw occurrences.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
import shutil

import pytest

import fuzz_forms_test as ff  # the form discovery, baselines and undo steps of the hostile-input sweep
import security_support as sec
from tests import fuzz_support as fz
from tests.conftest import csrf_token

TEXT_TYPES = {"text", "search", "tel", "url", "textarea"}
RAW = re.compile(r"<script>alert\(\d+\)</script>|<img src=x onerror=alert\(\d+\)>")


def long_payload(n: int) -> str:
    return f"<script>alert({n})</script>\"'><img src=x onerror=alert({n})>"


def short_payload(n: int) -> str:
    return f"\"'><img src=x onerror=alert({n})>"


ESCAPED = re.compile(r"&lt;img src=x onerror=alert\((\d+)\)&gt;")


@pytest.fixture(scope="module")
def school(sqlite_template, ram_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stored_xss")
    target = ram_dir / "xss.sqlite3"  # hundreds of posts, most of them commits
    shutil.copyfile(sqlite_template, target)
    yield ff._build(f"sqlite:///{target}", tmp)
    sec.restore_hashing()


def _pages(school, role) -> list[str]:
    pages = []
    for ids in [{}] + school.ids.get(role, []):
        for rule in school.app.url_map.iter_rules():
            if "GET" not in rule.methods or "static" in rule.endpoint or rule.endpoint in (
                    "audit.export", "documents.download", "auth.logout"):
                continue
            url = ff._url(rule, ids)
            if url and url not in pages:
                pages.append(url)
    return pages


def test_a_script_payload_in_every_text_field_renders_escaped_everywhere(school):
    app = school.app
    raw_hits, stored, tried, refused = [], {}, 0, 0
    seen_escaped = set()  # payload numbers found escaped on a page that shows a stored record
    number = 0
    for role in ("anonymous", "student", "instructor", "staff", "admin"):
        session = ff.Session(school, role)
        forms = ff._discover(school, session)
        for endpoint in sorted(set(forms) - ff.EXCLUDED):
            page, form = forms[endpoint]
            overrides = ff.OVERRIDES.get((endpoint, role), ff.OVERRIDES.get(endpoint))
            keep = tuple(overrides or ())
            action = form["action"]
            carry = {}  # payloads already accepted by this form stay in its later posts (an edit form keeps them all)
            for name, spec in form["fields"].items():
                if spec["type"] not in TEXT_TYPES or name == "csrf_token" or name in keep:
                    continue
                tried += 1
                for make in (long_payload, short_payload):
                    number += 1
                    data = fz.fresh_unique(fz.baseline(form, school.next(), overrides), school.next(), form, keep)
                    data.update(carry)
                    data[name] = make(number)
                    client = session.client
                    if role == "anonymous":
                        session.client = client = app.test_client()
                        token = csrf_token(client, action if endpoint == "activation.activate" else "/auth/login")
                    else:
                        token = session.token
                    if "csrf_token" in data:
                        data["csrf_token"] = token
                    response = client.post(action, data=ff._payload(data, form["multipart"]),
                                           content_type="multipart/form-data" if form["multipart"] else None)
                    body = response.get_data(as_text=True)
                    if response.status_code in (302, 303) and response.headers["Location"].startswith("/"):
                        shown = client.get(response.headers["Location"])  # the record's page (or the list)
                        page_html = shown.get_data(as_text=True)
                        seen_escaped.update(int(n) for n in ESCAPED.findall(page_html))
                        body += page_html
                        shown.close()
                    response.close()
                    raw_hits += [(role, endpoint, name, "answer", m) for m in RAW.findall(body)]
                    if response.status_code < 400:
                        stored[number] = (role, endpoint, name)
                        carry[name] = data[name]
                        action = ff._after_success(school, session, endpoint, action)
                        break
                    refused += 1
        if role != "anonymous":
            assert session.alive(), role
    # every page, as every role, after everything was stored
    pages = 0
    for role in ("student", "instructor", "staff", "admin"):
        session = ff.Session(school, role)
        for url in _pages(school, role):
            response = session.client.get(url)
            if response.status_code == 200 and response.mimetype == "text/html":
                html = response.get_data(as_text=True)
                pages += 1
                raw_hits += [(role, url, "page", m) for m in RAW.findall(html)]
                seen_escaped.update(int(n) for n in ESCAPED.findall(html))
            response.close()
    shown = {n for n in stored if n in seen_escaped}
    print(f"stored XSS: {tried} text fields, {len(stored)} payloads stored ({refused} refused by validation), "
          f"{pages} pages read, {len(shown)} stored payloads found escaped, {len(raw_hits)} raw occurrences")
    assert not raw_hits, raw_hits[:20]
    assert tried > 100 and len(stored) > 50
    unseen = sorted(set(stored.values()) - {stored[n] for n in shown})
    print("stored, never shown on an HTML page:", unseen)
    assert len(shown) * 3 > len(stored) * 2, unseen[:40]  # most stored payloads are really on a page read


def test_a_script_payload_in_every_query_parameter_is_never_reflected_raw(school):
    """Reflected XSS: every GET page without an id, as every role, with each parameter of its GET forms
    (and q, sort, dir, page, next) set to the payload: 0 raw occurrences."""
    raw_hits, requests = [], 0
    for role in ("anonymous", "student", "instructor", "staff", "admin"):
        session = ff.Session(school, role)
        for rule in school.app.url_map.iter_rules():
            if rule.arguments or "GET" not in rule.methods or "static" in rule.endpoint or rule.endpoint in (
                    "audit.export", "auth.logout"):
                continue
            first = session.client.get(rule.rule)
            names = {"q", "sort", "dir", "page", "next"}
            if first.status_code == 200 and first.mimetype == "text/html":
                names |= {n for form in fz.parse_forms(first.get_data(as_text=True)) if form["method"] == "get"
                          for n in form["fields"]}
            first.close()
            query = {name: long_payload(900 + i) for i, name in enumerate(sorted(names))}
            response = session.client.get(rule.rule, query_string=query)
            requests += 1
            if response.mimetype == "text/html":
                raw_hits += [(role, rule.rule, m) for m in RAW.findall(response.get_data(as_text=True))]
            response.close()
    print(f"reflected XSS: {requests} requests with every query parameter set to the payload, {len(raw_hits)} raw")
    assert requests > 100 and not raw_hits, raw_hits[:20]
