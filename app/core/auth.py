"""Flask-Login wiring and deny-by-default access control.

Every endpoint must declare who may use it: ``@public`` or ``@roles_required(...)``.
A global before_request hook enforces the declaration; an endpoint without one
is refused for everybody (deny by default). The decorators only annotate, so
they must sit *below* ``@bp.route``.
"""
from __future__ import annotations

from typing import Callable

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

    @property
    def is_staff(self) -> bool:
        return self._user.role in STAFF_ROLES


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
    if endpoint is None or is_public(endpoint):
        return None  # unknown URLs fall through to 404
    if not current_user.is_authenticated:
        if wants_json():
            return jsonify(error="Sign in required."), 401
        flash("Please sign in to continue.", "info")
        return redirect(url_for("auth.login", next=_safe_next(request.full_path)))
    roles = allowed_roles(endpoint)
    if roles is None or current_user.role not in roles:
        current_app.logger.warning(
            "access denied: user %s (%s) -> %s", current_user.id, current_user.role, endpoint
        )
        record_refusal("access_denied", endpoint)
        abort(403)
    return None


def record_refusal(action: str, what: str) -> None:
    """Audit a refused access by a signed-in user (never lets a logging failure hide the refusal)."""
    from app.services import audit

    try:
        audit.record(get_db(), current_actor(), action, None, None, now=clock.now(),
                     details=f"{request.method} {request.path} ({what})"[:255], ip=request.remote_addr)
    except Exception:  # the refusal stands even if the audit store is unavailable
        current_app.logger.exception("could not audit refused access")


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    target = target.rstrip("?")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def safe_next(target: str | None) -> str | None:
    return _safe_next(target)


def _load_user(token: str):
    user = auth_service.resolve_session(get_db(), token, clock.now(), current_app.config)
    if user is None:
        session.pop("_user_id", None)
        return None
    return CurrentUser(user)


def start_session(user: auth_service.SessionUser) -> None:
    """Fresh cookie session (no fixation), then log the user in with the new token."""
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
        db = get_db()
        user = current_user
        g.actor = Actor(
            user_id=user.id,
            role=user.role,
            branch_id=user.branch_id,
            instructor_id=InstructorDAO(db).id_for_user(user.id) if user.role == "instructor" else None,
            student_id=StudentDAO(db).id_for_user(user.id) if user.role == "student" else None,
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

