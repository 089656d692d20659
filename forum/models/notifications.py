"""Notifications, what members watch, how they want mail, and the mail outbox."""
from ..extensions import db
from .types import UTCDateTime, utcnow

LEVELS = ("watching", "tracking", "normal", "muted")
EMAIL_MODES = ("immediately", "daily", "never")
# none: no mail; pending: an immediate mail is queued; digest: waits for the daily digest;
# digested: went out in a digest.
EMAIL_STATES = ("none", "pending", "digest", "digested")
MAIL_STATUSES = ("pending", "sending", "sent", "failed")


def _in(column, values):
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class Notification(db.Model):
    """One thing one member should hear about. Kinds are listed in services.notifications."""

    __tablename__ = "notifications"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        nullable=False)
    kind = db.Column(db.String(40), nullable=False)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"),
                         nullable=True)
    topic_id = db.Column(db.Integer, db.ForeignKey("topics.id", ondelete="CASCADE"),
                         nullable=True)
    post_id = db.Column(db.Integer, db.ForeignKey("posts.id", ondelete="CASCADE"), nullable=True)
    proposal_id = db.Column(db.Integer, db.ForeignKey("proposals.id", ondelete="CASCADE"),
                            nullable=True)
    amendment_id = db.Column(db.Integer, db.ForeignKey("amendments.id", ondelete="CASCADE"),
                             nullable=True)
    # What the list shows (title, actor's name, link, counts), fixed when it was written, so
    # listing needs no joins.
    data = db.Column(db.JSON, nullable=False, default=dict)
    email_state = db.Column(db.String(16), nullable=False, default="none")
    read_at = db.Column(UTCDateTime, nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    # Set by the queries that list notifications (services.notifications.listed): the post has
    # since been hidden or withdrawn, so its words are no longer shown.
    withheld = False

    @property
    def shown_data(self):
        """`data` as it may be shown now: without the post's excerpt once it is withheld."""
        data = dict(self.data or {})
        if self.withheld:
            data.pop("excerpt", None)
        return data

    __table_args__ = (
        db.CheckConstraint(_in("email_state", EMAIL_STATES), name="email_state"),
        db.Index("ix_notifications_user_updated", "user_id", "updated_at"),
        db.Index("ix_notifications_unread", "user_id", "kind",
                 sqlite_where=db.text("read_at IS NULL"),
                 postgresql_where=db.text("read_at IS NULL")),
        db.Index("ix_notifications_digest", "user_id",
                 sqlite_where=db.text("email_state = 'digest'"),
                 postgresql_where=db.text("email_state = 'digest'")),
    )


class TopicNotificationLevel(db.Model):
    """A member's level for one topic; no row means the default (normal)."""

    __tablename__ = "topic_notification_levels"
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True)
    topic_id = db.Column(db.Integer, db.ForeignKey("topics.id", ondelete="CASCADE"),
                         primary_key=True, index=True)
    level = db.Column(db.String(16), nullable=False)
    # Why: created, replied, amended (defaults), or chosen (the member set it).
    reason = db.Column(db.String(16), nullable=False, default="chosen")
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (db.CheckConstraint(_in("level", LEVELS), name="level"),)


class ProcessNotificationLevel(db.Model):
    """A member's level for a whole process: watching hears of every new proposal, muted
    silences its threads unless a topic says otherwise."""

    __tablename__ = "process_notification_levels"
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True)
    process_id = db.Column(db.Integer, db.ForeignKey("processes.id", ondelete="CASCADE"),
                           primary_key=True, index=True)
    level = db.Column(db.String(16), nullable=False)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (db.CheckConstraint(_in("level", LEVELS), name="level"),)


class EmailPreference(db.Model):
    """How a member wants mail about one kind of notification; no row means the kind's
    default."""

    __tablename__ = "email_preferences"
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True)
    kind = db.Column(db.String(40), primary_key=True)
    mode = db.Column(db.String(16), nullable=False)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (db.CheckConstraint(_in("mode", EMAIL_MODES), name="mode"),)


class MailOutbox(db.Model):
    """A rendered message waiting to go out. Written in the transaction that caused it, sent
    after commit, retried with backoff until sent; a failure never deletes it."""

    __tablename__ = "mail_outbox"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        nullable=True, index=True)
    kind = db.Column(db.String(40), nullable=False)
    to_address = db.Column(db.String(254), nullable=False)
    subject = db.Column(db.String(300), nullable=False)
    text = db.Column(db.Text, nullable=False)
    html = db.Column(db.Text, nullable=True)
    headers = db.Column(db.JSON, nullable=False, default=dict)
    status = db.Column(db.String(16), nullable=False, default="pending")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    claimed_at = db.Column(UTCDateTime, nullable=True)
    last_error = db.Column(db.Text, nullable=True)
    sent_at = db.Column(UTCDateTime, nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        db.CheckConstraint(_in("status", MAIL_STATUSES), name="status"),
        db.Index("ix_mail_outbox_due", "status", "next_attempt_at"),
    )
