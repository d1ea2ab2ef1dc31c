"""Hypothesis over every JSON endpoint: never a 500 (ASVS 4.0.3 V5.1.3/V5.1.4, V7.4.1; figure 9 of
shared/docs/security-reliability.md §7). The forms are fuzzed by tests/fuzz_forms_test.py.

The endpoints are discovered from app.url_map (every rule under /api/, every method it declares), and
each is called as every role its @roles_required names, signed in, with the CSRF header, on the access
matrix's world (side A's ids in the URL: the role's own lesson, so the request reaches the service):

- GET: query strings of the API's parameter names (and unknown ones) with hostile and generated values;
- POST/PATCH: JSON bodies (objects of known and unknown keys with any JSON value: nulls, booleans, huge
  integers, floats, text, nested lists and objects), non-object JSON, malformed JSON and wrong content
  types.

Asserted: 0 responses of 500 or more, every answer is JSON, and each session still works afterwards.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import security_support as sec
from tests import fuzz_support as fz

BASE = "http://localhost"
# The APIs' parameter and field names (services/scheduling.py, self_service.py, availability.py,
# outcomes.py, portal.py and the api_* blueprints), plus names no endpoint knows.
KEYS = ["accept_warnings", "branch_id", "cancel_reason", "date", "date_from", "date_to", "duration_minutes",
        "end", "end_time", "event_type", "instructor_id", "lesson_topic", "notes", "pickup_location", "reason",
        "scheduled_date", "start", "start_time", "status", "student_feedback", "student_id", "student_rating",
        "correction_reason", "vehicle_id", "enrollment_id", "topic", "page", "zz_unknown", "__proto__"]
EXAMPLES = 25  # generated requests per endpoint, method and role (plus the fixed ones)

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
                    st.sampled_from(fz.HOSTILE), fz.generated())
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=6), inner, max_size=3), max_leaves=6)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12))
arbitrary_bodies = st.one_of(st.dictionaries(keys, values, max_size=7), values)
queries = st.dictionaries(keys, st.one_of(st.sampled_from(fz.HOSTILE), fz.generated()), max_size=5)
FIXED_RAW = [(b"", "application/json"), (b"{", "application/json"), (b"[]", "application/json"),
             (b"null", "application/json"), (b'{"date": "2030-01-01"}', "text/plain"),
             ("\ufeff{}".encode(), "application/json"), (b"\xff\xfe", "application/json"),
             (json.dumps({"status": "cancelled", "cancel_reason": fz.LONG}).encode(), "application/json"),
             (json.dumps({"duration_minutes": 2**64, "start_time": "25:61", "date": "0000-00-00"}).encode(),
              "application/json")]
FIXED_QUERIES = [{k: v} for k in ("date_from", "start", "instructor_id", "duration_minutes", "branch_id")
                 for v in ("", "\x00", "9" * 40, "2026-02-30", "-1", fz.LONG)]


@pytest.fixture(scope="module")
def site(sqlite_template, tmp_path_factory):
    app, world = sec.build_world(tmp_path_factory.mktemp("json_fuzz"), sqlite_template,
                                 LOGIN_MAX_FAILURES=10**6, LOGIN_MAX_FAILURES_PER_IP=10**6)
    yield app, world
    sec.restore_hashing()


def _bodies(ids):
    """A valid-looking booking/move body of side A with one or two fields replaced by anything (so the
    request gets past the parser), or an arbitrary body."""
    valid = {"student_id": ids["student_id"], "instructor_id": ids["instructor_id"], "vehicle_id": ids["vehicle_id"],
             "date": "2030-03-13", "start_time": "10:00", "end_time": "11:00", "duration_minutes": 60,
             "event_type": "lesson", "pickup_location": "Main St"}
    mutated = st.tuples(st.dictionaries(st.sampled_from(sorted(valid)), values, min_size=1, max_size=2),
                        st.sets(st.sampled_from(sorted(valid)), max_size=3)).map(
        lambda change: {k: v for k, v in {**valid, **change[0]}.items() if k not in change[1] or k in change[0]})
    return st.one_of(mutated, mutated, arbitrary_bodies)


def _api_endpoints(app):
    return sorted(((rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
                   for method in sorted(rule.methods - {"HEAD", "OPTIONS"})), key=lambda x: (x[0].rule, x[1]))


def test_every_json_endpoint_survives_arbitrary_input_without_a_500(site):
    app, world = site
    endpoints = _api_endpoints(app)
    assert len(endpoints) >= 9 and {m for _, m in endpoints} >= {"GET", "POST", "PATCH"}
    problems, sent, covered, statuses = [], 0, set(), Counter()
    for role in ("admin", "staff", "instructor", "student"):
        browser = sec.sign_in(app, world["a"]["emails"][role], base=BASE)
        token = browser.csrf("/dashboard/")
        for rule, method in endpoints:
            if role not in sec.declared(app, rule):
                continue
            url = sec.url_for_rule(rule, world["a"])
            covered.add((rule.endpoint, method))

            def call(**kwargs):
                nonlocal sent
                response = browser.open(url, method, headers={"X-CSRFToken": token}, **kwargs)
                sent += 1
                statuses[response.status_code] += 1
                if response.status_code >= 500 or response.mimetype != "application/json":
                    problems.append((role, method, url, response.status_code, response.mimetype,
                                     repr(kwargs)[:160]))
                response.close()

            if method == "GET":
                for query in FIXED_QUERIES:
                    call(query_string=query)

                @settings(max_examples=EXAMPLES, **fz.SETTINGS)
                @given(queries)
                def run(query):
                    call(query_string=query)
            else:
                for raw, content_type in FIXED_RAW:
                    call(data=raw, content_type=content_type)

                @settings(max_examples=EXAMPLES, **fz.SETTINGS)
                @given(_bodies(world["a"]))
                def run(body):
                    call(data=json.dumps(body), content_type="application/json")
            run()
        browser.responses.clear()
        assert browser.get("/dashboard/").status_code == 200, role  # the session survived
    print(f"JSON fuzz: {len(covered)} endpoint methods, {sent} requests, {len(problems)} problems, {dict(statuses)}")
    # the generated requests reach the services (accepted or refused by a rule), not only the parsers
    assert statuses[200] + statuses[201] > 20 and statuses[422] + statuses[409] > 100
    assert covered == {(r.endpoint, m) for r, m in endpoints}, "an API endpoint no role was fuzzed as"
    assert not problems, problems[:20]
