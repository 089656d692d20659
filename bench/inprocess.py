"""What one request costs the application alone: no HTTP server, no load generator.

    .venv/bin/python bench/inprocess.py /latest /t/some-topic/7
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/forum_bench \\
        .venv/bin/python bench/inprocess.py --anonymous /proposals/3

Builds the production app of bench/bench_wsgi.py on the seeded benchmark database (the SQLite
one of bench/seed.py unless DATABASE_URL is set), signs the benchmark's member in through the
sign-in form (unless --anonymous), warms each page up, then times --requests requests to it one
after another with Flask's test client and prints the mean time, the SQL statements per request
(transaction control aside) and the size of the HTML. `--profile` adds cProfile's top functions
(`--sort cumulative`, `--lines 60`).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/forum_bench \\
        .venv/bin/python bench/inprocess.py --votes

times votes instead, as bench/proposal.py sends them (each an API-key request that changes the
member's vote), on the proposal with the most amendments; it issues an API key to do so.
"""
import argparse
import cProfile
import os
import pstats
import re
import sys
import time
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.seed import (BENCH_PASSWORD, BENCH_USERNAME, DEFAULT_DATABASE_URL,  # noqa: E402
                        RESULTS, SEARCH_INDEX)

USER_AGENT = "forum-bench/1"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--anonymous", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--votes", action="store_true",
                        help="time votes (PUT /amendments/<id>/vote.json with an API key) on "
                             "the benchmark proposal instead of pages; give no paths")
    parser.add_argument("--sort", default="tottime", help="cProfile's order: tottime, cumulative")
    parser.add_argument("--lines", type=int, default=25, help="cProfile's lines to print")
    parser.add_argument("--sql", action="store_true",
                        help="also print each SQL statement of a request with its mean time")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    # The index bench/search.py builds, with the forum's documents, once it has run; the
    # seed's own (empty) one before.
    searched = RESULTS / "search-index"
    os.environ.setdefault("SEARCH_INDEX_DIR", str(searched if searched.exists() else SEARCH_INDEX))
    os.environ["FORUM_ENV"] = "production"
    os.environ.setdefault("SECRET_KEY", "in-process benchmark key, never served " * 2)
    from bench.bench_wsgi import app
    from forum.extensions import db

    app.config["SESSION_COOKIE_SECURE"] = False  # the test client speaks plain HTTP
    client = app.test_client()
    headers = {"User-Agent": USER_AGENT}
    if args.votes:
        return time_votes(app, client, headers, args)
    if not args.anonymous:
        form = client.get("/login", headers=headers).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        signed_in = client.post("/login", headers=headers, data={
            "login": BENCH_USERNAME, "password": BENCH_PASSWORD, "csrf_token": token})
        if signed_in.status_code != 302:
            raise SystemExit(f"could not sign in as {BENCH_USERNAME}: {signed_in.status_code}")
    with app.app_context():
        engine = db.engine
    statements, timings = watch_statements(engine)
    for path in args.paths:
        for _ in range(30):
            response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        statements.clear()
        timings.clear()
        started = time.perf_counter()
        for _ in range(args.requests):
            client.get(path, headers=headers)
        mean = (time.perf_counter() - started) / args.requests * 1000
        print(f"{path}: {mean:.2f} ms a request, {len(statements) / args.requests:.1f} SQL "
              f"statements, {len(response.data) / 1000:.0f} KB "
              f"({'anonymous' if args.anonymous else 'signed in'}, "
              f"{engine.url.get_backend_name()})")
        if args.sql:
            print_statements(timings, args.requests)
        if args.profile:
            profiled(args, lambda: [client.get(path, headers=headers)
                                    for _ in range(args.requests)])


def watch_statements(engine):
    """([statement, ...], {statement: [seconds, ...]}) of what the engine runs from now on,
    transaction control aside."""
    control = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", re.I)
    statements, timings = [], {}

    def before(conn, cursor, statement, *rest):
        if not control.match(statement):
            statements.append(statement)
            conn.info["forum_bench_started"] = time.perf_counter()

    def after(conn, cursor, statement, *rest):
        started_at = conn.info.pop("forum_bench_started", None)
        if started_at is not None:
            timings.setdefault(statement, []).append(time.perf_counter() - started_at)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    return statements, timings


def print_statements(timings, requests):
    """Each statement's mean time a request, the slowest first."""
    for statement, spent in sorted(timings.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {sum(spent) / requests * 1000:6.2f} ms  {' '.join(statement.split())[:160]}")


def profiled(args, run):
    profile = cProfile.Profile()
    profile.enable()
    run()
    profile.disable()
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.lines)


def time_votes(app, client, headers, args):
    """Votes by members on the open items of the proposal with the most amendments, each one
    the opposite of what that member holds (so every vote changes a row), as bench/proposal.py
    sends them."""
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import Amendment, AmendmentVote, Proposal, User
    from forum.services.api_keys import issue_api_key

    with app.app_context():
        proposal = db.session.scalars(select(Proposal).order_by(
            Proposal.amendment_count.desc())).first()
        items = db.session.execute(select(Amendment.id, Amendment.user_id).where(
            Amendment.proposal_id == proposal.id, Amendment.status == "open",
            Amendment.hidden_at.is_(None)).order_by(Amendment.id)).all()
        members = db.session.execute(select(User.id, User.username).where(
            User.username.like("member%"), User.email_verified_at.is_not(None))
            .order_by(User.id).limit(200)).all()
        admin = db.session.scalars(select(User).where(User.role == "admin")).first()
        _, key = issue_api_key(admin, description="bench/inprocess.py --votes")
        held = dict(((a, u), v) for a, u, v in db.session.execute(
            select(AmendmentVote.amendment_id, AmendmentVote.user_id, AmendmentVote.value)
            .where(AmendmentVote.amendment_id.in_([i for i, _ in items]))).all())
        engine = db.engine
    # Twenty items in turn, as under load many members vote on the same items: most votes
    # then add to an unread "votes on your amendment" notification rather than make one.
    pairs = [(item, user, name) for user, name in members
             for item, author in items[:20] if author != user]
    statements, timings = watch_statements(engine)

    def vote(n):
        item, user, name = pairs[n % len(pairs)]
        value = -held.get((item, user), -1)
        held[item, user] = value
        response = client.put(f"/amendments/{item}/vote.json", json={"value": value},
                              headers=dict(headers, **{"Api-Key": key, "Api-Username": name}))
        if response.status_code != 200:
            raise SystemExit(f"a vote answered {response.status_code}: {response.data[:300]}")

    for n in range(30):
        vote(n)
    statements.clear()
    timings.clear()
    started = time.perf_counter()
    for n in range(30, 30 + args.requests):
        vote(n)
    mean = (time.perf_counter() - started) / args.requests * 1000
    print(f"vote: {mean:.2f} ms a vote, {len(statements) / args.requests:.1f} SQL statements "
          f"(transaction control aside; {engine.url.get_backend_name()})")
    if args.sql:
        print_statements(timings, args.requests)
    if args.profile:
        profiled(args, lambda: [vote(n) for n in range(30 + args.requests,
                                                        30 + 2 * args.requests)])


if __name__ == "__main__":
    main()
