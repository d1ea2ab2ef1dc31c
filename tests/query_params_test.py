"""Query strings: one parser (app/core/params.py), ASCII digits only, bounded ids and pages, dates 1900-2100.

``str.isdigit()`` is true for "²" and "٣", and ``int("²")`` raises: that turned /students/?branch=² and
friends into 500s. A bad value is now dropped and the list page says so; it is never a 500.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date

import pytest

from app.core.pagination import ListQuery
from app.core.params import MAX_ID, clean_text, parse_date, parse_id, parse_int
from tests.conftest import login

HOSTILE_NUMBERS = ["²", "٣", "１２", "1²", "-1", "0", "1e3", "0x10", " 12 ", "12.0", "+5", "9" * 25,
                   str(MAX_ID + 1), "\x00", "NaN", "1_000", "١٢٣"]


@pytest.mark.parametrize("raw", HOSTILE_NUMBERS)
def test_ids_are_ascii_digits_in_the_unsigned_int_range(raw):
    expected = 12 if raw.strip() == "12" else None
    assert parse_id(raw) == expected


def test_parse_int_bounds_and_signs():
    assert parse_id(str(MAX_ID)) == MAX_ID and parse_id("1") == 1
    assert parse_int("-3", -5, 5) == -3 and parse_int("-3", 0, 5) is None
    assert parse_int("6", 0, 5) is None and parse_int(True, 0, 5) is None
    assert parse_int(4, 0, 5) == 4


@pytest.mark.parametrize("raw,expected", [
    ("2026-09-27", date(2026, 9, 27)), ("1900-01-01", date(1900, 1, 1)), ("2100-12-31", date(2100, 12, 31)),
    ("1899-12-31", None), ("2101-01-01", None), ("0001-01-01", None), ("9999-12-31", None),
    ("2026-02-30", None), ("20226-01-01", None), ("2026-1-5", None), ("٢٠٢٦-٠١-٠١", None), ("", None),
    ("2026-09-27T10:00", None), ("27/09/2026", None),
])
def test_dates_are_iso_between_1900_and_2100(raw, expected):
    assert parse_date(raw) == expected


def test_clean_text_drops_controls_and_bidi_overrides():
    assert clean_text("ab\x00c\u202e d\n\te ") == "abc d e"
    assert len(clean_text("x" * 500)) == 100


def test_list_query_drops_bad_filters_and_says_so():
    query = ListQuery.from_args({"branch": "²", "status": "deleted", "page": "٣", "per_page": "100000",
                                 "when": "9999-12-31", "q": " a\x00b "},
                                ["name"], "name",
                                filters={"branch": "id", "status": ("active", "archived"), "when": "date"},
                                labels={"when": "date"})
    assert query.filters == {} and query.page == 1 and query.per_page == 100 and query.q == "ab"
    assert len(query.ignored) == 4
    assert any("branch filter was ignored" in note for note in query.ignored)
    assert any("date filter was ignored" in note for note in query.ignored)


def test_list_query_defaults_apply_only_when_the_parameter_is_absent():
    kinds = {"status": ("active", "archived")}
    assert ListQuery.from_args({}, ["name"], "name", filters=kinds, defaults={"status": "active"}).filters == \
        {"status": "active"}
    assert ListQuery.from_args({"status": ""}, ["name"], "name", filters=kinds,
                               defaults={"status": "active"}).filters == {}
    assert ListQuery.from_args({"status": "archived"}, ["name"], "name", filters=kinds,
                               defaults={"status": "active"}).filters == {"status": "archived"}


LIST_PAGES = ["/students/", "/instructors/", "/fleet/", "/staff/", "/branches/", "/courses/", "/audit/"]
PARAMS = ["branch", "course", "page", "per_page", "user_id", "entity_id", "status", "date_from", "date_to"]


HOSTILE_VALUES = ["²", "٣", "9" * 30, "\x00", "0001-01-01", "9999-12-31", "-1"]


def test_list_pages_never_answer_500_to_hostile_query_strings(seeded):
    """Every value on every list page in every parameter, one seeded app and one sign-in per backend (GETs
    that only read: each request meets the same data whatever was asked before)."""
    client = seeded.test_client()
    login(client, "admin@origin.com")
    failures = []
    for value in HOSTILE_VALUES:
        for path in LIST_PAGES:
            for name in PARAMS:
                response = client.get(path, query_string={name: value})
                if response.status_code != 200:
                    failures.append((path, name, value, response.status_code))
    assert failures == []


def test_a_dropped_filter_is_named_on_the_page(seeded):
    client = seeded.test_client()
    login(client, "admin@origin.com")
    for path in ("/students/", "/instructors/", "/fleet/", "/staff/"):
        html = client.get(path, query_string={"branch": "²"}).get_data(as_text=True)
        assert "The branch filter was ignored" in html, path
