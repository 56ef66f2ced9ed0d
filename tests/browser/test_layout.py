"""One screen for a projector, a presenter layout and a phone: where the step controls, the
network diagram and the cache inspector land at the window sizes a class meets."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PAGE_PLOTS, open_page, redraws, slot_point, wait_redrawn

# the boxes of the sticky controls and the two views of the first screen, and the scroll
BOXES = """() => {
  const box = (sel) => { const r = document.querySelector(sel).getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height}; };
  return {controls: box('.controls'), network: box('[data-testid=view-network]'),
    cache: box('[data-testid=view-cache]'), scrollY: window.scrollY,
    scrollWidth: document.scrollingElement.scrollWidth};
}"""
DEEP_SIGMOID = ("?hidden_layers=8,8,8,8,8"
                "&activations=sigmoid,sigmoid,sigmoid,sigmoid,sigmoid,sigmoid")
# (width, height, query): a projector, a full-HD screen; the default run and a deep one
FIRST_SCREENS = [(1280, 720, ""), (1280, 720, DEEP_SIGMOID), (1920, 1080, "")]


@pytest.mark.parametrize(("width", "height", "query"), FIRST_SCREENS,
                         ids=["720p", "720p-deep", "1080p"])
def test_first_screen_holds_the_controls_network_and_whole_inspector(page, server, width, height,
                                                                     query):
    page.set_viewport_size({"width": width, "height": height})
    open_page(page, server, query)
    boxes = page.evaluate(BOXES)
    assert boxes["scrollY"] == 0
    for name in ("controls", "network", "cache"):
        assert 0 <= boxes[name]["top"] < height, (name, boxes[name])
    # the inspector is wholly on screen, and beside the network rather than under it
    assert boxes["cache"]["bottom"] <= height, boxes["cache"]
    assert boxes["cache"]["left"] >= boxes["network"]["right"], boxes
    assert boxes["scrollWidth"] <= width


def test_a_clicked_cells_formula_opens_beside_it_on_the_first_screen(page, server):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?it=5&phase=forward-2&layer=2")
    x, y = slot_point(page, "Z", 0.5, 0.5)
    assert y < 720 and page.evaluate("() => window.scrollY") == 0
    page.mouse.click(x, y)
    formula = page.get_by_test_id("cell-formula")
    expect(formula).to_contain_text("Z[2]")
    box = formula.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1280 and box["y"] + box["height"] <= 720
    dx = max(box["x"] - x, 0, x - box["x"] - box["width"])
    dy = max(box["y"] - y, 0, y - box["y"] - box["height"])
    assert dx <= 60 and dy <= 60, (box, x, y)


# panels that the presenter layout hides: everything but the network and the inspector
HIDDEN_BY_PRESENTER = ["view-code", "cache-explainer", "view-loss", "view-boundary",
                       "view-gradient-flow", "view-distributions", "gradcheck", "run-form"]


def test_presenter_layout_shows_only_the_controls_network_and_inspector_large(page, server):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?layout=presenter", plots=1)
    for test_id in HIDDEN_BY_PRESENTER:
        expect(page.get_by_test_id(test_id)).to_be_hidden()
    expect(page.locator("header.top")).to_be_hidden()
    boxes = page.evaluate(BOXES)
    assert boxes["scrollY"] == 0
    assert boxes["cache"]["bottom"] <= 720 and boxes["network"]["bottom"] <= 720, boxes
    assert boxes["cache"]["left"] >= boxes["network"]["right"], boxes
    # nothing of the inspector (its colour key last) hides below its panel's scroll
    hidden = page.locator(".panel-cache").evaluate("e => e.scrollHeight - e.clientHeight")
    assert hidden <= 1, hidden
    # large enough for the back of a room: bigger text, a taller inspector than the page's
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") >= 18
    size = "e => parseFloat(getComputedStyle(e).fontSize)"
    assert page.locator(".bar-ticks").first.evaluate(size) >= 14  # the colour bars' numbers
    # the way out is in the controls, and the URL follows it both ways
    before = redraws(page)
    page.locator("#presenter").click()
    wait_redrawn(page, before)
    expect(page.get_by_test_id("view-loss")).to_be_visible()
    expect(page).not_to_have_url(re.compile("layout="))
    assert boxes["cache"]["height"] > 1.2 * page.evaluate(BOXES)["cache"]["height"]
    page.locator("#presenter").click()
    expect(page).to_have_url(re.compile("[?&]layout=presenter"))
    expect(page.get_by_test_id("view-loss")).to_be_hidden()


def test_a_presenter_link_keeps_the_networks_notes_in_its_panel(page, server):
    """Opened from a link, the presenter layout settled its boxes after the network's first
    draw: "+54 more" under the columns fell below the panel, off a 720 px screen."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?dataset=digits&hidden_layers=32,16&layout=presenter", plots=1)
    more = page.locator("[data-testid=view-network] .annotation-text", has_text="more").first
    expect(more).to_be_visible()
    page.wait_for_function("""() => {
      const more = [...document.querySelectorAll('[data-testid=view-network] .annotation-text')]
        .find((e) => e.textContent.includes('more'));
      const panel = document.querySelector('.panel-network').getBoundingClientRect();
      return more.getBoundingClientRect().bottom <= Math.min(panel.bottom, innerHeight);
    }""")


