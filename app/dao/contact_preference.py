"""ContactPreferenceDAO: each account's per-channel opt-outs (contact_preferences, migration 0021).

No row means every channel is allowed (the original had no consent at all).
"""
from __future__ import annotations

from datetime import datetime

from app.dao.base import BaseDAO

COLUMNS = {"email": "email_opt_out", "sms": "sms_opt_out", "in_app": "in_app_opt_out"}


class ContactPreferenceDAO(BaseDAO):
    def opt_outs(self, user_id: int) -> dict | None:
        """The account's row ({email_opt_out, sms_opt_out, in_app_opt_out} as 0/1), None when it has none."""
        return self.db.fetch_one(
            "SELECT email_opt_out, sms_opt_out, in_app_opt_out, updated_at FROM contact_preferences"
            " WHERE user_id = :user_id", {"user_id": user_id})

    def save(self, user_id: int, *, email_opt_out: bool, sms_opt_out: bool, in_app_opt_out: bool,
             now: datetime) -> None:
        """Write the account's opt-outs (insert or update; call inside a transaction)."""
        values = {"user_id": user_id, "e": int(email_opt_out), "s": int(sms_opt_out), "i": int(in_app_opt_out),
                  "now": now}
        changed = self.db.execute(
            "UPDATE contact_preferences SET email_opt_out = :e, sms_opt_out = :s, in_app_opt_out = :i,"
            " updated_at = :now WHERE user_id = :user_id", values).rowcount
        if not changed:
            self.db.execute(
                "INSERT INTO contact_preferences (user_id, email_opt_out, sms_opt_out, in_app_opt_out, updated_at)"
                " VALUES (:user_id, :e, :s, :i, :now)", values)
