"""Parts of pages that are the same for every reader, rendered once and kept in each worker.

A topic list renders thirty rows a request, and most of a list's time went into rendering them
although a row changes only when its topic does. Each part here is rendered by a macro from
exactly the values it is kept under, so a kept part is always what rendering it again would
give: a changed title, count or category badge, or a new age ("3h"), is a new key. What differs
per reader stays in the page's own template. A worker keeps at most PARTS_KEPT parts and starts
afresh when it has that many (as links.remembered_url_for does); a part is about a kilobyte.
"""
from flask import current_app, request

from ..models import utcnow
from ..web import timeago
from .links import Link

PARTS_KEPT = 1000
_PARTS = {}


def kept(key, render, *values):
    """The part kept under `key`, else render(*values), kept. `key` must hold every value the
    rendering reads (with the script root for its links), so that it is the same part."""
    part = _PARTS.get(key)
    if part is None:
        part = render(*values)
        if len(_PARTS) >= PARTS_KEPT:
            _PARTS.clear()
        _PARTS[key] = part
    return part


def macros(template):
    """The macros of a template, as a module of functions."""
    return current_app.jinja_env.get_template(template).module


class TopicRows:
    """The reader-independent parts of a page of topic rows (templates/_topic_row.html)."""

    def __init__(self, badges):
        self.badges = badges
        self.topic_url = Link("topics.show", "slug", "topic_id")
        self.profile_url = Link("users.profile", "username")
        self.script_root = request.script_root
        self._macros = None
        self.now = utcnow()

    def __call__(self, row):
        """(head, tail) of a row: what comes before the reader's unread count, and after it."""
        t, author = row.topic, row.author
        key = ("topic-row", self.script_root, t.id, t.slug, t.title, t.pinned_at is not None,
               t.closed, self.badges[t.category_id], author.username, author.username_lower,
               t.reply_count, t.views, t.bumped_at, timeago(t.bumped_at, self.now))
        return kept(key, self._render, *key[2:])

    def _render(self, topic_id, slug, title, pinned, closed, badge, author, author_lower,
                reply_count, views, bumped_at, age):
        if self._macros is None:
            self._macros = macros("_topic_row.html")
        return (self._macros.row_head(title, self.topic_url(slug, topic_id), pinned, closed),
                self._macros.row_tail(badge, self.profile_url(author_lower), author, reply_count,
                                      views, bumped_at, age))