# what of the inspector hides below its panel (its colour key last), and the heatmaps' height
INSPECTOR_HIDES = """() => { const p = document.querySelector('.panel-cache');
  return [p.scrollHeight - p.clientHeight,
          document.querySelector('.panel-cache .heatmap-box').offsetHeight]; }"""


def test_presenter_heatmaps_leave_room_for_the_inspectors_key(page, server):
    """Under the divergence alert at 1280 × 720 the inspector's key fell 75 px below its
    panel (and under three rows of controls at 1024 × 768, 73 to 97 px): its heatmaps now
    share what the panel has left, in every phase, down to 40 px, which a room still reads
    (below that the panel scrolls)."""
    page.set_viewport_size({"width": 1024, "height": 768})
    open_page(page, server, "?init=zeros&layout=presenter", plots=1)
    hides, heat = page.evaluate(INSPECTOR_HIDES)
    # the whole panel, or at the floor a line of the key at most, where 73 px hid
    assert heat >= 40 and (hides <= 1 or heat == 40) and hides <= 30, (hides, heat)
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?lesson=divergence&layout=presenter&it=2&phase=forward-1", plots=1)
    page.get_by_test_id("lesson-close").click()  # the alert, not a lesson's strip
    expect(page.locator(".alert", has_text="diverged")).to_be_visible()
    heights = []
    for _ in range(8):  # F1, F2, F3, cost, B3, B2, B1, update
        hides, heat = page.evaluate(INSPECTOR_HIDES)
        assert heat >= 40 and (hides <= 1 or heat == 40), (
            page.get_by_test_id("phase-label").inner_text(), hides, heat)
        heights.append((heat, hides))
        before = redraws(page)
        page.get_by_test_id("phase-next").click()
        wait_redrawn(page, before)
    # every phase fits whole (the key leaves out hover and click, which a room cannot do)
    assert all(hides <= 1 for _, hides in heights), heights


@pytest.mark.parametrize("query", ["?lesson=bug-activation-cache-holds-a&layout=presenter",
                                   "?lesson=divergence&layout=presenter&tour=4"])
def test_presenter_keeps_the_key_at_the_stops_with_the_most_words(page, server, query):
    """A myth card, or a long lesson stop under the divergence alert, pushed the key 34 to
    59 px below the panel with the heatmaps at their 40 px: the inspector's sentence of what
    the phase reads goes (the banner at the top says it), and the key, with its "grey: not
    finite", stays in sight."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, query, plots=1)
    hides, heat = page.evaluate(INSPECTOR_HIDES)
    assert hides <= 1 and heat >= 40, (hides, heat)
    expect(page.get_by_test_id("non-finite-key")).to_be_in_viewport()
    expect(page.get_by_test_id("cache-reads")).to_be_hidden()


@pytest.mark.parametrize("query", ["?layout=presenter", "?big=1"])
def test_the_first_control_row_is_one_line_at_1280_in_large_type(page, server, query):
    """"?" and "presenter" wrapped onto a row of their own at 1280 × 720, which took a line
    from the inspector on a projector; ◀ and ▶ beside the slider leave "iteration" out."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, query, plots=1 if "presenter" in query else PAGE_PLOTS)
    tops = page.evaluate("""() => [...document.querySelector('.control-row').children]
      .filter((e) => e.offsetParent).map((e) => Math.round(e.getBoundingClientRect().top))""")
    assert len(tops) == 4 and len(set(tops)) == 1, tops
    assert page.get_by_test_id("step-next").inner_text().strip() == "▶"
    expect(page.get_by_test_id("step-next")).to_have_accessible_name("next iteration")
    expect(page.get_by_test_id("phase-next")).to_contain_text("phase")


