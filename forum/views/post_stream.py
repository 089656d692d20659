"""What every post of a rendered page shares: its links and the viewer, built once per page."""
from flask import request
from flask_login import current_user
from markupsafe import Markup

from .. import permissions
from ..cookies import csrf_token
from ..models import utcnow
from ..web import timeago
from .fragments import CSRF_STAND_IN, kept, macros, with_csrf_token
from .links import Link


class PostStream:
    """The per-page part of rendering posts (templates/_posts.html).

    A post links to itself, to the post it answers, to its author, to the reply and quote forms
    at the end of its topic and to its own actions. url_for costs 10 to 30 µs a call, several
    calls a post, so building every link per post was most of a topic page's rendering time.
    Here each kind of link is built once per page (see links.Link) and filled in per post; the
    reply and quote links are the last page's link with the post number appended, as url_for
    writes them (tests/views/test_post_stream.py). A post's header and actions are then kept
    between pages (fragments.kept), keyed by every value they show.
    """

    def __init__(self, topic, last_page, liked=(), can_reply=False, target_post_number=None):
        self.post_url = Link.of("topics.show_post", "post_number", slug=topic.slug,
                                topic_id=topic.id)
        # url_for puts query arguments in the order given: ?page=N&reply_to=M.
        self.end_url = Link.of("topics.show", slug=topic.slug, topic_id=topic.id,
                               page=last_page)()
        self.profile_url = Link.of("users.profile", "username")
        self.avatar_url = Link.of("users.avatar", "username")
        self.revisions_url = Link.of("posts.revisions", "post_id")
        self.liked = liked
        self.script_root = request.script_root
        self._post_macros = None
        self.now = utcnow()
        self.can_reply = can_reply
        self.target_post_number = target_post_number
        viewer = current_user._get_current_object()
        self.signed_in = viewer.is_authenticated
        self.viewer_id = viewer.id if self.signed_in else None
        self.staff = viewer.is_staff
        # Liking and flagging need an account that may write (verified, not silenced): others
        # see the count, not a button that can only refuse (permissions.can_participate).
        self.participates = self.signed_in and bool(permissions.can_participate(viewer))
        self.csrf_token = ""
        if self.signed_in:
            self.csrf_token = csrf_token()
            self.like_url = Link.of("posts.like", "post_id")
            self.edit_url = Link.of("posts.edit", "post_id")
            self.withdraw_url = Link.of("posts.withdraw", "post_id")
            self.flag_url = Link.of("moderation.flag", "target_id", area="posts")

    def articles(self, posts):
        """The page's posts, each an <article> (templates/_posts.html)."""
        return Markup("".join(map(self.article, posts)))

    def article(self, p):
        """A post: its kept header and actions around its text. Most posts show their cooked
        HTML as it is; only a withdrawn or hidden one goes through the template."""
        if p.deleted_at is None and p.hidden_at is None:
            body = f'\n      <div class="cooked">{p.cooked}</div>\n'
        else:
            body = "\n" + self._macros().post_body(p, self)
        return f"{self.head(p)}{body}{self.foot(p)}"

    def head(self, p):
        """The post's opening and header, kept between pages (templates/_posts.html)."""
        u, n, reply_to = p.user, p.post_number, p.reply_to_post_number
        key = ("post-head", self.script_root, self.post_url.parts, n,
               n == self.target_post_number, p.deleted_at is not None, u.username_lower,
               u.username, u.name, u.role, reply_to, p.created_at,
               timeago(p.created_at, self.now))
        return kept(key, self._head, *key[3:])

    def _head(self, n, is_target, withdrawn, author_lower, username, name, role, reply_to,
              created_at, age):
        return self._macros().post_head(
            n, is_target, withdrawn, self.avatar_url(author_lower), self.profile_url(author_lower),
            username, name, role, reply_to, self.post_url(reply_to) if reply_to else None,
            self.post_url(n), created_at, age)

    def foot(self, p):
        """The post's actions for this reader, kept between pages with the CSRF token left
        out (templates/_posts.html)."""
        is_author = self.viewer_id == p.user_id
        key = ("post-foot", self.script_root, self.end_url, p.id, p.post_number, p.version > 1,
               p.deleted_at is not None, p.hidden_at is not None, p.id in self.liked,
               self.participates, is_author, p.like_count, bool(self.can_reply), self.signed_in,
               bool(self.staff), p.reply_count)
        foot = kept(key, self._foot, *key[3:])
        return with_csrf_token(foot, self.csrf_token) if self.signed_in else foot

    def _foot(self, *values):
        return self._macros().post_foot(values[0], values[1], self, *values[2:], CSRF_STAND_IN)

    def _macros(self):
        if self._post_macros is None:
            self._post_macros = macros("_posts.html")
        return self._post_macros

    def reply_url(self, post_number):
        return f"{self.end_url}&reply_to={post_number}"

    def quote_url(self, post_number):
        return f"{self.end_url}&quote={post_number}"
