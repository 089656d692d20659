"""Rate limits: per IP and per account, tighter in an account's first day, the same allowance
for a form and its JSON twin, a clear refusal; and, with Redis, one count across every worker
of a multi-process server."""
import json
import os
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.cookiejar import CookieJar

import pytest
import redis

from forum.extensions import db
from forum.models import Post, User, utcnow
from tests.conftest import PASSWORD, login
from tests.live import start_server

LIMITED = dict(RATELIMIT_ENABLED=True, RATELIMIT_SIGNIN="3 per minute",
               RATELIMIT_SIGNIN_ACCOUNT="1000 per minute", RATELIMIT_POST="4 per minute",
               RATELIMIT_POST_NEW="2 per minute", RATELIMIT_POST_IP="1000 per minute",
               RATELIMIT_TOPIC="1000 per minute", RATELIMIT_TOPIC_NEW="1 per minute",
               RATELIMIT_TOPIC_IP="1000 per minute", RATELIMIT_FLAG="2 per minute",
               RATELIMIT_FLAG_NEW="2 per minute", RATELIMIT_FLAG_IP="1000 per minute",
               RATELIMIT_VOTE="3 per minute", RATELIMIT_VOTE_NEW="3 per minute",
               RATELIMIT_VOTE_IP="1000 per minute")


def age(user, days):
    """Make the member `days` old, so that first-day limits no longer apply."""
    db.session.get(User, user.id).created_at = utcnow() - timedelta(days=days)
    db.session.commit()


def wrong_sign_in(client, username, ip="10.0.0.1", as_json=False):
    body = {"login": username, "password": "not the password"}
    env = {"REMOTE_ADDR": ip}
    if as_json:
        return client.post("/login", json=body, environ_base=env)
    return client.post("/login", data=body, environ_base=env)