def test_presenter_layout_runs_a_lessons_tour_in_a_strip_over_its_two_panels(page, server):
    """The presenter layout hid an open lesson's panel, so a projected lesson had no tour
    and no question. Its step's words and buttons are now a strip over the network and the
    inspector, which keep the whole width and the one screen (the page left the panel's
    column empty once, and the inspector ran 95 px below a 720 px projector)."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?layout=presenter&lesson=caches", plots=1)
    panel = page.get_by_test_id("lesson-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".lesson-look")).to_be_hidden()  # the intro stays in the page layout
    steps = int(panel.get_by_test_id("lesson-count").inner_text().split("/")[1])
    for n in range(1, steps + 1):
        panel.get_by_test_id("lesson-next").click()
        expect(panel.get_by_test_id("lesson-count")).to_have_text(f"{n} / {steps}")
        boxes = page.evaluate(BOXES)
        strip = panel.bounding_box()
        assert strip["y"] + strip["height"] <= boxes["network"]["top"], (strip, boxes)
        assert boxes["cache"]["bottom"] <= 720 and boxes["network"]["bottom"] <= 720, boxes
        assert boxes["cache"]["right"] >= 1280 - 40, boxes  # the views take the whole width
    expect(panel.get_by_test_id("lesson-question")).to_be_visible()
    box = panel.get_by_test_id("lesson-question").bounding_box()
    assert box["y"] + box["height"] <= 720
    page.locator("#presenter").click()  # the page layout shows the intro again
    expect(panel).to_be_visible()


def test_presenter_layout_has_the_lessons_menu_in_its_controls(page, server):
    """The presenter layout hides the header, and with it the Lessons menu: a teacher had to
    leave the layout (the whole page flashing on the projector) to change lessons. The menu
    now stands in the controls' bar there, and goes back to the header outside it."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?layout=presenter&lesson=caches", plots=1)
    controls = page.locator(".controls")
    menu = controls.get_by_test_id("lessons")
    # the bar's height without the menu in it: what it adds
    menu.evaluate("(m) => { m.style.display = 'none'; }")
    height = controls.bounding_box()["height"]
    menu.evaluate("(m) => { m.style.display = ''; }")
    expect(menu).to_be_visible()
    menu.locator("#lessons-toggle").click()
    choice = menu.locator("button[data-lesson='divergence']")
    expect(choice).to_be_visible()
    box = choice.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, box
    choice.click()
    expect(page.get_by_test_id("lesson-panel").locator(".lesson-title")).to_contain_text(
        "diverges")
    expect(page).to_have_url(re.compile("[?&]lesson=divergence"))
    expect(page).to_have_url(re.compile("[?&]layout=presenter"))
    expect(page.locator("header.top")).to_be_hidden()
    assert controls.bounding_box()["height"] <= height + 1  # the menu took no line of its own
    page.locator("#presenter").click()
    expect(page.locator("header.top").get_by_test_id("lessons")).to_be_visible()
    expect(controls.get_by_test_id("lessons")).to_have_count(0)


