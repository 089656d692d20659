"""Moderation services: flags and the review queue, hiding, topic curation, members; every act
leaves exactly one audit event, and the events cannot be changed or removed."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from forum.errors import Conflict, PermissionDenied, ValidationFailed
from forum.extensions import db
from forum.models import (Amendment, AuditEvent, Category, Flag, Post, ReviewItem, Topic, User,
                          utcnow)
from forum.permissions import CONSOLE
from forum.services import member_moderation, moderation, posts, review

UNTIL = (utcnow() + timedelta(days=7)).isoformat()


def events(action=None):
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return db.session.scalars(stmt).all()


def row(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def columns(obj, skip=()):
    return {c.name: getattr(obj, c.key) for c in obj.__table__.columns if c.name not in skip}


@pytest.fixture
def mod(make):
    return make.user(role="moderator")


@pytest.fixture
def post(make):
    return make.reply(make.topic(), raw="Some words that someone may not like.")


# -- flags -------------------------------------------------------------------------------------

def test_one_flag_per_member_per_item(make, post):
    member = make.user()
    review.flag(member, "post", post.id, "spam")
    with pytest.raises(Conflict, match="already flagged"):
        review.flag(member, "post", post.id, "inappropriate")
    assert db.session.scalar(select(func.count(Flag.id))) == 1


def test_the_database_holds_one_flag_per_member_per_item(make, post):
    member = make.user()
    first = review.flag(member, "post", post.id, "spam")
    db.session.add(Flag(review_item_id=first.review_item_id, target_kind="post",
                        target_id=post.id, user_id=member.id, flag_type="other",
                        message="again"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_members_cannot_flag_their_own_words_or_while_read_only(make, post):
    with pytest.raises(PermissionDenied, match="your own"):
        review.flag(post.user, "post", post.id, "spam")
    silenced = make.user()
    member_moderation.silence_member(CONSOLE, silenced.id, "cooling off", UNTIL)
    with pytest.raises(PermissionDenied, match="silenced"):
        review.flag(row(User, silenced.id), "post", post.id, "spam")


def test_something_else_needs_a_message(make, post):
    with pytest.raises(ValidationFailed):
        review.flag(make.user(), "post", post.id, "other", "")
    with pytest.raises(ValidationFailed):
        review.flag(make.user(), "post", post.id, "rude")


def told(user_id):
    """The author's notifications and the mail queued for them."""
    from forum.models import MailOutbox, Notification

    return (db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                               .order_by(Notification.id)).all(),
            db.session.scalars(select(MailOutbox).where(MailOutbox.user_id == user_id)
                               .order_by(MailOutbox.id)).all())


def test_enough_flags_hide_at_once_and_tell_the_author(app, make, post):
    from forum.services.notifications import describe

    review.flag(make.user(), "post", post.id, "spam")
    review.flag(make.user(), "post", post.id, "off_topic")
    assert row(Post, post.id).hidden_at is None
    assert told(post.user_id) == ([], [])
    review.flag(make.user(), "post", post.id, "spam")
    hidden = row(Post, post.id)
    assert hidden.hidden_at is not None and "review" in hidden.hidden_reason
    item = db.session.scalars(select(ReviewItem)).one()
    assert (item.status, item.flag_count) == ("pending", 3)
    assert item.hidden_by_flags_at is not None
    [notice], [mail] = told(post.user_id)
    assert describe(notice).startswith("Your post in") and "members flagged it" in \
        describe(notice)
    assert "3 members flagged it (off-topic, spam)" in notice.data["reason"]
    assert mail.to_address == post.user.email
    assert "Why: 3 members flagged it" in mail.text and "edit it to address the concern" in \
        mail.text
    [event] = events("hide_post")
    assert event.actor_id is None and event.target_id == post.id


