"""Where the browser journeys start from, set up through the real services (tests/conftest.py's
Factory and the service functions), so each journey drives only its own part in the UI."""
from datetime import timedelta
from types import SimpleNamespace

from forum.models import utcnow

LAB_TEXT = ("Council homes are built in every town.\n\n"
            "Rents are capped at a third of income.\n\n"
            "Tenancies are secure.\n\n"
            "Empty homes are brought back into use.")


def section_with_lead(make, admin, lead, name="Housing"):
    # As tests/views/test_cycle.py does: sections are an admin's set-up, not under test here.
    from forum.extensions import db
    from forum.models import Section, SectionMembership

    section = Section(name=name, slug=name.lower())
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionMembership(section_id=section.id, user_id=lead.id, is_lead=True))
    db.session.commit()
    return section


def proposal_in_section(make, process, section, author, title, body=LAB_TEXT):
    from forum.services import deliberation

    return deliberation.create_proposal(author, process.id, title,
                                        "Homes people can afford, everywhere.", body,
                                        section_id=section.id)


def ranked_amendments(make, proposal, changes, voters):
    """One amendment per (author, start, end, text), each voted up by every voter but its
    author, so that all are taken into the lab."""
    from forum.services import voting

    items = []
    for author, start, end, text in changes:
        item = make.amendment(proposal, author, start=start, end=end, text=text)
        for voter in voters:
            if voter.id != author.id:
                voting.cast_vote(voter, item.id, 1)
        items.append(item)
    return items


def lab_ready(make, lead_name="lena", title="Homes for everyone"):
    """A proposal in the Housing section, led by `lead_name`, with three well-voted amendments:
    two to paragraph 1 (to be composited) and one to paragraph 3 (to be rejected)."""
    admin = make.admin()
    lead = make.user(lead_name)
    section = section_with_lead(make, admin, lead)
    process = make.process(title="Housing Priorities 2027")
    author = make.user()
    proposal = proposal_in_section(make, process, section, author, title)
    ann, ben, cyd = make.user("ann"), make.user("ben"), make.user("cyd")
    voters = [make.user() for _ in range(3)] + [ann, ben, cyd]
    a1, a2, a3 = ranked_amendments(make, proposal, [
        (ann, 1, 1, "Council homes are built in every town and city."),
        (ben, 1, 1, "Council homes are built, quickly, in every town."),
        (cyd, 3, 3, "Tenancies are secure for life."),
    ], voters)
    return SimpleNamespace(process_title=process.title, title=proposal.title,
                           proposal_id=proposal.id, lead=lead.username,
                           a1=a1.id, a2=a2.id, a3=a3.id)


def finalised_proposal(make, admin, lead, process, section, title, supporters):
    """A proposal through its lab to a final text, with `supporters` supporting it."""
    from forum.services import deliberation, intake, labs

    proposal = proposal_in_section(make, process, section, make.user(), title)
    for member in supporters:
        deliberation.support_proposal(member, proposal.id)
    voters = [make.user() for _ in range(3)]
    (item,) = ranked_amendments(make, proposal, [(make.user(), 2, 2,
                                                  "Rents are capped at a quarter of income.")],
                                voters)
    lab = intake.close_amendment_window(lead, proposal.id, "ready for the lab")
    labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": item.id, "note": "agreed"})
    labs.publish(lead, lab.id, "the rent cap amended")
    labs.finalise(lead, lab.id)
    return proposal


def ballot_ready(make, admin_name="ada"):
    """A process in its ballot phase with two final texts: one with enough supports, one
    without."""
    from forum.services import cycle

    admin = make.user(admin_name, role="admin")
    lead = make.user("leah")
    section = section_with_lead(make, admin, lead, name="Homes")
    process = make.process(title="Policy Priorities 2028", support_threshold=2)
    supporters = [make.user() for _ in range(2)]
    qualified = finalised_proposal(make, admin, lead, process, section, "Rent controls now",
                                   supporters)
    short = finalised_proposal(make, admin, lead, process, section, "A land value tax", [])
    cycle.advance(process.id, now=utcnow() + timedelta(days=365))
    return SimpleNamespace(process_title=process.title, process_id=process.id,
                           admin=admin.username,
                           qualified=qualified.title, short=short.title, short_id=short.id)


