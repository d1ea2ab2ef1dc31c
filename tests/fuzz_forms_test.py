if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

"""Hostile input sweep: every form on every page an admin can open, posted with junk in every field.

No response may be a 500, whatever the input. Forms are discovered from the pages themselves, so a
new form is covered as soon as a page shows it.
"""
import re
from html.parser import HTMLParser

import pytest

from tests.conftest import login

JUNK = ["", "x" * 6000, "-1", "NaN", "1e309", "2026-02-30", "99999999999999999999999999",
        "<script>alert(1)</script>", "'; DROP TABLE users; --", "\u202e\u0000bad", "12:99", "0.001"]


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self._current = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._current = {"action": attrs.get("action") or "", "fields": {}, "multipart": "multipart" in (attrs.get("enctype") or "")}
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "select", "textarea") and attrs.get("name"):
            self._current["fields"][attrs["name"]] = (tag, attrs.get("type") or "", attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


TABLES = {"student_id": "students", "instructor_id": "instructors", "branch_id": "branches",
          "vehicle_id": "vehicles", "staff_id": "staff_profiles", "course_id": "courses", "audit_id": "audit_trail",
          "document_id": "documents", "note_id": "notes", "window_id": "instructor_unavailability",
          "log_id": "vehicle_service_logs", "user_id": "users"}


def _pages(app):
    """Every GET page, with each id parameter set to a real row of the seeded school."""
    from app.core.flask_db import get_db

    with app.app_context():
        db = get_db()
        first = {name: db.fetch_value(f"SELECT MIN(id) AS id FROM {table}") for name, table in TABLES.items()}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or "static" in rule.endpoint or rule.endpoint.startswith(("audit.export", "documents.")):
            continue
        if not set(rule.arguments) <= set(TABLES):  # e.g. activation tokens: not a page with forms to fuzz
            continue
        yield re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(first[m.group(1)]), rule.rule)


def test_no_form_answers_500_to_hostile_input(seeded):
    client = seeded.test_client()
    assert login(client, "admin@origin.com").status_code == 302
    forms, seen = [], set()
    for path in _pages(seeded):
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        parser = FormParser()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            action = form["action"] or path
            if action.startswith("/auth/logout") or (action, tuple(form["fields"])) in seen:
                continue
            seen.add((action, tuple(form["fields"])))
            forms.append((path, action, form))
    assert len(forms) >= 10, "the sweep found too few forms to mean anything"
    for path, action, form in forms:
        for junk in JUNK:
            data = {}
            for name, (tag, kind, value) in form["fields"].items():
                if name == "csrf_token":
                    data[name] = value
                elif kind == "file":
                    continue
                else:
                    data[name] = junk
            response = client.post(action, data=data,
                                   content_type="multipart/form-data" if form["multipart"] else None)
            assert response.status_code < 500, (path, action, junk[:20], response.status_code)
        assert client.get("/dashboard/").status_code == 200, f"session lost after posting {action}"
