"""Notification mail: members' choices per kind, the mail outbox, sending with retries, the
daily digest, and signed one-click unsubscribe links.

A mail is rendered and written to mail_outbox in the transaction that made its notification,
and sent after that commits (never inside it). A failed send stays in the outbox with a later
next_attempt_at (1, 2, 4 ... minutes, at most 6 hours) for `flask forum send-mail`; after
MAX_ATTEMPTS it is marked failed, still kept, and `send-mail --retry-failed` tries again.
"""
import logging
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update

from .. import mail, permissions
from ..db import write_transaction
from ..errors import ValidationFailed, require
from ..extensions import db
from ..models import EmailPreference, MailOutbox, Notification, User, utcnow
from ..models.notifications import EMAIL_MODES
from ..upsert import upsert
from .notifications import KINDS, describe, listed, recount_unread

log = logging.getLogger("forum.mail")

MAX_ATTEMPTS = 12
CLAIM_TIMEOUT = timedelta(minutes=15)
DIGEST_MAX = 50
UNSUBSCRIBE_SALT = "forum.unsubscribe"
# What an unsubscribe link may stop, besides one kind of notification.
UNSUBSCRIBE_SCOPES = ("digest", "all")


# -- preferences ----------------------------------------------------------------------------------

def preferences(user_id):
    """{kind: mode} for every kind, the member's choice or the kind's default."""
    chosen = dict(db.session.execute(select(EmailPreference.kind, EmailPreference.mode).where(
        EmailPreference.user_id == user_id)).all())
    return {name: chosen.get(name, kind.email) for name, kind in KINDS.items()}


def set_preferences(user, choices):
    """choices: {kind: mode}; kinds left out keep their setting."""
    require(permissions.can_read_notifications(user))
    if not isinstance(choices, dict):
        raise ValidationFailed(field_errors={"email": ["Send a mapping of kind to mode."]})
    errors = {}
    for kind, mode in choices.items():
        if kind not in KINDS:
            errors[kind] = [f"{kind} is not a kind of notification."]
        elif mode not in EMAIL_MODES:
            errors[kind] = [f"{KINDS[kind].label}: choose immediately, daily or never."]
    if errors:
        raise ValidationFailed(field_errors=errors)
    with write_transaction():
        for kind, mode in choices.items():
            _set(user.id, kind, mode)
    return preferences(user.id)


def _set(user_id, kind, mode):
    now = utcnow()
    db.session.execute(upsert(EmailPreference, ("user_id", "kind"),
                              {"user_id": user_id, "kind": kind, "mode": mode, "updated_at": now},
                              update={"mode": mode, "updated_at": now}))


# -- routing a new notification ---------------------------------------------------------------------

def route(notification):
    """Decide, in the notification's transaction, whether it is mailed now, later or never."""
    user = db.session.get(User, notification.user_id)
    mode = db.session.scalar(select(EmailPreference.mode).where(
        EmailPreference.user_id == user.id, EmailPreference.kind == notification.kind)) \
        or KINDS[notification.kind].email
    if mode == "never" or not user.is_verified or user.is_suspended():
        notification.email_state = "none"
    elif mode == "daily":
        notification.email_state = "digest"
    else:
        notification.email_state = "pending"
        outbox = queue(user, notification.kind, *render_notification(user, notification))
        from .notifications import _count_after_commit

        _count_after_commit(user.id, outbox.id)


