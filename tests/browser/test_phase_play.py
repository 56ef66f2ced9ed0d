"""Phase play (issue 13, CONTRACT §5 `phase-play`): the phases of an iteration advance by
themselves, forward 1 … L, cost, backward L … 1, update, and on into the next iteration, at
the pace the URL keeps; the inspector follows the phase's layer; a hand on the step
controls, the iteration player, or the button again stops it; the network diagram moves
between phases (not with reduced motion) and thins the edges of wide layers."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page, redraws, wait_redrawn

# the default run has layers 1..3 (moons, hidden [8, 8]): (iteration, phase label, layer)
ONE_ITERATION = [(0, "forward · layer 1", 1), (0, "forward · layer 2", 2),
                 (0, "forward · layer 3", 3), (0, "cost", 3), (0, "backward · layer 3", 3),
                 (0, "backward · layer 2", 2), (0, "backward · layer 1", 1), (0, "update", 1),
                 (1, "forward · layer 1", 1), (1, "forward · layer 2", 2)]
# learning rate 5 on sine: the run stops at iteration 6, whose Z[3] is not finite
DIVERGED = "?dataset=sine&hidden_layers=16,16&learning_rate=5&it=6&pace=fast"
DIVERGED_PHASES = ["forward · layer 1", "forward · layer 2", "forward · layer 3", "cost",
                   "backward · layer 3", "backward · layer 2", "backward · layer 1", "update"]

# every phase the page shows from now on, as [iteration, phase label, selected layer]
RECORD = """() => {
  window.shownPhases = [];
  const label = document.querySelector('[data-testid=phase-label]');
  const note = () => {
    const step = document.querySelector('[data-testid=step-label]').textContent;
    const entry = [Number(step.match(/iteration (\\d+)/)[1]), label.textContent,
                   Number(document.querySelector('[data-testid=layer-select]').value)];
    const last = window.shownPhases.at(-1);
    if (!last || last.join() !== entry.join()) window.shownPhases.push(entry);
  };
  note();
  new MutationObserver(note).observe(label, {childList: true, characterData: true, subtree: true});
}"""
SHOWN = "() => window.shownPhases"
FRAMES = "() => performance.getEntriesByName('phase-frame').length"


def shown(page) -> list[tuple[int, str, int]]:
    return [tuple(entry) for entry in page.evaluate(SHOWN)]


def wait_shown(page, count: int):
    page.wait_for_function(f"() => window.shownPhases.length >= {count}")


def press(page, test_id="phase-play"):
    page.get_by_test_id(test_id).click()


def playing(page):
    return expect(page.get_by_test_id("phase-play"))


def test_phases_play_in_order_into_the_next_iteration_with_the_inspector(page, server):
    open_page(page, server, "?pace=fast")
    page.evaluate(RECORD)
    press(page)
    playing(page).to_have_attribute("aria-pressed", "true")
    wait_shown(page, len(ONE_ITERATION))
    press(page)
    playing(page).to_have_attribute("aria-pressed", "false")
    assert shown(page)[:len(ONE_ITERATION)] == ONE_ITERATION
    # pressed again, it stays where it stopped, and the inspector is on the phase's layer
    stopped = shown(page)[-1]
    page.wait_for_timeout(1200)  # more than two phases at the fast pace
    assert shown(page)[-1] == stopped
    expect(page.get_by_test_id("view-cache")).to_contain_text(f"cache[{stopped[2]}]")
    expect(page).to_have_url(re.compile(f"[?&]it={stopped[0]}&"))


# (what the hand does, the iteration it leaves on screen): from iteration 3, forward 1
HAND_STEPS = [
    (lambda page: press(page, "phase-next"), 3),
    (lambda page: press(page, "phase-prev"), 3),
    (lambda page: press(page, "step-next"), 4),
    (lambda page: press(page, "step-prev"), 2),
    (lambda page: page.get_by_test_id("step-slider").fill("7"), 7),
    (lambda page: page.keyboard.press("ArrowRight"), 4),
]


HAND_IDS = ["phase-next", "phase-prev", "step-next", "step-prev", "slider", "arrow"]


@pytest.mark.parametrize(("hand", "iteration"), HAND_STEPS, ids=HAND_IDS)
def test_stepping_by_hand_stops_phase_play(page, server, hand, iteration):
    open_page(page, server, "?it=3&pace=fast")
    page.evaluate(RECORD)
    press(page)
    playing(page).to_have_attribute("aria-pressed", "true")
    wait_shown(page, 2)  # it has moved on by itself
    hand(page)
    playing(page).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_test_id("step-label")).to_contain_text(f"iteration {iteration} ")
    stopped = shown(page)[-1]
    page.wait_for_timeout(1200)
    assert shown(page)[-1] == stopped


def test_the_url_keeps_the_pace(page, server):
    open_page(page, server, "?pace=fast")
    pace = page.locator("#pace")
    expect(pace).to_have_value("fast")
    before = redraws(page)
    pace.select_option("slow")
    wait_redrawn(page, before)
    expect(page).to_have_url(re.compile("[?&]pace=slow"))
    open_page(page, server, "?" + page.url.split("?", 1)[1])
    expect(page.locator("#pace")).to_have_value("slow")
    pace.select_option("normal")  # the default is left out of the URL
    expect(page).not_to_have_url(re.compile("pace="))


def test_the_two_players_stop_each_other(page, server):
    open_page(page, server, "?pace=fast")
    toggle = page.get_by_test_id("play-toggle")
    press(page)
    playing(page).to_have_attribute("aria-pressed", "true")
    toggle.click()  # iteration play stops phase play
    expect(toggle).to_contain_text("Pause")
    playing(page).to_have_attribute("aria-pressed", "false")
    press(page)  # and phase play stops iteration play
    playing(page).to_have_attribute("aria-pressed", "true")
    expect(toggle).to_contain_text("Play")
    page.keyboard.press("p")  # the keyboard too
    playing(page).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("p")
    playing(page).to_have_attribute("aria-pressed", "true")
    page.evaluate("document.activeElement.blur()")  # space on a focused button presses it
    page.keyboard.press("Space")
    expect(toggle).to_contain_text("Pause")
    playing(page).to_have_attribute("aria-pressed", "false")
    toggle.click()


# (prefers-reduced-motion, whether the diagram moves between phases)
MOTION = [("no-preference", True), ("reduce", False)]


@pytest.mark.parametrize(("preference", "moves"), MOTION, ids=["motion", "reduced-motion"])
def test_the_diagram_moves_between_phases_unless_motion_is_reduced(page, server, preference, moves):
    page.emulate_media(reduced_motion=preference)
    open_page(page, server, "?pace=fast")
    page.evaluate(RECORD)
    frames = page.evaluate(FRAMES)
    press(page)
    wait_shown(page, 4)  # forward 1 again, 2, 3 and the cost
    press(page)
    assert (page.evaluate(FRAMES) > frames) == moves
    # the phases advanced all the same
    assert [label for _, label, _ in shown(page)[:4]] == [p for _, p, _ in ONE_ITERATION[:4]]


def test_a_diverged_run_plays_every_phase_and_stops_at_its_end(page, server):
    open_page(page, server, DIVERGED)
    page.evaluate(RECORD)
    press(page)
    # the run's last step: phase play stops by itself after its update
    playing(page).to_have_attribute("aria-pressed", "false", timeout=15_000)
    assert shown(page) == [(6, label, layer) for label, layer in
                           zip(DIVERGED_PHASES, [1, 2, 3, 3, 3, 2, 1, 1], strict=True)]
    expect(page.get_by_test_id("alert")).to_contain_text("Training diverged at iteration 6")
    expect(page.locator("#network-key")).to_contain_text("grey: not a finite number")


NOTE = "#view-network .annotation-text"


# (run, the notes on thinned edges): Plotly writes a note's two lines as two spans
WIDE = [("?hidden_layers=128,8", ["strongest 40of 80 drawn"]), ("", [])]


@pytest.mark.parametrize(("query", "notes"), WIDE, ids=["128-wide", "narrow"])
def test_wide_layers_draw_their_strongest_edges_and_say_so(page, server, query, notes):
    open_page(page, server, query)
    texts = page.locator(NOTE).all_text_contents()
    assert [t for t in texts if t.startswith("strongest")] == notes


# the edges network_scene.js draws between a 12-unit layer and a 12-wide input (10 of each
# drawn), for W with distinct |values|: [[i, k], ...] of the drawn ones, and of the 40
# largest |W[i][k]| among drawn units, worked out here from the same W
TOP_EDGES = """async () => {
  const {scene} = await import('/static/js/views/network_scene.js');
  const W = [...Array(12)].map((_, i) => [...Array(12)].map((_, k) => Math.sin(7 * i + 3 * k + 1)));
  const column = Array(12).fill(0.5);
  const example = {A: [column, column], dZ: [null, column], dA: [null, column], masks: null};
  const frame = {run: {dims: [12, 12], L: 1}, params: [{W: {data: W}}], example};
  const drawn = scene(frame, {w: 500, h: 400}, {kind: 'forward', l: 1}).edges.map(e => e.key);
  const pairs = [];
  for (let i = 0; i < 10; i++) for (let k = 0; k < 10; k++) pairs.push([i, k]);
  pairs.sort((a, b) => Math.abs(W[b[0]][b[1]]) - Math.abs(W[a[0]][a[1]]));
  return {drawn: drawn.sort(), strongest: pairs.slice(0, 40).map(([i, k]) => `1:${i}:${k}`).sort()};
}"""


def test_the_strongest_edges_are_the_largest_values(page, server):
    open_page(page, server)
    edges = page.evaluate(TOP_EDGES)
    assert len(edges["drawn"]) == 40
    assert edges["drawn"] == edges["strongest"]


# what a phase changes: the diagram and the inspector. the views of the iteration (loss,
# gradient flow, boundary, distributions, units, digits) keep their picture until the
# iteration (or, for the distributions and units, the layer) changes
ITERATION_VIEWS = ["view-loss", "view-gradient-flow", "view-boundary", "view-distributions",
                   "view-units", "view-digits"]
PHASE_VIEWS = ["view-network", "view-cache"]
# every Plotly.react of the page, by the test id of the view it draws in (before the page loads)
COUNT_REACTS = """(() => {
  window.reacts = [];
  let plotly;
  Object.defineProperty(window, 'Plotly', {configurable: true, get: () => plotly, set: (P) => {
    const react = P.react;
    P.react = function (gd, ...rest) {
      const view = gd.closest('[data-testid]');
      window.reacts.push(view ? view.dataset.testid : gd.id);
      return react.call(this, gd, ...rest);
    };
    plotly = P;
  }});
})()"""
# from now on: per view, the Plotly.react calls and the changes to its DOM (a redraw rewrites
# its captions, bars or figure; a repaint of a canvas alone does not show here)
WATCH = """(ids) => {
  window.reacts = [];
  const changes = Object.fromEntries(ids.map(id => [id, 0]));
  for (const id of ids) {
    new MutationObserver((records) => { changes[id] += records.length; })
      .observe(document.querySelector(`[data-testid=${id}]`),
               {subtree: true, childList: true, attributes: true, characterData: true});
  }
  window.redrawn = () => Object.fromEntries(Object.entries(changes).map(([id, n]) =>
    [id, n + window.reacts.filter(r => r === id).length]));
}"""
REDRAWN = "() => window.redrawn()"
# a snapshot of REDRAWN whenever the phase label changes: the frame of the phase before it
# has drawn by then (phase play draws a phase, then waits, then moves on)
SNAPSHOTS = """() => {
  window.snapshots = [];
  const label = document.querySelector('[data-testid=phase-label]');
  let last = label.textContent;
  new MutationObserver(() => {
    if (label.textContent === last) return;
    last = label.textContent;
    window.snapshots.push([last, window.redrawn()]);
  }).observe(label, {childList: true, characterData: true, subtree: true});
}"""


def wait_histograms(page, layer):
    """The distributions draw the summary until the histograms arrive, then redraw."""
    expect(page.get_by_test_id("view-distributions")).to_contain_text(f"dZ[{layer}]")


def test_a_phase_change_within_an_iteration_redraws_only_what_the_phase_changes(page, server):
    page.add_init_script(COUNT_REACTS)
    # forward 3, the cost and backward 3 of the default run all work on layer 3
    open_page(page, server, "?it=2&phase=forward-3&layer=3")
    wait_histograms(page, 3)
    page.evaluate(WATCH, ITERATION_VIEWS + PHASE_VIEWS)
    for label in ["cost", "backward · layer 3"]:
        before = redraws(page)
        press(page, "phase-next")
        wait_redrawn(page, before)
        expect(page.get_by_test_id("phase-label")).to_have_text(label)
    redrawn = page.evaluate(REDRAWN)
    assert {view: redrawn[view] for view in ITERATION_VIEWS} == dict.fromkeys(ITERATION_VIEWS, 0)
    assert all(redrawn[view] > 0 for view in PHASE_VIEWS), redrawn


# what each view says about the iteration it shows, once it has drawn iteration {t}
SHOWS_ITERATION = [("view-network", "aria-label", "Network diagram, iteration {t},"),
                   ("view-cache", "text", "· iteration {t}(?!\\d)"),
                   ("view-loss", "text", "iteration {t}: J ="),
                   ("gradient-bars", "text", "iteration {t}, log scale"),
                   ("view-boundary", "text", "θ at iteration {t},"),
                   ("view-distributions", "aria-label", "At iteration {t}(?!\\d)"),
                   ("gradcheck", "text", "Check iteration {t} now")]


def expect_iteration(page, t):
    for test_id, where, words in SHOWS_ITERATION:
        view, text = page.get_by_test_id(test_id), re.compile(words.format(t=t))
        if where == "text":
            expect(view).to_contain_text(text)
        else:
            expect(view).to_have_attribute(where, text)


def test_phase_play_redraws_the_iteration_views_only_when_the_iteration_changes(page, server):
    page.add_init_script(COUNT_REACTS)
    open_page(page, server, "?pace=fast")
    wait_histograms(page, 1)
    page.evaluate(RECORD)
    page.evaluate(WATCH, ITERATION_VIEWS + PHASE_VIEWS)
    page.evaluate(SNAPSHOTS)
    press(page)
    wait_shown(page, len(ONE_ITERATION))  # on into iteration 1
    press(page)
    playing(page).to_have_attribute("aria-pressed", "false")
    # when iteration 1's forward 1 shows, every phase of iteration 0 has drawn
    label, redrawn = page.evaluate("() => window.snapshots")[len(ONE_ITERATION) - 3]
    assert label == ONE_ITERATION[-2][1] and shown(page)[len(ONE_ITERATION) - 2][0] == 1
    assert {view: redrawn[view] for view in ITERATION_VIEWS} == dict.fromkeys(ITERATION_VIEWS, 0)
    assert all(redrawn[view] > 0 for view in PHASE_VIEWS), redrawn
    # stopped, every view shows the iteration on screen; a step on, the next one
    t = shown(page)[-1][0]
    expect_iteration(page, t)
    press(page, "step-next")
    expect_iteration(page, t + 1)


def distributions_of(layer):
    return re.compile(f"Distributions of layer {layer} over")


def test_a_view_off_screen_waits_while_the_phases_play_and_draws_once_in_view(page, server):
    open_page(page, server)  # the normal pace: layer 3 stays selected for three phases
    wait_histograms(page, 1)
    view = page.get_by_test_id("view-distributions")
    page.evaluate(RECORD)
    press(page)
    wait_shown(page, 3)  # forward 3: layer 3 is selected, the distributions are off screen
    expect(view).to_have_attribute("aria-label", distributions_of(1))
    view.scroll_into_view_if_needed()
    # in view, it draws the layer on screen, and follows the phases back to layer 1
    for layer in [3, 2, 1]:
        expect(view).to_have_attribute("aria-label", distributions_of(layer))
    press(page)
