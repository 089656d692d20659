"""Signed-in devices: one user_sessions row per device, whose secret only its cookie holds.

Signing out deletes the device's row; suspension and a password change or reset delete all of
a member's rows (with session_version bumped too), so a copied cookie signs no one in.
"""
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from .. import permissions
from ..db import write_transaction
from ..errors import NotFound, require
from ..extensions import db
from ..ids import as_id
from ..models import UserSession, utcnow


def _text(value):
    return value if isinstance(value, str) else ""


def start_session(user, user_agent=""):
    """Sign `user` in on one more device; returns the secret its cookie is to carry.

    The database keeps only the secret's hash, so reading the table does not sign anyone in.
    """
    secret = secrets.token_urlsafe(32)
    # A device unseen for longer than any cookie lasts can never be used again: forget it.
    lifetime = max(_seconds(current_app.config.get("REMEMBER_COOKIE_DURATION")),
                   _seconds(current_app.config.get("PERMANENT_SESSION_LIFETIME")))
    with write_transaction(keep_loaded=True):
        if lifetime:
            db.session.execute(delete(UserSession).where(
                UserSession.user_id == user.id,
                UserSession.last_seen_at < utcnow() - timedelta(seconds=lifetime)))
        db.session.add(UserSession(user_id=user.id, token_hash=UserSession.hash(secret),
                                   user_agent=_text(user_agent)[:UserSession.USER_AGENT_MAX]))
    return secret


def _seconds(value):
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value or 0)


def end_session(secret):
    """Sign out the one device whose cookie carries `secret`."""
    if not isinstance(secret, str) or not secret:
        return
    with write_transaction(keep_loaded=True):
        db.session.execute(delete(UserSession).where(
            UserSession.token_hash == UserSession.hash(secret)))


def end_all_sessions(user_id):
    """Inside a transaction: sign the member out everywhere (password change, suspension)."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user_id))


def end_other_sessions(actor, user, keep_secret):
    """Sign `user` out of every device but the one whose cookie carries `keep_secret` (with
    none, of every device); returns how many were signed out."""
    require(permissions.can_manage_sessions(actor, user))
    keep = UserSession.hash(keep_secret) if isinstance(keep_secret, str) else ""
    with write_transaction(keep_loaded=True):
        result = db.session.execute(delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.token_hash != keep))
    return result.rowcount


def end_device(actor, user, session_id):
    """Sign `user` out of one device, by its row's id (the devices list shows them)."""
    require(permissions.can_manage_sessions(actor, user))
    with write_transaction(keep_loaded=True):
        result = db.session.execute(delete(UserSession).where(
            UserSession.id == as_id(session_id), UserSession.user_id == user.id)) \
            if as_id(session_id) else None
    if result is None or not result.rowcount:
        raise NotFound("You are not signed in on that device.")


def list_sessions(user):
    return db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)
                              .order_by(UserSession.last_seen_at.desc(),
                                        UserSession.id.desc())).all()


def touch_session(session_id, now=None):
    """Note that a device was seen; the user loader asks for it only every few minutes."""
    with write_transaction(keep_loaded=True):
        db.session.execute(update(UserSession).where(UserSession.id == session_id)
                           .values(last_seen_at=now or utcnow()))
