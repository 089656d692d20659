"""Nothing a user can send causes a 500: every write endpoint of tests/writes, fed malformed input.

For each case the valid request is built, then sent again with each field missing, null, of
the wrong type, huge, or holding characters a database refuses; with a body that is not JSON
or not an object; with ids that do not exist; and with an oversized body. Every answer must be
below 500; a refusal to a JSON endpoint must be {"errors": [...]} as documented, a refusal to
a form an HTML page; and a refusal must leave the database as it was.
"""
import re
import traceback

import pytest
from flask import got_request_exception

from tests.conftest import login
from tests.openapi_check import assert_documented, template_for
from tests.writes import (Ctx, act_as, all_cases, changed_tables, fast_passwords,  # noqa: F401
                          snapshot)

CASES = all_cases()
HUGE = "x" * 100_000
# "²" is a digit to str.isdigit() but not to int(); "１２" (full width) is to both.
JSON_VALUES = [None, -1, 10 ** 30, 1.5, True, [], {"a": 1}, "", HUGE, "a\x00b", "\ud800", "²"]
FORM_VALUES = ["", HUGE, "a\x00b", "-1", "99999999999999999999", "１２", "²"]
BAD_IDS = ["0", "99999999", str(2 ** 63), str(10 ** 30)]


def role_for(case):
    for role in ("member", "moderator", "admin"):
        if role in case.allowed:
            return role
    return "member"


def mutations(call):
    """(label, kwargs for client.open, what must hold) for every mangled version of call."""
    body = call.body
    if call.json:
        yield "empty object", {"json": {}}, None
        yield "no body", {}, None
        yield "invalid JSON", {"data": "{not json", "content_type": "application/json"}, 400
        yield "a JSON array", {"json": [body]}, 400
        yield "a JSON string", {"json": "hello"}, 400
        yield "text/plain body", {"data": "raw=hello", "content_type": "text/plain"}, None
        yield "oversized body", {"json": {**body, "raw": "x" * (3 * 1024 * 1024)}}, 413
        deep = "[" * 100_000 + "]" * 100_000
        yield "deeply nested JSON", {"data": '{"x": %s}' % deep,
                                     "content_type": "application/json"}, 400
        for field in body:
            yield f"{field} missing", {"json": {k: v for k, v in body.items() if k != field}}, None
            for value in JSON_VALUES:
                yield f"{field}={value!r:.20}", {"json": {**body, field: value}}, None
    else:
        yield "empty form", {"data": {}}, None
        # A view that never reads its form (signing out, say) need not refuse a big one.
        yield "oversized body", {"data": {**body, "raw": "x" * (3 * 1024 * 1024)}}, None
        for field in body:
            yield f"{field} missing", {"data": {k: v for k, v in body.items() if k != field}}, None
            for value in FORM_VALUES:
                yield f"{field}={value!r:.20}", {"data": {**body, field: value}}, None
    for bad in BAD_IDS:
        path = re.sub(r"/\d+(?=[/.]|$)", f"/{bad}", call.path.split("?")[0], count=1)
        if path != call.path.split("?")[0]:
            kwargs = {"json": body} if call.json else {"data": body}
            yield f"id {bad}", {"path": path, **kwargs}, "4xx"


@pytest.fixture
def crashes(app):
    """Let the app answer 500 as in production, and keep the traceback of each crash."""
    seen = []

    def record(sender, exception, **extra):
        seen.append("".join(traceback.format_exception(exception)[-3:]))

    app.config["PROPAGATE_EXCEPTIONS"] = False
    got_request_exception.connect(record, app)
    yield seen
    got_request_exception.disconnect(record, app)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_malformed_input_never_causes_a_500(client, make, fast_passwords, crashes,  # noqa: F811
                                            case):
    role = role_for(case)
    actor, restrict = act_as(role, make, client, login)
    call = case.build(Ctx(make, actor, role, client))
    restrict()
    failures = []
    before = snapshot()
    for label, kwargs, expected in mutations(call):
        path = kwargs.pop("path", call.path)
        response = client.open(path, method=case.method, **kwargs)
        status = response.status_code
        where = f"{case.method} {path} [{label}] -> {status}"
        after = snapshot()
        changed, before = changed_tables(before, after), after
        if status >= 500:
            failures.append(f"{where}: {crashes[-1] if crashes else ''}")
            continue
        if expected == "4xx" and not 400 <= status < 500:
            failures.append(f"{where}: expected a 4xx")
        elif isinstance(expected, int) and status != expected:
            failures.append(f"{where}: expected {expected}")
        if status >= 400:
            sent_json = "json" in kwargs or "json" in kwargs.get("content_type", "")
            if sent_json or path.split("?")[0].endswith(".json"):
                body = response.get_json(silent=True)
                if not (isinstance(body, dict) and body.get("errors")
                        and all(isinstance(e, str) and e for e in body["errors"])):
                    failures.append(f"{where}: not an errors object: {response.data[:200]!r}")
                elif template_for(path, case.method) and status != 413:
                    try:
                        assert_documented(response, case.method, path)
                    except AssertionError as exc:
                        failures.append(f"{where}: {exc}")
            elif response.mimetype != "text/html":
                failures.append(f"{where}: a form's refusal should be a page, not "
                                f"{response.mimetype}")
            if changed:
                failures.append(f"{where}: refused but changed {changed}")
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:40])


