"""Write endpoints of moderation: flags, the review queue, hiding, topic status, moving and
splitting, silencing and suspending."""
from datetime import timedelta

from forum.extensions import db
from forum.models import utcnow
from forum.permissions import CONSOLE
from forum.services import member_moderation, moderation, review

from . import NOBODY, PARTICIPANTS, STAFF, ADMINS, Case, api, form

UNTIL = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%d")
RESTRICT = {"silence": member_moderation.silence_member,
            "suspend": member_moderation.suspend_member}


def others_post(ctx):
    return ctx.reply(ctx.other)


def own_post(ctx):
    return ctx.reply(ctx.actor)


def others_amendment(ctx):
    proposal = ctx.make.proposal(user=ctx.make.user())
    return ctx.make.amendment(proposal, user=ctx.other)


def others_clarification(ctx):
    proposal = ctx.make.proposal(user=ctx.make.user())
    return ctx.make.amendment(proposal, user=ctx.other, kind="clarification",
                              text="What does this paragraph mean exactly?")


def pending_review(ctx):
    post = others_post(ctx)
    review.flag(ctx.make.user(), "post", post.id, "spam")
    return review._pending_review("post", post)


def hidden(kind, pick):
    def build(ctx):
        target = pick(ctx)
        moderation.hide(CONSOLE, kind, target.id, "rude")
        return target
    return build


def topic_in(**state):
    def build(ctx):
        topic = ctx.topic
        for name, value in state.items():
            setattr(topic, name, value)
        db.session.commit()
        return topic
    return build


# -- flags -------------------------------------------------------------------------------------

def flag_form(area, pick):
    def build(ctx):
        return form(f"/{area}/{pick(ctx).id}/flag", flag_type="spam")
    return build


def flag_post_json(pick, **extra):
    def build(ctx):
        body = {"id": pick(ctx).id, "post_action_type_id": 8}
        body.update(extra)
        return api("/post_actions.json", body)
    return build


def flag_item_json(pick):
    def build(ctx):
        return api(f"/amendments/{pick(ctx).id}/flags.json",
                   {"post_action_type_id": 7, "message": "This is a personal attack."})
    return build


# -- review ------------------------------------------------------------------------------------

def review_json(action, **body):
    def build(ctx):
        return api(f"/review/{pending_review(ctx).id}/{action}.json", body)
    return build


def review_form(action):
    def build(ctx):
        return form(f"/review/{pending_review(ctx).id}/{action}", reason="checked")
    return build


# -- hiding ------------------------------------------------------------------------------------

def hide_form(area, pick, action="hide"):
    def build(ctx):
        return form(f"/{area}/{pick(ctx).id}/{action}", reason="personal attack")
    return build


def hide_json(area, pick, value=True):
    def build(ctx):
        return api(f"/{area}/{pick(ctx).id}/hidden.json", {"hidden": value, "reason": "spam"})
    return build


# -- topics ------------------------------------------------------------------------------------

def status_json(status, enabled, **state):
    def build(ctx):
        topic = topic_in(**state)(ctx)
        return api(f"/t/{topic.id}/status.json", {"status": status, "enabled": enabled})
    return build


def move_json(ctx):
    return api(f"/t/{ctx.topic.id}.json", {"category_id": ctx.make.category().id,
                                           "reason": "belongs there"})


def split_json(ctx):
    posts = [ctx.reply(ctx.other), ctx.reply(ctx.other)]
    return api(f"/t/{ctx.topic.id}/move-posts.json",
               {"post_ids": [p.id for p in posts], "title": "A side discussion of its own"})


def controls_form(action, **fields):
    def build(ctx):
        body = dict(fields)
        if action == "move":
            body["category_id"] = str(ctx.make.category().id)
        if action == "split":
            body["post_ids"] = str(ctx.reply(ctx.other).id)
        return form(f"/t/{ctx.topic.id}/moderate", action=action, **body)
    return build


# -- members -----------------------------------------------------------------------------------

def member_json(action, target="member", restricted=False):
    def build(ctx):
        user = ctx.make.user(role="admin") if target == "admin" else ctx.other
        if restricted:
            RESTRICT[action](CONSOLE, user.id, "earlier", UNTIL)
            action_now = f"un{action}"
        else:
            action_now = action
        return api(f"/admin/users/{user.id}/{action_now}.json",
                   {"reason": "abuse of other members", "until": UNTIL})
    return build


def member_form(action, restricted=False):
    def build(ctx):
        if restricted:
            RESTRICT[action.removeprefix("un")](CONSOLE, ctx.other.id, "earlier", UNTIL)
        return form(f"/u/{ctx.other.username_lower}/moderation", action=action,
                    reason="abuse of other members", until=UNTIL)
    return build


