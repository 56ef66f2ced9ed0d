"""The diagnosis flags of the gradient flow view and the distributions' bands name the real
problem of the classic demos: a zero init that lets no gradient through (relu, tanh) or
keeps the units alike (sigmoid: the symmetry problem), a ratio to an all-zero W, and layers
whose gradients vanish or explode beside the others."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import expect_words, open_page

ZEROS = "?init=zeros&it=20"


SYMMETRY = "units are identical (the symmetry problem)"
NO_GRADIENT = "no gradient reaches W"

# (a zero-init run, what its hidden layers' flags say, what they must not say): relu and
# tanh output g(0) = 0, so every W stays 0; sigmoid's units learn, all alike
ZERO_INITS = [
    (ZEROS, ["layer 1: no gradient reaches W[1], which is all zeros: dA[1] = W[2]ᵀ dZ[2] is 0 "
             "while W[2] is all zeros too, so ‖dW‖ = 0 exactly and its 8 units stay identical",
             "layer 2: no gradient reaches W[2]"], [SYMMETRY]),
    ("?init=zeros&activations=tanh,tanh,sigmoid&it=20", ["layer 1: no gradient reaches W[1]",
                                                         "layer 2: no gradient reaches W[2]"],
     [SYMMETRY]),
    ("?init=zeros&activations=sigmoid,sigmoid,sigmoid&it=20",
     [f"layer 1: all 8 {SYMMETRY}", f"layer 2: all 8 {SYMMETRY}"], [NO_GRADIENT, "= 0 exactly"]),
]


@pytest.mark.parametrize(("query", "shown", "absent"), ZERO_INITS,
                         ids=["relu", "tanh", "sigmoid"])
def test_a_zero_init_is_named_for_what_it_does(page, server, query, shown, absent):
    open_page(page, server, query)
    flags = page.get_by_test_id("gradient-flags")
    expect_words(flags, shown, absent)
    expect(flags).not_to_contain_text("vanishing")


ZERO = "every W is all 0 at this iteration (a zero init)"
ALIKE = ZERO + ": the units of each hidden layer compute the same numbers"
STUCK = "no W gets a gradient (every ‖dW‖ = 0)"


@pytest.mark.parametrize(("query", "plots", "shown", "absent"), [
    # relu (or leaky_relu) under the output: A = g(0) = 0, so dW[L] is 0 too
    ("?init=zeros&it=3&phase=backward-2&layout=presenter", 1, [ALIKE, STUCK], []),
    ("?init=zeros&activations=leaky_relu,leaky_relu,sigmoid&it=0", None, [ALIKE, STUCK], []),
    # sigmoid under a relu: still no W learns (only the layer under the output counts)
    ("?init=zeros&activations=sigmoid,relu,sigmoid&it=0", None, [ALIKE, STUCK], []),
    # sigmoid under the output: W[L] gets a gradient at step 0, and no W is all 0 later
    ("?init=zeros&activations=sigmoid,sigmoid,sigmoid&it=0", None, [ALIKE], [STUCK]),
    ("?init=zeros&activations=sigmoid,sigmoid,sigmoid&it=20", None, [], [ZERO]),
    ("?it=3", None, [], [ZERO]),
], ids=["presenter", "leaky", "sigmoid-under-relu", "sigmoid-0", "sigmoid-20", "default"])
def test_the_network_key_says_a_zero_init_at_once(page, server, query, plots, shown, absent):
    """A teacher's first screens of a zero init showed "all 0" under every bar, and the
    reason only in the gradient flow panel, far below (not shown in the presenter
    layout): the network's key says it, while every ‖W[l]‖ is 0, from the served norms."""
    open_page(page, server, query, **({} if plots is None else {"plots": plots}))
    key = page.locator("#network-key")
    expect(key).to_contain_text("neurons:")
    expect_words(key, shown, absent)


def test_a_zero_inits_output_layer_and_ratios(page, server):
    open_page(page, server, ZEROS)
    flags = page.get_by_test_id("gradient-flags")
    # b[3] learns: only W[3], whose input A[2] is 0, does not
    expect(flags).to_contain_text("layer 3: ‖dW‖ = 0 exactly: W[3] does not learn at this "
                                  "step: its input A[2] is all zeros")
    expect(flags).to_contain_text("b[3] still learns: ‖db‖ = ")
    expect(flags).not_to_contain_text("this layer does not learn")
    expect(flags).not_to_contain_text("vanishing")
    bars = page.get_by_test_id("gradient-bars")
    expect(bars).to_contain_text("‖ΔW‖/‖W‖ — (W is all zeros)")
    expect(bars).not_to_contain_text("NaN")


