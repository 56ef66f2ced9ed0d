"""Two runs side by side (CONTRACT §5 `compare-toggle`, `view-compare`; issue 17 point 3):
a second run chosen by its id, its link or as the run shown before; both runs step
together; the URL restores the comparison; a tensor of both runs and their difference, a
mistaken gradient against the true one, shapes that differ and a run that diverged."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_page, post_run, redraws, wait_redrawn
from tests.browser.test_accessibility import CONTRAST, UNLABELLED

SINE = "dataset=sine&hidden_layers=16,16"
# learning rate 5 on sine diverges: Z[3] is not finite at iteration 6, the last one recorded
DIVERGED = {"dataset": "sine", "hidden_layers": [16, 16], "learning_rate": 5}
NON_FINITE_GREY = [127, 127, 127, 255]

# the colour of the middle cell of one of the comparison's heatmaps (a pixel per cell)
MAP_PIXEL = """testid => {
  const c = document.querySelector(`[data-testid=${testid}] canvas`);
  return [...c.getContext('2d').getImageData(c.width >> 1, c.height >> 1, 1, 1).data];
}"""


def run_id(page, server, config):
    """The id of the run of `config` (POST /api/runs; the page trains it on demand)."""
    answer = post_run(page.request, server, config)
    assert answer.status in (201, 202), answer.text()
    return answer.json()["id"]


def traces(page, testid):
    return page.get_by_test_id(testid).evaluate("gd => gd.data.length")


def marker_at(page, testid):
    return page.get_by_test_id(testid).evaluate("gd => gd.layout.shapes[0].x0")


def max_abs(page, testid):
    return float(page.get_by_test_id(testid).get_attribute("data-max-abs"))


def figure_of(page, testid):
    """A comparison figure with its caption."""
    return page.get_by_test_id(testid).locator("xpath=..")


def compare_with(page, text):
    """Open the comparison with the toggle and paste `text` into its field."""
    toggle = page.get_by_test_id("compare-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("compare-source")).to_be_focused()
    page.get_by_test_id("compare-source").fill(text)
    page.get_by_test_id("compare-source").press("Enter")


def test_the_flow_caption_gives_both_runs_norms_of_W(page, server):
    """The L2 lesson quotes both runs' final ‖W[l]‖; run B's were shown nowhere. The ‖dW‖
    figure's caption gives each run's ‖W[l]‖ at the iteration, as the summaries hold them."""
    open_page(page, server, "?lesson=l2-shrinks-w&tour=2")
    caption = figure_of(page, "compare-flow").locator(".caption")
    expect(caption).to_contain_text("‖W[l]‖: A [1] 3.61")
    lessons = page.request.get(f"{server}/api/lessons").json()
    run_b = next(x for x in lessons if x["id"] == "l2-shrinks-w")["compare"]["run_id"]
    norms = [layer["W_norm"][299] for layer in
             page.request.get(f"{server}/api/runs/{run_b}/summary").json()["layers"]]
    expect(caption).to_contain_text("; B " + " ".join(
        f"[{l}] {float(f'{v:.3g}'):g}" for l, v in enumerate(norms, start=1)))


def test_a_pasted_id_shows_both_runs_with_two_traces_per_curve(page, server):
    open_page(page, server, "?it=3")
    expect(page.get_by_test_id("view-compare")).to_be_hidden()
    other = run_id(page, server, {"learning_rate": 2.0})
    compare_with(page, other)
    view = page.get_by_test_id("view-compare")
    expect(view).to_be_visible()
    legend = page.get_by_test_id("compare-legend")
    expect(legend).to_contain_text("run A (this page's): lr 0.5")
    expect(legend).to_contain_text("run B: lr 2")
    expect(page.get_by_test_id("compare-cost")).to_have_class(re.compile("js-plotly-plot"))
    assert traces(page, "compare-cost") == 2
    assert traces(page, "compare-score") == 2
    assert traces(page, "compare-flow") == 2 * 3  # ‖dW[l]‖ of each of the 3 layers, per run
    # colour says the run in the cost and score, the layer in ‖dW‖: no colour says both,
    # and the ‖dW‖ caption keys each layer's colour
    colours = page.evaluate("""() => Object.fromEntries(['cost', 'score', 'flow'].map((k) => [k,
      document.querySelector(`[data-testid=compare-${k}]`).data.map((t) => t.line.color)]))""")
    assert not set(colours["cost"] + colours["score"]) & set(colours["flow"]), colours
    swatches = page.evaluate("""() => [...document.querySelectorAll('.layer-swatch')]
      .map((s) => [getComputedStyle(s).borderTopColor, getComputedStyle(s).borderTopStyle])""")
    assert len(swatches) == 2 * 3 and len({colour for colour, _ in swatches}) == 3, swatches
    # run A's lines solid, run B's dashed, as drawn
    assert [style for _, style in swatches] == ["solid"] * 3 + ["dashed"] * 3, swatches
    expect(page).to_have_url(re.compile(f"compare={re.escape(other)}"))
    # the toggle again: the comparison closes and leaves the URL
    page.get_by_test_id("compare-toggle").click()
    expect(view).to_be_hidden()
    expect(page).not_to_have_url(re.compile("compare="))


def test_a_pasted_page_link_is_compared(page, server):
    """The page's own URL holds a config, not an id: its run is asked for by that config."""
    open_page(page, server, "?steps=40")
    compare_with(page, f"{server}/?steps=40&learning_rate=0.1&it=7")
    expect(page.get_by_test_id("compare-legend")).to_contain_text("run B: lr 0.1")
    expected = run_id(page, server, {"steps": 40, "learning_rate": 0.1})
    expect(page).to_have_url(re.compile(f"compare={re.escape(expected)}"))
    # a link that names its run by id: that id
    other = run_id(page, server, {"steps": 40, "learning_rate": 0.2})
    page.get_by_test_id("compare-source").fill(f"{server}/?run={other}&it=3")
    page.get_by_test_id("compare-open").click()
    expect(page.get_by_test_id("compare-legend")).to_contain_text("run B: lr 0.2")
    expect(page).to_have_url(re.compile(f"compare={re.escape(other)}"))