@pytest.mark.app_config(**LIMITED)
def test_sign_in_attempts_per_ip_are_refused_with_a_clear_page_and_json(client, make):
    member = make.user()
    statuses = [wrong_sign_in(client, member.username).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    page = wrong_sign_in(client, member.username)
    assert page.status_code == 429
    text = page.get_data(as_text=True)
    assert "Slow down" in text and "Try again in" in text
    refused = wrong_sign_in(client, member.username, as_json=True)
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["errors"] and "Try again in" in body["errors"][0]
    assert 1 <= body["extras"]["wait_seconds"] <= 60
    # Another address has its own allowance.
    assert wrong_sign_in(client, member.username, ip="10.0.0.2").status_code == 401


@pytest.mark.app_config(**dict(LIMITED, RATELIMIT_SIGNIN="1000 per minute",
                               RATELIMIT_SIGNIN_ACCOUNT="2 per minute"))
def test_failed_sign_ins_per_account_stop_guessing_from_many_addresses(client, make):
    member, other = make.user(), make.user()
    assert wrong_sign_in(client, member.username, ip="10.0.1.1").status_code == 401
    assert wrong_sign_in(client, member.username, ip="10.0.1.2").status_code == 401
    assert wrong_sign_in(client, member.username, ip="10.0.1.3").status_code == 429
    # Other members are not affected.
    response = client.post("/login", data={"login": other.username, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.1.3"})
    assert response.status_code == 302


@pytest.mark.app_config(**dict(LIMITED, RATELIMIT_SIGNIN="1000 per minute",
                               RATELIMIT_SIGNIN_ACCOUNT="2 per minute"))
def test_successful_sign_ins_do_not_use_up_the_account_allowance(client, make):
    member = make.user()
    for _ in range(4):
        login(client, member)
        client.post("/logout")


@pytest.mark.app_config(**dict(LIMITED, RATELIMIT_SIGNUP="2 per hour"))
def test_sign_ups_per_ip(client, make):
    group = make.group()
    statuses = [client.post("/signup", data={
        "username": f"newcomer{n}", "email": f"newcomer{n}@example.org", "password": PASSWORD,
        "group": str(group.id)}, environ_base={"REMOTE_ADDR": "10.0.2.1"}).status_code
        for n in range(3)]
    assert statuses == [302, 302, 429]
    assert db.session.scalar(db.select(db.func.count(User.id)).where(
        User.username_lower.like("newcomer%"))) == 2


@pytest.mark.app_config(**dict(LIMITED, RATELIMIT_RESET="1000 per hour",
                               RATELIMIT_RESET_ACCOUNT="1 per hour"))
def test_password_resets_per_address(client, make):
    member, other = make.user(), make.user()

    def ask(email, ip):
        return client.post("/password-reset", data={"email": email},
                           environ_base={"REMOTE_ADDR": ip}).status_code

    assert ask(member.email, "10.0.3.1") == 200
    assert ask(member.email.upper(), "10.0.3.2") == 429
    assert ask(other.email, "10.0.3.2") == 200


@pytest.mark.app_config(**LIMITED)
def test_posting_is_tighter_in_an_accounts_first_day(client, make):
    topic = make.topic()
    newcomer = make.user()
    login(client, newcomer)
    replies = [client.post("/posts.json", json={"topic_id": topic.id,
                                                "raw": f"Reply {n} from a newcomer."})
               for n in range(3)]
    assert [r.status_code for r in replies] == [200, 200, 429]
    assert replies[-1].get_json()["extras"]["wait_seconds"] >= 1
    client.post("/logout")

    veteran = make.user()
    age(veteran, days=3)
    login(client, veteran)
    statuses = [client.post("/posts.json", json={"topic_id": topic.id,
                                                 "raw": f"Reply {n} from a veteran."}).status_code
                for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert db.session.scalar(db.select(db.func.count(Post.id)).where(
        Post.topic_id == topic.id)) == 1 + 2 + 4


@pytest.mark.app_config(**LIMITED)
def test_a_form_and_its_json_twin_share_one_allowance(client, make):
    topic = make.topic()
    member = make.user()
    age(member, days=3)
    login(client, member)
    assert client.post(f"/t/{topic.id}/reply", data={"raw": "By form, once."}).status_code == 302
    assert client.post(f"/t/{topic.id}/reply", data={"raw": "By form, twice."}).status_code \
        == 302
    assert client.post("/posts.json", json={"topic_id": topic.id,
                                            "raw": "By JSON."}).status_code == 200
    # A preview is not a post.
    preview = client.post(f"/t/{topic.id}/reply", data={"raw": "Just looking.", "preview": "1"})
    assert preview.status_code == 200
    assert client.post("/posts.json", json={"topic_id": topic.id,
                                            "raw": "By JSON again."}).status_code == 200
    refused = client.post(f"/t/{topic.id}/reply", data={"raw": "One too many."})
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Try again in" in page
    # What they wrote is on the page, to copy and send again.
    assert "What you wrote" in page and ">One too many.</textarea>" in page


@pytest.mark.app_config(**dict(LIMITED, RATELIMIT_SIGNUP="2 per hour"))
def test_a_refused_write_gives_its_allowance_back(client, make):
    category = make.category()
    newcomer = make.user()  # one topic a minute, two posts
    login(client, newcomer)
    refused = [client.post("/posts.json", json=body).status_code
               for body in ({}, {"raw": None}, {"raw": 123}, {"title": "Hi", "raw": "Hello",
                                                              "category": category.id})]
    assert refused == [422, 422, 422, 422]
    assert client.post("/posts.json", json={"title": "A valid first topic", "raw": "Hello all.",
                                            "category": category.id}).status_code == 200
    assert client.post("/posts.json", json={"title": "A second topic today", "raw": "Again.",
                                            "category": category.id}).status_code == 429
    client.post("/logout")
    group = make.group()
    taken = make.user("taken").username

    def sign_up(name):
        return client.post("/signup", data={
            "username": name, "email": f"{name}@example.org", "password": PASSWORD,
            "group": str(group.id)}, environ_base={"REMOTE_ADDR": "10.0.2.9"}).status_code

    assert [sign_up(name) for name in (taken, taken, "joiner1", taken, "joiner2",
                                       "joiner3")] == [422, 422, 302, 422, 302, 429]


@pytest.mark.app_config(**LIMITED)
def test_new_accounts_start_fewer_topics(client, make):
    category = make.category()
    newcomer = make.user()
    login(client, newcomer)
    first = client.post("/new-topic", data={"title": "My first topic here", "raw": "Hello all.",
                                            "category": str(category.id)})
    assert first.status_code == 302
    second = client.post("/posts.json", json={"title": "My second topic today",
                                              "raw": "Hello again.", "category": category.id})
    assert second.status_code == 429


@pytest.mark.app_config(**LIMITED)
def test_flags_and_votes_are_limited(client, make):
    topic = make.topic()
    posts = [make.reply(topic) for _ in range(4)]
    member = make.user()
    age(member, days=3)
    login(client, member)
    flags = [client.post("/post_actions.json", json={"id": p.id, "post_action_type_id": 8})
             .status_code for p in posts[:3]]
    assert flags == [200, 200, 429]
    # Likes count as votes, apart from flags.
    likes = [client.post("/post_actions.json", json={"id": p.id, "post_action_type_id": 2})
             .status_code for p in posts]
    assert likes == [200, 200, 200, 429]


# -- across workers --------------------------------------------------------------------------------

# Keys are prefixed per test (RedisCounts), so the database may be shared.
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/13"


def _open(opener, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/json", "Accept": "application/json"})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _burst(url, body, count, opener=None):
    """`count` requests, eight at a time, so that they land on different workers. `body` may
    be a function of the request's number (posts must differ, or the second is a repeat)."""
    opener = opener or urllib.request.build_opener()
    make_body = body if callable(body) else lambda _: body
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda n: _open(opener, url, make_body(n)), range(count)))


SERVER_LIMITS = {"RATELIMIT_ENABLED": "1", "RATELIMIT_SIGNIN": "6 per minute",
                 "RATELIMIT_SIGNIN_ACCOUNT": "1000 per minute", "RATELIMIT_POST": "3 per minute",
                 "RATELIMIT_POST_NEW": "3 per minute", "RATELIMIT_POST_IP": "1000 per minute"}


class RedisCounts:
    """The counters of one test's server: its own key prefix in a shared Redis database, so
    that another run of the suite using the same Redis at the same time cannot move them."""

    def __init__(self, url):
        self.store = redis.Redis.from_url(url)
        self.prefix = f"test-{uuid.uuid4().hex}"

    def keys(self):
        return list(self.store.scan_iter(match=f"*/{self.prefix}/*"))

    def clear(self):
        for key in self.keys():
            self.store.delete(key)


@pytest.fixture
def redis_counts():
    counts = RedisCounts(REDIS_URL)
    yield counts
    counts.clear()


@pytest.mark.live
@pytest.mark.xdist_group("redis")
def test_limits_hold_across_gunicorn_workers_with_redis(app, make, redis_counts):
    member = make.user()
    topic = make.topic()
    server = start_server(str(app.config["SQLALCHEMY_DATABASE_URI"]), workers=4,
                          extra_env=dict(SERVER_LIMITS, REDIS_URL=REDIS_URL,
                                         RATELIMIT_KEY_PREFIX=redis_counts.prefix))
    try:
        answers = _burst(server.url + "/login", {"login": member.username,
                                                  "password": "not the password"}, 30)
        statuses = sorted(status for status, _ in answers)
        # A wrong password is a 422 from the JSON sign-in; the limit's refusal a 429. Four
        # workers counting alone would let up to 24 through (the control test below); one
        # count in Redis lets exactly the limit of 6 through in all.
        allowed = statuses.count(422)
        assert allowed == 6 and statuses == [422] * allowed + [429] * (30 - allowed), \
            statuses
        refused = next(body for status, body in answers if status == 429)
        assert refused["extras"]["wait_seconds"] >= 1
        assert redis_counts.keys()  # the counts really are in Redis

        # Per account: one member's posts, from one session, spread over the workers.
        redis_counts.clear()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        assert _open(opener, server.url + "/login",
                     {"login": member.username, "password": PASSWORD})[0] == 200
        answers = _burst(server.url + "/posts.json",
                         lambda n: {"topic_id": topic.id, "raw": f"Posted during a burst ({n})."},
                         12, opener)
        statuses = sorted(status for status, _ in answers)
        # The limit is 3; four workers counting alone would take up to 12.
        posted = statuses.count(200)
        assert posted == 3 and statuses == [200] * posted + [429] * (12 - posted), \
            statuses
    finally:
        server.stop()
    db.session.rollback()  # a fresh snapshot, with what the server wrote
    assert db.session.scalar(db.select(db.func.count(Post.id)).where(
        Post.topic_id == topic.id)) == 1 + posted


@pytest.mark.live
def test_without_shared_storage_each_worker_counts_alone(app, make):
    """The control for the test above: it shows the burst really reaches several workers, so
    the exact count there is Redis's doing."""
    member = make.user()
    server = start_server(str(app.config["SQLALCHEMY_DATABASE_URI"]), workers=4,
                          extra_env=dict(SERVER_LIMITS, REDIS_URL=""))
    try:
        answers = _burst(server.url + "/login", {"login": member.username,
                                                  "password": "not the password"}, 40)
    finally:
        server.stop()
    allowed = sum(status == 422 for status, _ in answers)
    assert allowed > 6, sorted(status for status, _ in answers)


def test_new_accounts_post_fewer_links(client, make):
    topic = make.topic()
    links = ("See [one](https://a.example.org), [two](https://b.example.org) and "
             "https://c.example.org.")
    newcomer = make.user()
    login(client, newcomer)
    refused = client.post("/posts.json", json={"topic_id": topic.id, "raw": links})
    assert refused.status_code == 422
    assert "at most 2 links" in refused.get_json()["errors"][0]
    mentions = "Thanks @" + topic.user.username + ", see [one](https://a.example)."
    assert client.post("/posts.json", json={"topic_id": topic.id, "raw": mentions}) \
        .status_code == 200
    client.post("/logout")
    veteran = make.user()
    age(veteran, days=2)
    login(client, veteran)
    assert client.post("/posts.json", json={"topic_id": topic.id, "raw": links}) \
        .status_code == 200


@pytest.mark.app_config(**dict(LIMITED, RATELIMIT_SEARCH="2 per minute",
                               RATELIMIT_SEARCH_NEW="1 per minute",
                               RATELIMIT_SEARCH_IP="3 per minute"))
def test_searches_per_account_and_per_ip(client, make):
    newcomer = make.user()
    login(client, newcomer)
    assert [client.get("/search.json?q=homes").status_code for _ in range(2)] == [200, 429]
    client.post("/logout")
    # Visitors share their address's allowance, which the member above used once.
    statuses = [client.get("/search?q=homes").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    # The search page itself, with no query yet, still opens with its box.
    for _ in range(3):
        empty = client.get("/search")
        assert empty.status_code == 200 and 'name="q"' in empty.get_data(as_text=True)


@pytest.mark.app_config(**dict(LIMITED, RATELIMIT_PREVIEW="2 per minute",
                               RATELIMIT_PREVIEW_NEW="2 per minute",
                               RATELIMIT_PREVIEW_IP="3 per minute"))
def test_previews_are_limited_per_account_and_per_ip(client, make):
    """A preview cooks the text and keeps nothing, so it is limited like a post."""
    login(client, make.user())
    statuses = [client.post("/preview.json", json={"raw": "Some *words*."}).status_code
                for _ in range(3)]
    assert statuses == [200, 200, 429]
    client.post("/logout")
    assert [client.post("/preview.json", json={"raw": "x"}).status_code
            for _ in range(2)] == [200, 429]
