"""engine.gradcheck: centred differences against the analytic gradients of a recorded step,
within a bounded amount of work, and honest at kinks, vanishing and non-finite gradients."""

import collections
import warnings

import numpy as np
import pytest

from engine import cost, gradcheck
from engine.config import normalize_config
from engine.gradcheck import THRESHOLD, gradient_check
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
                "passed"} <= set(check)
        assert all(set(e) == {"l", "relative_difference", "checked", "total"}
                   for e in check["layers"])
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
    assert cost.seconds(gradcheck.BUDGET) <= 1.0
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
