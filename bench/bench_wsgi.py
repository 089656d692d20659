"""The forum as the benchmarks serve it: the production app with rate limits turned off.

    gunicorn --chdir <repo> bench.bench_wsgi:app

A benchmark sends thousands of votes a second from one address and a few accounts; the vote,
post and search limits (config.py, RATELIMIT_*) would turn nearly all of them into 429s and
measure the limiter instead of the forum. Nothing else differs from wsgi.py, except that
BENCH_SEARCH_CATCH_UP_AFTER_COMMIT=0 turns off the search catch-up after each commit (the
outbox is still written; `flask forum reindex --catch-up` applies it), for measuring what that
catch-up costs a write.
"""
import os

from forum import create_app

settings = {"RATELIMIT_ENABLED": False}
if os.environ.get("BENCH_SEARCH_CATCH_UP_AFTER_COMMIT") == "0":
    settings["SEARCH_CATCH_UP_AFTER_COMMIT"] = False
app = create_app(settings)
