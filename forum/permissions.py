"""Who may do what: the only place that decides. Each check returns a Verdict.

Checks read as lists of early returns, one reason per line. Visitors are an Anonymous
stand-in, so callers never test for None.
"""
from flask_login import AnonymousUserMixin

from .models.types import utcnow


class Verdict:
    """Truthy when allowed; when refused, carries the reason a person will read."""

    __slots__ = ("allowed", "reason")

    def __init__(self, allowed, reason=""):
        self.allowed = allowed
        self.reason = reason

    def __bool__(self):
        return self.allowed

    def __repr__(self):
        return "ALLOW" if self.allowed else f"DENY({self.reason!r})"


ALLOW = Verdict(True)


def deny(reason):
    return Verdict(False, reason)


class Anonymous(AnonymousUserMixin):
    id = None
    username = ""
    role = None
    nation = None
    is_admin = False
    is_staff = False
    is_verified = False

    def is_silenced(self, now=None):
        return False

    def is_suspended(self, now=None):
        return False


class Console:
    """The operator at the command line. Shell access to the server already grants every
    power, so `flask forum ...` commands act with an admin's rights; audit events record
    no actor for them."""

    id = None
    username = "console"
    role = "admin"
    nation = None
    is_authenticated = True
    is_admin = True
    is_staff = True
    is_verified = True

    def is_silenced(self, now=None):
        return False

    def is_suspended(self, now=None):
        return False


CONSOLE = Console()

SIGN_IN = "Sign in to do that."


def can_participate(user):
    """May this account write anything at all?"""
    now = utcnow()
    if not user.is_authenticated:
        return deny(SIGN_IN)
    if user.is_suspended(now):
        return deny("Your account is suspended.")
    if not user.is_verified:
        return deny("Confirm your email address first: we sent you a link.")
    if user.is_silenced(now):
        return deny(silenced_reason(user))
    return ALLOW


def silenced_reason(user):
    """What a silenced member reads wherever they cannot write: until when, and why."""
    until = user.silenced_until.strftime("%-d %b %Y %H:%M UTC")
    why = f" The moderators' reason: {user.silence_reason.rstrip('.')}." \
        if user.silence_reason else ""
    return f"Your account is silenced until {until}: you can read but not post.{why}"


# -- topics and posts ------------------------------------------------------------------

def can_see_topic(user, topic):
    if topic.deleted_at is not None and not user.is_staff:
        return deny("This topic was deleted.")
    return ALLOW


def can_create_topic(user, category):
    if not (verdict := can_participate(user)):
        return verdict
    if category.topic_creators == "admins" and not user.is_admin:
        return deny(f"Only admins start topics in {category.name}.")
    if category.topic_creators == "moderators" and not user.is_staff:
        return deny(f"Only moderators start topics in {category.name}.")
    return ALLOW


def can_reply(user, topic):
    if not (verdict := can_participate(user)):
        return verdict
    if topic.deleted_at is not None:
        return deny("This topic was deleted.")
    if topic.hidden_at is not None and not user.is_staff:
        return deny("This topic is hidden pending review.")
    if topic.closed and not user.is_staff:
        why = f" The moderators' reason: {topic.closed_reason.rstrip('.')}." \
            if topic.closed_reason else ""
        return deny(f"This topic is closed: no new replies.{why}")
    if topic.kind == "lab":
        return _lab_room_verdict(user, topic)
    return ALLOW


def can_edit_post(user, post):
    if not (verdict := can_participate(user)):
        return verdict
    if user.is_staff:
        return ALLOW
    if post.user_id != user.id:
        return deny("You can only edit your own posts.")
    if post.deleted_at is not None:
        return deny("This post was withdrawn.")
    if post.topic.closed:
        return deny("This topic is closed.")
    return ALLOW


def can_delete_post(user, post):
    if not user.is_authenticated:
        return deny(SIGN_IN)
    if post.deleted_at is not None:
        return deny("This post is already withdrawn.")
    if post.post_number == 1:
        return deny("The first post opens the topic; edit it instead.")
    if user.is_staff:
        return ALLOW
    if post.user_id != user.id:
        return deny("You can only withdraw your own posts.")
    if user.is_suspended():
        return deny("Your account is suspended.")
    return ALLOW


def can_like_post(user, post):
    if not (verdict := can_participate(user)):
        return verdict
    if post.user_id == user.id:
        return deny("You cannot like your own post.")
    if post.deleted_at is not None:
        return deny("This post was withdrawn.")
    if post.hidden_at is not None or post.topic.hidden_at is not None:
        return deny("This post is hidden pending review.")
    return ALLOW


