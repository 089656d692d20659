"""The topic page and the topic lists run a fixed number of SQL queries, however big the forum.

Each case is measured on a small forum and on a large one, and the counts must be equal and
exactly the numbers below. The first rows of every topic go through the real services; the bulk
behind them is inserted directly, only for volume, with counters recounted by the services'
own refresh functions so the rows and the counters agree.
"""
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, select, update

from forum.db import write_transaction
from forum.extensions import db
from forum.markup import COOK_VERSION, cook
from forum.models import Post, PostLike, Topic, TopicUser, utcnow
from forum.services import posts as post_service
from tests.conftest import login

BULK_RAW = "A reply with **some** text, a [link](https://example.org) and @member1 in it."


def _grow_topic(topic_id, user_ids, total_posts):
    """Add replies up to `total_posts` posts, cycling through `user_ids` as authors."""
    cooked = cook(BULK_RAW)
    with write_transaction():
        topic = db.session.get(Topic, topic_id)
        start = topic.highest_post_number + 1
        base = utcnow() - timedelta(hours=1)
        rows = [{"topic_id": topic_id, "user_id": user_ids[n % len(user_ids)], "post_number": n,
                 "reply_to_post_number": n - 1 if n % 7 == 0 else None, "raw": BULK_RAW,
                 "cooked": cooked, "cook_version": COOK_VERSION,
                 "created_at": base + timedelta(seconds=n), "updated_at": base + timedelta(seconds=n)}
                for n in range(start, total_posts + 1)]
        if rows:
            db.session.execute(insert(Post), rows)
        db.session.execute(update(Topic).where(Topic.id == topic_id).values(
            highest_post_number=max(total_posts, topic.highest_post_number)))
        post_service.refresh_topic_stats(topic_id)
    db.session.expire_all()


def _add_topics(category_id, user_ids, count, reader_id=None):
    """Add topics (two posts each) up to `count` topics in the category.

    When a reader is given, they have read the first post of every other bulk topic, so
    /unread lists some of them.
    """
    cooked = cook(BULK_RAW)
    with write_transaction():
        have = db.session.query(Topic).count()
        now = utcnow()
        for n in range(have, count):
            author, last = user_ids[n % len(user_ids)], user_ids[(n + 1) % len(user_ids)]
            when = now - timedelta(minutes=count - n)
            topic_id = db.session.execute(insert(Topic).values(
                title=f"Bulk topic number {n}", slug=f"bulk-topic-number-{n}",
                category_id=category_id, user_id=author, created_at=when, bumped_at=when,
                last_posted_at=when, last_post_user_id=last,
                posts_count=2, highest_post_number=2, views=n % 13)
                .returning(Topic.id)).scalar_one()
            db.session.execute(insert(Post), [
                {"topic_id": topic_id, "user_id": user, "post_number": number,
                 "raw": BULK_RAW, "cooked": cooked, "cook_version": COOK_VERSION,
                 "created_at": when, "updated_at": when}
                for number, user in ((1, author), (2, last))])
            if reader_id is not None and n % 2:
                db.session.execute(insert(TopicUser).values(
                    topic_id=topic_id, user_id=reader_id, last_read_post_number=1,
                    first_visited_at=when, last_visited_at=when))
        post_service.refresh_category_topic_count(category_id)
    db.session.expire_all()


def _like_some(topic_id, liker_id, numbers):
    with write_transaction():
        ids = db.session.scalars(select(Post.id).where(
            Post.topic_id == topic_id, Post.post_number.in_(numbers),
            Post.user_id != liker_id)).all()
        db.session.execute(insert(PostLike), [
            {"post_id": i, "user_id": liker_id, "created_at": utcnow()} for i in ids])
        for i in ids:
            db.session.execute(update(Post).where(Post.id == i).values(like_count=1))
        post_service.refresh_topic_stats(topic_id)
    db.session.expire_all()


def _get(client, url):
    """GET as a server would serve it: in a fresh app context, so with an empty session,
    no member cached in `g`, and the app's teardown. (The test's own app context would
    otherwise be reused by the request and hide the queries a real request makes.)"""
    db.session.commit()  # end the test's read transaction; the request has its own
    with ThreadPoolExecutor(1) as pool:
        response = pool.submit(client.get, url).result()
    assert response.status_code == 200, response.status_code
    return response


def _measure(client, count_queries, url):
    with count_queries() as counter:
        _get(client, url)
    return counter


def _assert_counts(expected, small, large, what):
    assert len(small) == len(large) == expected, (
        f"{what}: expected {expected} queries, ran {len(small)} on the small forum and "
        f"{len(large)} on the large one.\n--- small ---\n{small.report()}\n"
        f"--- large ---\n{large.report()}")


@pytest.fixture
def forum(make):
    """Members, a category, and one topic built through the services, with a few replies."""
    users = [make.user() for _ in range(5)]
    reader = make.user()
    category = make.category()
    topic = make.topic(user=users[0], category=category)
    for n, user in enumerate(users[1:], start=1):
        make.reply(topic, user=user, raw=f"Reply {n} with a thought.",
                   reply_to=1 if n == 2 else None)
    post_service.like_post(reader, db.session.scalar(
        select(Post.id).where(Post.topic_id == topic.id, Post.post_number == 2)))
    # Plain values: each measured request starts from an empty session, detaching objects.
    return {"user_ids": [u.id for u in users], "reader": reader, "reader_id": reader.id,
            "category_id": category.id, "topic_id": topic.id, "slug": topic.slug,
            "category_url": f"/c/{category.slug}/{category.id}"}


# Queries, signed in: the member (1), the topic with their read state (2), the page of posts
# with authors and which of them they liked (3). Their read state is written (4-5) only when
# they got further than before; the measurement is of a repeat visit, so it is not.
# Anonymous: the topic and the page of posts.
TOPIC_PAGE = {"anonymous": 2, "member": 3}


