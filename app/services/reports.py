"""Reports (admin and staff; staff their own branch): the figures of each report page and its CSV rows.
No Flask here; the SQL is in app/dao/report.py. What every figure means: docs/reports.md.

- Scope comes from the Actor alone: admin the whole school or the branch chosen with ``?branch=``;
  staff their own branch whatever ``?branch=`` says (a foreign branch is ignored, and the page says
  so); a staff account without a branch sees nothing of any branch (``no_branch``) and costs no query.
  Instructors and students have no reports (403, like every office-only module).
- Lessons and payments come from the maintained summaries (stat_instructor_month, stat_revenue_month,
  refreshed by ``flask refresh-stats``): those reports take a MONTH range (``date_from``/``date_to`` as
  ``YYYY-MM`` or any day of the month; at most 36 months) and print when the summary was refreshed.
  Retention and progress (stat_enrolment_progress), lessons to licence (stat_licence_pass) and invoice
  ageing on the refresh day (stat_invoice_owing) read the summaries of migration 0029 and print when they
  were refreshed too; an ageing as of any other (past) date is computed live from invoices, payments and
  credit notes (exact, slower: one pass over the open invoices), and says so. Compliance and the KPI
  cards read the raw tables through indexes.
- Bad input is a 400 naming the field (``ReportInputError``): a value that is not a date (or is outside
  1900-2100), a range whose start is after its end or longer than the report allows, an unknown
  branch. A page number past the end shows the last page; none of it is ever a 500.
- CSV cells are spreadsheet-safe (audit.csv_safe: a cell starting with = + - @ tab or CR gets a
  leading quote).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterator, Mapping

from app.core.database import Database
from app.core.errors import AppError, PermissionDenied
from app.core.pagination import ListQuery, Page
from app.core.params import MAX_DATE, MIN_DATE, clean_text, parse_date, parse_id
from app.dao.branch import BranchDAO
from app.dao.report import AGEING_SORTS, INSTRUCTOR_SORTS, ReportQueriesDAO
from app.services import audit
from app.services.scope import NO_BRANCH, Actor


class ReportInputError(AppError):
    """A filter value the report cannot use: 400, naming the field."""

    status = 400


@dataclass(frozen=True)
class ReportKind:
    name: str
    title: str
    summary: str
    range: str               # "month" (summaries), "day" (raw dates), "asof" (ageing), "due" (compliance)
    max_span: int            # months for "month", days otherwise
    default_span: int
    freshness: tuple[str, ...] = ()


REPORTS: dict[str, ReportKind] = {r.name: r for r in (
    ReportKind("revenue", "Revenue", "Payments received by month, branch and course.", "month", 36, 12,
               ("revenue_month",)),
    ReportKind("instructors", "Instructor performance", "Lessons, completions and outcomes per instructor.",
               "month", 36, 12, ("instructor_month", "instructor_branch_month")),
    ReportKind("utilisation", "Instructor utilisation", "Booked hours over working hours, per instructor and branch.",
               "month", 36, 3, ("instructor_month", "instructor_branch_month")),
    ReportKind("cancellations", "Cancellations and no-shows", "Cancelled and no-show events by branch and instructor.",
               "month", 36, 12, ("instructor_month", "instructor_branch_month")),
    ReportKind("retention", "Retention and progress", "Enrolments by status and how far their students have come.",
               "day", 1096, 365, ("enrolment_progress", "enrolment_month")),
    ReportKind("ageing", "Invoice ageing", "Amounts owing on overdue invoices, by days overdue, on a date.",
               "asof", 0, 0),
    ReportKind("licence", "Lessons to licence", "How many lessons students took before passing their drive test.",
               "day", 366, 91, ("licence_pass",)),
    ReportKind("compliance", "Accreditation and vehicle compliance",
               "Instructor accreditations and vehicle services that have expired or fall due.", "due", 0, 60),
)}
MAX_MONTHS = 36
CSV_LIMIT = 50_000           # rows of a list CSV (instructors, invoices, vehicles): far above any branch
DUE_WINDOW_MAX = 3660        # compliance: "due by" at most ten years ahead
BUCKETS = ((1, "0–30 days"), (2, "31–60 days"), (3, "61–90 days"), (4, "Over 90 days"))
PROGRESS_BANDS = ((0, "No lessons yet"), (1, "Under 25 %"), (2, "25–49 %"), (3, "50–74 %"), (4, "75–99 %"),
                  (5, "All lessons"))
ENROLMENT_STATUSES = (("active", "Active"), ("in_progress", "In progress"), ("completed", "Completed"),
                      ("cancelled", "Cancelled"))
LICENCE_BANDS = ((0, 10, "Up to 10"), (11, 20, "11–20"), (21, 30, "21–30"), (31, 40, "31–40"), (41, None, "41 or more"))
INSTRUCTOR_DEFAULT_SORT = {"instructors": ("completed", "desc"), "utilisation": ("utilisation", "desc"),
                           "cancellations": ("cancelled", "desc")}
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
LABELS = {"date_from": "from date", "date_to": "to date", "branch": "branch"}


# --------------------------------------------------------------------------- filters

@dataclass(frozen=True)
class Filters:
    report: ReportKind
    date_from: date | None          # month reports: the first month's first day
    date_to: date                   # month reports: the last month's first day; ageing: the as-of date
    branch_id: int | None           # the scope the figures cover (None: the whole school)
    chosen_branch: int | None       # admin's ?branch= (None: all)
    today: date
    notes: tuple[str, ...] = ()
    no_branch: bool = False

    @property
    def monthly(self) -> bool:
        return self.report.range == "month"

    @property
    def month_end(self) -> date:
        return _next_month(self.date_to) - timedelta(days=1)

    def args(self) -> dict[str, str]:
        """The filters as query arguments (links to other reports, the CSV, the pager)."""
        out = {"date_to": self._text(self.date_to)}
        if self.date_from is not None:
            out["date_from"] = self._text(self.date_from)
        if self.chosen_branch is not None:
            out["branch"] = str(self.chosen_branch)
        return out

    def _text(self, day: date) -> str:
        return day.strftime("%Y-%m") if self.monthly else day.isoformat()

    def file_part(self, day: date | None) -> str:
        return "all" if day is None else self._text(day)

    def months(self) -> list[date]:
        out, day = [], self.date_from or self.date_to
        while day <= self.date_to:
            out.append(day)
            day = _next_month(day)
        return out


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _months_back(day: date, n: int) -> date:
    """The first day of the month ``n`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def instructor_default_ranges(today: date) -> list[tuple[date, date]]:
    """The (first month, last month) each instructor report shows by default on ``today``: flask
    refresh-stats sums these into stat_instructor_range (the default page reads one row per instructor)."""
    last = today.replace(day=1)
    return sorted({(_months_back(last, kind.default_span - 1), last) for kind in REPORTS.values()
                   if kind.range == "month" and "instructor_month" in kind.freshness})


def _parse_day_or_month(raw: str, name: str, monthly: bool) -> date:
    text = clean_text(raw)
    match = _MONTH.fullmatch(text)
    value = None
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12 and MIN_DATE.year <= year <= MAX_DATE.year:
            value = date(year, month, 1)
    else:
        value = parse_date(text)
    if value is None:
        rule = "a month (YYYY-MM) or a date (YYYY-MM-DD)" if monthly else "a date (YYYY-MM-DD)"
        raise ReportInputError(f"The {LABELS[name]} “{text[:40]}” is not {rule} between 1900 and 2100.",
                               field=name)
    return value.replace(day=1) if monthly else value


def parse_filters(db: Database, actor: Actor, name: str, args: Mapping[str, Any], today: date) -> Filters:
    """The report's filters from the query string, or ReportInputError naming the field."""
    _require_office(actor)
    kind = REPORTS[name]
    monthly = kind.range == "month"
    raw = {key: clean_text(args.get(key)) for key in ("date_from", "date_to")}
    date_to = _parse_day_or_month(raw["date_to"], "date_to", monthly) if raw["date_to"] else None
    date_from = _parse_day_or_month(raw["date_from"], "date_from", monthly) if raw["date_from"] else None
    if kind.range == "month":
        date_to = date_to or today.replace(day=1)
        date_from = date_from or _months_back(date_to, kind.default_span - 1)
    elif kind.range == "day":
        date_to = date_to or today
        date_from = date_from or date_to - timedelta(days=kind.default_span - 1)
    elif kind.range == "due":
        date_to = date_to or today + timedelta(days=kind.default_span)
        if date_to < today:
            raise ReportInputError("The due-by date is before today: choose today or a later date.", field="date_to")
        if date_to > today + timedelta(days=DUE_WINDOW_MAX):
            raise ReportInputError("The due-by date is more than ten years ahead.", field="date_to")
        date_from = today  # the window runs from today; anything already expired is listed too
    else:
        date_to = date_to or today
    if date_from is not None and date_from > date_to:
        raise ReportInputError("The from date is after the to date: choose a from date on or before the to date.",
                               field="date_from")
    if kind.range == "month":
        span = (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1
        if span > kind.max_span:
            raise ReportInputError(f"The range covers {span} months; a report covers at most {kind.max_span}.",
                                   field="date_from")
    elif kind.range == "day" and (date_to - date_from).days + 1 > kind.max_span:
        raise ReportInputError(f"The range covers {(date_to - date_from).days + 1} days; this report covers at most"
                               f" {kind.max_span}.", field="date_from")
    notes: list[str] = []
    raw_branch = clean_text(args.get("branch"))
    chosen = None
    if actor.is_admin:
        if raw_branch:
            chosen = parse_id(raw_branch)
            if chosen is None or not BranchDAO(db).exists(chosen):
                raise ReportInputError(f"The branch “{raw_branch[:20]}” is not a branch of the school.", field="branch")
        scope = chosen
    else:
        scope = actor.branch_filter()
        if raw_branch and parse_id(raw_branch) != actor.branch_id:
            notes.append("The branch filter was ignored: reports show your own branch.")
    return Filters(report=kind, date_from=date_from, date_to=date_to, branch_id=scope, chosen_branch=chosen,
                   today=today, notes=tuple(notes), no_branch=(scope == NO_BRANCH))


def _require_office(actor: Actor) -> None:
    if not actor.is_office:
        raise PermissionDenied("Reports are for the office.")


def list_query(args: Mapping[str, Any], name: str, page_arg: str = "page") -> ListQuery:
    """Sort and page of a report's list (25 a page)."""
    if name in INSTRUCTOR_DEFAULT_SORT:
        sort, direction = INSTRUCTOR_DEFAULT_SORT[name]
        sorts = list(INSTRUCTOR_SORTS)
    elif name == "ageing":
        sort, direction, sorts = "overdue", "asc", list(AGEING_SORTS)
    else:
        sort, direction, sorts = "", "asc", [""]
    picked = {k: args.get(k) for k in ("sort", "dir")}
    picked["page"] = args.get(page_arg)
    return ListQuery.from_args(picked, sorts, sort, direction)


# --------------------------------------------------------------------------- arithmetic

def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """part / whole as a percentage with one decimal (None when whole is 0)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _decorate_stats(row: dict) -> dict:
    """Rates of one instructor/branch/month row: completion over the events that were due to happen
    and have an outcome (completed + not completed + no-show), cancellations and no-shows over every
    event, utilisation = booked minutes over working minutes."""
    held = row["completed"] + row["not_completed"] + row["no_show"]
    row["completion_rate"] = ratio(row["completed"], held)
    row["cancel_pct"] = ratio(row["cancelled"], row["events"])
    row["no_show_pct"] = ratio(row["no_show"], row["events"])
    row["utilisation_pct"] = ratio(row["booked_minutes"], row["working_minutes"])
    row["booked_hours"] = hours(row["booked_minutes"])
    row["working_hours"] = hours(row["working_minutes"])
    if "first_name" in row:
        row["name"] = f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip()
    return row


def median(histogram: Mapping[int, int]) -> Decimal | None:
    """The median of the values counted in ``histogram`` {value: how many}."""
    n = sum(histogram.values())
    if n == 0:
        return None
    ordered = sorted(histogram.items())

    def nth(k: int) -> int:
        seen = 0
        for value, count in ordered:
            seen += count
            if seen > k:
                return value
        return ordered[-1][0]  # pragma: no cover

    if n % 2:
        return Decimal(nth(n // 2))
    return (Decimal(nth(n // 2 - 1) + nth(n // 2)) / 2).quantize(Decimal("0.1"))


# --------------------------------------------------------------------------- the reports

def _empty(filters: Filters) -> dict:
    return {"filters": filters, "no_branch": True}


def build(db: Database, actor: Actor, name: str, args: Mapping[str, Any], today: date, *,
          for_csv: bool = False) -> dict:
    """Everything the report page ``name`` shows (or, ``for_csv``, every row its CSV holds)."""
    filters = parse_filters(db, actor, name, args, today)
    if filters.no_branch:
        return _empty(filters)
    data = BUILDERS[name](ReportQueriesDAO(db), filters, args, for_csv)
    data.setdefault("filters", filters)
    if filters.report.freshness:
        known = ReportQueriesDAO(db).freshness(filters.report.freshness)
        stamps = [known.get(n) for n in filters.report.freshness]
        data["refreshed_at"] = None if any(s is None for s in stamps) else min(stamps)
    return data


def overview(db: Database, actor: Actor, today: date) -> dict:
    """The reports home: the KPI cards (the original's three, fixed) and this month's revenue."""
    _require_office(actor)
    if actor.lacks_branch:
        return {"no_branch": True, "kpis": {"students": 0, "upcoming_lessons": 0, "overdue_invoices": 0},
                "revenue_month": Decimal("0.00")}
    dao = ReportQueriesDAO(db)
    scope = actor.branch_filter()
    month = today.replace(day=1)
    revenue = dao.revenue_by_month(month, month, scope)
    known = dao.freshness(("instructor_totals", "revenue_month", "branch_totals"))
    stamps = [known.get("instructor_totals"), known.get("revenue_month"), known.get("branch_totals")]
    return {"kpis": dao.kpis(today, scope), "revenue_month": revenue[0]["amount"] if revenue else Decimal("0.00"),
            "refreshed_at": None if None in stamps else min(stamps)}


def _revenue(dao: ReportQueriesDAO, f: Filters, args, for_csv: bool) -> dict:
    if for_csv:
        return {"rows": dao.revenue_rows(f.date_from, f.date_to, f.branch_id)}
    found = {r["month_start"]: r for r in dao.revenue_by_month(f.date_from, f.date_to, f.branch_id)}
    months = [found.get(m) or {"month_start": m, "amount": Decimal("0.00"), "payments": 0} for m in f.months()]
    for m in months:
        m["month_end"] = _next_month(m["month_start"]) - timedelta(days=1)
    total = sum((m["amount"] for m in months), Decimal("0.00"))
    return {"months": months, "total": total, "payments": sum(m["payments"] for m in months),
            "by_branch": dao.revenue_by_branch(f.date_from, f.date_to, f.branch_id),
            "by_course": dao.revenue_by_course(f.date_from, f.date_to, f.branch_id)}


def _instructor_report(dao: ReportQueriesDAO, f: Filters, args, for_csv: bool) -> dict:
    query = list_query(args, f.report.name)
    if for_csv:
        page = dao.instructor_page(query, f.date_from, f.date_to, f.branch_id, limit_all=CSV_LIMIT, total=0)
        page.items = [_decorate_stats(r) for r in page.items]
        return {"page": page}
    totals = _decorate_stats(dao.instructor_totals(f.date_from, f.date_to, f.branch_id))
    page = dao.instructor_page(query, f.date_from, f.date_to, f.branch_id, total=totals["instructors"])
    page.items = [_decorate_stats(r) for r in page.items]
    data = {"page": page, "totals": totals}
    if f.report.name in ("utilisation", "cancellations"):
        data["by_branch"] = [_decorate_stats(r) for r in dao.instructor_by_branch(f.date_from, f.date_to, f.branch_id)]
        found = {r["month_start"]: _decorate_stats(r) for r in dao.instructor_by_month(f.date_from, f.date_to, f.branch_id)}
        data["by_month"] = [found.get(m) or _decorate_stats({"month_start": m, **{k: 0 for k in _ZERO}})
                            for m in f.months()]
    return data


_ZERO = ("events", "lessons", "completed", "cancelled", "no_show", "not_completed", "scheduled", "booked_minutes",
         "working_minutes")


def _retention(dao: ReportQueriesDAO, f: Filters, args, for_csv: bool) -> dict:
    by_status = {s: 0 for s, _ in ENROLMENT_STATUSES}
    bands = {b: 0 for b, _ in PROGRESS_BANDS}
    for row in dao.enrolment_summary(f.date_from, f.date_to, f.branch_id, _whole_months(f.date_from, f.date_to)):
        if row["status"] in by_status:
            by_status[row["status"]] += row["enrolments"]
        if row["status"] in ("active", "in_progress"):
            bands[row["band"]] += row["enrolments"]
    total = sum(by_status.values())
    open_ = by_status["active"] + by_status["in_progress"]
    ended = by_status["completed"] + by_status["cancelled"]
    return {"total": total, "by_status": by_status, "open": open_, "bands": bands,
            "completion_rate": ratio(by_status["completed"], ended),
            "statuses": ENROLMENT_STATUSES, "band_labels": PROGRESS_BANDS}


def _whole_months(d_from: date, d_to: date) -> tuple[date, date] | None:
    """The first and last month start of the calendar months lying wholly inside d_from..d_to (None: none)."""
    first = d_from if d_from.day == 1 else _next_month(d_from)
    last = d_to.replace(day=1) if _next_month(d_to) - timedelta(days=1) == d_to else _months_back(d_to, 1)
    return (first, last) if first <= last else None


def ageing_bounds(as_of: date) -> dict:
    """The due dates that start each bucket: overdue 1-30 days = due from as_of - 30 to as_of - 1."""
    return {"b30": as_of - timedelta(days=30), "b60": as_of - timedelta(days=60), "b90": as_of - timedelta(days=90)}


def _ageing(dao: ReportQueriesDAO, f: Filters, args, for_csv: bool) -> dict:
    query = list_query(args, "ageing")
    out: dict = {}
    summary_day = dao.owing_as_of()
    if summary_day is not None and not clean_text(args.get("date_to")):
        f = replace(f, date_to=summary_day)  # the default: the summary's day (normally today)
        out["filters"] = f
    bounds = ageing_bounds(f.date_to)
    if summary_day is not None and f.date_to == summary_day:  # the maintained amounts: index-only reads
        out["summary"] = True
        out["refreshed_at"] = dao.freshness(("invoice_owing",)).get("invoice_owing")
        found = dao.ageing_summary_buckets(f.date_to, bounds, f.branch_id, f.date_from)
        total = sum(b["invoices"] for b in found)
        if for_csv:
            page = Page(items=_ageing_windows(dao, f, bounds, query, total), total=total, query=query)
        else:
            query, limit, offset = _clamp(query, total)
            page = Page(items=dao.ageing_summary_rows(f.date_to, bounds, f.branch_id, f.date_from, query, limit, offset),
                        total=total, query=query)
    else:
        out["live"] = True
        first = dao.first_issue_date()
        if first is None or f.date_to <= first:  # nothing was issued and due before then: no pass over payments
            found, page = [{"bucket": b, "invoices": 0, "owing": Decimal("0.00")} for b, _ in BUCKETS], \
                Page(items=[], total=0, query=query.with_page(1))
        else:
            found, page = dao.ageing(query, f.date_to, bounds, f.branch_id, f.date_from,
                                     limit_all=CSV_LIMIT if for_csv else None)
    labels = dict(BUCKETS)
    buckets = [{**b, "label": labels[b["bucket"]]} for b in found]
    total = sum(b["invoices"] for b in buckets)
    if isinstance(page.items, list):
        page.items = [_ageing_row(row, f.date_to, labels) for row in page.items]
    else:  # the CSV's windows, decorated as they are read
        page.items = (_ageing_row(row, f.date_to, labels) for row in page.items)
    return {**out, "buckets": buckets, "total_invoices": total,
            "total_owing": sum((b["owing"] for b in buckets), Decimal("0.00")), "page": page}


CSV_WINDOW = 1000            # rows read at a time by a streamed CSV


def _ageing_row(row: dict, as_of: date, labels: dict) -> dict:
    row["days_overdue"] = (as_of - row["due_date"]).days
    row["bucket_label"] = labels[row["bucket"]]
    row["student_name"] = f"{row['student_first_name'] or ''} {row['student_last_name'] or ''}".strip()
    return row


def _ageing_windows(dao: ReportQueriesDAO, f: Filters, bounds: dict, query: ListQuery, total: int):
    """Every owing invoice of the summary, CSV_WINDOW rows at a time (at most CSV_LIMIT): the CSV streams.
    Each window continues just after the previous window's last row (keyset), so the whole CSV reads each
    row once: with OFFSET windows the 58,000 owing invoices of scale L took 3.9 s."""
    done, last = 0, None
    while done < min(total, CSV_LIMIT):
        rows = dao.ageing_summary_rows(f.date_to, bounds, f.branch_id, f.date_from, query,
                                       min(CSV_WINDOW, CSV_LIMIT - done), 0, after=last, for_csv=True)
        if not rows:
            return
        last = dict(rows[-1])  # before the caller decorates it
        yield from rows
        done += len(rows)


def _clamp(query: ListQuery, total: int) -> tuple[ListQuery, int, int]:
    last_page = max(1, -(-total // query.per_page))
    if query.page > last_page:
        query = query.with_page(last_page)
    return query, query.per_page, query.offset


def _licence(dao: ReportQueriesDAO, f: Filters, args, for_csv: bool) -> dict:
    rows = dao.licence_summary(f.date_from, f.date_to, f.branch_id)
    histogram: dict[int, int] = {}
    per_branch: dict[Any, dict[int, int]] = {}
    for r in rows:
        histogram[r["lessons"]] = histogram.get(r["lessons"], 0) + r["students"]
        per_branch.setdefault(r["branch_id"], {})
        per_branch[r["branch_id"]][r["lessons"]] = per_branch[r["branch_id"]].get(r["lessons"], 0) + r["students"]
    names = {b["id"]: b["name"] for b in BranchDAO(dao.db).options()} if per_branch else {}
    branches = []
    for branch_id, counts in per_branch.items():
        branches.append({"branch_id": branch_id, "branch_name": names.get(branch_id) or "No branch",
                         "histogram": sorted(counts.items()), **_licence_figures(counts)})
    branches.sort(key=lambda b: (b["branch_name"], b["branch_id"] or 0))
    bands = []
    for low, high, label in LICENCE_BANDS:
        bands.append({"label": label, "students": sum(n for v, n in histogram.items()
                                                       if v >= low and (high is None or v <= high))})
    return {**_licence_figures(histogram), "bands": bands, "branches": branches, "histogram": sorted(histogram.items())}


def _licence_figures(counts: Mapping[int, int]) -> dict:
    students = sum(counts.values())
    lessons = sum(v * n for v, n in counts.items())
    average = (Decimal(lessons) / students).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if students else None
    return {"students": students, "average": average, "median": median(counts),
            "fewest": min(counts) if counts else None, "most": max(counts) if counts else None}


def _compliance(dao: ReportQueriesDAO, f: Filters, args, for_csv: bool) -> dict:
    today, by = f.today, f.date_to
    instructors = dao.accreditation_summary(today, by, f.branch_id)
    vehicles = dao.service_summary(today, by, f.branch_id)
    i_total = instructors["expired"] + instructors["expiring"] + instructors["missing"]
    v_total = vehicles["overdue"] + vehicles["due"] + vehicles["missing"]
    limit = CSV_LIMIT if for_csv else None
    i_page = dao.accreditation_page(list_query(args, "compliance"), i_total, by, f.branch_id, limit)
    v_page = dao.service_page(list_query(args, "compliance", "vehicle_page"), v_total, by, f.branch_id, limit)
    for row in i_page.items:
        row["name"] = f"{row['first_name'] or ''} {row['last_name'] or ''}".strip()
        expiry = row["accreditation_expiry"]
        row["state"] = "missing" if expiry is None else ("expired" if expiry < today else "expiring")
        row["days"] = None if expiry is None else (expiry - today).days
    for row in v_page.items:
        due = row["next_service_due"]
        row["state"] = "missing" if due is None else ("overdue" if due < today else "due")
        row["days"] = None if due is None else (due - today).days
    return {"instructors": instructors, "vehicles": vehicles, "instructor_page": i_page, "vehicle_page": v_page}


BUILDERS: dict[str, Callable[..., dict]] = {
    "revenue": _revenue, "instructors": _instructor_report, "utilisation": _instructor_report,
    "cancellations": _instructor_report, "retention": _retention, "ageing": _ageing, "licence": _licence,
    "compliance": _compliance,
}


# --------------------------------------------------------------------------- CSV

def _pct(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _month_text(day: date) -> str:
    return day.strftime("%Y-%m")


def export_stamp(db: Database) -> dict:
    """The data version a kept CSV is valid for (services/export_cache.py): the last audited data change
    and the maintained summaries' last refresh."""
    return ReportQueriesDAO(db).export_stamp()


def csv_table(db: Database, actor: Actor, name: str, args: Mapping[str, Any], today: date) -> tuple[Filters, list[str], Iterator[list[str]]]:
    """(filters, header, rows) of report ``name``'s CSV: every cell spreadsheet-safe. ``rows`` is an
    iterator: the ageing CSV reads its invoices CSV_WINDOW at a time as it is written (the response
    streams); the others hold at most a summary's rows (CSV_LIMIT for the lists)."""
    data = build(db, actor, name, args, today, for_csv=True)
    filters = data["filters"]
    header, rows = CSV_COLUMNS[name], iter(())
    if not data.get("no_branch"):
        rows = CSV_ROWS[name](data, filters)
    return filters, list(header), ([audit.csv_safe(v) for v in row] for row in rows)


def _branch_text(row: dict) -> str:
    return row.get("branch_name") or "No branch"


def _csv_instructor_rows(data: dict, f: Filters) -> list[list[Any]]:
    return [[r["instructor_id"], r["name"], _branch_text(r), r["events"], r["lessons"], r["completed"],
             r["not_completed"], r["no_show"], r["cancelled"], r["scheduled"], _pct(r["completion_rate"]),
             _pct(r["cancel_pct"]), _pct(r["no_show_pct"]), r["booked_hours"], r["working_hours"],
             _pct(r["utilisation_pct"])] for r in data["page"].items]


_INSTRUCTOR_COLUMNS = ("instructor_id", "instructor", "branch", "events", "lessons", "completed", "not_completed",
                       "no_show", "cancelled", "scheduled", "completion_rate_pct", "cancelled_pct", "no_show_pct",
                       "booked_hours", "working_hours", "utilisation_pct")
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "revenue": ("month", "branch", "course", "amount", "payments"),
    "instructors": _INSTRUCTOR_COLUMNS, "utilisation": _INSTRUCTOR_COLUMNS, "cancellations": _INSTRUCTOR_COLUMNS,
    "retention": ("measure", "value", "enrolments"),
    "ageing": ("invoice_number", "student", "branch", "due_date", "days_overdue", "bucket", "total", "owing"),
    "licence": ("branch", "lessons_before_pass", "students"),
    "compliance": ("kind", "name", "reference", "branch", "due_date", "state", "days"),
}


def _csv_retention(data: dict, f: Filters) -> list[list[Any]]:
    rows: list[list[Any]] = [["status", label, data["by_status"][s]] for s, label in data["statuses"]]
    rows += [["progress", label, data["bands"][b]] for b, label in data["band_labels"]]
    return rows


def _csv_licence(data: dict, f: Filters) -> list[list[Any]]:
    return [[b["branch_name"], lessons, n] for b in data["branches"] for lessons, n in b["histogram"]]


def _csv_compliance(data: dict, f: Filters) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for r in data["instructor_page"].items:
        rows.append(["accreditation", r["name"], r.get("certification_number") or "", _branch_text(r),
                     r["accreditation_expiry"].isoformat() if r["accreditation_expiry"] else "", r["state"],
                     "" if r["days"] is None else r["days"]])
    for r in data["vehicle_page"].items:
        rows.append(["service", r["name"], r.get("plate_number") or "", _branch_text(r),
                     r["next_service_due"].isoformat() if r["next_service_due"] else "", r["state"],
                     "" if r["days"] is None else r["days"]])
    return rows


CSV_ROWS: dict[str, Callable[[dict, Filters], list[list[Any]]]] = {
    "revenue": lambda d, f: [[_month_text(r["month_start"]), _branch_text(r), r.get("course_title") or "",
                              r["amount"], r["payments"]] for r in d["rows"]],
    "instructors": _csv_instructor_rows, "utilisation": _csv_instructor_rows, "cancellations": _csv_instructor_rows,
    "retention": _csv_retention,
    "ageing": lambda d, f: ([r["invoice_number"], r["student_name"], _branch_text(r), r["due_date"].isoformat(),
                             r["days_overdue"], r["bucket_label"], r["total"], r["owing"]] for r in d["page"].items),
    "licence": _csv_licence,
    "compliance": _csv_compliance,
}

