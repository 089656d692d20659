"""Accessibility in Chromium: axe-core (from npm, injected into each page) on every main page
in the light and the dark colour scheme, and the keyboard: a skip link that works, every
control reachable with Tab and visibly focused, votes that announce their state and count."""
import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AXE, MAIN_PAGES, required_or_skip

pytestmark = [pytest.mark.browser, pytest.mark.live]

FAILING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.exists():
        required_or_skip(f"{AXE.relative_to(AXE.parents[2])} is missing: run `npm ci`")
    return AXE


def axe_violations(person, axe_source):
    page = person.page
    page.add_script_tag(path=str(axe_source))
    return page.evaluate("""async () => {
        const results = await axe.run(document, {resultTypes: ["violations"]});
        return results.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(" "),
                                                  summary: n.failureSummary}))}));
    }""")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", MAIN_PAGES)
def test_axe_finds_nothing_serious(site, main_pages, viewers, axe_source, name, scheme):
    path, who = main_pages[name]
    # axe is injected as an inline script, which the app's Content-Security-Policy forbids.
    person = viewers(who, color_scheme=scheme, bypass_csp=True)
    response = person.go(path)
    assert response.ok, f"{path}: {response.status}"
    violations = axe_violations(person, axe_source)
    serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    assert not serious, f"{name} ({scheme}) {path}:\n" + json.dumps(serious, indent=1)
    person.check()


FOCUSABLE = ("a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), "
             "select:not([disabled]), textarea:not([disabled]), summary, [tabindex='0']")


def tab_through(person, limit=400):
    """Press Tab until focus comes back round; return what was focused, in order, with
    whether its focus could be seen (an outline or a box shadow)."""
    page = person.page
    seen = []
    page.locator("body").focus()
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = page.evaluate("""() => {
            const el = document.activeElement;
            if (!el || el === document.body) return null;
            if (!el.dataset.tabIndexSeen) el.dataset.tabIndexSeen = String(Math.random());
            const style = getComputedStyle(el);
            const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
            const box = el.getBoundingClientRect();
            return {key: el.dataset.tabIndexSeen, tag: el.tagName.toLowerCase(),
                    text: (el.innerText || el.value || el.getAttribute("aria-label") || el.name
                           || "").trim().slice(0, 40),
                    visible: outline || style.boxShadow !== "none",
                    onscreen: box.width > 0 && box.height > 0};
        }""")
        if state is None or (seen and state["key"] == seen[0]["key"]):
            break
        seen.append(state)
    return seen


@pytest.mark.parametrize("name", ["topic", "proposal", "lab"])
def test_every_control_is_reachable_by_tab_with_a_visible_focus(site, main_pages, viewers,
                                                                 name):
    path, who = main_pages[name]
    person = viewers(who, color_scheme="light")
    person.go(path)
    page = person.page
    # The page as it settles after its first frames: the floating Reply button steps aside when
    # the composer is on screen (static/forum.js), and then it is no control to reach.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    focusable = page.evaluate("""(selector) => Array.from(document.querySelectorAll(selector))
        .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden"
                && !el.closest("details:not([open]) > :not(summary)"))
        .map(el => { el.dataset.mustReach = "1"; return el.outerHTML.slice(0, 80); })""",
                              FOCUSABLE)
    assert len(focusable) >= 10, focusable
    stops = tab_through(person)
    unseen = [s for s in stops if not s["visible"]]
    assert not unseen, f"focus cannot be seen on: {unseen}"
    assert all(s["onscreen"] for s in stops), [s for s in stops if not s["onscreen"]]
    missed = page.evaluate("""() => Array.from(document.querySelectorAll("[data-must-reach]"))
        .filter(el => !el.dataset.tabIndexSeen).map(el => el.outerHTML.slice(0, 120))""")
    assert not missed, f"{len(missed)} of {len(focusable)} controls never got focus: {missed}"
    person.check()


def test_the_skip_link_is_first_shows_when_focused_and_moves_focus_to_the_content(
        site, main_pages, viewers):
    path, who = main_pages["topic"]
    person = viewers(who, color_scheme="light")
    person.go(path)
    page = person.page
    page.locator("body").focus()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["y"] >= 0 and box["x"] >= 0, f"the focused skip link is off screen: {box}"
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
    person.check()


def test_a_vote_by_keyboard_announces_its_state_and_the_new_count(site, main_pages, viewers):
    path, _ = main_pages["proposal"]
    person = viewers("ben", color_scheme="dark")  # ben has not voted on this proposal
    person.go(path)
    page = person.page
    item = page.locator("article.item-amendment").first
    up = item.get_by_role("button", name="Vote up")
    status = item.locator(".vote-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(up).to_have_attribute("aria-pressed", "false")
    before = item.locator(".up-count").inner_text()
    # Reach the button with Tab alone, from the top of the page.
    page.locator("body").focus()
    for _ in range(300):
        page.keyboard.press("Tab")
        if up.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the first amendment's Vote up button")
    page.keyboard.press("Space")
    expect(up).to_have_attribute("aria-pressed", "true")
    after = int(before.lstrip("+")) + 1
    expect(item.locator(".up-count")).to_have_text(f"+{after}")
    expect(status).to_contain_text(f"Your vote: up. Now +{after} / -")
    expect(up).to_be_focused()
    person.check()


def test_reduced_motion_turns_smooth_scrolling_off(site, main_pages, people):
    path, _ = main_pages["topic"]
    calm = people.open("reduced motion", reduced_motion="reduce")
    moving = people.open("motion", reduced_motion="no-preference")
    for person, expected in ((calm, "auto"), (moving, "smooth")):
        person.go(path)
        assert person.page.evaluate(
            "() => getComputedStyle(document.documentElement).scrollBehavior") == expected


def test_the_account_menu_closes_with_escape_a_click_elsewhere_or_tabbing_out(site, main_pages,
                                                                             viewers):
    path, who = main_pages["topic-list"]
    person = viewers(who, color_scheme="light")
    person.go(path)
    page = person.page
    menu = page.locator("details.menu")
    button = menu.locator("summary")
    button.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(button).to_be_focused()
    button.click()
    page.locator("footer").click()
    expect(menu).not_to_have_attribute("open", "")
    button.click()
    for _ in range(20):  # past the last item of the menu
        page.keyboard.press("Tab")
        if not page.evaluate("() => document.querySelector('details.menu')"
                             ".contains(document.activeElement)"):
            break
    expect(menu).not_to_have_attribute("open", "")
    person.check()


def test_arriving_at_the_composer_or_a_refused_form_puts_the_cursor_there(site, main_pages,
                                                                          viewers):
    path, who = main_pages["topic"]
    person = viewers(who, color_scheme="light")
    person.expected_statuses |= {401, 422}  # the refusals this test sends for
    page = person.page
    person.go("/latest")  # so that the next is a new page, not a jump within this one
    person.go(path + "#composer")
    expect(page.get_by_label("Your reply")).to_be_focused()
    # A reply too short: the page comes back with the message, and the cursor in the box,
    # which is described by the message.
    page.get_by_label("Your reply").fill("x")
    page.get_by_role("button", name="Post reply").click()
    box = page.get_by_label("Your reply")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-invalid", "true")
    person.go("/login")
    page.get_by_label("Username or email").fill(who)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Username or email")).to_be_focused()
    expect(page.get_by_label("Username or email")).to_have_attribute(
        "aria-describedby", "signin-errors")
    person.check()
