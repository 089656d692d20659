"""What one request costs the application alone: no HTTP server, no load generator.

    .venv/bin/python bench/inprocess.py /latest /t/some-topic/7
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/forum_bench \\
        .venv/bin/python bench/inprocess.py --anonymous /proposals/3

Builds the production app of bench/bench_wsgi.py on the seeded benchmark database (the SQLite
one of bench/seed.py unless DATABASE_URL is set), signs the benchmark's member in through the
sign-in form (unless --anonymous), warms each page up, then times --requests requests to it one
after another with Flask's test client and prints the mean time, the SQL statements per request
(transaction control aside) and the size of the HTML. `--profile` adds cProfile's top functions by internal time.
"""
import argparse
import cProfile
import os
import pstats
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.seed import (BENCH_PASSWORD, BENCH_USERNAME, DEFAULT_DATABASE_URL,  # noqa: E402
                        SEARCH_INDEX)

USER_AGENT = "forum-bench/1"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--anonymous", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("SEARCH_INDEX_DIR", str(SEARCH_INDEX))
    os.environ["FORUM_ENV"] = "production"
    os.environ.setdefault("SECRET_KEY", "in-process benchmark key, never served " * 2)
    from sqlalchemy import event

    from bench.bench_wsgi import app
    from forum.extensions import db

    app.config["SESSION_COOKIE_SECURE"] = False  # the test client speaks plain HTTP
    client = app.test_client()
    headers = {"User-Agent": USER_AGENT}
    if not args.anonymous:
        form = client.get("/login", headers=headers).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        signed_in = client.post("/login", headers=headers, data={
            "login": BENCH_USERNAME, "password": BENCH_PASSWORD, "csrf_token": token})
        if signed_in.status_code != 302:
            raise SystemExit(f"could not sign in as {BENCH_USERNAME}: {signed_in.status_code}")
    statements = []
    with app.app_context():
        engine = db.engine
    control = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", re.I)
    event.listen(engine, "before_cursor_execute",
                 lambda *a: None if control.match(a[2]) else statements.append(a[2]))
    for path in args.paths:
        for _ in range(30):
            response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        statements.clear()
        started = time.perf_counter()
        for _ in range(args.requests):
            client.get(path, headers=headers)
        mean = (time.perf_counter() - started) / args.requests * 1000
        print(f"{path}: {mean:.2f} ms a request, {len(statements) / args.requests:.1f} SQL "
              f"statements, {len(response.data) / 1000:.0f} KB "
              f"({'anonymous' if args.anonymous else 'signed in'}, "
              f"{engine.url.get_backend_name()})")
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.requests):
                client.get(path, headers=headers)
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
