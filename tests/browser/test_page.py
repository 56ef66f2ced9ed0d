"""The page in a real browser: CONTRACT §5 test ids and §6 behaviour, as a learner uses it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    PLOTS,
    Recorder,
    open_page,
    redraws,
    slot_point,
    wait_redrawn,
)

TEST_IDS = ["run-form", "run-submit", "step-slider", "step-prev", "step-next", "play-toggle",
            "step-label", "phase-prev", "phase-next", "phase-label", "layer-select",
            "view-network", "view-cache", "view-gradient-flow", "view-loss", "view-boundary",
            "view-distributions", "view-code", "cache-explainer", "gradcheck", "alert"]
# the default run has layers 1..3 (moons, hidden [8, 8])
PHASES = ["forward · layer 1", "forward · layer 2", "forward · layer 3", "cost",
          "backward · layer 3", "backward · layer 2", "backward · layer 1", "update"]
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
    expect(explainer).to_contain_text("Z[1] = W[1]·A[0] + b[1] (A[0] = X)")
    expect(page.get_by_test_id("view-code")).to_contain_text("linear_forward")


def test_plots_offer_nothing_that_leaves_the_machine(page, server):
    """No "send to cloud" / "edit in Chart Studio" button and no link out of any plot."""
    open_page(page, server)
    loss = page.get_by_test_id("view-loss").locator(PLOTS)
    loss.hover()
    expect(loss.locator(".modebar-btn").first).to_be_attached()
    titles = page.locator(".modebar-btn").evaluate_all(
        "buttons => buttons.map(b => b.getAttribute('data-title') || '')")
    assert titles and not [t for t in titles if re.search("cloud|chart studio|share", t, re.I)]
    assert page.locator(f"{PLOTS} a[href^='http']").count() == 0


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
    jump, label = page.locator("#jump"), page.get_by_test_id("step-label")
    jump.fill("7")
    jump.press("Enter")
    expect(label).to_contain_text("iteration 7")
    # past either end, or between two iterations: the box says where it went
    for typed, went in (("9999", "299"), ("-5", "0"), ("12.5", "12"), ("", "12")):
        jump.fill(typed)
        jump.press("Enter")
        expect(label).to_contain_text(f"iteration {went} ")
        expect(jump).to_have_value(went)


def test_phase_buttons_walk_one_iteration_into_the_next(page, server):
    """phase ▶ at the update goes on to the next iteration's forward, layer 1; ◀ phase at
    forward, layer 1 goes back to the previous iteration's update."""
    open_page(page, server, "?it=3")
    label, step = page.get_by_test_id("phase-label"), page.get_by_test_id("step-label")
    for text in PHASES:
        expect(label).to_have_text(text)
        expect(step).to_contain_text("iteration 3 ")
        page.get_by_test_id("phase-next").click()
    expect(label).to_have_text("forward · layer 1")
    expect(step).to_contain_text("iteration 4 ")
    expect(page.get_by_test_id("layer-select")).to_have_value("1")
    page.get_by_test_id("phase-prev").click()
    expect(label).to_have_text("update")
    expect(step).to_contain_text("iteration 3 ")
    for text in reversed(PHASES[:-1]):
        page.get_by_test_id("phase-prev").click()
        expect(label).to_have_text(text)
    expect(page).to_have_url(re.compile("[?&]it=3&phase=forward-1&layer=1"))


# (view, button): the walk stops at the run's first and last phase
PHASE_ENDS = [("?it=0&phase=forward-1&layer=1", "phase-prev", "forward · layer 1", 0),
              ("?it=299&phase=update&layer=1", "phase-next", "update", 299)]


@pytest.mark.parametrize(("query", "button", "phase", "iteration"), PHASE_ENDS,
                         ids=["first", "last"])
def test_phase_walk_stops_at_the_runs_ends(page, server, query, button, phase, iteration):
    open_page(page, server, query)
    page.get_by_test_id(button).click()
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("phase-label")).to_have_text(phase)
    expect(page.get_by_test_id("step-label")).to_contain_text(f"iteration {iteration} ")


# (query, the phase banner): dropout's backward reads the mask D; L2's cost reads every W
PHASE_IO = [
    ("?phase=backward-2&layer=2",
     "backward, layer 2: reads dA[2], linear_cache[2] = (A[1], W[2], b[2]), "
     "activation_cache[2] = Z[2]; writes dZ[2], dW[2], db[2], dA[1]"),
    ("?keep_prob=0.8&phase=backward-2&layer=2",
     "backward, layer 2: reads dA[2], D[2] (dropout mask), linear_cache[2] = (A[1], W[2], b[2]), "
     "activation_cache[2] = Z[2]; writes dZ[2], dW[2], db[2], dA[1]"),
    ("?l2=0.1&phase=cost&layer=3",
     "cost: reads A[3], Y, W[1..3] (L2 term); writes J (the cost), dA[3] (start of backward)"),
]


