"""Every public page renders for visitors and members."""
import pytest

from tests.conftest import login

PUBLIC = ["/", "/latest", "/latest.json", "/top", "/top?period=weekly", "/new", "/unread",
          "/categories", "/categories.json", "/login", "/signup", "/password-reset"]


@pytest.mark.parametrize("url", PUBLIC)
def test_public_pages_render(client, make, url):
    make.topic()
    response = client.get(url)
    assert response.status_code == 200


def test_topic_page_shows_posts_and_composer(client, make):
    topic = make.topic(title="Buses for everyone in the valleys")
    make.reply(topic, raw="I agree about **buses**.")
    member = make.user()
    login(client, member)
    page = client.get(f"/t/{topic.slug}/{topic.id}").get_data(as_text=True)
    assert "Buses for everyone in the valleys" in page
    assert "<strong>buses</strong>" in page
    assert 'id="composer"' in page


def test_new_topic_is_offered_only_where_the_member_may_start_one(client, make):
    open_to_all = make.category("Open to all")
    admins_only = make.category("Admin notes", topic_creators="admins")
    member = make.user()
    login(client, member)

    def offered(category):
        url = f"/c/{category.slug}/{category.id}"
        page = client.get(url).get_data(as_text=True)
        flag = client.get(url + ".json").get_json()["topic_list"]["can_create_topic"]
        assert (f'href="/new-topic?category={category.id}"' in page) == flag
        return flag

    assert offered(open_to_all) and not offered(admins_only)
    client.post("/logout")
    login(client, make.user(role="admin"))
    assert offered(admins_only)
    client.post("/logout")
    login(client, make.user(verified=False))
    assert not offered(open_to_all)


def test_a_refused_reply_points_its_field_at_the_message(client, make):
    topic = make.topic()
    login(client, make.user())
    page = client.post(f"/t/{topic.id}/reply", data={"raw": "  "}).get_data(as_text=True)
    assert 'aria-describedby="raw-hint raw-errors"' in page and 'id="raw-errors"' in page


def test_a_withdrawn_post_offers_no_history_it_cannot_show(client, make):
    from forum.services import posts

    topic = make.topic()
    author = make.user()
    reply = make.reply(topic, user=author, raw="First thoughts on this.")
    posts.edit_post(author, reply.id, "Second thoughts on this.", reason="Clearer")
    url = f"/t/{topic.slug}/{topic.id}"
    assert f'href="/posts/{reply.id}/revisions"' in client.get(url).get_data(as_text=True)
    posts.delete_post(author, reply.id)
    assert f'href="/posts/{reply.id}/revisions"' not in client.get(url).get_data(as_text=True)


def test_an_unverified_member_sees_likes_but_no_buttons_that_only_refuse(client, make):
    topic = make.topic()
    reply = make.reply(topic, raw="Worth a like.")
    login(client, make.user(verified=False))
    page = client.get(f"/t/{topic.slug}/{topic.id}").get_data(as_text=True)
    assert f'action="/posts/{reply.id}/like"' not in page
    assert f'href="/posts/{reply.id}/flag"' not in page
    client.post("/logout")
    login(client, make.user())
    page = client.get(f"/t/{topic.slug}/{topic.id}").get_data(as_text=True)
    assert f'action="/posts/{reply.id}/like"' in page


def test_an_edit_can_be_previewed_without_javascript(client, make):
    topic = make.topic()
    author = make.user()
    reply = make.reply(topic, user=author, raw="Before.")
    login(client, author)
    page = client.post(f"/posts/{reply.id}/edit", data={
        "raw": "After, **bolder**.", "reason": "Clearer", "preview": "1"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<strong>bolder</strong>" in html
    assert "After, **bolder**.</textarea>" in html and 'value="Clearer"' in html
    assert client.get(f"/posts/{reply.id}.json").get_json()["raw"] == "Before."


def test_a_long_topic_sends_readers_to_the_composer_on_its_last_page(client, make):
    topic = make.topic(title="A long thread on rents")
    for n in range(25):
        make.reply(topic, raw=f"Reply {n}.")
    login(client, make.user())
    first = client.get(f"/t/{topic.slug}/{topic.id}").get_data(as_text=True)
    to_end = f"/t/{topic.slug}/{topic.id}?page=2#composer"
    assert f'class="btn btn-primary sticky-reply" href="{to_end}"' in first
    assert 'aria-label="Topic pages (top)"' in first and 'aria-label="Topic pages (end)"' in first
    last = client.get(f"/t/{topic.slug}/{topic.id}?page=2").get_data(as_text=True)
    assert 'class="btn btn-primary sticky-reply" href="#composer"' in last
    # A preview or a refused reply comes back at the composer, not at the top of the page.
    assert f'action="/t/{topic.id}/reply#composer"' in last
