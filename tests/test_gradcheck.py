"""engine.gradcheck: centred differences against the analytic gradients of a recorded step,
within a bounded amount of work, and honest at kinks, vanishing and non-finite gradients."""

import collections
import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from engine import gradcheck, work_estimate
from engine.config import normalize_config
from engine.gradcheck import EPSILON, THRESHOLD, gradient_check
from engine.losses import compute_loss
from engine.model import model_forward
from engine.run import Run
from tests import bug_configs
from tests.trained_runs import ALL_CONFIGS, BASE

# small layers, checked whole; digits' layers would be sampled (a test of its own below):
# the shared recorded runs' configs (tests/trained_runs.py), and a few mixtures of their own
SHARED = ("full_batch", "minibatch_remainder", "dropout", "adam_l2", "momentum_tanh",
          "rmsprop_softmax", "sine_leaky", "logistic", "batch_of_one", "no_test_set",
          "multi_sigmoid_bce")
GRADCHECK_CONFIGS = {
    **{name: ALL_CONFIGS[name] for name in SHARED},
    "adam_dropout_minibatch_l2": {**BASE, "optimizer": "adam", "learning_rate": 0.01,
                                  "keep_prob": 0.7, "batch_size": 25, "l2": 0.3},
    "momentum_l2_dropout": {**BASE, "optimizer": "momentum", "keep_prob": 0.8, "l2": 1.0},
    "rmsprop_minibatch": {**BASE, "optimizer": "rmsprop", "learning_rate": 0.01,
                          "batch_size": 10},
    "sigmoid_tanh": {**BASE, "activations": ["sigmoid", "tanh", "sigmoid"], "init": "xavier"},
    "softmax_mse": {"dataset": "iris", "hidden_layers": [5], "loss": "mse", "steps": 10,
                    "activations": ["tanh", "softmax"]},
}
# sine through three wide uniform layers at lr 10: the mse cost overflows at step 4
DIVERGES_AT_COST = {"dataset": "sine", "learning_rate": 10, "steps": 50,
                    "hidden_layers": [32, 32, 32], "init": "uniform"}


# matmul results may depend on the BLAS thread count: pinned as the server pins it
pytestmark = pytest.mark.usefixtures("pinned_blas")


def _exact_kinks(record):
    """Count of relu / leaky relu pre-activations exactly at the kink Z = 0."""
    return sum(int(np.count_nonzero(e["activation_cache"]["Z"] == 0)) for e in record["layers"]
               if e["activation"] in ("relu", "leaky_relu"))


@pytest.mark.parametrize("name", list(GRADCHECK_CONFIGS))
def test_gradcheck_passes(name):
    raw = GRADCHECK_CONFIGS[name]
    run = Run(normalize_config(raw)).train()
    for t in (1, run.num_steps - 1):
        # a centred difference across relu's kink measures neither slope (the kink test
        # below covers those); these steps have no Z exactly at 0
        assert _exact_kinks(run.step_record(t)) == 0
        check = run.gradcheck(t)
        assert {"step", "epsilon", "threshold", "layers", "relative_difference",
                "passed", "non_finite"} <= set(check)
        assert all(set(e) == {"l", "relative_difference", "checked", "total", "skipped_at_kinks",
                              "analytic_norm", "non_finite", "within_noise"}
                   for e in check["layers"])
        assert check["non_finite"] is None and check["skipped_at_kinks"] == 0
        assert check["step"] == t and check["threshold"] == THRESHOLD
        assert check["passed"] is True, check
        assert check["relative_difference"] < check["threshold"]
        assert [e["l"] for e in check["layers"]] == list(range(1, run.L + 1))
        for e, (n, n_prev) in zip(check["layers"], zip(run.dims[1:], run.dims, strict=False),
                                  strict=True):
            assert e["total"] == n * n_prev + n
            assert e["checked"] == e["total"]  # small layers are checked whole
            assert 0 <= e["relative_difference"] < THRESHOLD


@pytest.mark.parametrize("raw", [{"seed": 2, "steps": 1}, {"keep_prob": 0.7, "steps": 1}],
                         ids=["default_seed2", "dropout"])
def test_gradcheck_does_not_fail_a_correct_backprop_at_a_kink(raw):
    run = Run(normalize_config(raw)).train()
    assert _exact_kinks(run.step_record(0)) > 0  # the situation under test
    assert run.gradcheck(0)["passed"]


