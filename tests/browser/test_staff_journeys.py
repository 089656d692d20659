"""Journeys of the people who run things, in Chromium through the UI only: a section lead
through a policy lab, a moderator through the review queue, topic and member controls, and an
admin from promotion to the ballot's exports."""
import csv
import hashlib
import io
import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser import scenarios

pytestmark = [pytest.mark.browser, pytest.mark.live]


def open_proposal(person, process_title, proposal_title):
    page = person.page
    person.go("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Processes").click()
    page.get_by_role("link", name=process_title).click()
    page.get_by_role("link", name=proposal_title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(proposal_title)


def test_section_lead_closes_the_window_composites_rejects_publishes_and_finalises(site,
                                                                                 people):
    with site.data() as make:
        lab = scenarios.lab_ready(make)

    lena = people.open(signed_in_as=lab.lead)
    page = lena.page
    open_proposal(lena, lab.process_title, lab.title)
    page.get_by_text("Close the amendment window now").click()
    page.get_by_label("Reason (public)").fill("Enough amendments to work with.")
    page.get_by_role("button", name="Close and open the lab").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Policy lab: {lab.title}")

    # The intake: the ranking as it stood, every item taken in.
    intake = page.locator("#intake table tbody tr")
    expect(intake).to_have_count(3)
    for item_id in (lab.a1, lab.a2, lab.a3):
        row = intake.filter(has=page.get_by_role("link", name=f"Amendment #{item_id}"))
        expect(row.locator("td").nth(5)).to_have_text("yes")
        expect(row.locator("td").nth(6)).to_have_text("to decide")
    expect(page.locator("svg.intake-chart").first).to_be_visible()

    # Composite the two amendments to paragraph 1.
    form = page.locator("form.composite-form")
    form.get_by_label(f"#{lab.a1} by ann").check()
    form.get_by_label(f"#{lab.a2} by ben").check()
    form.get_by_label("From paragraph").fill("1")
    form.get_by_label("To paragraph").fill("1")
    form.get_by_label("Composite text").fill(
        "Council homes are built, quickly, in every town and city.")
    form.get_by_label("Note").fill("Both asked for more, sooner.")
    form.get_by_role("button", name="Composite").click()
    for item_id in (lab.a1, lab.a2):
        row = intake.filter(has=page.get_by_role("link", name=f"Amendment #{item_id}"))
        expect(row.locator("td").nth(6).locator(".decision")).to_have_text(
            "composite: Both asked for more, sooner.")

    # Reject the third, with a reason.
    page.get_by_label(f"Reason for rejecting #{lab.a3}").fill("Security for life is already law.")
    page.get_by_role("button", name="Reject").click()
    row = intake.filter(has=page.get_by_role("link", name=f"Amendment #{lab.a3}"))
    expect(row.locator("td").nth(6).locator(".decision")).to_have_text(
        "reject: Security for life is already law.")

    # Until a version carries it, a decision can be taken back: the third is to decide again.
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Take back the reject of #{lab.a3}").click()
    expect(row.locator("td").nth(6)).to_have_text("to decide")
    page.get_by_label(f"Reason for rejecting #{lab.a3}").fill("Security for life is already law.")
    page.get_by_role("button", name="Reject").click()
    expect(row.locator("td").nth(6).locator(".decision")).to_have_text(
        "reject: Security for life is already law.")
    expect(page.get_by_text("Every intake item is decided.")).to_be_visible()
    expect(page.locator("#draft ins").first).to_contain_text("quickly")

    # Publish version 2, then freeze it as the final text.
    page.get_by_label("Note for version 2").fill("Paragraph 1 from the composite.")
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.locator("ol.versions > li")).to_have_count(2)
    expect(page.locator("ol.versions > li").nth(1)).to_contain_text(
        "Paragraph 1 from the composite.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Finalise version 2 as the final text").click()
    expect(page.locator("p .tag.status").first).to_have_text("finalised")
    expect(page.get_by_role("button", name=re.compile("^Finalise"))).to_have_count(0)

    page.get_by_role("link", name=lab.title).first.click()
    expect(page.locator(".proposal-head .status")).to_have_text("final")
    expect(page.locator("ol.paragraphs > li").first).to_contain_text(
        "Council homes are built, quickly, in every town and city.")
    lena.check()


