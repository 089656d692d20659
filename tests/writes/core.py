"""Write endpoints of the forum itself: accounts, settings, topics, posts, likes."""
import logging
import re

from forum.extensions import db
from forum.services import posts as post_service
from tests.conftest import PASSWORD

from . import (EVERYONE, NOBODY, PARTICIPANTS, SIGNED_IN, STAFF, ADMINS, Case, api, form)

NEW_PASSWORD = "a brand new passphrase for testing 42"


# -- accounts ----------------------------------------------------------------------------------

def sign_in_form(ctx):
    return form("/login", login=ctx.other.username, password=PASSWORD)


def sign_in_json(ctx):
    return api("/login", {"login": ctx.other.username, "password": PASSWORD})


def sign_up(ctx):
    return form("/signup", username="newcomer", email="newcomer@example.org",
                password=PASSWORD, name="New Comer", group=str(ctx.actor.group_id))


def sign_out(ctx):
    return form("/logout")


def ask_for_reset(ctx):
    return form("/password-reset", email=ctx.other.email)


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.text = []

    def emit(self, record):
        self.text.append(record.getMessage())


def reset_link_token(user):
    """The token of the reset link mailed to `user` (mail goes to the log in tests)."""
    from forum.services import accounts

    handler, logger = _Capture(), logging.getLogger("forum.mail")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        accounts.request_password_reset(user.email)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    found = re.search(r"/password-reset/([A-Za-z0-9_.\-]+)", "\n".join(handler.text))
    assert found, "no reset link was mailed"
    return found.group(1)


def reset_password(ctx):
    return form(f"/password-reset/{reset_link_token(ctx.other)}", password=NEW_PASSWORD)


def resend_verification(ctx):
    return form("/verify/resend")


def settings_profile(ctx):
    return form("/my/settings", action="profile", name="A new name", bio="About *me*.",
                group=str(ctx.actor.group_id))


def settings_password(ctx):
    return form("/my/settings", action="password", current_password=PASSWORD,
                password=NEW_PASSWORD)


def settings_other_devices(ctx):
    """Sign out of every other device, with the actor signed in on one more."""
    from forum.services import sessions

    sessions.start_session(ctx.actor, "Another browser")
    return form("/my/settings", action="devices")


def _another_device(user):
    """The id of one more device `user` is signed in on, besides the test's own."""
    from forum.extensions import db
    from forum.models import UserSession
    from forum.services import sessions

    secret = sessions.start_session(user, "Another browser")
    return db.session.scalar(db.select(UserSession.id).where(
        UserSession.token_hash == UserSession.hash(secret)))


def settings_one_device(ctx):
    """Sign out of one other device, by its id."""
    return form("/my/settings", action="device", token_id=str(_another_device(ctx.actor)))


def revoke_own_token(ctx):
    return api(f"/u/{ctx.actor.username_lower}/preferences/revoke-auth-token.json",
               {"token_id": _another_device(ctx.actor)})


def revoke_others_token(ctx):
    return api(f"/u/{ctx.other.username_lower}/preferences/revoke-auth-token.json",
               {"token_id": _another_device(ctx.other)})


def settings_email(ctx):
    return form("/my/settings", action="email", email_password=PASSWORD,
                email=f"new-{ctx.actor.username}@example.org")


# -- topics ------------------------------------------------------------------------------------

def new_topic_in(topic_creators):
    def build(ctx):
        cat = ctx.make.category(topic_creators=topic_creators)
        return form("/new-topic", title="A fresh topic to talk about", raw="Some first words.",
                    category=str(cat.id))
    return build


def new_topic_preview(ctx):
    return form("/new-topic", title="A fresh topic to talk about", raw="Some *first* words.",
                category=str(ctx.category.id), preview="1")


def reply_form(ctx):
    return form(f"/t/{ctx.topic.id}/reply", raw="A reply with something to say.")


def reply_form_closed(ctx):
    ctx.topic.closed = True
    db.session.commit()
    return reply_form(ctx)


def reply_preview(ctx):
    return form(f"/t/{ctx.topic.id}/reply", raw="A *reply* to preview.", preview="1")


def preview_json(ctx):
    return api("/preview.json", {"raw": "Some **bold** words."})


# -- posts -------------------------------------------------------------------------------------

def create_topic_json(ctx):
    return api("/posts.json", {"title": "A topic started by a script", "raw": "Its first post.",
                               "category": ctx.category.id})


def create_reply_json(ctx):
    return api("/posts.json", {"topic_id": ctx.topic.id, "raw": "A reply sent by a script."})


def own_reply(ctx):
    return ctx.reply(ctx.actor)


def others_reply(ctx):
    return ctx.reply(ctx.other)


def edit_json(pick):
    def build(ctx):
        post = pick(ctx)
        return api(f"/posts/{post.id}.json", {"raw": "Better words, after some thought.",
                                              "edit_reason": "clearer"})
    return build


def edit_form(pick):
    def build(ctx):
        post = pick(ctx)
        return form(f"/posts/{post.id}/edit", raw="Better words, after some thought.",
                    reason="clearer")
    return build


