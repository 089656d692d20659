"""Flags, the review queue, and the append-only record of acts of power: audit events."""
from sqlalchemy import DDL, event

from ..extensions import db
from .types import UTCDateTime, utcnow

# Discourse's post_action_type_id for each flag, and the words a member reads.
FLAG_TYPES = {"off_topic": 3, "inappropriate": 4, "other": 7, "spam": 8}
FLAG_LABELS = {"off_topic": "Off-topic", "inappropriate": "Inappropriate", "spam": "Spam",
               "other": "Something else"}
# Clarifications live in the amendments table; their kind says which they are.
FLAG_TARGETS = ("post", "topic", "amendment", "clarification")
REVIEW_STATUSES = ("pending", "agreed", "disagreed", "ignored")


def _in(column, values):
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class ReviewItem(db.Model):
    """One flagged thing waiting for a moderator: a queue row per target and round of flags.

    While it is pending, new flags on the same target join it; once reviewed, a later flag by
    someone else opens a new one. `flag_count` is recounted from the flag rows.
    """

    __tablename__ = "review_items"
    id = db.Column(db.Integer, primary_key=True)
    target_kind = db.Column(db.String(16), nullable=False)
    target_id = db.Column(db.Integer, nullable=False)
    # The author of the flagged words, so a moderator can act on them from the queue.
    target_user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False,
                               index=True)
    status = db.Column(db.String(16), nullable=False, default="pending")
    flag_count = db.Column(db.Integer, nullable=False, default=0)
    # Set when enough members flagged it that it was hidden pending this review.
    hidden_by_flags_at = db.Column(UTCDateTime, nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    reviewed_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=True)
    reviewed_at = db.Column(UTCDateTime, nullable=True)
    review_reason = db.Column(db.Text, nullable=False, default="")

    target_user = db.relationship("User", foreign_keys=[target_user_id])
    reviewed_by = db.relationship("User", foreign_keys=[reviewed_by_id])
    flags = db.relationship("Flag", back_populates="review_item", order_by="Flag.id")

    __table_args__ = (
        db.CheckConstraint(_in("target_kind", FLAG_TARGETS), name="target_kind"),
        db.CheckConstraint(_in("status", REVIEW_STATUSES), name="status"),
        db.Index("ix_review_items_status_created", "status", "created_at"),
        # One pending queue row per target, whatever the concurrency.
        db.Index("uq_review_items_pending_target", "target_kind", "target_id", unique=True,
                 sqlite_where=db.text("status = 'pending'"),
                 postgresql_where=db.text("status = 'pending'")),
    )


class Flag(db.Model):
    """One member's flag on one post, topic, amendment or clarification; the key makes it one."""

    __tablename__ = "flags"
    id = db.Column(db.Integer, primary_key=True)
    review_item_id = db.Column(db.Integer, db.ForeignKey("review_items.id"), nullable=False,
                               index=True)
    target_kind = db.Column(db.String(16), nullable=False)
    target_id = db.Column(db.Integer, nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    flag_type = db.Column(db.String(16), nullable=False)
    message = db.Column(db.Text, nullable=False, default="")
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    review_item = db.relationship(ReviewItem, back_populates="flags")
    user = db.relationship("User")

    __table_args__ = (
        db.UniqueConstraint("target_kind", "target_id", "user_id"),
        db.CheckConstraint(_in("target_kind", FLAG_TARGETS), name="target_kind"),
        db.CheckConstraint(_in("flag_type", tuple(FLAG_TYPES)), name="flag_type"),
    )

    @property
    def label(self):
        return FLAG_LABELS[self.flag_type]


class AuditEvent(db.Model):
    """One act by one actor on exactly one target. Never updated or deleted: the database
    refuses both (see the triggers below), so a correction is a new event."""

    __tablename__ = "audit_events"
    id = db.Column(db.Integer, primary_key=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=True, index=True)
    action = db.Column(db.String(64), nullable=False, index=True)
    target_kind = db.Column(db.String(32), nullable=False)
    target_id = db.Column(db.Integer, nullable=False)
    reason = db.Column(db.Text, nullable=False, default="")
    details = db.Column(db.JSON, nullable=False, default=dict)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    actor = db.relationship("User")

    __table_args__ = (db.Index("ix_audit_events_target", "target_kind", "target_id"),)


# The same statements run in migration 0004; here they also reach schemas made by create_all.
APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
]
APPEND_ONLY_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$",
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
]
for _statement in APPEND_ONLY_SQLITE:
    event.listen(AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in APPEND_ONLY_POSTGRESQL:
    event.listen(AuditEvent.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="postgresql"))