def test_agreeing_with_flags_that_hid_a_post_tells_the_author_the_verdict(make, mod, post):
    item = _flag_times(make, post, 3)
    [pending], _ = told(post.user_id)
    review.agree(mod, item.id, "it repeats a member's home address")
    notices, mails = told(post.user_id)
    assert len(notices) == 2 and notices[0].id == pending.id
    verdict = notices[1]
    assert verdict.kind == "moderated" and verdict.actor_id == mod.id
    assert verdict.data["reason"] == "it repeats a member's home address"
    assert "Why: it repeats a member's home address" in mails[-1].text
    assert row(Post, post.id).hidden_reason == "it repeats a member's home address"


def test_a_moderator_hiding_tells_the_author_why(make, mod, post):
    moderation.hide(mod, "post", post.id, "it names a member's employer")
    [notice], [mail] = told(post.user_id)
    assert notice.kind == "moderated" and notice.actor_id == mod.id
    assert "Why: it names a member's employer" in mail.text


@pytest.mark.app_config(FLAGS_TO_HIDE=2)
def test_flags_to_hide_is_a_setting(make, post):
    review.flag(make.user(), "post", post.id, "spam")
    assert row(Post, post.id).hidden_at is None
    review.flag(make.user(), "post", post.id, "spam")
    assert row(Post, post.id).hidden_at is not None


def test_topics_amendments_and_clarifications_can_be_flagged(make):
    topic = make.topic()
    proposal = make.proposal()
    amendment = make.amendment(proposal)
    question = make.amendment(proposal, kind="clarification", text="What does this mean?")
    flagger = make.user()
    review.flag(flagger, "topic", topic.id, "off_topic")
    review.flag(flagger, "amendment", amendment.id, "spam")
    review.flag(flagger, "clarification", question.id, "inappropriate")
    kinds = sorted(db.session.scalars(select(ReviewItem.target_kind)))
    assert kinds == ["amendment", "clarification", "topic"]
    with pytest.raises(Exception):
        review.flag(flagger, "amendment", question.id, "spam")  # a clarification is not one


def test_a_hidden_amendment_drops_out_of_the_counts(make):
    proposal = make.proposal()
    item = make.amendment(proposal)
    for _ in range(3):
        review.flag(make.user(), "amendment", item.id, "spam")
    assert row(Amendment, item.id).hidden_at is not None
    assert row(type(proposal), proposal.id).amendment_count == 0


# -- the review queue ----------------------------------------------------------------------------

def _flag_times(make, target, n, kind="post"):
    for _ in range(n):
        review.flag(make.user(), kind, target.id, "spam")
    return db.session.scalar(select(ReviewItem).where(ReviewItem.target_id == target.id,
                                                      ReviewItem.target_kind == kind))


def test_the_queue_is_oldest_first_and_for_moderators_only(make, mod):
    topic = make.topic()
    first, second = make.reply(topic), make.reply(topic)
    _flag_times(make, second, 1)
    _flag_times(make, first, 1)
    page = review.queue(mod)
    assert [target.id for _, target, _ in page.items] == [second.id, first.id]
    with pytest.raises(PermissionDenied):
        review.queue(make.user())


def test_agree_hides_and_can_silence_the_author(make, mod, post):
    item = _flag_times(make, post, 1)
    review.agree(mod, item.id, "a personal attack", silence_until=UNTIL)
    assert row(Post, post.id).hidden_reason == "a personal attack"
    assert row(ReviewItem, item.id).status == "agreed"
    author = row(User, post.user_id)
    assert author.is_silenced() and author.silence_reason == "a personal attack"
    assert [e.action for e in events()] == ["agree_flags", "silence_user"]
    with pytest.raises(Conflict, match="already agreed"):
        review.disagree(mod, item.id)


def test_disagree_restores_exactly_what_flags_hid(make, mod, post):
    before = columns(row(Post, post.id))
    item = _flag_times(make, post, 3)
    assert row(Post, post.id).hidden_at is not None
    review.disagree(mod, item.id, "it is fair criticism")
    assert columns(row(Post, post.id)) == before
    assert events()[-1].action == "disagree_flags"