def test_a_clickers_page_keys_walk_the_tour_and_bring_the_views_back(page, server):
    """A presenter's clicker sends Page Down and Page Up: in the presenter layout they walk
    the open lesson's tour. After "↓ the two runs" the views had stayed scrolled down to
    run B for every later step, the network and the inspector that the step moved off
    screen: a step now brings them back."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?layout=presenter&lesson=he-vs-course", plots=1)
    count = page.get_by_test_id("lesson-count")
    page.keyboard.press("PageDown")
    expect(count).to_have_text("1 / 4")
    # the second run drawn first: "↓ the two runs" scrolls once, to where it stands then
    expect(page.locator("#view-compare .compare-plot.js-plotly-plot")).to_have_count(3)
    expect(page.get_by_test_id("view-compare")).to_contain_text("elementwise")
    page.get_by_test_id("lesson-to-compare").click()
    views = page.locator(".views")
    assert views.evaluate("(v) => v.scrollTop") > 200
    page.keyboard.press("PageDown")
    expect(count).to_have_text("2 / 4")
    expect(page.get_by_test_id("phase-label")).to_have_text("forward · layer 5")
    assert views.evaluate("(v) => v.scrollTop") == 0
    network = page.get_by_test_id("view-network").bounding_box()
    assert 0 <= network["y"] < 720, network
    # stop 3 keeps stop 2's view and speaks of run B, below: the views stay where they are
    page.get_by_test_id("lesson-to-compare").click()
    page.keyboard.press("PageDown")
    expect(count).to_have_text("3 / 4")
    assert views.evaluate("(v) => v.scrollTop") > 200
    # the open Lessons menu keeps its keys: Page Down does not walk the tour behind it
    page.locator("#lessons-toggle").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#lesson-list")).to_be_visible()
    page.keyboard.press("PageDown")
    expect(count).to_have_text("3 / 4")
    page.keyboard.press("Escape")
    page.keyboard.press("PageUp")
    expect(count).to_have_text("2 / 4")
    page.locator("#presenter").click()  # the page layout: the keys are the page's
    page.keyboard.press("PageDown")
    expect(count).to_have_text("2 / 4")


def test_presenter_gives_the_inspector_room_under_a_diverged_runs_alert(page, server):
    """The divergence lesson's last step at 720 px: the alert took two or three lines and
    the caches myth card four, and the inspector's key fell 80 to 110 px below the window.
    The alert is one line there (its words whole on hover, or after a click), and a lesson
    about something else than the caches leaves the card out."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?layout=presenter&lesson=divergence&tour=4", plots=1)
    alert = page.get_by_test_id("alert")
    expect(alert).to_contain_text("Training diverged at iteration 6")
    assert alert.bounding_box()["height"] < 40
    assert alert.get_attribute("title").startswith("Training diverged at iteration 6")
    # a cut line says so, at its end (a teacher saw a sentence cut, and no way to more)
    assert page.evaluate("() => getComputedStyle(document.querySelector('[data-testid=alert]'),"
                         " '::after').content") == '"▾ click for all"'
    expect(page.locator(".myth-card")).to_be_hidden()
    cache = page.get_by_test_id("view-cache").bounding_box()
    assert cache["y"] + cache["height"] <= 720
    hidden = page.evaluate("() => { const p = document.querySelector('.panel-cache');"
                           " return p.scrollHeight - p.clientHeight; }")
    assert hidden <= 50, hidden  # at most the key's last lines, a scroll away
    alert.click()  # a room reads no tooltip: a click shows the whole words, another hides them
    assert alert.bounding_box()["height"] > 40
    alert.click()
    assert alert.bounding_box()["height"] < 40
    alert.focus()
    page.keyboard.press("Enter")  # a presenter at the keyboard
    expect(alert).to_have_attribute("aria-expanded", "true")
    assert alert.bounding_box()["height"] > 40
    page.keyboard.press("Enter")
    page.locator("#presenter").click()  # the page layout: the whole alert, the card
    assert alert.bounding_box()["height"] > 40
    expect(page.locator(".myth-card")).to_be_visible()
    expect(alert).not_to_have_class(re.compile(r"\bcut\b"))  # whole: nothing to say


