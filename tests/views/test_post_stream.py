"""A topic page builds its posts' links once per page; they must stay what url_for gives."""
from flask import url_for

from forum.views.post_stream import PostStream


def test_post_stream_links_are_url_for_links(app, make):
    topic = make.topic(title="Links that stay the same")
    with app.test_request_context("/"):
        stream = PostStream(topic, last_page=7)
        values = {"slug": topic.slug, "topic_id": topic.id}
        for number in (1, 9, 20, 141):
            assert stream.post_url(number) == url_for("topics.show_post", post_number=number,
                                                      **values)
            assert stream.reply_url(number) == url_for("topics.show", page=7, reply_to=number,
                                                       **values)
            assert stream.quote_url(number) == url_for("topics.show", page=7, quote=number,
                                                       **values)
        assert stream.profile_url("member1") == url_for("users.profile", username="member1")


def test_post_stream_links_under_a_script_root(app, make):
    topic = make.topic(title="Served under a prefix")
    with app.test_request_context("/", base_url="http://localhost/forum/"):
        stream = PostStream(topic, last_page=2)
        assert stream.post_url(5) == url_for("topics.show_post", slug=topic.slug,
                                             topic_id=topic.id, post_number=5)
        assert stream.post_url(5).startswith("/forum/t/")
