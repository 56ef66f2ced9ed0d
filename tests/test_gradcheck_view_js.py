"""static/js/views/gradcheck_view.js, run by Node: the gradient check in words and bars says
what the engine's answer says: a cost that overflows is not a gradient that does, a layer
whose every entry crossed a kink compared nothing, and an exact 0 is exactly equal, not a
tiny bar."""

import pytest

from tests.node_runner import call_js, needs_node

pytestmark = needs_node

VIEW = "views/gradcheck_view.js"


def answer(layers, **top):
    return {"step": 0, "epsilon": 1e-7, "threshold": 2e-7, "sampled": False, "noise_floor": None,
            "skipped_at_kinks": sum(e["skipped_at_kinks"] for e in layers), "layers": layers,
            **top}


def entry(l, diff, checked, skipped=0, norm=1.0, non_finite=None, total=None):
    return {"l": l, "relative_difference": diff, "checked": checked, "total": total or checked,
            "skipped_at_kinks": skipped, "analytic_norm": norm, "non_finite": non_finite}


# sine, tanh-relu-linear, α = 3, step 293 (the engine's answer): J(θ±ε) = ∞, while every
# gradient is finite
COST_OVERFLOW = answer([entry(1, None, 32, norm=0.0, non_finite="cost"),
                        entry(2, None, 272, norm=0.0, non_finite="cost"),
                        entry(3, None, 17, norm=1.243162713088846e153, non_finite="cost")],
                       step=293, relative_difference=None, passed=False, non_finite="cost")
# a gradient that is not finite (sine at α = 5, step 6)
ANALYTIC = answer([entry(l, None, 17, norm=None, non_finite="analytic") for l in (1, 2, 3)],
                  step=6, relative_difference=None, passed=False, non_finite="analytic")
# zero init, step 0 (the engine's answer)
ZERO_INIT = answer([entry(1, None, 24, skipped=24, norm=0.0),
                    entry(2, 0.0, 72, skipped=8, norm=0.0),
                    entry(3, 3.038735522450564e-09, 9, norm=0.025)],
                   relative_difference=3.038735522450564e-09, passed=True, non_finite=None,
                   noise_floor=5.9e-8)
# sine, α = 3, step 4 (the engine's answer): the cost explodes (J ≈ 1e45), the numerical
# gradient's noise reaches 5e52 and swamps gradients of 1.9e45
EXPLODING = answer([entry(1, 0.0, 32, norm=0.0), entry(2, 1.0, 272, norm=1.8674185935175374e45),
                    entry(3, 1.0, 17, norm=7.797945719540037e44)],
                   step=4, relative_difference=1.0, passed=True, non_finite=None,
                   noise_floor=4.96348646044942e52)
# zero init, step 50: db[L] of 3e-5 disagrees by 3e-10, a relative 5e-6, within the noise
ON_THE_FLOOR = answer([entry(1, None, 24, skipped=24, norm=0.0), entry(2, 0.0, 72, norm=0.0),
                       entry(3, 5e-6, 9, norm=3e-5)],
                      relative_difference=5e-6, passed=True, non_finite=None, noise_floor=5.9e-8)
# zero init, sigmoid, step 2 (the engine's answer): layer 1's gradients (‖g‖ 4e-8) are so
# small that its relative difference is rounding noise; the overall one is under 2e-7
TINY_LAYER = answer([{**entry(1, 0.04914525324355581, 24, norm=3.99e-8), "within_noise": True},
                     {**entry(2, 3.4607982140016437e-6, 72, norm=1.2e-4), "within_noise": True},
                     {**entry(3, 4.027473487612961e-8, 9, norm=0.0169), "within_noise": True}],
                    step=2, relative_difference=1.2314038082568277e-7, passed=True,
                    non_finite=None, noise_floor=7.09e-8)
# sine, tanh, batches of 1, step 39 (the engine's answer, shortened): layers of small
# gradients above the threshold beyond the noise estimate, under a passing overall figure
SMALL_LAYERS = answer([{**entry(1, 6.163e-05, 9, norm=1.245e-06), "within_noise": False},
                       {**entry(2, 2.6e-09, 9, norm=0.0179), "within_noise": False}],
                      step=39, relative_difference=1.55e-9, passed=True, non_finite=None,
                      noise_floor=1.87e-10)
ALL_AT_KINKS = answer([entry(1, None, 9, skipped=9, norm=0.0)], relative_difference=None,
                      passed=False, non_finite=None)

