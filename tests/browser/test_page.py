"""The page in a real browser: CONTRACT §5 test ids and §6 behaviour, as a learner uses it."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import Recorder

TEST_IDS = ["run-form", "run-submit", "step-slider", "step-prev", "step-next", "play-toggle",
            "step-label", "phase-prev", "phase-next", "phase-label", "layer-select",
            "view-network", "view-cache", "view-gradient-flow", "view-loss", "view-boundary",
            "view-distributions", "view-code", "cache-explainer", "gradcheck", "alert"]
# the default run has layers 1..3 (moons, hidden [8, 8])
PHASES = ["forward · layer 1", "forward · layer 2", "forward · layer 3", "cost",
          "backward · layer 3", "backward · layer 2", "backward · layer 1", "update"]
PLOTS = ".js-plotly-plot"


def open_page(page, server, query=""):
    """Load the page and wait until the run is trained and every view has drawn."""
    page.goto(f"{server}/{query}")
    page.locator(PLOTS).nth(5).wait_for()
    page.wait_for_function("() => performance.getEntriesByName('step-redraw').length > 0")
    return page


def redraws(page) -> int:
    return page.evaluate("() => performance.getEntriesByName('step-redraw').length")


def wait_redrawn(page, before: int):
    page.wait_for_function(f"() => performance.getEntriesByName('step-redraw').length > {before}")


def step_label(page) -> str:
    return page.get_by_test_id("step-label").inner_text()


def test_first_load_shows_a_trained_default_run(page, server):
    open_page(page, server)
    for test_id in TEST_IDS:
        assert page.get_by_test_id(test_id).count() == 1, test_id
    assert page.locator(PLOTS).count() >= 6
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 0")
    expect(page.get_by_test_id("alert")).to_be_hidden()
    expect(page.locator("#run-summary")).to_contain_text("moons")
    explainer = page.get_by_test_id("cache-explainer")
    expect(explainer).to_contain_text("linear_cache[1] = (A_prev, W, b)")
    expect(page.get_by_test_id("view-code")).to_contain_text("linear_forward")


# (action, iteration after it), applied in order from iteration 3
STEP_ACTIONS = [("step-next", 4), ("step-prev", 3), ("step-prev", 2), ("ArrowRight", 3),
                ("ArrowRight", 4), ("ArrowLeft", 3)]


def test_step_controls_change_the_iteration(page, server):
    open_page(page, server, "?it=3")
    for action, expected in STEP_ACTIONS:
        before = redraws(page)
        if action.startswith("Arrow"):
            page.keyboard.press(action)
        else:
            page.get_by_test_id(action).click()
        expect(page.get_by_test_id("step-label")).to_contain_text(f"iteration {expected} ")
        wait_redrawn(page, before)
        expect(page).to_have_url(re.compile(f"[?&]it={expected}&"))


def test_slider_and_jump_set_the_iteration(page, server):
    open_page(page, server)
    page.get_by_test_id("step-slider").fill("42")
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 42")
    page.locator("#jump").fill("7")
    page.locator("#jump").press("Enter")
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 7")


def test_phase_buttons_walk_one_iteration(page, server):
    open_page(page, server)
    label = page.get_by_test_id("phase-label")
    for text in PHASES:
        expect(label).to_have_text(text)
        page.get_by_test_id("phase-next").click()
    expect(label).to_have_text("update")  # the walk stops at the last phase
    for text in reversed(PHASES[:-1]):
        page.get_by_test_id("phase-prev").click()
        expect(label).to_have_text(text)


def test_phase_says_what_it_reads_and_writes(page, server):
    open_page(page, server, "?phase=backward-2&layer=2")
    expect(page.locator("#phase-io")).to_have_text(
        "backward, layer 2: reads dA[2], linear_cache[2] = (A[1], W[2], b[2]), "
        "activation_cache[2] = Z[2]; writes dZ[2], dW[2], db[2], dA[1]")
    expect(page.get_by_test_id("view-code")).to_contain_text("dW = 1/m * np.dot(dZ, A_prev.T)")


def test_keyboard_walks_phases(page, server):
    open_page(page, server)
    label = page.get_by_test_id("phase-label")
    page.keyboard.press("Shift+ArrowRight")
    expect(label).to_have_text("forward · layer 2")
    page.keyboard.press("ArrowDown")
    expect(label).to_have_text("forward · layer 3")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Shift+ArrowLeft")
    expect(label).to_have_text("forward · layer 1")
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 0")


def played_to(page, label: str, at_least: int):
    """Wait until the label shows an iteration >= at_least; return it."""
    page.wait_for_function(f"() => Number(document.querySelector('[data-testid=step-label]')"
                           f".textContent.match(/iteration (\\d+)/)[1]) >= {at_least}")
    return int(re.search(r"iteration (\d+)", step_label(page)).group(1))


def test_play_advances_until_paused(page, server):
    open_page(page, server)
    toggle = page.get_by_test_id("play-toggle")
    toggle.click()
    expect(toggle).to_contain_text("Pause")
    played_to(page, step_label(page), 3)
    toggle.click()
    expect(toggle).to_contain_text("Play")
    stopped = step_label(page)
    page.wait_for_timeout(400)
    assert step_label(page) == stopped
    page.keyboard.press("Space")  # the keyboard plays too, from where it stopped
    expect(toggle).to_contain_text("Pause")
    played_to(page, stopped, int(re.search(r"\d+", stopped).group()) + 2)
    page.keyboard.press("Space")
    expect(toggle).to_contain_text("Play")


def test_layer_select_changes_the_cache_inspector(page, server):
    open_page(page, server)
    cache = page.get_by_test_id("view-cache")
    expect(cache).to_contain_text("W[1]")
    before = redraws(page)
    page.get_by_test_id("layer-select").select_option("2")
    expect(cache).to_contain_text("W[2]")
    expect(cache).to_contain_text("A_prev = A[1]")
    wait_redrawn(page, before)
    expect(page).to_have_url(re.compile("[?&]layer=2"))
    expect(page.get_by_test_id("cache-explainer")).to_contain_text("linear_cache[2]")
    before = redraws(page)
    page.locator("#scale").select_option("run")  # one colour range for the whole run
    wait_redrawn(page, before)
    expect(page).to_have_url(re.compile("scale=run"))


def test_clicking_a_cell_shows_its_formula(page, server):
    open_page(page, server, "?it=5&phase=forward-2&layer=2")
    # centred, clear of the sticky step controls
    page.get_by_test_id("view-cache").evaluate("el => el.scrollIntoView({block: 'center'})")
    box = page.get_by_test_id("view-cache").bounding_box()
    # the Z heatmap: paper x in [0.49, 0.73], y in [0.56, 0.86] of the 8 px-margin plot area
    x = box["x"] + 8 + 0.6 * (box["width"] - 16)
    y = box["y"] + 8 + (1 - 0.7) * (box["height"] - 16)
    page.mouse.click(x, y)
    formula = page.get_by_test_id("cell-formula")
    expect(formula).to_contain_text("Z[2]")
    expect(formula).to_contain_text("Σ")
    expect(formula).to_contain_text("b[2]")


def test_url_restores_the_same_view(page, server, context):
    open_page(page, server, "?hidden_layers=6,4&learning_rate=0.3")
    page.get_by_test_id("step-slider").fill("12")
    for _ in range(5):
        page.get_by_test_id("phase-next").click()
    page.get_by_test_id("layer-select").select_option("3")
    expect(page.get_by_test_id("phase-label")).to_have_text("backward · layer 2")
    expect(page).to_have_url(re.compile("layer=3"))
    url = page.url
    assert re.search(r"hidden_layers=6,4", url) and "it=12" in url and "layer=3" in url

    again = context.new_page()
    recorder = Recorder(again)
    try:
        open_page(again, url.split("/?")[0], "?" + url.split("?", 1)[1])
        expect(again.get_by_test_id("step-label")).to_contain_text("iteration 12")
        expect(again.get_by_test_id("phase-label")).to_have_text("backward · layer 2")
        expect(again.get_by_test_id("layer-select")).to_have_value("3")
        expect(again.locator("#run-summary")).to_contain_text("2 → 6 → 4 → 1")
        assert again.url == url
        assert recorder.errors == []
    finally:
        again.close()


def test_divergent_run_says_so_in_the_alert(page, server):
    open_page(page, server, "?dataset=sine&learning_rate=10&it=95")
    alert = page.get_by_test_id("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("diverged at iteration 95")
    expect(alert).to_contain_text("learning rate")


# Chromium logs every 4xx answer to fetch() in the console; here that one is expected
INVALID_CONFIG_LOG = "the server responded with a status of 422"


def test_bad_config_in_the_url_names_the_field(page, server):
    page.recorder.allow(INVALID_CONFIG_LOG)
    open_page(page, server, "?learning_rate=50")
    alert = page.get_by_test_id("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("learning_rate")
    expect(page.locator("#run-summary")).to_contain_text("α = 0.5")  # the default run stays


BAD_FORM_VALUES = [("learning_rate", "50", "0.5"), ("hidden_layers", "8, 500", "8, 8")]


def test_bad_config_in_the_form_names_the_field(page, server):
    page.recorder.allow(INVALID_CONFIG_LOG)
    open_page(page, server)
    page.locator("#configure summary").click()
    alert = page.get_by_test_id("alert")
    for field, bad, good in BAD_FORM_VALUES:
        page.locator(f"#field-{field}").fill(bad)
        page.get_by_test_id("run-submit").click()
        expect(alert).to_be_visible()
        expect(alert).to_contain_text(field)
        page.locator(f"#field-{field}").fill(good)


def test_form_trains_a_new_run(page, server):
    open_page(page, server)
    page.locator("#configure summary").click()
    page.locator("#field-dataset").select_option("iris")
    page.locator("#field-hidden_layers").fill("5")
    page.locator("#field-hidden_layers").dispatch_event("change")
    page.locator("#field-steps").fill("40")
    page.get_by_test_id("run-submit").click()
    expect(page.locator("#run-summary")).to_contain_text("iris · 4 → 5 → 3")
    expect(page.get_by_test_id("view-boundary")).to_contain_text("Confusion matrix")
    expect(page).to_have_url(re.compile("dataset=iris.*steps=40"))
