"""A second press of "Post reply" (a double click on a slow link) posts nothing twice."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from forum.errors import ValidationFailed
from forum.extensions import db
from forum.models import Post
from forum.services import posts


def test_the_same_words_again_in_the_same_topic_are_a_repeat(make, monkeypatch):
    topic, member = make.topic(), make.user()
    first = make.reply(topic, user=member, raw="Count me in for Saturday.")
    with pytest.raises(ValidationFailed, match=f"as post #{first.post_number}"):
        make.reply(topic, user=member, raw="Count me in for Saturday.")
    make.reply(topic, raw="Count me in for Saturday.")  # someone else may say it
    make.reply(make.topic(), user=member, raw="Count me in for Saturday.")  # elsewhere too
    posts.delete_post(member, first.id)
    make.reply(topic, user=member, raw="Count me in for Saturday.")  # the first was withdrawn
    monkeypatch.setattr(posts, "REPEAT_SECONDS", 0)
    make.reply(topic, user=member, raw="Count me in for Saturday.")  # long after, it is new


def test_two_presses_at_once_make_one_post(app, client, make, engine_name):
    if engine_name == "sqlite":
        pytest.skip("in-memory SQLite is one connection: nothing runs at once")
    from tests.writes import issue_api_key

    topic, member = make.topic(), make.user()
    topic_id = topic.id
    headers = {"Api-Key": issue_api_key(member), "Api-Username": member.username}

    def press(_):
        return client.post("/posts.json", headers=headers, json={
            "topic_id": topic_id, "raw": "Pressed twice on a slow link."}).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(press, range(4)))
    assert statuses == [200, 422, 422, 422]
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Post.id)).where(
        Post.topic_id == topic_id, Post.raw == "Pressed twice on a slow link.")) == 1
