"""Figures kept in the worker process while the data they were computed from has not changed.

The office dashboard and the conflicts panel's counts are aggregates over index ranges of a chain's
lessons and invoices (the overdue amount alone probes the payments of 12,000 invoices at scale L:
25-40 ms). Several people look at them all day, mostly when nothing has changed since the last look. A
figure set is therefore kept under its key (the figure's name and the asker's scope) together with:

- the data's version it was computed on (audit_chain.last_data_id, which every audited data change
  moves and sign-ins, refusals and exports leave, services/audit.NO_DATA_CHANGE; and the maintained
  summaries' last refresh, stat_freshness): one small read per page tells whether anything changed;
- the moment it was computed: it is reused for at most ``FIGURE_CACHE_SECONDS`` (60 s by default), so
  the figures that move with the clock alone (lessons awaiting an outcome, the next lessons) and any
  change made outside the application are at most that old. The page says "as of" that moment.

A booking, a payment, an outcome (any audited change) therefore gives fresh figures on the next view.
Each process keeps at most ``MAX_ENTRIES`` sets (oldest out first); several processes or hosts each
keep their own, which is harmless: every copy is checked against the same data version. Callers get a
shallow copy and must not change nested values. No Flask here.
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

    def get(self, key: Hashable, stamp: Any, max_age_seconds: float, compute: Callable[[], dict]) -> tuple[dict, bool]:
        """(figures, reused): the kept figures of ``key`` when they were computed on ``stamp`` less than
        ``max_age_seconds`` ago, else ``compute()`` (kept for the next asker). ``max_age_seconds`` <= 0:
        always computed, nothing kept."""
        if max_age_seconds <= 0:
            return compute(), False
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == stamp and now - hit[1] < max_age_seconds:
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
