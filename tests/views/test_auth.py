"""Signing up, confirming the address, signing in and out, resetting and changing credentials,
end to end through the pages, with mail delivered by a real SMTP server on loopback."""
import pytest

from forum.extensions import db
from forum.models import User
from tests.conftest import PASSWORD, login
from tests.mailserver import first_link, link_path

STRONG = "plum tractor lantern oddly"
REMEMBER = "remember_token"


@pytest.fixture
def group(make):
    return make.group("Swansea", nation="wales")


def sign_up(client, home, **overrides):
    data = {"username": "ann", "email": "ann@example.org", "name": "Ann Jones",
            "group": str(home.id), "password": STRONG}
    data.update(overrides)
    return client.post("/signup", data=data)


def signed_in_as(client):
    """The username the header shows, or None for a visitor."""
    page = client.get("/latest").get_data(as_text=True)
    marker = 'aria-label="Your account: '
    if marker not in page:
        return None
    return page.split(marker, 1)[1].split('"', 1)[0]


def page_of(response):
    return response.get_data(as_text=True)


# -- sign up and confirm ---------------------------------------------------------------------

def test_signing_up_signs_in_and_mails_a_link_that_confirms_the_address(client, group, mailbox):
    response = sign_up(client, group)
    assert response.status_code == 302
    assert signed_in_as(client) == "ann"
    page = page_of(client.get("/latest"))
    assert "Confirm your email address to start posting" in page

    message = mailbox.wait_for(to="ann@example.org", subject_contains="Confirm your email")
    assert "Ann Jones" in message.get_body().get_content()
    confirmed = client.get(link_path(first_link(message)), follow_redirects=True)
    assert "Your email address is confirmed" in page_of(confirmed)
    assert "Confirm your email address to start posting" not in page_of(client.get("/latest"))
    assert db.session.scalar(db.select(User).where(User.username == "ann")).is_verified


@pytest.mark.parametrize("overrides, message", [
    ({"username": "a b"}, "3 to 30 letters"),
    ({"username": "Moderator"}, "That username is reserved."),
    ({"username": "ANNIE"}, "That username is taken."),
    ({"email": "ANNIE@example.ORG"}, "An account already uses that email."),
    ({"email": "annie@"}, "There must be something after the @-sign."),
    ({"password": "password1234"}, "Choose a stronger password."),
    ({"password": "short"}, "Use at least 10 characters."),
    ({"group": ""}, "Choose your local group."),
    ({"group": "424242"}, "Choose one of the listed groups."),
    ({"group": "99999999999999999999999"}, "Choose one of the listed groups."),
])
def test_sign_up_refusals_say_why(client, make, group, overrides, message):
    make.user("annie", group=group)
    response = sign_up(client, group, **overrides)
    assert response.status_code == 422
    assert message in page_of(response)
    assert signed_in_as(client) is None


def test_a_refused_sign_up_keeps_what_was_typed_except_the_password(client, make, group):
    other = make.group("Glasgow", nation="scotland")
    make.user("ann", group=group)
    response = sign_up(client, group, email="ann.jones@example.org", name="Ann <Jones>",
                       group=str(other.id), password="not so secret pw 1")
    page = page_of(response)
    assert response.status_code == 422
    assert 'value="ann"' in page
    assert 'value="ann.jones@example.org"' in page
    assert 'value="Ann &lt;Jones&gt;"' in page
    assert f'<option value="{other.id}" selected>' in page
    assert "not so secret pw 1" not in page


def test_json_of_the_wrong_shape_is_refused_not_a_crash(client, group):
    response = client.post("/signup", json={"username": ["ann"], "email": 4, "password": None,
                                            "group": {"id": 1}})
    assert response.status_code == 422
    assert "Choose a username." in page_of(response)


def test_a_mail_server_failure_does_not_break_sign_up(client, group, mailbox, mail_log):
    with mailbox.refusing():
        response = sign_up(client, group)
    assert response.status_code == 302
    assert signed_in_as(client) == "ann"
    assert "ann@example.org" in mail_log.text

    # The member asks again once the server is back.
    again = client.post("/verify/resend", follow_redirects=True)
    assert "We sent you a new link." in page_of(again)
    message = mailbox.wait_for(to="ann@example.org", subject_contains="Confirm")
    client.get(link_path(first_link(message)))
    assert db.session.scalar(db.select(User).where(User.username == "ann")).is_verified


