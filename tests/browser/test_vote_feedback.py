"""What a member sees after voting in place on a proposal's amendments: the net and score as a
reload shows them, a refusal in plain sight, and the plain form post when the request fails."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from forum.ranking import wilson_lower_bound

pytestmark = [pytest.mark.browser, pytest.mark.live]

WINDOW_CLOSED = "The amendment window has closed."


def amendment_with_votes(make, voter_name, ups=1, downs=1):
    """A proposal with one amendment that `ups` + `downs` other members have voted on already,
    and the member `voter_name`, who has not: returns (proposal id, amendment id, process id)."""
    from forum.services import voting

    process = make.process()
    proposal = make.proposal(process)
    item = make.amendment(proposal, text="Rents are capped at a quarter of income.")
    for value, count in ((1, ups), (-1, downs)):
        for _ in range(count):
            voting.cast_vote(make.user(), item.id, value)
    make.user(voter_name)
    return proposal.id, item.id, process.id


def net_and_score(up, down):
    """The line under an item, as templates/amendments/_item.html prints it."""
    return f"net {up - down:+d} · score {wilson_lower_bound(up, down):.3f}"


def expect_seen(locator):
    """Visible to a sighted member. Playwright counts the 1-pixel, clipped box of
    .visually-hidden as visible, so the box must be bigger than that too."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box and box["width"] > 1 and box["height"] > 1, f"hidden from sight: {box}"


def test_net_and_score_follow_each_vote_as_a_reload_shows_them(site, people):
    with site.data() as make:
        proposal_id, item_id, _ = amendment_with_votes(make, "ossie", ups=1, downs=1)

    ossie = people.open(signed_in_as="ossie")
    page = ossie.page
    ossie.go(f"/proposals/{proposal_id}")
    item = page.locator(f"#item-{item_id}")
    net = item.locator(".net-score")
    expect(net).to_have_text(net_and_score(1, 1))

    # Up, down instead, then down again to take the vote back: (up, down) after each press.
    for button, (up, down) in (("Vote up", (2, 1)), ("Vote down", (1, 2)),
                               ("Vote down", (1, 1))):
        item.get_by_role("button", name=button).click()
        expect(item.locator(".tally")).to_have_text(f"+{up} / -{down}")
        expect(net).to_have_text(net_and_score(up, down))
        in_place = net.text_content()
        page.reload()
        expect(net).to_have_text(in_place)
    ossie.check()


def test_a_refused_vote_says_why_where_the_member_can_see_it(site, people):
    from forum.extensions import db
    from forum.models import Process, utcnow

    with site.data() as make:
        proposal_id, item_id, process_id = amendment_with_votes(make, "pia", ups=1, downs=0)

    pia = people.open(signed_in_as="pia")
    page = pia.page
    pia.go(f"/proposals/{proposal_id}")
    item = page.locator(f"#item-{item_id}")

    # The deadlines pass while she reads (proposals close before amendments, as they must).
    with site.data():
        process = db.session.get(Process, process_id)
        deadlines = process.proposals_close_at, process.amendments_close_at
        process.proposals_close_at = utcnow() - timedelta(minutes=2)
        process.amendments_close_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    pia.expected_statuses.add(403)
    item.get_by_role("button", name="Vote up").click()
    reason = item.get_by_text(WINDOW_CLOSED)
    expect_seen(reason)
    # ...and read out: the reason is in a polite live region.
    expect(item.locator("[aria-live=polite], [role=status]").filter(has_text=WINDOW_CLOSED)
           ).to_have_count(1)
    expect(item.locator(".tally")).to_have_text("+1 / -0")
    expect(item.get_by_role("button", name="Vote up")).to_have_attribute("aria-pressed", "false")

    # The window reopens (the deadlines moved back): the next vote counts and the refusal goes.
    with site.data():
        process = db.session.get(Process, process_id)
        process.proposals_close_at, process.amendments_close_at = deadlines
        db.session.commit()
    item.get_by_role("button", name="Vote up").click()
    expect(item.locator(".tally")).to_have_text("+2 / -0")
    expect(item.get_by_text(WINDOW_CLOSED)).to_have_count(0)
    expect(item.locator(".vote-status")).to_have_class(re.compile(r"\bvisually-hidden\b"))
    pia.check()


def test_when_the_request_fails_the_form_posts_the_pressed_button(site, people):
    with site.data() as make:
        proposal_id, item_id, _ = amendment_with_votes(make, "quin", ups=0, downs=0)

    quin = people.open(signed_in_as="quin")
    page = quin.page
    quin.go(f"/proposals/{proposal_id}")
    # The script's request is lost on the way; the page's own form post still gets through.
    page.route(f"**/amendments/{item_id}/vote",
               lambda route: route.abort() if route.request.resource_type == "fetch"
               else route.continue_())
    with page.expect_navigation():
        page.locator(f"#item-{item_id}").get_by_role("button", name="Vote down").click()
    item = page.locator(f"#item-{item_id}")
    expect(item.locator(".tally")).to_have_text("+0 / -1")
    expect(item.get_by_role("button", name="Vote down")).to_have_attribute("aria-pressed", "true")
    expect(item.locator(".my-vote")).to_have_text("You voted down")
    quin.check()