@pytest.mark.parametrize("who", ["anonymous", "member"])
@pytest.mark.parametrize("where", ["first", "last"])
def test_topic_page_queries_do_not_grow_with_posts(client, forum, count_queries, who, where):
    user_ids, reader_id, topic_id = forum["user_ids"], forum["reader_id"], forum["topic_id"]
    if who == "member":
        login(client, forum["reader"])

    def url(total):
        last = (total - 1) // 20 + 1
        return f"/t/{forum['slug']}/{topic_id}" + ("?page=%d" % last if where == "last" else "")

    def visit(total):
        _grow_topic(topic_id, user_ids, total)
        _like_some(topic_id, reader_id, range(total - 25, total + 1, 3))
        _get(client, url(total))  # the first visit records how far the member read
        return _measure(client, count_queries, url(total))

    small = visit(20)
    large = visit(2000)
    _assert_counts(TOPIC_PAGE[who], small, large, f"topic page ({where}, {who})")


def test_a_signed_in_page_reads_the_member_without_their_group(client, forum, count_queries):
    """Every signed-in page reads its member first; a page that shows or checks their group
    (a profile, a national process) loads it then. Joining groups and nations into every
    page's first statement cost a tenth of a topic page."""
    login(client, forum["reader"])
    counter = _measure(client, count_queries, f"/t/{forum['slug']}/{forum['topic_id']}")
    member = " ".join(counter.statements[0].split())
    assert "FROM users JOIN user_sessions" in member
    assert "groups" not in member and "nations" not in member


def test_signed_in_topic_view_writes_only_when_the_reader_gets_further(client, forum,
                                                                       count_queries):
    """A first visit records the read position and counts a view; reading further moves it on;
    going back or reading again writes nothing. Writing does not make the page reload what it
    had loaded (committing used to expire every post and member: one query each)."""
    login(client, forum["reader"])
    topic_id, reader_id = forum["topic_id"], forum["reader_id"]
    _grow_topic(topic_id, forum["user_ids"], 60)
    base = f"/t/{forum['slug']}/{topic_id}"

    def last_read():
        db.session.commit()
        return db.session.scalar(select(TopicUser.last_read_post_number).where(
            TopicUser.topic_id == topic_id, TopicUser.user_id == reader_id))

    def writes(counter):
        return [s for s in counter.statements
                if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]

    first = _measure(client, count_queries, base + "?page=2")
    assert last_read() == 40
    # The page's reads, then: insert the read state, recount views, reload the view count.
    assert len(writes(first)) == 2 and len(first) == TOPIC_PAGE["member"] + 3, first.report()
    further = _measure(client, count_queries, base + "?page=3")
    assert last_read() == 60
    # The page's reads, then: try the insert (the row is there), move the position on.
    assert len(writes(further)) == 2 and len(further) == TOPIC_PAGE["member"] + 2, \
        further.report()
    for url in (base + "?page=3", base):
        again = _measure(client, count_queries, url)
        assert not writes(again) and len(again) == TOPIC_PAGE["member"], again.report()
    assert last_read() == 60


# Lists, signed in: the member, then one query for the page of topics with authors, category
# and the member's read state. Anonymous: the one list query. A category page first loads the
# category. /unread for a visitor needs no query at all.
LISTS = {
    ("/latest", "anonymous"): 1, ("/latest", "member"): 2,
    ("/latest.json", "anonymous"): 1, ("/latest.json", "member"): 2,
    ("/c", "anonymous"): 2, ("/c", "member"): 3,
    ("/unread", "anonymous"): 0, ("/unread", "member"): 2,
    ("/new", "member"): 2, ("/top", "anonymous"): 1,
}


@pytest.mark.parametrize("path,who", sorted(LISTS))
def test_topic_list_queries_do_not_grow_with_topics(client, forum, count_queries, path, who):
    if who == "member":
        login(client, forum["reader"])
    url = forum["category_url"] if path == "/c" else path

    def visit(total):
        _add_topics(forum["category_id"], forum["user_ids"], total, reader_id=forum["reader_id"])
        counter = _measure(client, count_queries, url)
        if path == "/unread" and who == "member":
            assert "Bulk topic number" in _get(client, url).get_data(as_text=True)
        return counter

    small = visit(20)
    large = visit(200)
    _assert_counts(LISTS[(path, who)], small, large, f"{url} ({who})")


# A constant number of queries is not enough: each must also read only the rows it shows.
# SQLite's plan says "SCAN topics" (no index) when a query reads every topic to find a page.
@pytest.mark.parametrize("path", ["/latest", "/c", "/new", "/unread"])
def test_topic_lists_read_no_table_whole(client, forum, engine_name, path):
    if engine_name != "sqlite":
        pytest.skip("PostgreSQL's planner may scan a small table on purpose")
    login(client, forum["reader"])
    _add_topics(forum["category_id"], forum["user_ids"], 200, reader_id=forum["reader_id"])
    with db.session.begin():
        db.session.execute(update(Topic).where(Topic.id == forum["topic_id"]).values(
            pinned_at=utcnow(), pinned_globally=True))
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        page = _get(client, forum["category_url"] if path == "/c" else path)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert "Bulk topic number" in page.get_data(as_text=True)
    with db.engine.connect() as conn:
        plans = {statement: [row[-1] for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters)] for statement, parameters in seen}
    tables = "|".join(db.metadata.tables)
    scans = {statement: [step for step in plan if re.fullmatch(rf"SCAN ({tables})(_\d+)?", step)]
             for statement, plan in plans.items()}
    assert not any(scans.values()), scans