def test_ignore_changes_nothing_but_the_queue(make, mod, post):
    item = _flag_times(make, post, 3)
    hidden = columns(row(Post, post.id))
    review.ignore(mod, item.id)
    assert columns(row(Post, post.id)) == hidden
    assert row(ReviewItem, item.id).status == "ignored"
    # Once shown again, a new flag opens a new review item.
    moderation.unhide(mod, "post", post.id, "on second thoughts")
    again = _flag_times(make, post, 1)
    assert again is not None and db.session.scalar(select(func.count(ReviewItem.id))) == 2


def test_moderator_cannot_silence_an_admin_through_the_queue(make, mod):
    admin = make.admin()
    post = make.reply(make.topic(), user=admin)
    item = _flag_times(make, post, 1)
    with pytest.raises(PermissionDenied, match="admin"):
        review.agree(mod, item.id, "rude", silence_until=UNTIL)
    assert row(ReviewItem, item.id).status == "pending"
    assert not events("agree_flags")


# -- hiding --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["post", "topic", "amendment", "clarification"])
def test_hide_and_unhide_restore_exactly(make, mod, kind):
    if kind == "post":
        target = make.reply(make.topic())
    elif kind == "topic":
        target = make.topic()
    else:
        target = make.amendment(make.proposal(), kind=kind,
                                text="What exactly is meant here?" if kind == "clarification"
                                else None)
    model = type(target)
    before = columns(row(model, target.id))
    moderation.hide(mod, kind, target.id, "doxxing")
    hidden = row(model, target.id)
    assert hidden.hidden_at is not None and hidden.hidden_reason == "doxxing"
    with pytest.raises(Conflict):
        moderation.hide(mod, kind, target.id, "again")
    moderation.unhide(mod, kind, target.id, "")
    assert columns(row(model, target.id), skip={"updated_at"}) == \
        {k: v for k, v in before.items() if k != "updated_at"}
    assert [e.action for e in events() if e.target_kind == kind] == [f"hide_{kind}",
                                                                     f"unhide_{kind}"]


def test_hiding_needs_a_reason_and_a_moderator(make, mod, post):
    with pytest.raises(ValidationFailed):
        moderation.hide(mod, "post", post.id, "  ")
    with pytest.raises(PermissionDenied):
        moderation.hide(make.user(), "post", post.id, "because")
    assert row(Post, post.id).hidden_at is None and not events()


# -- topics --------------------------------------------------------------------------------------

def test_lock_stops_replies_but_from_moderators(make, mod):
    topic = make.topic()
    moderation.lock_topic(mod, topic.id, "cooling off")
    with pytest.raises(PermissionDenied, match="closed"):
        make.reply(row(Topic, topic.id))
    make.reply(row(Topic, topic.id), user=mod)
    moderation.unlock_topic(mod, topic.id)
    make.reply(row(Topic, topic.id))
    assert [e.action for e in events()] == ["lock_topic", "unlock_topic"]


def test_setting_a_status_it_already_has_records_nothing(make, mod):
    topic = make.topic()
    moderation.unlock_topic(mod, topic.id)
    moderation.list_topic(mod, topic.id)
    moderation.unpin_topic(mod, topic.id)
    assert not events()


def test_pin_in_category_and_globally(make, mod):
    topic = make.topic()
    moderation.pin_topic(mod, topic.id)
    t = row(Topic, topic.id)
    assert t.pinned_at is not None and not t.pinned_globally
    moderation.pin_topic(mod, topic.id, globally=True)
    assert row(Topic, topic.id).pinned_globally
    moderation.unpin_topic(mod, topic.id)
    t = row(Topic, topic.id)
    assert t.pinned_at is None and not t.pinned_globally
    assert [e.action for e in events()] == ["pin_topic", "pin_topic_globally", "unpin_topic"]


def test_move_topic_recounts_both_categories(make, mod):
    old, new = make.category(), make.category()
    topic = make.topic(category=old)
    moderation.move_topic(mod, topic.id, new.id, "belongs there")
    assert row(Topic, topic.id).category_id == new.id
    assert (row(Category, old.id).topic_count, row(Category, new.id).topic_count) == (0, 1)
    [event] = events("move_topic")
    assert event.details == {"from_category_id": old.id, "to_category_id": new.id}


