"""What every post of a rendered page shares: its links and the viewer, built once per page."""
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .. import permissions
from .links import Link


class PostStream:
    """The per-page part of rendering posts (templates/_posts.html).

    A post links to itself, to the post it answers, to its author, to the reply and quote forms
    at the end of its topic and to its own actions. url_for costs 10 to 30 µs a call, several
    calls a post, so building every link per post was most of a topic page's rendering time.
    Here each kind of link is built once per page (see links.Link) and filled in per post; the
    reply and quote links are the last page's link with the post number appended, as url_for
    writes them (tests/views/test_post_stream.py).
    """

    def __init__(self, topic, last_page, liked=(), can_reply=False, target_post_number=None):
        self.post_url = Link("topics.show_post", "post_number", slug=topic.slug,
                             topic_id=topic.id)
        # url_for puts query arguments in the order given: ?page=N&reply_to=M.
        self.end_url = Link("topics.show", slug=topic.slug, topic_id=topic.id,
                            page=last_page)()
        self.profile_url = Link("users.profile", "username")
        self.avatar_url = Link("users.avatar", "username")
        self.revisions_url = Link("posts.revisions", "post_id")
        self.liked = liked
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
            self.csrf_token = generate_csrf()
            self.like_url = Link("posts.like", "post_id")
            self.edit_url = Link("posts.edit", "post_id")
            self.withdraw_url = Link("posts.withdraw", "post_id")
            self.flag_url = Link("moderation.flag", "target_id", area="posts")

    def reply_url(self, post_number):
        return f"{self.end_url}&reply_to={post_number}"

    def quote_url(self, post_number):
        return f"{self.end_url}&quote={post_number}"
