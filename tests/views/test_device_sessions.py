"""Sessions end on the server: each signed-in device is a user_sessions row, the cookie carries
its secret, and signing out, suspension, a password change and "sign out of all other devices"
delete rows, so a copied session or remember cookie signs no one in afterwards."""
import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from forum.extensions import db
from forum.models import User, UserSession, utcnow
from forum.services import member_moderation
from tests.conftest import PASSWORD, login

REMEMBER = "remember_token"
STRONG = "plum tractor lantern oddly"


def signed_in_as(client):
    """The username the header shows, or None for a visitor."""
    response = client.get("/latest")
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    marker = 'aria-label="Your account: '
    if marker not in page:
        return None
    return page.split(marker, 1)[1].split('"', 1)[0]


def cookie_value(app, client, name=None):
    cookie = client.get_cookie(name or app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None, f"no {name or 'session'} cookie"
    return cookie.value


def with_cookie(app, name, value):
    """A fresh browser holding only this one cookie (someone who copied it)."""
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def session_data(app, value):
    return app.session_interface.get_signing_serializer(app).loads(value)


def session_cookie(app, data):
    return app.session_interface.get_signing_serializer(app).dumps(data)


def rows_of(user):
    db.session.expire_all()
    return db.session.scalar(select(func.count(UserSession.id))
                             .where(UserSession.user_id == user.id))


@pytest.fixture
def ann(make):
    return make.user("ann")


# -- what the cookie and the table hold ------------------------------------------------------

def test_signing_in_adds_a_row_holding_only_the_hash_of_the_cookies_secret(app, client, ann):
    login(client, ann)
    user_id = session_data(app, cookie_value(app, client))["_user_id"]
    uid, version, secret = user_id.split(":")
    assert (int(uid), int(version)) == (ann.id, ann.session_version)
    assert len(secret) >= 40
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == ann.id))
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(db.session.execute(select(UserSession.__table__)).all())


def test_a_session_id_is_accepted_only_with_its_devices_secret(app, client, ann):
    login(client, ann)
    data = session_data(app, cookie_value(app, client))
    uid, version, secret = data["_user_id"].split(":")
    name = app.config["SESSION_COOKIE_NAME"]
    assert signed_in_as(with_cookie(app, name, session_cookie(app, data))) == "ann"
    for forged in (f"{uid}:{version}:{'x' * len(secret)}",  # a guessed secret
                   f"{uid}:{version}",                       # the old form, without a device
                   f"{uid}:{version}:",
                   f"{uid}:{int(version) + 1}:{secret}",     # another session version
                   f"{uid}:{version}:{secret}:extra",
                   f"99999999999:{version}:{secret}",
                   f"\u00b2:{version}:{secret}",                     # a digit to isdigit only
                   f"{uid}:{version}:{secret}".replace(uid, uid + "\u0661")):
        assert signed_in_as(with_cookie(app, name, session_cookie(
            app, dict(data, _user_id=forged)))) is None, forged


def test_another_members_secret_does_not_sign_in_as_them(app, make, ann):
    bob = make.user("bob")
    ann_client, bob_client = app.test_client(), app.test_client()
    login(ann_client, ann)
    login(bob_client, bob)
    name = app.config["SESSION_COOKIE_NAME"]
    data = session_data(app, cookie_value(app, bob_client))
    ann_secret = session_data(app, cookie_value(app, ann_client))["_user_id"].split(":")[2]
    forged = dict(data, _user_id=f"{bob.id}:{bob.session_version}:{ann_secret}")
    assert signed_in_as(with_cookie(app, name, session_cookie(app, forged))) is None


# -- signing out ------------------------------------------------------------------------------

def test_a_copied_session_cookie_stops_working_after_sign_out(app, client, ann):
    login(client, ann)
    name = app.config["SESSION_COOKIE_NAME"]
    copied = cookie_value(app, client)
    assert signed_in_as(with_cookie(app, name, copied)) == "ann"  # the copy works until then

    assert client.post("/logout").status_code == 302
    assert rows_of(ann) == 0
    assert signed_in_as(with_cookie(app, name, copied)) is None
    assert with_cookie(app, name, copied).get("/my/settings").status_code == 302


def test_a_copied_remember_cookie_stops_working_after_sign_out(app, client, ann):
    client.post("/login", data={"login": "ann", "password": PASSWORD, "remember": "1"})
    copied = cookie_value(app, client, REMEMBER)
    assert signed_in_as(with_cookie(app, REMEMBER, copied)) == "ann"

    client.post("/logout")
    assert rows_of(ann) == 0
    assert signed_in_as(with_cookie(app, REMEMBER, copied)) is None


