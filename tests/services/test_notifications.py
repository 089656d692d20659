"""Notifications: one test per event, the levels that decide who hears, batching, marking read,
and the unread count carried on the member's row."""
import pytest
from sqlalchemy import select

from forum.db import write_transaction
from forum.extensions import db
from forum.models import Notification, TopicNotificationLevel, User
from forum.services import (amendments, deliberation, notification_batches, notification_levels,
                            notifications, posts, voting)
from tests.conftest import login


def inbox(user, kind=None):
    """(kind, data) of a member's notifications, oldest first."""
    db.session.rollback()
    stmt = select(Notification).where(Notification.user_id == user.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return [(n.kind, n.data) for n in db.session.scalars(stmt.order_by(Notification.id))]


def kinds(user):
    return [k for k, _ in inbox(user)]


def unread(user):
    db.session.rollback()
    return db.session.get(User, user.id).unread_notification_count


@pytest.fixture
def people(make):
    return {name: make.user(name) for name in ("ann", "ben", "cat", "dai")}


# -- forum events ------------------------------------------------------------------------------

def test_a_reply_to_a_post_notifies_its_author(make, people):
    ann, ben = people["ann"], people["ben"]
    topic = make.topic(user=ann, title="Bike lanes on every main road")
    reply = make.reply(topic, user=ben, raw="Yes, and cycle parking.", reply_to=1)
    [(kind, data)] = inbox(ann)
    assert kind == "replied"
    assert data["actor"] == "ben" and data["title"] == "Bike lanes on every main road"
    assert data["url"] == f"/t/{topic.slug}/{topic.id}/{reply.post_number}#post-{reply.post_number}"
    assert data["excerpt"] == "Yes, and cycle parking."
    assert inbox(ben) == []  # never about one's own post
    assert unread(ann) == 1


def test_a_reply_to_a_reply_notifies_that_reply_s_author(make, people):
    topic = make.topic(user=people["ann"])
    second = make.reply(topic, user=people["ben"])
    make.reply(topic, user=people["cat"], reply_to=second.post_number)
    assert kinds(people["ben"]) == ["replied"]
    # ann watches the topic she started, so she hears of both posts.
    assert kinds(people["ann"]) == ["replied", "posted"]


def test_mentions(make, people):
    topic = make.topic(user=people["ann"])
    make.reply(topic, user=people["ben"],
               raw="Asking @cat and @Dai, not `@ann` in code, nor @nobody.")
    assert kinds(people["cat"]) == ["mentioned"] and kinds(people["dai"]) == ["mentioned"]
    assert kinds(people["ann"]) == ["replied"]  # one notification, the most specific


def test_quotes(make, people):
    topic = make.topic(user=people["ann"], raw="Buses should run all night.")
    second = make.reply(topic, user=people["ben"], raw="Trains too.")
    quote = (f"> [@ben wrote](/t/{topic.slug}/{topic.id}/{second.post_number}):\n>\n"
             "> Trains too.\n\nAgreed.")
    make.reply(topic, user=people["cat"], raw=quote)
    assert kinds(people["ben"]) == ["quoted"]


def test_an_edit_notifies_only_the_newly_mentioned(make, people):
    topic = make.topic(user=people["ann"])
    post = make.reply(topic, user=people["ben"], raw="Thanks @cat.")
    posts.edit_post(people["ben"], post.id, "Thanks @cat and @dai.")
    assert kinds(people["cat"]) == ["mentioned"]
    assert kinds(people["dai"]) == ["mentioned"]


def test_an_edit_never_tells_a_member_of_a_post_twice(make, people):
    """Mentioning, unmentioning and mentioning again is one notification, not three."""
    dylan, priya = make.user("dylan"), make.user("priya")
    topic = make.topic(user=dylan)
    reply = make.reply(topic, user=priya, raw="Good point.", reply_to=1)
    posts.edit_post(priya, reply.id, "Good point, @dylan.")
    posts.edit_post(priya, reply.id, "Good point.")
    posts.edit_post(priya, reply.id, "Good point, @dylan.")
    assert kinds(dylan) == ["replied"]
    # cat, newly mentioned, still hears; once, however often the edits come and go.
    posts.edit_post(priya, reply.id, "Good point, @dylan and @cat.")
    posts.edit_post(priya, reply.id, "Good point.")
    posts.edit_post(priya, reply.id, "Good point, @dylan and @cat.")
    assert kinds(people["cat"]) == ["mentioned"]


def test_likes_are_batched_while_unread(make, people):
    topic = make.topic(user=people["ann"])
    post = make.reply(topic, user=people["ben"])
    posts.like_post(people["cat"], post.id)
    posts.like_post(people["dai"], post.id)
    posts.like_post(people["dai"], post.id)  # liking again is no news
    [(kind, data)] = inbox(people["ben"])
    assert kind == "liked" and data["count"] == 2 and data["actor"] == "dai"
    notifications.mark_read(people["ben"])
    posts.like_post(people["ann"], post.id)
    assert [d["count"] for _, d in inbox(people["ben"])] == [2, 1]


def test_a_like_taken_back_and_given_again_counts_once(make, people):
    topic = make.topic(user=people["ann"])
    post = make.reply(topic, user=people["ben"])
    posts.like_post(people["cat"], post.id)
    posts.like_post(people["dai"], post.id)
    posts.unlike_post(people["dai"], post.id)
    posts.like_post(people["dai"], post.id)
    posts.unlike_post(people["cat"], post.id)
    posts.like_post(people["cat"], post.id)
    [(_, data)] = inbox(people["ben"])
    assert data["count"] == 2 and data["actor"] == "dai"  # the last like that was news


def test_a_batch_remembers_a_bounded_number_of_likers(make, people, monkeypatch):
    """Past BATCH_MEMORY members a batch counts on without remembering who."""
    monkeypatch.setattr(notification_batches, "BATCH_MEMORY", 2)
    topic = make.topic(user=people["ann"])
    post = make.reply(topic, user=people["ben"])
    for name in ("ann", "cat", "dai", "ann", "cat"):
        posts.unlike_post(people[name], post.id)
        posts.like_post(people[name], post.id)
    [(_, data)] = inbox(people["ben"])
    assert data["count"] == 3 and len(data["seen"]) == 2


def test_watching_a_topic_hears_every_post(make, people):
    topic = make.topic(user=people["ann"])
    notification_levels.set_topic_level(people["dai"], topic.id, "watching")
    make.reply(topic, user=people["ben"])
    make.reply(topic, user=people["cat"])
    assert kinds(people["dai"]) == ["posted", "posted"]
    # cat replied, so she tracks the topic: later posts are no notification for her.
    make.reply(topic, user=people["ben"], raw="One more thing.")
    assert kinds(people["cat"]) == []


def test_muting_a_topic_silences_it(make, people):
    topic = make.topic(user=people["ann"])
    notification_levels.set_topic_level(people["ann"], topic.id, "muted")
    make.reply(topic, user=people["ben"], raw="Hello @ann.", reply_to=1)
    assert kinds(people["ann"]) == []


def test_defaults_watch_what_you_started_and_track_what_you_replied_to(make, people):
    topic = make.topic(user=people["ann"])
    make.reply(topic, user=people["ben"])
    levels = dict(db.session.execute(select(TopicNotificationLevel.user_id,
                                            TopicNotificationLevel.level)).all())
    assert levels == {people["ann"].id: "watching", people["ben"].id: "tracking"}
    # A chosen level is never overwritten by a default.
    notification_levels.set_topic_level(people["cat"], topic.id, "muted")
    make.reply(topic, user=people["cat"])
    assert notification_levels.topic_level(people["cat"], topic)[0] == "muted"


# -- deliberation events -----------------------------------------------------------------------

def test_new_amendments_and_clarifications_notify_the_proposal_s_author(make, people):
    proposal = make.proposal(user=people["ann"])
    item = make.amendment(proposal, user=people["ben"])
    make.amendment(proposal, user=people["cat"], kind="clarification",
                   text="What counts as income here?")
    assert kinds(people["ann"]) == ["amendment_proposed", "clarification_asked"]
    _, data = inbox(people["ann"])[0]
    assert data["url"] == f"/amendments/{item.id}" and data["item"] == "amendment"
    # ben now watches the proposal's thread: he hears of cat's clarification too.
    assert kinds(people["ben"]) == ["clarification_asked"]


def test_the_author_s_answer_reaches_whoever_asked(make, people):
    """The member who asked hears when the proposal's author answers, and again if the answer
    changes, even with the proposal's thread muted; saving the same words again is no news."""
    proposal = make.proposal(user=people["ann"])
    question = make.amendment(proposal, user=people["ben"], kind="clarification",
                              text="What counts as income here?")
    notification_levels.set_topic_level(people["ben"], proposal.topic_id, "muted")
    amendments.answer_clarification(people["ann"], question.id, "Income after tax.")
    [(kind, data)] = inbox(people["ben"], "clarification_answered")
    assert notifications.describe(db.session.scalars(select(Notification).where(
        Notification.kind == kind)).one()) == f"ann answered your clarification of {proposal.title}"
    assert data["url"] == f"/amendments/{question.id}"
    amendments.answer_clarification(people["ann"], question.id, "Income  after tax. ")
    assert len(inbox(people["ben"], "clarification_answered")) == 1
    amendments.answer_clarification(people["ann"], question.id, "Household income after tax.")
    assert len(inbox(people["ben"], "clarification_answered")) == 2


def test_followers_hear_when_the_lab_opens_and_each_version_is_published(make, people):
    """Its author, whoever amended it (they watch it) and its supporters hear of a proposal's
    progress; a member who muted its thread does not, and nobody hears twice."""
    from forum.services import intake, labs

    ann, ben, cat, dai = (people[n] for n in ("ann", "ben", "cat", "dai"))
    proposal = make.proposal(make.process(lab_min_votes=0), user=ann)
    item = make.amendment(proposal, user=ben, start=2, end=2, text="Homes at scale, now.")
    for supporter in (cat, dai, ben):
        deliberation.support_proposal(supporter, proposal.id)
        if supporter is not ben:
            voting.cast_vote(supporter, item.id, 1)
    notification_levels.set_topic_level(dai, proposal.topic_id, "muted")
    admin = make.admin()
    lab = intake.close_amendment_window(admin, proposal.id, "Ready early.")
    heard = {u.username: [d for k, d in inbox(u, "proposal_in_lab")] for u in (ann, ben, cat, dai)}
    assert {name: len(found) for name, found in heard.items()} == \
        {"ann": 1, "ben": 1, "cat": 1, "dai": 0}
    assert heard["cat"][0]["url"] == f"/labs/{lab.id}"
    labs.decide(admin, lab.id, {"decision": "accept", "amendment_id": item.id})
    labs.publish(admin, lab.id, "The lab's first changes.")
    [(kind, data)] = inbox(cat, "version_published")
    assert data["version"] == 2
    assert notifications.describe(db.session.scalars(select(Notification).where(
        Notification.user_id == cat.id, Notification.kind == kind)).one()) == \
        f"Version 2 of {proposal.title} is published"
    assert inbox(dai, "version_published") == [] and len(inbox(ben, "version_published")) == 1


def test_tracking_a_proposal_hears_new_items_but_not_every_post(make, people):
    proposal = make.proposal(user=people["ann"])
    notification_levels.set_topic_level(people["dai"], proposal.topic_id, "tracking")
    make.amendment(proposal, user=people["ben"])
    make.reply(proposal.topic, user=people["cat"])
    assert kinds(people["dai"]) == ["amendment_proposed"]


def test_votes_on_an_amendment_are_batched(make, people):
    proposal = make.proposal(user=people["ann"])
    item = make.amendment(proposal, user=people["ben"])
    voting.cast_vote(people["cat"], item.id, 1)
    voting.cast_vote(people["dai"], item.id, -1)
    voting.cast_vote(people["ann"], item.id, 1)
    voting.cast_vote(people["ann"], item.id, 1)   # the same vote again: no news
    voting.cast_vote(people["cat"], item.id, 0)   # withdrawn: no news
    [(kind, data)] = inbox(people["ben"])
    assert kind == "amendment_votes"
    assert (data["count"], data["up"], data["down"]) == (3, 2, 1)
    assert notifications.describe(db.session.scalars(select(Notification).where(
        Notification.user_id == people["ben"].id)).one()).startswith("3 new votes (+2 / -1)")


def test_a_changed_vote_is_not_another_vote(make, people):
    proposal = make.proposal(user=people["ann"])
    item = make.amendment(proposal, user=people["ben"])
    voting.cast_vote(people["cat"], item.id, 1)
    voting.cast_vote(people["dai"], item.id, 1)
    voting.cast_vote(people["cat"], item.id, -1)   # changed its mind
    voting.cast_vote(people["cat"], item.id, 0)
    voting.cast_vote(people["cat"], item.id, 1)    # and back, by way of no vote
    voting.cast_vote(people["dai"], item.id, -1)
    [(_, data)] = inbox(people["ben"])
    assert (data["count"], data["up"], data["down"]) == (2, 1, 1)
    # Once read, a change of vote is news again: one new vote.
    notifications.mark_read(people["ben"])
    voting.cast_vote(people["cat"], item.id, -1)
    assert [(d["count"], d["up"], d["down"]) for _, d in inbox(people["ben"])] == \
        [(2, 1, 1), (1, 0, 1)]


def test_the_batch_shows_no_member_s_identity(make, people):
    """The list's JSON carries the data: who voted stays hidden, even from the item's author."""
    proposal = make.proposal(user=people["ann"])
    item = make.amendment(proposal, user=people["ben"])
    voting.cast_vote(people["cat"], item.id, 1)
    voting.cast_vote(people["dai"], item.id, -1)
    [(_, data)] = inbox(people["ben"])
    tags = set(data["seen"])
    assert len(tags) == 2
    assert not tags & ({str(u.id) for u in people.values()} | set(people))


@pytest.mark.parametrize("muted", ["the topic", "the process"])
def test_muting_stops_an_unread_batch_from_counting_up(make, people, muted):
    proposal = make.proposal(user=people["ann"])
    item = make.amendment(proposal, user=people["ben"])
    post = make.reply(proposal.topic, user=people["ben"])
    voting.cast_vote(people["cat"], item.id, 1)
    posts.like_post(people["cat"], post.id)
    if muted == "the topic":
        notification_levels.set_topic_level(people["ben"], proposal.topic_id, "muted")
    else:  # ben's own level on the topic (he amended it: watching) is the one to go
        db.session.query(TopicNotificationLevel).filter_by(user_id=people["ben"].id).delete()
        db.session.commit()
        notification_levels.set_process_level(people["ben"], proposal.process_id, "muted")
    voting.cast_vote(people["dai"], item.id, -1)
    posts.like_post(people["dai"], post.id)
    counts = {kind: (data["count"], data.get("down", 0)) for kind, data in inbox(people["ben"])}
    assert counts == {"amendment_votes": (1, 0), "liked": (1, 0)}


def test_watching_a_process_hears_of_new_proposals(make, people):
    process = make.process()
    notification_levels.set_process_level(people["dai"], process.id, "watching")
    proposal = make.proposal(process, user=people["ann"])
    assert kinds(people["dai"]) == ["proposal_created"]
    # ... and, as if watching each of its threads, of posts in them.
    make.reply(proposal.topic, user=people["ben"])
    assert kinds(people["dai"]) == ["proposal_created", "posted"]


def test_replying_keeps_a_process_watcher_watching(make, people):
    """A default never lowers what a member hears: replying in a thread of a process they
    watch leaves them watching it, not tracking."""
    process = make.process()
    proposal = make.proposal(process, user=people["ann"])
    notification_levels.set_process_level(people["dai"], process.id, "watching")
    make.reply(proposal.topic, user=people["dai"])
    make.reply(proposal.topic, user=people["ben"])
    assert kinds(people["dai"]) == ["posted"]
    assert notification_levels.topic_level(people["dai"], proposal.topic) == \
        ("watching", "default")


def test_a_default_raises_a_lower_process_level_but_never_a_muted_one(make, people):
    process = make.process()
    proposal = make.proposal(process, user=people["ann"])
    notification_levels.set_process_level(people["ben"], process.id, "normal")
    notification_levels.set_process_level(people["cat"], process.id, "muted")
    make.reply(proposal.topic, user=people["ben"])
    make.reply(proposal.topic, user=people["cat"])
    make.amendment(proposal, user=people["dai"])
    assert notification_levels.topic_level(people["ben"], proposal.topic) == \
        ("tracking", "replied")
    assert notification_levels.topic_level(people["cat"], proposal.topic) == \
        ("muted", "default")
    assert kinds(people["ben"]) == ["amendment_proposed"] and kinds(people["cat"]) == []


def test_muting_a_process_silences_its_threads_unless_a_topic_says_otherwise(make, people):
    process = make.process()
    proposal = make.proposal(process, user=people["ann"])
    other = make.proposal(process, user=people["cat"])
    notification_levels.set_process_level(people["ann"], process.id, "muted")
    notification_levels.set_process_level(people["cat"], process.id, "muted")
    make.amendment(proposal, user=people["ben"])  # ann's own row (watching, created) wins
    assert kinds(people["ann"]) == ["amendment_proposed"]
    notification_levels.set_topic_level(people["cat"], other.topic_id, "muted")
    make.amendment(other, user=people["ben"])
    assert kinds(people["cat"]) == []


@pytest.mark.parametrize("kind, fields, text", [
    ("amendment_in_lab", {}, "Your amendment to {title} was taken into the policy lab"),
    ("amendment_not_selected", {}, "Your amendment to {title} was not selected"),
    ("amendment_decided", {"decision": "accepted"}, "The policy lab accepted your amendment"),
    ("lab_invitation", {}, "lead invited you to the policy lab on {title}"),
    ("proposal_promoted", {}, "Your proposal {title} is on the ballot"),
    ("proposal_not_qualified", {}, "Your proposal {title} did not qualify for the ballot"),
    ("proposal_adopted", {}, "Your proposal {title} was adopted"),
    ("proposal_not_adopted", {}, "Your proposal {title} was not adopted"),
    ("moderated", {"action": "hid", "target": "post", "reason": "off-topic"},
     "A moderator hid your post in {title}"),
])
def test_kinds_other_services_send(make, people, kind, fields, text):
    """Labs, ballots and moderation call notify(); outcomes about your own contribution are
    heard even in a muted topic."""
    proposal = make.proposal(user=people["ann"])
    item = make.amendment(proposal, user=people["ann"])
    lead = make.user("lead")
    notification_levels.set_topic_level(people["ann"], proposal.topic_id, "muted")
    with write_transaction():
        if kind == "lab_invitation":
            notifications.notify(people["ann"].id, kind, actor=lead, topic=proposal.topic,
                                 proposal=proposal)
        elif kind.startswith("amendment"):
            notifications.notify(people["ann"].id, kind, amendment=item, actor=lead, **fields)
        elif kind == "moderated":
            notifications.notify(people["ann"].id, kind, post=first_post(proposal), actor=lead,
                                 **fields)
        else:
            notifications.notify(people["ann"].id, kind, proposal=proposal, **fields)
    found = db.session.scalars(select(Notification).where(
        Notification.user_id == people["ann"].id, Notification.kind == kind)).one()
    assert notifications.describe(found).startswith(text.format(title=proposal.title))


def test_the_cycle_tells_authors_what_became_of_their_work(make, people):
    """Through the real services: intake (taken in, not selected), a lab invitation, lab
    decisions, promotion (on the ballot, not qualified) and the ballot's outcome."""
    from forum.models import Ballot, Proposal, Section, SectionMembership
    from forum.services import ballots, intake, lab_members, labs
    from tests.services.test_ballots import to_ballot_phase

    ann, ben, cat, dai = (people[n] for n in ("ann", "ben", "cat", "dai"))
    lead = make.user("lead")
    section = Section(name="Housing", slug="housing")
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionMembership(section_id=section.id, user_id=lead.id, is_lead=True))
    process = make.process(lab_min_votes=2, lab_intake_max=1, support_threshold=1)
    proposal = make.proposal(process, user=ann)
    other = make.proposal(process, user=dai)
    db.session.get(Proposal, proposal.id).section_id = section.id
    db.session.commit()
    taken = make.amendment(proposal, user=ben, start=2, end=2)
    make.amendment(proposal, user=cat, start=3, end=3)  # no votes: not selected
    for _ in range(2):
        voting.cast_vote(make.user(), taken.id, 1)
    deliberation.support_proposal(make.user(), proposal.id)

    lab = intake.close_amendment_window(lead, proposal.id, "Ready")
    assert inbox(ben, "amendment_in_lab")[0][1]["url"] == f"/labs/{lab.id}"
    assert inbox(cat, "amendment_not_selected")[0][1]["reason"] == "fewer than 2 votes"

    lab_members.invite(lead, lab.id, "cat", "expert")
    assert inbox(cat, "lab_invitation")[0][1]["actor"] == "lead"
    labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": taken.id,
                               "note": "Clearer."})
    decided = [n for n in db.session.scalars(select(Notification).where(
        Notification.user_id == ben.id, Notification.kind == "amendment_decided"))]
    assert notifications.describe(decided[0]).startswith(
        f"The policy lab accepted your amendment to {proposal.title}")
    labs.publish(lead, lab.id, "With the accepted amendment")
    labs.finalise(lead, lab.id)

    to_ballot_phase(process)
    admin = make.admin()
    ballot = db.session.scalar(select(Ballot).where(Ballot.process_id == process.id))
    ballots.promote(admin, ballot.id)
    assert kinds(ann).count("proposal_promoted") == 1
    assert inbox(dai, "proposal_not_qualified")[0][1]["reason"] == \
        db.session.get(Proposal, other.id).status_reason
    published = ballots.publish(admin, ballot.id)
    ballots.record_outcome(admin, published.items[0].id, "adopted")
    assert kinds(ann).count("proposal_adopted") == 1
    assert unread(ann) == len(kinds(ann))


