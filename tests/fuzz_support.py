"""Helpers of the hostile-input sweep (tests/fuzz_forms_test.py): form discovery, valid baselines, values.

- ``FormParser`` reads every <form> of a page (POST and GET): its action, fields in order, the options of
  selects and which checkboxes/options are chosen.
- ``baseline(form, n)`` fills a form with values its route accepts (the page's own values where it has
  them, otherwise a valid value chosen by field type and name); unique fields (e-mail, plate) get a
  fresh value for every post so a create route keeps accepting the baseline.
- ``values_for(name, field)`` picks the hostile values of a field or query parameter (GENERIC plus those
  of its kind: number, date, datetime, time, choice, e-mail, text; ``HOSTILE`` is all of them);
  ``generated()`` is the hypothesis strategy that adds generated ones; ``sweep()`` runs a check over
  both, deterministically and bounded.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

LONG = "x" * 6000
# Every field gets these; then the values of its kind (below); then hypothesis-generated ones.
GENERIC = ["", "²", "\x00", LONG]
BY_KIND = {
    "text": ["\u202eevil", "' OR '1'='1' --", "<script>alert(1)</script>", "line\nbreak", "9" * 40, "١٢"],
    "number": [str(2**64), str(-(2**64)), "1e309", "NaN", "-0", "٣", "１２"],
    "date": ["0001-01-01", "9999-12-31", "2026-02-30", "20226-01-01", "٢٠٢٦-٠١-٠١"],
    "datetime": ["0001-01-01T00:00", "9999-12-31T23:59", "2026-02-30T09:00", "20226-01-01T09:00",
                 "2026-01-01T25:61"],
    "time": ["24:00", "23:60", "٠٩:٠٠", "-1:00"],
    "choice": [str(2**64), "-1", "٣", "１２", "NaN"],
    "email": ["x@y", "a@" + "b" * 300 + ".com", "a@b.c\n"],
}
HOSTILE = list(dict.fromkeys(GENERIC + [v for values in BY_KIND.values() for v in values]))
# Where MariaDB differs from SQLite: over-long text, out-of-range integers, dates MariaDB refuses.
MARIADB_BY_KIND = {
    "text": [LONG, "x" * 300], "email": ["a@" + "b" * 300 + ".com"], "time": [],
    "number": [str(2**64), str(2**31), "-2147483649", "99999999999.99"], "choice": [str(2**64), str(2**31)],
    "date": ["0001-01-01", "9999-12-31", "2026-02-30", "20226-01-01"],
    "datetime": ["0001-01-01T00:00", "9999-12-31T23:59"],
}
NUMERIC_NAMES = ("price", "cost", "rating", "odometer_km", "experience_years", "lesson_count", "page", "per_page",
                 "branch", "course", "user_id", "entity_id")


def kind_of(name: str, field: dict | None = None) -> str:
    """Which BY_KIND list fits a form field or query parameter."""
    kind = (field or {}).get("type", "")
    if kind == "datetime-local" or name.endswith("datetime"):
        return "datetime"
    if kind == "date" or name.endswith(("_date", "date_from", "date_to", "expiry", "_due")):
        return "date"
    if kind == "time" or re.fullmatch(r"(start|end)_\d", name):
        return "time"
    if kind == "number" or name in NUMERIC_NAMES:
        return "number"
    if (field or {}).get("tag") == "select" or kind in ("checkbox", "radio") or name.endswith("_id"):
        return "choice"
    if kind == "email" or "email" in name:
        return "email"
    return "text"


def values_for(name: str, field: dict | None = None, short: bool = False) -> list[str]:
    """GENERIC + the field kind's values; ``short`` keeps the most telling ones (three of the kind)."""
    generic, specific = GENERIC, BY_KIND[kind_of(name, field)]
    if short:
        generic, specific = ["²", LONG], specific[:3]
    return list(dict.fromkeys(generic + specific))


def mariadb_values_for(name: str, field: dict | None = None, short: bool = False) -> list[str]:
    return MARIADB_BY_KIND[kind_of(name, field)]


