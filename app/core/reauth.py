"""Re-authentication for sensitive changes (docs/security.md, ASVS V3.7.1).

``@reauth_required`` (placed *below* ``@roles_required``) lets a request through only when the
session confirmed the password (and the second factor, when enrolled) within REAUTH_MINUTES
(services.auth.recently_authenticated); a sign-in counts as a confirmation. Otherwise the view does
not run, so nothing is written:

- GET: 303 to ``/auth/confirm?next=<this page>``;
- POST (a form sent from a page opened before the confirmation ran out): 303 to the confirm page with
  ``next`` = the form's GET page (``form_page``, default this path) and a flash that nothing changed.
  The non-secret fields named in ``keep`` go along in ``next`` as one signed, user-bound, short-lived
  ``?kept=`` value (nothing is stored), so the form comes back filled in after the confirmation (the
  view reads them with ``kept_values``); a crafted link cannot pre-fill anyone's form, and passwords
  and codes never travel this way;
- JSON: 401 ``{"error": ...}``.

``next`` is only ever used through app.core.auth.safe_next.
"""
from __future__ import annotations

import functools
from datetime import timezone
from typing import Callable, Iterable
from urllib.parse import urlencode

from flask import current_app, flash, jsonify, request, url_for
from flask_login import current_user
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from app.core import clock
from app.core.auth import safe_next, wants_json
from app.core.web import see_other
from app.services import auth as auth_service

MESSAGE = "For your security, confirm your password first."
STALE_POST = ("For your security, confirm your password first. Nothing was changed yet: check the form and send it "
              "again.")
MAX_KEPT_LENGTH = 320
KEPT_MAX_AGE_SECONDS = 30 * 60  # time enough to find the password and confirm


def is_fresh() -> bool:
    return auth_service.recently_authenticated(current_user, clock.now(), current_app.config)


class _ClockSigner(TimestampSigner):
    """Timestamps from app.core.clock (the app's one "now"), so the age limit follows it."""

    def get_timestamp(self) -> int:
        return int(clock.now().replace(tzinfo=timezone.utc).timestamp())


def _kept_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="origin.reauth.kept", signer=_ClockSigner)


def kept_values(*names: str) -> dict[str, str]:
    """The fields a refused POST handed back (``reauth_required(keep=...)``): only from a valid ``?kept=``
    signed for the signed-in user within KEPT_MAX_AGE_SECONDS; anything else is ignored ({})."""
    token = request.args.get("kept")
    if not token or len(token) > 2000:
        return {}
    try:
        data = _kept_serializer().loads(token, max_age=KEPT_MAX_AGE_SECONDS)
    except BadData:
        return {}
    if not isinstance(data, dict) or data.get("user") != current_user.id or not isinstance(data.get("fields"), dict):
        return {}
    return {name: str(data["fields"][name])[:MAX_KEPT_LENGTH] for name in names if data["fields"].get(name)}


def _target(form_page: Callable[..., str] | None, keep: Iterable[str], view_args: dict) -> str | None:
    if request.method in ("GET", "HEAD"):
        if form_page is not None:  # a download: come back to the page that offers it, with its filters
            query = request.query_string.decode("utf-8", "replace")
            return safe_next(form_page(**view_args) + (f"?{query}" if query else ""))
        return safe_next(request.full_path)
    page = form_page(**view_args) if form_page else request.path
    fields = {name: request.form[name][:MAX_KEPT_LENGTH] for name in keep if request.form.get(name)}
    if fields:
        page += "?" + urlencode({"kept": _kept_serializer().dumps({"user": current_user.id, "fields": fields})})
    return safe_next(page)


def reauth_required(view: Callable | None = None, *, form_page: Callable[..., str] | None = None,
                    keep: tuple[str, ...] = ()):
    """Decorator; bare (``@reauth_required``) or with options (``@reauth_required(keep=("new_email",))``).

    ``form_page(**view_args)`` names the GET page of a POST-only route (the staff profile for the
    role form), or for a GET download the page that offers it (the confirmation then returns there, with
    the same query string, instead of to a file the browser would save while staying on the confirm
    page); ``keep`` the non-secret form fields to hand back after the confirmation."""
    if any("password" in name or name in ("code", "csrf_token") for name in keep):
        raise ValueError("secrets are never handed back through a URL")

    def decorate(inner: Callable) -> Callable:
        @functools.wraps(inner)
        def wrapper(*args, **kwargs):
            if is_fresh():
                return inner(*args, **kwargs)
            if wants_json():
                return jsonify(error=MESSAGE), 401
            if request.method not in ("GET", "HEAD"):
                flash(STALE_POST, "warning")
            return _to_confirm(_target(form_page, keep, kwargs))

        wrapper._reauth_required = True  # type: ignore[attr-defined]
        return wrapper

    return decorate(view) if view is not None else decorate


def _to_confirm(target: str | None):
    return see_other(url_for("auth.confirm", next=target) if target else url_for("auth.confirm"))
