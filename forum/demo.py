"""Demo content for a new forum: groups, sections, members, categories and conversations."""
from sqlalchemy import select

from .db import write_transaction
from .extensions import db
from .models import Category, Group, Section, SectionMembership, User
from .services import accounts, amendments, deliberation, posts, voting
from .services.posts import slugify

DEMO_PASSWORD = "demo-password-2026"

GROUPS = [("Bristol", "england"), ("Manchester", "england"), ("Leeds", "england"),
          ("Glasgow", "scotland"), ("Edinburgh", "scotland"), ("Cardiff", "wales"),
          ("Swansea", "wales")]
SECTIONS = [("Housing", "Homes people can afford, and the rights of those who rent them."),
            ("Climate", "Cutting emissions fairly, and adapting where we live."),
            ("Health", "Care that is there when people need it."),
            ("Work", "Pay, conditions and a voice at work.")]
CATEGORIES = [("General", "#0b5f57", "Anything about the organisation that has no better home.",
               "everyone"),
              ("Campaign ideas", "#1d4ed8", "Float an idea before it becomes a proposal.",
               "everyone"),
              ("Local groups", "#7c3aed", "News and questions from groups around the country.",
               "everyone"),
              ("Announcements", "#b45309", "News from the organisers.", "moderators")]
MEMBERS = [("ada", "Ada Admin", "Bristol", "admin"),
           ("morgan", "Morgan Moderator", "Cardiff", "moderator"),
           ("fiona", "Fiona Lead", "Glasgow", "member"),
           ("dylan", "Dylan", "Swansea", "member"),
           ("priya", "Priya", "Manchester", "member"),
           ("callum", "Callum", "Edinburgh", "member"),
           ("sam", "Sam", "Leeds", "member")]
CONVERSATIONS = [
    ("General", "priya", "Welcome: how this forum works",
     "This is where members talk things through before we decide them together.\n\n"
     "* Start a topic in the category that fits.\n* Reply to a post, or quote part of it.\n"
     "* Like the posts that move the conversation on.\n\nBe generous with each other.",
     [("dylan", "Thanks for setting this up. Is there a way to follow just my local group?"),
      ("morgan", "@dylan the **Local groups** category is the place for now; "
                 "open it and bookmark the page.")]),
    ("Campaign ideas", "fiona", "Rent controls: what would a fair cap look like?",
     "Rents in Glasgow rose faster than wages three years running. A cap tied to wages, not "
     "to inflation, would protect tenants without freezing repairs.\n\nWhat have other cities "
     "tried, and what went wrong?",
     [("callum", "Edinburgh's pressure zones were hard to get approved. A national cap would "
                 "avoid council-by-council fights."),
      ("sam", "We should look at how repairs are funded under any cap, or landlords will "
              "let homes decay."),
      ("fiona", "Good point, Sam. Repairs need a ring-fenced part of the rent.")]),
    ("Local groups", "dylan", "Swansea group: first meeting of the season",
     "We meet on the first Thursday of the month at the library. Newcomers are very welcome; "
     "bring a friend.",
     [("priya", "Manchester would love to hear how you run these. Could you write it up?")]),
    ("Announcements", "morgan", "The 2027 Priority Campaign process opens soon",
     "The next cycle starts in the spring. Proposals first, then amendments, then the policy "
     "labs, then the ballot. Start thinking about what matters most to you.", []),
]


