"""CSRF: every state-changing request from a browser needs the page's token; API keys do not.

Runs with WTF_CSRF_ENABLED on (the test config turns it off for every other test) over every
case of tests/writes, and over every state-changing rule of the url_map.
"""
import pytest
from werkzeug.routing import IntegerConverter

from tests.conftest import PASSWORD
from tests.writes import (Call, Ctx, act_as, all_cases, changed_tables, csrf_token,  # noqa: F401
                          fast_passwords, is_allowed, issue_api_key, send, snapshot)

CASES = all_cases()
PREFERRED_ROLES = ("member", "moderator", "admin", "unverified", "silenced", "visitor")


def login_with_token(client, user):
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"login": user.username, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def role_for(case):
    """A role the case allows, so that the token is the only thing that decides."""
    return next((r for r in PREFERRED_ROLES if r in case.allowed), "member")


def _dummy_url(app, rule):
    values = {name: 1 if isinstance(conv, IntegerConverter) else "x"
              for name, conv in rule._converters.items()}
    return app.url_map.bind("localhost").build(rule.endpoint, values)


# Views that may be posted without the token, each with the reason it is safe. A view opts out
# with `view.csrf_exempt = True` (see forum/auth_loader.py); adding one here is a review.
CSRF_EXEMPT = {
    "notifications.unsubscribe_post": "one-click unsubscribe (RFC 8058): mail clients post it "
                                      "with no page, and its URL carries its own signed token",
}


def test_every_write_rule_refuses_a_request_without_token(csrf_on, client, make):
    """Straight from the url_map: the refusal comes before any view runs."""
    login_with_token(client, make.user())
    answers, exempt = {}, set()
    for rule in csrf_on.url_map.iter_rules():
        if getattr(csrf_on.view_functions[rule.endpoint], "csrf_exempt", False):
            exempt.add(rule.endpoint)
            continue
        for method in sorted(rule.methods & {"POST", "PUT", "DELETE", "PATCH"}):
            url = _dummy_url(csrf_on, rule)
            response = client.open(url, method=method, data={"raw": "x"})
            answers[f"{method} {url}"] = (response.status_code,
                                          "CSRF" in response.get_data(as_text=True))
    assert answers
    wrong = {k: v for k, v in answers.items() if v != (400, True)}
    assert not wrong, f"not refused for want of a CSRF token: {wrong}"
    assert exempt <= set(CSRF_EXEMPT), f"unreviewed CSRF exemptions: {exempt - set(CSRF_EXEMPT)}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_browser_writes_need_the_token(csrf_on, client, make, fast_passwords, case):  # noqa: F811
    role = role_for(case)
    actor, restrict = act_as(role, make, client, login_with_token)
    call = case.build(Ctx(make, actor, role, client))
    restrict()

    before = snapshot()
    if case.csrf_exempt:
        tampered = Call(call.path[:-4] + ("AAAA" if call.path[-4:] != "AAAA" else "BBBB"),
                        call.body, call.json)
        response = send(client, case.method, tampered)
        assert response.status_code == 400, f"{case.id} accepted a tampered URL"
        assert not changed_tables(before, snapshot()), f"{case.id}: a tampered URL changed data"
        response = send(client, case.method, call)
        assert is_allowed(case, call, response), f"{case.id}: {response.status_code}"
        return
    response = send(client, case.method, call)
    assert response.status_code == 400, f"{case.id}: {response.status_code}"
    assert not changed_tables(before, snapshot()), f"{case.id} changed data without a token"
    if call.json:
        errors = response.get_json()["errors"]
        assert any("CSRF" in e for e in errors), errors
    else:
        page = response.get_data(as_text=True)
        assert "Reload the page and try again" in page and "CSRF token is missing" in page

    wrong = send(client, case.method, call, csrf_token="not-the-token")
    assert wrong.status_code == 400, f"{case.id} accepted a made-up token"

    if case.allowed:
        response = send(client, case.method, call, csrf_token=csrf_token(client))
        assert is_allowed(case, call, response), \
            f"{case.id} as {role} with its token: {response.status_code}"


SCRIPT_ROLES = ("member", "moderator", "admin")


@pytest.mark.parametrize("case", [c for c in CASES if c.allowed & set(SCRIPT_ROLES)],
                         ids=lambda c: c.id)
def test_api_key_requests_need_no_token(csrf_on, app, make, fast_passwords, case):  # noqa: F811
    """Scripts send no cookie, so a forged cross-site request cannot ride on their key."""
    role = next(r for r in SCRIPT_ROLES if r in case.allowed)
    actor = make.user(role=role)
    call = case.build(Ctx(make, actor, role, app.test_client()))
    if not call.json:
        pytest.skip("an HTML form: scripts use the JSON endpoints")
    response = send(app.test_client(), case.method, call,
                    headers={"Api-Key": issue_api_key(actor)})
    assert is_allowed(case, call, response), f"{case.id}: {response.status_code}"


def test_a_bogus_api_key_does_not_unlock_the_session(csrf_on, client, make):
    """Skipping the token for Api-Key requests is safe only because such a request never
    uses the session cookie: with a wrong key it is a visitor's."""
    member = make.user()
    topic = make.topic()
    login_with_token(client, member)
    before = snapshot()
    response = client.post("/posts.json", json={"topic_id": topic.id, "raw": "Forged reply."},
                           headers={"Api-Key": "not-a-key"})
    assert response.status_code == 403
    assert not changed_tables(before, snapshot())


def test_a_token_from_another_session_is_refused(csrf_on, app, make):
    topic = make.topic()
    attacker, victim = app.test_client(), app.test_client()
    login_with_token(attacker, make.user())
    login_with_token(victim, make.user())
    stolen = csrf_token(attacker)
    before = snapshot()
    response = victim.post(f"/t/{topic.id}/reply", data={"raw": "Forged reply.",
                                                           "csrf_token": stolen})
    assert response.status_code == 400
    assert not changed_tables(before, snapshot())


def test_json_csrf_refusal_is_an_error_object(csrf_on, client, make):
    login_with_token(client, make.user())
    response = client.post("/posts.json", json={"raw": "hello there"})
    assert response.status_code == 400
    assert response.is_json and response.get_json()["errors"]


def test_reading_needs_no_token(csrf_on, client, make):
    make.topic()
    login_with_token(client, make.user())
    assert client.get("/latest.json").status_code == 200
    assert client.get("/latest").status_code == 200


def test_pages_offer_the_token(csrf_on, client, make):
    """The meta tag the page script sends as X-CSRFToken, for signed-in members."""
    login_with_token(client, make.user())
    page = client.get("/latest").get_data(as_text=True)
    assert '<meta name="csrf-token" content="' in page
