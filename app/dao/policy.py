"""PolicyDAO: each branch's booking policy (``branch_booking_policies``, one row per branch).

A branch without a row has the defaults (app/services/policy.py); the row is written on the first
edit. Minutes and days are local wall-clock quantities in the branch's zone.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from app.dao.base import BaseDAO

BOOKING_FIELDS = ("min_notice_minutes", "horizon_days", "max_lessons_per_week", "cancel_cutoff_minutes",
                  "students_any_instructor", "slot_grid_minutes", "buffer_minutes")
# the branch's fees (migration 0018, services/packages.py): money or NULL (no fee), and whether a no-show
# draws a package credit
FEE_FIELDS = ("late_cancel_fee", "no_show_fee", "no_show_consumes")
FIELDS = BOOKING_FIELDS + FEE_FIELDS


class PolicyDAO(BaseDAO):
    def for_branch(self, branch_id: int) -> dict | None:
        """The branch's stored policy row joined to the branch (``branch_exists``, ``branch_timezone``);
        None when the branch does not exist. Policy columns are NULL when the branch has no row."""
        return self.db.fetch_one(
            "SELECT b.id AS branch_id, b.timezone AS branch_timezone, p.branch_id AS policy_branch_id, "  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            + ", ".join(f"p.{f}" for f in FIELDS) + ", p.updated_at, p.updated_by"
            " FROM branches b LEFT JOIN branch_booking_policies p ON p.branch_id = b.id WHERE b.id = :id",
            {"id": branch_id},
        )

    def save(self, branch_id: int, values: Mapping[str, Any], user_id: int | None, now: datetime,
             exists: bool) -> None:
        """Insert the branch's row, or update it when ``exists`` (the caller read it in the same
        transaction); every policy field is written."""
        row = {f: values[f] for f in FIELDS}
        if exists:
            sets = ", ".join(f"{f} = :{f}" for f in FIELDS)
            self.db.execute(
                f"UPDATE branch_booking_policies SET {sets}, updated_at = :now, updated_by = :user"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                " WHERE branch_id = :branch_id",
                {**row, "now": now, "user": user_id, "branch_id": branch_id})
        else:
            self.db.insert("branch_booking_policies",
                           {"branch_id": branch_id, **row, "updated_at": now, "updated_by": user_id})