def test_gradcheck_does_not_fail_vanishing_gradients():
    run = Run(normalize_config({"steps": 300, "hidden_layers": [8, 8, 8, 8], "init": "course",
                                "activations": ["sigmoid"] * 5})).train()
    check = run.gradcheck(299)
    assert check["passed"] is not False, check


@pytest.mark.parametrize("t", [0, 10, 50, 120, 299])
def test_gradcheck_does_not_fail_a_zero_init_run_on_rounding_noise(t):
    """Zero init leaves only db[L] to learn, and it shrinks to 3e-5 by step 50: its centred
    difference then disagrees by 3e-10, a relative 5e-6 above the threshold, which is the
    rounding noise of (J(θ+ε) − J(θ−ε)) / 2ε, not a bug."""
    run = Run(normalize_config({"init": "zeros", "steps": 300})).train()
    check = run.gradcheck(t)
    assert check["passed"], check
    db = run.replay(t).backward.grads[f"db{run.L}"]
    assert np.abs(db).max() > 0 or t == 299  # still a gradient to check, but a tiny one


def test_gradcheck_does_not_pass_non_finite_gradients():
    run = Run(normalize_config(DIVERGES_AT_COST)).train()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check = run.gradcheck(run.diverged["step"])
    assert not check["passed"]
    assert not check["relative_difference"] < THRESHOLD
    # dW[4] is not finite: the check names backprop's gradient
    assert check["non_finite"] == "analytic"


def _full_cost(run, result, params):
    """J(θ) by the whole forward pass (not gradcheck's shortcut from layer l), and the
    on/off pattern of every relu unit. No dropout: these runs have none."""
    acts = run.config["activations"]
    AL, caches, _ = model_forward(result.forward.X, params, acts)
    J = compute_loss(run.config["loss"], acts[-1], AL, result.forward.Y, caches[-1][1])
    return J, [Z > 0 for (_, Z), g in zip(caches, acts, strict=True) if g == "relu"]


def _centred_differences(run, t, l):
    """Layer l's W then b entries, each as (g_num, crossed_kink, J(θ+ε), J(θ−ε)), by
    perturbing θ_t by ±EPSILON in float64 through the whole forward pass."""
    result = run.replay(t)
    entries = []
    for name in ("W", "b"):
        for index in np.ndindex(result.forward.params[f"{name}{l}"].shape):
            sides = []
            for sign in (1.0, -1.0):
                params = {k: v.copy() for k, v in result.forward.params.items()}
                params[f"{name}{l}"][index] += sign * EPSILON
                sides.append(_full_cost(run, result, params))
            (plus, on_plus), (minus, on_minus) = sides
            crossed = any(not np.array_equal(p, q) for p, q in zip(on_plus, on_minus, strict=True))
            entries.append(((plus - minus) / (2 * EPSILON), crossed, plus, minus))
    return result, entries


# sine through tanh, relu, linear at α = 3: at step 293 A[3] = b[3] ≈ 1e153, so the mse cost
# (a − y)² overflows, while dZ[3] = A[3] − Y, db[3] and the dead relus' zeros stay finite
COST_ONLY_OVERFLOWS = {"dataset": "sine", "hidden_layers": [16, 16], "learning_rate": 3,
                       "activations": ["tanh", "relu", "linear"]}


