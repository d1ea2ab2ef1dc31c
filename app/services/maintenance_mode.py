"""Maintenance mode (the runbook's Sev 1 switch): the file ``instance/MAINTENANCE``.

The file is the switch, read on every request, so switching needs no restart and works on every
web worker at once (several hosts: the instance folder they share, or the command on each host).
It holds JSON written by ``flask maintenance on``::

    {"message": "...", "since": "2026-12-01T22:55:53Z", "by": "alice", "retry_after": 900,
     "updated_at": "...", "updated_by": "..."}

Any other content still means "on" (backward compatible with ``touch instance/MAINTENANCE``): an empty
or unreadable file gives the default message, plain text is taken as the message; ``since`` is then
the file's modification time and ``by`` its owner. ``MAINTENANCE_MODE=true`` in the settings forces
it on too (without a file: default message, no ``since``); only a restart without it switches that off.

No Flask here: the functions take the instance folder. The file is written atomically (a temporary
file in the same folder, then a rename), so a request never reads half a message.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FILE_NAME = "MAINTENANCE"
DEFAULT_MESSAGE = "Origin is down for maintenance. Please try again shortly."
DEFAULT_RETRY_AFTER = 900  # seconds, the Retry-After header of the 503 page
MAX_RETRY_AFTER = 86400
MAX_MESSAGE = 500
SETTING = "the MAINTENANCE_MODE setting"
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


class MaintenanceError(ValueError):
    """A message or Retry-After value the switch refuses (the text names the option)."""


@dataclass(frozen=True)
class State:
    on: bool
    message: str = DEFAULT_MESSAGE
    since: datetime | None = None  # naive UTC (the storage convention); None when not known
    by: str | None = None  # the OS user who switched it on
    retry_after: int = DEFAULT_RETRY_AFTER
    updated_at: datetime | None = None
    updated_by: str | None = None
    source: str = "off"  # "file", "setting" (MAINTENANCE_MODE) or "off"

    @property
    def since_text(self) -> str | None:
        return _stamp(self.since)

    def as_json(self) -> dict[str, Any]:
        """What the file holds (and what /healthz and the JSON 503 body quote)."""
        data: dict[str, Any] = {"message": self.message, "since": _stamp(self.since), "by": self.by,
                                "retry_after": self.retry_after}
        if self.updated_at is not None:
            data.update(updated_at=_stamp(self.updated_at), updated_by=self.updated_by)
        return data


OFF = State(on=False)


def path_for(instance_path: str | os.PathLike) -> Path:
    return Path(instance_path) / FILE_NAME


def read(instance_path: str | os.PathLike, *, forced: bool = False) -> State:
    """The current state: on when the file exists (whatever it holds) or ``forced`` (MAINTENANCE_MODE)."""
    path = path_for(instance_path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return State(on=True, source="setting") if forced else OFF
    except OSError:  # cannot even look: fail closed, the gate stays shut
        return State(on=True, source="file")
    fallback_since = datetime.fromtimestamp(info.st_mtime, timezone.utc).replace(tzinfo=None, microsecond=0)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:  # switched off between stat and read
        return State(on=True, source="setting") if forced else OFF
    except OSError:  # exists but unreadable (another user's 0600 file): still on
        return State(on=True, since=fallback_since, by=_owner(info.st_uid), source="file")
    return _parse(text, fallback_since, _owner(info.st_uid))


def _parse(text: str, fallback_since: datetime, owner: str | None) -> State:
    stripped = text.strip()
    data: Any = None
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
    if not isinstance(data, dict):  # empty (touch) or plain text
        return State(on=True, message=_clean_message(stripped) or DEFAULT_MESSAGE, since=fallback_since, by=owner,
                     source="file")
    retry = data.get("retry_after")
    retry_after = retry if isinstance(retry, int) and not isinstance(retry, bool) and 1 <= retry <= MAX_RETRY_AFTER \
        else DEFAULT_RETRY_AFTER
    return State(
        on=True,
        message=_clean_message(data.get("message")) or DEFAULT_MESSAGE,
        since=_parse_stamp(data.get("since")) or fallback_since,
        by=_text(data.get("by")) or owner,
        retry_after=retry_after,
        updated_at=_parse_stamp(data.get("updated_at")),
        updated_by=_text(data.get("updated_by")),
        source="file",
    )


def switch_on(instance_path: str | os.PathLike, *, now: datetime, by: str, message: str | None = None,
              retry_after: int | None = None) -> tuple[State, bool]:
    """Write the switch file; returns (new state, was it already on). Already on: the message and
    Retry-After change (``None`` keeps the current ones), ``since`` and ``by`` stay, and
    ``updated_at``/``updated_by`` say who changed it."""
    message = check_message(message)
    retry_after = check_retry_after(retry_after)
    current = read(instance_path)
    now = now.replace(microsecond=0, tzinfo=None)
    if current.on:
        state = State(on=True, message=message or current.message, since=current.since or now, by=current.by or by,
                      retry_after=retry_after or current.retry_after, updated_at=now, updated_by=by, source="file")
    else:
        state = State(on=True, message=message or DEFAULT_MESSAGE, since=now, by=by,
                      retry_after=retry_after or DEFAULT_RETRY_AFTER, source="file")
    _write_atomically(path_for(instance_path), json.dumps(state.as_json(), ensure_ascii=False, indent=2) + "\n")
    return state, current.on


def switch_off(instance_path: str | os.PathLike) -> State:
    """Remove the switch file; returns the state it ended (``OFF`` when it was already off)."""
    current = read(instance_path)
    try:
        path_for(instance_path).unlink()
    except FileNotFoundError:
        return OFF
    return current if current.on else OFF


def check_message(message: str | None) -> str | None:
    if message is None:
        return None
    clean = _clean_message(message)
    if not clean:
        raise MaintenanceError("--message: give the text users see (or leave the option out for the default)")
    if len(clean) > MAX_MESSAGE:
        raise MaintenanceError(f"--message: at most {MAX_MESSAGE} characters (this one has {len(clean)})")
    return clean


def check_retry_after(seconds: int | None) -> int | None:
    if seconds is not None and not 1 <= int(seconds) <= MAX_RETRY_AFTER:
        raise MaintenanceError(f"--retry-after: from 1 to {MAX_RETRY_AFTER} seconds")
    return None if seconds is None else int(seconds)


def audit_switch(db, state: State, *, was_on: bool, switched_on: bool, now: datetime) -> int:
    """The audit row of a switch from the command line (no signed-in user: the system actor)."""
    from app.services import audit

    who = state.updated_by if (switched_on and was_on) else state.by
    if not switched_on:
        return audit.record(db, None, "maintenance_off", None, None, now=now,
                            details=f"by {who or 'unknown'} on the command line (on since {state.since_text or 'unknown'})"[:255])
    if was_on:
        return audit.record(db, None, "maintenance_updated", None, None, now=now,
                            details=f"by {who}: {state.message} (Retry-After {state.retry_after} s)"[:255])
    return audit.record(db, None, "maintenance_on", None, None, now=now,
                        details=f"by {who}: {state.message} (Retry-After {state.retry_after} s)"[:255])


# --------------------------------------------------------------------------- helpers

def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{FILE_NAME}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # the web server's user must read a file root wrote (mkstemp makes 0600)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def _clean_message(value: Any) -> str:
    return " ".join(str(value).split()) if isinstance(value, str) else ""


def _text(value: Any) -> str | None:
    return value.strip()[:100] or None if isinstance(value, str) else None


def _stamp(value: datetime | None) -> str | None:
    return value.strftime(_STAMP) if value is not None else None


def _parse_stamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, _STAMP)
    except ValueError:
        return None


def _owner(uid: int) -> str | None:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return None
