"""Moderation as members, authors and moderators meet it: hidden words replaced by a notice,
flag forms and JSON, the review queue, topic controls, silenced and suspended members."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Flag, Post, ReviewItem, Topic, User, utcnow
from forum.permissions import CONSOLE
from forum.services import member_moderation, moderation, review
from tests.conftest import PASSWORD, login
from tests.openapi_check import assert_documented
from tests.writes import issue_api_key

UNTIL = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%d")
SECRET = "A rather rude remark about somebody."


def as_(client, user):
    client.post("/logout")
    if user is not None:
        login(client, user)


@pytest.fixture
def mod(make):
    return make.user(role="moderator")


@pytest.fixture
def hidden_post(make):
    topic = make.topic()
    post = make.reply(topic, raw=SECRET)
    moderation.hide(CONSOLE, "post", post.id, "it insults another member")
    return post


# -- hidden words ----------------------------------------------------------------------------------

def test_readers_see_a_notice_with_the_reason_instead_of_a_hidden_post(client, make, mod,
                                                                       hidden_post):
    topic = hidden_post.topic
    page_url = f"/t/{topic.slug}/{topic.id}"
    for reader in (None, make.user()):
        as_(client, reader)
        page = client.get(page_url).get_data(as_text=True)
        assert "This post is hidden: it insults another member" in page
        assert SECRET not in page
        posts = client.get(f"/t/{topic.id}.json").get_json()["post_stream"]["posts"]
        shown = next(p for p in posts if p["id"] == hidden_post.id)
        assert shown["hidden"] and shown["cooked"] == ""
        assert "raw" not in client.get(f"/posts/{hidden_post.id}.json").get_json()
    for reader in (hidden_post.user, mod):
        as_(client, reader)
        page = client.get(page_url).get_data(as_text=True)
        assert SECRET in page and "Hidden from others: it insults another member" in page
    as_(client, hidden_post.user)
    assert "Edit it to address the concern" in client.get(page_url).get_data(as_text=True)


def test_hiding_and_showing_again_through_the_form_say_so(client, make, mod):
    topic = make.topic()
    post = make.reply(topic, raw=SECRET)
    as_(client, mod)
    hidden = client.post(f"/posts/{post.id}/hide", data={"reason": "It names a member"},
                         follow_redirects=True)
    assert "Hidden: readers see your reason instead of this post." in hidden.get_data(
        as_text=True)
    shown = client.post(f"/posts/{post.id}/unhide", data={}, follow_redirects=True)
    assert "Shown again: this post is back exactly as it was." in shown.get_data(as_text=True)


def test_a_reason_that_ends_a_sentence_gets_no_second_full_stop(client, make):
    topic = make.topic()
    post = make.reply(topic, raw=SECRET)
    moderation.hide(CONSOLE, "post", post.id, "Personal attack removed.")
    page = client.get(f"/t/{topic.slug}/{topic.id}").get_data(as_text=True)
    assert "This post is hidden: Personal attack removed.</p>" in page
    moderation.hide(CONSOLE, "topic", topic.id, "Spam for a shop!")
    assert "This topic is hidden: Spam for a shop!</p>" in client.get(
        f"/t/{topic.slug}/{topic.id}").get_data(as_text=True)


def test_hidden_posts_leave_the_authors_profile(client, make, hidden_post):
    username = hidden_post.user.username_lower
    assert SECRET not in client.get(f"/u/{username}").get_data(as_text=True)
    recent = client.get(f"/u/{username}.json").get_json()["user"]["recent_posts"]
    assert hidden_post.id not in [p["id"] for p in recent]


def test_a_hidden_topic_is_a_notice_for_readers_and_out_of_the_lists(client, make, mod):
    author = make.user()
    topic = make.topic(user=author, title="A topic that will be hidden")
    moderation.hide(CONSOLE, "topic", topic.id, "spam for a shop")
    for reader in (None, make.user()):
        as_(client, reader)
        page = client.get(f"/t/{topic.slug}/{topic.id}")
        assert page.status_code == 403
        assert "This topic is hidden: spam for a shop" in page.get_data(as_text=True)
        refused = client.get(f"/t/{topic.id}.json")
        assert refused.status_code == 403 and "spam for a shop" in refused.get_json()["errors"][0]
        assert topic.id not in [t["id"] for t in client.get("/latest.json").get_json()[
            "topic_list"]["topics"]]
        assert topic.id not in [t["id"] for t in client.get(
            f"/c/{topic.category.slug}/{topic.category_id}.json").get_json()[
            "topic_list"]["topics"]]
    for reader in (author, mod):
        as_(client, reader)
        shown = client.get(f"/t/{topic.id}.json")
        assert shown.status_code == 200 and shown.get_json()["hidden"] is True
    as_(client, make.user())
    reply = client.post("/posts.json", json={"topic_id": topic.id, "raw": "Can I reply?"})
    assert reply.status_code == 403


def test_a_hidden_amendment_is_a_notice_on_the_proposal(client, make, mod):
    proposal = make.proposal()
    item = make.amendment(proposal, text="Replace this with something offensive.")
    moderation.hide(CONSOLE, "amendment", item.id, "abusive language")
    as_(client, make.user())
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "Hidden pending review: abusive language" not in page  # out of the list altogether
    assert "something offensive" not in page
    item_page = client.get(f"/amendments/{item.id}").get_data(as_text=True)
    assert "Hidden pending review: abusive language" in item_page
    assert "something offensive" not in item_page
    data = client.get(f"/amendments/{item.id}.json").get_json()["amendment"]
    assert data["hidden"] and data["text"] == "" and data["rationale"] == ""
    as_(client, item.user)
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert f'id="item-{item.id}"' in page and "Hidden from others: abusive language" in page
    data = client.get(f"/amendments/{item.id}.json").get_json()["amendment"]
    assert data["text"] == "Replace this with something offensive."


# -- flagging --------------------------------------------------------------------------------------

def test_the_no_javascript_flag_form(client, make):
    post = make.reply(make.topic())
    as_(client, make.user())
    form = client.get(f"/posts/{post.id}/flag").get_data(as_text=True)
    for label in ("Off-topic", "Inappropriate", "Spam", "Something else"):
        assert label in form
    done = client.post(f"/posts/{post.id}/flag", data={"flag_type": "other",
                                                      "message": "Shares a home address."})
    assert done.status_code == 200 and "Thank you" in done.get_data(as_text=True)
    flag = db.session.scalars(select(Flag)).one()
    assert (flag.flag_type, flag.message) == ("other", "Shares a home address.")
    again = client.post(f"/posts/{post.id}/flag", data={"flag_type": "spam"})
    assert again.status_code == 409 and "already flagged" in again.get_data(as_text=True)


def test_flag_links_appear_for_others_words_only(client, make):
    proposal = make.proposal()
    item = make.amendment(proposal)
    as_(client, make.user())
    assert f"/amendments/{item.id}/flag" in client.get(
        f"/proposals/{proposal.id}").get_data(as_text=True)
    as_(client, item.user)
    assert f"/amendments/{item.id}/flag" not in client.get(
        f"/proposals/{proposal.id}").get_data(as_text=True)


def test_topic_pages_offer_flags_to_members_and_controls_to_staff(client, make, mod):
    topic = make.topic()
    post = make.reply(topic)
    page_url = f"/t/{topic.slug}/{topic.id}"
    as_(client, make.user())
    page = client.get(page_url).get_data(as_text=True)
    assert f"/posts/{post.id}/flag" in page and f"/t/{topic.id}/flag" in page
    assert f"/t/{topic.id}/moderate" not in page and f"/posts/{post.id}/hide" not in page
    as_(client, post.user)
    assert f"/posts/{post.id}/flag" not in client.get(page_url).get_data(as_text=True)
    as_(client, mod)
    page = client.get(page_url).get_data(as_text=True)
    assert f"/t/{topic.id}/moderate" in page and f"/posts/{post.id}/hide" in page


@pytest.mark.parametrize("type_id, flag_type", [(3, "off_topic"), (4, "inappropriate"),
                                                (8, "spam"), (7, "other")])
def test_post_actions_flag_with_discourses_type_ids(client, make, type_id, flag_type):
    post = make.reply(make.topic())
    as_(client, make.user())
    body = {"id": post.id, "post_action_type_id": type_id}
    if type_id == 7:
        missing = client.post("/post_actions.json", json=body)
        assert missing.status_code == 422
        assert_documented(missing, "POST", "/post_actions.json")
        body["message"] = "Something else is wrong."
    response = client.post("/post_actions.json", json=body)
    assert response.status_code == 200, response.get_json()
    assert_documented(response, "POST", "/post_actions.json")
    assert db.session.scalar(select(Flag.flag_type)) == flag_type


def test_post_actions_can_flag_the_topic(client, make):
    post = make.reply(make.topic())
    as_(client, make.user())
    response = client.post("/post_actions.json", json={"id": post.id, "post_action_type_id": 3,
                                                       "flag_topic": True})
    assert response.status_code == 200
    flag = db.session.scalars(select(Flag)).one()
    assert (flag.target_kind, flag.target_id) == ("topic", post.topic_id)


def test_amendment_flags_json(client, make):
    proposal = make.proposal()
    question = make.amendment(proposal, kind="clarification", text="Why this number here?")
    as_(client, make.user())
    response = client.post(f"/amendments/{question.id}/flags.json",
                           json={"flag_type": "off_topic"})
    assert response.status_code == 201
    assert_documented(response, "POST", f"/amendments/{question.id}/flags.json")
    assert response.get_json()["flag"]["target_kind"] == "clarification"


# -- the review queue ----------------------------------------------------------------------------

def test_moderators_work_the_queue_from_the_page(client, make, mod):
    post = make.reply(make.topic(), raw="Buy cheap watches here.")
    for _ in range(3):
        review.flag(make.user(), "post", post.id, "spam", "")
    item = db.session.scalars(select(ReviewItem)).one()
    as_(client, make.user())
    assert client.get("/review").status_code == 403
    assert client.get("/review.json").status_code == 403
    assert "items waiting" not in client.get("/latest").get_data(as_text=True)
    as_(client, mod)
    # Every page tells staff that something waits, and links to it.
    latest = client.get("/latest").get_data(as_text=True)
    assert 'href="/review" title="Review queue">Review <span class="bell-count">1</span>' \
        '<span class="visually-hidden"> items waiting</span>' in latest
    page = client.get("/review").get_data(as_text=True)
    assert "Buy cheap watches here." in page and "3 flags" in page
    listed = client.get("/review.json")
    assert_documented(listed, "GET", "/review.json")
    assert [r["id"] for r in listed.get_json()["reviewables"]] == [item.id]
    done = client.post(f"/review/{item.id}/disagree", data={"reason": "A real offer."})
    assert done.status_code == 302
    assert db.session.get(Post, post.id).hidden_at is None
    page = client.get("/review").get_data(as_text=True)
    assert "Nothing is waiting" in page
    # The queue says what the act did.
    assert "Disagreed with the flags: they are cleared, and the post shows as it was." in page
    assert "items waiting" not in client.get("/latest").get_data(as_text=True)
    assert item.id in [r["id"] for r in client.get("/review.json?status=disagreed").get_json()[
        "reviewables"]]


def test_agree_through_json_silences_the_author(client, make, mod):
    post = make.reply(make.topic())
    review.flag(make.user(), "post", post.id, "inappropriate")
    item = db.session.scalars(select(ReviewItem)).one()
    as_(client, mod)
    response = client.post(f"/review/{item.id}/agree.json",
                           json={"reason": "name-calling", "silence_until": UNTIL})
    assert response.status_code == 200
    assert_documented(response, "POST", f"/review/{item.id}/agree.json")
    assert response.get_json()["reviewable"]["status"] == "agreed"
    db.session.expire_all()
    assert db.session.get(User, post.user_id).is_silenced()


# -- topics --------------------------------------------------------------------------------------

def test_topic_status_json(client, make, mod):
    topic = make.topic()
    as_(client, mod)
    for status, enabled, field, value in [("closed", True, "closed", True),
                                          ("visible", False, "visible", False),
                                          ("pinned_globally", True, "pinned_globally", True),
                                          ("pinned", False, "pinned", False)]:
        response = client.put(f"/t/{topic.id}/status.json",
                              json={"status": status, "enabled": enabled})
        assert response.status_code == 200, response.get_json()
        assert_documented(response, "PUT", f"/t/{topic.id}/status.json")
        assert response.get_json()["topic"][field] is value
    bad = client.put(f"/t/{topic.id}/status.json", json={"status": "archived", "enabled": True})
    assert bad.status_code == 422
    as_(client, make.user())
    assert client.post("/posts.json", json={"topic_id": topic.id,
                                            "raw": "Is this locked?"}).status_code == 403


def test_unlisted_topics_leave_the_lists_but_keep_their_link(client, make, mod):
    category = make.category()
    topic = make.topic(category=category, title="Quietly unlisted topic")
    moderation.unlist_topic(mod, topic.id, "duplicate")
    as_(client, make.user())
    for url in ("/latest.json", f"/c/{category.slug}/{category.id}.json"):
        assert topic.id not in [t["id"] for t in client.get(url).get_json()["topic_list"][
            "topics"]]
    assert client.get(f"/t/{topic.slug}/{topic.id}").status_code == 200
    as_(client, mod)
    assert topic.id in [t["id"] for t in client.get(
        f"/c/{category.slug}/{category.id}.json").get_json()["topic_list"]["topics"]]


def test_pinned_topics_come_first_where_they_are_pinned(client, make, mod):
    category = make.category()
    pinned = make.topic(category=category, title="Pinned in its category")
    make.topic(category=category, title="A newer topic in the category")
    make.topic(title="A newer topic elsewhere")
    moderation.pin_topic(mod, pinned.id)
    first = client.get(f"/c/{category.slug}/{category.id}.json").get_json()["topic_list"][
        "topics"][0]
    assert first["id"] == pinned.id
    assert client.get("/latest.json").get_json()["topic_list"]["topics"][0]["id"] != pinned.id
    moderation.pin_topic(mod, pinned.id, globally=True)
    assert client.get("/latest.json").get_json()["topic_list"]["topics"][0]["id"] == pinned.id


def test_move_and_split_through_json(client, make, mod):
    topic = make.topic()
    replies = [make.reply(topic, raw=f"Reply {n} in the thread.") for n in range(3)]
    target = make.category()
    as_(client, mod)
    moved = client.put(f"/t/{topic.id}.json", json={"category_id": target.id})
    assert moved.status_code == 200
    assert_documented(moved, "PUT", f"/t/{topic.id}.json")
    assert db.session.get(Topic, topic.id).category_id == target.id
    split = client.post(f"/t/{topic.id}/move-posts.json",
                        json={"post_ids": [replies[1].id, replies[2].id],
                              "title": "The second half, apart"})
    assert split.status_code == 200, split.get_json()
    assert_documented(split, "POST", f"/t/{topic.id}/move-posts.json")
    new_id = split.get_json()["topic"]["id"]
    stream = client.get(f"/t/{new_id}.json").get_json()["post_stream"]["posts"]
    assert [p["post_number"] for p in stream] == [1, 2]


def test_topic_controls_page_for_staff_only(client, make, mod):
    topic = make.topic()
    make.reply(topic)
    as_(client, make.user())
    assert client.get(f"/t/{topic.id}/moderate").status_code == 403
    as_(client, mod)
    page = client.get(f"/t/{topic.id}/moderate").get_data(as_text=True)
    assert "Lock (no new replies)" in page and "Split replies into a new topic" in page
    locked = client.post(f"/t/{topic.id}/moderate", data={
        "action": "status", "status": "closed", "enabled": "true", "reason": "Too heated."})
    assert locked.status_code == 302
    assert db.session.get(Topic, topic.id).closed
    # Members read why where the reply box was; reopening clears the reason.
    member = make.user()
    as_(client, member)
    page = client.get(f"/t/{topic.slug}/{topic.id}").get_data(as_text=True)
    assert "This topic is closed: no new replies. The moderators&#39; reason: Too heated." in page
    as_(client, mod)
    client.post(f"/t/{topic.id}/moderate", data={
        "action": "status", "status": "closed", "enabled": "false", "reason": "Calmer now."})
    assert db.session.get(Topic, topic.id).closed_reason is None
    client.post(f"/t/{topic.id}/moderate", data={
        "action": "status", "status": "closed", "enabled": "true", "reason": "Too heated."})
    # A refused split keeps its title and reason, and no other form takes the reason.
    refused = client.post(f"/t/{topic.id}/moderate", data={
        "action": "split", "title": "The tangent about buses", "reason": "Off the topic."})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="split-reason" name="reason" maxlength="500" value="Off the topic."' in html
    assert 'id="move-reason" name="reason" maxlength="500" value=""' in html


# -- members -------------------------------------------------------------------------------------

def test_a_silenced_member_reads_but_cannot_write(client, make, mod):
    member = make.user()
    topic = make.topic()
    as_(client, mod)
    response = client.put(f"/admin/users/{member.id}/silence.json",
                          json={"reason": "spamming links", "until": UNTIL})
    assert response.status_code == 200
    assert_documented(response, "PUT", f"/admin/users/{member.id}/silence.json")
    assert response.get_json()["user"]["silenced"] is True
    as_(client, member)
    assert client.get(f"/t/{topic.slug}/{topic.id}").status_code == 200
    refused = client.post("/posts.json", json={"topic_id": topic.id, "raw": "Let me speak!"})
    until = db.session.get(User, member.id).silenced_until.strftime("%-d %b %Y %H:%M UTC")
    assert refused.status_code == 403 and refused.get_json()["errors"] == [
        f"Your account is silenced until {until}: you can read but not post. "
        "The moderators' reason: spamming links."]
    # The topic page tells them the same where the reply box would be.
    page = client.get(f"/t/{topic.slug}/{topic.id}").get_data(as_text=True)
    assert f"silenced until {until}" in page and "spamming links" in page
    assert "Silenced until" in client.get(f"/u/{member.username_lower}").get_data(as_text=True)
    as_(client, mod)
    assert client.put(f"/admin/users/{member.id}/unsilence.json", json={}).status_code == 200
    as_(client, member)
    assert client.post("/posts.json", json={"topic_id": topic.id,
                                            "raw": "Thank you."}).status_code == 200


def test_suspension_ends_sessions_at_once_and_refuses_sign_in_and_keys(client, make, mod):
    member = make.user()
    key = issue_api_key(member)
    topic = make.topic()
    login(client, member)
    assert client.get("/my/settings").status_code == 200
    member_moderation.suspend_member(mod, member.id, "threats against members", UNTIL)
    # The same browser, straight after: no longer signed in.
    assert client.get("/my/settings").status_code == 302
    response = client.post("/login", data={"login": member.username, "password": PASSWORD})
    assert response.status_code == 401
    assert "suspended" in response.get_data(as_text=True)
    by_key = client.post("/posts.json", json={"topic_id": topic.id, "raw": "Via my key."},
                         headers={"Api-Key": key, "Api-Username": member.username})
    assert by_key.status_code == 403
    member_moderation.unsuspend_member(mod, member.id, "served")
    login(client, member)


def test_a_moderator_cannot_act_on_an_admin(client, make, mod):
    admin = make.admin()
    as_(client, mod)
    for action in ("silence", "suspend"):
        response = client.put(f"/admin/users/{admin.id}/{action}.json",
                              json={"reason": "trying", "until": UNTIL})
        assert response.status_code == 403
        assert_documented(response, "PUT", f"/admin/users/{admin.id}/{action}.json")
    db.session.expire_all()
    admin = db.session.get(User, admin.id)
    assert not admin.is_silenced() and not admin.is_suspended()
    page = client.get(f"/u/{admin.username_lower}/moderation").get_data(as_text=True)
    assert "Moderators cannot act on an admin." in page


def test_member_page_silences_with_reason_and_date(client, make, mod):
    member = make.user()
    as_(client, mod)
    response = client.post(f"/u/{member.username_lower}/moderation", data={
        "action": "silence", "reason": "flooding the forum", "until": UNTIL})
    assert response.status_code == 302
    page = client.get(f"/u/{member.username_lower}/moderation").get_data(as_text=True)
    assert "flooding the forum" in page and "Lift the silence" in page
    missing = client.post(f"/u/{member.username_lower}/moderation", data={
        "action": "suspend", "reason": "", "until": UNTIL})
    assert missing.status_code == 422 and "Give a reason" in missing.get_data(as_text=True)


def test_member_page_lists_the_flags_on_their_words_and_what_came_of_them(client, make, mod):
    member = make.user()
    topic = make.topic(title="Bus routes in the valleys")
    kept = make.reply(topic, user=member, raw="Buses every ten minutes, please.")
    spam = make.reply(topic, user=member, raw="Buy cheap watches here.")
    make.reply(topic, raw="Someone else's words, flagged too.")
    review.flag(make.user(), "post", kept.id, "off_topic", "")
    for _ in range(2):
        review.flag(make.user(), "post", spam.id, "spam", "")
    other = db.session.scalars(select(ReviewItem).where(ReviewItem.target_id == kept.id)).one()
    review.disagree(mod, other.id, "On topic: buses are the topic.")
    as_(client, mod)
    page = client.get(f"/u/{member.username_lower}/moderation").get_data(as_text=True)
    flagged = page[page.index('id="flagged-title"'):]
    assert f"Post #{spam.post_number} in “Bus routes in the valleys”</a>, 2 flags" in flagged
    assert "waiting for review</a>" in flagged
    assert f"Post #{kept.post_number} in “Bus routes in the valleys”</a>, 1 flag" in flagged
    assert f"disagreed by {mod.username}" in flagged and "buses are the topic" in flagged
    assert "Someone else" not in flagged and flagged.count("<li>") == 2
    clean = make.user()
    page = client.get(f"/u/{clean.username_lower}/moderation").get_data(as_text=True)
    assert "Nothing they wrote has been flagged." in page


# -- hardening -----------------------------------------------------------------------------------

def test_oversized_requests_are_refused(client, make):
    login(client, make.user())
    response = client.post("/posts.json", data=b"x" * (3 * 1024 * 1024),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.get_json()["errors"]


def test_signing_in_starts_a_fresh_session(client, make):
    member = make.user()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login(client, member)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_the_queue_names_what_was_flagged_as_members_see_it(client, make, mod,
                                                            count_queries):
    """A post by its number in its topic, a topic by its title, an amendment by its number and
    paragraphs; and the page's statements do not grow with the items waiting."""
    def flag_new_things(n):
        for _ in range(n):
            topic = make.topic(title=f"Bus routes in the valleys {make.user().id}")
            post = make.reply(topic, raw="Buy cheap watches here.")
            item = make.amendment(make.proposal())
            for kind, target in (("post", post.id), ("topic", topic.id), ("amendment", item.id)):
                review.flag(make.user(), kind, target, "spam", "")
        return post, topic, item

    post, topic, item = flag_new_things(1)
    as_(client, mod)
    page = client.get("/review").get_data(as_text=True)
    assert f"Post #{post.post_number} in “{topic.title}”</a>" in page
    assert f"Topic “{topic.title}”</a>" in page
    assert f"Amendment #{item.id} to paragraph 2</a>" in page
    with count_queries() as few:
        client.get("/review")
    flag_new_things(4)
    with count_queries() as many:
        assert client.get("/review").get_data(as_text=True).count('class="card review-item"') \
            == 15
    assert len(many.statements) == len(few.statements)
