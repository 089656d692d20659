"""A refused form never loses what the member wrote: the page shows it back to copy."""
from forum.services import moderation, sessions
from tests.conftest import login

LONG = "Three paragraphs of careful thought,\nwith a second line,\n\nand a <b>tag</b> in it."


def kept(response):
    page = response.get_data(as_text=True)
    assert "What you wrote" in page, page
    return page


def test_a_reply_after_the_session_ended_elsewhere(client, make):
    topic = make.topic()
    member = make.user()
    login(client, member)
    sessions.end_other_sessions(member, member, None)  # "sign out of all other devices"
    response = client.post(f"/t/{topic.id}/reply", data={"raw": LONG},
                           headers={"Referer": f"http://localhost/t/{topic.slug}/{topic.id}"})
    assert response.status_code == 401
    page = kept(response)
    assert "Three paragraphs of careful thought,\nwith a second line," in page
    assert "&lt;b&gt;tag&lt;/b&gt;" in page  # shown as text, never as markup
    assert f'href="/login?next=http://localhost/t/{topic.slug}/{topic.id}"' in page


def test_a_reply_to_a_topic_closed_meanwhile(client, make):
    topic = make.topic()
    member = make.user()
    login(client, member)
    moderation.lock_topic(make.user(role="moderator"), topic.id, "Heated")
    response = client.post(f"/t/{topic.id}/reply", data={"raw": LONG})
    assert response.status_code == 403
    assert "Three paragraphs of careful thought" in kept(response)


def test_a_reply_and_a_preview_in_a_topic_hidden_meanwhile(client, make):
    topic = make.topic()
    login(client, make.user())
    moderation.hide(make.user(role="moderator"), "topic", topic.id, "Under review")
    for data in ({"raw": LONG}, {"raw": LONG, "preview": "1"}):
        response = client.post(f"/t/{topic.id}/reply", data=data)
        assert response.status_code == 403
        page = kept(response)
        assert "This topic is hidden: Under review." in page
        assert "Three paragraphs of careful thought" in page


def test_a_new_topic_from_a_form_that_expired(app, client, make):
    category = make.category()
    login(client, make.user())
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/new-topic", data={
            "title": "A title worth keeping", "raw": LONG, "category": str(category.id),
            "csrf_token": "expired"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    page = kept(response)
    assert "A title worth keeping" in page and "careful thought" in page


def test_an_error_page_for_a_visit_keeps_nothing(client):
    response = client.get("/nowhere?raw=not+posted")
    assert response.status_code == 404
    assert "What you wrote" not in response.get_data(as_text=True)