def test_asking_again_while_the_mail_server_is_down_says_so(client, group, mailbox):
    sign_up(client, group)
    with mailbox.refusing():
        response = client.post("/verify/resend", follow_redirects=True)
    assert response.status_code == 200
    assert "We could not send mail just now" in page_of(response)


@pytest.mark.parametrize("token", ["nonsense", "eyJpZCI6MX0.AAAAAA.forgedsignature"])
def test_a_forged_confirmation_link_is_refused(client, group, mailbox, token):
    sign_up(client, group)
    response = client.get(f"/verify/{token}")
    assert response.status_code == 400
    assert "That link is not valid." in page_of(response)
    assert not db.session.scalar(db.select(User).where(User.username == "ann")).is_verified


def test_an_expired_confirmation_link_is_refused(app, client, group, mailbox, monkeypatch):
    from itsdangerous import TimestampSigner

    sign_up(client, group)
    link = link_path(first_link(mailbox.wait_for(to="ann@example.org")))
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp",
                        lambda self: now(self) + app.config["EMAIL_TOKEN_MAX_AGE"] + 1)
    response = client.get(link)
    assert response.status_code == 400
    assert "That link has expired" in page_of(response)


def test_another_accounts_link_confirms_that_account_only(client, make, group, mailbox):
    sign_up(client, group, username="bea", email="bea@example.org")
    bea_link = link_path(first_link(mailbox.wait_for(to="bea@example.org")))
    client.post("/logout")
    sign_up(client, group)
    response = client.get(bea_link, follow_redirects=True)
    assert "The email address of bea is confirmed." in page_of(response)
    users = {u.username: u for u in db.session.scalars(db.select(User))}
    assert users["bea"].is_verified
    assert not users["ann"].is_verified


# -- unconfirmed members read only -----------------------------------------------------------

def test_an_unconfirmed_member_can_read_but_not_post(client, make, group, mailbox):
    topic = make.topic(title="Trains across the valleys")
    sign_up(client, group)

    assert client.get(f"/t/{topic.slug}/{topic.id}").status_code == 200
    reply = client.post(f"/t/{topic.id}/reply", data={"raw": "I want to say something here."})
    assert "Confirm your email address first" in page_of(reply)
    api = client.post("/posts.json", json={"topic_id": topic.id,
                                            "raw": "I want to say something here."})
    assert api.status_code == 403
    assert api.get_json() == {"errors": ["Confirm your email address first: we sent you a link."]}
    new = client.post("/posts.json", json={"category": topic.category_id,
                                           "title": "A new topic from me today",
                                           "raw": "Some words to start with."})
    assert new.status_code == 403

    client.get(link_path(first_link(mailbox.wait_for(to="ann@example.org"))))
    api = client.post("/posts.json", json={"topic_id": topic.id,
                                            "raw": "I want to say something here."})
    assert api.status_code == 200


# -- sign in and out -------------------------------------------------------------------------

@pytest.mark.parametrize("login_as", ["Ann", "ann", "ANN@example.org"])
def test_members_sign_in_by_username_or_email(client, make, login_as):
    make.user("Ann")
    response = client.post("/login", data={"login": login_as, "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_as(client) == "Ann"


def test_a_failed_sign_in_does_not_say_which_part_was_wrong(client, make):
    make.user("ann")
    wrong_password = client.post("/login", data={"login": "ann", "password": "nope nope nope"})
    unknown = client.post("/login", data={"login": "zed", "password": PASSWORD})
    assert wrong_password.status_code == unknown.status_code == 401
    assert "Wrong username, email or password." in page_of(wrong_password)
    assert "Wrong username, email or password." in page_of(unknown)
    assert 'value="ann"' in page_of(wrong_password)
    assert signed_in_as(client) is None


def test_signing_out_ends_the_session(client, make):
    login(client, make.user("ann"))
    assert signed_in_as(client) == "ann"
    response = client.post("/logout")
    assert response.status_code == 302
    assert signed_in_as(client) is None
    assert client.get("/my/settings").status_code == 302


def test_signing_out_is_a_post(client, make):
    login(client, make.user("ann"))
    assert client.get("/logout").status_code == 405
    assert signed_in_as(client) == "ann"


def test_remember_me_keeps_a_member_signed_in_after_the_browser_closes(app, client, make):
    login_response = client.post("/login", data={"login": make.user("ann").username,
                                                 "password": PASSWORD, "remember": "1"})
    cookie = client.get_cookie(REMEMBER)
    assert cookie is not None and cookie.expires is not None
    assert "HttpOnly" in " ".join(login_response.headers.getlist("Set-Cookie"))

    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])  # the browser was closed
    assert signed_in_as(client) == "ann"