def seed():
    if db.session.scalar(select(User.id).limit(1)) is not None or \
            db.session.scalar(select(Group.id).limit(1)) is not None:
        return "The forum already has members or groups: demo content not added."
    with write_transaction():
        groups = {}
        for name, nation in GROUPS:
            group = Group(name=name, slug=slugify(name), nation_code=nation)
            db.session.add(group)
            groups[name] = group
        sections = [Section(name=name, slug=slugify(name), description=text)
                    for name, text in SECTIONS]
        db.session.add_all(sections)
        for position, (name, colour, text, creators) in enumerate(CATEGORIES):
            db.session.add(Category(name=name, slug=slugify(name), color=colour,
                                    description=text, position=position,
                                    topic_creators=creators))
    users = {}
    for username, name, group, role in MEMBERS:
        user = accounts.sign_up(username, f"{username}@example.org", DEMO_PASSWORD, name=name, group_id=groups[group].id,
                                verified=True)
        users[username] = user
    with write_transaction():
        for username, _name, _group, role in MEMBERS:
            db.session.get(User, users[username].id).role = role
        housing = db.session.scalar(select(Section).where(Section.slug == "housing"))
        db.session.add(SectionMembership(section_id=housing.id, user_id=users["fiona"].id,
                                         is_lead=True))
        db.session.add(SectionMembership(section_id=housing.id, user_id=users["callum"].id))
        climate = db.session.scalar(select(Section).where(Section.slug == "climate"))
        db.session.add(SectionMembership(section_id=climate.id, user_id=users["dylan"].id,
                                         is_lead=True))
    categories = {c.name: c for c in db.session.scalars(select(Category))}
    for cat, author, title, body, replies in CONVERSATIONS:
        first = posts.create_topic(users[author], categories[cat].id, title, body)
        for replier, text in replies:
            posts.create_post(users[replier], first.topic_id, text)
    _seed_processes(users)
    return ("Demo forum ready. Sign in at /login as ada (admin), morgan (moderator), "
            f"fiona (section lead), or dylan, priya, callum, sam; every password is "
            f"{DEMO_PASSWORD}")


HOUSING_TEXT = """## What we want

Every town and city builds council homes at scale, on public land, to a high standard.

Rents in council homes are capped at a third of the median local wage.

Tenants get secure tenancies, and no-fault evictions end.

## Paying for it

Councils can buy land at its value without planning permission, and keep the uplift.
"""

BUSES_TEXT = """Bus fares for everyone under 25 are free across Wales.

Councils are paid the full fare for every free journey, so routes are not cut.

Rural routes that were cut since 2015 are restored first.
"""


def _seed_processes(users):
    """A UK-wide process with proposals, amendments and votes, and a Welsh one beside it."""
    from datetime import timedelta

    from .models import Section, utcnow

    now = utcnow()
    housing = db.session.scalar(select(Section).where(Section.slug == "housing"))
    uk = deliberation.create_process(users["ada"], {
        "kind": "policy_priorities", "scope": "uk", "seats": 3, "title": "Policy Priorities 2027",
        "description": "Choose the three policies we campaign on in 2027.",
        "proposals_close_at": now + timedelta(days=14),
        "amendments_close_at": now + timedelta(days=28),
        "labs_close_at": now + timedelta(days=42), "support_threshold": 3})
    wales = deliberation.create_process(users["ada"], {
        "kind": "priority_campaign", "scope": "wales", "title": "Priority Campaign 2027: Wales",
        "proposals_close_at": now + timedelta(days=10),
        "amendments_close_at": now + timedelta(days=20),
        "labs_close_at": now + timedelta(days=30), "support_threshold": 2})
    homes = deliberation.create_proposal(
        users["fiona"], uk.id, "Council homes for every town",
        "Build council homes at scale, with rents capped at a third of local wages.",
        HOUSING_TEXT, section_id=housing.id)
    buses = deliberation.create_proposal(
        users["dylan"], wales.id, "Free buses for under-25s",
        "Young people in Wales ride buses free, and councils are paid the fares.", BUSES_TEXT)
    wider = amendments.propose_item(
        users["priya"], homes.id, "amendment", 3, 3,
        "Rents in council homes are capped at a quarter of the median local wage.",
        "A third is still too much for many families in Manchester.")
    land = amendments.propose_item(
        users["callum"], homes.id, "amendment", 7, 6,
        "Homes are built to Passivhaus standard, so heating bills stay low.",
        "Cheap rent is not enough if the bills are high.")
    question = amendments.propose_item(
        users["sam"], homes.id, "clarification", 4, 4,
        "Does a secure tenancy pass to a partner or child who lives there?", "")
    amendments.propose_item(
        users["dylan"], buses.id, "amendment", 1, 1,
        "Bus fares for everyone under 26 are free across Wales.",
        "It matches the age limit of the railcard.")
    for voter, votes in (("dylan", (1, 1, 1)), ("sam", (1, 1, 0)), ("callum", (-1, 0, 1)),
                         ("morgan", (1, 1, 1)), ("ada", (0, 1, 1))):
        for item, value in zip((wider, land, question), votes):
            if value and item.user_id != users[voter].id:
                voting.cast_vote(users[voter], item.id, value)
    for supporter in ("priya", "callum", "sam"):
        deliberation.support_proposal(users[supporter], homes.id)
    deliberation.support_proposal(users["morgan"], buses.id)