def test_unstorable_characters_in_urls_are_refused_cleanly(client, make, crashes):
    topic = make.topic()
    for url in ("/u/a%00b", "/u/a%00b.json", "/latest.json?page=%00", "/top.json?period=%00",
                f"/c/a%00/{topic.category_id}.json", f"/t/a%00b/{topic.id}",
                "/t/99999999999999999999.json", "/posts/99999999999999999999.json",
                f"/t/{topic.slug}/{topic.id}?page=99999999999999999999"):
        response = client.get(url)
        assert response.status_code < 500, f"{url}: {crashes[-1] if crashes else ''}"


@pytest.mark.parametrize("username", ["josé", "a\x00b", "", "x" * 5000])
def test_odd_api_username_headers_are_refused_cleanly(client, make, crashes, username):
    from tests.writes import issue_api_key

    member = make.user()
    topic = make.topic()
    headers = {"Api-Key": issue_api_key(member), "Api-Username": username}
    response = client.post("/posts.json", json={"topic_id": topic.id, "raw": "From a script."},
                           headers=headers)
    assert response.status_code < 500, crashes[-1] if crashes else ""
    # A key for one member acts as that member when no other name is given, and not at all
    # when another name is.
    assert response.status_code == (200 if username == "" else 403)


def test_words_that_show_nothing_are_refused_with_a_message(client, make):
    member = make.user()
    login(client, member)
    topic = make.topic()
    invisible = "\u200b\u200b\u200b\u00ad\u00ad\u2060"
    made = client.post("/posts.json", json={"title": invisible * 2, "raw": "A real body here",
                                            "category": topic.category_id})
    assert made.status_code == 422
    assert made.get_json()["errors"] == ["Titles need at least 5 characters."]
    reply = client.post("/posts.json", json={"topic_id": topic.id, "raw": invisible})
    assert reply.status_code == 422 and reply.get_json()["errors"] == ["Write something first."]
    proposal = make.proposal()
    item = client.post(f"/proposals/{proposal.id}/amendments.json", json={
        "kind": "amendment", "start": 2, "end": 2, "text": "\u200b",
        "rationale": "Because it reads better."})
    assert item.status_code == 422 and "shows nothing" in item.get_json()["errors"][0]
    # A title keeps its words, on one line, without characters that reverse the rest of it.
    made = client.post("/posts.json", json={"title": "Budget vote \u202eSEY si etov eht",
                                            "raw": "A real body here",
                                            "category": topic.category_id})
    assert made.status_code == 200
    assert client.get(f"/t/{made.get_json()['topic_id']}.json").get_json()["title"] == \
        "Budget vote SEY si etov eht"


def test_a_body_that_cannot_be_read_is_refused_for_what_it_is(client, make):
    login(client, make.user())
    topic = make.topic()
    body = '{"topic_id": %d, "raw": "A reply sent as text/plain."}' % topic.id
    for content_type, message in (
            ("text/plain", "A body of type text/plain cannot be read: send JSON, with "
                           "Content-Type: application/json, or a form."),
            ("application/xml", "A body of type application/xml cannot be read: send JSON, "
                                "with Content-Type: application/json, or a form.")):
        response = client.post("/posts.json", data=body, content_type=content_type)
        assert response.status_code == 400
        assert response.get_json()["errors"] == [message]
    response = client.post("/posts.json", data=body[:-3], content_type="application/json")
    assert (response.status_code, response.get_json()["errors"]) == (
        400, ["The request body is not valid JSON."])
    response = client.post("/posts.json", json=[{"topic_id": topic.id}])
    assert response.status_code == 400 and "JSON object" in response.get_json()["errors"][0]
    # The same body as JSON is a reply; an empty JSON body is no body at all.
    assert client.post("/posts.json", data=body, content_type="application/json"
                       ).status_code == 200
    assert client.post("/posts.json", data="", content_type="application/json"
                       ).status_code == 422