def test_signing_out_on_one_device_leaves_the_others_signed_in(app, ann):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, ann)
    login(laptop, ann)
    assert rows_of(ann) == 2
    phone.post("/logout")
    assert rows_of(ann) == 1
    assert signed_in_as(phone) is None
    assert signed_in_as(laptop) == "ann"


def test_signing_in_forgets_devices_unseen_for_longer_than_a_cookie_lasts(app, ann):
    old, recent, new = app.test_client(), app.test_client(), app.test_client()
    login(old, ann)
    login(recent, ann)
    now = utcnow()
    first, second = db.session.scalars(select(UserSession.id).where(
        UserSession.user_id == ann.id).order_by(UserSession.id)).all()
    db.session.execute(update(UserSession).where(UserSession.id == first).values(
        last_seen_at=now - timedelta(days=31)))
    db.session.execute(update(UserSession).where(UserSession.id == second).values(
        last_seen_at=now - timedelta(days=29)))
    db.session.commit()
    login(new, ann)
    kept = set(db.session.scalars(select(UserSession.id).where(UserSession.user_id == ann.id)))
    assert first not in kept and second in kept and len(kept) == 2
    assert signed_in_as(recent) == "ann" and signed_in_as(new) == "ann"


# -- suspension and passwords -------------------------------------------------------------------

def test_suspension_ends_every_session_and_deletes_the_devices(app, make, ann):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, ann)
    laptop.post("/login", data={"login": "ann", "password": PASSWORD, "remember": "1"})
    session_copy = cookie_value(app, phone)
    remember_copy = cookie_value(app, laptop, REMEMBER)

    member_moderation.suspend_member(make.user("mod", role="moderator"), ann.id, "spam",
                              (utcnow() + timedelta(days=3)).date().isoformat())
    assert rows_of(ann) == 0
    assert signed_in_as(phone) is None and signed_in_as(laptop) is None
    assert signed_in_as(with_cookie(app, REMEMBER, remember_copy)) is None

    # Lifting the suspension brings no old session back.
    member_moderation.unsuspend_member(make.user("mod2", role="moderator"), ann.id, "sorted out")
    name = app.config["SESSION_COOKIE_NAME"]
    assert signed_in_as(with_cookie(app, name, session_copy)) is None
    assert signed_in_as(with_cookie(app, REMEMBER, remember_copy)) is None


def test_a_suspended_members_row_is_refused_even_before_it_is_deleted(app, client, ann):
    """The loader checks the suspension itself, in the same query's row."""
    login(client, ann)
    user = db.session.get(User, ann.id)
    user.suspended_until = utcnow() + timedelta(days=1)
    user.suspend_reason = "cooling off"
    db.session.commit()
    assert rows_of(ann) == 1
    assert signed_in_as(client) is None


def test_changing_the_password_keeps_only_this_device(app, ann):
    here, phone = app.test_client(), app.test_client()
    login(here, ann)
    login(phone, ann)
    here.post("/my/settings", data={"action": "password", "current_password": PASSWORD,
                                    "password": STRONG})
    assert rows_of(ann) == 1
    assert signed_in_as(here) == "ann" and signed_in_as(phone) is None


def test_a_password_reset_deletes_every_device(app, ann):
    from tests.writes.core import reset_link_token

    phone = app.test_client()
    login(phone, ann)
    token = reset_link_token(ann)
    app.test_client().post(f"/password-reset/{token}", data={"password": STRONG})
    assert rows_of(ann) == 0
    assert signed_in_as(phone) is None


# -- the settings page -------------------------------------------------------------------------

def test_the_settings_page_lists_the_devices_and_marks_this_one(app, ann):
    here, phone = app.test_client(), app.test_client()
    login(here, ann)
    phone.post("/login", data={"login": "ann", "password": PASSWORD},
               headers={"User-Agent": "PhoneBrowser/1.0 " + "x" * 500})
    page = here.get("/my/settings").get_data(as_text=True)
    assert re.search(r"<title>Settings\b[^<]*</title>", page)  # the title is words, no markup
    assert page.count('id="devices"') == 1
    devices = page.split('id="devices"', 1)[1].split("</ul>", 1)[0]
    assert devices.count('class="device"') == 2
    assert devices.count("this device") == 1
    assert "PhoneBrowser/1.0 " + "x" * (UserSession.USER_AGENT_MAX - 17) in devices
    assert "x" * (UserSession.USER_AGENT_MAX - 16) not in devices  # truncated
    assert "Signed in" in devices and "last seen" in devices
    assert re.search(r'<input type="hidden" name="action" value="devices">', page)
    assert "Sign out of all other devices" in page