def delete_json(pick):
    def build(ctx):
        return api(f"/posts/{pick(ctx).id}.json")
    return build


def withdraw_form(pick):
    def build(ctx):
        return form(f"/posts/{pick(ctx).id}/delete")
    return build


def like_form(pick):
    def build(ctx):
        return form(f"/posts/{pick(ctx).id}/like")
    return build


def liked_by_actor(ctx):
    post = others_reply(ctx)
    post_service.like_post(ctx.actor, post.id)
    return post


def unlike_form(ctx):
    return form(f"/posts/{liked_by_actor(ctx).id}/like", undo="1")


def like_json(ctx):
    return api("/post_actions.json", {"id": others_reply(ctx).id, "post_action_type_id": 2})


def unlike_json(ctx):
    return api(f"/post_actions/{liked_by_actor(ctx).id}.json?post_action_type_id=2")


CASES = [
    # Signing in, up and out and asking for a reset are open to anyone, whatever their state.
    # Signing in adds a row for the device to user_sessions; signing out deletes it (a visitor
    # has none to delete).
    Case("auth.login", "POST", sign_in_form, EVERYONE, state="form"),
    Case("auth.login", "POST", sign_in_json, EVERYONE, state="json"),
    Case("auth.signup", "POST", sign_up, EVERYONE),
    Case("auth.logout", "POST", sign_out, EVERYONE, writes=None),
    Case("auth.request_reset", "POST", ask_for_reset, EVERYONE, writes=False),
    Case("auth.reset_password", "POST", reset_password, EVERYONE, done_at_login=True),
    Case("auth.resend_verification", "POST", resend_verification, SIGNED_IN, writes=False),

    # A member's own credentials stay theirs to change, even when unverified or silenced: an
    # unverified member may have mistyped the address the link went to.
    Case("users.settings", "POST", settings_password, SIGNED_IN, state="password"),
    Case("users.settings", "POST", settings_email, SIGNED_IN, state="email"),
    Case("users.settings", "POST", settings_other_devices, SIGNED_IN, state="other devices"),
    Case("users.settings", "POST", settings_one_device, SIGNED_IN, state="one device"),
    Case("users.revoke_auth_token", "POST", revoke_own_token, SIGNED_IN, state="own device"),
    Case("users.revoke_auth_token", "POST", revoke_others_token, NOBODY,
         state="another member's device"),
    # Name and bio are public text: read-only members may not write them.
    Case("users.settings", "POST", settings_profile, PARTICIPANTS, state="profile",
         gaps=dict.fromkeys(("unverified", "silenced"),
                            "permissions.can_edit_profile lets read-only members edit their "
                            "public name and bio")),

    Case("topics.new_topic", "POST", new_topic_in("everyone"), PARTICIPANTS,
         state="open category"),
    Case("topics.new_topic", "POST", new_topic_in("moderators"), STAFF,
         state="moderators' category"),
    Case("topics.new_topic", "POST", new_topic_in("admins"), ADMINS, state="admins' category"),
    Case("topics.new_topic", "POST", new_topic_preview, SIGNED_IN, state="preview",
         writes=False),
    Case("topics.reply", "POST", reply_form, PARTICIPANTS, state="open topic"),
    Case("topics.reply", "POST", reply_form_closed, STAFF, state="closed topic"),
    # A preview renders the topic page, which records how far a member has read.
    Case("topics.reply", "POST", reply_preview, EVERYONE, state="preview", writes=None),
    Case("topics.preview", "POST", preview_json, EVERYONE, writes=False),

    Case("posts.create", "POST", create_topic_json, PARTICIPANTS, state="new topic"),
    Case("posts.create", "POST", create_reply_json, PARTICIPANTS, state="reply"),
    Case("posts.update", "PUT", edit_json(own_reply), PARTICIPANTS, state="own post"),
    Case("posts.update", "PUT", edit_json(others_reply), STAFF, state="another's post"),
    Case("posts.edit", "POST", edit_form(own_reply), PARTICIPANTS, state="own post"),
    Case("posts.edit", "POST", edit_form(others_reply), STAFF, state="another's post"),
    # Withdrawing one's own words stays possible while read-only.
    Case("posts.delete", "DELETE", delete_json(own_reply), SIGNED_IN, state="own reply"),
    Case("posts.delete", "DELETE", delete_json(others_reply), STAFF, state="another's reply"),
    Case("posts.withdraw", "POST", withdraw_form(own_reply), SIGNED_IN, state="own reply"),
    Case("posts.withdraw", "POST", withdraw_form(others_reply), STAFF, state="another's reply"),
    Case("posts.like", "POST", like_form(others_reply), PARTICIPANTS, state="another's post"),
    Case("posts.like", "POST", like_form(own_reply), NOBODY, state="own post"),
    Case("posts.like", "POST", unlike_form, PARTICIPANTS, state="undo"),
    Case("posts.create_action", "POST", like_json, PARTICIPANTS, state="like"),
    Case("posts.delete_action", "DELETE", unlike_json, PARTICIPANTS, state="unlike"),
]
