"""Public: set the first password through a single-use activation link."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, url_for

from app.core import clock
from app.core.auth import public
from app.core.errors import AppError, NotFound
from app.core.flask_db import get_db
from app.core.web import form_failure, see_other
from app.forms.accounts import ActivateForm
from app.services import accounts

bp = Blueprint("activation", __name__, url_prefix="/auth/activate")


def _link_no_longer_works():
    """Expired, already used, revoked or unknown: one page (never says which, so tokens cannot be probed)."""
    return render_template("auth/activation_invalid.html", hours=accounts.ACTIVATION_HOURS), 404


@bp.route("/<token>", methods=["GET", "POST"])
@public
def activate(token: str):
    try:
        target = accounts.activation_target(get_db(), token, clock.now())
    except NotFound:
        return _link_no_longer_works()
    form = ActivateForm()
    if not form.is_submitted():
        return render_template("auth/activate.html", form=form, first_name=target["first_name"])
    if not form.validate():
        return render_template("auth/activate.html", form=form, first_name=target["first_name"]), 422
    try:
        accounts.activate(get_db(), token, form.password.data, form.confirm_password.data, clock.now(),
                          current_app.config)
    except NotFound:  # used by another request in the meantime
        return _link_no_longer_works()
    except AppError as exc:
        status = form_failure(form, exc)
        return render_template("auth/activate.html", form=form, first_name=target["first_name"]), status
    flash("Your password is set. Sign in with your e-mail address and new password.", "success")
    return see_other(url_for("auth.login"))