def can_read_words(user, kind, thing):
    """May this reader see the words of a post, topic, amendment or clarification wherever a
    page quotes them (its edit form, a flag or hide form, its history)? As the pages that show
    them in place decide: not a withdrawn post or a deleted topic (but for moderators), nor
    anything hidden (but for its author and moderators). A withdrawn amendment stays on its
    proposal's page, so its words stay readable."""
    if kind == "post":
        if not (verdict := can_read_words(user, "topic", thing.topic)):
            return verdict
        if thing.deleted_at is not None and not user.is_staff:
            return deny("This post was withdrawn.")
        if thing.hidden_at is not None and not sees_hidden(user, thing.user_id):
            return deny("This post is hidden pending review.")
        return ALLOW
    if kind == "topic":
        if not (verdict := can_see_topic(user, thing)):
            return verdict
        if thing.hidden_at is not None and not sees_hidden(user, thing.user_id):
            return deny("This topic is hidden pending review.")
        return ALLOW
    proposal_topic = thing.proposal.topic
    if proposal_topic.hidden_at is not None and not sees_hidden(user, proposal_topic.user_id):
        return deny("This proposal is hidden pending review.")
    if thing.hidden_at is not None and not sees_hidden(user, thing.user_id):
        return deny(f"This {thing.kind} is hidden pending review.")
    return ALLOW


# -- people ------------------------------------------------------------------------------

def can_edit_profile(user, target):
    if not user.is_authenticated:
        return deny(SIGN_IN)
    if user.is_suspended():
        return deny("Your account is suspended.")
    if user.id == target.id or user.is_admin:
        return ALLOW
    return deny("You can only edit your own profile.")


def can_see_email(user, target):
    if user.is_authenticated and (user.id == target.id or user.is_admin):
        return ALLOW
    return deny("Email addresses are private.")


def can_manage_sessions(user, target):
    """A member sees and ends only their own signed-in devices."""
    if user.is_authenticated and user.id == target.id:
        return ALLOW
    return deny("Only the member can see and sign out of their own devices.")


# -- moderation --------------------------------------------------------------------------------

def sees_hidden(user, author_id):
    """Hidden words stay readable to their author and to moderators; others read a notice."""
    return user.is_staff or (user.is_authenticated and user.id == author_id)


def can_flag(user, author_id, hidden_at=None, gone=False):
    """May this member flag something written by `author_id`?"""
    if not (verdict := can_participate(user)):
        return verdict
    if author_id == user.id:
        return deny("You cannot flag your own words: edit or withdraw them instead.")
    if gone:
        return deny("This was withdrawn, so there is nothing to flag.")
    if hidden_at is not None:
        return deny("This is already hidden pending review.")
    return ALLOW


def can_moderate(user):
    """Handle the review queue; hide, lock, pin, unlist, move and split."""
    if not user.is_authenticated:
        return deny(SIGN_IN)
    if user.is_suspended():
        return deny("Your account is suspended.")
    if not user.is_staff:
        return deny("Only moderators can do that.")
    return ALLOW


def can_moderate_topic(user, topic):
    if not (verdict := can_moderate(user)):
        return verdict
    if topic.deleted_at is not None:
        return deny("This topic was deleted.")
    return ALLOW


def can_moderate_member(user, target):
    """Silence or suspend a member, or lift it: never oneself, and an admin only by an admin."""
    if not (verdict := can_moderate(user)):
        return verdict
    if target.id == user.id:
        return deny("You cannot silence or suspend yourself.")
    if target.is_admin and not user.is_admin:
        return deny("Moderators cannot act on an admin.")
    return ALLOW


# -- administration ------------------------------------------------------------------------

def can_administer(user):
    """Categories, groups, sections, roles, API keys, settings."""
    if not user.is_authenticated:
        return deny(SIGN_IN)
    if not user.is_admin:
        return deny("Only admins can do that.")
    return ALLOW


def can_change_role(user, target, role):
    if not (verdict := can_administer(user)):
        return verdict
    if target.id == user.id and role != "admin":
        return deny("You cannot remove your own admin role; ask another admin.")
    return ALLOW


def can_create_users_via_api(user):
    return can_administer(user)


# -- processes, proposals, amendments ---------------------------------------------------------

def is_eligible(user, process):
    """UK-wide processes are open to every member; national ones to members of that nation."""
    if process.scope == "uk":
        return ALLOW
    if getattr(user, "nation", None) != process.scope:
        return deny(f"Only members in {process.scope.capitalize()} take part in this process.")
    return ALLOW


