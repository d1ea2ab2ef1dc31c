"""One-time page hand-offs: a value a POST produced (an activation link) shown once on the page it
redirects to, kept server-side instead of in the session cookie (Flask's cookie is signed, not
encrypted, so anything flashed can be read by whoever holds the cookie).

``create`` stores the payload under the SHA-256 of a random key and returns the key for the redirect
URL (``?handoff=<key>``); ``take`` returns it once, to the user who created it, and deletes it; rows
expire after ``HANDOFF_MINUTES``; ``purge_expired`` removes the leftovers (run from a command).
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any, Mapping

from app.core.database import Database
from app.dao.handoff import HandoffDAO
from app.services.auth import hash_token

HANDOFF_MINUTES = 15
KEY_BYTES = 24
MAX_KEY_LENGTH = 64


def create(db: Database, user_id: int, kind: str, payload: Mapping[str, Any], now: datetime) -> str:
    """Store ``payload`` (JSON-serialisable) for ``user_id`` only; returns the random key."""
    key = secrets.token_urlsafe(KEY_BYTES)
    HandoffDAO(db).insert(hash_token(key), user_id, kind, json.dumps(dict(payload), ensure_ascii=False), now,
                          now + timedelta(minutes=HANDOFF_MINUTES))
    return key


def take(db: Database, key: str | None, user_id: int | None, kind: str, now: datetime) -> dict | None:
    """The payload once, for its own viewer; None for a missing, foreign, expired or already shown key."""
    if not key or user_id is None or len(key) > MAX_KEY_LENGTH:
        return None
    dao = HandoffDAO(db)
    with db.transaction():
        row = dao.find_usable(hash_token(key), user_id, kind, now)
        if row is None or not dao.delete(row["id"]):
            return None
    payload = json.loads(row["payload"])
    return {**payload, "handoff_expires_at": row["expires_at"]}


def purge_expired(db: Database, now: datetime) -> int:
    """Delete hand-offs that were never shown and have expired; returns how many."""
    with db.transaction():
        return HandoffDAO(db).delete_expired(now)
