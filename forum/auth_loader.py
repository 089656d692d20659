"""How a request is tied to a member: the session cookie, or Api-Key and Api-Username headers."""
import hmac
from datetime import timedelta

from flask import g, request
from flask_login import current_user
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import lazyload

from .errors import PermissionDenied
from .extensions import csrf, db
from .ids import as_id
from .models import ApiKey, User, UserSession, utcnow
from .permissions import Anonymous


# Built once: building and keying these statements on every signed-in request or script's
# call cost more than running them. Neither loads the member's group (and its nation) with
# them: most pages never look at it, and those that do (a profile, a national process's
# eligibility) load it when they do.
# A live key with the member it acts as, in one statement: its own member, or for an
# all-members key the one Api-Username names (None if nobody is called that).
_LIVE_KEY_AND_MEMBER = (
    select(ApiKey, User)
    .outerjoin(User, or_(User.id == ApiKey.user_id,
                         and_(ApiKey.user_id.is_(None),
                              User.username_lower == bindparam("username"))))
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
    .options(lazyload(User.group)))
_SESSION_MEMBER = (
    select(User, UserSession.id, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(User.id == bindparam("user_id"), User.session_version == bindparam("version"),
           UserSession.token_hash == bindparam("token_hash"))
    .options(lazyload(User.group)))


def init_app(app, login_manager):
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id):
        """The member of a session id "{user id}:{session version}:{device secret}".

        One query: the member joined to the device's row. Signing out deletes the row, so a
        copied session or remember cookie stops working; a bumped session_version (password
        change, suspension) ends every session of the member as well.
        """
        if request.headers.get("Api-Key"):
            return None  # a script's request is judged by its key alone
        parts = (session_id or "").split(":")
        if len(parts) != 3:
            return None
        user_id, version, secret = as_id(parts[0]), as_id(parts[1]), parts[2]
        if user_id is None or version is None or not secret or len(secret) > 100:
            return None
        found = db.session.execute(_SESSION_MEMBER, {
            "user_id": user_id, "version": version,
            "token_hash": UserSession.hash(secret)}).first()
        if found is None:
            return None
        user, device_id, last_seen_at = found
        if user.is_suspended():
            return None
        user.session_secret = secret
        now = utcnow()
        if now - last_seen_at >= timedelta(seconds=UserSession.TOUCH_EVERY_SECONDS):
            g.device_session_seen = device_id
        return user

    @app.after_request
    def note_device_seen(response):
        # After the page is built, and only every few minutes per device: not a write per page.
        device_id = g.pop("device_session_seen", None)
        if device_id is not None:
            from .services.sessions import touch_session

            try:
                touch_session(device_id)
            except Exception:  # noqa: BLE001 - a busy database must not fail the page
                db.session.rollback()
                app.logger.warning("could not note that device session %s was seen", device_id,
                                   exc_info=True)
        return response

    @login_manager.request_loader
    def load_user_from_api_key(req):
        key = req.headers.get("Api-Key")
        if not key:
            return None
        username = (req.headers.get("Api-Username") or "").lower()
        # NUL: no member is called that, and PostgreSQL cannot even compare it.
        found = db.session.execute(_LIVE_KEY_AND_MEMBER, {
            "key_hash": ApiKey.hash(key),
            "username": "" if "\x00" in username else username}).first()
        if found is None:
            return _refuse_key("That API key is not valid: it does not exist or was revoked.")
        api_key, user = found
        if api_key.user_id is not None:
            # Bytes: compare_digest refuses str with non-ASCII characters (a header can have).
            if username and not hmac.compare_digest(username.encode(),
                                                    user.username_lower.encode()):
                return _refuse_key("That API key acts only as its own member, "
                                   "not as the one Api-Username names.")
        else:
            if not username:
                return _refuse_key("An all-members API key needs Api-Username: "
                                   "the member it acts as.")
            if user is None:
                return _refuse_key("No member has the username Api-Username gives.")
        if user.is_suspended():
            return _refuse_key("That member is suspended.")
        g.api_key = api_key
        return user

    def _refuse_key(message):
        g.api_key_refusal = message
        return None

    @app.before_request
    def refuse_bad_api_keys():
        # A script that sends a key is told what is wrong with it, not treated as a visitor.
        if request.headers.get("Api-Key"):
            current_user._get_current_object()  # runs load_user_from_api_key
            if message := g.pop("api_key_refusal", None):
                raise PermissionDenied(message)

    @app.before_request
    def protect_from_csrf():
        # Scripts using an API key send no cookie, so cross-site forgery cannot ride on them.
        if request.headers.get("Api-Key") or not app.config.get("WTF_CSRF_ENABLED", True):
            return
        # A view whose URL carries its own signed proof (one-click unsubscribe, RFC 8058, which
        # mail clients POST without any page) says so with `view.csrf_exempt = True`.
        if getattr(app.view_functions.get(request.endpoint), "csrf_exempt", False):
            return
        csrf.protect()