def test_dead_relus_stop_W_not_the_layer(page, server):
    """Sine at α = 3 dies at iteration 293 with every relu of layer 2 off: dW[3] = 0, but
    db[3] ≈ 1.2e153, so b[3] learns; the flag says W[3] does not, not the layer."""
    open_page(page, server, "?dataset=sine&hidden_layers=16,16&learning_rate=3"
                            "&activations=tanh,relu,linear&it=293&phase=cost&layer=3")
    expect_words(page.get_by_test_id("gradient-flags"),
                 ["layer 3: ‖dW‖ = 0 exactly: W[3] does not learn at this step: its input A[2] "
                  "is all zeros (every ReLU unit of layer 2 is dead on this batch)",
                  "b[3] still learns, from an exploding gradient: ‖db‖ = 1.243e153",
                  # and why layers 1 and 2 learn nothing: dZ is 0 in both
                  "layer 2: ‖dW‖ = ‖db‖ = 0 exactly: this layer does not learn at this step: "
                  "every ReLU unit of layer 2 is dead on this batch (Z[2] ≤ 0)",
                  "layer 1: ‖dW‖ = ‖db‖ = 0 exactly: this layer does not learn at this step: no "
                  "gradient reaches it (dA[1] is all zeros)"],
                 ["layer 3: ‖dW‖ = 0 exactly: this layer does not learn"])


# every y of every trace of the distributions view (bands and middle line; a figure a panel)
TRACE_VALUES = """() => [...document.querySelectorAll('#view-distributions .js-plotly-plot')]
  .flatMap(p => p.data).flatMap(t => t.y || []).filter(v => v !== null && v !== undefined)"""


def test_an_all_zero_tensor_gets_no_invented_bands(page, server):
    """Z[1], A[1], dZ[1] and dW[1] of a zero init are 0 at every step: every band is 0."""
    open_page(page, server, ZEROS)
    view = page.get_by_test_id("view-distributions")
    expect(view).to_contain_text("dZ[1]")  # the histograms have arrived
    values = page.evaluate(TRACE_VALUES)
    assert values and set(values) == {0}


# the middle line (the median) of each distributions panel: Z, A, dZ, dW
MEDIANS = """() => [...document.querySelectorAll('#view-distributions .js-plotly-plot')]
  .map(p => p.data[p.data.length - 1].y.filter(v => v !== null && v !== undefined))"""


def test_gradients_past_the_last_bin_are_drawn_where_they_are(page, server):
    """sine at α = 5 grows dW[1] past 1e6 before it diverges at step 6: the bins end at
    ±1000, and percentiles read from them drew its bands flat there; the served
    percentiles put them where they are."""
    open_page(page, server, "?dataset=sine&hidden_layers=16,16&learning_rate=5&layer=1")
    view = page.get_by_test_id("view-distributions")
    expect(view).to_contain_text("dZ[1]")  # the histograms have arrived
    page.wait_for_function(f"() => ({MEDIANS})().length === 4")
    medians = page.evaluate(MEDIANS)
    assert max(abs(v) for v in medians[3]) > 1e6, medians[3]


def patch_summary(page, t, changes):
    """Serve the real summary with layer statistics at step t replaced: {(l, stat): value}."""
    def handle(route):
        summary = route.fetch().json()
        for (l, stat), value in changes.items():
            summary["layers"][l - 1][stat][t] = value
        route.fulfill(status=200, content_type="application/json", body=json.dumps(summary))
    page.route(re.compile(r"/summary$"), handle)


# ({(layer, statistic): value} at step 5 of the default run, flags shown, flags not shown)
CASES = [
    ({(1, "dW_norm"): 4e-6, (2, "dW_norm"): 0.3, (3, "dW_norm"): 0.5},
     ["layer 1: vanishing gradient: ‖dW‖ = 4e-6, 8e-6 × layer 3's (0.5)"],
     ["layer 2:", "exploding"]),
    ({(1, "dW_norm"): 5.0, (2, "dW_norm"): 0.3, (3, "dW_norm"): 0.002},
     ["layer 1: exploding gradient: ‖dW‖ = 5, 2500 × layer 3's (0.002)"],
     ["vanishing", "layer 2:"]),
    # the output layer among the small ones or among the large ones decides the words
    ({(1, "dW_norm"): 0.002, (2, "dW_norm"): 0.3, (3, "dW_norm"): 5.0},
     ["layer 1: vanishing gradient: ‖dW‖ = 0.002, 4e-4 × layer 3's (5)"],
     ["exploding", "layer 2:"]),
    ({(1, "dW_norm"): 1e-9, (1, "W_row_spread"): 0.0, (1, "b_spread"): 0.0,
      (2, "dW_norm"): 0.3, (3, "dW_norm"): 0.5},
     ["layer 1: all 8 units are identical (the symmetry problem)"], ["vanishing", "exploding"]),
    ({(1, "update_ratio"): None, (1, "W_norm"): None},
     ["‖ΔW‖/‖W‖ — (W is not finite)"], ["NaN"]),
]


@pytest.mark.parametrize(("changes", "shown", "absent"), CASES,
                         ids=["vanishing", "exploding", "vanishing_below_output", "symmetry_first",
                              "no_ratio"])
def test_flags_compare_the_layers_with_each_other(page, server, changes, shown, absent):
    patch_summary(page, 5, changes)
    open_page(page, server, "?it=5")
    expect_words(page.get_by_test_id("view-gradient-flow"), shown)
    expect_words(page.get_by_test_id("gradient-flags"), (), absent)
