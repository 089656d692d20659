"""List queries that take the viewer: topics, posts, members and the moderation log, each with
a whitelist of filters and sorts. Proposals and amendments have theirs in proposal_queries."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Integer, and_, bindparam, case, literal, not_, null, select, union_all
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import Category, Post, PostLike, Topic, TopicUser, User, utcnow

TOP_PERIODS = {"daily": 1, "weekly": 7, "monthly": 30, "quarterly": 91, "yearly": 365,
               "all": None}
LIST_FILTERS = ("latest", "top", "new", "unread", "category")
NEW_TOPIC_DAYS = 2


# What a list page shows of a topic, its category and its author, read as one labelled row
# (row.slug, row.category_name, ...). Loading thirty Topics, Categories and Users through the
# ORM cost more than the query, and so did converting columns the page never shows.
_LISTED = (Topic.id, Topic.slug, Topic.title, Topic.pinned_at.is_not(None).label("pinned"),
           Topic.closed, Topic.posts_count, Topic.views, Topic.highest_post_number,
           Topic.bumped_at, Topic.created_at, Category.id.label("category_id"),
           Category.slug.label("category_slug"), Category.name.label("category_name"),
           User.username, User.username_lower)


@dataclass(slots=True)
class TopicRow:
    """A topic in a list, with what the viewer has read of it; worked out once per row, since
    a page asks several times. `topic` is a Topic (posters=True) or a row of _LISTED."""

    topic: object
    last_read: int | None
    new_since: datetime | None = None  # topics created after this are new to a first visitor
    unread: int = field(init=False)
    is_new: bool = field(init=False)

    def __post_init__(self):
        topic, last_read = self.topic, self.last_read
        self.unread = 0 if last_read is None else max(topic.highest_post_number - last_read, 0)
        new_since = self.new_since or utcnow() - timedelta(days=NEW_TOPIC_DAYS)
        self.is_new = last_read is None and topic.created_at > new_since


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self):
        return self.page > 1


def topic_list(viewer, list_filter="latest", category=None, period="all", page=1, per_page=30,
               posters=False):
    """One query for a page of topics with the viewer's read state; +1 row tells of a next page.

    `posters` loads the topics with both posters as members, with their groups, as the JSON
    twin and the feeds show them. A page reads only what it shows (_LISTED), so each item's
    topic and author are one labelled row.
    """
    if list_filter not in LIST_FILTERS:
        raise ValueError(list_filter)
    page = max(int(page), 1)
    uid = viewer.id if viewer.is_authenticated else None
    if list_filter == "unread" and not uid:
        return Page([], page, per_page, False)
    days = {"top": TOP_PERIODS.get(period), "new": NEW_TOPIC_DAYS}.get(list_filter)
    stmt = _topic_list_statement(list_filter, category is not None, uid is not None,
                                 bool(viewer.is_staff), bool(days), posters)
    offset = (page - 1) * per_page
    # A page's rows are plain columns: read through the connection, not the ORM's loading.
    run = db.session.execute if posters else db.session.connection().execute
    rows = run(stmt, {
        "uid": uid, "category_id": category.id if category is not None else None,
        "since": utcnow() - timedelta(days=days) if days else None,
        "offset": offset, "limit": per_page + 1, "window": offset + per_page + 1}).all()
    new_since = utcnow() - timedelta(days=NEW_TOPIC_DAYS)
    if posters:
        items = [TopicRow(topic, read, new_since) for topic, read in rows[:per_page]]
    else:
        items = [TopicRow(row, row.last_read, new_since) for row in rows[:per_page]]
    return Page(items, page, per_page, len(rows) > per_page)


def page_bound(name):
    """A page's LIMIT or OFFSET, written into the statement as a number when it runs rather
    than sent as a parameter. PostgreSQL cannot see a parameter's value in a plan it keeps for
    a prepared statement, and guesses a tenth of the table: so it planned the topic list afresh
    on every run (1.1 ms, to run it in 0.5). With the numbers in the text, each page size has
    a statement of its own, whose kept plan knows it."""
    return bindparam(name, type_=Integer, literal_execute=True)


@lru_cache(maxsize=None)
def _topic_list_statement(list_filter, in_category, signed_in, staff, since, posters):
    """The statement for one shape of list, built once per process with its values as bound
    parameters: building and keying a statement this size per request cost more than running it.

    The page is chosen from narrow rows in a subquery and only its topics are then joined to
    their authors and read state, so no request sorts the whole topics table with its joins.
    """
    read = and_(TopicUser.topic_id == Topic.id, TopicUser.user_id == bindparam("uid"))
    where = [Topic.deleted_at.is_(None)]
    if in_category:
        where.append(Topic.category_id == bindparam("category_id"))
    if not staff:
        # Hidden topics show only to staff; their authors reach them by link.
        where.append(Topic.hidden_at.is_(None))
    if list_filter != "category" or not staff:
        # Unlisted: in no list but for staff in its category; anyone with the link can read it.
        where.append(Topic.visible.is_(True))
    if since:
        where.append(Topic.created_at >= bindparam("since"))
    limit, offset = page_bound("limit"), page_bound("offset")
    if list_filter in ("latest", "category"):
        pinned = Topic.pinned_at.is_not(None)
        if not in_category:
            pinned = and_(pinned, Topic.pinned_globally)
        order = [case((pinned, 0), else_=1), Topic.bumped_at.desc(), Topic.id.desc()]
        page_ids = _pinned_first(where, pinned, offset, limit)
    else:
        chosen = select(Topic.id)
        if list_filter == "top":
            order = [(Topic.like_count * 2 + Topic.posts_count + Topic.views / 10).desc(),
                     Topic.id.desc()]
        elif list_filter == "new":
            if signed_in:
                chosen = chosen.outerjoin(TopicUser, read)
                where.append(TopicUser.user_id.is_(None))
            order = [Topic.created_at.desc(), Topic.id.desc()]
        else:  # unread
            chosen = chosen.join(TopicUser, read)
            where.append(TopicUser.last_read_post_number < Topic.highest_post_number)
            order = [Topic.bumped_at.desc(), Topic.id.desc()]
        page_ids = chosen.where(*where).order_by(*order).limit(limit).offset(offset)

    last_read = (TopicUser.last_read_post_number if signed_in else null()).label("last_read")
    if posters:
        stmt = select(Topic, last_read).options(joinedload(Topic.user),
                                                joinedload(Topic.last_post_user))
    else:
        stmt = (select(*_LISTED, last_read)
                .join(Category, Category.id == Topic.category_id)
                .join(User, User.id == Topic.user_id))
    if signed_in:
        stmt = stmt.outerjoin(TopicUser, read)
    return stmt.where(Topic.id.in_(page_ids)).order_by(*order)


def _pinned_first(where, pinned, offset, limit):
    """Ids of a page of pinned topics first, then the rest by last activity.

    The same order as sorting on "pinned, bumped_at", but written so that the unpinned part
    walks the bumped_at index and stops after the page (`window` = offset + limit rows)
    instead of sorting every topic.
    """
    pinned_ids = select(Topic.id.label("id"), literal(0).label("rank"),
                        Topic.bumped_at.label("bumped_at")).where(*where, pinned)
    rest = (select(Topic.id.label("id"), literal(1).label("rank"),
                   Topic.bumped_at.label("bumped_at"))
            .where(*where, not_(pinned))
            .order_by(Topic.bumped_at.desc(), Topic.id.desc()).limit(page_bound("window"))
            .subquery())
    both = union_all(pinned_ids, select(rest)).subquery()
    return (select(both.c.id).order_by(both.c.rank, both.c.bumped_at.desc(), both.c.id.desc())
            .limit(limit).offset(offset))


def categories():
    return db.session.scalars(select(Category).order_by(Category.position, Category.name)).all()


class PostAuthor(NamedTuple):
    id: int
    username: str
    username_lower: str
    name: str
    role: str


class PostRow:
    """A post as a page shows it: every column of a Post, its author's name and role as
    `user`, its `topic`, and whether the viewer liked it. Read as rows, not loaded as Post
    objects: for a page of twenty posts with their authors, loading them through the ORM cost
    twice as much as the query. Detached from the session and only for reading; changes go
    through the services."""

    FIELDS = tuple(column.key for column in Post.__table__.columns)

    def __init__(self, row, topic):
        n = len(self.FIELDS)
        self.__dict__.update(zip(self.FIELDS, row))
        self.user = PostAuthor(self.user_id, *row[n:n + 4])
        self.liked = bool(row[n + 4])
        self.topic = topic

    @property
    def is_first(self):
        return self.post_number == 1


# Built once: building and keying a statement per request cost more than running it. The
# viewer's like comes with each post (none for a visitor, whose viewer_id is NULL). Written with
# the tables' columns, not the models' attributes, so that SQLAlchemy runs it as a plain
# statement, without setting up the ORM's loading for its rows.
_posts, _users, _likes = Post.__table__.c, User.__table__.c, PostLike.__table__.c
_PAGE_OF_POSTS = (
    select(*_posts, _users.username, _users.username_lower, _users.name, _users.role,
           _likes.user_id.is_not(None))
    .join_from(Post.__table__, User.__table__, _users.id == _posts.user_id)
    .outerjoin(PostLike.__table__, and_(_likes.post_id == _posts.id,
                                        _likes.user_id == bindparam("viewer_id")))
    .where(_posts.topic_id == bindparam("topic_id"),
           _posts.post_number.between(bindparam("first"), bindparam("last")))
    .order_by(_posts.post_number))


def _viewer_id(viewer):
    return viewer.id if viewer.is_authenticated else None


def topic_posts(viewer, topic, page, per_page):
    """The posts of one page of a topic by post number (as PostRows), and which of them the
    viewer liked."""
    first = (page - 1) * per_page + 1
    rows = db.session.execute(_PAGE_OF_POSTS, {
        "topic_id": topic.id, "first": first, "last": first + per_page - 1,
        "viewer_id": _viewer_id(viewer)})
    posts = [PostRow(row, topic) for row in rows]
    return posts, {p.id for p in posts if p.liked}


_STREAM = select(Post.id).where(Post.topic_id == bindparam("topic_id")).order_by(Post.post_number)
_POSTS_BY_ID = _PAGE_OF_POSTS.where(_posts.id.in_(bindparam("post_ids", expanding=True)))


def topic_stream(topic):
    """The ids of every post of the topic by post number (Discourse's post_stream.stream)."""
    return list(db.session.scalars(_STREAM, {"topic_id": topic.id}))


def topic_posts_by_id(viewer, topic, post_ids):
    """The topic's posts among `post_ids`, by post number, and which of them the viewer liked."""
    rows = db.session.execute(_POSTS_BY_ID, {
        "topic_id": topic.id, "first": 1, "last": topic.highest_post_number,
        "post_ids": list(post_ids), "viewer_id": _viewer_id(viewer)})
    posts = [PostRow(row, topic) for row in rows]
    return posts, {p.id for p in posts if p.liked}


_TOPIC_AND_READ_STATE = (
    select(Topic, TopicUser)
    .outerjoin(TopicUser, and_(TopicUser.topic_id == Topic.id,
                               TopicUser.user_id == bindparam("viewer_id")))
    .where(Topic.id == bindparam("topic_id")))


def topic_and_read_state(viewer, topic_id):
    """The topic (None if there is none) and what the viewer has read of it, in one query: what
    a topic page reads first."""
    found = db.session.execute(_TOPIC_AND_READ_STATE, {
        "topic_id": topic_id, "viewer_id": _viewer_id(viewer)}).first()
    return (None, None) if found is None else tuple(found)


_READ_STATE = select(TopicUser).where(TopicUser.topic_id == bindparam("topic_id"),
                                      TopicUser.user_id == bindparam("user_id"))


def read_state(viewer, topic):
    if not viewer.is_authenticated:
        return None
    return db.session.scalars(_READ_STATE, {"topic_id": topic.id, "user_id": viewer.id}).first()


def recent_posts(user, limit=20):
    return db.session.scalars(
        select(Post).join(Topic).where(Post.user_id == user.id, Post.deleted_at.is_(None),
                                       Post.hidden_at.is_(None), Topic.deleted_at.is_(None),
                                       Topic.hidden_at.is_(None), Topic.visible.is_(True))
        .options(joinedload(Post.topic)).order_by(Post.created_at.desc()).limit(limit)).all()


USERNAME_LONGEST = 30


def search_users(prefix, limit=10):
    """Members whose username starts with `prefix`; a prefix longer than any username finds
    nobody without asking the database (SQLite refuses a LIKE pattern over 50,000 bytes)."""
    prefix = (prefix or "").lower()
    if len(prefix) > USERNAME_LONGEST:
        return []
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return db.session.scalars(select(User).where(User.username_lower.like(pattern, escape="\\"))
                              .order_by(User.username_lower).limit(limit)).all()


# -- the moderation log ------------------------------------------------------------------------

def moderation_log(actor_id=None, action=None, target_kind=None, since=None, until=None,
                   page=1, per_page=50):
    """Audit events, newest first, filtered by who, what, on what kind of thing and when.

    `actor_id` 0 asks for events with no actor: the system (enough flags) or the console.
    """
    from .models import AuditEvent

    stmt = select(AuditEvent).options(joinedload(AuditEvent.actor))
    if actor_id == 0:
        stmt = stmt.where(AuditEvent.actor_id.is_(None))
    elif actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if target_kind:
        stmt = stmt.where(AuditEvent.target_kind == target_kind)
    if since is not None:
        stmt = stmt.where(AuditEvent.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.created_at < until)
    page = max(int(page), 1)
    rows = db.session.scalars(stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
                              .limit(per_page + 1).offset((page - 1) * per_page)).all()
    return Page(rows[:per_page], page, per_page, len(rows) > per_page)


def moderation_log_choices():
    """The actions and target kinds that occur in the log, for its filters."""
    from .models import AuditEvent

    actions = db.session.scalars(select(AuditEvent.action).distinct()
                                 .order_by(AuditEvent.action)).all()
    kinds = db.session.scalars(select(AuditEvent.target_kind).distinct()
                               .order_by(AuditEvent.target_kind)).all()
    return actions, kinds