def test_presenter_layout_keeps_the_formula_beside_the_cell(page, server):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?layout=presenter&it=5&phase=backward-2&layer=2", plots=1)
    x, y = slot_point(page, "dZ", 0.5, 0.5)
    page.mouse.click(x, y)
    formula = page.get_by_test_id("cell-formula")
    expect(formula).to_contain_text("dZ[2]")
    box = formula.bounding_box()
    assert box["y"] + box["height"] <= 720
    dx = max(box["x"] - x, 0, x - box["x"] - box["width"])
    dy = max(box["y"] - y, 0, y - box["y"] - box["height"])
    assert dx <= 60 and dy <= 60, (box, x, y)


# every visible control of the sticky bar, cut off at the window's edge or not
CONTROL_BOXES = """() => [...document.querySelectorAll('.controls :is(button, select, input)')]
  .filter(e => e.offsetParent !== null).map(e => { const r = e.getBoundingClientRect();
    return {id: e.id || e.textContent, left: r.left, right: r.right}; })"""


@pytest.mark.parametrize("query", ["", DEEP_SIGMOID], ids=["default", "deep"])
def test_phone_scrolls_only_down_and_the_sticky_bar_keeps_to_a_quarter(page, server, query):
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, server, query)
    boxes = page.evaluate(BOXES)
    assert boxes["scrollWidth"] <= 390
    assert boxes["controls"]["height"] <= 844 / 4, boxes["controls"]
    cut = [b for b in page.evaluate(CONTROL_BOXES) if b["left"] < 0 or b["right"] > 390]
    assert cut == []
    # the bar stays on top while the page scrolls
    page.get_by_test_id("view-cache").scroll_into_view_if_needed()
    assert page.evaluate(BOXES)["controls"]["top"] == 0
    # the secondary controls wait behind a disclosure, and it opens
    layer = page.get_by_test_id("layer-select")
    expect(layer).to_be_hidden()
    more = page.locator("#more-controls")
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(more).to_have_text("more ▾")
    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(more).to_have_text("less ▴")  # its words say what a press does now
    expect(layer).to_be_visible()
    expect(page.locator("#speed")).to_be_visible()
    assert page.evaluate(BOXES)["scrollWidth"] <= 390
    # open, the bar takes more than its quarter: it stays open while the page holds still,
    # and scrolling on to look at the views gives the quarter back
    opened = page.evaluate(BOXES)["controls"]["height"]
    assert opened > 844 / 4
    page.wait_for_timeout(300)
    expect(more).to_have_attribute("aria-expanded", "true")
    page.mouse.wheel(0, 600)
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(layer).to_be_hidden()
    assert page.evaluate(BOXES)["controls"]["height"] <= 844 / 4


STEP_ROW = """() => ['step-prev', 'step-slider', 'step-next'].map((id) => {
  const r = document.querySelector(`[data-testid=${id}]`).getBoundingClientRect();
  return {left: r.left, right: r.right, middle: (r.top + r.bottom) / 2};
})"""


@pytest.mark.parametrize("query", ["?layout=presenter", "?big=1"], ids=["presenter", "large"])
def test_phone_in_large_type_keeps_the_slider_between_its_arrows(page, server, query):
    """Large type on a phone: ◀, the slider and ▶ stay one row; the presenter layout puts
    the inspector under the network, each as wide as the phone, not 180 px beside it."""
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, server, query, plots=1 if "presenter" in query else 9)
    back, slider, forth = page.evaluate(STEP_ROW)
    assert back["right"] <= slider["left"] < slider["right"] <= forth["left"]
    assert slider["right"] - slider["left"] >= 60
    for arrow in (back, forth):
        assert abs(arrow["middle"] - slider["middle"]) < 4
    boxes = page.evaluate(BOXES)
    assert boxes["scrollWidth"] <= 390
    assert boxes["controls"]["height"] <= 844 / 4, boxes["controls"]
    if "presenter" in query:
        network, cache = boxes["network"], boxes["cache"]
        assert cache["top"] >= network["bottom"], boxes
        assert network["right"] - network["left"] >= 330 and cache["right"] - cache["left"] >= 330


