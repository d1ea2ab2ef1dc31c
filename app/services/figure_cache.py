"""Figures kept in the worker process while the data they were computed from has not changed.

The office dashboard and the conflicts panel's counts are aggregates over index ranges of a chain's
lessons and invoices (the overdue amount alone probes the payments of 12,000 invoices at scale L:
25-40 ms). Several people look at them all day. A figure set is kept under its key (the figure's name
and the asker's scope) with the moment it was computed and the data's version it was computed on
(audit_chain.last_data_id, which every audited data change moves and sign-ins, refusals and exports
leave, services/audit.NO_DATA_CHANGE; and the maintained summaries' last refresh, stat_freshness: one
small read). ``get`` reuses it when it is

- younger than ``any_change_seconds``, whatever changed since (the dashboard: ``FIGURE_CACHE_SECONDS``,
  30 s by default, so a busy chain, whose data version moves every few seconds, still computes its
  figures at most twice a minute per scope and worker; the page says "as of" when), or
- computed on the same data version and younger than ``unchanged_seconds`` (ten times that for the
  dashboard; the conflicts panel uses only this rule, with ``FIGURE_CACHE_SECONDS``, so a new
  unavailability or downtime is on the panel at once): this bounds what moves with the clock alone
  (lessons awaiting an outcome, the next lessons) and any change made outside the application.

Each process keeps at most ``MAX_ENTRIES`` sets (oldest out first); several processes or hosts each
keep their own, which is harmless: every copy obeys the same two limits. Callers get a shallow copy and
must not change nested values. No Flask here.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Hashable, Mapping

from app.core.database import Database
from app.dao.report import ReportQueriesDAO

MAX_ENTRIES = 512


class FigureCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic):
        self._entries: OrderedDict[Hashable, tuple[Any, float, dict]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._clock = clock

    def get(self, key: Hashable, stamp: Any, compute: Callable[[], dict], *, any_change_seconds: float = 0,
            unchanged_seconds: float = 0) -> tuple[dict, bool]:
        """(figures, reused): the kept figures of ``key`` when younger than ``any_change_seconds``, or
        computed on ``stamp`` and younger than ``unchanged_seconds``; else ``compute()``, kept for the next
        asker. ``stamp`` may be a callable (e.g. ``lambda: data_version(db)``): it is called only when
        something may be kept. Both limits 0: always computed, nothing kept, no stamp read."""
        limit = max(any_change_seconds, unchanged_seconds)
        if limit <= 0:
            return compute(), False
        if callable(stamp):
            stamp = stamp()
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                age = now - hit[1]
                if age < any_change_seconds or (hit[0] == stamp and age < unchanged_seconds):
                    self._entries.move_to_end(key)
                    return dict(hit[2]), True
        value = compute()
        with self._lock:
            self._entries[key] = (stamp, now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return dict(value), False

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def max_age(settings: Mapping[str, Any] | None) -> int:
    """``FIGURE_CACHE_SECONDS`` from the settings (0 when absent or not a number: off)."""
    try:
        return max(0, int((settings or {}).get("FIGURE_CACHE_SECONDS") or 0))
    except (TypeError, ValueError):
        return 0


def data_version(db: Database) -> tuple:
    """The data's version (the last audited data change, the summaries' last refresh): one small read."""
    stamp = ReportQueriesDAO(db).export_stamp()
    return stamp.get("audit_id"), stamp.get("refreshed_at")