def test_a_cost_that_overflows_is_named_and_not_the_gradients():
    run = Run(normalize_config(COST_ONLY_OVERFLOWS)).train()
    t = run.diverged["step"]
    assert run.diverged["tensor"] == "cost"  # the situation under test
    with np.errstate(all="ignore"):
        result, entries = _centred_differences(run, t, run.L)
    grads = result.backward.grads
    assert all(np.isfinite(grads[f"d{n}{l}"]).all() for n in "Wb" for l in range(1, run.L + 1))
    assert np.abs(grads[f"db{run.L}"]).max() > 1e150
    # J(θ±ε) is ∞ on both sides, so the centred difference is ∞ − ∞: not a number
    assert all(plus == minus == np.inf and np.isnan(g_num) for g_num, _, plus, minus in entries)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check = run.gradcheck(t)
    assert check["non_finite"] == "cost" and check["passed"] is False
    assert [e["non_finite"] for e in check["layers"]] == ["cost"] * run.L
    last = check["layers"][-1]
    g = np.concatenate([grads[f"dW{run.L}"].ravel(), grads[f"db{run.L}"].ravel()])
    assert last["checked"] == last["total"] == g.size
    assert last["analytic_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-12)


def test_a_layer_whose_every_entry_crossed_a_kink_compared_nothing():
    """Zero init: Z[1] = Z[2] = 0, on relu's kink. ±ε on any W[1] or b[1] entry turns a
    unit of layer 1 on, and ±ε on b[2] one of layer 2; W[2]'s entries move Z[2] by
    ±ε A[1] = 0. So layer 1 compares nothing (no relative difference, not a 0 that claims
    agreement) and layer 2 compares its 64 weights, whose dW and centred difference are
    both exactly 0. Counted here through the whole forward pass."""
    run = Run(normalize_config({"init": "zeros", "steps": 1})).train()
    check = run.gradcheck(0)
    entries = {e["l"]: _centred_differences(run, 0, e["l"])[1] for e in check["layers"]}
    for e in check["layers"]:
        assert e["checked"] == e["total"] == len(entries[e["l"]])
        assert e["skipped_at_kinks"] == sum(crossed for _, crossed, _, _ in entries[e["l"]])
    first, second, _ = check["layers"]
    assert first["skipped_at_kinks"] == first["checked"] == 24
    assert first["relative_difference"] is None and first["non_finite"] is None
    assert second["skipped_at_kinks"] == 8  # b[2]
    compared = [g_num for g_num, crossed, _, _ in entries[2] if not crossed]
    assert len(compared) == 64 and set(compared) == {0.0}
    assert not run.replay(0).backward.grads["dW2"].any()
    assert second["relative_difference"] == 0.0 and second["analytic_norm"] == 0.0
    assert check["skipped_at_kinks"] == sum(e["skipped_at_kinks"] for e in check["layers"]) == 32
    assert check["passed"] is True  # layer 3 agrees


def test_gradcheck_samples_big_layers_within_a_bounded_amount_of_work(monkeypatch):
    """docs/api.md: "any valid run answers within a second or two". Counted, not timed (a busy
    machine would make seconds flaky; timings belong in bench/): the cost evaluations of a
    check on a big net stay within gradcheck.BUDGET multiply-adds, about a second."""
    run = Run(normalize_config({"dataset": "digits", "hidden_layers": [128, 128, 128],
                                "steps": 2})).train()
    dims, m, L = run.dims, run.m, run.L  # full batch: every step takes all m examples
    evaluations = collections.Counter()
    cost_from = gradcheck._cost_from

    def counted(result, cfg, l, Z_l):
        evaluations[l] += 1
        return cost_from(result, cfg, l, Z_l)

    monkeypatch.setattr(gradcheck, "_cost_from", counted)
    check = run.gradcheck(1)
    # one evaluation: layer l's activation of Z_l, then W[k] @ A[k-1] for every later layer
    work = sum(n * m * (dims[l] + sum(dims[k] * dims[k - 1] for k in range(l + 1, L + 1)))
               for l, n in evaluations.items())
    assert sorted(evaluations) == list(range(1, L + 1))
    assert work <= gradcheck.BUDGET
    assert work_estimate.seconds(gradcheck.BUDGET) <= 1.0
    assert check["passed"]
    assert any(e["checked"] < e["total"] for e in check["layers"])
    assert sum(e["checked"] for e in check["layers"]) <= 2000


def test_gradcheck_reports_sampling_of_a_big_layer():
    """The sampling itself, on a net that checks quickly: breast_cancer into 128 units."""
    run = Run(normalize_config({"dataset": "breast_cancer", "hidden_layers": [128],
                                "steps": 2, "test_fraction": 0.5})).train()
    check = run.gradcheck(1, max_params=400)
    first, last = check["layers"]
    assert first["total"] == 30 * 128 + 128 and first["checked"] < first["total"]
    assert last["total"] == 129 and last["checked"] <= last["total"]
    assert sum(e["checked"] for e in check["layers"]) <= 400
    assert check["passed"], check
    # deterministic: the same positions every time
    assert run.gradcheck(1, max_params=400) == check


# the gradient check compares the recorded (mistaken) gradients with the true cost's
# differences: it fails for every active mistake but wrong_update_sign, whose gradients are
# right (the update is wrong), and passes for an inactive one
GRADCHECK_PASSES = {
    **{name: name.startswith("wrong_update_sign") for name in bug_configs.ACTIVE},
    **{f"inactive {bug}": True for bug in bug_configs.INACTIVE},
}


@pytest.mark.parametrize("name", list(GRADCHECK_PASSES))
@pytest.mark.parametrize("t", [0, bug_configs.LATER])
def test_gradcheck_verdict_per_bug(name, t):
    if name.startswith("inactive "):
        bug = name.removeprefix("inactive ")
        config = normalize_config({**bug_configs.INACTIVE[bug], "bug": bug})
    else:
        config = bug_configs.active_config(name)
    check = gradient_check(Run(config).train(), t)
    assert check["passed"] is GRADCHECK_PASSES[name], (name, check["relative_difference"])
    if not GRADCHECK_PASSES[name]:
        assert check["relative_difference"] > 1e-3


def test_a_layer_of_tiny_gradients_above_the_threshold_passes_within_its_own_noise():
    """Zero init, sigmoid: at step 2 ‖dW[1]‖ is about 4e-8, so layer 1's relative difference
    (about 0.05) is the differences' rounding noise, while the overall one is under 2e-7."""
    run = Run(normalize_config({"init": "zeros", "activations": ["sigmoid"] * 3,
                                "steps": 3})).train()
    check = run.gradcheck(2)
    first = check["layers"][0]
    assert first["relative_difference"] > THRESHOLD and first["analytic_norm"] < 1e-6
    assert first["within_noise"] is True
    assert check["relative_difference"] < THRESHOLD and check["passed"] is True


def test_gradients_past_1e154_have_a_relative_difference_where_their_norms_would_overflow():
    """The divergence lesson's step 5: ‖dW[2]‖ is about 1e181, finite, but Σg² overflows;
    the check had said "not finite". Scaled norms give the difference, which is rounding
    noise at a cost of about 1e300."""
    lesson = json.loads((Path(__file__).resolve().parents[1] / "app" / "lessons"
                         / "05-divergence.json").read_text())
    run = Run(normalize_config(lesson["config"])).train()
    check = run.gradcheck(5)
    assert check["non_finite"] is None
    norms = [e["analytic_norm"] for e in check["layers"]]
    assert all(1e154 < n < np.inf for n in norms)
    assert all(e["within_noise"] for e in check["layers"])


def test_a_converged_softmax_at_batch_one_passes_within_the_rounding_of_its_layers():
    """A correct run had failed: spiral, tanh, batch 1, J ≈ 7e-5 after 1,500 steps. Each
    cost rounds by about u per example (−log a_y with a_y near 1) and by what every layer
    recomputed rounds, far more than u·|J|: layer 3 disagreed by 2e-9 against a floor
    of 4e-12. Every step of its last 300 whose example costs 1e-5 to 1e-3 is checked: which
    steps those are depends on the BLAS kernel (its last step costs 7e-5 on one, 0.03 on
    another)."""
    run = Run(normalize_config({
        "dataset": "spiral", "n_samples": 100, "hidden_layers": [16, 8],
        "activations": ["tanh", "tanh", "softmax"], "optimizer": "momentum",
        "learning_rate": 1.0, "batch_size": 1, "steps": 1500})).train()
    cost = run.summary()["cost"]
    converged = [t for t in range(run.num_steps - 300, run.num_steps) if 1e-5 < cost[t] < 1e-3]
    assert len(converged) >= 5
    checks = [run.gradcheck(t) for t in converged]
    assert all(check["passed"] is True for check in checks)
    assert all(e["within_noise"] for check in checks for e in check["layers"])
    # rounding noise, above the course's bar
    assert max(check["relative_difference"] for check in checks) > THRESHOLD


@pytest.mark.parametrize("name", ["full_batch", "dropout", "adam_l2", "rmsprop_softmax",
                                  "sine_leaky"])
def test_a_costs_rounding_is_at_least_its_size_and_shrinks_with_fewer_layers_recomputed(name):
    """R_l (the cost's rounding when layers l..L are computed again) counts |J| and each
    recomputed layer: no less than |J|, and no more for l + 1 than for l (|Z| is at most
    |W||A| + |b|)."""
    run = Run(normalize_config(ALL_CONFIGS[name])).train()
    result = run.replay(run.num_steps - 1)
    roundings = gradcheck._cost_rounding(result, run.config)
    assert len(roundings) == run.L
    assert all(r >= abs(result.forward.cost) for r in roundings)
    assert all(np.isfinite(roundings))
    assert all(a >= b for a, b in itertools.pairwise(roundings))