# every figure's tick labels and axis titles that cross its box: cut off, or over a neighbour
CUT_AXIS_WORDS = """() => [...document.querySelectorAll('.views .js-plotly-plot')]
  .filter((gd) => gd.offsetParent).flatMap((gd) => {
    const box = gd.getBoundingClientRect();
    return [...gd.querySelectorAll('.xtick text, .ytick text, .y2tick text, .g-xtitle text, '
      + '.g-ytitle text, .g-y2title text')].filter((t) => {
      const r = t.getBoundingClientRect();  // a tick Plotly hides has no box
      return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1
        || r.top < box.top - 1 || r.bottom > box.bottom + 1);
    }).map((t) => `${gd.closest('[data-testid]').dataset.testid}: ${t.textContent}`);
  })"""


@pytest.mark.parametrize("query", ["?it=5", DEEP_SIGMOID + "&it=5"], ids=["default", "deep"])
def test_phone_figures_keep_their_axis_words_inside(page, server, query):
    """At 390 px, no tick label or axis title runs out of its figure (the gradient
    check's slanted "layer 3" did)."""
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, server, query)
    page.locator("[data-testid=gradcheck] .js-plotly-plot").wait_for()
    assert page.evaluate(CUT_AXIS_WORDS) == []


def test_keys_help_is_one_click_away(page, server):
    open_page(page, server)
    keys = page.locator("#keys-help")
    expect(keys).to_be_hidden()
    page.locator("#keys-toggle").click()
    expect(keys).to_be_visible()
    expect(keys).to_contain_text("Shift+←/→")
    page.keyboard.press("Escape")
    expect(keys).to_be_hidden()


# the words the network diagram writes (Plotly annotations): each column's name, "+n more",
# and the notes under the edges between two columns that show only their strongest edges
NETWORK_WORDS = """() => [...document.querySelectorAll(
    '[data-testid=view-network] .annotation-text')].map(e => {
  const r = e.getBoundingClientRect();
  return {text: e.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
    size: parseFloat(getComputedStyle(e).fontSize)};
})"""


DEEP_WIDE = "?dataset=digits&hidden_layers=128,128,128,128,128,128&steps=20"


@pytest.mark.parametrize(("width", "height", "query", "notes"), [
    (390, 844, "?dataset=digits&hidden_layers=32,16", 3),
    (1280, 720, "?dataset=digits&hidden_layers=32,16", 3),
    (390, 844, DEEP_WIDE, 7),
    (1280, 720, DEEP_WIDE + "&big=1", 7),
    (1280, 720, "?lesson=he-vs-course&layout=presenter", 4),
    # seven columns of about 30 px: "[3] σ", and "top 40" over the edges
    (1024, 768, "?lesson=vanishing-sigmoid&tour=3", 4),
    # a short figure beside a tour strip: one line under the neurons, not two over them
    (1280, 720, "?lesson=divergence&layout=presenter&tour=4", 1),
], ids=["phone", "720p", "phone-deep", "720p-deep-large-text", "720p-presenter-lesson",
        "1024-lesson-deep", "720p-presenter-tour"])
def test_the_network_diagrams_words_do_not_run_into_each_other(page, server, width, height,
                                                               query, notes):
    """Digits draws 10 units of each wide layer and the strongest 40 of the edges between
    two columns: the columns' names, "+n more" and the notes between the columns take
    shorter forms where the columns stand close (a phone, a deep network, large text)
    rather than run into their neighbours."""
    page.set_viewport_size({"width": width, "height": height})
    open_page(page, server, query, plots=1 if "presenter" in query else PAGE_PLOTS)
    words = page.evaluate(NETWORK_WORDS)
    # (two lines read as one text without a space; a short figure takes the one-line forms)
    between = [w["text"] for w in words if w["text"] in ("top40", "top 40of 100", "top 40",
                                                         "top 40 of 100")
               or w["text"].startswith("strongest")]
    assert len(between) == notes and len({*between}) == 1  # one form for all
    hit = [(a["text"], b["text"]) for k, a in enumerate(words) for b in words[k + 1:]
           if a["left"] < b["right"] - 1 and b["left"] < a["right"] - 1
           and a["top"] < b["bottom"] - 1 and b["top"] < a["bottom"] - 1]
    assert not hit
    # under the neurons, whose column ends NOTED_BOTTOM (0.17) of the figure above its foot,
    # less a radius of at least 6 px
    figure = page.locator("[data-testid=view-network] .main-svg").first.bounding_box()
    foot = figure["y"] + (1 - 0.17) * figure["height"] + 6
    assert all(w["top"] >= foot - 1 for w in words if w["text"] in between), \
        (foot, figure, [(w["text"], w["top"], w["bottom"]) for w in words])
    if width == 1280 and "big" not in query and "presenter" not in query:  # the whole words
        assert between[0] == "strongest 40of 100 drawn"
    if "he-vs-course" in query:  # seven columns, read from the back of a room: "layer 5", 12 px
        names = [w for w in words if w["text"].startswith("layer 5")]
        assert names and names[0]["size"] >= 12, words