def test_an_unknown_id_says_so(page, server):
    """...with no console error: the page asks whether the id names a run before it asks
    for the run (GET /api/run-ids/{id}), whose 404 the console would log."""
    open_page(page, server)
    compare_with(page, "r2notarunatall")
    status = page.locator("#compare-status")
    expect(status).to_contain_text("No run has the id “r2notarunatall”")
    expect(status).to_have_css("color", "rgb(176, 0, 32)")  # an error's, not muted
    expect(page.get_by_test_id("compare-cost")).to_be_hidden()
    # a link with a bad ?compare= opens the panel and says so too
    open_page(page, server, "?compare=bogus")
    expect(page.get_by_test_id("view-compare")).to_be_visible()
    expect(status).to_contain_text("No run has the id “bogus”")
    # words that are neither an id nor a link are named as such, not as a link's settings
    page.get_by_test_id("compare-source").fill("hello world")
    page.get_by_test_id("compare-open").click()
    expect(status).to_contain_text("“hello world” is neither a run id (r2… or r3…) nor the link")


def test_both_runs_step_together(page, server):
    other = run_id(page, server, {"learning_rate": 2.0})
    open_page(page, server, f"?it=0&compare={other}")
    pair = page.get_by_test_id("compare-pair")
    expect(pair).to_have_attribute("data-iteration", "0")
    expect(page.get_by_test_id("compare-cost")).to_have_class(re.compile("js-plotly-plot"))
    for t in (1, 2):
        page.get_by_test_id("step-next").click()
        expect(page.get_by_test_id("step-label")).to_contain_text(f"iteration {t}")
        expect(pair).to_have_attribute("data-iteration", str(t))
        expect(figure_of(page, "compare-cost")).to_contain_text(f"cost J at iteration {t}:")
        for figure in ("compare-cost", "compare-score", "compare-flow"):
            assert marker_at(page, figure) == t
    # the phase and the layer follow too: forward 1 -> forward 2 shows Z[2] of both runs
    expect(pair).to_contain_text("layer 1: Z[1] of run A and of run B")
    page.get_by_test_id("phase-next").click()
    expect(page.get_by_test_id("phase-label")).to_have_text("forward · layer 2")
    expect(pair).to_contain_text("iteration 2, layer 2: Z[2] of run A and of run B")
    # the slider moves both
    page.get_by_test_id("step-slider").fill("40")
    expect(pair).to_have_attribute("data-iteration", "40")
    assert marker_at(page, "compare-cost") == 40
    # play moves both: once paused, the comparison shows the iteration the page stopped at
    page.get_by_test_id("play-toggle").click()
    page.wait_for_function("() => /iteration (4[3-9]|[5-9]\\d)/.test("
                           "document.querySelector('[data-testid=step-label]').textContent)")
    page.get_by_test_id("play-toggle").click()
    expect(page.get_by_test_id("play-toggle")).to_contain_text("Play")
    stopped = re.search(r"iteration (\d+)", page.get_by_test_id("step-label").inner_text())[1]
    assert int(stopped) > 42
    expect(pair).to_have_attribute("data-iteration", stopped)
    page.wait_for_function(f"() => document.querySelector('[data-testid=compare-cost]')"
                           f".layout.shapes[0].x0 === {stopped}")