def test_moderator_handles_a_flag_locks_a_topic_silences_a_member_and_the_log_shows_it(
        site, people):
    with site.data() as make:
        mod = scenarios.moderation_ready(make)

    # A member flags the spam from the topic.
    careful = people.open(signed_in_as=mod.flagger)
    page = careful.page
    careful.go("/")
    page.get_by_role("link", name=mod.topic).click()
    spam = page.locator("article.post").filter(has_text="Cheap watches")
    spam.get_by_role("link", name=re.compile("^Flag")).click()
    page.get_by_label("Spam").check()
    page.get_by_role("button", name="Flag", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("The moderators will look at it")
    careful.check()

    mo = people.open(signed_in_as=mod.moderator)
    page = mo.page
    mo.go("/")
    page.get_by_label(f"Your account: {mod.moderator}").click()
    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    entry = page.locator("article.review-item").filter(has_text="spammer")
    expect(entry).to_contain_text("Spam")
    entry.get_by_label("Reason readers will see").fill("Advertising.")
    entry.get_by_role("button", name="Agree and hide").click()
    expect(page.get_by_text("Nothing is waiting for review.")).to_be_visible()

    # Lock the heated topic from its page.
    page.get_by_role("link", name="Latest").first.click()
    page.get_by_role("link", name=mod.heated).click()
    page.get_by_role("link", name=re.compile("^Moderate")).click()
    lock = page.locator("form").filter(has=page.get_by_role("button", name="Lock (no new replies)"))
    lock.get_by_label("Reason").fill("Cooling off.")
    lock.get_by_role("button", name="Lock (no new replies)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(mod.heated)
    expect(page.locator(".topic-meta .tag")).to_have_text("Closed")

    # Silence the member who started it, from their profile.
    page.locator("#post-1").get_by_role("link", name=mod.shouter).click()
    page.get_by_role("link", name="Moderate").click()
    page.get_by_label("Reason", exact=True).first.fill("Shouting at members.")
    page.get_by_role("button", name="Silence").click()
    expect(page.locator(".facts")).to_contain_text("Shouting at members.")

    # Everything is on the public log, which a visitor can read.
    visitor = people.open("a visitor")
    visitor.go("/")
    visitor.page.get_by_role("link", name="Moderation log").click()
    log = visitor.page.locator("table.moderation-log tbody")
    expect(log.locator("tr").filter(has_text="agreed with flags on")).to_contain_text(
        "Advertising.")
    expect(log.locator("tr").filter(has_text="locked a topic")).to_contain_text("Cooling off.")
    expect(log.locator("tr").filter(has_text=f"silenced {mod.shouter}")).to_contain_text(
        "Shouting at members.")
    for person in (mo, visitor):
        person.check()


def test_admin_promotes_the_final_texts_publishes_the_ballot_and_downloads_the_exports(
        site, people):
    with site.data() as make:
        ballot = scenarios.ballot_ready(make)

    ada = people.open(signed_in_as=ballot.admin)
    page = ada.page
    ada.go("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Processes").click()
    page.get_by_role("link", name=ballot.process_title).click()
    page.get_by_role("link", name="The ballot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ballot: {ballot.process_title}")
    page.get_by_role("button", name="Promote the final texts").click()
    items = page.locator("ol.ballot-items > li")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(ballot.qualified)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publish the ballot").click()
    exports = page.locator("section").filter(has=page.get_by_role("heading", name="Exports"))
    expect(exports).to_be_visible()
    sha = exports.locator("code.sha").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", sha), sha

    files = {}
    for fmt in ("json", "csv", "md", "blt"):
        with page.expect_download() as download:
            exports.get_by_role("link", name=f"export.{fmt}").click()
        files[fmt] = download.value.path().read_bytes()
        assert download.value.suggested_filename.endswith(f".{fmt}")
    assert hashlib.sha256(files["json"]).hexdigest() == sha
    data = json.loads(files["json"])
    assert [item["title"] for item in data["items"]] == [ballot.qualified]
    for item in data["items"]:
        assert hashlib.sha256(item["text"].encode()).hexdigest() == item["sha256"]
    rows = list(csv.DictReader(io.StringIO(files["csv"].decode())))
    assert [row["title"] for row in rows] == [ballot.qualified]
    assert ballot.qualified in files["md"].decode()
    assert f'"{ballot.qualified}"' in files["blt"].decode()

    # The proposal left off says why.
    page.get_by_role("link", name=ballot.process_title).first.click()
    page.get_by_role("link", name=ballot.short).click()
    expect(page.locator(".proposal-head .notice")).to_have_text(
        "Not on the ballot: it had 0 supports and needed 2.")
    ada.check()