def first_post(proposal):
    from forum.models import Post

    return db.session.scalar(select(Post).where(Post.topic_id == proposal.topic_id,
                                                Post.post_number == 1))


def test_unknown_kinds_are_refused(app, people):
    with pytest.raises(ValueError, match="unknown notification kind"):
        notifications.notify(people["ann"].id, "gossip")


# -- reading ---------------------------------------------------------------------------------------

def test_mark_one_and_all_read_keep_the_count_on_the_row(make, people):
    topic = make.topic(user=people["ann"])
    for name in ("ben", "cat", "dai"):
        make.reply(topic, user=people[name], reply_to=1)
    assert unread(people["ann"]) == 3
    first = db.session.scalars(select(Notification).where(
        Notification.user_id == people["ann"].id).order_by(Notification.id)).first()
    assert notifications.mark_read(people["ann"], first.id) == 2
    assert unread(people["ann"]) == 2
    assert notifications.mark_read(people["ann"]) == 0
    assert unread(people["ann"]) == 0


def test_a_member_cannot_touch_another_member_s_notifications(make, people):
    from forum.errors import NotFound

    topic = make.topic(user=people["ann"])
    make.reply(topic, user=people["ben"])
    theirs = db.session.scalars(select(Notification)).first()
    with pytest.raises(NotFound):
        notifications.mark_read(people["cat"], theirs.id)
    assert unread(people["ann"]) == 1