def test_without_remember_me_closing_the_browser_signs_out(app, client, make):
    login(client, make.user("ann"))
    assert client.get_cookie(REMEMBER) is None
    session_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert session_cookie.expires is None  # ends with the browser

    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert signed_in_as(client) is None


def test_signing_out_forgets_a_remembered_member(app, client, make):
    client.post("/login", data={"login": make.user("ann").username, "password": PASSWORD,
                                "remember": "1"})
    client.post("/logout")
    assert client.get_cookie(REMEMBER) is None
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert signed_in_as(client) is None


# -- where sign-in leads ---------------------------------------------------------------------

def test_sign_in_returns_to_the_page_it_came_from(client, make):
    topic = make.topic()
    make.user("ann")
    target = f"/t/{topic.slug}/{topic.id}?page=1"
    form = page_of(client.get("/login", query_string={"next": target}))
    assert "next=/t/" in form.replace("%2F", "/")
    response = client.post("/login", query_string={"next": target},
                           data={"login": "ann", "password": PASSWORD})
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "///evil.example",
])
def test_sign_in_never_leads_to_another_site(client, make, target):
    make.user("ann")
    response = client.post("/login", query_string={"next": target},
                           data={"login": "ann", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/latest"


def test_a_next_sent_in_the_form_is_checked_too(client, make):
    make.user("ann")
    response = client.post("/login", data={"login": "ann", "password": PASSWORD,
                                            "next": "//evil.example"})
    assert response.headers["Location"] == "/latest"


# -- password reset --------------------------------------------------------------------------

def test_a_password_reset_by_mail_works_once(client, make, mailbox):
    make.user("ann")
    known = client.post("/password-reset", data={"email": "ann@example.org"})
    message = mailbox.wait_for(to="ann@example.org", subject_contains="Reset your password")
    link = link_path(first_link(message))

    form = client.get(link)
    assert form.status_code == 200 and "Choose a new password" in page_of(form)
    weak = client.post(link, data={"password": "password1234"})
    assert weak.status_code == 422 and "Choose a stronger password." in page_of(weak)
    done = client.post(link, data={"password": STRONG}, follow_redirects=True)
    assert "Your password is changed" in page_of(done)

    assert client.post("/login", data={"login": "ann", "password": PASSWORD}).status_code == 401
    assert client.post("/login", data={"login": "ann", "password": STRONG}).status_code == 302
    again = client.get(link)
    assert again.status_code == 400 and "has been used already" in page_of(again)
    assert client.post(link, data={"password": "another fine passphrase"}).status_code == 400
    assert "If an account uses that address" in page_of(known)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, make, mailbox):
    make.user("ann")
    known = page_of(client.post("/password-reset", data={"email": "ann@example.org"}))
    unknown = page_of(client.post("/password-reset", data={"email": "zed@example.org"}))
    assert known == unknown
    assert mailbox.messages_to("zed@example.org") == []
    assert len(mailbox.messages_to("ann@example.org")) == 1


def test_a_mail_server_failure_on_reset_gives_the_same_answer(client, make, mailbox):
    make.user("ann")
    expected = page_of(client.post("/password-reset", data={"email": "zed@example.org"}))
    with mailbox.refusing():
        response = client.post("/password-reset", data={"email": "ann@example.org"})
    assert response.status_code == 200
    assert page_of(response) == expected


def test_an_expired_reset_link_is_refused(app, client, make, mailbox, monkeypatch):
    from itsdangerous import TimestampSigner

    make.user("ann")
    client.post("/password-reset", data={"email": "ann@example.org"})
    link = link_path(first_link(mailbox.wait_for(to="ann@example.org")))
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp",
                        lambda self: now(self) + app.config["PASSWORD_RESET_MAX_AGE"] + 1)
    response = client.post(link, data={"password": STRONG})
    assert response.status_code == 400
    assert "That reset link has expired" in page_of(response)
    assert client.post("/login", data={"login": "ann", "password": PASSWORD}).status_code == 302


