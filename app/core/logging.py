"""Logging set-up: one WatchedFileHandler per channel under logs/, a request id on every line.

WatchedFileHandler reopens the file when logrotate renames it, so several
gunicorn workers and cron can share logs/application.log safely.
"""
from __future__ import annotations

import logging
import logging.config
import logging.handlers
import os
from pathlib import Path
from typing import Any, Callable, Mapping

_request_id_provider: Callable[[], str] = lambda: "-"


def set_request_id_provider(provider: Callable[[], str]) -> None:
    """The web layer installs a provider that returns the current request's id."""
    global _request_id_provider
    _request_id_provider = provider


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = _request_id_provider()
        except Exception:  # outside a request
            record.request_id = "-"
        return True


class LogFileHandler(logging.handlers.WatchedFileHandler):
    """WatchedFileHandler that stays closed once closed. A new configuration (``configure_logging`` again:
    another app in the same process, a command after the web app) closes the previous handlers; the
    standard FileHandler reopens its file on the next record it is given, so a record racing the
    reconfiguration (another thread logging meanwhile) left a file open that nothing would close. Such a
    record is dropped: the new handler writes everything after the reconfiguration."""

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is None and getattr(self, "_closed", False):
            return
        super().emit(record)


FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def configure_logging(settings: Mapping[str, Any], channel: str = "application") -> Path:
    """Configure root logging to ``logs/<channel>.log``; returns the log file path."""
    log_dir = Path(settings["LOG_DIR"])
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / f"{channel}.log"
    if not path.exists():  # created 0640 whatever the umask (a log names people: not for every local user)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640))
        except OSError:
            pass  # the handler below reports an unwritable folder
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"request_id": {"()": RequestIdFilter}},
            "formatters": {"standard": {"format": FORMAT}},
            "handlers": {
                "file": {
                    "class": "app.core.logging.LogFileHandler",
                    "filename": str(path),
                    "encoding": "utf-8",
                    "formatter": "standard",
                    "filters": ["request_id"],
                },
                "console": {
                    "class": "logging.StreamHandler",
                    "formatter": "standard",
                    "filters": ["request_id"],
                    "level": "WARNING",
                },
            },
            "loggers": {"flask_wtf.csrf": {"level": "INFO"}},
            "root": {"level": settings.get("LOG_LEVEL", "INFO"), "handlers": ["file", "console"]},
        }
    )
    return path