CASES = [
    Case("moderation.flag", "POST", flag_form("posts", others_post), PARTICIPANTS,
         state="another's post"),
    Case("moderation.flag", "POST", flag_form("posts", own_post), NOBODY, state="own post"),
    Case("moderation.flag", "POST", flag_form("t", lambda ctx: ctx.topic), PARTICIPANTS,
         state="another's topic"),
    Case("moderation.flag", "POST", flag_form("amendments", others_amendment), PARTICIPANTS,
         state="another's amendment"),
    Case("moderation.flag_item_json", "POST", flag_item_json(others_clarification),
         PARTICIPANTS, state="another's clarification"),
    Case("moderation.flag_item_json", "POST", flag_item_json(hidden("amendment",
                                                                    others_amendment)),
         NOBODY, state="hidden amendment"),
    Case("posts.create_action", "POST", flag_post_json(others_post), PARTICIPANTS,
         state="flag a post"),
    Case("posts.create_action", "POST", flag_post_json(others_post, flag_topic=True),
         PARTICIPANTS, state="flag its topic"),
    Case("posts.create_action", "POST", flag_post_json(own_post), NOBODY,
         state="flag own post"),

    Case("moderation.review_act_json", "POST", review_json("agree", reason="spam indeed"),
         STAFF, state="agree"),
    Case("moderation.review_act_json", "POST", review_json("disagree"), STAFF,
         state="disagree"),
    Case("moderation.review_act_json", "POST", review_json("ignore"), STAFF, state="ignore"),
    Case("moderation.review_act", "POST", review_form("agree"), STAFF, state="agree"),
    Case("moderation.review_act", "POST", review_form("disagree"), STAFF, state="disagree"),
    Case("moderation.review_act", "POST", review_form("ignore"), STAFF, state="ignore"),

    Case("moderation.hide", "POST", hide_form("posts", others_post), STAFF, state="hide post"),
    Case("moderation.hide", "POST", hide_form("posts", hidden("post", others_post), "unhide"),
         STAFF, state="unhide post"),
    Case("moderation.hide", "POST", hide_form("t", lambda ctx: ctx.topic), STAFF,
         state="hide topic"),
    Case("moderation.hide", "POST", hide_form("amendments", others_clarification), STAFF,
         state="hide clarification"),
    Case("moderation.hide_json", "PUT", hide_json("posts", others_post), STAFF,
         state="hide post"),
    Case("moderation.hide_json", "PUT", hide_json("amendments", hidden("amendment",
                                                                       others_amendment), False),
         STAFF, state="unhide amendment"),
    Case("moderation.hide_json", "PUT", hide_json("t", lambda ctx: ctx.topic), STAFF,
         state="hide topic"),

    Case("moderation.topic_status_json", "PUT", status_json("closed", True), STAFF,
         state="lock"),
    Case("moderation.topic_status_json", "PUT", status_json("closed", False, closed=True),
         STAFF, state="unlock"),
    Case("moderation.topic_status_json", "PUT", status_json("pinned", True), STAFF,
         state="pin"),
    Case("moderation.topic_status_json", "PUT", status_json("pinned_globally", True), STAFF,
         state="pin globally"),
    Case("moderation.topic_status_json", "PUT", status_json("visible", False), STAFF,
         state="unlist"),
    Case("moderation.update_topic_json", "PUT", move_json, STAFF, state="move"),
    Case("moderation.split_json", "POST", split_json, STAFF, state="split"),
    Case("moderation.topic_controls", "POST",
         controls_form("status", status="closed", enabled="true"), STAFF, state="lock"),
    Case("moderation.topic_controls", "POST", controls_form("move"), STAFF, state="move"),
    Case("moderation.topic_controls", "POST",
         controls_form("split", title="Split out into a new topic"), STAFF, state="split"),

    Case("moderation_members.member_json", "PUT", member_json("silence"), STAFF,
         state="silence a member"),
    Case("moderation_members.member_json", "PUT", member_json("silence", restricted=True),
         STAFF, state="unsilence a member"),
    Case("moderation_members.member_json", "PUT", member_json("suspend"), STAFF,
         state="suspend a member"),
    Case("moderation_members.member_json", "PUT", member_json("suspend", restricted=True),
         STAFF, state="unsuspend a member"),
    Case("moderation_members.member_json", "PUT", member_json("suspend", target="admin"),
         ADMINS, state="suspend an admin"),
    Case("moderation_members.member_page", "POST", member_form("silence"), STAFF,
         state="silence"),
    Case("moderation_members.member_page", "POST", member_form("suspend"), STAFF,
         state="suspend"),
    Case("moderation_members.member_page", "POST", member_form("unsilence", restricted=True),
         STAFF, state="unsilence"),
    Case("moderation_members.member_page", "POST", member_form("unsuspend", restricted=True),
         STAFF, state="unsuspend"),
]
