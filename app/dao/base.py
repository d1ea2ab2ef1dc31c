"""BaseDAO: holds a Database and small mapping helpers. No SQL of its own."""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping, Union

from app.core.database import Database
from app.core.pagination import ListQuery, Page

CENT = Decimal("0.01")
# A sort map's value: one ORDER BY expression, or several (each gets the direction).
SortExpressions = Union[str, tuple[str, ...]]


def money(value: Any) -> Decimal:
    """Normalise a money value from either driver (SQLite may hand back float/int) to 2 dp."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards made literal, for ``LIKE :p ESCAPE '!'`` (the same on both databases):
    ``!`` becomes ``!!``, ``%`` becomes ``!%`` and ``_`` becomes ``!_``."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def like_pattern(term: str) -> str:
    """A LIKE pattern matching ``term`` anywhere; use with ``ESCAPE '!'``."""
    return f"%{escape_like(term)}%"


def profile_ids(user_alias: str, prefix: str) -> str:
    """Columns ``<prefix>_staff_id`` and ``<prefix>_instructor_id``: the profile pages of the account
    ``user_alias`` (NULL when it has none), so a page can link a person's name without a per-row query."""
    return (f"(SELECT MIN(psp.id) FROM staff_profiles psp WHERE psp.user_id = {user_alias}.id) AS {prefix}_staff_id,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            f" (SELECT MIN(pin.id) FROM instructors pin WHERE pin.user_id = {user_alias}.id) AS {prefix}_instructor_id")


class BaseDAO:
    def __init__(self, db: Database):
        self.db = db

    def users_table(self, prefix_search: bool) -> str:
        """``users u`` for a list joined to the accounts; a search by the start of a name (``prefix_search``)
        picks its matches through the name, e-mail and phone indexes and sorts them, so on MariaDB
        idx_users_name is kept out of the ORDER BY: walking it in order and testing every user on the way
        is what the optimiser would otherwise do (200,000 at scale L)."""
        if prefix_search and self.db.backend == "mysql":
            return "users u IGNORE INDEX FOR ORDER BY (idx_users_name)"
        return "users u"

    @staticmethod
    def order_clause(sorts: Mapping[str, SortExpressions], query: ListQuery, tiebreak: str) -> str:
        """ORDER BY text from a whitelist {sort key: SQL expression, or a tuple of them}.

        Every expression gets the chosen direction; an unknown key falls back to the first entry.
        ``tiebreak`` (the row's id) is added last, unless the expressions already end on an id column
        (e.g. students by name end on ``u.id``, so the order follows idx_users_name to the end).
        """
        chosen = sorts.get(query.sort) or next(iter(sorts.values()))
        expressions = (chosen,) if isinstance(chosen, str) else tuple(chosen)
        if not expressions[-1].endswith(".id"):
            expressions += (tiebreak,)
        direction = "DESC" if query.descending else "ASC"
        return ", ".join(f"{e} {direction}" for e in expressions)

    def fetch_page_picked(
        self,
        from_where: str,
        columns: str,
        joins: str,
        params: dict[str, Any],
        order_by: str,
        query: ListQuery,
        pick: str = "s.id",
    ) -> Page:
        """Like fetch_page, for wide or aggregated rows: the page's ids are picked first (narrow rows,
        index order, LIMIT), then only those rows are joined and their per-row subqueries run.

        ``from_where`` is "FROM ... WHERE ..." using the same aliases as ``joins``; ``joins`` must
        start with the table of ``pick`` joined on ``pick.pick_id``.
        """
        total = int(self.db.fetch_value("SELECT COUNT(*) AS n " + from_where, params) or 0)
        last_page = max(1, -(-total // query.per_page))
        if query.page > last_page:
            query = query.with_page(last_page)
        items = self.db.fetch_all(
            f"SELECT {columns} FROM (SELECT {pick} AS pick_id {from_where} ORDER BY {order_by}"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            f" LIMIT :page_limit OFFSET :page_offset) pick {joins} ORDER BY {order_by}",
            {**params, "page_limit": query.per_page, "page_offset": query.offset},
        )
        return Page(items=items, total=total, query=query)

    def fetch_page_capped(
        self,
        from_where: str,
        columns: str,
        joins: str,
        params: dict[str, Any],
        order_by: str,
        query: ListQuery,
        pick: str = "s.id",
        cap: int = 10_000,
        total: int | None = None,
        over_cap: bool = False,
    ) -> Page:
        """fetch_page_picked with a capped count (issue 13): the count reads at most ``cap`` + 1 matching
        rows, so a list of 200,000 rows costs what 10,000 do; ``page.capped`` says the count stopped
        ("10,000+") and the pager offers the first ``cap`` rows' pages. A caller that has already counted
        the rows exactly (with its totals) passes ``total``: no count statement then; one that knows the
        rows are far more than ``cap`` (a maintained summary) passes ``over_cap``: "cap+", no count either."""
        counted = total is not None
        if over_cap and not counted:
            total = int(cap) + 1
        elif total is None:
            total = int(self.db.fetch_value(
                f"SELECT COUNT(*) AS n FROM (SELECT 1 AS one {from_where} LIMIT :count_cap) capped",  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                {**params, "count_cap": int(cap) + 1}) or 0)
        last_page = max(1, -(-total // query.per_page))
        if query.page > last_page:
            query = query.with_page(last_page)
        items = self.db.fetch_all(
            f"SELECT {columns} FROM (SELECT {pick} AS pick_id {from_where} ORDER BY {order_by}"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            f" LIMIT :page_limit OFFSET :page_offset) pick {joins} ORDER BY {order_by}",
            {**params, "page_limit": query.per_page, "page_offset": query.offset},
        )
        return Page(items=items, total=total, query=query, capped=not counted and total > cap)

    def fetch_page(
        self,
        select_sql: str,
        count_sql: str,
        params: dict[str, Any],
        order_by: str,
        query: ListQuery,
    ) -> Page:
        """Two queries per list page: the count, and one page of rows in a whitelisted order.

        ``order_by`` must come from the DAO's own sort whitelist, never from the request.
        A page number past the end is clamped to the last page.
        """
        total = int(self.db.fetch_value(count_sql, params) or 0)
        last_page = max(1, -(-total // query.per_page))
        if query.page > last_page:
            query = query.with_page(last_page)
        items = self.db.fetch_all(
            f"{select_sql} ORDER BY {order_by} LIMIT :page_limit OFFSET :page_offset",
            {**params, "page_limit": query.per_page, "page_offset": query.offset},
        )
        return Page(items=items, total=total, query=query)


def as_datetime(value: Any):
    """Aggregates (MAX, MIN) lose SQLite's declared type; parse text back to datetime."""
    if value is None or isinstance(value, datetime):
        return value
    from app.core.database import _parse_datetime

    return _parse_datetime(str(value))
