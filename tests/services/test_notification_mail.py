"""Notification mail through a real SMTP server on loopback: sent after commit, retried until it
goes, chosen per kind, gathered in a daily digest, and stopped by signed one-click links."""
import re
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from forum.db import write_transaction
from forum.extensions import db
from forum.models import EmailPreference, MailOutbox, Notification, utcnow
from forum.services import mailing, moderation, notifications
from tests.conftest import login
from tests.mailserver import body_text, link_path


@pytest.fixture
def ann(make):
    return make.user("ann")


def reply_to(make, author, replier, raw="A reply with something to say."):
    topic = make.topic(user=author, title="Library opening hours")
    return make.reply(topic, user=replier, raw=raw, reply_to=1)


def cli(runner, *args):
    """Run a command as cron would. The test's session lets go of its transaction first: on
    in-memory SQLite the command's session shares its connection."""
    db.session.rollback()
    result = runner.invoke(args=["forum", *args])
    assert result.exception is None, result.output
    return result.output


def outbox():
    db.session.rollback()
    return db.session.scalars(select(MailOutbox).order_by(MailOutbox.id)).all()


def test_a_reply_is_mailed_at_once_with_text_html_and_unsubscribe_headers(make, ann, mailbox):
    reply_to(make, ann, make.user("ben"), raw="Open on Sundays, please.")
    message = mailbox.wait_for(to="ann@example.org", subject_contains="replied")
    assert message["Subject"] == "[Forum] ben replied to your post in Library opening hours"
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Open on Sundays, please." in plain and "Open on Sundays, please." in html
    assert "/t/library-opening-hours/" in plain
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url in plain and "/email/unsubscribe/" in url
    # As sent: a mail client reads the header only as a bare <URL> (RFC 2369), never as
    # encoded words, which Python writes when it folds a long URL to 78 characters.
    [raw] = [d.raw for d in mailbox.deliveries if d.message is message]
    sent = re.search(rb"^List-Unsubscribe: (.*?)\r?$", raw, re.M).group(1)
    assert sent.decode() == f"<{url}>"
    [row] = outbox()
    assert row.status == "sent" and row.attempts == 1


