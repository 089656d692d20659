"""Many votes at once against several server processes: counts equal the rows, no duplicates,
no errors. Runs on SQLite (file, WAL) and on PostgreSQL."""
import json
import secrets
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Amendment, AmendmentVote, ApiKey, Proposal, ProposalSupport


def all_users_key():
    key = secrets.token_hex(32)
    db.session.add(ApiKey(key_hash=ApiKey.hash(key), truncated=key[:4], description="test"))
    db.session.commit()
    return key


def call(server, key, username, method, path, body=None):
    request = urllib.request.Request(
        server.url + path, method=method, data=json.dumps(body or {}).encode(),
        headers={"Api-Key": key, "Api-Username": username, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.live
def test_concurrent_votes_keep_counts_equal_to_rows(app, make, live_server):
    proposal = make.proposal()
    items = [make.amendment(proposal) for _ in range(3)]
    voters = [make.user().username for _ in range(24)]
    key = all_users_key()
    jobs = []
    for n, name in enumerate(voters):
        for item in items:
            if n % 4 == 0:    # the same vote twice at once
                jobs += [(name, item.id, 1), (name, item.id, 1)]
            elif n % 4 == 1:  # flipping
                jobs += [(name, item.id, 1), (name, item.id, -1), (name, item.id, 1)]
            elif n % 4 == 2:  # vote then withdraw
                jobs += [(name, item.id, -1), (name, item.id, 0)]
            else:
                jobs += [(name, item.id, -1)]
        jobs.append((name, "support", proposal.id))
    start = threading.Barrier(16)

    def fire(job):
        name, target, value = job
        try:
            start.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass
        if target == "support":
            return call(live_server, key, name, "POST", f"/proposals/{value}/support.json")
        return call(live_server, key, name, "PUT", f"/amendments/{target}/vote.json",
                    {"value": value})

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(fire, jobs))
    assert statuses.count(200) == len(statuses), sorted(set(statuses))

    db.session.rollback()  # end this session's read snapshot; see what the servers wrote
    for item in items:
        row = db.session.get(Amendment, item.id)
        up = db.session.scalar(select(func.count()).select_from(AmendmentVote).where(
            AmendmentVote.amendment_id == item.id, AmendmentVote.value == 1))
        down = db.session.scalar(select(func.count()).select_from(AmendmentVote).where(
            AmendmentVote.amendment_id == item.id, AmendmentVote.value == -1))
        assert (row.up_count, row.down_count) == (up, down)
        # Requests by one member run at once, so their order is not known: doubles end up,
        # the steady ones down, flippers either way, and vote-then-withdraw down or none.
        assert up >= 6 and down >= 6 and 18 <= up + down <= 24
    supports = db.session.scalar(select(func.count()).select_from(ProposalSupport))
    assert db.session.get(Proposal, proposal.id).support_count == supports == 24


@pytest.mark.live  # SQLite in a file: an in-memory database has a single connection
def test_a_vote_landing_while_another_commits_is_counted(app, make, engine_name):
    """Two members vote on one item; the first transaction is held open just before commit.

    The second must wait for it and then count both rows. Without the row lock taken first,
    PostgreSQL's second recount would read a snapshot from before the first commit.
    """
    import time

    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from forum.models import User
    from forum.services import voting

    item = make.amendment(make.proposal())
    first, second = make.user().id, make.user().id
    held = threading.Event()

    def slow_commit(session):
        if session.info.get("hold"):
            held.set()
            time.sleep(0.6)

    event.listen(Session, "before_commit", slow_commit)
    errors = []

    def vote(user_id, hold):
        with app.app_context():
            try:
                db.session.info["hold"] = hold
                voting.cast_vote(db.session.get(User, user_id), item.id, 1)
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    try:
        a = threading.Thread(target=vote, args=(first, True))
        a.start()
        held.wait(5)
        b = threading.Thread(target=vote, args=(second, False))
        b.start()
        a.join()
        b.join()
    finally:
        event.remove(Session, "before_commit", slow_commit)
    assert not errors
    db.session.rollback()
    assert db.session.get(Amendment, item.id).up_count == 2
