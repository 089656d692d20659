"""The notifications pages and their JSON twins, levels and email preferences from the browser."""
from sqlalchemy import select

from forum.extensions import db
from forum.models import Notification, User
from tests.conftest import login
from tests.openapi_check import assert_documented


def _reply(make, author, replier, raw="A reply to your post."):
    topic = make.topic(user=author, title="Repair cafes")
    return topic, make.reply(topic, user=replier, raw=raw, reply_to=1)


def test_the_list_and_its_json_twin(client, make):
    ann, ben = make.user("ann"), make.user("ben")
    topic, reply = _reply(make, ann, ben)
    login(client, ann)
    page = client.get("/notifications").get_data(as_text=True)
    assert "ben replied to your post in Repair cafes" in page and "is-unread" in page
    response = client.get("/notifications.json")
    assert_documented(response, "GET", "/notifications.json")
    data = response.get_json()
    assert data["unread"] == 1
    [item] = data["notifications"]
    assert item["kind"] == "replied" and item["actor"] == "ben" and not item["read"]
    assert item["url"] == f"/t/{topic.slug}/{topic.id}/{reply.post_number}#post-{reply.post_number}"


def test_opening_a_notification_marks_it_read_and_goes_there(client, make):
    ann = make.user("ann")
    topic, reply = _reply(make, ann, make.user("ben"))
    login(client, ann)
    notification = db.session.scalars(select(Notification)).one()
    response = client.get(f"/notifications/{notification.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/t/{topic.slug}/{topic.id}/2#post-2")
    db.session.rollback()
    assert db.session.get(User, ann.id).unread_notification_count == 0


def test_mark_all_read_from_the_page_and_as_json(client, make):
    ann, ben = make.user("ann"), make.user("ben")
    _reply(make, ann, ben)
    _reply(make, ann, ben)
    login(client, ann)
    first = db.session.scalars(select(Notification).order_by(Notification.id)).first()
    response = client.post("/notifications/mark-read.json", json={"id": first.id})
    assert_documented(response, "POST", "/notifications/mark-read.json")
    assert response.get_json() == {"unread": 1}
    assert client.post("/notifications/mark-read").status_code == 302
    assert client.get("/notifications.json").get_json()["unread"] == 0
    response = client.post("/notifications/mark-read.json", json={"id": 99999})
    assert response.status_code == 404
    assert_documented(response, "POST", "/notifications/mark-read.json")


def test_another_member_s_notification_is_not_found(client, make):
    ann = make.user("ann")
    _reply(make, ann, make.user("ben"))
    login(client, make.user("cat"))
    notification = db.session.scalars(select(Notification)).one()
    assert client.get(f"/notifications/{notification.id}").status_code == 404
    assert client.post("/notifications/mark-read.json",
                       json={"id": notification.id}).status_code == 404


def test_visitors_are_asked_to_sign_in(client):
    assert client.get("/notifications").status_code == 302
    response = client.get("/notifications.json")
    assert response.status_code == 403
    assert_documented(response, "GET", "/notifications.json")


def test_levels_from_the_page_and_as_json(client, make):
    ann = make.user("ann")
    topic = make.topic(user=make.user())
    process = make.process()
    login(client, ann)
    page = client.get(f"/t/{topic.id}/notifications").get_data(as_text=True)
    assert 'value="normal" checked' in page
    client.post(f"/t/{topic.id}/notifications", data={"level": "watching"})
    assert 'value="watching" checked' in client.get(
        f"/t/{topic.id}/notifications").get_data(as_text=True)
    response = client.post(f"/t/{topic.id}/notifications.json", json={"level": "muted"})
    assert_documented(response, "POST", f"/t/{topic.id}/notifications.json")
    assert response.get_json() == {"topic_id": topic.id, "level": "muted"}
    response = client.put(f"/t/{topic.id}/notifications.json", json={"level": "loud"})
    assert response.status_code == 422
    assert_documented(response, "PUT", f"/t/{topic.id}/notifications.json")
    response = client.post(f"/processes/{process.id}/notifications.json",
                           json={"level": "watching"})
    assert_documented(response, "POST", f"/processes/{process.id}/notifications.json")
    assert response.get_json()["level"] == "watching"
    assert client.post("/processes/9999/notifications.json",
                       json={"level": "watching"}).status_code == 404


def test_email_preferences_page_and_json(client, make):
    ann = make.user("ann")
    login(client, ann)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "Replies to your posts" in page
    client.post("/notifications/preferences", data={"replied": "daily", "liked": "never"})
    response = client.get("/notifications/preferences.json")
    assert_documented(response, "GET", "/notifications/preferences.json")
    assert response.get_json()["email"]["replied"] == "daily"
    response = client.put("/notifications/preferences.json",
                          json={"email": {"mentioned": "never"}})
    assert_documented(response, "PUT", "/notifications/preferences.json")
    assert response.get_json()["email"]["mentioned"] == "never"
    response = client.put("/notifications/preferences.json",
                          json={"email": {"mentioned": "hourly", "gossip": "never"}})
    assert response.status_code == 422
    assert_documented(response, "PUT", "/notifications/preferences.json")
    assert sorted(response.get_json()["errors"]) == [
        "Mentions of you: choose immediately, daily or never.",
        "gossip is not a kind of notification."]
    # The page marks the row it could not save, and says which.
    response = client.post("/notifications/preferences", data={"replied": "weekly"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert page.count('aria-invalid="true" aria-describedby="replied-errors"') == 3
    assert ('<span class="field-errors" id="replied-errors">Replies to your posts: choose '
            'immediately, daily or never.</span>') in page


def test_a_post_hidden_or_withdrawn_since_shows_no_words_in_the_list(client, make):
    from forum.services import moderation, posts

    ann, ben = make.user("ann"), make.user("ben")
    topic, rude = _reply(make, ann, ben, raw="Something zorblatt and rude.")
    regret = make.reply(topic, user=ben, raw="Something I will take back.", reply_to=1)
    kept = make.reply(topic, user=ben, raw="Something worth keeping.", reply_to=1)
    moderation.hide(make.user(role="moderator"), "post", rude.id, "Personal attack")
    posts.delete_post(ben, regret.id)
    login(client, ann)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Something worth keeping." in page
    assert "zorblatt" not in page and "take back" not in page
    listed = client.get("/notifications.json").get_data(as_text=True)
    assert "Something worth keeping." in listed
    assert "zorblatt" not in listed and "take back" not in listed
    # Each is still listed, only without the words.
    assert {n["post_id"] for n in client.get("/notifications.json").get_json()[
        "notifications"]} == {rude.id, regret.id, kept.id}
