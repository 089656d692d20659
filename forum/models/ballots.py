"""Ballots: the final texts put to all members, snapshotted with their provenance."""
from ..extensions import db
from .types import UTCDateTime, utcnow


class Ballot(db.Model):
    __tablename__ = "ballots"
    id = db.Column(db.Integer, primary_key=True)
    process_id = db.Column(db.Integer, db.ForeignKey("processes.id"), nullable=False,
                           unique=True)
    status = db.Column(db.String(16), nullable=False, default="draft")
    promoted_at = db.Column(UTCDateTime, nullable=True)
    published_at = db.Column(UTCDateTime, nullable=True)
    published_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=True)
    # The exact bytes of export.json, fixed at publication, and their SHA-256.
    export_json = db.Column(db.Text, nullable=True)
    export_sha256 = db.Column(db.String(64), nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    process = db.relationship("Process")
    items = db.relationship("BallotItem", order_by="BallotItem.position",
                            back_populates="ballot")

    __table_args__ = (db.CheckConstraint("status in ('draft', 'promoted', 'published')",
                                         name="status"),)


class BallotItem(db.Model):
    __tablename__ = "ballot_items"
    id = db.Column(db.Integer, primary_key=True)
    ballot_id = db.Column(db.Integer, db.ForeignKey("ballots.id"), nullable=False)
    proposal_id = db.Column(db.Integer, db.ForeignKey("proposals.id"), nullable=False,
                            unique=True)
    position = db.Column(db.Integer, nullable=False)
    title = db.Column(db.String(200), nullable=False)
    text = db.Column(db.Text, nullable=True)
    sha256 = db.Column(db.String(64), nullable=True)
    provenance = db.Column(db.JSON, nullable=True)
    outcome = db.Column(db.String(16), nullable=True)
    outcome_at = db.Column(UTCDateTime, nullable=True)

    ballot = db.relationship(Ballot, back_populates="items")
    proposal = db.relationship("Proposal")

    __table_args__ = (
        db.UniqueConstraint("ballot_id", "position"),
        db.CheckConstraint("outcome is null or outcome in ('adopted', 'not_adopted')",
                           name="outcome"),
    )