def moderation_ready(make):
    """A spam reply, a member who will flag it, a heated topic, and a member who keeps
    shouting."""
    mo = make.user("morgan", role="moderator")
    category = make.category("Campaigns")
    spammer, shouter = make.user("spammer"), make.user("shouter")
    topic = make.topic(make.user(), category, title="Leafleting this weekend",
                       raw="Who can help with leaflets on Saturday?")
    spam = make.reply(topic, spammer, raw="Cheap watches at example dot com, buy now.")
    flagger = make.user("careful")
    heated = make.topic(shouter, category, title="Why the leadership is wrong",
                        raw="Everything about this is wrong and I will keep saying so.")
    make.reply(heated, make.user(), raw="Can we keep this civil, please?")
    return SimpleNamespace(moderator=mo.username, flagger=flagger.username, topic=topic.title,
                           spam_post=spam.id,
                           heated=heated.title, shouter=shouter.username)


TOPIC_POSTS = [
    "Our branch wants to run a stall at the farmers' market every Saturday in spring.",
    "> We want to run a stall\n\nGreat idea. I can bring the gazebo and a table.",
    "We need a rota: who can do mornings, who afternoons?",
    "I can do **mornings** in March and April, not May.",
    "Afternoons are fine for me. Should we print new leaflets first?",
    # Wider than a phone: a long address, a table of five columns and a long line of code
    # scroll inside the post, not the page.
    "The stall rota so far, from https://example.org/our-branch/spring-2027/market-stall-rota"
    "-with-every-saturday-listed:\n\n| Saturday | Morning | Afternoon | Leaflets | Gazebo |\n"
    "|---|---|---|---|---|\n| 6 March | Pat and Sam | Jo | the new ones, double-sided | Sam "
    "brings it |\n\n```\nrota = {'6 March': ['Pat', 'Sam', 'Jo'], '13 March': ['Ali', 'Jo', "
    "'Pat'], '20 March': []}\n```",
    "Thanks, that rota works for me.",
    "Yes, the old ones still mention last year's campaign.",
]


def main_pages(make):
    """One of everything people look at, for the accessibility and phone checks: returns the
    path of each main page and who looks at it (None for a visitor)."""
    from forum.services import amendments, ballots, deliberation, intake, posts, review, voting

    pat = make.user("pat")
    others = [make.user() for _ in range(4)]
    category = make.category("Local organising")
    topic = make.topic(pat, category, title="A stall at the farmers' market",
                       raw=TOPIC_POSTS[0])
    for n, raw in enumerate(TOPIC_POSTS[1:]):
        post = make.reply(topic, others[n % len(others)] if n % 2 == 0 else pat, raw=raw)
    posts.like_post(pat, post.id)

    lab = lab_ready(make)
    lab_id = intake.close_amendment_window(user_named(lab.lead), lab.proposal_id,
                                          "time to decide").id

    process = make.process(title="Transport Priorities 2029")
    proposal = make.proposal(process, others[0], title="Buses people can rely on")
    item = make.amendment(proposal, others[1], start=2, end=2,
                          text="Rents are capped at a quarter of income.")
    make.amendment(proposal, others[2], start=3, end=3, text="")
    question = make.amendment(proposal, others[3], start=2, end=2, kind="clarification",
                              text="Is that gross income or take-home pay?", rationale="")
    amendments.answer_clarification(others[0], question.id, "Take-home pay.")
    voting.cast_vote(pat, item.id, 1)
    voting.cast_vote(others[2], item.id, -1)
    deliberation.support_proposal(pat, proposal.id)

    ballot = ballot_ready(make)
    admin = user_named(ballot.admin)
    ballot_id = ballots.ballot_for(deliberation.get_process(ballot.process_id)).id
    ballots.promote(admin, ballot_id)
    ballots.publish(admin, ballot_id)

    mod = moderation_ready(make)
    review.flag(user_named(mod.flagger), "post", mod.spam_post, "spam")
    return {
        "topic-list": ("/latest", "pat"),
        "topic": (f"/t/{topic.slug}/{topic.id}", "pat"),
        "proposal": (f"/proposals/{proposal.id}", "pat"),
        "amendment-form": (f"/proposals/{proposal.id}/amend?start=2&end=2", "pat"),
        "lab": (f"/labs/{lab_id}", lab.lead),
        "ballot": (f"/ballots/{ballot_id}", ballot.admin),
        "review-queue": ("/review", mod.moderator),
        "moderation-log": ("/moderation-log", None),
        "search": ("/search?q=stall", "pat"),
        "profile": ("/u/pat", "pat"),
        "sign-in": ("/login", None),
        "sign-up": ("/signup", None),
        "settings": ("/my/settings", "pat"),
    }


def user_named(username):
    from forum.extensions import db
    from forum.models import User

    return db.session.scalar(db.select(User).where(User.username == username))
