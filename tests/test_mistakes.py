"""engine.mistakes and a bug run (CONTRACT §7): each classic mistake's gradients and update
against its own formula, recomputed here in float64; true_grads against the bug-free engine
and finite differences; inactive bugs train as the bug-free run; the work estimate counts
the second backward. (The gradient check's verdict per bug: tests/test_gradcheck.py.)"""

import numpy as np
import pytest

from engine import work_estimate
from engine.config import normalize_config
from engine.mistakes import BUGS, bug_active
from engine.records import step_record
from engine.run import Run
from engine.step import StepRunner
from tests.bug_configs import ACTIVE, INACTIVE, LATER, TINY, active_config
from tests.finite_differences import numerical_gradient, rel_error
from tests.trained_runs import (
    ACTIVATIONS,
    DERIVATIVES,
    assert_same_bytes,
    record_tensors,
    train_recording,
)

pytestmark = pytest.mark.usefixtures("pinned_blas")


def without_bug(config):
    """The same config with the correct code."""
    return {**config, "bug": None}


def loss_gradient(loss, A, Y):
    """dA[L] per example, the course's formulas."""
    if loss == "binary_cross_entropy":
        return -(Y / A - (1 - Y) / (1 - A))
    if loss == "categorical_cross_entropy":
        return -Y / A
    return A - Y


def times_g_prime(name, dA, at):
    """g'(at) ⊙ dA; softmax's Jacobian applied column by column."""
    if name == "softmax":
        S = ACTIVATIONS["softmax"](at)
        return S * (dA - (dA * S).sum(0))
    return DERIVATIVES[name](at) * dA


def mistaken_gradients(bug, result, config):
    """The gradients that the mistaken code computes, written out here: {name: array}."""
    forward, acts = result.forward, config["activations"]
    m, l2, keep_prob = forward.Y.shape[1], config["l2"], config["keep_prob"]
    dA, grads = loss_gradient(config["loss"], forward.AL, forward.Y), {}
    for l in range(len(acts), 0, -1):
        (A_prev, W, _), Z = forward.caches[l - 1]
        D = forward.masks[l - 1]
        grads[f"dA{l}"] = dA
        if D is not None and bug != "dropout_mask_forgotten_in_backward":
            dA = dA * D / keep_prob
        # the forum's cache holds A = g(Z), before dropout
        at = ACTIVATIONS[acts[l - 1]](Z) if bug == "activation_cache_holds_A" else Z
        dZ = grads[f"dZ{l}"] = dA if bug == "no_activation_derivative" else \
            times_g_prime(acts[l - 1], dA, at)
        scale = 1.0 if bug == "missing_1_over_m" else 1.0 / m
        l2_term = 0.0 if bug == "l2_gradient_missing" else (l2 / m) * W
        grads[f"dW{l}"] = scale * (dZ @ A_prev.T) + l2_term
        grads[f"db{l}"] = scale * dZ.sum(axis=1, keepdims=True)
        dA = W.T @ dZ
    return grads


def assert_close(actual, expected, where):
    assert actual.shape == expected.shape, where
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-13, err_msg=where)


@pytest.fixture(scope="module", params=list(ACTIVE))
def bug_run(request):
    """(name, run, originals): an active bug's run, trained once, with what training
    computed at every step (tests.trained_runs.train_recording)."""
    name = request.param
    run, originals = train_recording(active_config(name))
    return name, run, originals


@pytest.mark.parametrize("t", [0, LATER])
def test_recorded_gradients_are_the_mistakes_formula(bug_run, t):
    name, run, _ = bug_run
    result = run.replay(t)
    expected = mistaken_gradients(run.config["bug"], result, run.config)
    for key, value in expected.items():
        assert_close(result.backward.grads[key], value, f"{name} step {t} {key}")


@pytest.mark.parametrize("t", [0, LATER])
def test_the_mistaken_gradients_differ_from_the_true_ones(bug_run, t):
    name, run, _ = bug_run
    backward = run.replay(t).backward
    differs = [rel_error(backward.grads[f"d{p}{l}"], backward.true_grads[f"d{p}{l}"]) > 1e-6
               for l in range(1, run.L + 1) for p in ("W", "b")]
    assert any(differs) == (run.config["bug"] != "wrong_update_sign"), name