# (answer, words shown, words not shown)
WORDS = [
    (COST_OVERFLOW,
     ["Iteration 293 (ε = 1e-7): no relative difference: the cost J(θ ± ε) is not a finite number",
      "the numerical gradient (J(θ+ε) − J(θ−ε)) / 2ε cannot be computed at this step",
      "Backprop's gradients here are finite numbers (the largest, layer 3's, has ‖g‖ = 1.243e153)",
      "layer 1: no numerical gradient, J(θ ± ε) is not finite (all 32 parameters)"],
     ["a gradient at this step is not a finite number", "layer 1: not finite"]),
    (ANALYTIC, ["no relative difference: a gradient at this step is not a finite number",
                "layer 1: not finite (all 17 parameters)"], ["J(θ"]),
    (ZERO_INIT,
     ["layer 1: nothing compared: ±ε crossed a ReLU kink at all 24 parameters",
      "layer 2: exactly equal (both gradients 0) (compared 64 of 72 parameters; 8 skipped at a "
      "ReLU kink)", "layer 3: 3.039e-9 (all 9 parameters)",
      "32 entries skipped: their ±ε crossed a ReLU kink"],
     ["all 24 parameters)", "all 72 parameters", "layer 2: 0 "]),
    (ALL_AT_KINKS, ["no relative difference: every checked entry's ±ε crossed a ReLU kink, so "
                    "nothing was compared"], ["not a finite number"]),
    (EXPLODING, ["relative difference 1 ≥ 2e-7, but the difference is within the rounding noise",
                 "(‖g − g_num‖ ≤ 5e52, a noise that grows with the cost and the numbers it is "
                 "computed from)",
                 "backprop's gradients (‖g‖ up to 1.9e45) are no larger than that noise, so the "
                 "numerical gradient cannot tell them from 0: the check cannot tell right from "
                 "wrong here"],
     ["too small", "not a sign of a bug"]),
    (ON_THE_FLOOR, ["relative difference 5e-6 ≥ 2e-7, but the difference is within the rounding "
                    "noise of the numerical gradient at ε = 1e-7 (‖g − g_num‖ ≤ 5.9e-8, a noise "
                    "that grows with the cost and the numbers it is computed from), so this is "
                    "not a sign of a bug"],
     ["cannot tell"]),
    (TINY_LAYER, ["relative difference 1.231e-7 < 2e-7, so backprop agrees with the numerical "
                  "gradient; layers 1 and 2 are above the threshold only by rounding noise: "
                  "their gradients are so small"], ["disagree"]),
    (SMALL_LAYERS, ["relative difference 1.55e-9 < 2e-7, so backprop agrees with the numerical "
                    "gradient; but layer 1 is above the threshold on its own (6.2e-5 with ‖g‖ = "
                    "1.2e-6), beyond the check's estimate of the rounding noise"],
     ["layer 2 is above", "disagree"]),
]


@pytest.mark.parametrize(("result", "shown", "absent"), WORDS,
                         ids=["cost_overflow", "analytic", "zero_init", "all_at_kinks",
                              "exploding", "on_the_floor", "tiny_layer", "small_layers"])
def test_the_check_says_what_the_engine_found(result, shown, absent):
    [text] = call_js(VIEW, [["describe", result]])
    for words in shown:
        assert words in text
    for words in absent:
        assert words not in text


def test_an_exact_agreement_is_marked_not_drawn_as_a_tiny_bar():
    [bars] = call_js(VIEW, [["barValues", ZERO_INIT]])
    assert bars["values"] == [None, None, pytest.approx(3.038735522450564e-09)]
    assert bars["names"] == ["1", "2", "3"]
    # the columns without a bar, by index, and what they say
    assert bars["notes"] == [{"x": 0, "text": "all at ReLU kinks", "exact": False},
                             {"x": 1, "text": "exactly equal", "exact": True}]


@pytest.mark.parametrize(("result", "kind"), [(COST_OVERFLOW, "gradcheck-status"),
                                              (ZERO_INIT, "gradcheck-status pass"),
                                              (ON_THE_FLOOR, "gradcheck-status pass"),
                                              # passed on a floor above every gradient
                                              (EXPLODING, "gradcheck-status"),
                                              (TINY_LAYER, "gradcheck-status pass"),
                                              (SMALL_LAYERS, "gradcheck-status pass")])
def test_a_check_that_cannot_say_is_neither_pass_nor_fail(result, kind):
    assert call_js(VIEW, [["statusClass", result]]) == [kind]


def test_a_layer_above_the_threshold_within_its_noise_is_grey_not_a_failure():
    [bars] = call_js(VIEW, [["barColours", TINY_LAYER]])
    assert bars == ["#999999", "#999999", "#009E73"]
    assert call_js(VIEW, [["barColours", SMALL_LAYERS]]) == [["#D55E00", "#009E73"]]