def _can_act_in(user, process):
    if not (verdict := can_participate(user)):
        return verdict
    return is_eligible(user, process)


def can_create_process(user):
    return can_administer(user)


def can_edit_process(user, process):
    if not (verdict := can_administer(user)):
        return verdict
    if process.phase == "closed":
        return deny("This process is closed: its record stays as it ran.")
    return ALLOW


def can_create_proposal(user, process):
    if not (verdict := _can_act_in(user, process)):
        return verdict
    if process.phase != "proposals" or utcnow() >= process.proposals_close_at:
        return deny("New proposals closed on "
                    f"{process.proposals_close_at.strftime('%-d %B %Y at %H:%M UTC')}.")
    return ALLOW


def window_open(proposal, now=None):
    """Is the amendment window of this proposal open right now?"""
    return (proposal.status == "open" and proposal.window_closed_at is None
            and (now or utcnow()) < proposal.process.amendments_close_at)


def _window_reason(proposal):
    if proposal.status != "open":
        return f"This proposal is {proposal.status.replace('_', ' ')}: it takes no amendments now."
    return "The amendment window has closed."


def can_support_proposal(user, proposal):
    if not (verdict := _can_act_in(user, proposal.process)):
        return verdict
    if proposal.user_id == user.id:
        return deny("You cannot support your own proposal.")
    if proposal.status not in ("open", "in_lab", "final"):
        return deny(f"This proposal is {proposal.status.replace('_', ' ')}: "
                    "supports are closed.")
    return ALLOW


def can_withdraw_proposal(user, proposal):
    if not user.is_authenticated:
        return deny(SIGN_IN)
    if proposal.user_id != user.id:
        return deny("Only its author can withdraw a proposal.")
    if proposal.status != "open":
        return deny(f"This proposal is {proposal.status.replace('_', ' ')}: "
                    "only open proposals can be withdrawn.")
    if not window_open(proposal):
        # What goes to the lab is settled when the window closes, not when the cycle moves on.
        return deny("The amendment window has closed: the proposal goes on to its lab.")
    return ALLOW


def can_propose_amendment(user, proposal):
    if not (verdict := _can_act_in(user, proposal.process)):
        return verdict
    if not window_open(proposal):
        return deny(_window_reason(proposal))
    return ALLOW


def can_edit_amendment(user, item):
    if not user.is_authenticated:
        return deny(SIGN_IN)
    if item.user_id != user.id:
        return deny(f"Only its author can edit this {item.kind}.")
    if item.status != "open":
        return deny(f"This {item.kind} is {item.status.replace('_', ' ')}.")
    if item.up_count + item.down_count:
        return deny(f"This {item.kind} has votes, so it can no longer be edited; "
                    "withdraw it and propose a new one instead.")
    if not window_open(item.proposal):
        return deny(_window_reason(item.proposal))
    return can_participate(user)


def can_withdraw_amendment(user, item):
    if not user.is_authenticated:
        return deny(SIGN_IN)
    if item.user_id != user.id:
        return deny(f"Only its author can withdraw this {item.kind}.")
    if item.status != "open":
        return deny(f"This {item.kind} is {item.status.replace('_', ' ')}: "
                    "only open items can be withdrawn.")
    if not window_open(item.proposal):
        return deny(_window_reason(item.proposal))
    return ALLOW


def can_vote_on(user, item):
    return vote_checker(user, item.proposal)(item)


def vote_checker(user, proposal):
    """can_vote_on for the items of one proposal, as a function of the item: what depends only
    on the member and the proposal is decided once, for a page listing many items."""
    member = _can_act_in(user, proposal.process)
    window = window_open(proposal)

    def check(item):
        if not member:
            return member
        if item.user_id == user.id:
            return deny(f"You cannot vote on your own {item.kind}.")
        if item.status != "open":
            return deny(f"This {item.kind} is {item.status.replace('_', ' ')}: voting is closed.")
        if item.hidden_at is not None:
            return deny(f"This {item.kind} is hidden pending review.")
        if not window:
            return deny(_window_reason(proposal))
        return ALLOW
    return check


def can_answer_clarification(user, item):
    if not (verdict := can_participate(user)):
        return verdict
    if item.kind != "clarification":
        return deny("Only clarifications are answered.")
    if item.proposal.user_id != user.id:
        return deny("The proposal's author answers its clarifications.")
    if item.status not in ("open", "in_lab"):
        return deny(f"This clarification is {item.status.replace('_', ' ')}.")
    return ALLOW


# -- policy labs and ballots ------------------------------------------------------------------