def test_one_click_unsubscribe_stops_that_kind_only(client, make, ann, mailbox):
    ben = make.user("ben")
    reply_to(make, ann, ben)
    message = mailbox.wait_for(to="ann@example.org")
    url = message["List-Unsubscribe"].strip("<>")
    # RFC 8058: the mail client POSTs, with no session and no CSRF token.
    response = client.post(link_path(url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204
    assert mailing.preferences(ann.id)["replied"] == "never"
    assert mailing.preferences(ann.id)["mentioned"] == "immediately"
    mailbox.clear()
    reply_to(make, ann, ben)
    make.reply(make.topic(user=ben), user=make.user(), raw="Thanks @ann.")
    mention = mailbox.wait_for(to="ann@example.org", subject_contains="mentioned you")
    assert [m["Subject"] for m in mailbox.messages_to("ann@example.org")] == \
        [mention["Subject"]]


def test_the_link_in_the_mail_asks_before_unsubscribing(client, make, ann, mailbox):
    reply_to(make, ann, make.user("ben"))
    path = link_path(mailbox.wait_for(to="ann@example.org")["List-Unsubscribe"].strip("<>"))
    page = client.get(path)
    assert page.status_code == 200 and "Stop mail about replies to your posts?" in \
        page.get_data(as_text=True)
    assert mailing.preferences(ann.id)["replied"] == "immediately"  # a GET changes nothing
    done = client.post(path)
    assert done.status_code == 200 and "Unsubscribed" in done.get_data(as_text=True)
    assert mailing.preferences(ann.id)["replied"] == "never"


def test_every_mail_offers_to_stop_all_mail(client, make, ann, mailbox, runner):
    ben = make.user("ben")
    reply_to(make, ann, ben)
    message = mailbox.wait_for(to="ann@example.org")
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    url = re.search(r"Stop all mail from the forum: (\S+)", plain).group(1)
    assert f'<a href="{url}">Stop all mail from the forum</a>' in html
    assert url != message["List-Unsubscribe"].strip("<>")  # that one stops replies only
    page = client.get(link_path(url)).get_data(as_text=True)
    assert "Stop all mail from the forum?" in page
    assert client.post(link_path(url)).status_code == 200
    assert set(mailing.preferences(ann.id).values()) == {"never"}
    mailbox.clear()
    make.reply(make.topic(user=ben), user=make.user(), raw="Thanks @ann.")
    reply_to(make, ann, ben)
    assert "Sent 0" in cli(runner, "send-mail")
    assert mailbox.messages_to("ann@example.org") == []


def test_unsubscribe_links_cannot_be_forged_or_turned_on_another_member(client, app, make,
                                                                         ann):
    ben = make.user("ben")
    token = mailing.unsubscribe_token(ann.id, "all")
    # Another member's id in the payload, signed with the wrong key: refused.
    forged = URLSafeSerializer("not-the-secret", salt=mailing.UNSUBSCRIBE_SALT).dumps(
        {"u": ben.id, "s": "all"})
    # Ann's signature on Ben's payload: refused.
    signature = token.rsplit(".", 1)[1]
    spliced = URLSafeSerializer("x").dumps({"u": ben.id, "s": "all"}).rsplit(".", 1)[0] + \
        "." + signature
    for bad in (forged, spliced, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "x"):
        response = client.post(f"/email/unsubscribe/{bad}",
                               data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 400, bad
    assert db.session.scalar(select(EmailPreference.user_id)) is None
    # Ann's real link, used by a signed-in Ben, stops Ann's mail and not Ben's.
    login(client, ben)
    assert client.post(f"/email/unsubscribe/{token}").status_code == 200
    assert set(mailing.preferences(ann.id).values()) == {"never"}
    assert "immediately" in mailing.preferences(ben.id).values()
    # A token for one kind cannot be read as another kind: the scope is signed too.
    assert mailing.read_unsubscribe_token(mailing.unsubscribe_token(ben.id, "liked")) == \
        (ben.id, "liked")


def test_a_refused_mail_is_kept_and_retried_with_backoff(app, make, ann, mailbox, runner):
    with mailbox.refusing():
        reply_to(make, ann, make.user("ben"))
    [row] = outbox()
    assert row.status == "pending" and row.attempts == 1 and "554" in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=50)
    assert mailbox.messages_to("ann@example.org") == []
    assert db.session.scalar(select(Notification.kind)) == "replied"  # the notification stays
    # Not due yet: the command leaves it.
    assert "Sent 0" in cli(runner, "send-mail")
    with write_transaction():
        db.session.get(MailOutbox, row.id).next_attempt_at = utcnow()
    assert "Sent 1, failed 0" in cli(runner, "send-mail")
    assert mailbox.wait_for(to="ann@example.org", subject_contains="replied")
    [row] = outbox()
    assert row.status == "sent" and row.attempts == 2


def test_an_unreachable_server_fails_every_attempt_then_is_marked_failed(app, make, ann):
    app.config.update(MAIL_URL="smtp://127.0.0.1:9", MAIL_TIMEOUT=2)  # nothing listens
    reply_to(make, ann, make.user("ben"))
    [row] = outbox()
    assert row.status == "pending" and row.attempts == 1
    row_id, delays = row.id, []
    with mailing_session() as session:
        for _ in range(mailing.MAX_ATTEMPTS - 1):
            before = utcnow()
            mailing.send_due(session, now=utcnow() + timedelta(days=1))
            row = session.get(MailOutbox, row_id)
            delays.append(row.next_attempt_at - before)
            session.commit()
    assert row.status == "failed" and row.attempts == mailing.MAX_ATTEMPTS
    assert delays[0] < delays[3] <= timedelta(hours=6, minutes=1)
    with mailing_session() as session:
        assert mailing.retry_failed(session) == 1


def mailing_session():
    from tests.search_helpers import worker_session

    return worker_session()


def test_nothing_is_mailed_when_the_transaction_rolls_back(make, ann, mailbox):
    topic = make.topic(user=ann)
    ben = make.user("ben")
    with pytest.raises(RuntimeError):
        with write_transaction():
            notifications.notify(ann.id, "replied", actor=ben, topic=topic)
            raise RuntimeError("the operation failed after notifying")
    assert outbox() == [] and db.session.scalar(select(Notification.id)) is None
    mailbox.assert_nothing_to("ann@example.org")


def test_preferences_never_and_daily(make, ann, mailbox):
    mailing.set_preferences(ann, {"replied": "never", "mentioned": "daily"})
    ben = make.user("ben")
    reply_to(make, ann, ben)
    make.reply(make.topic(user=ben), user=ben, raw="Over to you, @ann.")
    assert outbox() == []
    assert sorted(db.session.execute(select(Notification.kind, Notification.email_state))
                  .all()) == [("mentioned", "digest"), ("replied", "none")]


def test_unverified_members_get_no_mail(make, mailbox):
    newcomer = make.user("newcomer", verified=False)
    author = make.user()
    topic = make.topic(user=author)
    make.reply(topic, user=make.user("ben"), raw="Welcome @newcomer!")
    assert [k for k, in db.session.execute(select(Notification.kind).where(
        Notification.user_id == newcomer.id))] == ["mentioned"]
    assert [m.to_address for m in outbox()] == [author.email]  # the topic's author


def test_the_daily_digest(app, make, ann, mailbox, runner):
    mailing.set_preferences(ann, {"replied": "daily"})
    ben, cat = make.user("ben"), make.user("cat")
    topic = make.topic(user=ann, title="Community energy")
    make.reply(topic, user=ben, reply_to=1, raw="Solar on the school roof.")
    make.reply(topic, user=cat, reply_to=1, raw="A wind turbine on the hill.")
    make.reply(topic, user=ben, reply_to=1, raw="Read already.")
    read = db.session.scalars(select(Notification).order_by(Notification.id.desc())).first()
    notifications.mark_read(ann, read.id)
    rude = make.reply(topic, user=cat, reply_to=1, raw="Something zorblatt and rude.")
    moderation.hide(make.user(role="moderator"), "post", rude.id, "Personal attack")
    assert mailbox.messages_to("ann@example.org") == []

    assert "Queued 1 digests; sent 1 mails" in cli(runner, "send-digests")
    message = mailbox.wait_for(to="ann@example.org", subject_contains="daily summary")
    assert message["Subject"] == "[Forum] Your daily summary: 3 new notifications"
    text = body_text(message)
    assert "ben replied to your post in Community energy" in text
    assert "cat replied to your post in Community energy" in text
    assert '"Solar on the school roof."' in text and "Read already" not in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "cat replied to your post in Community energy" in html
    assert "Solar on the school roof." in html and "A wind turbine on the hill." in html
    # A reply hidden by a moderator since is listed without its words.
    assert "zorblatt" not in text and "zorblatt" not in html
    assert "/email/unsubscribe/" in message["List-Unsubscribe"]
    stop_all = re.search(r"Stop all mail from the forum: (\S+)", text).group(1)
    assert mailing.read_unsubscribe_token(stop_all.rsplit("/", 1)[1]) == (ann.id, "all")
    # Each notification goes in one digest only.
    mailbox.clear()
    assert "Queued 0 digests" in cli(runner, "send-digests")
    assert mailbox.messages_to("ann@example.org") == []


def test_unsubscribing_from_the_digest_stops_the_daily_kinds(client, make, ann, mailbox,
                                                             runner):
    mailing.set_preferences(ann, {"replied": "daily"})
    reply_to(make, ann, make.user("ben"))
    cli(runner, "send-digests")
    message = mailbox.wait_for(to="ann@example.org", subject_contains="daily summary")
    client.post(link_path(message["List-Unsubscribe"].strip("<>")),
                data={"List-Unsubscribe": "One-Click"})
    chosen = mailing.preferences(ann.id)
    assert chosen["replied"] == "never" and chosen["posted"] == "never"
    assert chosen["mentioned"] == "immediately"


def test_a_title_typed_over_several_lines_is_one_line_and_its_mail_goes(make, ann, mailbox):
    """A title comes from a form or a script; a line break in it must not end up in a mail
    header, where Python refuses it, nor keep the outbox from sending."""
    topic = make.topic(user=ann, title="Library opening\r\nhours\n\u2028on Sundays")
    assert topic.title == "Library opening hours on Sundays"
    make.reply(topic, user=make.user("ben"), raw="Open on Sundays, please.", reply_to=1)
    message = mailbox.wait_for(to="ann@example.org", subject_contains="replied")
    assert message["Subject"].endswith("in Library opening hours on Sundays")


def test_a_message_that_cannot_be_written_counts_as_a_failed_attempt(app, make, ann, mailbox):
    reply_to(make, ann, make.user("ben"))
    [row] = outbox()
    assert row.status == "sent"
    with write_transaction():  # as a message queued before titles were one line could be
        bad = MailOutbox(user_id=ann.id, kind="replied", to_address="ann@example.org",
                         subject="Two\nlines", text="Hello.",
                         headers={"X-Note": "broken\nheader"}, status="pending",
                         next_attempt_at=utcnow())
        db.session.add(bad)
    bad_id = bad.id
    with mailing_session() as session:
        assert mailing.send_due(session) == (0, 1)
        row = session.get(MailOutbox, bad_id)
        assert row.status == "pending" and row.attempts == 1 and row.claimed_at is None
        assert "could not be written" in row.last_error
