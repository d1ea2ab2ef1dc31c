"""The blueprint layer's shared patterns (docs/modules.md, "Errors into forms" and "One-time links").

- ``form_failure(form, exc)``: the ONE way a view turns a service error into a response. 409 and 422
  attach to the form (``apply_errors``: named fields inline, the rest as a general form error) and the
  view re-renders with the returned status; anything else (401, 403, 404, 413, 429, 503, a bare 400)
  is re-raised for the global error handler.
- ``action_refused(exc, location)``: the same rule for a button action (archive, restore, activation
  link): 409/422 re-render the page with the message at the top and the real status.
- ``section_failed(form, lead, location)``: a form inside a detail page failed; the re-rendered page
  names the problem at the top, carries the section's GET URL (static/js/app.js puts it in the address
  bar so a reload is a GET) and moves focus to the form's first invalid field.
- ``see_other(url)``: Post/Redirect/Get with 303.
- ``hand_out_activation(...)`` / ``taken_handoff()``: an activation link is shown once on the page the
  office lands on, through a server-side hand-off (services.handoffs), never through the session cookie.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from flask import current_app, flash, redirect, request, url_for
from flask_wtf import FlaskForm

from app.core import clock
from app.core.auth import current_actor
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.forms import apply_errors
from app.services import accounts, handoffs

FORM_STATUSES = frozenset({409, 422})
ACTIVATION_HANDOFF = "activation_link"


# --------------------------------------------------------------------------- errors into responses

def form_failure(form: FlaskForm, exc: AppError) -> int:
    """Attach a 409/422 service error to ``form`` and return its status; re-raise anything else.

    Use inside ``except AppError as exc:`` and re-render the form with the returned status."""
    if exc.status not in FORM_STATUSES:
        raise exc
    apply_errors(form, exc)
    return exc.status


@dataclass(frozen=True)
class PageAlert:
    """The alert at the top of a re-rendered page (templates/base.html)."""

    message: str
    href: str | None = None
    link_text: str = "Go to the form"


def _fragment(location: str) -> str | None:
    fragment = urlsplit(location).fragment
    return f"#{fragment}" if fragment else None


def form_problems(form: FlaskForm) -> list[str]:
    """Every distinct error message of ``form``: general errors first, then fields in form order."""
    found: list[str] = []
    for message in list(getattr(form, "form_errors", [])) + [m for f in form for m in f.errors]:
        if isinstance(message, str) and message not in found:
            found.append(message)
    return found


def section_failed(form: FlaskForm, lead: str, location: str, form_id: str) -> dict:
    """Template context for a detail page re-rendered (422/409) after the form ``form_id`` in one of its
    sections failed. ``lead`` says what did not happen ("The note was not added"); ``location`` is the
    section's GET URL (``/students/5#notes``)."""
    problems = " ".join(form_problems(form)) or "Check the highlighted fields."
    return {"page_alert": PageAlert(f"{lead}: {problems}", _fragment(location)),
            "page_location": location, "page_focus_form": form_id}


def action_refused(exc: AppError, location: str) -> tuple[dict, int]:
    """(template context, status) for a refused button action; anything but 409/422 is re-raised."""
    if exc.status not in FORM_STATUSES:
        raise exc
    return {"page_alert": PageAlert(exc.message), "page_location": location}, exc.status


def see_other(location: str):
    """Post/Redirect/Get: 303 makes every client follow with a GET."""
    return redirect(location, 303)


# --------------------------------------------------------------------------- one-time activation links

def hand_out_activation(*, token: str, expires_at: datetime, email: str, first_name: str, done: str,
                        endpoint: str, **values):
    """After the account change has committed: e-mail the activation link when mail is configured,
    keep it server-side for the acting user and redirect (303) to ``endpoint`` with ``?handoff=<key>``;
    that page shows it once (``taken_handoff``). Only ``done`` (no link) goes into the flash."""
    link = url_for("activation.activate", token=token, _external=True)
    delivery = accounts.send_activation(current_app.config, email, first_name, link)
    key = handoffs.create(get_db(), current_actor().user_id, ACTIVATION_HANDOFF, {
        "link": link, "first_name": first_name, "email": email, "expires_at": expires_at.isoformat(),
        "emailed": bool(delivery.sent),
    }, clock.now())
    flash(done, "success")
    return see_other(url_for(endpoint, handoff=key, **values))


def taken_handoff() -> dict:
    """Template context for a page an activation link may be handed to: ``handoff`` is the link's
    details (shown once, then deleted), ``{"missing": True}`` for a key already shown, expired or
    someone else's, and absent without ``?handoff=``."""
    key = request.args.get("handoff")
    if key is None:
        return {}
    # app.js drops the spent key from the address bar (and so from the history).
    rest = [(name, value) for name, value in request.args.items(multi=True) if name != "handoff"]
    context = {"page_location": request.path + (f"?{urlencode(rest)}" if rest else "")}
    payload = handoffs.take(get_db(), key, current_actor().user_id, ACTIVATION_HANDOFF, clock.now())
    if payload is None:
        return {**context, "handoff": {"missing": True}}
    try:
        payload["expires_at"] = datetime.fromisoformat(payload["expires_at"])
    except (KeyError, TypeError, ValueError):
        payload["expires_at"] = None
    return {**context, "handoff": payload}