# each shown slot of the inspector: its group, the words of its title that are cut, and
# the top of its heatmap; and each frame label's overflow past its frame
SLOT_TITLES = """() => ({
  slots: [...document.querySelectorAll('.cache-view .slot:not([hidden])')].map((s) => {
    const title = s.querySelector('.slot-title').getBoundingClientRect();
    const groups = [...document.querySelectorAll('.cache-view .slots')];
    return {name: s.dataset.name, group: groups.indexOf(s.parentElement),
      cut: [...s.querySelectorAll('.slot-title > *')].filter((w) =>
        w.scrollWidth > w.clientWidth + 1 || w.getBoundingClientRect().right > title.right + 1)
        .map((w) => w.textContent),
      heatmap: Math.round(s.querySelector('.heatmap-box').getBoundingClientRect().top)}; }),
  frames: [...document.querySelectorAll('.cache-view .frame-label')].map((f) =>
    f.scrollWidth - f.clientWidth)})"""


@pytest.mark.parametrize("query", ["?lesson=caches", "?lesson=caches&big=1"],
                         ids=["lesson", "lesson-large-text"])
def test_narrow_slots_break_their_titles_rather_than_cut_them(page, server, query):
    """With the lesson panel beside it at 1280, the inspector's slots are narrow: a title
    goes onto two lines, name then shape, and the heatmaps of a frame stay level."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, query)
    shown = page.evaluate(SLOT_TITLES)
    slots = shown["slots"]
    assert {s["name"] for s in slots} >= {"A_prev", "W", "b", "Z", "A", "dA", "dZ", "dW", "db"}
    for group in {s["group"] for s in slots}:
        assert len({s["heatmap"] for s in slots if s["group"] == group}) == 1, slots
    assert all(width <= 1 for width in shown["frames"]), shown["frames"]
    if "big" not in query:
        assert not [s for s in slots if s["cut"]], slots
    else:  # about 55 px: only the longest name gives way, and its tooltip says it whole
        assert {w for s in slots for w in s["cut"]} <= {"A_prev = X", "2 × 160"}, slots


def test_a_long_colour_bar_label_does_not_squeeze_the_slots_beside_it(page, server):
    """The divergence lesson's last stop: b[2]'s bar says "0 · own max · faint: its max
    3.7e135"; a column's labels keep to their room, and A_prev keeps its heatmap."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?lesson=divergence&tour=4")
    widths = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
      '.cache-view .slot:not([hidden])')].map((s) => [s.dataset.name,
        s.getBoundingClientRect().width]))""")
    assert widths["A_prev"] >= 60 and widths["A_prev"] > widths["b"], widths


# every visible control a tap can reach that is under 24 px either way (the heatmaps,
# surfaces with a cursor of their own, are left out)
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'a[href], button, input, select, summary, [tabindex="0"]:not(canvas)')]
  .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .map((e) => { const r = e.getBoundingClientRect();
    return [e.id || e.dataset.testid || e.textContent.trim().slice(0, 20), r.width, r.height]; })
  .filter(([, w, h]) => w > 0 && (w < 24 || h < 24))"""


