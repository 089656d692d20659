"""A topic page builds its posts' links once per page; they must stay what url_for gives. And
what those links lead to: quoting a post, and a reply that fails."""
import html
import re

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


def test_a_quote_links_back_to_the_post_it_quotes(client, make, auth):
    quoted_author = make.user("quotedmember")
    topic = make.topic(quoted_author, title="A topic with a post worth quoting")
    quoted = make.reply(topic, user=quoted_author, raw="Rents should follow wages, not prices.")
    auth(client, make.user())
    page = client.get(f"/t/{topic.slug}/{topic.id}?quote={quoted.post_number}")
    raw = re.search(r'<textarea id="raw"[^>]*>(.*?)</textarea>', page.get_data(as_text=True),
                    re.S).group(1)
    response = client.post(f"/t/{topic.id}/reply", data={"raw": html.unescape(raw)})
    assert response.status_code == 302
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    link = f"/t/{topic.slug}/{topic.id}/{quoted.post_number}#post-{quoted.post_number}"
    # One link, to the quoted post, that reads "@quotedmember wrote": no empty link beside it.
    assert re.search(r'<blockquote>\s*<p><a href="%s"[^>]*>@quotedmember wrote</a>:</p>'
                     % re.escape(link), shown)
    assert not re.search(r"<a [^>]*></a>", shown)


def test_a_failed_reply_keeps_the_text_and_its_address_leads_back(client, make, auth):
    topic = make.topic(title="A topic for a reply that is too short")
    auth(client, make.user())
    response = client.post(f"/t/{topic.id}/reply", data={"raw": "k"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Posts need at least 2 characters." in page and ">k</textarea>" in page
    assert "Write something first." in client.post(
        f"/t/{topic.id}/reply", data={"raw": "   "}).get_data(as_text=True)
    # Opening the failed reply's address again (reloading it) leads to the topic's composer.
    again = client.get(f"/t/{topic.id}/reply")
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/t/{topic.slug}/{topic.id}?page=1#composer")
    assert client.get("/t/999999/reply").status_code == 404
