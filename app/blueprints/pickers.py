"""Searchable, paginated pickers: the JSON endpoint the JavaScript enhancement calls, and the helpers a
form view uses to render a picker (templates/_macros/picker.html) without JavaScript.

``GET /api/pickers?kind=&q=&page=&branch_id=`` (kind: instructor, student or vehicle) answers one page of
at most 25 choices in the actor's scope (services/pickers.py): staff their branch, admin the branch
asked for or every branch; anyone else 404.

Without JavaScript a picker named N posts its search text as ``N__q``, and its Search / page buttons
submit the whole form with ``picker_action`` = ``N:search`` or ``N:page:<n>``: the view then re-renders
the form with what was typed and the new page of matches instead of saving (``navigating()``).
"""
from __future__ import annotations

from typing import Any, Iterable

from flask import Blueprint, jsonify, request

from app.core.auth import STAFF_ROLES, current_actor, roles_required
from app.core.flask_db import get_db
from app.services import pickers

bp = Blueprint("pickers", __name__, url_prefix="/api/pickers")

ACTION = "picker_action"


@bp.get("")
@roles_required(*STAFF_ROLES)
def search():
    kind = request.args.get("kind", "")
    result = pickers.search(get_db(), current_actor(), kind, request.args.get("q", ""), request.args.get("page"),
                            branch_id=request.args.get("branch_id"), enrolled_only=request.args.get("enrolled") == "1")
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    return response


def navigating() -> bool:
    """Whether this POST is a picker's Search or page button (re-render, do not save)."""
    return request.method == "POST" and bool(request.form.get(ACTION))


def state(name: str, kind: str, selected: Iterable[Any], *, branch_id: Any = None, enrolled_only: bool = False,
          id_prefix: str | None = None, key: str | None = None) -> dict:
    """What the picker macro needs: ``chosen`` (the selected ids within scope, labelled), ``results`` (one
    page of matches for the typed text, without the chosen ones), ``q`` and the names the form posts.
    ``key`` names the picker's own elements and search field (default ``name``): two pickers posting the
    same field name from two forms of one page need two keys. ``id_prefix`` starts each option's id."""
    db, actor = get_db(), current_actor()
    key = key or name
    source = request.form if request.method == "POST" else request.args
    q = source.get(f"{key}__q", "")
    page: Any = 1
    action = source.get(ACTION, "")
    if action.startswith(f"{key}:page:"):
        page = action.rsplit(":", 1)[1]
    chosen = pickers.chosen(db, actor, kind, list(selected or ()), branch_id=branch_id)
    results = pickers.search(db, actor, kind, q, page, branch_id=branch_id, enrolled_only=enrolled_only)
    taken = {c["id"] for c in chosen}
    results["shown"] = [r for r in results["items"] if r["id"] not in taken]
    return {"name": name, "key": key, "kind": kind, "q": results["q"], "chosen": chosen, "results": results,
            "branch_id": results["branch_id"], "enrolled": enrolled_only, "id_prefix": id_prefix or key,
            "focus": action.startswith(f"{key}:")}
