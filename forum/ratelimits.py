"""Rate limits on writes and searches: per IP and per account, tighter in an account's first day.

The limits are settings (config.py, RATELIMIT_*). Counters live in the limiter's storage, which
is Redis when REDIS_URL is set, so every worker and every app host counts together. Each kind
of action is one shared limit, so the HTML form and its JSON twin draw on the same allowance:

    @ratelimits.posts                 # on every view that writes a reply
    def reply(topic_id): ...

A refusal is the 429 page, or {"errors": [...], "extras": {"wait_seconds": N}} (forum/web.py).
"""
import re
from datetime import timedelta

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from .extensions import limiter
from .models.types import utcnow

WRITES = ["POST", "PUT", "DELETE"]


def is_new_account(user):
    """In the first NEW_ACCOUNT_HOURS after signing up."""
    created = getattr(user, "created_at", None)
    if not user.is_authenticated or created is None:
        return False
    return utcnow() - created < timedelta(hours=current_app.config["NEW_ACCOUNT_HOURS"])


# A link to somewhere, not an @mention of a member.
_LINK = re.compile(r'<a href="(?!/u/)', re.IGNORECASE)


def check_new_account_links(user, raw, errors, field="raw"):
    """In an account's first day, at most NEW_ACCOUNT_MAX_LINKS links per post: the cheapest
    spam is a fresh account posting links."""
    from .markup import cook

    if not is_new_account(user):
        return
    allowed = current_app.config["NEW_ACCOUNT_MAX_LINKS"]
    if len(_LINK.findall(cook(raw))) > allowed:
        errors[field] = [f"New accounts can put at most {allowed} links in a post during "
                         "their first day. Remove some, or post them tomorrow."]


def ip_key():
    return f"ip:{get_remote_address()}"


def account_key():
    """The signed-in member; visitors have none, and an empty key skips the limit."""
    return f"user:{current_user.id}" if current_user.is_authenticated else ""


def _setting(name):
    return lambda: current_app.config[name]


def _account_setting(name, new_name):
    def value():
        return current_app.config[new_name if is_new_account(current_user) else name]
    return value


def _form_value(*names):
    """The first of the request's fields `names` that has a value, as lower-case text."""
    data = request.get_json(silent=True) if request.is_json else request.form
    if not hasattr(data, "get"):
        return ""
    for name in names:
        value = data.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip().lower()
    return ""


def _is_preview():
    return request.method == "POST" and "preview" in request.form


def _both(scope, account, new_account, per_ip, methods=WRITES, exempt_when=None):
    """One decorator putting the account limit and the IP limit of `scope` on a view."""
    by_account = limiter.shared_limit(_account_setting(account, new_account),
                                      scope=f"{scope}:account", key_func=account_key,
                                      methods=methods, exempt_when=exempt_when)
    by_ip = limiter.shared_limit(_setting(per_ip), scope=f"{scope}:ip", key_func=ip_key,
                                 methods=methods, exempt_when=exempt_when)

    def decorate(view):
        return by_ip(by_account(view))
    return decorate


# -- content -------------------------------------------------------------------------------------

posts = _both("posts", "RATELIMIT_POST", "RATELIMIT_POST_NEW", "RATELIMIT_POST_IP",
              exempt_when=_is_preview)
topics = _both("topics", "RATELIMIT_TOPIC", "RATELIMIT_TOPIC_NEW", "RATELIMIT_TOPIC_IP",
               exempt_when=_is_preview)
votes = _both("votes", "RATELIMIT_VOTE", "RATELIMIT_VOTE_NEW", "RATELIMIT_VOTE_IP")
flags = _both("flags", "RATELIMIT_FLAG", "RATELIMIT_FLAG_NEW", "RATELIMIT_FLAG_IP")
# Opening the search page with no query searches nothing, so it costs none of the allowance.
searches = _both("searches", "RATELIMIT_SEARCH", "RATELIMIT_SEARCH_NEW", "RATELIMIT_SEARCH_IP",
                 methods=None, exempt_when=lambda: not request.args.get("q", "").strip())