def test_proposal_threads_stay_in_their_process(make, mod):
    proposal = make.proposal()
    with pytest.raises(Conflict):
        moderation.move_topic(mod, proposal.topic_id, make.category().id)


def test_split_moves_chosen_replies_renumbered_and_keeps_their_threading(make, mod):
    topic = make.topic()
    a = make.reply(topic, raw="Off on a tangent.")
    b = make.reply(topic, raw="Back on topic.")
    c = make.reply(topic, raw="Answering the tangent.", reply_to=a.post_number)
    d = make.reply(topic, raw="Answering the on-topic reply.", reply_to=b.post_number)
    new = moderation.split_topic(mod, topic.id, [c.id, a.id], "The tangent, on its own",
                                 reason="off topic")
    moved = {p.id: p for p in db.session.scalars(select(Post).where(Post.topic_id == new.id))}
    assert sorted((p.post_number, p.raw) for p in moved.values()) == [
        (1, "Off on a tangent."), (2, "Answering the tangent.")]
    assert row(Post, c.id).reply_to_post_number == 1
    assert row(Post, a.id).reply_count == 1
    assert row(Post, d.id).topic_id == topic.id and row(Post, d.id).reply_to_post_number == \
        b.post_number
    new_topic, old_topic = row(Topic, new.id), row(Topic, topic.id)
    assert (new_topic.posts_count, new_topic.highest_post_number) == (2, 2)
    assert new_topic.user_id == a.user_id
    assert old_topic.posts_count == 3
    [event] = events("split_topic")
    assert event.target_id == topic.id and event.details["new_topic_id"] == new.id
    opening = db.session.scalar(select(Post.id).where(Post.topic_id == topic.id,
                                                      Post.post_number == 1))
    with pytest.raises(ValidationFailed, match="first post"):
        moderation.split_topic(mod, topic.id, [opening], "Cannot do this")


def test_moderators_edit_posts_with_a_reason_kept_in_the_revisions(make, mod, post):
    with pytest.raises(ValidationFailed):
        posts.edit_post(mod, post.id, "Edited by a moderator.", "")
    posts.edit_post(mod, post.id, "Edited by a moderator.", "removed a phone number")
    [event] = events("edit_post")
    assert event.actor_id == mod.id and event.reason == "removed a phone number"


# -- members -------------------------------------------------------------------------------------

def test_silence_is_read_only_until_lifted(make, mod):
    member = make.user()
    topic = make.topic()
    member_moderation.silence_member(mod, member.id, "repeated insults", UNTIL)
    with pytest.raises(PermissionDenied, match="silenced"):
        make.reply(topic, user=row(User, member.id))
    member_moderation.unsilence_member(mod, member.id, "apologised")
    make.reply(topic, user=row(User, member.id))
    with pytest.raises(Conflict, match="not silenced"):
        member_moderation.unsilence_member(mod, member.id)
    assert [e.action for e in events()] == ["silence_user", "unsilence_user"]


def test_suspension_ends_every_session(make, mod):
    member = make.user()
    version = member.session_version
    member_moderation.suspend_member(mod, member.id, "threats", UNTIL)
    suspended = row(User, member.id)
    assert suspended.is_suspended() and suspended.session_version == version + 1


@pytest.mark.parametrize("until", ["", "yesterday", "2001-01-01",
                                   (utcnow() - timedelta(minutes=1)).isoformat()],
                         ids=["empty", "yesterday", "long ago", "a minute ago"])
def test_restrictions_need_a_future_end_date(make, mod, until):
    with pytest.raises(ValidationFailed):
        member_moderation.silence_member(mod, make.user().id, "reason", until)


def test_a_date_alone_means_the_end_of_that_day(make, mod):
    member = make.user()
    day = (utcnow() + timedelta(days=3)).date()
    member_moderation.suspend_member(mod, member.id, "threats", day.isoformat())
    until = row(User, member.id).suspended_until
    assert until.date() == day and (until.hour, until.minute) == (23, 59)


