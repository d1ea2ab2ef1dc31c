"""List parameters (search, filters, sort, page) and the Page result. No Flask here.

Every list in Origin is paginated server-side: 25 rows by default, at most 100.
Sort keys come from a per-list whitelist; the DAO maps each key to an SQL expression.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from math import ceil
from typing import Any, Mapping, Sequence

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_SEARCH = 100


def _positive_int(raw: Any, default: int) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return default
    return value if value >= 1 else default


@dataclass(frozen=True)
class ListQuery:
    sort: str
    direction: str = "asc"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    q: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def descending(self) -> bool:
        return self.direction == "desc"

    def filter(self, name: str) -> str:
        return self.filters.get(name, "")

    def filter_int(self, name: str) -> int | None:
        raw = self.filters.get(name, "")
        return int(raw) if raw.isdigit() else None

    def with_page(self, page: int) -> "ListQuery":
        return replace(self, page=page)

    @classmethod
    def from_args(
        cls,
        args: Mapping[str, Any],
        sorts: Sequence[str],
        default_sort: str,
        default_direction: str = "asc",
        filters: Sequence[str] = (),
    ) -> "ListQuery":
        """Lenient parsing: unknown sort keys, bad page numbers and oversized pages fall back to defaults."""
        sort = str(args.get("sort", "") or "")
        sort = sort if sort in sorts else default_sort
        direction = str(args.get("dir", "") or "").lower()
        direction = direction if direction in ("asc", "desc") else default_direction
        per_page = min(_positive_int(args.get("per_page"), DEFAULT_PER_PAGE), MAX_PER_PAGE)
        q = " ".join(str(args.get("q", "") or "").split())[:MAX_SEARCH]
        chosen = {}
        for name in filters:
            value = str(args.get(name, "") or "").strip()[:MAX_SEARCH]
            if value:
                chosen[name] = value
        return cls(sort=sort, direction=direction, page=_positive_int(args.get("page"), 1),
                   per_page=per_page, q=q, filters=chosen)


@dataclass
class Page:
    items: list[dict]
    total: int
    query: ListQuery

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
