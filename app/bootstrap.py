"""Application factory: create_app() reads like a table of contents."""
from __future__ import annotations

import logging
import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from time import monotonic, perf_counter
from typing import Any, Mapping

from flask import Flask, g, has_request_context, jsonify, render_template, request, session
from markupsafe import Markup, escape
from flask_bootstrap import Bootstrap5
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import IntegerConverter
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import PROJECT_ROOT, load_settings
from app.core import auth, clock, flask_db, passwords
from app.core.errors import AppError, DatabaseUnavailable
from app.core.logging import configure_logging, set_request_id_provider
from app.core.navigation import BADGES, CACHED_BADGES, nav_for
from app.core.template_code import TEMPLATE_CODE

log = logging.getLogger(__name__)

csrf = CSRFProtect()
bootstrap = Bootstrap5()

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

ERROR_TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Access denied",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Upload too large",
    422: "Please check the form",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(overrides=overrides)
    _init_logging(settings)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    _init_config(app, settings)
    _init_request_context(app)
    flask_db.init_app(app)
    _init_extensions(app)
    _init_blueprints(app)
    _init_commands(app)
    _init_error_handlers(app)
    _init_security_headers(app)
    _init_templates(app)
    return app


def warm_up(app: Flask) -> dict[str, float]:
    """Pay a worker's one-time costs before it takes its first request (deploy/gunicorn.conf.py calls it in
    post_worker_init): compile every template, import the invoice PDF library and load the common-password
    list. Without it each new worker (5 at start, another after every max_requests) compiled a page's
    templates on that page's first request, adding 30-150 ms to it, and the first invoice PDF paid the
    PDF library's import (about 0.3 s). Returns the seconds each part took (gunicorn logs them)."""
    timings, started = {}, perf_counter()
    env = app.jinja_env
    for name in env.list_templates():
        env.get_template(name)
    timings["templates"] = perf_counter() - started
    started = perf_counter()
    import fpdf  # noqa: F401  (app/services/invoicing.py imports it where a PDF is drawn)

    from app.services.password_policy import common_passwords

    common_passwords()
    timings["libraries"] = perf_counter() - started
    return timings


def _init_logging(settings: Mapping[str, Any]) -> None:
    configure_logging(settings, "application")
    set_request_id_provider(lambda: g.get("request_id", "-") if has_request_context() else "-")


