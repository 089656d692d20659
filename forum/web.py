"""Request-wide web concerns: errors as pages or JSON, security headers, template helpers."""
import re
import time
from datetime import datetime

from flask import jsonify, redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest, HTTPException, NotFound
from werkzeug.routing import IntegerConverter

from .views.links import remembered_url_for
from .db import end_request
from .errors import ServiceError
from .extensions import db, limiter
from .ids import ID_MAX
from .models.types import utcnow
from .paragraphs import item_heading, range_words
from .texts import counted


def wants_json():
    return (request.path.endswith(".json") or request.is_json
            or request.accept_mimetypes.best == "application/json")


# What a member may have typed at length, by form field: an error page for a form post shows
# it back to them to copy, so a refusal (too often, an expired form, a closed topic, signed
# out meanwhile) never loses it.
KEPT_FIELDS = {"title": "Title", "summary": "Summary", "raw": "Your post", "body": "Text",
               "text": "Text", "rationale": "Why", "answer": "Answer", "note": "Note",
               "reason": "Reason", "bio": "About you", "description": "Description"}


def kept_text():
    """[(label, text)] of the long-text fields the request posted, for an error page."""
    if request.method != "POST" or request.is_json:
        return []
    try:
        form = request.form
    except HTTPException:  # the body itself was refused: too large, say
        return []
    return [(label, form[name]) for name, label in KEPT_FIELDS.items()
            if form.get(name, "").strip()]


def error_page(errors, status, back=None):
    """The refusal of a plain form, with the long texts it posted shown back to copy, and a
    way back to the page it came from: `back` is (url, label)."""
    return render_template("error.html", errors=errors, status=status, kept=kept_text(),
                           back=back), status


def sign_in_first(back_to):
    """To the sign-in page, then back to `back_to`; but a form posted by someone no longer
    signed in (signed out on another device, say) gets what they wrote shown back."""
    if request.method == "POST":
        return error_page(["You are not signed in any more: sign in, then send it again."],
                          401)
    return redirect(url_for("auth.login", next=back_to))


def _pending_reviews():
    from .services.review import pending_count

    return pending_count()


def json_errors(errors, status, extras=None):
    body = {"errors": list(errors)}
    if extras:
        body["extras"] = extras
    return jsonify(body), status


def _csp():
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
            "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
            "object-src 'none'; frame-ancestors 'none'")


def _wait_seconds(exc):
    """Seconds until the breached limit's window resets (its whole window if unknown)."""
    breached = limiter.current_limit
    if breached is not None and breached.breached:
        return max(int(breached.reset_at - time.time()), 1)
    limit = getattr(exc, "limit", None)
    return int(limit.limit.get_expiry()) if limit is not None else 60


# -- input that never reaches a view ---------------------------------------------------------

# NUL cannot be stored in PostgreSQL text; an unpaired surrogate cannot be encoded as UTF-8.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: a number too large to be an id is a 404, rather than an overflow
    in the database driver. (Refusing the match instead would make werkzeug answer 405 where
    another method's rule has the same path.)"""

    def to_python(self, value):
        number = super().to_python(value)
        if number > ID_MAX:
            raise NotFound()
        return number


# No field of any request is a list of lists this deep; deeper JSON is refused, not walked.
JSON_DEPTH_MAX = 32


def _unstorable(value, depth=0):
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, (dict, list)) and depth >= JSON_DEPTH_MAX:
        raise BadRequest(f"The JSON is nested more than {JSON_DEPTH_MAX} levels deep.")
    if isinstance(value, dict):
        return any(_unstorable(k, depth + 1) or _unstorable(v, depth + 1)
                   for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v, depth + 1) for v in value)
    return False


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def check_input():
    """Refuse, before any view runs, a body that claims to be JSON but is not a JSON object,
    and text that no database column can hold."""
    fields = [request.path, *request.args.values()]
    if request.is_json:
        if request.get_data(cache=True).strip():
            try:
                data = request.get_json()
            except BadRequest:
                raise BadRequest("The request body is not valid JSON.") from None
            except RecursionError:  # the parser's own limit on nesting
                raise BadRequest(f"The JSON is nested more than {JSON_DEPTH_MAX} levels "
                                 "deep.") from None
            if not isinstance(data, dict):
                raise BadRequest("Send a JSON object, as {\"name\": value, ...}.")
            fields.append(data)
    elif request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.content_length and request.mimetype not in FORM_TYPES:
            # Read as no fields at all, it would be refused for every field it "lacks".
            raise BadRequest(f"A body of type {request.mimetype or 'unknown'} cannot be read: "
                             "send JSON, with Content-Type: application/json, or a form.")
        fields.extend(request.form.values())
    if any(_unstorable(field) for field in fields):
        raise BadRequest("The request contains a character that cannot be stored "
                         "(a NUL or an unpaired surrogate).")


