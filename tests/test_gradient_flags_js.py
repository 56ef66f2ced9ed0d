"""static/js/gradient_flags.js, run by Node: a layer whose ‖dW‖ is exactly 0 is flagged for
what stops learning, W alone or the whole layer, from the summary's statistics."""

import pytest

from tests.node_runner import call_js, needs_node

pytestmark = needs_node


def layer(l, dW, db, A=(0.5, 0.5), dead=None, W=1.0):
    """One layer's summary statistics at a single step (t = 0): ‖dW‖, ‖db‖, A's range, the
    share of dead relu units and ‖W‖."""
    return {"l": l, "dW_norm": [dW], "db_norm": [db], "W_norm": [W], "update_ratio": [1e-3],
            "A_min": [A[0]], "A_max": [A[1]], "dead_fraction": [dead]}


def frame(*layers):
    dims = [1] + [16] * (len(layers) - 1) + [1]
    return {"t": 0, "run": {"L": len(layers), "dims": dims, "diverged": None},
            "summary": {"layers": list(layers)}}


# (layer 3's ‖dW‖ and ‖db‖, A[2]'s range, dead share and ‖W[2]‖; words shown; words not
# shown): sine at α = 3, step 293: layer 2's relus are all dead, so dW[3] = 0 while
# db[3] ≈ 1.2e153
CASES = [
    ((0.0, 1.243e153, (0.0, 0.0), 1.0, 5.0),
     ["layer 3: ‖dW‖ = 0 exactly: W[3] does not learn at this step: its input A[2] is all zeros "
      "(every ReLU unit of layer 2 is dead on this batch), so dW = (1/m) dZ·A[2]ᵀ is 0",
      "b[3] still learns, from an exploding gradient: ‖db‖ = 1.243e153 > 1000"],
     ["this layer does not learn"]),
    ((0.0, 0.0, (0.0, 0.0), 1.0, 5.0),
     ["layer 3: ‖dW‖ = ‖db‖ = 0 exactly: this layer does not learn at this step: its input A[2]"],
     ["still learns"]),
    ((0.0, 0.2, (0.0, 0.0), None, 5.0),
     ["W[3] does not learn at this step: its input A[2] is all zeros, so", "b[3] still learns"],
     ["dead", "this layer does not learn"]),
    # a zero init: layer 2's relus sit at Z = 0 because W[2] is 0, not the dead relu problem
    ((0.0, 0.025, (0.0, 0.0), 1.0, 0.0),
     ["W[3] does not learn at this step: its input A[2] is all zeros, so",
      "b[3] still learns: ‖db‖ = 0.025"], ["dead"]),
    ((0.0, None, (-0.1, 0.3), None, 5.0),  # ‖db‖ not finite: say nothing of b
     ["layer 3: ‖dW‖ = 0 exactly: W[3] does not learn at this step"], ["b[3]", "A[2]"]),
]


@pytest.mark.parametrize(("stats", "shown", "absent"), CASES,
                         ids=["dead_relus_b_learns", "nothing_learns", "zero_input", "zero_init",
                              "db_unknown"])
def test_a_zero_dW_names_what_does_not_learn(stats, shown, absent):
    dW, db, A, dead, W = stats
    [lines] = call_js("gradient_flags.js", [["flagLines", frame(
        layer(1, 0.3, 0.1), layer(2, 0.2, 0.1, A=A, dead=dead, W=W), layer(3, dW, db))]])
    [text] = [text for _, text in lines if text.startswith("layer 3:")]
    for words in shown:
        assert words in text
    for words in absent:
        assert words not in text


# (layer 2's dZ and dA ranges, its dead share; the words that say why dZ[2] = 0): sine at
# α = 3, step 293, where layers 1 and 2 have ‖dW‖ = ‖db‖ = 0
WHY_NO_DZ = [
    ((0.0, 3.1, 1.0),
     "every ReLU unit of layer 2 is dead on this batch (Z[2] ≤ 0), so dZ = dA · g′(Z) is 0"),
    ((0.0, 0.0, 1.0), "no gradient reaches it (dA[2] is all zeros), so dZ[2] is 0"),
    ((0.0, 3.1, 0.5), ": dZ[2] is all zeros"),
    ((0.2, 3.1, 1.0), None),  # dZ is not 0 (its entries cancel in dW and db): no reason given
]


