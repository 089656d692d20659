"""Sign up, sign in and out, email verification, password reset."""
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, jsonify, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_user, logout_user

from .. import ratelimits
from ..errors import ServiceError, ValidationFailed
from ..extensions import db, limiter
from ..models import Group
from ..services import accounts, sessions
from . import params

bp = Blueprint("auth", __name__)


def _limit(name):
    return lambda: current_app.config[name]


def _safe_next(target):
    """Where to go after signing in: a path on this site, never another site.

    Browsers read a backslash as a slash and drop tabs and newlines inside URLs, so a path
    that starts with a slash and a backslash, or with a slash, a tab and a slash, would leave
    the site like "//evil.example": refuse those too.
    """
    fallback = url_for("topics.latest")
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def _text(data, name):
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


def _groups():
    return db.session.scalars(db.select(Group).order_by(Group.nation_code, Group.name)).all()


@bp.route("/signup", methods=["GET", "POST"])
@ratelimits.sign_up
def signup():
    data = params()
    form = {k: _text(data, k) for k in ("username", "email", "name", "group")}
    errors, status = {}, 200
    if request.method == "POST":
        try:
            user = accounts.sign_up(form["username"], form["email"], _text(data, "password"),
                                    name=form["name"], group_id=form["group"] or None)
            _start_session(user, remember=False)
            flash(f"Welcome! We have sent a link to {user.email}: follow it to start posting. "
                  "If it does not arrive, ask for it again from the notice above.")
            return redirect(url_for("topics.latest"))
        except ServiceError as exc:
            errors, status = exc.field_errors or {"form": exc.errors}, exc.status
    return render_template("auth/signup.html", form=form, errors=errors,
                           groups=_groups()), status


def _start_session(user, remember):
    # A fresh session id at sign-in: nothing from before survives, so no fixation.
    session.clear()
    sign_in(user, remember)


def sign_in(user, remember):
    """Sign `user` in on this device: a new user_sessions row, whose secret the session (and
    remember) cookie carries; signing out deletes the row."""
    user.session_secret = sessions.start_session(user, request.user_agent.string)
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
@ratelimits.sign_in
def login():
    data = params()
    form = {"login": _text(data, "login"), "remember": data.get("remember")}
    next_url = request.args.get("next") or _text(data, "next")
    errors, status = {}, 200
    if request.method == "POST":
        try:
            user = accounts.authenticate(form["login"], _text(data, "password"))
            _start_session(user, remember=form["remember"] not in (None, "", False, "0"))
            if request.is_json:
                return jsonify({"username": user.username})
            return redirect(_safe_next(next_url))
        except ServiceError as exc:
            if request.is_json:
                raise
            errors, status = {"form": exc.errors}, 401
    return render_template("auth/login.html", form=form, errors=errors,
                           next=next_url), status


@bp.route("/logout", methods=["POST"])
def logout():
    # The device's row goes first: a copy of this session or remember cookie then signs no
    # one in. In this order: logout_user() leaves a note in the session that makes Flask-Login
    # delete the remember cookie, and clearing the session afterwards would lose it.
    if current_user.is_authenticated:
        sessions.end_session(current_user.session_secret)
    session.clear()
    logout_user()
    return redirect(url_for("topics.latest"))


@bp.route("/verify/<token>")
def verify_email(token):
    try:
        user = accounts.verify_email(token)
    except ServiceError as exc:
        return render_template("error.html", errors=exc.errors, status=400), 400
    if current_user.is_authenticated and current_user.id != user.id:
        flash(f"The email address of {user.username} is confirmed.")
    else:
        flash("Your email address is confirmed. Welcome!")
    return redirect(url_for("topics.latest"))


@bp.route("/verify/resend", methods=["POST"])
@limiter.limit(_limit("RATELIMIT_RESET"))
def resend_verification():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    try:
        accounts.resend_verification(current_user)
        flash("We sent you a new link.")
    except ServiceError as exc:
        flash(exc.errors[0])
    return redirect(url_for("users.settings"))


@bp.route("/password-reset", methods=["GET", "POST"])
@ratelimits.password_reset
def request_reset():
    sent, errors, status = False, {}, 200
    email = _text(params(), "email")
    if request.method == "POST":
        try:
            # Whether the address has an account is never said; whether it is one, is.
            accounts.normalise_email(email)
            accounts.request_password_reset(email)
            sent = True
        except ValidationFailed as exc:
            errors, status = exc.field_errors or {"email": exc.errors}, exc.status
    return render_template("auth/request_reset.html", sent=sent, email=email,
                           errors=errors), status


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("RATELIMIT_RESET"), methods=["POST"])
def reset_password(token):
    errors, status = {}, 200
    try:
        accounts.user_for_reset_token(token)
    except ServiceError as exc:
        return render_template("error.html", errors=exc.errors, status=400), 400
    if request.method == "POST":
        try:
            accounts.reset_password(token, _text(params(), "password"))
            flash("Your password is changed. Sign in with it now.")
            return redirect(url_for("auth.login"))
        except ServiceError as exc:
            errors, status = exc.field_errors or {"form": exc.errors}, exc.status
    return render_template("auth/reset_password.html", token=token, errors=errors), status
