"""Topic and post permalinks, with Discourse's short forms: /t/{id}, /t/{id}/{post_number}."""
from sqlalchemy import update

from forum.extensions import db
from forum.models import Topic
from tests.openapi_check import assert_documented


def grown(make, replies=25):
    topic = make.topic(title="Bus routes for the valleys")
    for n in range(replies):
        make.reply(topic, raw=f"Reply number {n + 2} about buses.")
    return topic


def test_the_short_forms_lead_to_the_topic_they_name(client, make):
    topic = grown(make)
    make.topic(title="Another topic whose id is small")  # an id a post number may look like
    assert client.get(f"/t/{topic.id}").headers["Location"] == f"/t/{topic.slug}/{topic.id}"
    short = client.get(f"/t/{topic.id}/22")
    assert short.status_code == 302
    # With the fragment, the browser scrolls to the post.
    assert short.headers["Location"] == f"/t/{topic.slug}/{topic.id}/22#post-22"
    page = client.get(short.headers["Location"]).get_data(as_text=True)
    assert 'id="post-22"' in page and "is-target" in page and "Reply number 22" in page
    assert client.get(f"/t/{topic.id + 100}/2").status_code == 404
    assert client.get(f"/t/{topic.id}?page=2").headers["Location"] == \
        f"/t/{topic.slug}/{topic.id}?page=2"


def test_the_short_form_in_json_gives_the_page_holding_the_post(client, make):
    topic = grown(make)
    response = client.get(f"/t/{topic.id}/22.json")
    assert_documented(response, "GET", f"/t/{topic.id}/22.json")
    data = response.get_json()
    assert data["id"] == topic.id
    assert 22 in [p["post_number"] for p in data["post_stream"]["posts"]]


def test_a_wrong_slug_is_put_right_and_a_number_is_never_a_slug(client, make):
    topic = grown(make, replies=0)
    moved = client.get(f"/t/old-title/{topic.id}")
    assert moved.status_code == 301 and moved.headers["Location"] == f"/t/{topic.slug}/{topic.id}"
    assert make.topic(title="20271").slug == "topic-20271"


def test_a_topic_whose_slug_is_a_number_is_still_found_by_it(client, make):
    topic = grown(make, replies=0)
    db.session.execute(update(Topic).where(Topic.id == topic.id).values(slug="2027"))
    db.session.commit()
    page = client.get(f"/t/2027/{topic.id}")
    assert page.status_code == 200 and "Bus routes for the valleys" in page.get_data(as_text=True)


def test_json_pages_past_the_end_are_empty_so_a_script_stops(client, make):
    topic = grown(make)  # 26 posts: two pages
    assert len(client.get(f"/t/{topic.id}.json?page=2").get_json()["post_stream"]["posts"]) == 6
    assert client.get(f"/t/{topic.id}.json?page=3").get_json()["post_stream"]["posts"] == []
    # A page in the browser past the end shows the last one.
    assert "Reply number 26" in client.get(f"/t/{topic.slug}/{topic.id}?page=9").get_data(
        as_text=True)


def test_a_script_reads_a_long_topic_through_its_stream_as_in_discourse(client, make):
    from forum.services import moderation

    topic = grown(make, replies=44)  # 45 posts: the first page holds 20
    other = grown(make, replies=1)
    first = client.get(f"/t/{topic.id}.json")
    assert_documented(first, "GET", f"/t/{topic.id}.json")
    stream = first.get_json()["post_stream"]["stream"]
    assert len(stream) == 45 and len(first.get_json()["post_stream"]["posts"]) == 20
    assert stream[:20] == [p["id"] for p in first.get_json()["post_stream"]["posts"]]
    read = []
    for start in range(20, 45, 20):
        batch = stream[start:start + 20]
        response = client.get(f"/t/{topic.id}/posts.json",
                              query_string=[("post_ids[]", i) for i in reversed(batch)])
        assert_documented(response, "GET", f"/t/{topic.id}/posts.json")
        read += [p["id"] for p in response.get_json()["post_stream"]["posts"]]
    assert read == stream[20:]  # every post once, by post number
    last = client.get(f"/t/{topic.id}/posts.json?post_ids[]={stream[44]}").get_json()
    assert [p["post_number"] for p in last["post_stream"]["posts"]] == [45]
    # Another topic's post is left out; bad batches are refused with a reason.
    other_post = client.get(f"/t/{other.id}.json").get_json()["post_stream"]["stream"][0]
    assert client.get(f"/t/{topic.id}/posts.json?post_ids[]={other_post}").get_json()[
        "post_stream"]["posts"] == []
    for query in ("", "?post_ids[]=abc", "?post_ids[]=1.5",
                  "?" + "&".join(f"post_ids[]={i}" for i in range(1, 102))):
        refused = client.get(f"/t/{topic.id}/posts.json{query}")
        assert refused.status_code == 422 and refused.get_json()["errors"], query
    # A hidden post's words stay hidden here too; a hidden topic's posts are refused.
    staff = make.user(role="moderator")
    moderation.hide(staff, "post", stream[30], "Off topic")
    hidden = client.get(f"/t/{topic.id}/posts.json?post_ids[]={stream[30]}").get_json()
    assert "Reply number 31" not in str(hidden)
    moderation.hide(staff, "topic", topic.id, "Under review")
    assert client.get(f"/t/{topic.id}/posts.json?post_ids[]={stream[0]}").status_code == 403
    assert client.get(f"/t/{topic.id + 1000}/posts.json?post_ids[]=1").status_code == 404
