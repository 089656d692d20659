"""The session cookie and the CSRF token, verified and signed once per worker, not per request.

A signed-in reader sends the same session cookie with every page, and every page's forms carry
a CSRF token signed from the same secret in that session. Checking the cookie's signature and
decoding it took about 0.2 ms a request, and signing the token 0.15 ms: a fifth of a topic
list's time. Each worker now remembers both by what they are computed from:

- a session cookie, by its exact text, until the age at which Flask would refuse it;
- a signed token, by the session's secret. Tokens have no time limit here
  (WTF_CSRF_TIME_LIMIT = None), so a token signed a minute ago is as good as a new one; with a
  time limit set, every page signs its own, as Flask-WTF does.

Only sessions holding nothing but plain values (text, numbers, flags) are remembered: a list in
a session, such as flashed messages, can be changed in place by the request that reads it.
"""
import time

from flask import current_app, g, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature

from .views.links import Kept

_PLAIN = (str, int, float, bool, type(None))


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with each worker remembering the cookies it has
    verified."""

    def __init__(self, limit=4096):
        self.verified = Kept(limit)

    def open_session(self, app, request):
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return super().open_session(app, request)
        key = (app.secret_key, value)
        known = self.verified.get(key)
        if known is not None and time.time() < known[0]:
            return self.session_class(known[1])
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if all(isinstance(v, _PLAIN) for v in data.values()):
            self.verified.keep(key, (signed_at.timestamp() + max_age, dict(data)))
        return self.session_class(data)


_SIGNED_TOKENS = Kept(4096)


def csrf_token():
    """The page's signed CSRF token: Flask-WTF's generate_csrf, with the signature remembered
    per session secret while tokens have no time limit."""
    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    if field in g or config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return generate_csrf()
    signing_key = config.get("WTF_CSRF_SECRET_KEY")
    if signing_key is None:  # as Flask-WTF chooses it
        signing_key = current_app.secret_key
    secret = session.get(field)
    if isinstance(secret, str) and (signed := _SIGNED_TOKENS.get((signing_key, secret))):
        setattr(g, field, signed)
        return signed
    signed = generate_csrf()  # signs, making the session's secret first if it has none
    if isinstance(secret := session.get(field), str):
        _SIGNED_TOKENS.keep((signing_key, secret), signed)
    return signed