def is_section_lead(user, section_id):
    if not user.is_authenticated or section_id is None:
        return False
    return any(m.section_id == section_id and m.is_lead for m in user.section_memberships)


def is_lab_lead(user, lab, members=None):
    """Leads of the proposal's section, or leads an admin named for this lab."""
    if not user.is_authenticated:
        return False
    if is_section_lead(user, lab.proposal.section_id):
        return True
    return any(m.user_id == user.id and m.role == "lead" for m in (members or ()))


def can_close_window(user, proposal):
    if not (verdict := can_participate(user)):
        return verdict
    if not (user.is_staff or is_section_lead(user, proposal.section_id)):
        return deny("Only moderators and the section's leads can close a window early.")
    if proposal.user_id == user.id and not user.is_admin:
        return deny("You wrote this proposal: a moderator or another of the section's leads "
                    "closes its window early.")
    if proposal.status != "open":
        return deny(f"This proposal is {proposal.status.replace('_', ' ')}: "
                    "its window is not open.")
    return ALLOW


def can_advance_process(user):
    return can_administer(user)


def can_lead_lab(user, lab, members=None):
    if not (verdict := can_participate(user)):
        return verdict
    if not (is_lab_lead(user, lab, members) or user.is_admin):
        return deny("Only the lab's leads can do that.")
    if lab.status != "open":
        return deny("This lab is finalised: its text is frozen.")
    return ALLOW


def can_decide_items(user, lab, items, members=None):
    """A lead decides on the lab's items, except on their own: nobody judges their own
    amendment. Another lead, or an admin, decides on it."""
    if not (verdict := can_lead_lab(user, lab, members)):
        return verdict
    own = [item.id for item in items if item.user_id == user.id]
    if own and not user.is_admin:
        return deny(f"You wrote #{own[0]}: another of the lab's leads, or an admin, decides "
                    "on it.")
    return ALLOW


def can_post_in_lab(user, lab, members=None):
    if not (verdict := can_participate(user)):
        return verdict
    if lab.status != "open":
        return deny("This lab is finalised.")
    if is_lab_lead(user, lab, members) or user.is_admin:
        return ALLOW
    if not any(m.user_id == user.id for m in (members or ())):
        return deny("Only the lab's leads and invited members post here; everyone can read.")
    return ALLOW


def _lab_room_verdict(user, topic):
    from .extensions import db
    from .models import LabMember, PolicyLab

    lab = db.session.scalar(db.select(PolicyLab).where(PolicyLab.topic_id == topic.id))
    if lab is None:
        return deny("This lab room has no lab.")
    members = db.session.scalars(db.select(LabMember).where(LabMember.lab_id == lab.id)).all()
    return can_post_in_lab(user, lab, members)


def can_manage_ballot(user):
    return can_administer(user)


# -- finding and hearing: search results, feeds, notifications ------------------------------------

def can_see_post(user, post):
    if not (verdict := can_see_topic(user, post.topic)):
        return verdict
    if post.deleted_at is not None:
        return deny("This post was withdrawn.")
    if post.hidden_at is not None and not (user.is_staff or user.id == post.user_id):
        return deny("This post is hidden pending review.")
    return ALLOW


def can_find(user, thing):
    """May search and feeds list this? Only what may be read and is current: never anything
    hidden, withdrawn, deleted or unlisted, whoever asks (staff read those where they are)."""
    from .models import Amendment, Post, Proposal, Topic

    if isinstance(thing, Post):
        if thing.hidden_at is not None:
            return deny("This post is hidden pending review.")
        if not (verdict := can_see_post(user, thing)):
            return verdict
        return can_find(user, thing.topic)
    if isinstance(thing, Topic):
        if not (verdict := can_see_topic(user, thing)):
            return verdict
        if thing.deleted_at is not None:
            return deny("This topic was deleted.")
        if getattr(thing, "hidden_at", None) is not None:
            return deny("This topic is hidden pending review.")
        if not thing.visible:
            return deny("This topic is unlisted.")
        return ALLOW
    if isinstance(thing, Proposal):
        if thing.status in ("draft", "withdrawn"):
            return deny(f"This proposal is {thing.status}.")
        return can_find(user, thing.topic)
    if isinstance(thing, Amendment):
        if thing.status == "withdrawn":
            return deny(f"This {thing.kind} was withdrawn.")
        if thing.hidden_at is not None:
            return deny(f"This {thing.kind} is hidden pending review.")
        return can_find(user, thing.proposal)
    return deny("There is nothing to find here.")


def can_read_notifications(user):
    if not user.is_authenticated:
        return deny(SIGN_IN)
    return ALLOW