class _BoundedInt(IntegerConverter):
    """<int:...> URL parts are database ids (INT UNSIGNED): anything larger is simply not found."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 4294967295)
        super().__init__(map, *args, **kwargs)


def _init_config(app: Flask, settings: Mapping[str, Any]) -> None:
    app.url_map.converters["int"] = _BoundedInt
    app.config.update(settings)
    production = settings["APP_ENV"] == "production"
    app.config.update(
        DEBUG=bool(settings["DEBUG"]) and not production,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings["SESSION_COOKIE_SECURE"]),
        SESSION_COOKIE_NAME="__Host-origin" if production else settings["SESSION_COOKIE_NAME"],
        PERMANENT_SESSION_LIFETIME=timedelta(hours=int(settings["SESSION_ABSOLUTE_HOURS"])),
        REMEMBER_COOKIE_DURATION=timedelta(seconds=0),
        MAX_CONTENT_LENGTH=int(settings["MAX_CONTENT_LENGTH"]),
        WTF_CSRF_TIME_LIMIT=int(settings["SESSION_ABSOLUTE_HOURS"]) * 3600,
        WTF_CSRF_SSL_STRICT=True,
        BOOTSTRAP_SERVE_LOCAL=True,
        BOOTSTRAP_BOOTSWATCH_THEME=None,
        SERVER_NAME=settings["SERVER_NAME"] or None,
        TRUSTED_HOSTS=[h.strip() for h in str(settings["TRUSTED_HOSTS"] or "").split(",") if h.strip()] or None,
        TRAP_HTTP_EXCEPTIONS=False,
    )
    clock.set_timezone(settings["APP_TIMEZONE"])
    passwords.configure(settings)
    Path(settings["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)
    if int(settings["TRUSTED_PROXIES"]) > 0:
        hops = int(settings["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _init_request_context(app: Flask) -> None:
    @app.before_request
    def assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]

    @app.before_request
    def maintenance_gate():
        """Maintenance mode (services.maintenance_mode, `flask maintenance on`): signed-in administrators
        pass (with a banner, templates/_maintenance_banner.html); everyone else gets the 503 page, except
        on /healthz, static files and the sign-in pages. Runs before access control (auth.init_app
        registers that later), so it loads the signed-in user itself: one session lookup, none for a
        visitor who is not signed in."""
        state = _maintenance_state(app)
        if not state.on:
            return None
        g.maintenance = state
        if request.endpoint in MAINTENANCE_OPEN or _maintenance_admin():
            return None
        return _maintenance_response(state)


# Open during maintenance for everyone: the health probe, static files, and signing in (an administrator
# must be able to; anyone else who signs in then gets the 503 page).
MAINTENANCE_OPEN = frozenset({"main.healthz", "static", "bootstrap.static", "auth.login", "auth.logout",
                              "second_factor.challenge"})


def _maintenance_state(app: Flask):
    from app.services import maintenance_mode

    return maintenance_mode.read(app.instance_path, forced=bool(app.config["MAINTENANCE_MODE"]))


def _maintenance_admin() -> bool:
    """Whether the request comes from a signed-in administrator (the second step may still be owed:
    access control then asks for it). An unreachable database counts as "not known to be one"."""
    if "_user_id" not in session:
        return False
    try:
        user = current_user._get_current_object()
    except DatabaseUnavailable:
        g._login_user = auth.login_manager.anonymous_user()  # settled: nothing looks the user up again
        return False
    return bool(user.is_authenticated and user.role == "admin")


def _maintenance_response(state):
    """The 503 maintenance page (or JSON body) with the operator's message and Retry-After."""
    request_id = g.get("request_id", "-")
    if auth.wants_json():
        response = jsonify(error=state.message, message=state.message, status=503, request_id=request_id,
                           maintenance=True, since=state.since_text, retry_after=state.retry_after)
    else:
        g.nav_badges = {}
        user = g.get("_login_user")
        response = app_render_maintenance(state, request_id, signed_in=bool(user is not None and user.is_authenticated))
    response.status_code = 503
    response.headers["Retry-After"] = str(state.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def app_render_maintenance(state, request_id: str, signed_in: bool):
    from flask import make_response

    retry_url = (auth.safe_next(request.full_path) if request.method in ("GET", "HEAD") else None) or "/"
    return make_response(render_template(
        "errors/maintenance.html", state=state, title=ERROR_TITLES[503], request_id=request_id,
        signed_in=signed_in, retry_url=retry_url, maintenance_page=True, minutes=max(1, round(state.retry_after / 60)),
    ))


def _init_extensions(app: Flask) -> None:
    csrf.init_app(app)
    bootstrap.init_app(app)
    auth.init_app(app)


def _init_blueprints(app: Flask) -> None:
    """Every blueprint, registered explicitly (a new area adds one line to BLUEPRINTS)."""
    from app.blueprints import (account, activation, api_availability, api_schedules, audit, auth as auth_bp,
                                branches, courses, dashboard, documents, events, feeds, fleet, instructors, main,
                                outcomes, schedules, staff, students)
    from app.blueprints import api_portal, portal  # issue 8: the student portal
    from app.blueprints import disruptions  # issue 8: the conflicts panel
    from app.blueprints import series  # issue 8: recurring series
    from app.blueprints import branch_policy, proposals  # issue 8: the policy page, reschedule proposals
    from app.blueprints import notifications, waitlist  # issue 8: the gap filler and the inbox
    from app.blueprints import invoices, studentinvoices  # issue 9: invoices, statements, the student's list
    from app.blueprints import payments, student_payments  # issue 9: payments, the student's online payment

    for module in (main, auth_bp, activation, account, dashboard, students, documents, instructors, fleet,
                   branches, courses, staff, audit, api_schedules, api_availability, schedules, events, outcomes,
                   feeds, portal, api_portal, disruptions, branch_policy, proposals, series, waitlist,
                   notifications, payments, student_payments):
        app.register_blueprint(module.bp)
    from app.blueprints import apply, enrollment_requests, enrollments  # issue 9: the enrolment pipeline
    for module in (apply, enrollment_requests, enrollments):
        app.register_blueprint(module.bp)
    from app.blueprints import packages  # issue 9: lesson packages (the credit ledger), fee waivers
    app.register_blueprint(packages.bp)
    for module in (invoices, studentinvoices):  # issue 9: invoices, statements, the student's list
        app.register_blueprint(module.bp)
    from app.blueprints import reminders  # issue 10: the reminder queue and its delivery log
    app.register_blueprint(reminders.bp)
    from app.blueprints import communications  # issue 10: broadcasts (segments, preview, history)
    app.register_blueprint(communications.bp)
    from app.blueprints import second_factor  # issue 11: TOTP challenge, set-up, admin reset
    app.register_blueprint(second_factor.bp)
    from app.blueprints import password_reset  # issue 11: forgot password, the e-mailed reset link
    app.register_blueprint(password_reset.bp)
    from app.blueprints import privacy  # issue 11: privacy requests (the student's data, anonymise)
    app.register_blueprint(privacy.bp)
    from app.blueprints import reports  # issue 13: reports (metrics, charts, CSV)
    app.register_blueprint(reports.bp)
    from app.blueprints import pickers  # issue 13: searchable, paginated pickers (JSON for picker.js)
    app.register_blueprint(pickers.bp)


def _init_commands(app: Flask) -> None:
    from app import commands

    commands.init_app(app)


OUTAGE_MESSAGE = (
    "Origin cannot reach its database at the moment, so this page cannot be shown. "
    "Please try again in a few minutes."
)


def _error_response(status: int, message: str, errors: dict | None = None, headers: dict | None = None):
    title = ERROR_TITLES.get(status, "Error")
    request_id = g.get("request_id", "-")
    if auth.wants_json():
        # "message" as in the scheduling API's 409/422 bodies, so every JSON error reads the same way
        body: dict[str, Any] = {"error": message, "message": message, "status": status, "request_id": request_id}
        if errors:
            body["errors"] = errors
        response = jsonify(body)
    else:
        try:
            response = app_render_error(status, title, message, request_id)
        except DatabaseUnavailable as exc:  # the database went away while the page looked up its user
            if status == 503:
                raise  # cannot happen: a 503 page never touches the database
            return _outage_response(exc)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _outage_response(exc: DatabaseUnavailable):
    """The 503 page for an unreachable database: logged once per request, no further connection."""
    flask_db.mark_unavailable(exc)
    if not g.get("outage_logged"):
        g.outage_logged = True
        log.error("database unavailable on %s %s: %s", request.method, request.path, exc.message or exc)
    return _error_response(503, OUTAGE_MESSAGE, headers={"Retry-After": "30"})


def _error_page_user(status: int):
    """The signed-in user whose normal shell (navigation, user menu) frames the error page, or None
    for the minimal shell.

    Uses the user already loaded for this request. A user not loaded yet is loaded here (one query)
    only for a 4xx raised before access control ran (e.g. a CSRF failure); for a 5xx, or once the
    database is known to be down, the request settles on "nobody" so that no template (Flask-Login's
    context processor included) looks the user up. A 503 always gets the minimal shell. A
    DatabaseUnavailable from that one query reaches the caller, which answers 503.
    """
    if "_login_user" not in g:
        if status >= 500 or flask_db.database_unavailable() is not None or "_user_id" not in session:
            g._login_user = auth.login_manager.anonymous_user()
        else:
            current_user._get_current_object()
    user = g._login_user
    if status == 503 or flask_db.database_unavailable() is not None or not user.is_authenticated:
        return None
    return user


def _back_url() -> str | None:
    """The page the user came from, when it is a page of this site (for a "Go back" button)."""
    from urllib.parse import urlsplit

    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if not referrer or parts.netloc != request.host or parts.path == request.path:
        return None
    return auth.safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def app_render_error(status: int, title: str, message: str, request_id: str):
    from flask import make_response

    user = _error_page_user(status)
    g.nav_badges = {}  # an error page runs no query beyond the session lookup: no navigation badges
    retry_url = (auth.safe_next(request.full_path) if request.method in ("GET", "HEAD") else _back_url()) or "/"
    return make_response(
        render_template(
            "errors/error.html", status=status, title=title, message=message, request_id=request_id,
            shell_user=user, minimal_shell=user is None, signed_in="_user_id" in session,
            back_url=_back_url(), retry_url=retry_url,
        )
    )


def _init_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        log.warning("CSRF check failed on %s %s: %s", request.method, request.path, exc.description)
        if "referrer" in (exc.description or "").lower():  # HTTPS: the Referer is missing or another site's
            return _error_response(
                403, "This form was not sent from a page of this site (its Referer header is missing or names "
                     "another address). Go back, reload the page and try again; a script must send the form's "
                     "page address as its Referer."
            )
        return _error_response(
            403, "This form's security token is missing or has expired. Go back, reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if isinstance(exc, SecurityError):  # a Host outside TRUSTED_HOSTS: no URL can be built, so no page
            return app.response_class("Bad request: this host is not served here.\n", 400, mimetype="text/plain")
        messages = {
            401: "Please sign in to continue.",
            403: "You do not have access to this page.",
            404: "We could not find that page or record.",
            405: "That action is not allowed here.",
            413: f"The request is too large. Files may be at most {app.config['MAX_UPLOAD_BYTES'] // (1024 * 1024)} MiB.",
            429: "Too many requests. Please wait and try again.",
        }
        message = messages.get(status) or (exc.description if status < 500 else "Something went wrong.")
        headers = {"Allow": ", ".join(exc.valid_methods)} if status == 405 and getattr(exc, "valid_methods", None) else None
        return _error_response(status, message, headers=headers)

    @app.errorhandler(DatabaseUnavailable)
    def database_unavailable(exc: DatabaseUnavailable):
        # From anywhere in the request: user loading (before_request), a view, a template.
        return _outage_response(exc)

    @app.errorhandler(AppError)
    def app_error(exc: AppError):
        user = g.get("_login_user")  # loaded by access control; never looked up again here
        if exc.status == 404 and user is not None and user.is_authenticated:
            auth.record_refusal("access_refused", "not found or outside scope")
        headers = {"Retry-After": str(getattr(exc, "retry_after", 0))} if exc.status == 429 else None
        return _error_response(exc.status, exc.message or ERROR_TITLES.get(exc.status, "Error"), exc.errors, headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db = g.get("db")
        if db is not None:
            db.close()
            g.pop("db", None)
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = "Something went wrong on our side. The error was logged; quote the reference below if you contact support."
        if app.config["APP_ENV"] == "local" and app.config.get("SHOW_ERROR_DETAIL", True):
            message += f" ({type(exc).__name__}: {exc})"
        return _error_response(500, message)


def _init_security_headers(app: Flask) -> None:
    csp = (
        "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'"
    )

    @app.after_request
    def add_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        if app.config["APP_ENV"] == "production":
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if "_user_id" in session:  # signed in: never cache (no DB lookup needed here)
            response.headers.setdefault("Cache-Control", "no-store")
        return response


_ICONS: dict[tuple, Markup] = {}
# url_for options that make a URL depend on more than the endpoint and its values: never memoised.
_URL_OPTIONS = frozenset({"_external", "_anchor", "_method", "_scheme"})
_URL_MEMO_SIZE = 8192


def _memo_url_for(app: Flask):
    """``url_for`` for templates, remembering what it built: the URL map is fixed once the app serves, and
    the app registers no url_defaults, so a relative URL depends only on the endpoint (with the blueprint,
    for ``.name``), its values (with their types: True and 1 differ) and the request's host and script
    root. Calls with options or unhashable values, or outside a request, go straight to Flask; a build
    error is never remembered. About 15 microseconds saved per URL, several dozen URLs per page."""
    from flask import url_for as flask_url_for

    memo: dict[tuple, str] = {}

    def url_for(endpoint: str, **values: Any) -> str:
        if not has_request_context() or (values and not _URL_OPTIONS.isdisjoint(values)) \
                or any(app.url_default_functions.values()):
            return flask_url_for(endpoint, **values)
        req = request._get_current_object()  # one context lookup, not one per attribute
        try:
            key = (req.host, req.script_root, req.blueprint if endpoint[:1] == "." else None, endpoint,
                   tuple(sorted((k, type(v), v) for k, v in values.items())))
            found = memo.get(key)
        except TypeError:  # an unhashable value (a list of query values)
            return flask_url_for(endpoint, **values)
        if found is None:
            found = flask_url_for(endpoint, **values)
            if len(memo) >= _URL_MEMO_SIZE:
                memo.clear()
            memo[key] = found
        return found

    return url_for


def _init_templates(app: Flask) -> None:
    # link_for(kind, ...) -> (endpoint, URL argument, anchor). Enrolments have no page of their own yet: they
    # open the student's profile at their section. An invoice opens its page (a student's own: /my/invoices/<id>,
    # pass ``student_id``). A lesson (any event) opens its event page.
    link_targets = {
        "student": ("students.view", "student_id", ""),
        "instructor": ("instructors.view", "instructor_id", ""),
        "vehicle": ("fleet.view", "vehicle_id", ""),
        "branch": ("branches.view", "branch_id", ""),
        "course": ("courses.view", "course_id", ""),
        "staff": ("staff.view", "staff_id", ""),
        "invoice": ("invoices.view", "invoice_id", ""),
        "lesson": ("events.view", "schedule_id", ""),
        "enrolment": ("students.view", "student_id", "#enrolments"),
        "enrollment_request": ("enrollmentrequests.view", "request_id", ""),
        "communication": ("communications.view", "communication_id", ""),
        "reminder": ("reminders.view", "reminder_id", ""),
    }
    app.jinja_env.bytecode_cache = TEMPLATE_CODE  # compiled once per process, not once per app
    app.jinja_env.globals.update(role_label=auth.role_label, app_name=app.config["APP_NAME"])
    url_for = _memo_url_for(app)
    app.jinja_env.globals["url_for"] = url_for  # templates build the same few dozen URLs on every page

    @app.template_global()
    def icon(name: str, size: str | None = "1em") -> Markup:
        """A Bootstrap icon (the sprite's ``<use>``), as flask-bootstrap's render_icon draws it with no
        colour, title or classes; the markup is built once per name, size and script root."""
        key = (request.script_root if has_request_context() else "", name, size)
        found = _ICONS.get(key)
        if found is None:
            sprite = url_for("bootstrap.static", filename="icons/bootstrap-icons.svg")
            dims = f' width="{escape(size)}" height="{escape(size)}"' if size else ""
            found = Markup(f'<svg class="bi"{dims} fill="currentColor"><use xlink:href="{sprite}#{escape(name)}"/></svg>')  # nosec B704 # size and name are escaped, the sprite URL is url_for of a fixed static file
            if len(_ICONS) < 4096:
                _ICONS[key] = found
        return found

    @app.template_global()
    def list_url(**changes) -> str:
        """The current list URL with some query arguments changed (page, sort, filters)."""
        args = {k: v for k, v in request.args.items()}
        if "page" not in changes:  # a new sort or filter starts again at page 1
            args.pop("page", None)
        for key, value in changes.items():
            if value is None or value == "":
                args.pop(key, None)
            else:
                args[key] = value
        return url_for(request.endpoint, **(request.view_args or {}), **args)

    @app.template_global()
    def link_for(kind: str, id: Any = None, *, student_id: Any = None, branch_id: Any = None,
                 instructor_id: Any = None) -> str | None:
        """The URL of a record's page, or None when the viewer may not open it (render plain text then).

        None when the signed-in role is not among the page's declared roles (``_access_roles``), when
        a staff member would cross into another branch (pass ``branch_id`` when a list can show other
        branches' records), or when an instructor or student is not looking at their own object:
        an instructor opens their own profile and the students they teach (lesson rows pass the
        lesson's ``instructor_id``; the student list is already limited to their students), a student
        only their own profile. Enrolments have no page yet: they open the student's profile at
        #enrolments (``student_id``); an invoice opens its page (a student: their own, pass ``student_id``).
        A lesson (``id`` = the schedule) opens its event page
        for the office (staff: pass ``branch_id``), the lesson's own instructor (pass ``instructor_id``) and
        its own student (pass ``student_id``). No per-row query: the actor is resolved once per request
        (and the views have already done so).
        """
        target = link_targets.get(kind)
        if target is None:
            raise ValueError(f"link_for: unknown kind {kind!r}")
        endpoint, arg, anchor = target
        record_id = student_id if kind == "enrolment" else id
        if record_id is None or record_id == "":
            return None
        user = g.get("_login_user")  # loaded once per request (access control); the proxy only if not
        if user is None:
            user = current_user._get_current_object()
        if not user.is_authenticated:
            return None
        if kind == "invoice" and user.role == "student":  # a student's own invoice: /my/invoices/<id>
            if student_id is None or student_id != auth.current_actor().student_id:
                return None
            return url_for("studentinvoices.view", invoice_id=record_id)
        view = app.view_functions.get(endpoint)
        role = user.role
        if view is None or role not in (getattr(view, "_access_roles", None) or ()):
            return None
        if kind == "lesson" and role in ("instructor", "student"):
            actor = auth.current_actor()
            if role == "student" and (student_id is None or student_id != actor.student_id):
                return None
            if role == "instructor" and (instructor_id is None or instructor_id != actor.instructor_id):
                return None
        elif role in ("instructor", "student"):
            actor = auth.current_actor()
            if role == "student" and (arg != "student_id" or record_id != actor.student_id):
                return None
            if role == "instructor":
                if arg == "instructor_id" and record_id != actor.instructor_id:
                    return None
                if instructor_id is not None and instructor_id != actor.instructor_id:
                    return None
        elif role == "staff" and branch_id is not None and branch_id != user.branch_id:
            return None
        return url_for(endpoint, **{arg: record_id}) + anchor

    @app.context_processor
    def navigation():
        # The user is normally loaded already (access control, Flask-Login's context processor, or
        # an error page that settled it); it is never looked up once the database is known down.
        user = g.get("_login_user")
        if user is None and flask_db.database_unavailable() is None:
            user = current_user
        role = user.role if user is not None and user.is_authenticated else None
        items = nav_for(role, app.view_functions, request.endpoint)
        _nav_badges(items)
        return {"nav_items": items, "current_endpoint": request.endpoint}

    def _nav_badges(items: list[dict]) -> None:
        """Fill ``badge_count``/``badge_label`` of the shown entries that name a badge (navigation.BADGES),
        once per request; a badge that fails is left out (logged), never the page."""
        wanted = [item for item in items if item.get("badge")]
        if not wanted or flask_db.database_unavailable() is not None:
            return
        if "nav_badges" not in g:
            from importlib import import_module

            found: dict[str, Any] = {}
            try:
                db, actor, now = flask_db.get_db(), auth.current_actor(), clock.now()
            except Exception:  # no database or no actor: no badges, the page still renders
                log.warning("navigation badges skipped", exc_info=True)
                wanted = []
            for item in wanted:
                try:
                    module, _, name = item["badge"].partition(":")
                    found[item["badge"]] = _badge_value(item["badge"], actor, lambda: getattr(
                        import_module(module), name)(db, actor, now, app.config))
                except Exception:  # a badge is never worth an error page
                    log.warning("navigation badge %s failed", item["badge"], exc_info=True)
            g.nav_badges = found
        for item in (item for item in items if item.get("badge")):
            value = g.nav_badges.get(item["badge"])
            if value:
                item["badge_count"], item["badge_label"] = value

    badge_cache: dict[tuple, tuple[float, Any]] = {}
    badge_endpoint = {target: endpoint for endpoint, target in BADGES.items()}

    @app.after_request
    def _forget_badges_after_a_change(response):
        if request.method not in ("GET", "HEAD", "OPTIONS") and badge_cache:
            badge_cache.clear()  # this worker's next page counts afresh (others within the cache time)
        return response

    def _badge_value(badge: str, actor, compute):
        """A CACHED_BADGES badge from this worker's cache while fresh (per database, role and branch
        scope), else computed (and kept); any other badge is computed."""
        ttl = int(app.config.get("NAV_BADGE_CACHE_SECONDS") or 0)
        known = g.get("known_badges") or {}
        if badge not in CACHED_BADGES or ttl <= 0:
            return known[badge] if badge in known else compute()
        key = (badge, app.config.get("DATABASE_URL"), actor.role, actor.branch_filter(), actor.instructor_id,
               actor.student_id)
        if badge in known:  # the page counted it just now (navigation.known_badge): fresh, and kept
            badge_cache[key] = (monotonic(), known[badge])
            return known[badge]
        if request.method not in ("GET", "HEAD") or request.endpoint == badge_endpoint.get(badge):
            badge_cache.clear()  # a change here, or the badge's own page: the count is taken afresh
            return compute()
        kept = badge_cache.get(key)
        moment = monotonic()
        if kept is not None and 0 <= moment - kept[0] < ttl:
            return kept[1]
        value = compute()
        if len(badge_cache) > 1000:  # one entry per branch scope: this bounds a misuse, not normal use
            badge_cache.clear()
        badge_cache[key] = (moment, value)
        return value

    @app.template_filter("date")
    def format_date(value: date | datetime | None, weekday: bool = False, form: str = "") -> str:
        """27 Sep 2027 (Australian, no leading zero); weekday=True gives Mon 27 Sep 2027. ``form``:
        "month" gives September 2027, "month_name" September, "short" Mon 27 Sep (no year)."""
        if value is None or value == "":
            return ""
        if isinstance(value, datetime):
            value = clock.to_local(value)
        if not isinstance(value, date):
            return str(value)
        if form == "month":
            return value.strftime("%B %Y")
        if form == "month_name":
            return value.strftime("%B")
        if form == "short":
            return f"{value.strftime('%a')} {value.day} {value.strftime('%b')}"
        text = f"{value.day} {value.strftime('%b %Y')}"
        return f"{value.strftime('%a')} {text}" if weekday else text

    @app.template_filter("datetime")
    def format_datetime(value: datetime | None, weekday: bool = False, wall: bool = False) -> str:
        """27 Sep 2027, 13:00. Stored timestamps are UTC and shown in APP_TIMEZONE; ``wall=True`` is for
        business wall-clock values (lesson, unavailability and downtime times), shown as stored."""
        if not isinstance(value, datetime):
            return "" if value is None else str(value)
        local = value if wall else clock.to_local(value)
        return f"{format_date(local.date(), weekday)}, {local.strftime('%H:%M')}"

    @app.template_filter("hm")
    def format_time(value) -> str:
        """13:00 (24-hour clock)."""
        if value is None:
            return ""
        if hasattr(value, "strftime"):
            return value.strftime("%H:%M")
        return str(value)[:5]

    @app.template_filter("money")
    def format_money(value) -> str:
        amount = Decimal(str(value if value is not None else "0")).quantize(Decimal("0.01"))
        sign = "-" if amount < 0 else ""
        return f"{sign}${abs(amount):,.2f}"
