"""A diverged run in the page (CONTRACT §6): every view draws every phase of the step that
went non-finite, non-finite cells are marked and named in the legend, the alert keeps
naming the step, layer and tensor, and the exploding cost leaves the loss curve readable."""

from playwright.sync_api import expect

from tests.browser.conftest import open_page, redraws, wait_redrawn

# learning rate 5 on sine: the cost reaches 1e165 at iteration 5, Z[3] is not finite at 6
DIVERGED = "?dataset=sine&hidden_layers=16,16&learning_rate=5&it=6"
# (phase label, words of the phase banner, words of the code panel, selected layer)
PHASES = [
    ("forward · layer 1", "forward, layer 1: reads", "# layer 1 of 3", 1),
    ("forward · layer 2", "forward, layer 2: reads", "# layer 2 of 3", 2),
    ("forward · layer 3", "forward, layer 3: reads", "# layer 3 of 3", 3),
    ("cost", "cost: reads A[3], Y", "# cost: mse", 3),
    ("backward · layer 3", "backward, layer 3: reads", "# layer 3: linear_activation_backward", 3),
    ("backward · layer 2", "backward, layer 2: reads", "# layer 2: linear_activation_backward", 2),
    ("backward · layer 1", "backward, layer 1: reads", "# layer 1: linear_activation_backward", 1),
    ("update", "update: reads W[1..3]", "# update_parameters: gd", 1),
]
NON_FINITE_GREY = [127, 127, 127, 255]

# the colour of the middle cell of a cache inspector heatmap (a canvas of one pixel per cell)
SLOT_PIXEL = """name => {
  const c = document.querySelector(`#view-cache [data-testid=cache-slot-${name}]`);
  return [...c.getContext('2d').getImageData(c.width >> 1, c.height >> 1, 1, 1).data];
}"""


def test_every_view_draws_every_phase_of_a_diverged_step(page, server):
    open_page(page, server, DIVERGED)
    alert = page.get_by_test_id("alert")
    for k, (label, banner, code, layer) in enumerate(PHASES):
        expect(page.get_by_test_id("phase-label")).to_have_text(label)
        expect(alert).to_contain_text("Training diverged at iteration 6: Z of layer 3")
        # the iterations as the step label counts them, from 0: "iteration 6 of 6"
        expect(alert).to_contain_text("iterations 0 to 6 are recorded")
        expect(alert).not_to_contain_text("went wrong")
        expect(page.locator("#phase-io")).to_contain_text(banner)
        expect(page.get_by_test_id("view-code")).to_contain_text(code)
        expect(page.get_by_test_id("view-cache")).to_contain_text(f"Z[{layer}]")
        explainer = page.get_by_test_id("cache-explainer")
        expect(explainer).to_contain_text(f"layer {layer}, iteration 6")
        loss = page.locator("#view-loss .caption")
        expect(loss).to_contain_text("iteration 6: J = not a finite number")
        expect(page.locator("#view-boundary .caption")).to_contain_text("iteration 6")
        expect(page.get_by_test_id("gradient-bars")).to_contain_text("iteration 6")
        expect(page.get_by_test_id("gradient-bars")).not_to_contain_text("NaN")
        if k < len(PHASES) - 1:
            before = redraws(page)
            page.get_by_test_id("phase-next").click()
            wait_redrawn(page, before)


def test_non_finite_cells_are_grey_and_named(page, server):
    open_page(page, server, DIVERGED + "&phase=forward-3&layer=3")
    expect(page.get_by_test_id("non-finite-key")).to_be_visible()
    expect(page.get_by_test_id("view-cache")).to_contain_text("Z[3]")
    assert page.evaluate(SLOT_PIXEL, "Z") == NON_FINITE_GREY  # every entry of Z[3] is NaN or ±∞
    assert page.evaluate(SLOT_PIXEL, "W") != NON_FINITE_GREY  # W[3] is still finite
    # the diagram's output neuron is not a finite number either: its key says what grey is
    expect(page.locator("#network-key")).to_contain_text("grey: not a finite number")
    expect(page.locator("#view-boundary .caption")).to_contain_text("not finite numbers")


