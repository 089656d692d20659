"""Scripts: API keys (issued on the admin page or the command line), POST /users.json, and the
groups and sections lists."""
import hashlib
import re

import pytest

from forum.extensions import db
from forum.models import ApiKey, AuditEvent, User
from forum.permissions import CONSOLE
from forum.services import admin, api_keys
from tests.conftest import PASSWORD, login

NEW_PASSWORD = "tidal marmalade orbit 42"


def _post_topic(client, key, username=None, title="A topic posted by a script"):
    headers = {"Api-Key": key}
    if username is not None:
        headers["Api-Username"] = username
    return client.post("/posts.json", headers=headers,
                       json={"title": title, "raw": "Posted through the API.",
                             "category": _category_id()})


def _category_id():
    from forum.models import Category

    return db.session.scalar(db.select(Category.id))


def _issue_on_page(client, username=""):
    response = client.post("/admin/api-keys", data={"username": username,
                                                    "description": "nightly import"})
    assert response.status_code == 200
    return re.search(r'id="new-key" value="([0-9a-f]{64})"',
                     response.get_data(as_text=True)).group(1)


# -- issuing and revoking on the admin page ------------------------------------------------------

def test_key_is_shown_once_and_only_its_hash_is_stored(client, make):
    make.user("ana")
    login(client, make.user(role="admin"))
    plaintext = _issue_on_page(client, "ana")
    response = client.get("/admin/api-keys")
    page = response.get_data(as_text=True)
    assert plaintext not in page
    assert f"{plaintext[:4]}…" in page and "nightly import" in page
    key = db.session.scalars(db.select(ApiKey)).one()
    assert key.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in (key.truncated, key.description)
    assert _issue_response_not_cached(client)


def _issue_response_not_cached(client):
    return client.post("/admin/api-keys", data={}).headers["Cache-Control"] == "no-store"