# Cooking a long text takes a worker up to a second or so; previews cost it and save nothing.
previews = _both("previews", "RATELIMIT_PREVIEW", "RATELIMIT_PREVIEW_NEW",
                 "RATELIMIT_PREVIEW_IP")


def _creates_topic():
    return not _form_value("topic_id") and not request.view_args.get("topic_id")


# POST /posts.json writes a reply when it names a topic and starts one when it does not.
topics_via_posts_json = _both("topics", "RATELIMIT_TOPIC", "RATELIMIT_TOPIC_NEW",
                              "RATELIMIT_TOPIC_IP", exempt_when=lambda: not _creates_topic())


# POST /post_actions.json likes (type 2, a vote) or flags (3, 4, 7, 8) a post.
def _is_like():
    return _form_value("post_action_type_id") == "2"


votes_via_post_actions = _both("votes", "RATELIMIT_VOTE", "RATELIMIT_VOTE_NEW",
                               "RATELIMIT_VOTE_IP", exempt_when=lambda: not _is_like())
flags_via_post_actions = _both("flags", "RATELIMIT_FLAG", "RATELIMIT_FLAG_NEW",
                               "RATELIMIT_FLAG_IP", exempt_when=_is_like)


# -- accounts ------------------------------------------------------------------------------------

def _sign_in_name():
    return f"login:{_form_value('login', 'username', 'email')}" \
        if _form_value('login', 'username', 'email') else ""


def _reset_email():
    return f"reset:{_form_value('email')}" if _form_value("email") else ""


# Per IP, every attempt; per account name, failed attempts only, so guessing one member's
# password from many addresses stops while that member can still sign in from elsewhere.
sign_in_ip = limiter.shared_limit(_setting("RATELIMIT_SIGNIN"), scope="sign-in:ip",
                                  key_func=ip_key, methods=["POST"])
sign_in_account = limiter.shared_limit(_setting("RATELIMIT_SIGNIN_ACCOUNT"),
                                       scope="sign-in:account", key_func=_sign_in_name,
                                       methods=["POST"],
                                       deduct_when=lambda response: response.status_code >= 400)
sign_up = limiter.shared_limit(_setting("RATELIMIT_SIGNUP"), scope="sign-up:ip",
                               key_func=ip_key, methods=["POST"])
reset_ip = limiter.shared_limit(_setting("RATELIMIT_RESET"), scope="reset:ip", key_func=ip_key,
                                methods=["POST"])
reset_account = limiter.shared_limit(_setting("RATELIMIT_RESET_ACCOUNT"), scope="reset:account",
                                     key_func=_reset_email, methods=["POST"])


def sign_in(view):
    return sign_in_ip(sign_in_account(view))


# -- refused writes cost nothing -------------------------------------------------------------------

# The allowances a refused write gives back: a member's own for content, and an address's for
# accounts made. An address's limits on content keep counting every attempt.
REFUNDED_SCOPES = ("posts:account", "topics:account", "votes:account", "flags:account",
                   "sign-up:ip")


def refund_refused(response):
    """After a refused write (a form error, a closed topic), hand back what it took.

    Every write is counted as it arrives, atomically in the limiter's storage, so a burst of
    requests at once, across workers, never gets past a limit; a refusal then gives its hit
    back, so that correcting a mistake is not what uses up a new member's three topics a day.
    """
    if request.method not in WRITES or response.status_code < 400 \
            or response.status_code == 429:
        return response
    for applied in limiter.current_limits:
        if applied.request_args[-1] in REFUNDED_SCOPES and not applied.breached:
            limiter.limiter.hit(applied.limit, *applied.request_args, cost=-1)
    return response


def password_reset(view):
    return reset_ip(reset_account(view))