def test_a_touch_phones_controls_are_at_least_24_px_each_way(browser, server):
    """WCAG 2.2's target size, with the secondary controls shown too; a mouse's page keeps
    its look (the rules are for a coarse pointer only)."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                              is_mobile=True)
    try:
        page = ctx.new_page()
        open_page(page, server)
        assert page.evaluate(SMALL_TARGETS) == []
        # the inspector's heatmaps take a tap each, the one column of b and db too
        slots = page.evaluate("""() => [...document.querySelectorAll('[data-testid^=cache-slot-]')]
          .filter((e) => e.getClientRects().length)
          .map((e) => [e.dataset.testid, e.getBoundingClientRect().width])""")
        assert len(slots) >= 9 and min(width for _, width in slots) >= 24, slots
        page.locator("#more-controls").click()
        assert page.evaluate(SMALL_TARGETS) == []
        # a lesson's panel (its ×, the tour's buttons) and the quiz's answers
        open_page(page, server, "?lesson=bug-missing-1-over-m&tour=1&quiz=1")
        expect(page.get_by_test_id("lesson-close")).to_be_visible()
        expect(page.locator(".quiz-option").first).to_be_visible()
        assert page.evaluate(SMALL_TARGETS) == []
        # the buttons tapped most are taller: the iteration's and phase's ◀ ▶, the tour's
        for target in (page.get_by_test_id("step-next"), page.get_by_test_id("phase-next"),
                       page.locator(".lesson-nav button").last):
            assert target.bounding_box()["height"] >= 36
        assert page.get_by_test_id("phase-next").bounding_box()["width"] >= 36
        # and ◀ slider ▶ keep one line
        ys = {page.get_by_test_id(t).bounding_box()["y"] for t in ("step-prev", "step-next")}
        assert len(ys) == 1
    finally:
        ctx.close()


@pytest.mark.parametrize(("layer", "rows"), [(2, 8), (3, 1)])
def test_a_tapped_cells_formula_leaves_the_cell_in_sight_and_no_tip_over_it(browser, server,
                                                                            layer, rows):
    """On a touch phone the tip of a tapped cell stayed over its formula (hiding its last
    line), and the formula opened over the cell, so that the next tap hit the formula (a
    1-unit output's Z is one row as tall as the heatmap)."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                              is_mobile=True)
    try:
        page = ctx.new_page()
        open_page(page, server, f"?it=3&phase=forward-{layer}&layer={layer}")
        heatmap = page.get_by_test_id("cache-slot-Z")
        heatmap.scroll_into_view_if_needed()
        x, y = slot_point(page, "Z", 0.5, 0.5)
        page.touchscreen.tap(x, y)
        formula = page.get_by_test_id("cell-formula")
        expect(formula).to_contain_text("(exact)")
        expect(page.locator(".tooltip")).to_be_hidden()
        box, cells = formula.bounding_box(), heatmap.bounding_box()
        row_top = cells["y"] + cells["height"] * (int((y - cells["y"]) / cells["height"] * rows)
                                                  / rows)
        row_bottom = row_top + cells["height"] / rows
        assert box["y"] >= row_bottom or box["y"] + box["height"] <= row_top, (box, row_top,
                                                                               row_bottom)
        assert page.evaluate(SMALL_TARGETS) == []  # its × too
    finally:
        ctx.close()


# the gradient flow plot's notes (Plotly annotations) that cross its figure's box
CUT_FLOW_NOTES = """() => {
  const gd = document.querySelector('[data-testid=view-gradient-flow] .js-plotly-plot');
  const box = gd.getBoundingClientRect();
  return [...gd.querySelectorAll('.annotation')].filter((a) => {
    const r = a.getBoundingClientRect();
    return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1);
  }).map((a) => a.textContent);
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_the_note_of_layers_off_the_log_axis_stays_in_its_figure(page, server, width):
    """At the last step of a diverged run every ‖dW[l]‖ is 0: the note that names them sits
    at the right end of a plot that a phone draws about 100 px wide."""
    page.set_viewport_size({"width": width, "height": 844})
    open_page(page, server, "?dataset=sine&learning_rate=5&it=254&phase=cost&layer=3")
    notes = page.locator("[data-testid=view-gradient-flow] .annotation")
    expect(notes.filter(has_text="off the log axis")).to_have_count(1)
    assert page.evaluate(CUT_FLOW_NOTES) == []