@pytest.mark.parametrize(("ranges", "why"), WHY_NO_DZ,
                         ids=["dead_relus", "no_gradient_in", "dz_zero", "dz_not_zero"])
def test_a_layer_that_does_not_learn_says_why_its_dZ_is_zero(ranges, why):
    dZ, dA, dead = ranges
    middle = {**layer(2, 0.0, 0.0, dead=dead), "dZ_max_abs": [dZ], "dA_max_abs": [dA]}
    [lines] = call_js("gradient_flags.js", [["flagLines", frame(
        layer(1, 0.3, 0.1), middle, layer(3, 0.2, 0.1))]])
    [text] = [text for _, text in lines if text.startswith("layer 2:")]
    assert text.startswith("layer 2: ‖dW‖ = ‖db‖ = 0 exactly: this layer does not learn")
    if why is None:
        assert text.endswith("this layer does not learn at this step")
    else:
        assert why in text


# (the costs at t = 0 and 1, the batch size; the flag's kind and words): an update that
# changes W by 30 %, as the default run's output layer's first ones do
BIG_UPDATES = [
    ((0.69, 0.65), None, "info",
     "layer 2: this update changes W by 30 %, far above the usual 0.1 %, and the cost still "
     "falls (0.69 → 0.65)"),
    ((0.69, 0.72), None, "warn", "layer 2: this update changes W by 30 % — the learning rate "
                                 "may be too large"),
    ((0.69, None), None, "warn", "the learning rate may be too large"),  # the cost overflowed
    ((0.69, 0.65), 16, "warn", "the learning rate may be too large"),  # another batch's cost
]


@pytest.mark.parametrize(("cost", "batch_size", "kind", "words"), BIG_UPDATES,
                         ids=["cost_falls", "cost_rises", "cost_overflows", "mini_batch"])
def test_a_big_update_is_a_warning_only_where_the_cost_does_not_fall(cost, batch_size, kind,
                                                                    words):
    big = {**layer(2, 0.2, 0.1), "update_ratio": [0.3, 0.3]}
    step = frame(layer(1, 0.3, 0.1), big)
    step["summary"]["cost"] = list(cost)
    step["run"]["config"] = {"batch_size": batch_size}
    [lines] = call_js("gradient_flags.js", [["flagLines", step]])
    [flag] = [(k, text) for k, text in lines if text.startswith("layer 2:")]
    assert flag[0] == kind and words in flag[1]


def test_at_the_last_step_a_big_update_reads_the_costs_fall_into_it():
    big = {**layer(2, 0.2, 0.1), "update_ratio": [0.3, 0.3]}
    big = {k: (v * 2 if isinstance(v, list) and len(v) == 1 else v) for k, v in big.items()}
    first = {k: (v * 2 if isinstance(v, list) else v) for k, v in layer(1, 0.3, 0.1).items()}
    step = {**frame(first, big), "t": 1}
    step["summary"]["cost"] = [0.69, 0.65]  # no cost after the last step
    [lines] = call_js("gradient_flags.js", [["flagLines", step]])
    [flag] = [(k, text) for k, text in lines if text.startswith("layer 2:")]
    assert flag == ("info", "layer 2: this update changes W by 30 %, far above the usual 0.1 %, "
                            "and the cost still falls (0.69 → 0.65)")


def test_an_exploded_gradient_does_not_vanish_beside_a_larger_one():
    """The divergence lesson at step 5: every ‖dW‖ is astronomical, and layers 1 and 3 are
    far below layer 2's. They had been called vanishing; they explode too."""
    [lines] = call_js("gradient_flags.js", [["flagLines", frame(
        layer(1, 7.953e169, 1e160), layer(2, 1.178e181, 1e170), layer(3, 3.631e177, 1e160))]])
    texts = {text.split(":")[0]: (level, text) for level, text in lines}
    for l in (1, 3):
        level, text = texts[f"layer {l}"]
        assert level == "bad" and "exploding gradient" in text and "vanishing" not in text