def test_an_exploding_cost_gets_a_log_axis(page, server):
    open_page(page, server, DIVERGED.replace("it=6", "it=2"))
    loss = page.locator("#view-loss .plot")
    assert loss.evaluate("gd => gd._fullLayout.yaxis.type") == "log"
    # the curve's first steps (J below 1) and the last (1e165) are both on the axis
    low, high = loss.evaluate("gd => gd._fullLayout.yaxis.range")
    assert low < 0 and high > 165
    expect(page.locator("#view-loss .caption")).to_contain_text("The cost axis is logarithmic")


def test_a_healthy_cost_keeps_a_linear_axis(page, server):
    open_page(page, server, "?it=2")
    assert page.locator("#view-loss .plot").evaluate("gd => gd._fullLayout.yaxis.type") == "linear"
    expect(page.locator("#view-loss .caption")).not_to_contain_text("logarithmic")


def test_the_gradient_check_of_a_diverged_step_says_so_and_draws_no_bars(page, server):
    open_page(page, server, DIVERGED)
    check = page.get_by_test_id("gradcheck")
    expect(check).to_contain_text("a gradient at this step is not a finite number")
    expect(check).not_to_contain_text("NaN/∞")
    plot = check.locator(".js-plotly-plot")
    expect(plot).to_be_visible()
    # every layer of iteration 6 is non-finite: no bar may stand for an invented value
    heights = plot.evaluate("gd => gd.data[0].y")
    assert heights == [None] * len(heights) and len(heights) == 3
    # each column says so in words instead
    notes = plot.evaluate("gd => gd.layout.annotations.map(a => [a.x, a.text])")
    assert [x for x, text in notes if text == "not finite"] == [0, 1, 2]


def test_a_run_that_diverges_by_its_mistake_names_the_mistake(page, server):
    """dZ = dA diverges at α = 0.5, at which the same run without the mistake trains: the
    alert names the mistake rather than the learning rate; a run without one names α."""
    open_page(page, server, "?n_samples=200&steps=200&bug=no_activation_derivative")
    alert = page.get_by_test_id("alert")
    expect(alert).to_contain_text("Training diverged at iteration")
    expect(alert).to_contain_text("classic mistake “no_activation_derivative”")
    expect(alert).not_to_contain_text("probably too large")
    open_page(page, server, "?dataset=sine&hidden_layers=16,16&learning_rate=5")
    expect(alert).to_contain_text("The learning rate (5) is probably too large")


# the counts of Z, A, dZ and dW left out of the histograms at the last step, from the engine
LEFT_OUT = """() => [...document.querySelectorAll('#view-distributions .dist-panel')]
  .map(p => (p.layout.annotations || []).map(a => a.text)
    .find(t => t.includes('not finite')) || '')"""


def test_the_distributions_say_how_many_entries_are_not_finite(page, server):
    """A band cannot draw NaN or ±∞: the panels of the diverged step count them, from the
    engine's histograms, where the distributions had drawn Z[3]'s finite entries only."""
    open_page(page, server, DIVERGED + "&phase=forward-3&layer=3")
    view = page.get_by_test_id("view-distributions")
    view.scroll_into_view_if_needed()
    expect(view).to_contain_text("not finite")
    notes = page.evaluate(LEFT_OUT)
    assert notes[0].endswith("not finite") and int(notes[0].split()[0]) > 0  # Z[3]
    words = view.get_attribute("aria-label")  # the panels in words
    assert "Z[3] median" in words and "entries not finite, left out" in words
    # at iteration 0 every entry is finite: no note
    page.get_by_test_id("step-slider").fill("0")
    expect(view).not_to_contain_text("not finite")


def test_a_heatmap_with_no_finite_value_says_so_not_all_0(page, server):
    """The divergence lesson's last step, update: dW[3] is NaN or ±∞ everywhere (grey), and
    its overlay had said "all 0", from the largest of no finite cells."""
    open_page(page, server, "?lesson=divergence&it=6")
    overlay = page.locator("#view-cache .slot[data-name=dW] .faint-overlay")
    expect(overlay).to_have_text("no finite value")
