"""List parameters (search, filters, sort, page) and the Page result. No Flask here.

Every list in Origin is paginated server-side: 25 rows by default, at most 100.
Sort keys come from a per-list whitelist; the DAO maps each key to an SQL expression.
Every value is parsed by app.core.params: a filter whose value breaks its rule is dropped, and
``ListQuery.ignored`` says so in words the list page shows (never a 500, never a silent wrong list).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from math import ceil
from typing import Any, Mapping, Sequence, Union

from app.core.params import MAX_TEXT, clean_text, parse_date, parse_id, parse_int

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
MAX_SEARCH = MAX_TEXT

# A filter's kind: "id" (a database id), "date" (YYYY-MM-DD, 1900-2100), "text", or the allowed values.
FilterKind = Union[str, Sequence[str]]
_RULES = {"id": "a record number", "date": "a date (YYYY-MM-DD, years 1900 to 2100)"}


def _check(kind: FilterKind, value: str) -> bool:
    if kind == "id":
        return parse_id(value) is not None
    if kind == "date":
        return parse_date(value) is not None
    if kind == "text":
        return True
    return value in tuple(kind)


@dataclass(frozen=True)
class ListQuery:
    sort: str
    direction: str = "asc"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    q: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def descending(self) -> bool:
        return self.direction == "desc"

    def filter(self, name: str) -> str:
        return self.filters.get(name, "")

    def filter_int(self, name: str) -> int | None:
        """The filter as a database id (None when absent; invalid values never get this far)."""
        return parse_id(self.filters.get(name))

    def filter_date(self, name: str) -> date | None:
        return parse_date(self.filters.get(name))

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.filters)

    def with_page(self, page: int) -> "ListQuery":
        return replace(self, page=page)

    @classmethod
    def from_args(
        cls,
        args: Mapping[str, Any],
        sorts: Sequence[str],
        default_sort: str,
        default_direction: str = "asc",
        filters: Sequence[str] | Mapping[str, FilterKind] = (),
        labels: Mapping[str, str] | None = None,
        defaults: Mapping[str, str] | None = None,
    ) -> "ListQuery":
        """Lenient parsing: unknown sort keys fall back to the default; a bad page number or filter value
        is dropped and named in ``ignored``. ``filters`` maps each name to its kind (a bare sequence of
        names means free text); ``defaults`` applies when a filter is absent (e.g. status=active: archived
        rows stay hidden unless asked for; an explicit empty value means "all")."""
        kinds: Mapping[str, FilterKind] = filters if isinstance(filters, Mapping) else {n: "text" for n in filters}
        labels = labels or {}
        ignored: list[str] = []
        sort = clean_text(args.get("sort"))
        sort = sort if sort in sorts else default_sort
        direction = clean_text(args.get("dir")).lower()
        direction = direction if direction in ("asc", "desc") else default_direction
        page = _page_number(args.get("page"), 1, MAX_PAGE, "page", ignored)
        per_page = _page_number(args.get("per_page"), DEFAULT_PER_PAGE, MAX_PER_PAGE, "per_page", ignored)
        q = clean_text(args.get("q"), MAX_SEARCH)
        chosen = {}
        for name, kind in kinds.items():
            if name not in args and defaults and name in defaults:
                chosen[name] = defaults[name]
                continue
            value = clean_text(args.get(name), MAX_SEARCH)
            if not value:
                continue
            if _check(kind, value):
                chosen[name] = value
            else:
                label = labels.get(name, name.replace("_", " "))
                rule = _RULES.get(kind) if isinstance(kind, str) else "one of the listed choices"
                ignored.append(f"The {label} filter was ignored: “{value[:40]}” is not {rule or 'valid'}.")
        return cls(sort=sort, direction=direction, page=page, per_page=per_page, q=q, filters=chosen,
                   ignored=tuple(ignored))


def _page_number(raw: Any, default: int, maximum: int, name: str, ignored: list[str]) -> int:
    text = clean_text(raw)
    if not text:
        return default
    value = parse_int(text, 1, 10**18)
    if value is None:
        ignored.append(f"The {name.replace('_', ' ')} “{text[:20]}” is not a positive whole number; "
                       f"{default} was used.")
        return default
    return min(value, maximum)


@dataclass
class Page:
    items: list[dict]
    total: int
    query: ListQuery
    # True when the count stopped at a cap (BaseDAO.fetch_page_capped): ``total`` is then cap + 1 and the
    # page shows "10,000+"; the pages beyond the cap are not offered (a filter or another sort narrows).
    capped: bool = False

    @property
    def total_label(self) -> str:
        return f"{self.total - 1:,}+" if self.capped else f"{self.total:,}"

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.query.per_page))

    @property
    def page(self) -> int:
        return self.query.page

    @property
    def has_prev(self) -> bool:
        return self.query.page > 1

    @property
    def has_next(self) -> bool:
        return self.query.page < self.pages

    @property
    def first_index(self) -> int:
        return 0 if not self.items else self.query.offset + 1

    @property
    def last_index(self) -> int:
        return self.query.offset + len(self.items)
