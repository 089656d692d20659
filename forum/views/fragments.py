"""Parts of pages rendered once and kept in each worker for the next request that shows them.

A topic list renders thirty rows a request, a topic page twenty posts and a proposal page its
numbered paragraphs and twenty amendments, and most of a page's time went into rendering them
although a row changes only when its topic does. Each part is
rendered by a macro from exactly the values it is kept under, so a kept part is always what
rendering it again would give: a changed title, count or category, or a new age ("3h"), is a
new key. A reader's own values are part of the key where they are plain numbers and flags (an
unread count, whether they liked a post, their vote on an amendment), so readers with the same ones share a part and no
part shows one reader's state to another. A worker keeps at most PARTS_KEPT parts and starts
afresh when it has that many (links.Kept); a part is about a kilobyte.
"""
from typing import NamedTuple

from flask import current_app, request
from flask_login import current_user
from markupsafe import Markup

from ..cookies import csrf_token
from ..models import utcnow
from ..web import timeago
from .links import Kept, Link

PARTS_KEPT = 1000
_PARTS = Kept(PARTS_KEPT)
# Where a kept part holds the page's CSRF token, which changes between pages.
CSRF_STAND_IN = "\x00csrf-token\x00"


def with_csrf_token(part, token=None):
    """A kept part with the page's CSRF token in place of its stand-in. The token is URL-safe
    base64, nothing to escape, so plain str.replace, without Markup's escaping of its
    arguments."""
    return Markup(str.replace(part, CSRF_STAND_IN, token or csrf_token()))


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


class ItemView(NamedTuple):
    """What an amendment or clarification shows to one reader (templates/amendments/_item.html),
    and so the key it is kept under: the reader's own part is their vote, whether they may vote
    and why not, and whether they wrote the item, answer it (the proposal's author) or moderate."""

    single: bool  # its own page: the title is the page's heading
    id: int
    kind: str
    status: str
    start: int
    end: int
    version_number: int
    earlier_version: bool
    username: str
    username_lower: str
    created_at: object
    age: str
    hidden: bool
    hidden_reason: str | None
    redline: tuple
    rationale_cooked: str | None
    text_cooked: str | None
    answer_cooked: str | None
    answer: str | None
    up_count: int
    down_count: int
    score: float
    rank: int | None
    mine: int
    can: bool
    reason: str | None
    signed_in: bool
    is_author: bool
    answers: bool
    staff: bool
    carried: tuple  # the panel's sort and filters, which a vote without JavaScript returns to


_CARRIED = ("sort", "kind", "paragraph", "apage")


def amendment_item(item, rank, mine, can, single=False):
    """An amendment or clarification for this reader, kept between requests under an ItemView
    of every value it shows (the page's CSRF token is put in afterwards)."""
    viewer = current_user._get_current_object()
    signed_in = viewer.is_authenticated
    viewer_id = viewer.id if signed_in else None
    proposal, author, args = item.proposal, item.user, request.args
    view = ItemView(
        bool(single), item.id, item.kind, item.status, item.start, item.end, item.version_number,
        item.version_number != proposal.current_version_number, author.username,
        author.username_lower, item.created_at, timeago(item.created_at),
        item.hidden_at is not None, item.hidden_reason,
        tuple(tuple(change) for change in item.redline or ()), item.rationale_cooked,
        item.text_cooked, item.answer_cooked, item.answer, item.up_count, item.down_count,
        item.score, rank, mine, bool(can), getattr(can, "reason", None), signed_in,
        signed_in and viewer_id == item.user_id, signed_in and viewer_id == proposal.user_id,
        bool(viewer.is_staff), tuple((key, args[key]) for key in _CARRIED if args.get(key)))
    part = kept(("amendment-item", request.script_root, view), _render_item, view)
    return with_csrf_token(part)


def _render_item(view):
    return macros("amendments/_item.html").amendment_item(view, CSRF_STAND_IN)


def proposal_paragraphs(proposal_id, paragraphs, counts, can_amend, target):
    """A proposal's numbered paragraphs [(n, cooked), ...] with their counts {n: [amendments,
    clarifications]}, kept between requests under the text itself and every count shown."""
    counted = tuple((n, *counts.get(n, (0, 0))) for n, _cooked in paragraphs)
    key = ("paragraphs", request.script_root, proposal_id, tuple(paragraphs), counted,
           bool(can_amend), target)
    return kept(key, _render_paragraphs, *key[2:])


def _render_paragraphs(*values):
    return macros("proposals/_paragraphs.html").paragraph_list(*values)