def test_moderators_cannot_act_on_admins_nor_anyone_on_themselves(make, mod):
    admin, other_mod = make.admin(), make.user(role="moderator")
    with pytest.raises(PermissionDenied, match="admin"):
        member_moderation.suspend_member(mod, admin.id, "no", UNTIL)
    with pytest.raises(PermissionDenied, match="yourself"):
        member_moderation.silence_member(mod, mod.id, "no", UNTIL)
    member_moderation.silence_member(admin, other_mod.id, "admins may", UNTIL)
    member_moderation.silence_member(mod, make.user().id, "members, yes", UNTIL)
    assert len(events()) == 2


def test_members_cannot_moderate(make):
    member, other = make.user(), make.user()
    topic = make.topic()
    for attempt in (lambda: member_moderation.silence_member(member, other.id, "x", UNTIL),
                    lambda: moderation.lock_topic(member, topic.id),
                    lambda: moderation.unlist_topic(member, topic.id),
                    lambda: moderation.pin_topic(member, topic.id)):
        with pytest.raises(PermissionDenied):
            attempt()
    assert not events()


# -- the record ----------------------------------------------------------------------------------

def test_every_act_writes_one_event_with_one_target_and_its_reason(make, mod):
    topic = make.topic()
    moderation.lock_topic(mod, topic.id, "heated")
    moderation.unlist_topic(mod, topic.id, "off the front page")
    [lock, unlist] = events()
    assert (lock.actor_id, lock.action, lock.target_kind, lock.target_id, lock.reason) == (
        mod.id, "lock_topic", "topic", topic.id, "heated")
    assert unlist.reason == "off the front page" and unlist.created_at is not None


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET reason = 'rewritten'",
                                       "DELETE FROM audit_events"])
def test_audit_events_cannot_be_changed_or_removed(make, mod, statement):
    moderation.lock_topic(mod, make.topic().id, "heated")
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(text(statement))
    assert [e.reason for e in events()] == ["heated"]


def test_proposal_threads_are_moderated_item_by_item(make, mod):
    proposal = make.proposal()
    with pytest.raises(Conflict, match="proposal thread"):
        review.flag(make.user(), "topic", proposal.topic_id, "spam")
    with pytest.raises(Conflict, match="proposal thread"):
        moderation.hide(mod, "topic", proposal.topic_id, "spam")
    assert not events("hide_topic") and db.session.scalar(select(func.count(Flag.id))) == 0


def test_an_author_putting_hidden_words_right_sends_them_back_for_review(make, mod):
    post = make.reply(make.topic(), raw="Our treasurer is a crook.")
    item = _flag_times(make, post, 3)
    review.agree(mod, item.id, "an accusation without evidence")
    assert not db.session.scalars(select(ReviewItem).where(
        ReviewItem.status == "pending")).all()
    posts.edit_post(row(User, post.user_id), post.id,
                    "I disagree with how the treasurer has run the budget.", "toned down")
    waiting = db.session.scalars(select(ReviewItem).where(ReviewItem.status == "pending")).one()
    assert (waiting.target_id, waiting.flag_count) == (post.id, 0)
    assert row(Post, post.id).hidden_at is not None  # still hidden until a moderator looks
    review.disagree(mod, waiting.id, "fair now")
    shown = row(Post, post.id)
    assert shown.hidden_at is None and shown.raw.startswith("I disagree")


def test_an_edited_hidden_amendment_goes_back_for_review(make, mod):
    item = make.amendment(make.proposal())
    moderation.hide(mod, "amendment", item.id, "mocks another member")
    from forum.services import amendments

    amendments.edit_item(row(User, item.user_id), item.id, 2, 2, "A calmer paragraph here.",
                         "Because the old text was needlessly personal.")
    waiting = db.session.scalars(select(ReviewItem)).one()
    assert (waiting.target_kind, waiting.status) == ("amendment", "pending")
