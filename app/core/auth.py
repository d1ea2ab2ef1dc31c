"""Flask-Login wiring and deny-by-default access control.

Every endpoint must declare who may use it: ``@public`` or ``@roles_required(...)``.
A global before_request hook enforces the declaration; an endpoint without one
is refused for everybody (deny by default). The decorators only annotate, so
they must sit *below* ``@bp.route``.
"""
from __future__ import annotations

import unicodedata
from typing import Callable
from urllib.parse import unquote

from flask import Flask, abort, current_app, flash, jsonify, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from app.core import clock
from app.core.flask_db import get_db
from app.services import auth as auth_service

ROLES = ("admin", "staff", "instructor", "student")
ANY_ROLE = ROLES
STAFF_ROLES = ("admin", "staff")

login_manager = LoginManager()

# Endpoints that belong to libraries (static files) are public by nature.
_LIBRARY_PUBLIC = {"static", "bootstrap.static"}


class CurrentUser(UserMixin):
    """Flask-Login user whose id is the session token (revocable server-side)."""

    def __init__(self, user: auth_service.SessionUser):
        self._user = user

    def get_id(self) -> str:
        return self._user.token

    def __getattr__(self, name):
        return getattr(self._user, name)


def public(view: Callable) -> Callable:
    view._access_public = True  # type: ignore[attr-defined]
    return view


def roles_required(*roles: str) -> Callable[[Callable], Callable]:
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorate(view: Callable) -> Callable:
        view._access_roles = frozenset(roles)  # type: ignore[attr-defined]
        return view

    return decorate


def allowed_roles(endpoint: str) -> frozenset[str] | None:
    """Roles declared for an endpoint; None when public or undeclared (see is_public)."""
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "_access_roles", None)


def is_public(endpoint: str) -> bool:
    if endpoint in _LIBRARY_PUBLIC:
        return True
    view = current_app.view_functions.get(endpoint)
    return bool(getattr(view, "_access_public", False))


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _enforce_access():
    endpoint = request.endpoint
    if endpoint is None:
        if "_user_id" in session:
            # Know who is asking before the 404/405 page: it then shows the user's navigation
            # without a query of its own, and an unreachable database surfaces here
            # (DatabaseUnavailable -> the 503 page) instead of inside an error handler.
            current_user._get_current_object()
        return None  # unknown URLs fall through to 404
    if endpoint == current_app.login_manager.login_view and "_user_id" not in session:
        get_db().connection  # the sign-in form is offered only while signing in can work (else 503)
    if is_public(endpoint):
        return None
    if not current_user.is_authenticated:
        if wants_json():
            return jsonify(error="Sign in required."), 401
        flash("Please sign in to continue.", "info")
        return redirect(url_for("auth.login", next=_safe_next(request.full_path)))
    if not current_user.second_factor_done:
        refused = _second_factor_gate(endpoint)
        if refused is not None:
            return refused
    roles = allowed_roles(endpoint)
    if roles is None or current_user.role not in roles:
        current_app.logger.warning(
            "access denied: user %s (%s) -> %s", current_user.id, current_user.role, endpoint
        )
        record_refusal("access_denied", endpoint)
        abort(403)
    return None


# While a signed-in session still owes its second step, only these endpoints answer (besides static):
# an enrolled user gets the challenge, a required role not yet enrolled gets the enrolment pages.
SECOND_FACTOR_CHALLENGE_OPEN = frozenset({"second_factor.challenge", "auth.logout"})
SECOND_FACTOR_ENROL_OPEN = frozenset({"second_factor.status", "second_factor.enrol", "second_factor.confirm",
                                      "second_factor.cancel", "auth.logout", "auth.confirm"})


def _second_factor_gate(endpoint: str):
    """None when ``endpoint`` may open before the second step, else the redirect (401 for JSON)."""
    enrolled = current_user.second_factor_enrolled
    if endpoint in (SECOND_FACTOR_CHALLENGE_OPEN if enrolled else SECOND_FACTOR_ENROL_OPEN):
        return None
    if wants_json():
        return jsonify(error="Complete the second sign-in step first."), 401
    if enrolled:
        return redirect(url_for("second_factor.challenge", next=_safe_next(request.full_path)))
    flash("Your role needs a second factor. Set up your authenticator app to continue.", "info")
    return redirect(url_for("second_factor.status"))


def record_refusal(action: str, what: str) -> None:
    """Audit a refused access by a signed-in user (never lets a logging failure hide the refusal)."""
    from app.services import audit

    try:
        audit.record(get_db(), current_actor(), action, None, None, now=clock.now(),
                     details=f"{request.method} {request.path} ({what})"[:255], ip=request.remote_addr)
    except Exception:  # the refusal stands even if the audit store is unavailable
        current_app.logger.exception("could not audit refused access")