def test_issuing_for_an_unknown_member_is_explained(client, make):
    login(client, make.user(role="admin"))
    response = client.post("/admin/api-keys", data={"username": "ghost",
                                                    "description": "kept words"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "No member is called ghost." in page and 'value="kept words"' in page
    assert db.session.scalar(db.select(db.func.count(ApiKey.id))) == 0


def test_revoked_key_is_refused(client, make):
    make.category()
    ana = make.user("ana")
    login(client, make.user(role="admin"))
    plaintext = _issue_on_page(client, "ana")
    script = client.application.test_client()
    assert _post_topic(script, plaintext).status_code == 200
    key = db.session.scalars(db.select(ApiKey)).one()
    response = client.post(f"/admin/api-keys/{key.id}/revoke", follow_redirects=True)
    assert "revoked: scripts using it are refused from now on" in response.get_data(as_text=True)
    response = _post_topic(script, plaintext, title="After the key was revoked")
    assert response.status_code == 403
    assert response.get_json() == {
        "errors": ["That API key is not valid: it does not exist or was revoked."]}
    assert db.session.scalar(db.select(User.post_count).where(User.id == ana.id)) == 1
    again = client.post(f"/admin/api-keys/{key.id}/revoke")
    assert again.status_code == 409 and "already revoked" in again.get_data(as_text=True)


# -- acting through a key ------------------------------------------------------------------------

def test_single_member_key_acts_as_its_member_only(client, make):
    make.category()
    make.user("ana")
    make.user("ben")
    _, plaintext = api_keys.issue_api_key(CONSOLE, "ana")
    assert _post_topic(client, plaintext, "ana").get_json()["username"] == "ana"
    assert _post_topic(client, plaintext).get_json()["username"] == "ana"
    response = _post_topic(client, plaintext, "ben", title="Pretending to be Ben")
    assert response.status_code == 403
    assert "acts only as its own member" in response.get_json()["errors"][0]
    assert db.session.scalar(db.select(db.func.count(User.id)).where(
        User.username == "ben", User.post_count > 0)) == 0


def test_all_members_key_acts_as_the_named_member(client, make):
    make.category()
    make.user("ana")
    make.user("ben")
    _, plaintext = api_keys.issue_api_key(CONSOLE, "")
    assert _post_topic(client, plaintext, "ana").get_json()["username"] == "ana"
    assert _post_topic(client, plaintext, "BEN", title="Ben's own topic").get_json()[
        "username"] == "ben"
    assert _post_topic(client, plaintext).get_json()["errors"] == [
        "An all-members API key needs Api-Username: the member it acts as."]
    response = _post_topic(client, plaintext, "nobody")
    assert response.status_code == 403
    assert response.get_json()["errors"] == ["No member has the username Api-Username gives."]


def test_wrong_key_is_refused_even_with_a_session(client, make):
    make.category()
    ana = make.user("ana")
    login(client, ana)
    response = _post_topic(client, "0" * 64, "ana")
    assert response.status_code == 403
    assert "not valid" in response.get_json()["errors"][0]


def test_a_key_works_beside_whatever_cookies_a_script_collected(client, make):
    """A script with a cookie jar that fetched a page has an anonymous session cookie, and one
    that signed someone in has their session and remember cookies: the key decides alone."""
    make.category()
    make.user("ana")
    ben = make.user("ben")
    _, plaintext = api_keys.issue_api_key(CONSOLE, "")
    client.get("/login")  # an anonymous session, with a CSRF token in it
    response = _post_topic(client, plaintext, "ana")
    assert response.status_code == 200 and response.get_json()["username"] == "ana"
    assert client.post("/login", data={"login": "ben", "password": PASSWORD,
                                       "remember": "1"}).status_code == 302
    assert client.get_cookie("remember_token") is not None
    response = _post_topic(client, plaintext, "ana", title="Still ana's, not ben's")
    assert response.status_code == 200 and response.get_json()["username"] == "ana"
    # The browser session is untouched: ben is still signed in without the key.
    assert client.get("/notifications.json").status_code == 200


def test_key_for_a_suspended_member_is_refused(client, make):
    from datetime import timedelta

    from forum.models import utcnow

    make.category()
    ana = make.user("ana")
    _, plaintext = api_keys.issue_api_key(CONSOLE, "ana")
    db.session.get(User, ana.id).suspended_until = utcnow() + timedelta(days=3)
    db.session.commit()
    response = _post_topic(client, plaintext)
    assert response.status_code == 403
    assert response.get_json()["errors"] == ["That member is suspended."]


def test_scripts_need_no_csrf_token_but_browsers_do(app, client, make):
    make.category()
    ana = make.user("ana")
    _, plaintext = api_keys.issue_api_key(CONSOLE, "ana")
    app.config["WTF_CSRF_ENABLED"] = True
    assert _post_topic(client, plaintext).status_code == 200
    browser = app.test_client()
    browser.post("/login", data={"login": "ana", "password": PASSWORD})
    response = browser.post("/posts.json", json={"title": "From a forged page",
                                                 "raw": "Hello there.",
                                                 "category": _category_id()})
    assert response.status_code == 400
    assert db.session.scalar(db.select(User.post_count).where(User.id == ana.id)) == 1


# -- POST /users.json ----------------------------------------------------------------------------

def _new_member(home, **overrides):
    data = {"username": "newbie", "email": "newbie@example.org", "password": NEW_PASSWORD,
            "name": "New Bie", "group": home.id}
    data.update(overrides)
    return data


def test_admin_key_creates_an_active_verified_member(client, make):
    boss = make.user("boss", role="admin")
    group = make.group("Swansea", nation="wales")
    _, plaintext = api_keys.issue_api_key(CONSOLE, "boss")
    response = client.post("/users.json", headers={"Api-Key": plaintext, "Api-Username": "boss"},
                           json=_new_member(group))
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["success"] is True and body["active"] is True
    user = db.session.get(User, body["user_id"])
    assert (user.username, user.name, user.group_id, user.role, user.is_verified) == (
        "newbie", "New Bie", group.id, "member", True)
    profile = client.get("/u/newbie.json").get_json()["user"]
    assert (profile["group"], profile["nation"]) == ("Swansea", "wales")
    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "create_member")).one()
    assert (event.actor_id, event.target_id) == (boss.id, user.id)

    fresh = client.application.test_client()
    login(fresh, user, NEW_PASSWORD)
    response = fresh.post("/posts.json", json={"title": "My first topic here",
                                               "raw": "Hello, everyone.",
                                               "category": make.category().id})
    assert response.status_code == 200


def test_admin_session_creates_member(client, make):
    group = make.group()
    login(client, make.user(role="admin"))
    response = client.post("/users.json", json=_new_member(group))
    assert response.status_code == 200
    assert response.get_json()["user"]["username"] == "newbie"


@pytest.mark.parametrize("who", ["visitor", "member key", "moderator session",
                                 "all-members key as a member"])
def test_only_admins_create_members(client, make, who):
    group = make.group()
    make.user("boss", role="admin")
    member = make.user("moe", role="moderator" if who == "moderator session" else "member")
    headers = {}
    if who == "member key":
        headers = {"Api-Key": api_keys.issue_api_key(CONSOLE, "moe")[1]}
    elif who == "all-members key as a member":
        headers = {"Api-Key": api_keys.issue_api_key(CONSOLE, "")[1], "Api-Username": "moe"}
    elif who == "moderator session":
        login(client, member)
    response = client.post("/users.json", headers=headers, json=_new_member(group))
    assert response.status_code == 403
    assert response.get_json()["errors"]
    assert db.session.scalar(db.select(User.id).where(User.username == "newbie")) is None


