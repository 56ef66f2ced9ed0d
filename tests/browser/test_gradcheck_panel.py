"""The gradient check panel on real runs says what the engine found: a cost that overflows
(not a gradient), layers that compared nothing because every ±ε crossed a ReLU kink, and
layers whose gradients agree exactly, marked as such rather than drawn as a tiny bar."""

from playwright.sync_api import expect

from tests.browser.conftest import expect_words, open_page

# sine through tanh, relu, linear at α = 3: at iteration 293 only the cost overflows;
# every gradient is finite (dZ[3], db[3] ≈ 1.2e153)
COST_ONLY = ("?dataset=sine&hidden_layers=16,16&learning_rate=3&activations=tanh,relu,linear"
             "&it=293&phase=cost&layer=3")
ZERO_INIT = "?init=zeros&it=0&phase=backward-1&layer=1"
CHECK_PLOT = "[data-testid=gradcheck] .js-plotly-plot"


def test_a_cost_that_overflows_is_not_called_a_gradient_that_does(page, server):
    open_page(page, server, COST_ONLY)
    status = page.locator(".gradcheck-status")
    expect(status).to_contain_text("Iteration 293")
    expect_words(status, ["the cost J(θ ± ε) is not a finite number",
                          "the numerical gradient (J(θ+ε) − J(θ−ε)) / 2ε cannot be computed",
                          "Backprop's gradients here are finite numbers",
                          "layer 3's, has ‖g‖ = 1.243e153"],
                 ["a gradient at this step is not a finite number", "layer 1: not finite"])
    # the check could not say: neither a pass nor a fail
    expect(status).to_have_class("gradcheck-status")
    plot = page.locator(CHECK_PLOT)
    expect(plot).to_be_visible()
    assert plot.evaluate("gd => gd.data[0].y") == [None, None, None]
    notes = plot.evaluate("gd => gd.layout.annotations.map(a => a.text)")
    assert notes.count("cost not finite") == 3 and "not finite" not in notes


def test_a_zero_init_says_which_entries_it_compared(page, server):
    open_page(page, server, ZERO_INIT)
    status = page.locator(".gradcheck-status")
    expect(status).to_contain_text("Iteration 0")
    expect_words(status, ["layer 1: nothing compared: ±ε crossed a ReLU kink at all 24 parameters",
                          "layer 2: exactly equal (both gradients 0) (compared 64 of 72 "
                          "parameters; 8 skipped at a ReLU kink)",
                          "32 entries skipped"],
                 ["(all 24 parameters)", "(all 72 parameters)"])
    plot = page.locator(CHECK_PLOT)
    expect(plot).to_be_visible()
    # no bar for a layer that compared nothing, nor for an exact 0 (a log axis has no 0):
    # words up their columns, and an "=" at the foot of the exact one
    bars = plot.evaluate("gd => gd.data[0].y")
    assert bars[:2] == [None, None] and bars[2] > 0
    notes = plot.evaluate("gd => gd.layout.annotations.map(a => [a.x, a.text])")
    assert [0, "all at ReLU kinks"] in notes
    assert [1, "exactly equal"] in notes and [1, "="] in notes
    assert not [note for note in notes if note[0] == 2]
    expect(plot).to_contain_text("exactly equal")