# Longest `next` accepted; real page addresses are far shorter.
NEXT_MAX_LENGTH = 2000
# Unicode categories refused anywhere in `next`: controls (C0, DEL, C1), format characters (bidi
# overrides, zero-width), surrogates, line/paragraph separators. Other spaces than U+0020 too.
_UNSAFE_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))


def _is_local_path(text: str) -> bool:
    """True when a browser resolving ``text`` against our page stays on our host.

    WHATWG URL parsing strips leading/trailing C0 controls and spaces, removes tab/CR/LF anywhere
    and reads a backslash as a slash, so "/<TAB>/evil" or "/<BACKSLASH>evil" become "//evil" (another
    host). Rather than re-implement that, refuse every character it would drop or rewrite, then
    require a plain absolute path: no scheme, no host, no empty (``//``) or dot segment.
    """
    for ch in text:
        category = unicodedata.category(ch)
        if ch == "\\" or category in _UNSAFE_CATEGORIES or (category == "Zs" and ch != " "):
            return False
    if not text.startswith("/") or text != text.strip(" "):
        return False  # a leading "/" also rules out a scheme ("javascript:", "http:evil")
    path = text.split("?", 1)[0].split("#", 1)[0]
    if "//" in path:  # "//host", "///host", "/.//x" once the dot segment is removed
        return False
    return not any(segment in (".", "..") for segment in path.split("/"))


def _safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (the caller falls back to the dashboard).

    Checked twice: as given and after one round of percent-decoding, so ``/%5C%5Cevil`` or
    ``/%0A/evil`` are refused although they are harmless as sent (a later hop that decodes once
    must not turn them into another host). Longer than NEXT_MAX_LENGTH: refused.
    """
    if not target or len(target) > NEXT_MAX_LENGTH:
        return None
    target = target.rstrip("?")
    if _is_local_path(target) and _is_local_path(unquote(target)):
        return target
    return None


def safe_next(target: str | None) -> str | None:
    return _safe_next(target)


def _load_user(token: str):
    from app.core.errors import DatabaseUnavailable
    from app.core.flask_db import mark_unavailable

    try:
        user = auth_service.resolve_session(get_db(), token, clock.now(), current_app.config)
    except DatabaseUnavailable as exc:
        mark_unavailable(exc)  # nothing else in this request tries the database again
        raise
    if user is None:
        session.pop("_user_id", None)
        return None
    return CurrentUser(user)


def start_session(user: auth_service.SessionUser) -> None:
    """Fresh cookie session (no fixation), then log the user in with the new token."""
    session.clear()
    login_user(CurrentUser(user))


def renew_session() -> None:
    """After the second step: a new session token and a fresh cookie session (services.auth.renew_token)."""
    user = current_user._get_current_object()._user
    user.token = auth_service.renew_token(get_db(), user.session_id)
    user.second_factor_done = True
    session.clear()
    login_user(CurrentUser(user))


def end_session() -> None:
    if current_user.is_authenticated:
        auth_service.logout(get_db(), current_user.token, current_actor(), clock.now())
    logout_user()
    session.clear()


def current_actor():
    """The signed-in user as a services.scope.Actor (profile ids resolved once per request)."""
    from flask import g

    from app.dao.instructor import InstructorDAO
    from app.dao.student import StudentDAO
    from app.services.scope import Actor

    if "actor" not in g:
        user = current_user
        if getattr(user, "profiles_known", False):  # read with the session (services.auth.resolve_session)
            instructor_id, student_id = user.instructor_id, user.student_id
        else:
            db = get_db()
            instructor_id = InstructorDAO(db).id_for_user(user.id) if user.role == "instructor" else None
            student_id = StudentDAO(db).id_for_user(user.id) if user.role == "student" else None
        g.actor = Actor(
            user_id=user.id,
            role=user.role,
            branch_id=user.branch_id,
            instructor_id=instructor_id if user.role == "instructor" else None,
            student_id=student_id if user.role == "student" else None,
            ip=request.remote_addr,
        )
    return g.actor


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = None  # the session registry does revocation and timeouts
    login_manager.user_loader(_load_user)
    login_manager.login_view = "auth.login"
    app.before_request(_enforce_access)


def role_label(role: str) -> str:
    return {"admin": "Administrator", "staff": "Staff", "instructor": "Instructor", "student": "Student"}.get(
        role, role.title()
    )

