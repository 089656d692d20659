"""Journeys of members in Chromium, through the UI only: a newcomer from sign-up to search, and
a proposal amended, clarified and voted on by several members at once."""
import re

import pytest
from playwright.sync_api import expect

from tests.mailserver import first_link

pytestmark = [pytest.mark.browser, pytest.mark.live]

NIA_PASSWORD = "tidal lantern orchard 42"


def test_new_member_signs_up_verifies_reads_replies_likes_and_edits(site, people):
    with site.data() as make:
        make.group("Cardiff", nation="wales")
        rowan = make.user("rowan")
        topic = make.topic(rowan, title="Buses in the valleys",
                           raw="The 132 bus stops at seven in the evening.")
        make.reply(topic, make.user("sam"), raw="Late buses would let people work evenings.")
        title = topic.title

    nia = people.open("nia")
    page = nia.page
    nia.go("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("nia")
    page.get_by_label("Email").fill("nia@example.org")
    page.get_by_label("Your local group").select_option(label="Cardiff (Wales)")
    page.get_by_label("Password").fill(NIA_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status").filter(has_text="Welcome")).to_contain_text(
        "sent a link to nia@example.org")
    # Until the address is confirmed a member reads only.
    expect(page.get_by_text("Confirm your email address to start posting")).to_be_visible()

    mail = site.mailbox.wait_for(to="nia@example.org", subject_contains="Confirm your email")
    link = first_link(mail)
    assert link.startswith(site.url + "/verify/"), link
    page.goto(link)
    expect(page.get_by_text("Your email address is confirmed")).to_be_visible()
    expect(page.get_by_text("Confirm your email address to start posting")).to_have_count(0)

    # Read.
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    second = page.locator("#post-2")
    expect(second).to_contain_text("Late buses would let people work evenings.")

    # Reply, quoting the second post.
    second.get_by_role("link", name="Quote").click()
    composer = page.get_by_label("Your reply")
    expect(composer).to_have_value(re.compile(r"^> \[@sam wrote\][\s\S]*> Late buses"))
    composer.press("End")
    composer.press_sequentially("A night service to Merthyr would help shift workers too.")
    page.get_by_role("button", name="Post reply").click()
    mine = page.locator("#post-3")
    expect(mine.locator("blockquote")).to_contain_text("Late buses would let people work")
    expect(mine).to_contain_text("A night service to Merthyr")

    # Like the first post, in place.
    like = page.get_by_role("button", name="Like post 1")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like.locator(".like-count")).to_have_text("1")
    expect(page.get_by_role("status")).to_have_text("Liked. 1 like.")  # read out
    page.reload()
    expect(page.get_by_role("button", name="Like post 1")).to_have_attribute("aria-pressed",
                                                                             "true")

    # Edit the reply, giving a reason, and find the reason in its history.
    page.locator("#post-3").get_by_role("link", name="Edit").click()
    text = page.get_by_label("Text")
    text.fill(text.input_value().replace("Merthyr", "Merthyr Tydfil and Aberdare"))
    page.get_by_label("Reason for the edit").fill("named both towns")
    page.get_by_role("button", name="Save edit").click()
    mine = page.locator("#post-3")
    expect(mine).to_contain_text("Merthyr Tydfil and Aberdare")
    mine.get_by_role("link", name="edited · history").click()
    expect(page.get_by_text("Reason: named both towns")).to_be_visible()
    expect(page.locator("ins").first).to_contain_text("Tydfil")
    nia.check()
    # Last, in a new browser session, she finds her post by search.
    finds_post_by_search(people, title, "Aberdare")


def finds_post_by_search(people, title, word):
    nia = people.open("nia searching")
    nia.sign_in("nia", NIA_PASSWORD)
    page = nia.page
    nia.go("/")
    page.get_by_role("link", name="Search").first.click()
    box = page.get_by_role("searchbox").first
    box.fill(word)
    box.press("Enter")
    result = page.get_by_role("link", name=re.compile(re.escape(title)))
    expect(result.first).to_be_visible()
    result.first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".post").filter(has_text=word)).to_have_count(1)
    nia.check()


