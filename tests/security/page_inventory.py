"""The page inventory: every GET page in app.url_map that a role may open, with the URL parameters
filled from the demo data using objects the role owns.

Used by tests/security/accessibility_test.py. A page belongs to a role when the role is among its
declared roles (``@roles_required``, read through ``app.core.auth.allowed_roles``). Public pages
(``is_public``) belong to the anonymous visitor. Library static files are not pages.

Each URL parameter gets a short list of candidate ids. They are the signed-in role's own objects:
every branch for the administrator, the staff member's branch, the instructor's lessons and
students, the student's records. The list is ordered so that the states differ (an upcoming lesson,
one awaiting its outcome, a finished one; an open invoice, then a paid one). The caller opens the
candidates in order and keeps the first one that answers 200, because an outcome form needs a
past lesson while a cancel page needs an upcoming one. A new route with a parameter this module
cannot fill raises ``Unfillable``, so no new page is silently left unchecked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from app.core.auth import ROLES

ANONYMOUS = "anonymous"
AUDIENCES = (ANONYMOUS, *ROLES)
DEMO_EMAILS = {"admin": "admin@origin.com", "staff": "operations@origin.com",
               "instructor": "amelia.ward@origin.com", "student": "jack.mason@student.com"}
LIBRARY_ENDPOINTS = {"static", "bootstrap.static"}  # files, not pages
MAX_CANDIDATES = 5
# Rules without a path parameter that need an id in the query string to show their page (their
# twin rule with the id in the path is filled the usual way): rule -> query parameter.
QUERY_PARAMS = {"/invoices/new": "enrollment_id"}  # the invoice form needs its enrolment (404 without)
_PARAM = re.compile(r"<(?:([^:>]+):)?([^>]+)>")


class Unfillable(AssertionError):
    """A URL parameter the inventory has no own object for."""


@dataclass(frozen=True)
class Page:
    endpoint: str
    rule: str
    urls: tuple[str, ...]  # candidate URLs, to be tried in order


@dataclass
class Owner:
    """Who the role's demo account is: the ids that scope its own objects."""
    role: str
    user_id: int | None = None
    branch_id: int | None = None  # None for the administrator: every branch is theirs
    instructor_id: int | None = None
    student_id: int | None = None
    tokens: dict[str, str] = field(default_factory=dict)  # endpoint -> a live secret for <token>


def audience_of(app, endpoint: str) -> frozenset[str]:
    """The audiences that may open an endpoint: {"anonymous"} when public, else its declared roles."""
    view = app.view_functions[endpoint]
    if getattr(view, "_access_public", False):
        return frozenset({ANONYMOUS})
    return frozenset(getattr(view, "_access_roles", frozenset()))


def get_rules(app, audience: str) -> list:
    """The GET rules of app.url_map the audience may open, sorted by path (library files left out)."""
    return sorted((rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and rule.endpoint not in LIBRARY_ENDPOINTS
                   and audience in audience_of(app, rule.endpoint)), key=lambda r: (r.rule, r.endpoint))


def owner_of(db, role: str) -> Owner:
    if role == ANONYMOUS:
        return Owner(role)
    user = db.fetch_one("SELECT id, branch_id FROM users WHERE email = :e", {"e": DEMO_EMAILS[role]})
    assert user, f"demo account for {role} is missing"
    owner = Owner(role, user_id=user["id"])
    if role == "staff":
        owner.branch_id = db.fetch_value("SELECT branch_id FROM staff_profiles WHERE user_id = :u", {"u": user["id"]})
    elif role == "instructor":
        owner.instructor_id = db.fetch_value("SELECT id FROM instructors WHERE user_id = :u", {"u": user["id"]})
    elif role == "student":
        owner.student_id = db.fetch_value("SELECT id FROM students WHERE user_id = :u", {"u": user["id"]})
    return owner


# --------------------------------------------------------------------------- own objects per parameter
# Each entry: parameter -> function(owner) -> (sql, params) returning rows (id, kind); the first id of
# each kind is a candidate (kinds in the order the SQL sorts them). None = the role owns no such object.

def _branch_clause(owner: Owner, column: str) -> tuple[str, dict]:
    if owner.role == "admin":
        return "1 = 1", {}
    return f"{column} = :branch", {"branch": owner.branch_id}


def _lesson_scope(owner: Owner) -> tuple[str, dict]:
    """Lessons s (schedules joined with enrolments e) that are the owner's."""
    if owner.role == "instructor":
        return "s.instructor_id = :instructor", {"instructor": owner.instructor_id}
    if owner.role == "student":
        return "e.student_id = :student", {"student": owner.student_id}
    return _branch_clause(owner, "s.branch_id")