# What each hostile value tries: values of one class trip a parser or a column the same way, so a field
# is already proven against the class by one of them.
VALUE_CLASS = {
    "": "empty", "²": "non-ASCII digits", "١٢": "non-ASCII digits", "٣": "non-ASCII digits",
    "１２": "non-ASCII digits", "٢٠٢٦-٠١-٠١": "non-ASCII digits", "٠٩:٠٠": "non-ASCII digits",
    "\x00": "control character", "line\nbreak": "control character", "\u202eevil": "control character",
    "a@b.c\n": "control character",
    LONG: "over-long", "9" * 40: "over-long", "a@" + "b" * 300 + ".com": "over-long",
    "' OR '1'='1' --": "markup or SQL", "<script>alert(1)</script>": "markup or SQL",
    str(2**64): "out of range", str(-(2**64)): "out of range", "1e309": "out of range", "-1": "out of range",
    "0001-01-01": "out of range", "9999-12-31": "out of range", "0001-01-01T00:00": "out of range",
    "9999-12-31T23:59": "out of range",
    "NaN": "not a plain number", "-0": "not a plain number",
    "2026-02-30": "impossible date or time", "2026-02-30T09:00": "impossible date or time",
    "2026-01-01T25:61": "impossible date or time", "24:00": "impossible date or time",
    "23:60": "impossible date or time",
    "20226-01-01": "malformed", "20226-01-01T09:00": "malformed", "-1:00": "malformed", "x@y": "malformed",
}
assert set(VALUE_CLASS) == set(HOSTILE), set(VALUE_CLASS) ^ set(HOSTILE)


class Rotation:
    """``values_for`` with one value of each VALUE_CLASS per field instead of all of them: for a field of
    kind K it returns, for every class among GENERIC + BY_KIND[K], the class's next value in turn (a
    counter per kind and class, so consecutive fields of a kind take the class's values one after
    another). Every (field, class) pair is still posted; ``used`` records the values sent and ``offered``
    those values_for() would have sent, so a sweep can assert that every value came round
    (``offered <= used``). ``short`` lists are returned whole unless ``rotate_short``."""

    def __init__(self, rotate_short: bool = False):
        self.rotate_short = rotate_short  # the short lists too: one value of each of their classes
        self.turn: dict[tuple[str, str], int] = {}
        self.used: set[str] = set()
        self.offered: set[str] = set()  # every value values_for() would have given: all must come round

    def __call__(self, name: str, field: dict | None = None, short: bool = False) -> list[str]:
        values = values_for(name, field, short)
        self.offered.update(values)
        if short and not self.rotate_short:
            self.used.update(values)
            return values
        kind = kind_of(name, field) + (" short" if short else "")
        by_class: dict[str, list[str]] = {}
        for value in values:
            by_class.setdefault(VALUE_CLASS[value], []).append(value)
        chosen = []
        for value_class, members in by_class.items():
            turn = self.turn.get((kind, value_class), 0)
            self.turn[(kind, value_class)] = turn + 1
            chosen.append(members[turn % len(members)])
        self.used.update(chosen)
        return chosen

    def every_class(self) -> list[str]:
        """One value of every VALUE_CLASS of HOSTILE (whatever the field's kind), each class's values in turn."""
        by_class: dict[str, list[str]] = {}
        for value in HOSTILE:
            by_class.setdefault(VALUE_CLASS[value], []).append(value)
        chosen = []
        for value_class, members in by_class.items():
            turn = self.turn.get(("any", value_class), 0)
            self.turn[("any", value_class)] = turn + 1
            chosen.append(members[turn % len(members)])
        self.used.update(chosen)
        return chosen


def generated() -> st.SearchStrategy[str]:
    """Hypothesis values on top of HOSTILE: free text (any non-surrogate code point), big integers,
    decimals (NaN/Infinity included), dates and times of any year, written as text."""
    return st.one_of(
        st.text(max_size=40),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.dates().map(str),
        st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
        st.times().map(str),
    )


SETTINGS = dict(derandomize=True, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))


def sweep(check: Callable[[str], None], fixed: list[str], max_examples: int) -> None:
    """``check`` every fixed value, then ``max_examples`` hypothesis-generated ones (same ones every run).

    ``check`` records problems instead of raising, so one run reports every failing value (and
    hypothesis never spends requests shrinking)."""
    for value in fixed:
        check(value)
    if max_examples <= 0:
        return

    @settings(max_examples=max_examples, **SETTINGS)
    @given(generated())
    def run(value):
        check(value)

    run()


