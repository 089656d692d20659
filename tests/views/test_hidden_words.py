"""Hidden words are read by their author and moderators only: not through a post's JSON, nor
through its history, whatever way a script asks."""
import pytest

from forum.extensions import db
from forum.models import Post
from forum.services import moderation, posts
from tests.conftest import login
from tests.openapi_check import assert_documented


@pytest.fixture
def hidden(make):
    author, moderator = make.user("author"), make.user(role="moderator")
    topic = make.topic(user=author, title="A topic that will be hidden", raw="Secret zorblatt.")
    reply = make.reply(make.topic(), user=author, raw="A reply with quibble words.")
    posts.edit_post(author, reply.id, "A reply with quibble words, edited.", reason="typo")
    moderation.hide(moderator, "post", reply.id, "Off topic")
    moderation.hide(moderator, "topic", topic.id, "Personal attack")
    first = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id,
                                                    Post.post_number == 1))
    item = make.amendment(make.proposal(), user=author, text="Cap rents at a flurgle rate.",
                          rationale="Because snarfle.")
    moderation.hide(moderator, "amendment", item.id, "Spam")
    gone = make.reply(make.topic(), user=author, raw="A reply with wibbleton words.")
    posts.delete_post(author, gone.id)
    return {"author": author, "moderator": moderator, "topic": topic, "first": first,
            "reply": reply, "item": item, "gone": gone}


SECRETS = ("zorblatt", "quibble", "flurgle", "snarfle", "wibbleton", "A topic that will be hidden")


def pages_quoting_words(h):
    """Every page that shows a thing's words besides the thing's own place: edit forms, flag
    and hide forms, the topic's notification level."""
    for post in (h["first"], h["reply"], h["gone"]):
        yield from (f"/posts/{post.id}/edit", f"/posts/{post.id}/flag",
                    f"/posts/{post.id}/hide", f"/posts/{post.id}/unhide")
    topic = h["topic"].id
    yield from (f"/t/{topic}/flag", f"/t/{topic}/hide", f"/t/{topic}/unhide",
                f"/t/{topic}/notifications")
    item = h["item"].id
    yield from (f"/amendments/{item}/edit", f"/amendments/{item}/flag",
                f"/amendments/{item}/hide", f"/amendments/{item}/unhide")


def test_no_page_quotes_hidden_or_withdrawn_words_to_other_members(client, make, hidden):
    login(client, make.user())
    for path in pages_quoting_words(hidden):
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 403, path
        assert not [s for s in SECRETS if s in body], path
    # Nor may they flag what they cannot read, nor follow a topic hidden from them.
    assert client.post(f"/posts/{hidden['first'].id}/flag", data={
        "flag_type": "spam"}).status_code == 403
    assert client.put(f"/t/{hidden['topic'].id}/notifications.json",
                      json={"level": "watching"}).status_code == 403


def test_moderators_read_them_on_the_hide_forms(client, hidden):
    login(client, hidden["moderator"])
    assert "quibble" in client.get(f"/posts/{hidden['reply'].id}/unhide").get_data(as_text=True)
    assert "flurgle" in client.get(f"/amendments/{hidden['item'].id}/unhide").get_data(
        as_text=True)
    assert "zorblatt" in client.get(f"/posts/{hidden['first'].id}/hide").get_data(as_text=True)


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_others_read_no_hidden_words(client, make, hidden, who):
    if who == "member":
        login(client, make.user())
    for path in (f"/posts/{hidden['first'].id}.json", f"/posts/{hidden['reply'].id}.json",
                 f"/posts/{hidden['reply'].id}/revisions.json",
                 f"/posts/{hidden['first'].id}/revisions.json"):
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert "zorblatt" not in body and "quibble" not in body, path
        if response.status_code != 200:
            assert response.status_code == 403, path
            assert_documented(response, "GET", path)
    assert "quibble" not in client.get(f"/posts/{hidden['reply'].id}/revisions").get_data(
        as_text=True)


@pytest.mark.parametrize("who", ["author", "moderator"])
def test_the_author_and_moderators_still_read_them(client, hidden, who):
    login(client, hidden[who])
    assert "zorblatt" in client.get(f"/posts/{hidden['first'].id}.json").get_data(as_text=True)
    history = client.get(f"/posts/{hidden['reply'].id}/revisions.json")
    assert history.status_code == 200 and "quibble" in history.get_data(as_text=True)


def test_a_hidden_post_takes_no_likes(client, make, hidden):
    from forum.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="hidden"):
        posts.like_post(make.user(), hidden["reply"].id)
    with pytest.raises(PermissionDenied, match="hidden"):
        posts.like_post(make.user(), hidden["first"].id)