def _student_scope(owner: Owner) -> tuple[str, dict]:
    """Students st that are the owner's (an instructor's: the ones they teach)."""
    if owner.role == "instructor":
        return ("EXISTS (SELECT 1 FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id"
                " WHERE e.student_id = st.id AND s.instructor_id = :instructor)", {"instructor": owner.instructor_id})
    if owner.role == "student":
        return "st.id = :student", {"student": owner.student_id}
    return _branch_clause(owner, "st.branch_id")


def _office_only(fn):
    def query(owner: Owner):
        return fn(owner) if owner.role in ("admin", "staff") else None
    return query


def _q_schedule(owner):
    where, params = _lesson_scope(owner)
    return ("SELECT s.id, CASE WHEN s.status = 'scheduled' AND s.scheduled_date >= :today THEN 0"
            " WHEN s.status = 'scheduled' THEN 1 WHEN s.status = 'completed' THEN 2 ELSE 3 END"
            " + CASE WHEN s.series_id IS NULL THEN 0 ELSE 10 END AS kind"  # lessons of a series after the others
            " FROM schedules s LEFT JOIN enrollments e ON e.id = s.enrollment_id"
            f" WHERE {where} ORDER BY kind, s.scheduled_date, s.start_time, s.id",
            {**params, "today": date.today()})


def _q_student(owner):
    where, params = _student_scope(owner)
    return f"SELECT st.id, 0 AS kind FROM students st WHERE {where} ORDER BY st.id", params


def _q_instructor(owner):
    if owner.role == "student":
        return None
    if owner.role == "instructor":
        return "SELECT id, 0 AS kind FROM instructors WHERE id = :i", {"i": owner.instructor_id}
    where, params = _branch_clause(owner, "branch_id")
    return f"SELECT id, 0 AS kind FROM instructors WHERE {where} ORDER BY id", params


def _q_invoice(owner):
    if owner.role == "instructor":
        return None
    if owner.role == "student":
        where, params = "e.student_id = :student", {"student": owner.student_id}
    else:
        where, params = _branch_clause(owner, "st.branch_id")
    return ("SELECT i.id, CASE WHEN i.status IN ('issued', 'partial', 'overdue', 'unpaid', 'sent') THEN 0"
            " WHEN i.status = 'paid' THEN 1 ELSE 2 END AS kind FROM invoices i"
            " JOIN enrollments e ON e.id = i.enrollment_id JOIN students st ON st.id = e.student_id"
            f" WHERE {where} ORDER BY kind, i.id", params)


def _q_payment(owner):
    invoices = _q_invoice(owner)
    if invoices is None:
        return None
    sql, params = invoices
    return (f"SELECT p.id, 0 AS kind FROM payments p WHERE p.invoice_id IN (SELECT id FROM ({sql}) inv)"
            " ORDER BY p.id", params)


def _q_document(owner):
    where, params = _student_scope(owner)
    return ("SELECT d.id, 0 AS kind FROM documents d JOIN students st ON st.user_id = d.user_id"
            f" WHERE {where} ORDER BY d.id", params)


def _q_request(owner):
    if owner.role == "student":
        return None
    if owner.role == "instructor":
        return ("SELECT id, 0 AS kind FROM enrollment_requests WHERE instructor_id = :i ORDER BY id",
                {"i": owner.instructor_id})
    where, params = _branch_clause(owner, "st.branch_id")
    return ("SELECT r.id, 0 AS kind FROM enrollment_requests r JOIN students st ON st.id = r.student_id"
            f" WHERE {where} ORDER BY r.id", params)


@_office_only
def _q_branch(owner):
    where, params = _branch_clause(owner, "id")
    return f"SELECT id, 0 AS kind FROM branches WHERE {where} ORDER BY id", params


@_office_only
def _q_vehicle(owner):
    where, params = _branch_clause(owner, "branch_id")
    return f"SELECT id, 0 AS kind FROM vehicles WHERE {where} ORDER BY id", params


@_office_only
def _q_enrollment(owner):
    where, params = _branch_clause(owner, "st.branch_id")
    return ("SELECT e.id, CASE WHEN e.status = 'active' THEN 0 ELSE 1 END AS kind FROM enrollments e"
            f" JOIN students st ON st.id = e.student_id WHERE {where} ORDER BY kind, e.id", params)