class FormParser(HTMLParser):
    """Forms of a page: {"method", "action", "multipart", "fields": {name: Field}} in document order.

    Submit buttons carry no field, as a script's form.submit() posts them, except in a form whose every
    submit button has the same name (a choice of values, like the student's free times: one button per
    time named ``slot``): that name is a hidden field holding the first button's value, what a click on
    it posts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._textarea: dict | None = None
        self._buttons: list[tuple[str | None, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action") or "",
                          "multipart": "multipart" in (attrs.get("enctype") or ""), "fields": {}}
            self._buttons = []
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "button" and (attrs.get("type") or "submit").lower() == "submit":
            self._buttons.append((name, attrs.get("value") or ""))
        elif tag == "input" and (attrs.get("type") or "").lower() in ("submit", "image"):
            self._buttons.append((name, attrs.get("value") or ""))
        if tag in ("input", "select", "textarea") and name:
            field = self._form["fields"].setdefault(name, {
                "tag": tag, "type": (attrs.get("type") or ("select" if tag == "select" else tag)).lower(),
                "value": attrs.get("value") or "", "options": [], "chosen": [],
                "required": "required" in attrs, "multiple": "multiple" in attrs})
            if field["type"] in ("checkbox", "radio"):
                field["options"].append(attrs.get("value") or "on")
                if "checked" in attrs:
                    field["chosen"].append(attrs.get("value") or "on")
            if tag == "select":
                self._select = field
            elif tag == "textarea":
                self._textarea = field
        elif tag == "option" and self._select is not None:
            value = attrs.get("value") or ""
            self._select["options"].append(value)
            if "selected" in attrs:
                self._select["chosen"].append(value)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            names = {n for n, _ in self._buttons}
            if self._form is not None and len(names) == 1 and None not in names and len(self._buttons) > 1:
                name = names.pop()
                self._form["fields"].setdefault(name, {
                    "tag": "button", "type": "hidden", "value": self._buttons[0][1], "options": [], "chosen": [],
                    "required": True, "multiple": False})
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse_forms(html: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


PASSWORD = "Password123!"
NEW_PASSWORD = "Fuzz-Password-456!"
PDF = b"%PDF-1.4\n% fuzz\n"


def _valid_text(name: str, n: int) -> str:
    """A valid value for an empty text-like field, chosen by its name."""
    if "email" in name:
        return f"fuzz{n}@example.com"
    if "plate" in name:
        return f"FZ{n:05d}"
    if "phone" in name:
        return "0400 000 000"
    if "postcode" in name:
        return "3000"
    if name in ("price", "cost"):
        return "100.00"
    if name == "rating":
        return "4.50"
    if name in ("lesson_count", "experience_years"):
        return "3"
    if "odometer" in name:
        return "1000"
    if name == "vin":
        return f"VIN{n:08d}"
    return f"Fuzz {name.replace('_', ' ')} {n}"


def _valid_date(name: str) -> str:
    return "2025-06-02"  # in the past (service dates must not be in the future), inside 1900..2100


def _valid_datetime(name: str) -> str:
    return "2031-03-04T17:00" if "end" in name else "2031-03-04T09:00"


def _valid_time(name: str) -> str:
    return "17:00" if name.startswith("end") else "09:00"


UNIQUE_FIELDS = ("email", "plate_number", "vin")


def baseline(form: dict, n: int, overrides: dict | None = None) -> dict:
    """Valid values for every field of ``form`` (a list for multi-valued fields); ``n`` makes unique fields
    unique. The page's own values are kept, except unique fields of a create form (empty on the page)."""
    data: dict = {}
    for name, field in form["fields"].items():
        kind = field["type"]
        if kind in ("submit", "button", "reset", "image"):
            continue
        if kind == "file":
            data[name] = PDF
            continue
        if kind in ("checkbox", "radio") or field["tag"] == "select":
            chosen = [c for c in field["chosen"] if c] or [o for o in field["options"] if o][:1] or field["chosen"][:1]
            if kind == "checkbox" or field["multiple"]:
                if chosen and field["chosen"]:
                    data[name] = list(field["chosen"])
                continue
            data[name] = chosen[0] if chosen else ""
            continue
        value = field["value"]
        if value.strip():
            data[name] = value
        elif kind == "password":
            data[name] = NEW_PASSWORD
        elif kind == "date":
            data[name] = _valid_date(name)
        elif kind == "datetime-local":
            data[name] = _valid_datetime(name)
        elif kind == "time":
            data[name] = _valid_time(name)
        elif kind == "email":
            data[name] = _valid_text("email", n)
        elif kind == "number":
            data[name] = _valid_text(name, n) if name in ("price", "cost", "rating", "odometer_km") else "3"
        elif kind == "hidden":
            data[name] = value
        else:
            data[name] = _valid_text(name, n)
    data.update(overrides or {})
    return data


def fresh_unique(data: dict, n: int, form: dict, keep=()) -> dict:
    """The baseline with unique fields that were empty on the page renewed for post number ``n``
    (except those in ``keep``, e.g. the e-mail of a sign-in)."""
    out = dict(data)
    for name in UNIQUE_FIELDS:
        if name in out and name not in keep and name in form["fields"] and not form["fields"][name]["value"]:
            out[name] = _valid_text(name, n)
    return out
