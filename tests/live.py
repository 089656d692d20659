"""A live server: the app under gunicorn with several workers on a loopback port, sharing the
test's database (SQLite in a file, or PostgreSQL)."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, url, process):
        self.url = url
        self.process = process

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(database_url, workers=4, extra_env=None):
    port = free_port()
    env = dict(os.environ, FORUM_ENV="testing", TEST_DATABASE_URL=database_url,
               PYTHONPATH=str(ROOT), **(extra_env or {}))
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    # --preload: the app is built once, before the workers fork, so every worker is ready as
    # soon as the first answers (a burst meant for several workers reaches several), and the
    # workers do not each spend a second of CPU importing it. Not with Redis: the rate
    # limiter's Redis client is made while the app is built, and each worker should make its
    # own, as in production.
    preload = [] if env.get("REDIS_URL") else ["--preload"]
    process = subprocess.Popen(
        [gunicorn, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "60",
         *preload, "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/categories.json", timeout=2)
            # The first worker answers; a burst meant for several needs them all at accept().
            # On a busy machine the others can take a second to be scheduled after the fork.
            while len(_children(process.pid)) < workers and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1)
            return LiveServer(url, process)
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("the server exited on start") from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start within 30 seconds")


def _children(pid):
    """The processes whose parent is `pid` (gunicorn's workers, for its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command may hold spaces and brackets; the fields after the last ")" do not.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.fixture
def live_server(app):
    """Needs @pytest.mark.live on the test, so that SQLite lives in a file."""
    server = start_server(str(app.config["SQLALCHEMY_DATABASE_URI"]))
    yield server
    server.stop()
