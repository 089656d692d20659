"""Parts of pages rendered once and kept in each worker for the next request that shows them.

A topic list renders thirty rows a request and a topic page twenty posts, and most of a page's
time went into rendering them although a row changes only when its topic does. Each part is
rendered by a macro from exactly the values it is kept under, so a kept part is always what
rendering it again would give: a changed title, count or category, or a new age ("3h"), is a
new key. A reader's own values are part of the key where they are plain numbers and flags (an
unread count, whether they liked a post), so readers with the same ones share a part and no
part shows one reader's state to another. A worker keeps at most PARTS_KEPT parts and starts
afresh when it has that many (links.Kept); a part is about a kilobyte.
"""
from flask import current_app, request
from flask_login import current_user
from markupsafe import Markup

from ..models import utcnow
from ..web import timeago
from .links import Kept, Link

PARTS_KEPT = 1000
_PARTS = Kept(PARTS_KEPT)


def kept(key, render, *values):
    """The part kept under `key`, else render(*values), kept. `key` must hold every value the
    rendering reads (with the script root for its links), so that it is the same part."""
    part = _PARTS.get(key)
    return part if part is not None else _PARTS.keep(key, render(*values))


def macros(template):
    """The macros of a template, as a module of functions."""
    return current_app.jinja_env.get_template(template).module


def topic_rows(items):
    """The rows of a page of topics (queries.TopicRow), each kept between requests under every
    value it shows: the reader's unread count and "new" too, which are only numbers and a flag,
    so readers with the same ones share the row and no reader's row is another's."""
    signed_in = current_user.is_authenticated
    script_root = request.script_root
    now = utcnow()
    links = None
    rows = []
    for row in items:
        t = row.topic  # a labelled row of queries._LISTED
        key = ("topic-row", script_root, t.id, t.slug, t.title, t.pinned, t.closed, row.unread,
               row.unread and row.last_read + 1, row.is_new and signed_in, t.category_id,
               t.category_slug, t.category_name, t.username, t.username_lower,
               max(t.posts_count - 1, 0), t.views, t.bumped_at, timeago(t.bumped_at, now))
        part = _PARTS.get(key)
        if part is None:
            links = links or _TopicRowLinks()
            part = _PARTS.keep(key, links.render(*key[2:]))
        rows.append(part)
    return Markup("").join(rows)


class _TopicRowLinks:
    """What rendering a row needs, made once per page and only when a row is not kept."""

    def __init__(self):
        self.topic_url = Link.of("topics.show", "slug", "topic_id")
        self.post_url = Link.of("topics.show_post", "slug", "topic_id", "post_number")
        self.category_url = Link.of("topics.category", "slug", "category_id")
        self.profile_url = Link.of("users.profile", "username")
        self.macro = macros("_topic_row.html").topic_row

    def render(self, topic_id, slug, title, pinned, closed, unread, unread_from, new,
               category_id, category_slug, category_name, author, author_lower, reply_count,
               views, bumped_at, age):
        return self.macro(
            title, self.topic_url(slug, topic_id), pinned, closed, unread,
            self.post_url(slug, topic_id, unread_from) if unread else None, new, category_id,
            category_slug, category_name, self.category_url(category_slug, category_id), author,
            self.profile_url(author_lower), reply_count, views, bumped_at, age)
