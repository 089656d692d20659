"""The forum as the benchmarks serve it: the production app with rate limits turned off.

    gunicorn --chdir <repo> bench.bench_wsgi:app

A benchmark sends thousands of votes a second from one address and a few accounts; the vote,
post and search limits (config.py, RATELIMIT_*) would turn nearly all of them into 429s and
measure the limiter instead of the forum. Nothing else differs from wsgi.py.
"""
from forum import create_app

app = create_app({"RATELIMIT_ENABLED": False})