@pytest.mark.parametrize("t", [0, LATER])
def test_the_update_applies_the_mistaken_gradient(bug_run, t):
    """gd: θ_{t+1} − θ_t = −α dθ from the recorded (mistaken) dθ; +α dθ for
    wrong_update_sign."""
    name, run, _ = bug_run
    result = run.replay(t)
    sign = 1.0 if run.config["bug"] == "wrong_update_sign" else -1.0
    alpha = run.config["learning_rate"]
    for l in range(1, run.L + 1):
        for p in ("W", "b"):
            update = result.update.new_params[f"{p}{l}"] - result.forward.params[f"{p}{l}"]
            assert_close(update, sign * alpha * result.backward.grads[f"d{p}{l}"],
                         f"{name} step {t} update {p}{l}")


@pytest.mark.parametrize("t", [0, LATER])
def test_true_grads_are_the_bug_free_engines_at_the_same_theta(bug_run, t):
    name, run, _ = bug_run
    result = run.replay(t)
    correct = StepRunner(without_bug(run.config), run.data, run.layout)
    expected = correct.backward(correct.forward(t, result.forward.theta)).grads
    for key, value in expected.items():
        if value is not None:  # dA[L] of the fused pairs: the record recomputes it
            assert_same_bytes(result.backward.true_grads[key], value, f"{name} {key}")


def test_true_grads_match_finite_differences_at_step_0(bug_run):
    """dW[l] and db[l] of true_grads are ∂J/∂W and ∂J/∂b, J the true cost with this
    step's dropout masks.  Below a ReLU layer with a Z exactly at the kink (an example
    whose units below are all off: Z = b = 0 at step 0), differences measure neither
    slope, so those layers are left out."""
    name, run, _ = bug_run
    result = run.replay(0)
    forward, acts = result.forward, run.config["activations"]
    params = {k: v.copy() for k, v in forward.params.items()}

    def J():
        A, m = forward.X, forward.Y.shape[1]
        for l in range(1, len(acts) + 1):
            A = ACTIVATIONS[acts[l - 1]](params[f"W{l}"] @ A + params[f"b{l}"])
            if forward.masks[l - 1] is not None:
                A = A * forward.masks[l - 1] / run.config["keep_prob"]
        Y, loss = forward.Y, run.config["loss"]
        if loss == "binary_cross_entropy":
            J = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
        elif loss == "categorical_cross_entropy":
            J = -np.sum(Y * np.log(A)) / m
        else:
            J = np.sum((A - Y) ** 2) / (2 * m)
        return J + run.config["l2"] / (2 * m) * sum(np.sum(params[f"W{l}"] ** 2)
                                                    for l in range(1, len(acts) + 1))

    assert J() == pytest.approx(forward.cost, rel=1e-12)  # the cost stays the true one
    at_kink = [l for l in range(1, len(acts) + 1) if acts[l - 1] in ("relu", "leaky_relu")
               and np.any(forward.caches[l - 1][1] == 0)]
    lowest = max(at_kink, default=0) + 1
    assert lowest <= len(acts)
    for key, array in params.items():
        if int(key[1:]) < lowest:
            continue
        numerical = numerical_gradient(J, array)
        assert rel_error(result.backward.true_grads[f"d{key}"], numerical) < 1e-6, (name, key)


def test_training_and_replay_agree_bit_for_bit(bug_run):
    """The steps that training computed (on its chunk buffers) are the replayed ones,
    true_grads included."""
    name, run, originals = bug_run
    for t in (0, LATER, run.num_steps - 1):
        replayed = step_record(run.replay(t), run.config, t)
        for (where, a), (_, b) in zip(record_tensors(originals[t]["record"]),
                                      record_tensors(replayed), strict=True):
            assert_same_bytes(a, b, (name, t, where))
        for layer, again in zip(originals[t]["record"]["layers"], replayed["layers"],
                                strict=True):
            for key, value in layer["true_grads"].items():
                assert_same_bytes(value, again["true_grads"][key], (name, t, key))


def test_a_bug_run_is_deterministic(bug_run):
    name, _, originals = bug_run
    _, again = train_recording(active_config(name))
    for t, original in originals.items():
        for (where, a), (_, b) in zip(record_tensors(original["record"]),
                                      record_tensors(again[t]["record"]), strict=True):
            assert_same_bytes(a, b, (name, t, where))