BUS_TEXT = ("Every town gets a bus every half hour.\n\n"
            "Fares are capped at two pounds.\n\n"
            "Routes are planned with the people who ride them.\n\n"
            "Councils may run their own buses.")


def item_by(page, username):
    """The amendment or clarification panel entry written by `username`."""
    return page.locator("article.item").filter(
        has=page.get_by_role("link", name=username, exact=True))


def open_proposal(person, process_title, proposal_title):
    page = person.page
    person.go("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Processes").click()
    page.get_by_role("link", name=process_title).click()
    page.get_by_role("link", name=proposal_title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(proposal_title)


def amend(person, paragraph, replacement, rationale):
    page = person.page
    page.get_by_role("link", name=f"Amend paragraph {paragraph}", exact=True).click()
    expect(page.get_by_label("From paragraph")).to_have_value(str(paragraph))
    expect(page.get_by_label("To paragraph")).to_have_value(str(paragraph))
    page.get_by_label("Replacement text").fill(replacement)
    # The redline can be seen before the reason is written.
    page.get_by_role("button", name="Preview the change").click()
    preview = page.locator("#preview")
    expect(preview.locator("ins").first).to_be_visible()
    expect(preview.locator(".result")).to_contain_text(replacement)
    page.get_by_label("Why this change?").fill(rationale)
    page.get_by_role("button", name="Submit").click()


def test_members_amend_clarify_and_vote_and_the_ranking_moves(site, people):
    with site.data() as make:
        process = make.process(title="Transport Priorities 2027")
        for name in ("alex", "bea", "cai", "dee"):
            make.user(name)
        process_title = process.title

    alex = people.open(signed_in_as="alex")
    page = alex.page
    alex.go("/")
    page.get_by_role("link", name="Processes").first.click()
    page.get_by_role("link", name=process_title).click()
    page.get_by_role("link", name="New proposal").click()
    page.get_by_label("Title").fill("Buses people can rely on")
    page.get_by_label("Summary in plain words").fill("Frequent, cheap buses planned with riders.")
    page.get_by_label("Text").fill(BUS_TEXT)
    page.get_by_role("button", name="Publish proposal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Buses people can rely on")
    paragraphs = page.locator("ol.paragraphs > li")
    expect(paragraphs).to_have_count(4)
    expect(paragraphs.nth(1)).to_contain_text("Fares are capped at two pounds.")
    alex.check()

    bea = people.open(signed_in_as="bea")
    open_proposal(bea, process_title, "Buses people can rely on")
    amend(bea, 2, "Fares are capped at one pound, and free for under-22s.",
          "Cheap fares bring riders back.")
    expect(item_by(bea.page, "bea").locator(".rank")).to_have_text("Rank 1")

    dee = people.open(signed_in_as="dee")
    open_proposal(dee, process_title, "Buses people can rely on")
    amend(dee, 2, "Fares are capped at two pounds for a whole day of travel.",
          "A day cap helps people who change buses.")
    expect(item_by(dee.page, "dee").locator(".rank")).to_have_text("Rank 2")

    cai = people.open(signed_in_as="cai")
    open_proposal(cai, process_title, "Buses people can rely on")
    expect(cai.page.get_by_role("link", name="Ask about paragraph 3", exact=True)).to_be_visible()
    # Cai starts from "Amend" and changes his mind: the form turns into a question at once.
    cai.page.get_by_role("link", name="Amend paragraph 3", exact=True).click()
    cai.page.get_by_label("A clarification").check()
    expect(cai.page.get_by_role("heading", level=1)).to_have_text("Ask a clarification")
    expect(cai.page).to_have_title("Ask a clarification · Forum")
    expect(cai.page.get_by_label("Your question")).to_have_value("")
    expect(cai.page.get_by_label("More context (optional)")).not_to_have_attribute(
        "required", "")
    cai.page.get_by_label("Your question").fill("Who counts as the people who ride them?")
    cai.page.get_by_role("button", name="Submit").click()
    question = item_by(cai.page, "cai")
    expect(question).to_contain_text("Who counts as the people who ride them?")
    expect(cai.page.locator("#p-3 .pcount")).to_have_text("1 clarification on paragraph 3")
    expect(cai.page.locator("#p-2 .pcount")).to_have_text("2 amendments on paragraph 2")

    # Cai votes Dee's amendment up, in place: it overtakes Bea's on Cai's screen.
    page = cai.page
    deed, bead = item_by(page, "dee"), item_by(page, "bea")
    up = deed.get_by_role("button", name="Vote up")
    expect(up).to_have_attribute("aria-pressed", "false")
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(deed.locator(".vote-status")).to_have_text("Your vote: up. Now +1 / -0, rank 1.")
    expect(deed.locator(".up-count")).to_have_text("+1")
    expect(deed.locator(".rank")).to_have_text("Rank 1")
    expect(bead.locator(".rank")).to_have_text("Rank 2")

    # Changing the vote, then withdrawing it by pressing it again, from the keyboard.
    down = deed.get_by_role("button", name="Vote down")
    down.focus()
    page.keyboard.press("Enter")
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    # Both score 0 now, and the tie goes to the item with more votes (DESIGN.md).
    expect(deed.locator(".vote-status")).to_have_text("Your vote: down. Now +0 / -1, rank 1.")
    expect(bead.locator(".rank")).to_have_text("Rank 2")
    page.keyboard.press("Space")
    expect(down).to_have_attribute("aria-pressed", "false")
    expect(deed.locator(".vote-status")).to_have_text("Vote withdrawn. Now +0 / -0, rank 2.")
    expect(bead.locator(".rank")).to_have_text("Rank 1")
    up.click()
    expect(deed.locator(".rank")).to_have_text("Rank 1")

    # Dee cannot vote on her own amendment; she votes on Bea's and on Cai's question.
    page = dee.page
    page.reload()
    expect(item_by(page, "dee").get_by_role("button", name="Vote up")).to_be_disabled()
    item_by(page, "cai").get_by_role("button", name="Vote up").click()
    expect(item_by(page, "cai").locator(".up-count")).to_have_text("+1")
    item_by(page, "bea").get_by_role("button", name="Vote down").click()
    expect(item_by(page, "bea").locator(".down-count")).to_have_text("-1")

    # Bea votes for Dee's amendment too; the panel, read again, leads with it.
    page = bea.page
    page.reload()
    item_by(page, "dee").get_by_role("button", name="Vote up").click()
    expect(item_by(page, "dee").locator(".up-count")).to_have_text("+2")
    expect(item_by(page, "dee").locator(".rank")).to_have_text("Rank 1")
    expect(item_by(page, "bea").locator(".rank")).to_have_text("Rank 2")
    page.reload()
    first = page.locator("article.item-amendment").first
    expect(first).to_contain_text("by dee")
    expect(first.locator(".tally")).to_have_text("+2 / -0")
    for person in (alex, bea, cai, dee):
        person.check()


def test_a_kind_chosen_before_the_script_arrives_is_followed_when_it_does(site, people):
    with site.data() as make:
        proposal_id = make.proposal(make.process()).id
        make.user("ezra")

    ezra = people.open(signed_in_as="ezra")
    page = ezra.page
    held = []
    page.route("**/forum.js", lambda route: held.append(route))  # a slow link: the script is held back
    page.goto(f"{site.url}/proposals/{proposal_id}/amend?start=2&end=2",
              wait_until="commit")
    page.get_by_label("A clarification").check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose an amendment")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page did not ask for forum.js"
    held[0].continue_()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask a clarification")
    expect(page).to_have_title("Ask a clarification · Forum")
    expect(page.get_by_label("Your question")).to_have_value("")
    expect(page.get_by_label("More context (optional)")).not_to_have_attribute("required", "")
    ezra.check()
