"""Phones and slow links in Chromium: at 375 pixels wide no main page scrolls sideways and
every action is on screen; screenshots of the main pages at desktop and phone widths go to
tests/artifacts/screenshots/ for a person to look at; a topic of 20 posts stays under 100 KB
of HTML, CSS and JavaScript, all from the app itself."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, MAIN_PAGES, PHONE, screenshot_path

pytestmark = [pytest.mark.browser, pytest.mark.live]

PHONE_OPTIONS = {"viewport": PHONE, "is_mobile": True, "has_touch": True}

# Controls out of the viewport: those not inside something that scrolls on its own (a wide
# table in .table-scroll, a chart, a code block), which the reader can scroll to.
OFFSCREEN_CONTROLS = """(width) => Array.from(document.querySelectorAll(
        "main a[href], main button, main input:not([type=hidden]), main select, main textarea, "
        + "header a[href], header button, header summary"))
    .filter(el => el.getClientRects().length)
    .filter(el => {
        for (let p = el.parentElement; p; p = p.parentElement) {
            const overflow = getComputedStyle(p).overflowX;
            if (overflow === "auto" || overflow === "scroll") return false;
        }
        const box = el.getBoundingClientRect();
        return box.left < -0.5 || box.right > width + 0.5;
    })
    .map(el => el.outerHTML.slice(0, 100))"""


@pytest.mark.parametrize("name", MAIN_PAGES)
def test_main_page_fits_a_phone_and_is_photographed(site, main_pages, viewers, name):
    path, who = main_pages[name]
    phone = viewers(who, color_scheme="light", **PHONE_OPTIONS)
    response = phone.go(path)
    assert response.ok, f"{path}: {response.status}"
    page = phone.page
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} scrolls sideways on a phone: {width}px wide"
    offscreen = page.evaluate(OFFSCREEN_CONTROLS, PHONE["width"])
    assert not offscreen, f"{name}: controls out of reach on a phone: {offscreen}"
    page.screenshot(path=screenshot_path(f"{name}-phone"), full_page=True)
    phone.check()

    desktop = viewers(who, color_scheme="light", viewport=DESKTOP)
    desktop.go(path)
    width = desktop.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= DESKTOP["width"], f"{name} scrolls sideways on a desktop: {width}px wide"
    desktop.page.screenshot(path=screenshot_path(f"{name}-desktop"), full_page=True)
    desktop.check()


@pytest.mark.parametrize("name", ["topic", "proposal", "lab", "ballot"])
def test_dark_scheme_on_a_phone_is_photographed(site, main_pages, viewers, name):
    path, who = main_pages[name]
    phone = viewers(who, color_scheme="dark", **PHONE_OPTIONS)
    phone.go(path)
    assert phone.page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    phone.page.screenshot(path=screenshot_path(f"{name}-phone-dark"), full_page=True)
    phone.check()


def test_the_sticky_reply_button_takes_a_phone_to_the_composer(site, main_pages, viewers):
    path, who = main_pages["topic"]
    phone = viewers(who, color_scheme="light", **PHONE_OPTIONS)
    phone.go(path)
    page = phone.page
    reply = page.locator("a.sticky-reply")
    expect(reply).to_be_in_viewport()
    # It floats over nothing: the page ends with room for it below the last line.
    room = page.evaluate("""() => {
        const button = document.querySelector("a.sticky-reply").getBoundingClientRect();
        const main = document.querySelector("main");
        return parseFloat(getComputedStyle(main).paddingBottom) - button.height;
    }""")
    assert room >= 0, f"the button is {-room}px taller than the room left for it"
    reply.tap()
    # The cursor is in the reply box, so the phone's keyboard opens; the button steps aside.
    box = page.get_by_label("Your reply")
    expect(box).to_be_in_viewport()
    expect(box).to_be_focused()
    expect(reply).to_be_hidden()
    phone.check()


def test_the_amendment_form_is_the_first_thing_on_a_phone(site, main_pages, viewers):
    path, who = main_pages["amendment-form"]
    phone = viewers(who, color_scheme="light", **PHONE_OPTIONS)
    phone.go(path)
    page = phone.page
    # The box to write in, not the whole proposal's text above it.
    expect(page.get_by_label("Replacement text (leave empty to delete the paragraphs)")
           ).to_be_in_viewport()
    desktop = viewers(who, color_scheme="light", viewport=DESKTOP)
    desktop.go(path)
    text = desktop.page.locator("section.amend-source").bounding_box()
    form = desktop.page.locator("section.amend-form").bounding_box()
    assert text["x"] < form["x"] and abs(text["y"] - form["y"]) < 1, (text, form)
    phone.check()
    desktop.check()


def test_a_labs_intake_fits_a_phone_with_its_decisions_on_screen(site, main_pages, viewers):
    path, who = main_pages["lab"]
    phone = viewers(who, color_scheme="light", **PHONE_OPTIONS)
    phone.go(path)
    cells = phone.page.evaluate("""() => Array.from(
        document.querySelectorAll(".intake-table td")).map(td => {
            const box = td.getBoundingClientRect();
            return [td.dataset.label, Math.round(box.right)];
        })""")
    assert {label for label, _ in cells} >= {"Item", "Taken in", "Decision"}, cells
    wide = [(label, right) for label, right in cells if right > PHONE["width"]]
    assert not wide, f"intake cells past the screen's edge: {wide}"
    phone.check()


def test_the_account_menu_opens_on_screen_on_a_phone(site, main_pages, viewers):
    path, who = main_pages["topic"]
    phone = viewers(who, color_scheme="light", **PHONE_OPTIONS)
    phone.go(path)
    page = phone.page
    page.get_by_label(f"Your account: {who}").tap()
    settings = page.get_by_role("link", name="Settings")
    expect(settings).to_be_in_viewport(ratio=1)
    settings.tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
    phone.check()


def test_a_topic_of_twenty_posts_weighs_under_100_kb_all_from_the_app(site, people):
    with site.data() as make:
        reader = make.user()
        topic = make.topic(make.user(), title="Twenty posts about the spring campaign",
                           raw="What should we focus on this spring? " * 8)
        writers = [make.user() for _ in range(4)]
        for n in range(19):
            make.reply(topic, writers[n % 4],
                       raw=f"Reply {n + 1}: " + "We should knock on more doors and listen. " * 6)
        path, username = f"/t/{topic.slug}/{topic.id}", reader.username

    person = people.open("a reader on a slow link", signed_in_as=username)
    page = person.page
    # A first visit: nothing from the cache that signing in filled.
    person.context.new_cdp_session(page).send("Network.setCacheDisabled", {"cacheDisabled": True})
    responses = []
    page.on("response", lambda response: responses.append(response))
    person.go(path)
    page.wait_for_load_state("load")
    expect(page.locator("article.post")).to_have_count(20)

    foreign = [r.url for r in responses if not r.url.startswith(site.url + "/")]
    assert not foreign, f"assets from elsewhere: {foreign}"
    assert not [r for r in responses if r.request.resource_type == "font"], "web fonts"
    # The app sends no compressed bodies, so a body's length is what crossed the wire; were a
    # proxy to compress them, this would overstate the weight, never understate it.
    assert all(r.status == 200 for r in responses), [(r.status, r.url) for r in responses]
    weights = {r.url: len(r.body()) for r in responses
               if r.request.resource_type in ("document", "stylesheet", "script")}
    total = sum(weights.values())
    assert any(url.endswith(".css") for url in weights) and any(url.endswith(".js")
                                                                 for url in weights), weights
    assert total < 100_000, f"{total} bytes of HTML, CSS and JS: {weights}"
    person.check()