def test_the_url_restores_the_comparison(page, server, context):
    first = run_id(page, server, {"learning_rate": 0.1})
    other = run_id(page, server, {"learning_rate": 2.0})
    open_page(page, server, f"?run={first}&compare={other}&it=12&phase=backward-2&layer=2")
    expect(page.get_by_test_id("compare-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("compare-legend")).to_contain_text("run A (this page's): lr 0.1")
    expect(page.get_by_test_id("compare-legend")).to_contain_text("run B: lr 2")
    pair = page.get_by_test_id("compare-pair")
    expect(pair).to_contain_text("iteration 12, layer 2: dW[2]")
    # the URL the page leaves opens the same comparison in a new page, with the tensor and
    # colours chosen (a teacher's ΔW link had shown dW)
    page.get_by_test_id("compare-tensor").select_option("update")
    page.get_by_test_id("compare-colours").select_option("own")
    expect(pair).to_contain_text("iteration 12, layer 2: ΔW[2]")
    expect(page).to_have_url(re.compile(r"[?&]ctensor=update.*&ccolours=own|"
                                        r"[?&]ccolours=own.*&ctensor=update"))
    again = context.new_page()
    try:
        open_page(again, server, page.url.split("/", 3)[3])
        expect(again.get_by_test_id("compare-legend")).to_contain_text("run B: lr 2")
        expect(again.get_by_test_id("compare-pair")).to_contain_text("iteration 12, layer 2: ΔW[2]")
        expect(again.get_by_test_id("compare-tensor")).to_have_value("update")
        expect(again.get_by_test_id("compare-colours")).to_have_value("own")
    finally:
        again.close()
    # closing the comparison forgets its choices
    page.get_by_test_id("compare-toggle").click()
    expect(page).not_to_have_url(re.compile(r"[?&](compare|ctensor|ccolours)="))


def test_the_previous_run_is_offered(page, server):
    open_page(page, server, "?steps=40")
    page.get_by_test_id("compare-toggle").click()
    expect(page.get_by_test_id("compare-previous")).to_be_disabled()
    page.locator("#configure summary").click()
    page.locator("#field-learning_rate").fill("2")
    page.get_by_test_id("run-submit").click()
    expect(page).to_have_url(re.compile("learning_rate=2"))
    previous = page.get_by_test_id("compare-previous")
    expect(previous).to_be_enabled()
    previous.click()
    expect(page.get_by_test_id("compare-legend")).to_contain_text("run A (this page's): lr 2")
    expect(page.get_by_test_id("compare-legend")).to_contain_text("run B: lr 0.5")
    # a reload of the page without the comparison still offers the run before (once the
    # page is up: a click before its modules connect the toggle does nothing)
    page.goto(re.sub(r"&?compare=[^&]*", "", page.url))
    page.wait_for_function("() => performance.getEntriesByName('step-redraw').length > 0")
    page.get_by_test_id("compare-toggle").click()
    expect(page.get_by_test_id("compare-previous")).to_be_enabled()
    page.get_by_test_id("compare-previous").click()
    expect(page.get_by_test_id("compare-legend")).to_contain_text("run B: lr 0.5")
    expected = run_id(page, server, {"steps": 40})
    expect(page).to_have_url(re.compile(f"compare={re.escape(expected)}"))


def test_a_mistake_against_the_correct_code(page, server):
    """missing_1_over_m beside the same config without the bug: their dW differ at the
    first iteration already (the same θ: dW without 1/m is m times the true one), and the
    mistaken dW is shown against the served true gradient of the same step."""
    correct = run_id(page, server, {"steps": 40, "learning_rate": 0.01})
    open_page(page, server, f"?steps=40&learning_rate=0.01&bug=missing_1_over_m&compare={correct}"
              "&it=0&phase=backward-1&layer=1")
    legend = page.get_by_test_id("compare-legend")
    expect(legend).to_contain_text("run A (this page's): bug missing_1_over_m")
    expect(legend).to_contain_text("run B: correct code")
    pair = page.get_by_test_id("compare-pair")
    expect(pair).to_contain_text("layer 1: dW[1] of run A and of run B")
    expect(page.get_by_test_id("compare-pair-diff")).to_be_visible()
    assert max_abs(page, "compare-pair-diff") > 0
    truth = page.get_by_test_id("compare-truth")
    expect(truth).to_be_visible()
    expect(truth).to_contain_text("what the mistaken code computed vs the true gradient")
    expect(page.get_by_test_id("compare-truth-true")).to_be_visible()
    # the true dW at θ_0 is run B's dW at iteration 0 (the same θ, the same batch)
    true_dW = max_abs(page, "compare-truth-true")
    assert true_dW == pytest.approx(max_abs(page, "compare-pair-b"), rel=1e-5)
    assert max_abs(page, "compare-truth-diff") > 0
    # m = 320 times smaller, the true dW is near white on the shared colours: the words say so
    faint = "faint: its own largest |value|"
    expect(page.get_by_test_id("compare-truth-true")).to_contain_text(faint)
    # each map on its own range: the true dW shows its pattern, the mistaken one's
    page.get_by_test_id("compare-colours").select_option("own")
    expect(page.get_by_test_id("compare-truth-true")).not_to_contain_text(faint)
    expect(page.get_by_test_id("compare-truth-true")).to_contain_text("colours −")
    page.get_by_test_id("compare-colours").select_option("shared")
    # at a later step θ differ, and the mistaken gradient still stands beside its own true one
    page.get_by_test_id("step-next").click()
    expect(truth).to_have_attribute("data-iteration", "1")
    assert max_abs(page, "compare-truth-diff") > 0


def test_two_mistakes_each_beside_its_true_gradient(page, server):
    """Two runs with two different bugs: each shows what its own mistaken code computed
    beside its true gradient, run A's first, then run B's."""
    other = run_id(page, server, {"steps": 40, "learning_rate": 0.01,
                                  "bug": "no_activation_derivative"})
    open_page(page, server, f"?steps=40&learning_rate=0.01&bug=missing_1_over_m&compare={other}"
              "&it=2&phase=backward-1&layer=1")
    truths = [page.get_by_test_id(testid) for testid in ("compare-truth", "compare-truth-b")]
    for truth, (run, bug) in zip(truths, [("A", "missing_1_over_m"),
                                          ("B", "no_activation_derivative")], strict=True):
        expect(truth).to_be_visible()
        expect(truth).to_contain_text(f"run {run} (bug {bug}), dW[1] at iteration 2")
    # run A's dW lacks 1/m: m = 320 times the true one; run B's forgets g'(Z)
    for prefix in ("compare-truth", "compare-truth-b"):
        assert max_abs(page, f"{prefix}-diff") > 0
    assert max_abs(page, "compare-truth-mistaken") == pytest.approx(
        320 * max_abs(page, "compare-truth-true"), rel=1e-4)
    assert max_abs(page, "compare-truth-b-mistaken") == pytest.approx(
        max_abs(page, "compare-pair-b"), rel=1e-5)  # the gradient run B trains on
    # one run with a bug: the second trio is hidden
    open_page(page, server, f"?steps=40&learning_rate=0.01&compare={other}&it=2&layer=1")
    expect(page.get_by_test_id("compare-truth")).to_contain_text(
        "run B (bug no_activation_derivative)")
    expect(page.get_by_test_id("compare-truth-b")).to_be_hidden()


def test_shapes_that_differ_are_named(page, server):
    wider = run_id(page, server, {"hidden_layers": [16, 16]})
    open_page(page, server, f"?compare={wider}&it=0&phase=forward-1&layer=1")
    note = page.get_by_test_id("compare-pair").locator(".compare-note")
    expect(note).to_contain_text("The shapes differ (A: Z[1]: 8 × 320, B: Z[1]: 16 × 320)")
    expect(page.get_by_test_id("compare-pair-a")).to_be_visible()
    expect(page.get_by_test_id("compare-pair-b")).to_be_visible()
    expect(page.get_by_test_id("compare-pair-diff")).to_be_hidden()
    # b[l] has the same shape in both at the output layer: its difference is drawn
    page.get_by_test_id("compare-tensor").select_option("b")
    page.get_by_test_id("layer-select").select_option("3")
    expect(page.get_by_test_id("compare-pair")).to_contain_text("layer 3: b[3]")
    expect(page.get_by_test_id("compare-pair-diff")).to_be_visible()
    expect(note).to_be_hidden()


def test_a_diverged_run_in_the_comparison_draws(page, server):
    """Run B diverged at iteration 6: its non-finite Z[3] is grey, its curves end there,
    and beyond its end the comparison says so instead of failing."""
    diverged = run_id(page, server, DIVERGED)
    open_page(page, server, f"?{SINE}&learning_rate=0.05&compare={diverged}"
              "&it=6&phase=forward-3&layer=3")
    legend = page.get_by_test_id("compare-legend")
    expect(legend).to_contain_text("run B: lr 5, 7 iterations, diverged at 6")
    expect(page.get_by_test_id("compare-pair")).to_contain_text("iteration 6, layer 3: Z[3]")
    expect(page.get_by_test_id("compare-pair-b")).to_have_attribute("data-non-finite", "true")
    assert page.evaluate(MAP_PIXEL, "compare-pair-b") == NON_FINITE_GREY
    assert page.evaluate(MAP_PIXEL, "compare-pair-a") != NON_FINITE_GREY
    assert page.evaluate(MAP_PIXEL, "compare-pair-diff") == NON_FINITE_GREY
    assert traces(page, "compare-cost") == 2
    costs = page.get_by_test_id("compare-cost").evaluate("gd => gd.data.map((t) => t.y.length)")
    assert costs[1] == 7 and costs[0] > 7
    before = redraws(page)
    page.get_by_test_id("step-next").click()
    wait_redrawn(page, before)
    note = page.get_by_test_id("compare-pair").locator(".compare-note")
    expect(note).to_contain_text(
        "run B has no iteration 7: it diverged at iteration 6 and stopped there")
    expect(figure_of(page, "compare-cost")).to_contain_text("B — (ended at iteration 6)")
    expect(page.get_by_test_id("compare-pair-a")).to_be_visible()
    expect(page.get_by_test_id("compare-pair-diff")).to_be_hidden()


# the accessibility suite's contrast check, over the comparison panel only
PANEL_CONTRAST = (CONTRAST.replace("querySelectorAll('body *')",
                                   "querySelectorAll('#view-compare *')")
                  .replace("querySelectorAll('.js-plotly-plot svg text')",
                           "querySelectorAll('#view-compare .js-plotly-plot svg text')"))


def test_the_panel_is_labelled_readable_and_keyboard_operable(page, server):
    assert PANEL_CONTRAST.count("#view-compare") == 2
    other = run_id(page, server, {"learning_rate": 2.0})
    open_page(page, server, "?it=4&phase=backward-1")
    page.get_by_test_id("compare-toggle").focus()
    page.keyboard.press("Enter")  # the toggle takes the focus to the field
    page.keyboard.type(other)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("compare-legend")).to_contain_text("run B: lr 2")
    page.get_by_test_id("compare-tensor").focus()
    page.keyboard.press("ArrowDown")  # the drop-down keeps ↑/↓; its choice redraws
    expect(page.get_by_test_id("compare-pair")).to_contain_text(
        "iteration 4, layer 1: A_prev (= X)")
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 4")
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(PANEL_CONTRAST) == []


def test_a_paused_step_has_each_runs_own_score(page, server):
    """A mini-batch run scores the whole training set at some steps only: every k-th in
    training, and at evenly spread ones on demand (the scores route). Its line passes
    through both, and a paused step has its own score, served for it, as run B and as
    run A (the loss view's)."""
    mini_batch = run_id(page, server, {"batch_size": 16, "steps": 150})
    summary = page.request.get(f"{server}/api/runs/{mini_batch}/summary").json()
    spread = page.request.get(f"{server}/api/runs/{mini_batch}/scores").json()
    assert summary["evaluated_every"] > 1
    scored = {t for t, v in enumerate(summary["train_accuracy"]) if v is not None}
    scored |= set(spread["steps"])
    t = min(set(range(150)) - scored)
    own = page.request.get(f"{server}/api/runs/{mini_batch}/scores",
                           params={"steps": str(t)}).json()["train_accuracy"][0]
    open_page(page, server, f"?it={t}&steps=150")
    compare_with(page, mini_batch)
    expect(figure_of(page, "compare-score")).to_contain_text(
        f"train accuracy at iteration {t}: A ")
    expect(figure_of(page, "compare-score")).to_contain_text(f", B {own:.3f}".rstrip("0"))
    # run B's line passes through every step scored: training's, the spread ones, and t's
    page.wait_for_function(
        f"() => document.querySelector('[data-testid=compare-score]').data[1].y"
        f".filter((v) => v !== null).length === {len(scored) + 1}")
    open_page(page, server, f"?it={t}&batch_size=16&steps=150")
    compare_with(page, run_id(page, server, {"steps": 150}))
    expect(figure_of(page, "compare-score")).to_contain_text(
        f"train accuracy at iteration {t}: A {own:.3f}".rstrip("0"))


def test_a_score_that_was_not_taken_says_so(page, server):
    """Where run B has no score at the step (its request failed, or while playing), the
    caption says it was not taken, not that it is not finite."""
    page.recorder.allow("status of 422")
    page.route(re.compile(r".*/scores\?steps=.*"), lambda route: route.fulfill(
        status=422, content_type="application/json", body='{"detail": "steps: refused"}'))
    mini_batch = run_id(page, server, {"batch_size": 16, "steps": 150})
    summary = page.request.get(f"{server}/api/runs/{mini_batch}/summary").json()
    spread = page.request.get(f"{server}/api/runs/{mini_batch}/scores").json()
    scored = {t for t, v in enumerate(summary["train_accuracy"]) if v is not None}
    t = min(set(range(150)) - scored - set(spread["steps"]))
    open_page(page, server, f"?it={t}&steps=150")
    compare_with(page, mini_batch)
    expect(figure_of(page, "compare-score")).to_contain_text(
        "B not scored at this step (a mini-batch run scores the whole set at some steps)")


def test_a_layer_that_never_learns_is_named_not_missing(page, server):
    """A zero init's hidden layers have ‖dW‖ = 0 at every iteration: the log axis has no
    place for their lines, and the caption names them instead."""
    zeros = run_id(page, server, {"init": "zeros"})
    open_page(page, server, f"?it=5&compare={zeros}")
    expect(figure_of(page, "compare-flow")).to_contain_text(
        "‖dW‖ = 0 at every iteration, so no line on the log axis: B [1] [2]")


def test_presenter_shows_the_second_run_under_the_network_and_the_inspector(page, server):
    """The presenter layout hid the comparison while its toggle showed pressed, so that a
    lesson's stops about its second run could not be projected. It comes under the two
    panels, which keep the window's height; the views scroll down to it."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, server, "?lesson=adam-vs-gd&tour=1&layout=presenter", plots=1)
    compare = page.get_by_test_id("view-compare")
    expect(compare).to_be_visible()
    expect(page.get_by_test_id("compare-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("compare-legend")).to_contain_text("run B: optimizer gd")
    views = page.locator(".views")
    network = page.locator(".panel-network").bounding_box()
    assert network["y"] + network["height"] <= 720  # on the screen, at its full height
    assert views.evaluate("v => v.scrollHeight > v.clientHeight")
    compare.scroll_into_view_if_needed()
    assert compare.bounding_box()["y"] < 720
    page.get_by_test_id("compare-toggle").click()
    expect(compare).to_be_hidden()
    assert not views.evaluate("v => v.scrollHeight > v.clientHeight + 1")


def test_presenter_on_a_phone_puts_the_second_run_after_the_inspector(browser, server):
    """One column: the views' first row had taken the views' whole height (about 3,000 px
    of empty network panel) before the inspector and the comparison."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                              is_mobile=True)
    try:
        page = ctx.new_page()
        open_page(page, server, "?lesson=adam-vs-gd&tour=3&layout=presenter", plots=1)
        network = page.locator(".panel-network").bounding_box()
        cache = page.locator(".panel-cache").bounding_box()
        compare = page.get_by_test_id("view-compare").bounding_box()
        assert network["height"] < 700, network
        assert network["y"] + network["height"] <= cache["y"] + 1
        assert cache["y"] + cache["height"] <= compare["y"] + 1
    finally:
        ctx.close()