def queue(user, kind, subject, text, html, headers):
    """Write a message to the outbox, in the caller's transaction."""
    row = MailOutbox(user_id=user.id, kind=kind, to_address=user.email, subject=subject[:300],
                     text=text, html=html, headers=headers, status="pending",
                     next_attempt_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


# -- rendering --------------------------------------------------------------------------------------

def absolute(path):
    return current_app.config["BASE_URL"].rstrip("/") + path


def unsubscribe_token(user_id, scope):
    """A signed token naming the member and what to stop; it cannot be altered to name
    another member or scope without the secret key."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).dumps(
        {"u": user_id, "s": scope})


def read_unsubscribe_token(token):
    """(user_id, scope) from a token we signed, or None."""
    try:
        data = URLSafeSerializer(current_app.config["SECRET_KEY"],
                                 salt=UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) \
            or data.get("s") not in (*KINDS, *UNSUBSCRIBE_SCOPES):
        return None
    return data["u"], data["s"]


def _unsubscribe_headers(url):
    # RFC 8058: a mail client may POST "List-Unsubscribe=One-Click" to the URL.
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _render(name, **context):
    env = current_app.jinja_env
    return (env.get_template(f"mail/{name}.txt").render(**context),
            env.get_template(f"mail/{name}.html").render(**context))


def _stop_all_url(user):
    """Every mail also offers to stop all mail at once, not only its own kind."""
    return absolute(f"/email/unsubscribe/{unsubscribe_token(user.id, 'all')}")


def render_notification(user, notification):
    """(subject, text, html, headers) of the mail for one notification."""
    scope_url = absolute(f"/email/unsubscribe/{unsubscribe_token(user.id, notification.kind)}")
    line = describe(notification)
    text, html = _render("notification", user=user, line=line, kind=KINDS[notification.kind],
                         data=notification.data, link=absolute(notification.data.get("url", "/")),
                         unsubscribe_url=scope_url, unsubscribe_all_url=_stop_all_url(user),
                         preferences_url=absolute("/notifications/preferences"))
    return f"[Forum] {line}", text, html, _unsubscribe_headers(scope_url)


def render_digest(user, notifications, more):
    scope_url = absolute(f"/email/unsubscribe/{unsubscribe_token(user.id, 'digest')}")
    items = [{"line": describe(n), "link": absolute(n.data.get("url", "/")),
              "excerpt": n.shown_data.get("excerpt", "")} for n in notifications]
    text, html = _render("digest", user=user, items=items, more=more,
                         unsubscribe_url=scope_url, unsubscribe_all_url=_stop_all_url(user),
                         notifications_url=absolute("/notifications"),
                         preferences_url=absolute("/notifications/preferences"))
    count = len(notifications) + more
    subject = f"[Forum] Your daily summary: {count} new notification{'s' * (count != 1)}"
    return subject, text, html, _unsubscribe_headers(scope_url)


# -- after commit: counts and sending -------------------------------------------------------------

def after_commit(app, user_ids, mail_ids):
    """Recount the bells of the members just notified, then send the mail just queued."""
    from ..search import own_session

    try:
        with own_session(app) as session:
            for user_id in user_ids:
                _begin(session)
                recount_unread(session, user_id)
                session.commit()
            if mail_ids and app.config.get("MAIL_SEND_AFTER_COMMIT", True):
                send_due(session, ids=mail_ids)
    except Exception:  # the outbox keeps the mail for `flask forum send-mail`
        log.exception("work after commit failed; the outbox keeps the mail")


def _begin(session):
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={"forum_write": True})


def backoff(attempts):
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


def send_due(session, ids=None, now=None, limit=200):
    """Send outbox mail that is due (or just `ids`); returns (sent, failed). Each message is
    claimed first, so two senders never send the same one."""
    now = now or utcnow()
    stmt = select(MailOutbox.id).where(MailOutbox.status == "pending",
                                       MailOutbox.next_attempt_at <= now)
    if ids is not None:
        stmt = stmt.where(MailOutbox.id.in_(ids))
    due = session.scalars(stmt.order_by(MailOutbox.id).limit(limit)).all()
    session.commit()
    sent = failed = 0
    for mail_id in due:
        _begin(session)
        claimed = session.execute(update(MailOutbox).where(
            MailOutbox.id == mail_id, MailOutbox.status == "pending").values(
            status="sending", claimed_at=utcnow())).rowcount
        session.commit()
        if not claimed:
            continue
        row = session.get(MailOutbox, mail_id)
        try:
            mail.send(row.to_address, row.subject, row.text, row.html, row.headers)
        except mail.MailNotSent as exc:
            failed += 1
            _begin(session)
            row.attempts += 1
            row.last_error = str(exc)[:2000]
            row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
            row.next_attempt_at = utcnow() + backoff(row.attempts)
            row.claimed_at = None
            session.commit()
            log.warning("%s (attempt %d)", exc, row.attempts)
            continue
        _begin(session)
        row.attempts += 1
        row.status, row.sent_at, row.claimed_at, row.last_error = "sent", utcnow(), None, None
        session.commit()
        sent += 1
    return sent, failed


def release_stale_claims(session, now=None):
    """Messages claimed by a sender that died mid-send go back to the queue."""
    now = now or utcnow()
    _begin(session)
    count = session.execute(update(MailOutbox).where(
        MailOutbox.status == "sending", MailOutbox.claimed_at < now - CLAIM_TIMEOUT).values(
        status="pending", claimed_at=None)).rowcount
    session.commit()
    return count


def retry_failed(session):
    _begin(session)
    count = session.execute(update(MailOutbox).where(MailOutbox.status == "failed").values(
        status="pending", attempts=0, next_attempt_at=utcnow())).rowcount
    session.commit()
    return count


# -- the daily digest -------------------------------------------------------------------------------

def send_digests(session):
    """One summary mail per member with notifications waiting for the digest; returns how many
    were queued. Each member's notifications are claimed in one UPDATE, so a second run at the
    same time finds nothing to send twice."""
    user_ids = session.scalars(select(Notification.user_id).where(
        Notification.email_state == "digest").distinct()).all()
    session.commit()
    queued = 0
    for user_id in user_ids:
        _begin(session)
        claimed = session.scalars(update(Notification).where(
            Notification.user_id == user_id, Notification.email_state == "digest")
            .values(email_state="digested").returning(Notification.id)).all()
        user = session.get(User, user_id)
        modes = dict(session.execute(select(EmailPreference.kind, EmailPreference.mode).where(
            EmailPreference.user_id == user_id)).all())
        # What was read since, or whose kind is no longer wanted daily, is left out.
        notes = [n for n in listed(session, select(Notification).where(
            Notification.id.in_(claimed), Notification.read_at.is_(None))
            .order_by(Notification.updated_at.desc()))
            if modes.get(n.kind, KINDS[n.kind].email if n.kind in KINDS else "never") == "daily"]
        if notes and user.is_verified and not user.is_suspended():
            row = MailOutbox(user_id=user.id, kind="digest", to_address=user.email,
                             status="pending", next_attempt_at=utcnow())
            row.subject, row.text, row.html, row.headers = render_digest(
                user, notes[:DIGEST_MAX], max(len(notes) - DIGEST_MAX, 0))
            session.add(row)
            queued += 1
        session.commit()
    return queued


# -- unsubscribing ----------------------------------------------------------------------------------

def describe_scope(scope):
    if scope == "all":
        return "all mail from the forum"
    if scope == "digest":
        return "the daily summary"
    return f"mail about {KINDS[scope].label.lower()}"


def unsubscribe(token):
    """Stop what a signed link names; returns (user, what was stopped) or raises."""
    found = read_unsubscribe_token(token or "")
    if found is None:
        raise ValidationFailed("This unsubscribe link is not valid. Change what we send you "
                               "under Notifications, Email preferences.")
    user_id, scope = found
    user = db.session.get(User, user_id)
    if user is None:
        raise ValidationFailed("This unsubscribe link is for an account that no longer exists.")
    with write_transaction():
        current = preferences(user.id)
        if scope == "all":
            kinds = list(KINDS)
        elif scope == "digest":
            kinds = [k for k, mode in current.items() if mode == "daily"]
        else:
            kinds = [scope]
        for kind in kinds:
            _set(user.id, kind, "never")
    return user, describe_scope(scope)
