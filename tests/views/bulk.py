"""Bulk rows for volume tests: the first ones through the services, the rest inserted fast."""
from forum.extensions import db
from forum.models import Amendment, AmendmentVote, utcnow
from forum.ranking import controversy, wilson_lower_bound


def add_amendments(make, proposal, count, voter=None):
    """`count` amendments on paragraph 2, each with one vote by `voter` when given."""
    template = make.amendment(proposal)  # one through the service, as a pattern
    now = utcnow()
    rows = []
    for n in range(count - 1):
        up = n % 7
        down = n % 3
        rows.append(Amendment(
            proposal_id=proposal.id, version_number=1, kind="amendment" if n % 4 else
            "clarification", user_id=template.user_id, start=2, end=2,
            text=f"Bulk paragraph {n} {now.timestamp()}", text_cooked=f"<p>Bulk {n}</p>",
            rationale="Volume.", rationale_cooked="<p>Volume.</p>", redline=[["+", "x"]],
            cook_version=1, change_key=f"bulk-{n}-{now.timestamp()}", status="open",
            up_count=up, down_count=down, score=wilson_lower_bound(up, down),
            controversy=controversy(up, down), created_at=now, updated_at=now))
    db.session.add_all(rows)
    db.session.flush()
    if voter is not None:
        db.session.add_all(AmendmentVote(amendment_id=row.id, user_id=voter.id, value=1)
                           for row in rows)
    db.session.commit()
