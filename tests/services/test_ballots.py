"""Promotion and publication: the right role at the right phase, and a ballot that never
changes once published."""
from datetime import timedelta

import pytest

from forum.errors import Conflict, PermissionDenied, ValidationFailed
from forum.extensions import db
from forum.models import Ballot, Process, Proposal, utcnow
from forum.services import ballots, cycle, deliberation


def to_ballot_phase(process):
    now = utcnow()
    row = db.session.get(Process, process.id)
    row.proposals_close_at = now - timedelta(days=3)
    row.amendments_close_at = now - timedelta(days=2)
    row.labs_close_at = now - timedelta(days=1)
    db.session.commit()
    cycle.advance_all()


@pytest.fixture
def ready(make):
    process = make.process(support_threshold=2)
    popular, unpopular = make.proposal(process), make.proposal(process)
    for _ in range(2):
        deliberation.support_proposal(make.user(), popular.id)
    ballot = db.session.scalar(db.select(Ballot).where(Ballot.process_id == process.id))
    return process, ballot, popular, unpopular


def test_promotion_needs_an_admin_and_the_ballot_phase(make, ready):
    process, ballot, popular, unpopular = ready
    with pytest.raises(PermissionDenied):
        ballots.promote(make.user(role="moderator"), ballot.id)
    with pytest.raises(Conflict, match="proposals phase"):
        ballots.promote(make.admin(), ballot.id)
    to_ballot_phase(process)
    ballots.promote(make.admin(), ballot.id)
    assert db.session.get(Proposal, popular.id).status == "on_ballot"
    row = db.session.get(Proposal, unpopular.id)
    assert row.status == "not_qualified"
    assert row.status_reason == "Not on the ballot: it had 0 supports and needed 2."
    with pytest.raises(Conflict, match="promoted"):
        ballots.promote(make.admin(), ballot.id)


def test_published_ballot_is_immutable(make, ready, runner, tmp_path):
    process, ballot, popular, _ = ready
    admin = make.admin()
    with pytest.raises(Conflict, match="draft: promote"):
        ballots.publish(admin, ballot.id)
    to_ballot_phase(process)
    ballots.promote(admin, ballot.id)
    with pytest.raises(Conflict, match="outcomes follow publication"):
        ballots.record_outcome(admin, db.session.get(Ballot, ballot.id).items[0].id, "adopted")
    published = ballots.publish(admin, ballot.id)
    frozen = published.export_json
    with pytest.raises(Conflict, match="cannot change"):
        ballots.publish(admin, ballot.id)
    with pytest.raises(ValidationFailed):
        ballots.record_outcome(admin, published.items[0].id, "maybe")
    ballots.record_outcome(admin, published.items[0].id, "adopted")
    assert db.session.get(Ballot, ballot.id).export_json == frozen
    assert db.session.get(Proposal, popular.id).status == "adopted"

    result = runner.invoke(args=["forum", "export-ballot", str(ballot.id), "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"ballot-{ballot.id}.json").read_text(encoding="utf-8") == frozen
    assert (tmp_path / f"ballot-{ballot.id}.blt").read_text().startswith("1 1\n0\n")
    assert published.export_sha256 in result.output


def test_no_qualifying_proposal_means_nothing_to_publish(make):
    process = make.process(support_threshold=5)
    make.proposal(process)
    ballot = db.session.scalar(db.select(Ballot).where(Ballot.process_id == process.id))
    to_ballot_phase(process)
    ballots.promote(make.admin(), ballot.id)
    with pytest.raises(Conflict, match="nothing to put on the ballot"):
        ballots.publish(make.admin(), ballot.id)


def test_a_ballot_adopts_no_more_proposals_than_it_has_seats(make):
    process = make.process(kind="priority_campaign", support_threshold=1)
    first, second = make.proposal(process), make.proposal(process)
    for proposal in (first, second):
        deliberation.support_proposal(make.user(), proposal.id)
    ballot = db.session.scalar(db.select(Ballot).where(Ballot.process_id == process.id))
    admin = make.admin()
    to_ballot_phase(process)
    ballots.promote(admin, ballot.id)
    items = {i.proposal_id: i.id for i in ballots.publish(admin, ballot.id).items}
    ballots.record_outcome(admin, items[first.id], "adopted")
    with pytest.raises(Conflict, match="adopts one proposal, and “.+” is adopted already"):
        ballots.record_outcome(admin, items[second.id], "adopted")
    assert db.session.get(Proposal, second.id).status == "on_ballot"
    assert db.session.get(Process, process.id).phase != "closed"
    # The winner changes only by recording the first as not adopted.
    ballots.record_outcome(admin, items[first.id], "not_adopted")
    ballots.record_outcome(admin, items[second.id], "adopted")
    assert db.session.get(Proposal, second.id).status == "adopted"
    assert db.session.get(Process, process.id).phase == "closed"


def test_a_promoted_ballot_can_be_read_in_full_before_it_is_published(client, make, ready):
    process, ballot, popular, unpopular = ready
    admin = make.admin()
    to_ballot_phase(process)
    ballots.promote(admin, ballot.id)
    page = client.get(f"/ballots/{ballot.id}").get_data(as_text=True)
    assert "The final text as it will be published, and where it came from" in page
    # Cooked and numbered, as the proposal page shows it, with the Markdown that will be hashed.
    assert '<div class="ptext cooked"><h3>Homes</h3></div>' in page
    assert "<pre class=\"result\"># Homes\n\nWe will build council homes at scale." in page
    assert "SHA-256 of the text" not in page
    left_off = page.split('id="left-off-title"', 1)[1]
    assert f">{unpopular.title}</a>: Not on the ballot: it had 0 supports and needed 2." \
        in left_off and popular.title not in left_off
    ballots.publish(admin, ballot.id)
    page = client.get(f"/ballots/{ballot.id}").get_data(as_text=True)
    assert "SHA-256 of the text" in page and "Final text and where it came from" in page
    assert '<div class="ptext cooked"><h3>Homes</h3></div>' in page


def test_a_published_ballot_page_runs_the_same_statements_for_one_item_or_several(
        client, make, count_queries):
    counts = []
    for proposals in (1, 3):
        process = make.process(support_threshold=1)
        for _ in range(proposals):
            deliberation.support_proposal(make.user(), make.proposal(process).id)
        ballot = db.session.scalar(db.select(Ballot).where(Ballot.process_id == process.id))
        admin = make.admin()
        to_ballot_phase(process)
        ballots.promote(admin, ballot.id)
        ballots.publish(admin, ballot.id)
        path = f"/ballots/{ballot.id}"
        with count_queries() as counted_statements:
            page = client.get(path)
        assert page.status_code == 200
        assert page.get_data(as_text=True).count("SHA-256 of the text") == proposals
        counts.append(len(counted_statements))
    assert counts[0] == counts[1], counts
