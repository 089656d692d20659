"""Members and where they belong: users, nations, groups, sections, API keys."""
import hashlib

from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .types import UTCDateTime, utcnow

ROLES = ("member", "moderator", "admin")


class Nation(db.Model):
    __tablename__ = "nations"
    code = db.Column(db.String(32), primary_key=True)
    name = db.Column(db.String(80), nullable=False)


class Group(db.Model):
    """A geographic group; every member belongs to exactly one."""

    __tablename__ = "groups"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False, unique=True)
    slug = db.Column(db.String(80), nullable=False, unique=True)
    nation_code = db.Column(db.String(32), db.ForeignKey("nations.code"), nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    nation = db.relationship(Nation, lazy="joined")


class Section(db.Model):
    """A thematic section; its leads run the policy labs of proposals in it."""

    __tablename__ = "sections"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False, unique=True)
    slug = db.Column(db.String(80), nullable=False, unique=True)
    description = db.Column(db.Text, nullable=False, default="")
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    memberships = db.relationship("SectionMembership", back_populates="section",
                                  cascade="all, delete-orphan")


class SectionMembership(db.Model):
    __tablename__ = "section_memberships"
    section_id = db.Column(db.Integer, db.ForeignKey("sections.id", ondelete="CASCADE"),
                           primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True)
    is_lead = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    section = db.relationship(Section, back_populates="memberships")
    user = db.relationship("User", back_populates="section_memberships")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(30), nullable=False)
    username_lower = db.Column(db.String(30), nullable=False, unique=True)
    email = db.Column(db.String(254), nullable=False)
    email_lower = db.Column(db.String(254), nullable=False, unique=True)
    password_hash = db.Column(db.String(255), nullable=False)
    name = db.Column(db.String(80), nullable=False, default="")
    bio_raw = db.Column(db.Text, nullable=False, default="")
    bio_cooked = db.Column(db.Text, nullable=False, default="")
    cook_version = db.Column(db.Integer, nullable=False, default=1)
    role = db.Column(db.String(16), nullable=False, default="member")
    group_id = db.Column(db.Integer, db.ForeignKey("groups.id"), nullable=True)
    email_verified_at = db.Column(UTCDateTime, nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    silenced_until = db.Column(UTCDateTime, nullable=True)
    silence_reason = db.Column(db.Text, nullable=True)
    suspended_until = db.Column(UTCDateTime, nullable=True)
    suspend_reason = db.Column(db.Text, nullable=True)
    # Part of the session identity: bumping it ends every session of this member.
    session_version = db.Column(db.Integer, nullable=False, default=1)
    post_count = db.Column(db.Integer, nullable=False, default=0)
    # Recounted from the notification rows by services.notifications, so the bell costs no query.
    unread_notification_count = db.Column(db.Integer, nullable=False, default=0,
                                          server_default="0")

    group = db.relationship(Group, lazy="joined")
    section_memberships = db.relationship(SectionMembership, back_populates="user",
                                          cascade="all, delete-orphan")

    __table_args__ = (db.CheckConstraint("role in ('member', 'moderator', 'admin')",
                                         name="role"),)

    # The secret of the device session this request belongs to (see UserSession); set when a
    # member signs in and by the user loader, never stored on the row.
    session_secret = None

    def get_id(self):
        if self.session_secret is None:
            # No device session: no cookie made from this id would be accepted.
            return f"{self.id}:{self.session_version}"
        return f"{self.id}:{self.session_version}:{self.session_secret}"

    def set_password(self, password):
        self.password_hash = generate_password_hash(
            password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    @property
    def nation(self):
        return self.group.nation_code if self.group else None

    @property
    def display_name(self):
        return self.name or self.username

    @property
    def is_admin(self):
        return self.role == "admin"

    @property
    def is_staff(self):
        return self.role in ("moderator", "admin")

    @property
    def is_verified(self):
        return self.email_verified_at is not None

    def is_silenced(self, now=None):
        return self.silenced_until is not None and self.silenced_until > (now or utcnow())

    def is_suspended(self, now=None):
        return self.suspended_until is not None and self.suspended_until > (now or utcnow())

    @property
    def avatar_letter(self):
        return self.username[:1].upper()

    @property
    def avatar_class(self):
        return f"av-{int(hashlib.md5(self.username_lower.encode()).hexdigest(), 16) % 12}"


class UserSession(db.Model):
    """One signed-in device. The session (and remember) cookie carries a random secret; only
    its SHA-256 is kept here, so signing out, or ending every session of a member, is deleting
    rows, and a copied cookie stops working with them."""

    __tablename__ = "user_sessions"
    USER_AGENT_MAX = 200
    # last_seen_at is written at most this often, not on every request.
    TOUCH_EVERY_SECONDS = 300

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    token_hash = db.Column(db.String(64), nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    user_agent = db.Column(db.String(USER_AGENT_MAX), nullable=False, default="")

    __table_args__ = (db.Index("ix_user_sessions_token_hash", "token_hash", unique=True),)

    @staticmethod
    def hash(secret):
        return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(db.Model):
    """A key for scripts: for one member, or (user_id NULL) for any member named by Api-Username."""

    __tablename__ = "api_keys"
    id = db.Column(db.Integer, primary_key=True)
    key_hash = db.Column(db.String(64), nullable=False, unique=True)
    truncated = db.Column(db.String(8), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    description = db.Column(db.String(200), nullable=False, default="")
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at = db.Column(UTCDateTime, nullable=True)

    user = db.relationship(User, foreign_keys=[user_id])

    @staticmethod
    def hash(key):
        return hashlib.sha256(key.encode()).hexdigest()
