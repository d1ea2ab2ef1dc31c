"""Branches: admin creates and edits; admin and staff list and view (staff: their own branch only).

The original had create only (no edit) and audited ``branch_created`` without a snapshot; here both
create and edit are audited with before/after snapshots in the same transaction as the change.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from app.core.database import Database
from app.core.errors import NotFound, PermissionDenied
from app.core.pagination import ListQuery, Page
from app.dao.branch import FIELDS, SORTS, BranchDAO
from app.services import audit
from app.services.scope import Actor

LIST_SORTS = tuple(SORTS)
DEFAULT_SORT = "name"


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Only the branch fields; blank text becomes NULL, e-mail is trimmed."""
    row = {}
    for name in FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            value = value.strip() or None
        row[name] = value
    return row


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator can change branches.")


def list_branches(db: Database, actor: Actor, query: ListQuery) -> Page:
    if not actor.is_office:
        raise PermissionDenied("Branches are for office staff.")
    return BranchDAO(db).list_page(query, only_id=actor.branch_filter())


def get_branch(db: Database, actor: Actor, branch_id: int) -> dict:
    """The branch, or NotFound when it does not exist or is outside the actor's scope."""
    actor.require_branch(branch_id)
    branch = BranchDAO(db).find(branch_id)
    if branch is None:
        raise NotFound("Branch not found")
    return branch


def branch_detail(db: Database, actor: Actor, branch_id: int, today: date) -> dict:
    branch = get_branch(db, actor, branch_id)
    return {"branch": branch, "counts": BranchDAO(db).counts(branch_id, today)}


def create_branch(db: Database, actor: Actor, data: Mapping[str, Any], now: datetime) -> int:
    _require_admin(actor)
    row = _clean(data)
    dao = BranchDAO(db)
    with db.transaction():
        branch_id = dao.insert(row, now)
        audit.record(db, actor, "branch_created", "branch", branch_id, now=now, after=row)
    return branch_id


def update_branch(db: Database, actor: Actor, branch_id: int, data: Mapping[str, Any], now: datetime) -> None:
    _require_admin(actor)
    row = _clean(data)
    dao = BranchDAO(db)
    with db.transaction():
        current = dao.find(branch_id)
        if current is None:
            raise NotFound("Branch not found")
        before = {name: current[name] for name in FIELDS}
        dao.update(branch_id, row, now)
        audit.record(db, actor, "branch_updated", "branch", branch_id, now=now, before=before, after=row)
