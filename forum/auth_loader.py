"""How a request is tied to a member: the session cookie, or Api-Key and Api-Username headers."""
import hmac

from flask import g, request
from sqlalchemy import select

from .extensions import csrf, db
from .models import ApiKey, User
from .permissions import Anonymous


def init_app(app, login_manager):
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id):
        if request.headers.get("Api-Key"):
            return None  # a script's request is judged by its key alone
        user_id, _, version = (session_id or "").partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        # A bumped session_version (password change, suspension) ends older sessions.
        if user is None or user.session_version != int(version) or user.is_suspended():
            return None
        return user

    @login_manager.request_loader
    def load_user_from_api_key(req):
        key = req.headers.get("Api-Key")
        if not key:
            return None
        api_key = db.session.scalar(select(ApiKey).where(
            ApiKey.key_hash == ApiKey.hash(key), ApiKey.revoked_at.is_(None)))
        if api_key is None:
            return None
        username = (req.headers.get("Api-Username") or "").lower()
        if "\x00" in username:
            return None  # no member is called that, and PostgreSQL cannot even compare it
        if api_key.user_id is not None:
            user = api_key.user
            # Bytes: compare_digest refuses str with non-ASCII characters (a header can have).
            if username and not hmac.compare_digest(username.encode(),
                                                    user.username_lower.encode()):
                return None
        else:
            user = db.session.scalar(select(User).where(User.username_lower == username))
        if user is None or user.is_suspended():
            return None
        g.api_key = api_key
        return user

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