def test_the_record_carries_true_grads_narrowed_like_grads(bug_run):
    name, run, _ = bug_run
    t = LATER
    full = step_record(run.replay(t), run.config, t)
    for layer in full["layers"]:
        assert set(layer["true_grads"]) == {"dA", "dZ", "dW", "db"}
        for key, value in layer["true_grads"].items():
            assert value.shape == layer["grads"][key].shape, (name, key)
    narrowed = step_record(run.replay(t), run.config, t, layers=[1], fields={"dW"})
    assert list(narrowed["layers"][0]["true_grads"]) == ["dW"]
    assert list(narrowed["layers"][0]["grads"]) == ["dW"]
    result = run.replay(t)
    k = result.forward.X.shape[1] // 2  # the example in the middle of the batch
    example = k if result.forward.indices is None else int(result.forward.indices[k])
    one = step_record(result, run.config, t, example=example)
    for layer, whole in zip(one["layers"], full["layers"], strict=True):
        for key in ("dA", "dZ"):
            np.testing.assert_array_equal(layer["true_grads"][key],
                                          whole["true_grads"][key][:, k:k + 1])
        np.testing.assert_array_equal(layer["true_grads"]["dW"], whole["true_grads"]["dW"])


def test_wrong_update_sign_adds_adams_step():
    """Adam's first step from zero moments is α g / (|g| + ε); the mistake adds it."""
    config = normalize_config({**TINY, "optimizer": "adam", "learning_rate": 0.01,
                               "bug": "wrong_update_sign"})
    result = Run(config).train().replay(0)
    g, eps = result.backward.g, config["epsilon"]
    step = result.update.new_theta - result.forward.theta
    np.testing.assert_allclose(step, 0.01 * g / (np.abs(g) + eps), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("bug", list(INACTIVE))
def test_an_inactive_bug_trains_as_the_bug_free_run(bug):
    config = normalize_config({**INACTIVE[bug], "bug": bug})
    assert not bug_active(config)
    run, plain = Run(config).train(), Run(without_bug(config)).train()
    assert run.info()["bug_active"] is False
    np.testing.assert_equal(run.summary(), plain.summary())
    for t in range(run.num_steps):
        record, expected = step_record(run.replay(t), config, t), plain.step_record(t)
        for (where, a), (_, b) in zip(record_tensors(record), record_tensors(expected),
                                      strict=True):
            assert_same_bytes(a, b, (bug, t, where))
        for layer in record["layers"]:
            for key, value in layer["true_grads"].items():
                assert_same_bytes(value, layer["grads"][key], (bug, t, key))


@pytest.mark.parametrize(("raw", "active"), [
    ({**TINY, "bug": "wrong_update_sign"}, True),
    ({**TINY, "bug": "dropout_mask_forgotten_in_backward", "keep_prob": 0.5}, True),
    ({**TINY, "bug": "dropout_mask_forgotten_in_backward", "hidden_layers": [],
      "keep_prob": 0.5}, False),  # dropout acts on hidden layers only
    ({**TINY, "bug": "l2_gradient_missing", "l2": 0.01}, True),
    ({**TINY, "bug": "missing_1_over_m"}, True),
    ({**TINY, "bug": "missing_1_over_m", "batch_size": 2}, True),
    ({**TINY, "bug": "activation_cache_holds_A"}, True),  # the sigmoid output
    ({**TINY, "bug": "no_activation_derivative"}, True),
    ({**TINY, "bug": None}, False),
    *[({**INACTIVE[bug], "bug": bug}, False) for bug in INACTIVE],
])
def test_bug_active(raw, active):
    assert bug_active(normalize_config(raw)) is active


def test_a_bug_free_run_has_no_true_grads():
    run = Run(normalize_config(TINY)).train()
    assert run.replay(0).backward.true_grads is None
    assert all("true_grads" not in layer for layer in run.step_record(0)["layers"])
    assert run.info()["bug_active"] is False


@pytest.mark.parametrize("name", list(ACTIVE))
def test_the_work_estimate_counts_the_second_backward(name):
    config = active_config(name)
    run = Run(config)
    extra = config["steps"] * work_estimate.BACKWARD * run.m * work_estimate.weights(run.dims)
    assert work_estimate.run_multiply_adds(config) == \
        work_estimate.run_multiply_adds(without_bug(config)) + extra
    assert run.step_multiply_adds == work_estimate.train_multiply_adds(run.dims, run.m, 2)


def test_every_bug_is_tested():
    assert {name.split("/")[0] for name in ACTIVE} == set(BUGS)
    assert set(INACTIVE) == set(BUGS) - {"wrong_update_sign"}  # it always acts
