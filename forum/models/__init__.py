"""The data model, one module per domain; importing this package registers every table."""
from .types import utcnow  # noqa: F401
from .users import (  # noqa: F401
    ApiKey, Group, Nation, Section, SectionMembership, User, UserSession,
)
from .forum import Category, Post, PostLike, PostRevision, Topic, TopicUser  # noqa: F401
from .moderation import AuditEvent, Flag, ReviewItem  # noqa: F401
from .deliberation import (  # noqa: F401
    Amendment, AmendmentVote, Process, Proposal, ProposalSupport, ProposalVersion,
)
from .labs import IntakeEntry, LabDecision, LabDecisionItem, LabMember, PolicyLab  # noqa: F401
from .ballots import Ballot, BallotItem  # noqa: F401
from .notifications import (  # noqa: F401
    EmailPreference, MailOutbox, Notification, ProcessNotificationLevel, TopicNotificationLevel,
)
from .search import SearchDocument, SearchOutbox  # noqa: F401
