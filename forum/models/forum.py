"""Categories, topics, posts, their revisions, likes, and per-member read state."""
from ..extensions import db
from .types import UTCDateTime, utcnow

TOPIC_CREATORS = ("everyone", "moderators", "admins")


class Category(db.Model):
    __tablename__ = "categories"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50), nullable=False, unique=True)
    slug = db.Column(db.String(50), nullable=False, unique=True)
    color = db.Column(db.String(7), nullable=False, default="#0f766e")
    description = db.Column(db.Text, nullable=False, default="")
    position = db.Column(db.Integer, nullable=False, default=0)
    # Who may start topics here: everyone (verified members), moderators, or admins.
    topic_creators = db.Column(db.String(16), nullable=False, default="everyone")
    topic_count = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        db.CheckConstraint("topic_creators in ('everyone', 'moderators', 'admins')",
                           name="topic_creators"),
    )


class Topic(db.Model):
    __tablename__ = "topics"
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(255), nullable=False)
    slug = db.Column(db.String(255), nullable=False)
    kind = db.Column(db.String(16), nullable=False, default="regular")
    category_id = db.Column(db.Integer, db.ForeignKey("categories.id"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    bumped_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    last_posted_at = db.Column(UTCDateTime, nullable=True)
    last_post_user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=True)
    # Counters below are recomputed from the post rows by services.posts.refresh_topic_stats.
    posts_count = db.Column(db.Integer, nullable=False, default=0)
    highest_post_number = db.Column(db.Integer, nullable=False, default=0)
    like_count = db.Column(db.Integer, nullable=False, default=0)
    views = db.Column(db.Integer, nullable=False, default=0)
    closed = db.Column(db.Boolean, nullable=False, default=False)
    # The moderator's reason for closing it, shown where the reply box would be.
    closed_reason = db.Column(db.Text, nullable=True)
    visible = db.Column(db.Boolean, nullable=False, default=True)
    pinned_at = db.Column(UTCDateTime, nullable=True)
    pinned_globally = db.Column(db.Boolean, nullable=False, default=False)
    deleted_at = db.Column(UTCDateTime, nullable=True)
    # Hidden by moderation (or enough flags): readers see a notice, its author and staff the topic.
    hidden_at = db.Column(UTCDateTime, nullable=True)
    hidden_reason = db.Column(db.Text, nullable=True)

    # "unnested": after an outer join (a post's topic) the category joins flat, as a LEFT OUTER
    # JOIN; SQLite materialises a nested "(topics JOIN categories)" whole before using it.
    category = db.relationship(Category, lazy="joined", innerjoin="unnested")
    user = db.relationship("User", foreign_keys=[user_id])
    last_post_user = db.relationship("User", foreign_keys=[last_post_user_id])

    # Every topic list reads the pinned topics first: the few of them, without a scan.
    __table_args__ = (
        db.Index("ix_topics_pinned", "pinned_at", sqlite_where=db.text("pinned_at IS NOT NULL"),
                 postgresql_where=db.text("pinned_at IS NOT NULL")),
    )

    @property
    def reply_count(self):
        return max(self.posts_count - 1, 0)


class Post(db.Model):
    __tablename__ = "posts"
    id = db.Column(db.Integer, primary_key=True)
    topic_id = db.Column(db.Integer, db.ForeignKey("topics.id", ondelete="CASCADE"),
                         nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    post_number = db.Column(db.Integer, nullable=False)
    reply_to_post_number = db.Column(db.Integer, nullable=True)
    raw = db.Column(db.Text, nullable=False)
    cooked = db.Column(db.Text, nullable=False)
    cook_version = db.Column(db.Integer, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    version = db.Column(db.Integer, nullable=False, default=1)
    like_count = db.Column(db.Integer, nullable=False, default=0)
    reply_count = db.Column(db.Integer, nullable=False, default=0)
    deleted_at = db.Column(UTCDateTime, nullable=True)
    deleted_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=True)
    hidden_at = db.Column(UTCDateTime, nullable=True)
    hidden_reason = db.Column(db.Text, nullable=True)

    topic = db.relationship(Topic)
    user = db.relationship("User", foreign_keys=[user_id])

    __table_args__ = (
        db.UniqueConstraint("topic_id", "post_number"),
        db.Index("ix_posts_topic_created", "topic_id", "created_at"),
    )

    @property
    def is_first(self):
        return self.post_number == 1


class PostRevision(db.Model):
    """One edit of a post: who, when, why, and the text before and after."""

    __tablename__ = "post_revisions"
    id = db.Column(db.Integer, primary_key=True)
    post_id = db.Column(db.Integer, db.ForeignKey("posts.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    number = db.Column(db.Integer, nullable=False)
    reason = db.Column(db.Text, nullable=False, default="")
    raw_before = db.Column(db.Text, nullable=False)
    raw_after = db.Column(db.Text, nullable=False)
    title_before = db.Column(db.String(255), nullable=True)
    title_after = db.Column(db.String(255), nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    user = db.relationship("User")

    __table_args__ = (db.UniqueConstraint("post_id", "number"),)


class PostLike(db.Model):
    __tablename__ = "post_likes"
    post_id = db.Column(db.Integer, db.ForeignKey("posts.id", ondelete="CASCADE"),
                        primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True, index=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class TopicUser(db.Model):
    """What one member has read of one topic."""

    __tablename__ = "topic_users"
    topic_id = db.Column(db.Integer, db.ForeignKey("topics.id", ondelete="CASCADE"),
                         primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True, index=True)
    last_read_post_number = db.Column(db.Integer, nullable=False, default=0)
    first_visited_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    last_visited_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
