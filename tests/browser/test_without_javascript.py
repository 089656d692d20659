"""The core member flow with JavaScript turned off in Chromium: read, reply, propose, amend and
vote, every step a plain link or form post."""
import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.live]

TEXT = ("Every school gets a library.\n\n"
        "Librarians are paid as teachers.\n\n"
        "Books are chosen with pupils.")


def test_a_member_reads_replies_proposes_amends_and_votes_without_javascript(site, people):
    with site.data() as make:
        topic = make.topic(make.user("tam"), title="Libraries in every school",
                           raw="Our school lost its library last year.")
        process = make.process(title="Education Priorities 2027")
        make.user("una")
        other = make.proposal(process, make.user("vic"), title="Free school meals for all")
        item = make.amendment(other, make.user("wyn"), start=2, end=2,
                              text="Meals are free for every pupil, every day.")
        topic_title, process_title, item_id = topic.title, process.title, item.id

    una = people.open("una without JavaScript", signed_in_as="una", java_script_enabled=False)
    page = una.page

    # Read and reply.
    page.get_by_role("link", name=topic_title).click()
    expect(page.locator("#post-1")).to_contain_text("lost its library")
    page.get_by_label("Your reply").fill("Ours too. The parents' association wants it back.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#composer-preview")).to_contain_text("parents' association")
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("#post-2")).to_contain_text("The parents' association wants it back.")

    # Propose.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Processes").click()
    page.get_by_role("link", name=process_title).click()
    page.get_by_role("link", name="New proposal").click()
    page.get_by_label("Title").fill("A library in every school")
    page.get_by_label("Summary in plain words").fill("Libraries, librarians and books.")
    page.get_by_label("Text").fill(TEXT)
    page.get_by_role("button", name="Publish proposal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A library in every school")
    expect(page.locator("ol.paragraphs > li")).to_have_count(3)

    # Amend someone else's proposal, with a preview first.
    page.get_by_role("link", name="Education Priorities 2027").click()
    page.get_by_role("link", name="Free school meals for all").click()
    page.get_by_role("link", name="Amend paragraph 3", exact=True).click()
    page.get_by_label("Replacement text").fill("Tenancies are secure, and repairs are free.")
    page.get_by_label("Why this change?").fill("Repairs matter as much as tenure.")
    page.get_by_role("button", name="Preview the change").click()
    expect(page.locator("#preview ins").first).to_be_visible()
    page.get_by_role("button", name="Submit").click()
    mine = page.locator("article.item").filter(has=page.get_by_role("link", name="una",
                                                                      exact=True))
    expect(mine).to_contain_text("Repairs matter as much as tenure.")
    expect(mine.locator(".redline ins").first).to_be_visible()

    # Vote on wyn's amendment: a form post, and the page comes back with the vote pressed.
    theirs = page.locator(f"#item-{item_id}")
    with page.expect_navigation():  # a real form post and a new page, not a script
        theirs.get_by_role("button", name="Vote up").click()
    theirs = page.locator(f"#item-{item_id}")
    expect(theirs.get_by_role("button", name="Vote up")).to_have_attribute("aria-pressed", "true")
    expect(theirs.locator(".tally")).to_have_text("+1 / -0")
    expect(theirs.locator(".my-vote")).to_have_text("You voted up")
    # Pressing it again takes the vote back.
    theirs.get_by_role("button", name="Vote up").click()
    theirs = page.locator(f"#item-{item_id}")
    expect(theirs.get_by_role("button", name="Vote up")).to_have_attribute("aria-pressed",
                                                                           "false")
    expect(theirs.locator(".tally")).to_have_text("+0 / -0")
    theirs.get_by_role("button", name="Vote down").click()
    expect(page.locator(f"#item-{item_id} .tally")).to_have_text("+0 / -1")

    # Support the proposal too.
    page.get_by_role("button", name="Support this proposal").click()
    expect(page.locator(".support-number")).to_contain_text("1 support")
    expect(page.get_by_role("button", name="Supported ✓ (take back)")).to_have_attribute(
        "aria-pressed", "true")
    una.check()