def timeago(value, now=None):
    if value is None:
        return ""
    seconds = int(((now or utcnow()) - value).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400 * 365, "y"), (86400 * 30, "mo"), (86400, "d"), (3600, "h"),
                       (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return "just now"


def sentence(text):
    """A reason as the end of a sentence: its own full stop, or the one it already has
    ("Personal attack removed." is not given a second)."""
    text = (text or "").rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


_AGE_UNITS = {"y": "year", "mo": "month", "d": "day", "h": "hour", "m": "minute"}
_AGE = re.compile(r"(\d+)(mo|[ydhm])")


def spoken_age(age):
    """ "3h" as a screen reader should say it: "3 hours ago" ("11m" reads as "11 metres")."""
    found = _AGE.fullmatch(age)
    if not found:
        return age
    number, unit = int(found.group(1)), _AGE_UNITS[found.group(2)]
    return f"{number} {unit}{'' if number == 1 else 's'} ago"


def time_tag(dt, age=None):
    """`<time>` with the full date as its title and the age as its text, spelt out for screen
    readers: what the reltime macro prints, as one call for lists and posts that print it on
    every row. `age` is the text when the caller has worked it out already (timeago)."""
    age = timeago(dt) if age is None else age
    return Markup('<time datetime="%s" title="%s"><span aria-hidden="true">%s</span>'
                  '<span class="visually-hidden">%s</span></time>') % (
        dt.isoformat(), dt.strftime("%-d %b %Y %H:%M UTC"), age, spoken_age(age))


def init_app(app):
    @app.errorhandler(ServiceError)
    def service_error(exc):
        if wants_json():
            return json_errors(exc.errors, exc.status, exc.extras)
        return error_page(exc.errors, exc.status)

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc):
        wait = _wait_seconds(exc)
        message = f"You are doing that too often. Try again in {wait} seconds."
        if wants_json():
            return json_errors([message], 429, {"wait_seconds": wait})
        return error_page([message], 429)

    @app.errorhandler(CSRFError)
    def csrf_refused(exc):
        message = (f"This form could not be accepted: {exc.description} It may have been open "
                   "too long or sent from another site. Reload the page and try again.")
        if wants_json():
            return json_errors([f"{exc.description} Send the page's CSRF token in an "
                                "X-CSRFToken header, or use an API key."], 400)
        return error_page([message], 400)

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def out_of_range(exc):
        # A value from the request its column cannot hold (an id in a JSON body too large for
        # an integer, say): the database refused it, so it is the request's fault, not ours.
        db.session.rollback()
        message = "A value in the request is out of range."
        if wants_json():
            return json_errors([message], 400)
        return error_page([message], 400)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        messages = {400: "The request was not understood.",
                    401: "Sign in to do that.",
                    403: "You are not allowed to do that.",
                    404: "There is nothing here.",
                    405: "That method is not allowed here.",
                    413: "That is too large to send."}
        message = exc.description if exc.code == 400 and exc.description else \
            messages.get(exc.code, exc.name)
        if wants_json():
            return json_errors([message], exc.code)
        return error_page([message], exc.code)

    @app.errorhandler(500)
    def server_error(exc):
        db.session.rollback()
        if wants_json():
            return json_errors(["Something went wrong on our side."], 500)
        return error_page(["Something went wrong on our side."], 500)

    app.url_map.converters["int"] = IdConverter
    app.before_request(check_input)

    @app.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = _csp()
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if app.config.get("HSTS"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response

    @app.teardown_appcontext
    def end_session(exc):
        if exc is None:
            end_request()
        else:
            db.session.remove()

    app.jinja_env.filters["timeago"] = timeago
    app.jinja_env.filters["sentence"] = sentence
    app.jinja_env.globals["time_tag"] = time_tag
    app.jinja_env.globals["url_for"] = remembered_url_for
    app.jinja_env.filters["iso"] = lambda d: d.isoformat() if d else None
    app.jinja_env.globals["now"] = utcnow
    app.jinja_env.globals["range_words"] = range_words
    app.jinja_env.globals["item_heading"] = item_heading
    app.jinja_env.globals["counted"] = counted
    app.jinja_env.globals["pending_reviews"] = _pending_reviews
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def helpers():
        return {"wants_json": wants_json, "datetime": datetime}