def test_signing_out_of_all_other_devices_keeps_this_one(app, ann):
    here, phone, laptop = app.test_client(), app.test_client(), app.test_client()
    login(here, ann)
    login(phone, ann)
    laptop.post("/login", data={"login": "ann", "password": PASSWORD, "remember": "1"})
    remember_copy = cookie_value(app, laptop, REMEMBER)

    response = here.post("/my/settings", data={"action": "devices"}, follow_redirects=True)
    assert "You are signed out of every other device." in response.get_data(as_text=True)
    assert rows_of(ann) == 1
    assert signed_in_as(here) == "ann"
    assert signed_in_as(phone) is None and signed_in_as(laptop) is None
    assert signed_in_as(with_cookie(app, REMEMBER, remember_copy)) is None

    again = here.post("/my/settings", data={"action": "devices"}, follow_redirects=True)
    assert "You were not signed in on any other device." in again.get_data(as_text=True)
    assert signed_in_as(here) == "ann"


def test_signing_out_of_one_device_from_the_settings_page(app, ann):
    here, phone, laptop = app.test_client(), app.test_client(), app.test_client()
    login(here, ann)
    phone.post("/login", data={"login": "ann", "password": PASSWORD},
               headers={"User-Agent": "PhoneBrowser/2.0"})
    login(laptop, ann)
    page = here.get("/my/settings").get_data(as_text=True)
    devices = page.split('id="devices"', 1)[1].split("</ul>", 1)[0]
    # Every device but this one has its own button, named for the screen reader.
    assert devices.count('name="action" value="device"') == 2
    assert "Sign out<span class=\"visually-hidden\"> of PhoneBrowser/2.0</span>" in devices
    phone_row = devices.split("PhoneBrowser/2.0", 1)[1]
    token_id = re.search(r'name="token_id" value="(\d+)"', phone_row).group(1)

    response = here.post("/my/settings", data={"action": "device", "token_id": token_id},
                         follow_redirects=True)
    assert "You are signed out of that device." in response.get_data(as_text=True)
    assert signed_in_as(phone) is None
    assert signed_in_as(here) == "ann" and signed_in_as(laptop) == "ann"
    # Again, or with an id that is not a device of hers: a clear refusal, nothing signed out.
    again = here.post("/my/settings", data={"action": "device", "token_id": token_id})
    assert again.status_code == 404
    assert "You are not signed in on that device." in again.get_data(as_text=True)
    assert here.post("/my/settings", data={"action": "device", "token_id": "²"}).status_code \
        == 404
    assert rows_of(ann) == 2


def test_a_script_lists_and_ends_a_members_devices_as_discourse_does(app, make, ann):
    here, phone = app.test_client(), app.test_client()
    login(here, ann)
    login(phone, ann)
    tokens = here.get("/u/ann.json").get_json()["user"]["user_auth_tokens"]
    assert sorted(t["is_active"] for t in tokens) == [False, True]
    phone_id = next(t["id"] for t in tokens if not t["is_active"])
    # Nobody else sees them, or ends them.
    bob = app.test_client()
    login(bob, make.user("bob"))
    assert "user_auth_tokens" not in bob.get("/u/ann.json").get_json()["user"]
    refused = bob.post("/u/ann/preferences/revoke-auth-token.json", json={"token_id": phone_id})
    assert refused.status_code == 403 and signed_in_as(phone) == "ann"
    ended = here.post("/u/ann/preferences/revoke-auth-token.json", json={"token_id": phone_id})
    assert ended.get_json() == {"success": "OK", "signed_out": 1}
    assert signed_in_as(phone) is None and signed_in_as(here) == "ann"


def test_signing_out_of_other_devices_leaves_other_members_alone(app, make, ann):
    bob_client, here = app.test_client(), app.test_client()
    login(bob_client, make.user("bob"))
    login(here, ann)
    here.post("/my/settings", data={"action": "devices"})
    assert signed_in_as(bob_client) == "bob"


# -- last seen ---------------------------------------------------------------------------------

def test_last_seen_is_written_only_every_few_minutes(app, client, ann, count_queries):
    login(client, ann)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == ann.id))
    first_seen = row.last_seen_at
    with count_queries() as queries:
        client.get("/latest")
    assert not any(s.lstrip().upper().startswith("UPDATE USER_SESSIONS")
                   for s in queries.statements), queries.report()

    long_ago = utcnow() - timedelta(seconds=UserSession.TOUCH_EVERY_SECONDS + 60)
    db.session.execute(update(UserSession).where(UserSession.id == row.id)
                       .values(last_seen_at=long_ago))
    db.session.commit()
    with count_queries() as queries:
        assert signed_in_as(client) == "ann"
    assert sum(s.lstrip().upper().startswith("UPDATE USER_SESSIONS")
               for s in queries.statements) == 1, queries.report()
    db.session.expire_all()
    seen = db.session.scalar(select(UserSession.last_seen_at)
                             .where(UserSession.user_id == ann.id))
    assert seen > long_ago and seen >= first_seen