def test_the_bell_shows_the_count_without_a_query_of_its_own(client, make, people,
                                                             count_queries):
    topic = make.topic(user=people["ann"])
    make.reply(topic, user=people["ben"], reply_to=1)
    make.reply(topic, user=people["cat"], reply_to=1)
    login(client, people["ann"])
    page = client.get("/categories").get_data(as_text=True)
    assert 'class="bell-count">2<' in page
    with count_queries() as counted:
        client.get("/categories")
    with_bell = len(counted)
    notifications.mark_read(db.session.get(User, people["ann"].id))
    with count_queries() as counted:
        page = client.get("/categories").get_data(as_text=True)
    assert "bell-count" not in page
    assert len(counted) == with_bell, counted.report()
    assert not any("notifications" in s for s in counted.statements), counted.report()


def test_withdrawing_and_proposing_again_keeps_one_watch_row(make, people):
    proposal = make.proposal(user=people["ann"])
    item = make.amendment(proposal, user=people["ben"])
    amendments.withdraw_item(people["ben"], item.id)
    make.amendment(proposal, user=people["ben"], text="A second try at it.")
    rows = db.session.scalars(select(TopicNotificationLevel).where(
        TopicNotificationLevel.user_id == people["ben"].id)).all()
    assert [(r.topic_id, r.level, r.reason) for r in rows] == \
        [(proposal.topic_id, "watching", "amended")]
    assert deliberation.get_proposal(proposal.id).amendment_count == 1