def test_all_members_key_naming_an_admin_creates_members(client, make):
    group = make.group()
    make.user("boss", role="admin")
    plaintext = api_keys.issue_api_key(CONSOLE, "")[1]
    response = client.post("/users.json", headers={"Api-Key": plaintext, "Api-Username": "boss"},
                           json=_new_member(group))
    assert response.status_code == 200


@pytest.mark.parametrize("overrides, message", [
    ({"email": "not-an-email"}, "email"),
    ({"password": "short"}, "Use at least 10 characters."),
    ({"group": None}, "Choose one of the groups"),
    ({"group": 9999}, "Choose one of the groups"),
    ({"group": 99999999999}, "Choose one of the groups"),
    ({"group": "\u00b2"}, "Choose one of the groups"),
    ({"username": "x"}, "Usernames are 3 to 30"),
    ({"username": "taken"}, "That username is taken."),
    ({"email": "taken@example.org"}, "An account already uses that email."),
    ({"password": ["not", "a", "string"]}, "Use at least 10 characters."),
])
def test_bad_member_input_is_a_clear_422(client, make, overrides, message):
    group = make.group()
    make.user("taken")
    login(client, make.user(role="admin"))
    response = client.post("/users.json", json=_new_member(group, **overrides))
    assert response.status_code == 422
    assert any(message in error for error in response.get_json()["errors"])


# -- groups and sections -------------------------------------------------------------------------

def test_groups_json_lists_each_group_with_its_nation(client, make):
    make.group("Glasgow", nation="scotland")
    cardiff = make.group("Cardiff", nation="wales")
    make.user("dai", group=cardiff)
    groups = client.get("/groups.json").get_json()["groups"]
    assert [(g["name"], g["nation"]["code"], g["nation"]["name"], g["user_count"])
            for g in groups] == [("Glasgow", "scotland", "Scotland", 0),
                                 ("Cardiff", "wales", "Wales", 1)]


def test_sections_json_lists_leads_but_not_plain_members(client, make, count_queries):
    make.user("fiona")
    make.user("callum")
    housing = admin.create_section(CONSOLE, "Housing", "Homes.")
    admin.create_section(CONSOLE, "Climate")
    admin.add_section_member(CONSOLE, housing.id, "fiona", lead=True)
    admin.add_section_member(CONSOLE, housing.id, "callum")
    sections = client.get("/sections.json").get_json()["sections"]
    assert [(s["name"], s["user_count"], [u["username"] for u in s["leads"]])
            for s in sections] == [("Climate", 0, []), ("Housing", 2, ["fiona"])]
    assert sections[1]["description"] == "Homes."

    with count_queries() as few:
        client.get("/sections.json")
    for n in range(8):
        section = admin.create_section(CONSOLE, f"Section {n}")
        admin.add_section_member(CONSOLE, section.id, "callum", lead=True)
    with count_queries() as many:
        client.get("/sections.json")
    assert len(many) == len(few), many.report()


# -- the command line ----------------------------------------------------------------------------

def test_cli_key_for_one_member(runner, client, make):
    make.category()
    make.user("ana")
    make.user("ben")
    result = runner.invoke(args=["forum", "create-api-key", "--user", "ana"])
    assert result.exit_code == 0, result.output
    plaintext = result.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", plaintext)
    assert "acts as member ana" in result.output
    assert _post_topic(client, plaintext, "ana").get_json()["username"] == "ana"
    assert _post_topic(client, plaintext, "ben").status_code == 403
    event = db.session.scalars(db.select(AuditEvent)).one()
    assert (event.action, event.actor_id) == ("issue_api_key", None)


def test_cli_key_for_all_members(runner, client, make):
    make.category()
    make.user("ana")
    make.user("ben")
    result = runner.invoke(args=["forum", "create-api-key"])
    assert result.exit_code == 0, result.output
    plaintext = result.stdout.strip()
    assert db.session.scalars(db.select(ApiKey)).one().user_id is None
    assert _post_topic(client, plaintext, "ben").get_json()["username"] == "ben"


def test_cli_key_for_unknown_member_fails(runner):
    result = runner.invoke(args=["forum", "create-api-key", "--user", "ghost"])
    assert result.exit_code != 0
    assert "No member is called ghost." in result.output
    assert db.session.scalar(db.select(db.func.count(ApiKey.id))) == 0
