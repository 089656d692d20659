"""Moderators' acts on members: silence (read only) and suspend (no sign-in) until a date,
and lift either. Each checks permissions, runs one transaction, records one audit event and
tells the member by mail after commit."""
import logging
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from .. import mail, permissions
from ..db import write_transaction
from ..errors import Conflict, NotFound, require
from ..extensions import db
from ..ids import as_id
from ..models import User
from . import audit, sessions
from .hooks import after_commit
from .moderation import check_reason, parse_until

log = logging.getLogger(__name__)


def get_member(user_id):
    user = db.session.get(User, as_id(user_id)) if as_id(user_id) is not None else None
    if user is None:
        raise NotFound("That member does not exist.")
    return user


def locked_member(actor, user_id):
    target = db.session.scalar(select(User).where(User.id == int(user_id))
                               .with_for_update(of=User))
    if target is None:
        raise NotFound("That member does not exist.")
    require(permissions.can_moderate_member(actor, target))
    return target


def silence_member(actor, user_id, reason, until):
    """Read only until `until`: the member can sign in and read, but not write."""
    require(permissions.can_moderate_member(actor, get_member(user_id)))
    reason, until = check_reason(reason), parse_until(until)
    with write_transaction():
        target = locked_member(actor, user_id)
        target.silenced_until, target.silence_reason = until, reason
        audit.record(actor, "silence_user", "user", target.id, reason, until=until.isoformat())
        tell_member(target, "silenced", "You can still sign in and read, but not post, vote, "
                     "amend or flag", until, reason)
    return target


def unsilence_member(actor, user_id, reason=""):
    return _lift(actor, user_id, reason, "silenced", "silence")


def suspend_member(actor, user_id, reason, until):
    """Cannot sign in until `until`; every session and API key of theirs stops at once."""
    require(permissions.can_moderate_member(actor, get_member(user_id)))
    reason, until = check_reason(reason), parse_until(until)
    with write_transaction():
        target = locked_member(actor, user_id)
        target.suspended_until, target.suspend_reason = until, reason
        # Part of every session's identity: bumping it ends them all, remember-me included.
        target.session_version = User.session_version + 1
        sessions.end_all_sessions(target.id)  # and the devices it was signed in on are gone
        audit.record(actor, "suspend_user", "user", target.id, reason, until=until.isoformat())
        tell_member(target, "suspended", "You cannot sign in", until, reason)
    db.session.refresh(target)
    return target


def unsuspend_member(actor, user_id, reason=""):
    return _lift(actor, user_id, reason, "suspended", "suspend")


def _lift(actor, user_id, reason, state, act):
    """End a silence or suspension early: `state` "silenced" or "suspended", whose columns
    are {state}_until and {act}_reason and whose audit action is un{act}_user."""
    require(permissions.can_moderate_member(actor, get_member(user_id)))
    reason = check_reason(reason, required=False)
    with write_transaction():
        target = locked_member(actor, user_id)
        if not getattr(target, f"is_{state}")():
            raise Conflict(f"{target.username} is not {state}.")
        setattr(target, f"{state}_until", None)
        setattr(target, f"{act}_reason", None)
        audit.record(actor, f"un{act}_user", "user", target.id, reason)
    return target


def tell_member(user, what, effect, until, reason):
    _mail_after_commit(
        user.email, f"Your account is {what}",
        f"Hello {user.display_name},\n\nA moderator has {what} your account until "
        f"{until.strftime('%-d %B %Y at %H:%M UTC')}. {effect} until then.\n\n"
        f"Why: {reason}\n\nEvery moderator action is listed in the public moderation log: "
        f"{_link('/moderation-log')}\n")


def _deliver(to, subject, text):
    try:
        mail.send(to, subject, text)
    except Exception:  # noqa: BLE001 - a lost notice must not undo a moderator's act
        log.exception("mail to %s (%r) was not sent", to, subject)


def _mail_after_commit(to, subject, text):
    """Mail once the act has committed; nothing goes out if it rolls back."""
    after_commit(_deliver, to, subject, text)


def _link(path):
    base = current_app.config.get("BASE_URL", "").rstrip("/")
    return base + path if urlsplit(base).scheme else path
