"""Policy labs: the intake as it stood at the close, lab members, decisions."""
from ..extensions import db
from .types import UTCDateTime, utcnow

DECISIONS = ("accept", "composite", "reject", "answer")
LAB_ROLES = ("lead", "expert", "participant")


class PolicyLab(db.Model):
    """The room where a proposal's section leads turn the best amendments into a new text."""

    __tablename__ = "policy_labs"
    id = db.Column(db.Integer, primary_key=True)
    proposal_id = db.Column(db.Integer, db.ForeignKey("proposals.id"), nullable=False,
                            unique=True)
    topic_id = db.Column(db.Integer, db.ForeignKey("topics.id"), nullable=False, unique=True)
    base_version_number = db.Column(db.Integer, nullable=False)
    status = db.Column(db.String(16), nullable=False, default="open")
    opened_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    finalised_at = db.Column(UTCDateTime, nullable=True)

    proposal = db.relationship("Proposal")
    topic = db.relationship("Topic")

    __table_args__ = (db.CheckConstraint("status in ('open', 'finalised')", name="status"),)


class IntakeEntry(db.Model):
    """One ranked item as it stood when the window closed, and whether it was taken in."""

    __tablename__ = "intake_entries"
    id = db.Column(db.Integer, primary_key=True)
    lab_id = db.Column(db.Integer, db.ForeignKey("policy_labs.id", ondelete="CASCADE"),
                       nullable=False, index=True)
    amendment_id = db.Column(db.Integer, db.ForeignKey("amendments.id"), nullable=False)
    kind = db.Column(db.String(16), nullable=False)
    up = db.Column(db.Integer, nullable=False)
    down = db.Column(db.Integer, nullable=False)
    score = db.Column(db.Float, nullable=False)
    rank = db.Column(db.Integer, nullable=False)
    taken = db.Column(db.Boolean, nullable=False)
    reason = db.Column(db.String(200), nullable=False, default="")

    amendment = db.relationship("Amendment")

    __table_args__ = (db.UniqueConstraint("lab_id", "amendment_id"),)


class LabMember(db.Model):
    """Invited experts and participants (and leads chosen by admins when a section has none)."""

    __tablename__ = "lab_members"
    lab_id = db.Column(db.Integer, db.ForeignKey("policy_labs.id", ondelete="CASCADE"),
                       primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True)
    role = db.Column(db.String(16), nullable=False, default="expert")
    invited_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    user = db.relationship("User", foreign_keys=[user_id])

    __table_args__ = (db.CheckConstraint("role in ('lead', 'expert', 'participant')",
                                         name="role"),)


class LabDecision(db.Model):
    """A lead's decision on intake items. accept and composite change the working draft."""

    __tablename__ = "lab_decisions"
    id = db.Column(db.Integer, primary_key=True)
    lab_id = db.Column(db.Integer, db.ForeignKey("policy_labs.id", ondelete="CASCADE"),
                       nullable=False, index=True)
    decision = db.Column(db.String(16), nullable=False)
    # The range of the lab's base version that the draft replaces (accept and composite).
    start = db.Column(db.Integer, nullable=True)
    end = db.Column(db.Integer, nullable=True)
    text = db.Column(db.Text, nullable=False, default="")
    note = db.Column(db.Text, nullable=False, default="")
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # The version that first carried this decision; NULL while it is only in the draft.
    version_number = db.Column(db.Integer, nullable=True)

    user = db.relationship("User")
    items = db.relationship("LabDecisionItem", cascade="all, delete-orphan",
                            order_by="LabDecisionItem.amendment_id")

    __table_args__ = (db.CheckConstraint(
        "decision in ('accept', 'composite', 'reject', 'answer')", name="decision"),)

    @property
    def changes_text(self):
        return self.decision in ("accept", "composite")


class LabDecisionItem(db.Model):
    """Which amendments a decision covers (several for a composite)."""

    __tablename__ = "lab_decision_items"
    decision_id = db.Column(db.Integer, db.ForeignKey("lab_decisions.id", ondelete="CASCADE"),
                            primary_key=True)
    amendment_id = db.Column(db.Integer, db.ForeignKey("amendments.id"), primary_key=True)

    amendment = db.relationship("Amendment")
