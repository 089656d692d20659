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
    return {"author": author, "moderator": moderator, "topic": topic, "first": first,
            "reply": reply}


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