@_office_only
def _q_course(owner):
    return "SELECT id, 0 AS kind FROM courses ORDER BY id", {}  # the catalogue is school-wide


@_office_only
def _q_series(owner):
    where, params = _branch_clause(owner, "branch_id")
    return f"SELECT id, 0 AS kind FROM schedule_series WHERE {where} ORDER BY id", params


@_office_only
def _q_communication(owner):
    where, params = _branch_clause(owner, "branch_id")
    return f"SELECT id, 0 AS kind FROM communications WHERE {where} ORDER BY id DESC", params


@_office_only
def _q_reminder(owner):
    where, params = _branch_clause(owner, "u.branch_id")
    return ("SELECT r.id, CASE r.status WHEN 'failed' THEN 0 WHEN 'sent' THEN 1 ELSE 2 END AS kind"
            f" FROM reminders r JOIN users u ON u.id = r.recipient_user_id WHERE {where} ORDER BY kind, r.id", params)


@_office_only
def _q_user(owner):
    where, params = _branch_clause(owner, "branch_id")
    return f"SELECT id, 0 AS kind FROM users WHERE role = 'student' AND {where} ORDER BY id", params


def _q_staff(owner):
    if owner.role != "admin":
        return None
    return "SELECT id, 0 AS kind FROM staff_profiles ORDER BY id", {}


def _q_audit(owner):
    if owner.role != "admin":
        return None
    return "SELECT id, 0 AS kind FROM audit_trail ORDER BY id DESC", {}


OWN_OBJECTS = {
    "schedule_id": _q_schedule, "student_id": _q_student, "instructor_id": _q_instructor,
    "invoice_id": _q_invoice, "payment_id": _q_payment, "document_id": _q_document, "request_id": _q_request,
    "branch_id": _q_branch, "vehicle_id": _q_vehicle, "enrollment_id": _q_enrollment, "course_id": _q_course,
    "series_id": _q_series, "communication_id": _q_communication, "reminder_id": _q_reminder,
    "user_id": _q_user, "staff_id": _q_staff, "audit_id": _q_audit,
}


def candidates(db, owner: Owner, param: str) -> list[str]:
    """Up to MAX_CANDIDATES own ids for a parameter: one per kind first, then the next ones."""
    query = OWN_OBJECTS.get(param)
    if query is None:
        raise Unfillable(f"the page inventory does not know URL parameter <{param}>; add it to OWN_OBJECTS")
    built = query(owner)
    if built is None:
        return []
    sql, params = built
    rows = db.fetch_all(sql, params)
    firsts, rest, seen = [], [], set()
    for row in rows:
        (firsts if row["kind"] not in seen else rest).append(str(row["id"]))
        seen.add(row["kind"])
    return (firsts + rest)[:MAX_CANDIDATES]


def pages(app, db, owner: Owner) -> tuple[list[Page], list[str]]:
    """The owner's pages with candidate URLs, and the GET endpoints that could not be filled (why)."""
    found, unfilled = [], []
    cache: dict[str, list[str]] = {}
    for rule in get_rules(app, owner.role):
        names = [m.group(2) for m in _PARAM.finditer(rule.rule)]
        if not names and rule.rule in QUERY_PARAMS:
            name = QUERY_PARAMS[rule.rule]
            if name not in cache:
                cache[name] = candidates(db, owner, name)
            if not cache[name]:
                unfilled.append(f"{rule.endpoint} {rule.rule}: {owner.role} owns no ?{name}= in the demo data")
                continue
            found.append(Page(rule.endpoint, rule.rule, tuple(f"{rule.rule}?{name}={v}" for v in cache[name])))
            continue
        if not names:
            found.append(Page(rule.endpoint, rule.rule, (rule.rule,)))
            continue
        if len(names) > 1:
            unfilled.append(f"{rule.endpoint} {rule.rule}: more than one parameter; teach page_inventory")
            continue
        name = names[0]
        if name == "token":
            secret = owner.tokens.get(rule.endpoint)
            if secret is None:
                unfilled.append(f"{rule.endpoint} {rule.rule}: no live token (add one in the accessibility fixture)")
                continue
            values = [secret]
        else:
            if name not in cache:
                cache[name] = candidates(db, owner, name)
            values = cache[name]
        if not values:
            unfilled.append(f"{rule.endpoint} {rule.rule}: {owner.role} owns no <{name}> in the demo data")
            continue
        urls = tuple(_PARAM.sub(lambda _m, v=value: v, rule.rule, count=1) for value in values)
        found.append(Page(rule.endpoint, rule.rule, urls))
    return found, unfilled
