"""A writer killed mid-write loses nothing: the outbox keeps every change until the index holds
it, the kernel releases the dead writer's lock, and the next catch-up applies it all.

Both tests run the index writer in other processes, so the database lives in a file (SQLite)
or in PostgreSQL: @pytest.mark.live.
"""
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum import search
from forum.extensions import db
from forum.models import ApiKey, Post, SearchOutbox
from forum.permissions import Anonymous
from tests.live import ROOT, start_server
from tests.search_helpers import assert_consistent, search_backend, worker_session  # noqa: F401

# Runs catch_up in a process of its own and stops, for good, in the middle of writing: after
# the fifth document is handed to the index and before the index commits.
WRITER = """
import os, sys, time
os.environ["FORUM_ENV"] = "testing"
from forum import create_app, search
url, backend, directory, marker = sys.argv[1:5]
app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SEARCH_BACKEND": backend,
                  "SEARCH_INDEX_DIR": directory})

def pause(n):
    if n == 5:
        with open(marker, "w") as handle:
            handle.write(str(os.getpid()))
        time.sleep(300)

with app.app_context():
    with search.own_session() as session:
        search.catch_up(session, pause=pause)
"""


def wait_for(path, process, seconds=60):
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, "the writer exited before reaching the middle"
        assert time.monotonic() < deadline, "the writer never reached the middle of its write"
        time.sleep(0.05)


def outbox_size():
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(SearchOutbox))


@pytest.mark.live
def test_a_writer_killed_mid_write_loses_nothing(app, make, search_backend, tmp_path):  # noqa: F811
    app.config["SEARCH_CATCH_UP_AFTER_COMMIT"] = False
    topic = make.topic(title="The allotments thread", raw="Who has a plot?")
    replies = [make.reply(topic, raw=f"Allotment plot number {n} is free.") for n in range(12)]
    waiting = outbox_size()
    assert waiting >= 13

    marker = tmp_path / "mid-write"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(app.config["SQLALCHEMY_DATABASE_URI"]),
         search_backend, app.config["SEARCH_INDEX_DIR"], str(marker)],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        wait_for(marker, writer)
        os.kill(writer.pid, signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
    finally:
        if writer.poll() is None:
            writer.kill()

    # Nothing of the half-done write shows, and nothing of the work is gone.
    assert outbox_size() == waiting
    assert search.query("allotment", Anonymous()).results == []

    # The next writer gets the lock the dead one held and applies everything.
    with worker_session() as session:
        assert search.catch_up(session) == waiting
    hits = {r["id"] for r in search.query("allotment type:post", Anonymous(), per_page=50).results}
    assert hits == {p.id for p in replies}
    assert_consistent()


def _workers(master_pid):
    path = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in path.read_text().split()]


@pytest.mark.live
def test_gunicorn_workers_write_at_once_and_one_is_killed(app, make, search_backend,  # noqa: F811
                                                          tmp_path):
    """Replies through four gunicorn workers at once, each catching the index up after its
    commit; one worker is killed along the way. Afterwards the index holds every reply that was
    committed, once the outbox is caught up."""
    topic_id = make.topic(title="Street parties this summer", raw="Where and when?").id
    names = [make.user().username for _ in range(8)]
    key = secrets.token_hex(32)
    db.session.add(ApiKey(key_hash=ApiKey.hash(key), truncated=key[:4], description="test"))
    db.session.commit()
    server = start_server(str(app.config["SQLALCHEMY_DATABASE_URI"]), workers=4, extra_env={
        "SEARCH_BACKEND": search_backend, "SEARCH_CATCH_UP_AFTER_COMMIT": "1",
        "TEST_SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"]})

    def reply(n):
        body = json.dumps({"topic_id": topic_id, "raw": f"Bunting on street {n}."}).encode()
        request = urllib.request.Request(
            server.url + "/posts.json", data=body, method="POST",
            headers={"Api-Key": key, "Api-Username": names[n % len(names)],
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return "killed"  # the worker that had it died

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            first = list(pool.map(reply, range(24)))
            os.kill(_workers(server.process.pid)[0], signal.SIGKILL)
            second = list(pool.map(reply, range(24, 48)))
    finally:
        server.stop()
    statuses = first + second
    assert statuses.count(200) >= 40, statuses
    assert not [s for s in statuses if s not in (200, "killed")], statuses

    with worker_session() as session:
        search.catch_up(session)
    committed = set(db.session.scalars(select(Post.id).where(Post.topic_id == topic_id,
                                                             Post.post_number > 1)))
    found = {r["id"] for page in (1, 2, 3) for r in search.query(
        "bunting type:post", Anonymous(), page=page, per_page=20).results}
    assert found == committed and len(committed) >= statuses.count(200)
    assert_consistent()
