"""Processes, proposals and their versions, amendments and clarifications, votes, supports."""
from ..extensions import db
from .types import UTCDateTime, utcnow

PROCESS_KINDS = ("priority_campaign", "policy_priorities")
SCOPES = ("uk", "scotland", "wales")
PHASES = ("proposals", "labs", "ballot", "closed")
PROPOSAL_STATUSES = ("draft", "open", "in_lab", "final", "on_ballot", "adopted", "not_adopted",
                     "withdrawn", "not_qualified")
ITEM_KINDS = ("amendment", "clarification")
ITEM_STATUSES = ("open", "in_lab", "accepted", "composited", "rejected", "answered",
                 "not_selected", "withdrawn")


def _in(column, values):
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class Process(db.Model):
    """One round of one decision, e.g. "Priority Campaign 2027 — Wales"."""

    __tablename__ = "processes"
    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(32), nullable=False)
    scope = db.Column(db.String(16), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    slug = db.Column(db.String(200), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    seats = db.Column(db.Integer, nullable=False, default=1)
    phase = db.Column(db.String(16), nullable=False, default="proposals")
    proposals_close_at = db.Column(UTCDateTime, nullable=False)
    amendments_close_at = db.Column(UTCDateTime, nullable=False)
    labs_close_at = db.Column(UTCDateTime, nullable=False)
    support_threshold = db.Column(db.Integer, nullable=False, default=10)
    lab_min_votes = db.Column(db.Integer, nullable=False, default=3)
    lab_intake_max = db.Column(db.Integer, nullable=False, default=10)
    lab_clarifications_max = db.Column(db.Integer, nullable=False, default=5)
    category_id = db.Column(db.Integer, db.ForeignKey("categories.id"), nullable=False)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    category = db.relationship("Category")

    __table_args__ = (
        db.CheckConstraint(_in("kind", PROCESS_KINDS), name="kind"),
        db.CheckConstraint(_in("scope", SCOPES), name="scope"),
        db.CheckConstraint(_in("phase", PHASES), name="phase"),
        db.CheckConstraint("proposals_close_at <= amendments_close_at "
                           "AND amendments_close_at <= labs_close_at", name="deadlines"),
    )


class Proposal(db.Model):
    __tablename__ = "proposals"
    id = db.Column(db.Integer, primary_key=True)
    process_id = db.Column(db.Integer, db.ForeignKey("processes.id"), nullable=False, index=True)
    topic_id = db.Column(db.Integer, db.ForeignKey("topics.id"), nullable=False, unique=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    section_id = db.Column(db.Integer, db.ForeignKey("sections.id"), nullable=True)
    title = db.Column(db.String(200), nullable=False)
    summary = db.Column(db.Text, nullable=False)
    status = db.Column(db.String(16), nullable=False, default="open")
    status_reason = db.Column(db.Text, nullable=False, default="")
    # Points at the newest published version; circular with ProposalVersion, so added later.
    current_version_number = db.Column(db.Integer, nullable=False, default=1)
    support_count = db.Column(db.Integer, nullable=False, default=0)
    amendment_count = db.Column(db.Integer, nullable=False, default=0)
    clarification_count = db.Column(db.Integer, nullable=False, default=0)
    window_closed_at = db.Column(UTCDateTime, nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    # "unnested": see Topic.category.
    process = db.relationship(Process, lazy="joined", innerjoin="unnested")
    topic = db.relationship("Topic")
    user = db.relationship("User")
    section = db.relationship("Section")

    __table_args__ = (db.CheckConstraint(_in("status", PROPOSAL_STATUSES), name="status"),)


class ProposalVersion(db.Model):
    """An immutable text of a proposal: v1 as proposed, later ones published by its lab."""

    __tablename__ = "proposal_versions"
    id = db.Column(db.Integer, primary_key=True)
    proposal_id = db.Column(db.Integer, db.ForeignKey("proposals.id", ondelete="CASCADE"),
                            nullable=False)
    number = db.Column(db.Integer, nullable=False)
    body = db.Column(db.Text, nullable=False)
    # Cooked HTML of each numbered paragraph, in order, so pages never cook on read.
    paragraphs_cooked = db.Column(db.JSON, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    cook_version = db.Column(db.Integer, nullable=False)
    note = db.Column(db.Text, nullable=False, default="")
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    created_by = db.relationship("User")

    __table_args__ = (db.UniqueConstraint("proposal_id", "number"),)


class Amendment(db.Model):
    """An amendment (replacement text for paragraphs start..end) or a clarification (a question
    anchored to that range). Insertion is the empty range start = end + 1."""

    __tablename__ = "amendments"
    id = db.Column(db.Integer, primary_key=True)
    proposal_id = db.Column(db.Integer, db.ForeignKey("proposals.id", ondelete="CASCADE"),
                            nullable=False)
    version_number = db.Column(db.Integer, nullable=False)
    kind = db.Column(db.String(16), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    start = db.Column(db.Integer, nullable=False)
    end = db.Column(db.Integer, nullable=False)
    text = db.Column(db.Text, nullable=False, default="")
    text_cooked = db.Column(db.Text, nullable=False, default="")
    # The word-level redline of the range, [[op, text], ...], computed once at write time.
    redline = db.Column(db.JSON, nullable=False, default=list)
    rationale = db.Column(db.Text, nullable=False, default="")
    rationale_cooked = db.Column(db.Text, nullable=False, default="")
    cook_version = db.Column(db.Integer, nullable=False)
    # Identifies the change itself, so a member cannot open the same change twice.
    change_key = db.Column(db.String(64), nullable=False)
    status = db.Column(db.String(16), nullable=False, default="open")
    status_reason = db.Column(db.Text, nullable=False, default="")
    # Counts and score are recomputed from amendment_votes by services.voting.cast_vote.
    up_count = db.Column(db.Integer, nullable=False, default=0)
    down_count = db.Column(db.Integer, nullable=False, default=0)
    score = db.Column(db.Float, nullable=False, default=0.0)
    controversy = db.Column(db.Float, nullable=False, default=0.0)
    answer = db.Column(db.Text, nullable=True)
    answer_cooked = db.Column(db.Text, nullable=True)
    answered_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=True)
    answered_at = db.Column(UTCDateTime, nullable=True)
    hidden_at = db.Column(UTCDateTime, nullable=True)
    hidden_reason = db.Column(db.Text, nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    proposal = db.relationship(Proposal)
    user = db.relationship("User", foreign_keys=[user_id])
    answered_by = db.relationship("User", foreign_keys=[answered_by_id])

    __table_args__ = (
        db.CheckConstraint(_in("kind", ITEM_KINDS), name="kind"),
        db.CheckConstraint(_in("status", ITEM_STATUSES), name="status"),
        db.CheckConstraint('start >= 1 AND "end" >= start - 1', name="range"),
        db.Index("ix_amendments_proposal_rank", "proposal_id", "kind", "score"),
        # One open item per member per identical change to the same proposal.
        db.Index("uq_amendments_open_change", "user_id", "proposal_id", "change_key", unique=True,
                 sqlite_where=db.text("status = 'open'"),
                 postgresql_where=db.text("status = 'open'")),
    )

    @property
    def votes(self):
        return self.up_count + self.down_count


class AmendmentVote(db.Model):
    """One member's +1 or -1 on one amendment or clarification; the key makes it one."""

    __tablename__ = "amendment_votes"
    amendment_id = db.Column(db.Integer, db.ForeignKey("amendments.id", ondelete="CASCADE"),
                             primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True, index=True)
    value = db.Column(db.SmallInteger, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (db.CheckConstraint("value in (1, -1)", name="value"),)


class ProposalSupport(db.Model):
    __tablename__ = "proposal_supports"
    proposal_id = db.Column(db.Integer, db.ForeignKey("proposals.id", ondelete="CASCADE"),
                            primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True, index=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
