"""The session cookie and CSRF token that each worker remembers (forum/cookies.py) behave as
Flask's and Flask-WTF's own: a remembered cookie still ages out, a changed one is refused,
a remembered token is accepted only with its own session."""
import re
import time

from forum.cookies import SessionInterface
from tests.conftest import PASSWORD


def token_on(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, user):
    response = client.post("/login", data={"login": user.username, "password": PASSWORD,
                                           "csrf_token": token_on(client, "/login")})
    assert response.status_code == 302


def session_cookie(app, client):
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def test_a_remembered_session_cookie_still_expires(csrf_on, client, make):
    lifetime = csrf_on.permanent_session_lifetime
    csrf_on.permanent_session_lifetime = 1
    try:
        sign_in(client, make.user("ines"))
        assert "Sign out" in client.get("/latest").get_data(as_text=True)
        assert "Sign out" in client.get("/latest").get_data(as_text=True)  # remembered now
        time.sleep(2.1)
        assert "Sign out" not in client.get("/latest").get_data(as_text=True)
    finally:
        csrf_on.permanent_session_lifetime = lifetime


def test_a_changed_session_cookie_is_refused_though_the_real_one_is_remembered(
        csrf_on, client, make):
    sign_in(client, make.user("jonah"))
    assert "Sign out" in client.get("/latest").get_data(as_text=True)
    real = session_cookie(csrf_on, client)
    payload, stamp, signature = real.rsplit(".", 2)
    forged = f"{payload}.{stamp}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    client.set_cookie(csrf_on.config["SESSION_COOKIE_NAME"], forged)
    assert "Sign out" not in client.get("/latest").get_data(as_text=True)
    client.set_cookie(csrf_on.config["SESSION_COOKIE_NAME"], real)
    assert "Sign out" in client.get("/latest").get_data(as_text=True)


def test_a_session_holding_a_list_is_read_afresh_each_time(app):
    """Flashed messages are a list that flash() appends to in place: a remembered one would
    carry one request's messages into the next."""
    interface = SessionInterface()
    serializer = interface.get_signing_serializer(app)
    cookie = serializer.dumps({"_flashes": [["message", "Saved."]], "_user_id": "1:1:x"})
    with app.test_request_context(headers={
            "Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}) as ctx:
        first = interface.open_session(app, ctx.request)
        first["_flashes"].append(["message", "Saved again."])
        second = interface.open_session(app, ctx.request)
    assert second["_flashes"] == [["message", "Saved."]]
    plain = serializer.dumps({"_user_id": "1:1:x", "_fresh": True})
    with app.test_request_context(headers={
            "Cookie": f"{app.config['SESSION_COOKIE_NAME']}={plain}"}) as ctx:
        first = interface.open_session(app, ctx.request)
        first["_fresh"] = False
        assert interface.open_session(app, ctx.request)["_fresh"] is True


def test_a_remembered_token_works_for_its_own_session_only(csrf_on, make):
    kit, lev = csrf_on.test_client(), csrf_on.test_client()
    sign_in(kit, make.user("kit"))
    sign_in(lev, make.user("lev"))
    kits = token_on(kit, "/latest")
    time.sleep(1.1)  # itsdangerous's timestamps are whole seconds: a new signature would differ
    assert token_on(kit, "/latest") == kits  # signed once, remembered
    levs = token_on(lev, "/latest")
    assert levs != kits
    refused = lev.post("/logout", data={"csrf_token": kits})
    assert refused.status_code == 400
    assert "Sign out" in lev.get("/latest").get_data(as_text=True)
    assert kit.post("/logout", data={"csrf_token": kits}).status_code == 302
    assert "Sign out" not in kit.get("/latest").get_data(as_text=True)


def test_with_a_time_limit_every_page_signs_its_own_token(csrf_on, client, make):
    csrf_on.config["WTF_CSRF_TIME_LIMIT"] = 3600
    try:
        sign_in(client, make.user("mona"))
        first = token_on(client, "/latest")
        time.sleep(1.1)  # itsdangerous's timestamps are whole seconds
        second = token_on(client, "/latest")
        assert first != second
        assert client.post("/logout", data={"csrf_token": first}).status_code == 302
    finally:
        csrf_on.config["WTF_CSRF_TIME_LIMIT"] = None