def test_a_reset_ends_sessions_signed_in_elsewhere(app, make, mailbox):
    ann = make.user("ann")
    elsewhere = app.test_client()
    login(elsewhere, ann)
    anon = app.test_client()
    anon.post("/password-reset", data={"email": "ann@example.org"})
    anon.post(link_path(first_link(mailbox.wait_for(to="ann@example.org"))),
              data={"password": STRONG})
    assert signed_in_as(elsewhere) is None


# -- changing password and email -------------------------------------------------------------

def test_changing_the_password_ends_other_sessions_but_not_this_one(app, make):
    ann = make.user("ann")
    here, phone, laptop = app.test_client(), app.test_client(), app.test_client()
    for client in (here, phone):
        login(client, ann)
    laptop.post("/login", data={"login": "ann", "password": PASSWORD, "remember": "1"})

    response = here.post("/my/settings", data={"action": "password",
                                               "current_password": PASSWORD,
                                               "password": STRONG}, follow_redirects=True)
    assert "Your password is changed" in page_of(response)
    assert signed_in_as(here) == "ann"
    assert signed_in_as(phone) is None
    laptop.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert signed_in_as(laptop) is None


def test_a_remembered_session_stays_remembered_after_changing_the_password(app, client, make):
    client.post("/login", data={"login": make.user("ann").username, "password": PASSWORD,
                                "remember": "1"})
    client.post("/my/settings", data={"action": "password", "current_password": PASSWORD,
                                      "password": STRONG})
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert signed_in_as(client) == "ann"


def test_changing_the_password_needs_the_current_one(client, make):
    login(client, make.user("ann"))
    response = client.post("/my/settings", data={"action": "password",
                                                 "current_password": "not it at all",
                                                 "password": STRONG})
    assert response.status_code == 422
    assert "That is not your password." in page_of(response)
    client.post("/logout")
    assert client.post("/login", data={"login": "ann", "password": PASSWORD}).status_code == 302


def test_changing_the_email_needs_the_password_and_confirmation(client, make, mailbox):
    login(client, make.user("ann"))
    refused = client.post("/my/settings", data={"action": "email",
                                                "email": "ann@new.example",
                                                "email_password": "wrong password"})
    page = page_of(refused)
    assert refused.status_code == 422
    assert page.count("That is not your password.") == 2  # the summary and the field
    assert 'value="ann@new.example"' in page
    assert mailbox.messages == []

    changed = client.post("/my/settings", data={"action": "email", "email": "ann@new.example",
                                                "email_password": PASSWORD},
                          follow_redirects=True)
    assert "follow the link we sent" in page_of(changed)
    assert "Confirm your email address to start posting" in page_of(changed)
    assert "ann@new.example" in mailbox.wait_for(to="ann@example.org",
                                                 subject_contains="changed").get_content()
    confirm = mailbox.wait_for(to="ann@new.example", subject_contains="Confirm")
    client.get(link_path(first_link(confirm)))
    assert "Confirm your email address to start posting" not in page_of(client.get("/latest"))


def test_the_settings_page_needs_a_member(client):
    response = client.get("/my/settings")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/my/settings")


def test_a_reset_asks_for_an_address_it_can_use(client, make, mailbox):
    for typed in ("", "   ", "not an address"):
        response = client.post("/password-reset", data={"email": typed})
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and "we have sent it a link" not in page
        assert 'id="email-errors"' in page and 'aria-describedby="email-errors"' in page
    # An address with no account is answered as one with an account: nothing is given away.
    unknown = client.post("/password-reset", data={"email": "nobody@example.org"})
    assert unknown.status_code == 200 and "we have sent it a link" in unknown.get_data(
        as_text=True)
    assert mailbox.messages == []


def test_sign_up_hints_and_errors_are_tied_to_their_fields(client, make):
    page = client.get("/signup").get_data(as_text=True)
    assert 'aria-describedby="username-hint"' in page and 'id="username-hint"' in page
    refused = client.post("/signup", data={"username": "x", "email": "nope", "password": "short",
                                           "group": ""}).get_data(as_text=True)
    assert 'aria-invalid="true" aria-describedby="username-hint username-errors"' in refused
    assert 'id="username-errors"' in refused
