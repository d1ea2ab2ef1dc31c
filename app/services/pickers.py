"""Searchable, paginated pickers (no Flask): the one way a form chooses among rows that grow with the school.

A form control that would otherwise list every instructor, student or vehicle shows the choices already
made plus one page (at most PER_PAGE) of matches for what was typed, in name order. The same reads serve
the JSON endpoint (blueprints/pickers.py, the JavaScript enhancement) and the form pages (no JavaScript:
the search and page buttons re-render the form). Everything is scoped through the Actor: the office
only (admin: every branch, or the one chosen; staff: their own branch, whatever is asked); instructors
and students get NotFound. A chosen id outside that scope is refused with a 422 naming the field.
"""
from __future__ import annotations

from typing import Any, Iterable

from app.core.database import Database
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import ListQuery
from app.core.params import clean_text, parse_id, parse_int
from app.dao.picker import COUNT_CAP, KINDS, PickerDAO
from app.services.scope import Actor

PER_PAGE = 25
MAX_PAGE = 10_000
MAX_QUERY = 100
NOUNS = {"instructor": "instructor", "student": "student", "vehicle": "vehicle"}
VEHICLE_STATUS = {"maintenance": "in maintenance", "in_service": "away for servicing"}


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound("Not found")
    return kind


def scope_branch(actor: Actor, branch_id: Any = None) -> int | None:
    """The branch a picker lists: staff their own whatever is asked (a staff account without a branch:
    NO_BRANCH, which matches nothing), admin the given one (None: all). Anyone else: NotFound."""
    if not actor.is_office:
        raise NotFound("Not found")
    return parse_id(branch_id) if actor.is_admin else actor.branch_filter()


def label(kind: str, row: dict) -> str:
    if kind == "vehicle":
        text = " ".join(p for p in (row.get("name") or "", f"({row['plate_number']})" if row.get("plate_number") else "")
                        if p) or f"Vehicle #{row['id']}"
        if row.get("status") in VEHICLE_STATUS:
            text += f" – {VEHICLE_STATUS[row['status']]}"
        return text
    text = f"{row['first_name']} {row['last_name']}".strip()
    if row.get("status") not in (None, "active"):
        text += " (archived)"
    return text


def hint(kind: str, row: dict) -> str:
    """The second line of an option: the e-mail address, and the branch."""
    parts = [row.get("email") or ""] if kind != "vehicle" else []
    parts.append(row.get("branch_name") or "")
    return " · ".join(p for p in parts if p)


def _item(kind: str, row: dict) -> dict:
    return {"id": int(row["id"]), "label": label(kind, row), "hint": hint(kind, row), "branch_id": row.get("branch_id")}


def search(db: Database, actor: Actor, kind: str, q: Any = "", page: Any = 1, *, branch_id: Any = None,
           enrolled_only: bool = False) -> dict:
    """One page of choices: ``items`` (id, label, hint), ``q`` (cleaned), ``page``, ``pages``, ``total``,
    ``per_page``, ``capped`` (the count stopped at COUNT_CAP) and ``total_label``/``pages_label`` ("1,000+"). A page past the end is the last page; a bad page number is page 1."""
    kind = _kind(kind)
    branch = scope_branch(actor, branch_id)
    text = clean_text(q, MAX_QUERY)
    number = parse_int(clean_text(page), 1, 10**18) or 1
    query = ListQuery(sort="name", page=min(number, MAX_PAGE), per_page=PER_PAGE, q=text)
    result = PickerDAO(db).search(kind, query, branch_id=branch, enrolled_only=enrolled_only)
    plus = "+" if result.capped else ""  # the count stopped at the DAO's cap: "1,000+" matches
    return {"kind": kind, "q": text, "items": [_item(kind, r) for r in result.items], "page": result.page,
            "pages": result.pages, "total": result.total, "per_page": PER_PAGE, "branch_id": branch,
            "capped": bool(result.capped), "total_label": f"{min(result.total, COUNT_CAP):,}{plus}",
            "pages_label": f"{result.pages:,}{plus}"}


def chosen(db: Database, actor: Actor, kind: str, ids: Iterable[Any], *, branch_id: Any = None) -> list[dict]:
    """The chosen ids that exist within the actor's scope, labelled, in the order given (others left out:
    the 422 of check_ids names them)."""
    kind = _kind(kind)
    branch = scope_branch(actor, branch_id)
    wanted = [i for i in (parse_id(v) for v in ids) if i is not None]
    rows = PickerDAO(db).by_ids(kind, wanted)
    out = []
    for i in dict.fromkeys(wanted):
        row = rows.get(i)
        if row is not None and (branch is None or row.get("branch_id") == branch):
            out.append(_item(kind, row))
    return out


def check_ids(db: Database, actor: Actor, kind: str, ids: Iterable[Any], *, field: str, branch_id: Any = None,
              allowed: Iterable[int] = ()) -> list[int]:
    """The chosen ids as integers, or ValidationFailed (422) naming ``field`` when one is malformed, does
    not exist or lies outside the actor's scope. ``allowed``: ids accepted whatever their branch (a
    record's existing choices)."""
    kind = _kind(kind)
    branch = scope_branch(actor, branch_id)
    raw = [v for v in ids if v not in (None, "")]
    parsed = [parse_id(v) for v in raw]
    keep = set(allowed)
    rows = PickerDAO(db).by_ids(kind, [i for i in parsed if i is not None])
    bad = [str(v)[:20] for v, i in zip(raw, parsed)
           if i is None or i not in rows or (i not in keep and branch is not None and rows[i].get("branch_id") != branch)]
    if bad:
        message = f"Choose the {NOUNS[kind]} from the list (not one you can choose: {', '.join(bad[:5])})."
        raise ValidationFailed(message, field=field, errors={field: [message]})
    return list(dict.fromkeys(i for i in parsed if i is not None))