@pytest.mark.parametrize(("query", "banner"), PHASE_IO, ids=["plain", "dropout", "l2"])
def test_phase_says_what_it_reads_and_writes(page, server, query, banner):
    open_page(page, server, query)
    expect(page.locator("#phase-io")).to_have_text(banner)
    if "backward" in query:
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
    page.mouse.click(*slot_point(page, "Z", 0.4, 0.5))
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
    # the URL follows a burst of changes at most every 400 ms: an earlier write (at the cost
    # phase, whose layer is 3 too) may still stand, so wait for both of the last state's fields
    expect(page).to_have_url(re.compile(r"^(?=.*[?&]phase=backward-2)(?=.*[?&]layer=3)"))
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


def test_bad_config_in_the_url_names_the_field(page, server):
    open_page(page, server, "?learning_rate=50")
    alert = page.get_by_test_id("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("learning_rate")
    expect(alert).to_contain_text("Showing the default run instead.")  # not the link's
    expect(page.locator("#run-summary")).to_contain_text("α = 0.5")  # the default run stays


def test_distributions_draw_the_summary_until_histograms_arrive(page, server):
    page.recorder.allow("status of 404")
    page.route(re.compile(r"/histograms$"), lambda route: route.fulfill(
        status=404, content_type="application/json", body='{"detail": "Not Found"}'))
    open_page(page, server)
    view = page.get_by_test_id("view-distributions")
    expect(view).to_contain_text("‖db[1]‖")
    # every panel (a figure each) has a line with numbers in it, the db norms included
    drawn = page.evaluate("""() => [...document.querySelectorAll('#view-distributions .dist-panel')]
        .map(p => p.data.some(t => t.y && t.y.some(v => v !== null && v !== undefined)))""")
    assert drawn == [True] * 4


# controls cut off at the window's edge or drawn over one another (1 px of slack), and
# panels (the code panel's long lines) that would need a horizontal scrollbar
OVERLAPS = """() => {
  const parts = '.controls button, .controls select, .controls input, .controls .step-label, ' +
    '.controls .phase-label';  // the phase chips are buttons
  const boxes = [...document.querySelectorAll(parts)].map(e => e.getBoundingClientRect());
  const cut = boxes.filter(b => b.left < 0 || b.right > window.innerWidth).length;
  const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 &&
    a.top < b.bottom - 1 && b.top < a.bottom - 1;
  let overlaps = 0;
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => { overlaps += hit(a, b); }));
  const clipped = [...document.querySelectorAll('.panel, .code')]
    .filter(p => p.scrollWidth > p.clientWidth + 1).length;
  return {cut, overlaps, clipped, wide: document.documentElement.scrollWidth > window.innerWidth};
}"""
BIG_DEEP = "?big=1&hidden_layers=8,8,8,8,8,8&keep_prob=0.8"


def test_large_text_controls_fit_at_1280(page, server):
    open_page(page, server, BIG_DEEP)
    expect(page.locator("html")).to_have_class(re.compile("big"))
    assert page.evaluate(OVERLAPS) == {"cut": 0, "overlaps": 0, "clipped": 0, "wide": False}


def test_step_buttons_at_the_runs_ends_say_there_is_nowhere_to_go(page, server):
    """At the last iteration's update, ▶ (iteration and phase) looks and says so, and a
    press stays there; ◀ does not. At the first phase of the run, the ◀ buttons do."""
    open_page(page, server, "?steps=10&it=9&phase=update")
    for test_id, end in (("step-next", True), ("phase-next", True), ("step-prev", False),
                         ("phase-prev", False)):
        button = page.get_by_test_id(test_id)
        if end:
            expect(button).to_have_class(re.compile(r"\bat-end\b"))
            expect(button).to_have_attribute("title", re.compile("none, this is the last one"))
            expect(button).to_have_css("border-top-style", "dashed")
        else:
            expect(button).not_to_have_class(re.compile(r"\bat-end\b"))
    page.get_by_test_id("step-next").click()
    page.get_by_test_id("phase-next").click()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 9 of 9")
    expect(page.get_by_test_id("phase-label")).to_have_text("update")
    page.get_by_test_id("step-prev").click()  # away from the end: an ordinary button again
    expect(page.get_by_test_id("step-next")).not_to_have_class(re.compile(r"\bat-end\b"))
    expect(page.get_by_test_id("step-next")).to_have_attribute("title", "Next iteration (→)")
    open_page(page, server, "?steps=10&it=0")
    for test_id in ("step-prev", "phase-prev"):
        expect(page.get_by_test_id(test_id)).to_have_class(re.compile(r"\bat-end\b"))
    expect(page.get_by_test_id("phase-prev")).to_have_attribute(
        "title", re.compile("none, this is the first one"))


def test_play_before_the_first_run_opens_keeps_the_urls_view(page, server):
    """Play pressed while the page's first run still trained had nothing to play: it took
    the iteration to 0 ("iteration 7 of 0") and the URL's view with it."""
    held = []
    page.route("**/api/runs", lambda route: held.append(route)
               if route.request.method == "POST" else route.continue_())
    page.goto(f"{server}/?it=7&steps=50&n_samples=100")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the run's POST was not sent"
    page.get_by_test_id("play-toggle").click()
    expect(page.get_by_test_id("play-toggle")).to_contain_text("Play")
    held[0].continue_()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 7 of 49")
    expect(page).to_have_url(re.compile(r"[?&]it=7(&|$)"))
