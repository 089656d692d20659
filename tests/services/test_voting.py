"""Voting: one test per transition, counts from the rows, and the refusals."""
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from forum.errors import PermissionDenied, ValidationFailed
from forum.extensions import db
from forum.models import Amendment, AmendmentVote, Proposal, utcnow
from forum.ranking import wilson_lower_bound
from forum.services import voting


@pytest.fixture
def item(make):
    return make.amendment(make.proposal())


def stored(item):
    db.session.expire_all()
    row = db.session.get(Amendment, item.id)
    return row.up_count, row.down_count


def my_vote(user, item):
    return voting.my_votes(user, [item.id]).get(item.id, 0)


def test_none_to_up(make, item):
    voter = make.user()
    voting.cast_vote(voter, item.id, 1)
    assert stored(item) == (1, 0) and my_vote(voter, item) == 1


def test_none_to_down(make, item):
    voter = make.user()
    voting.cast_vote(voter, item.id, -1)
    assert stored(item) == (0, 1) and my_vote(voter, item) == -1


def test_up_to_down_and_back(make, item):
    voter = make.user()
    voting.cast_vote(voter, item.id, 1)
    voting.cast_vote(voter, item.id, -1)
    assert stored(item) == (0, 1)
    voting.cast_vote(voter, item.id, "1")
    assert stored(item) == (1, 0)


def test_withdraw_a_vote(make, item):
    voter = make.user()
    voting.cast_vote(voter, item.id, -1)
    voting.cast_vote(voter, item.id, 0)
    assert stored(item) == (0, 0) and my_vote(voter, item) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(AmendmentVote)) == 0


def test_same_vote_twice_counts_once(make, item):
    voter = make.user()
    voting.cast_vote(voter, item.id, 1)
    voting.cast_vote(voter, item.id, 1)
    assert stored(item) == (1, 0)


def test_no_vote_to_none_changes_nothing(make, item):
    voting.cast_vote(make.user(), item.id, 0)
    assert stored(item) == (0, 0)


def test_score_is_the_wilson_bound_of_the_rows(make, item):
    for value in (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1):
        voting.cast_vote(make.user(), item.id, value)
    db.session.expire_all()
    row = db.session.get(Amendment, item.id)
    assert (row.up_count, row.down_count) == (10, 2)
    assert round(row.score, 4) == 0.5520 == round(wilson_lower_bound(10, 2), 4)


def test_bad_values_refused(make, item):
    for value in (2, "up", None, True, 0.5):
        with pytest.raises(ValidationFailed):
            voting.cast_vote(make.user(), item.id, value)


def test_never_on_your_own_item(item):
    with pytest.raises(PermissionDenied, match="your own"):
        voting.cast_vote(item.user, item.id, 1)


def test_refused_after_the_window_closes_even_before_advance(make, item):
    process = db.session.get(Proposal, item.proposal_id).process
    process.amendments_close_at = utcnow() - timedelta(seconds=1)
    process.proposals_close_at = process.amendments_close_at - timedelta(days=1)
    db.session.commit()
    with pytest.raises(PermissionDenied, match="window has closed"):
        voting.cast_vote(make.user(), item.id, 1)
    assert stored(item) == (0, 0)


def test_the_vote_reads_the_locked_row_not_what_the_request_read_before(make, item):
    """Another worker withdrew the item after this request loaded it: the vote is refused."""
    voter = make.user()
    db.session.execute(update(Amendment).where(Amendment.id == item.id)
                       .values(status="withdrawn"))
    db.session.commit()
    # What this request read before the other worker's change, still held in its session.
    set_committed_value(db.session.get(Amendment, item.id), "status", "open")
    with pytest.raises(PermissionDenied, match="withdrawn"):
        voting.cast_vote(voter, item.id, 1)
    assert stored(item) == (0, 0)


def test_ineligible_members_cannot_vote(make):
    proposal = make.proposal(make.process(scope="wales"))
    item = make.amendment(proposal, user=make.user(nation="wales"))
    with pytest.raises(PermissionDenied, match="Wales"):
        voting.cast_vote(make.user(nation="scotland"), item.id, 1)
    voting.cast_vote(make.user(nation="wales"), item.id, 1)
    assert stored(item) == (1, 0)
