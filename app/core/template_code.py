"""Compiled templates shared by every Flask app of a process.

Jinja compiles a template once per environment, and every ``create_app`` makes a new environment: a
process that builds many apps (the test suite builds one per test, a CLI command one per run) parsed and
compiled the same templates again each time, 5-20 ms apiece. This bytecode cache keeps the compiled code
in memory, keyed by template name and file and checked against the source's checksum, so an edited
template is compiled again (Jinja's own rule). Code objects hold no environment: each app still runs the
template with its own globals and filters."""
from __future__ import annotations

import threading

from jinja2.bccache import Bucket, BytecodeCache


class SharedTemplateCode(BytecodeCache):
    """An in-memory bytecode cache of at most ``limit`` templates (the project has about 160)."""

    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self._codes: dict[str, tuple[str, object]] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self._codes.get(bucket.key)
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is None:
            return
        with self._lock:
            if bucket.key in self._codes or len(self._codes) < self.limit:
                self._codes[bucket.key] = (bucket.checksum, bucket.code)

    def clear(self) -> None:
        with self._lock:
            self._codes.clear()

    def __len__(self) -> int:
        return len(self._codes)


TEMPLATE_CODE = SharedTemplateCode()
