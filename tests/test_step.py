"""Tests for engine.step: a step's three records (forward, backward, update), its batch, its
numbers recomputed from the formulas, and its buffers, which change no bit."""

import math

import numpy as np
import pytest
from trained_runs import (
    ACTIVATIONS,
    ALL_CONFIGS,
    CONFIGS,
    DERIVATIVES,
    assert_same_bytes,
)

from engine import step as step_module
from engine.config import normalize_config
from engine.optimizers import init_state
from engine.run import Run
from engine.step import Backward, Forward, StepResult, StepRunner, Update
from engine.step_buffers import StepBuffers

# matmul results may depend on the BLAS thread count: pinned as the server pins it
pytestmark = pytest.mark.usefixtures("pinned_blas")


def _runner(raw):
    run = Run(normalize_config(raw))
    return run, StepRunner(run.config, run.data, run.layout)


# ---------------------------------------------------------------- the records


@pytest.mark.parametrize("name", ["full_batch", "dropout", "adam_l2", "sine_leaky"])
def test_a_step_is_three_complete_records(name):
    """Nothing is filled in afterwards: every field of every record is there when made."""
    run, steps = _runner(ALL_CONFIGS[name])
    state = init_state(run.config["optimizer"], run.theta0)
    result = steps.run(0, run.theta0, state)
    assert isinstance(result, StepResult)
    forward, backward, update = result
    assert (type(forward), type(backward), type(update)) == (Forward, Backward, Update)
    may_be_none = {"indices", "true_grads"}  # the whole training set; a run without a bug
    for record in result:
        for field, value in record._asdict().items():
            assert value is not None or field in may_be_none, (type(record).__name__, field)
    L, m = run.L, forward.X.shape[1]
    assert forward.AL.shape == (run.dims[-1], m) and len(forward.caches) == L
    assert forward.theta is run.theta0 and forward.A(L) is forward.AL
    assert backward.g.shape == update.step.shape == update.new_theta.shape == run.theta0.shape
    for l in range(1, L + 1):
        # dW and db are views of dθ; the new parameters are views of θ_{t+1}
        assert np.shares_memory(backward.grads[f"dW{l}"], backward.g)
        assert np.shares_memory(update.new_params[f"W{l}"], update.new_theta)
    np.testing.assert_array_equal(update.new_theta, forward.theta - update.step)


def _slot(run, theta):
    """A slot for a full-batch step of this run from θ_t, as a training run's chunk holds."""
    return StepBuffers(*run._buffers_plan()).slot(0, theta)


def _arrays(result):
    """Every array of a StepResult by a name, for a comparison."""
    forward, backward, update = result
    named = {"AL": forward.AL, "g": backward.g, "step": update.step,
             "new_theta": update.new_theta}
    for l, ((A_prev, _, _), Z) in enumerate(forward.caches, start=1):
        named |= {f"A_prev{l}": A_prev, f"Z{l}": Z}
        named |= {f"D{l}": D for D in [forward.masks[l - 1]] if D is not None}
    named |= {key: value for key, value in backward.grads.items() if value is not None}
    return named


BUG_CONFIGS = {bug: {**ALL_CONFIGS["adam_l2"], "keep_prob": 0.8, "bug": bug,
                     "activations": ["sigmoid", "tanh", "sigmoid"]}
               for bug in ("activation_cache_holds_A", "no_activation_derivative",
                           "dropout_mask_forgotten_in_backward")}


@pytest.mark.parametrize("raw", [
    *[ALL_CONFIGS[name] for name in ("full_batch", "adam_l2", "momentum_tanh",
                                     "rmsprop_softmax", "sine_leaky", "logistic",
                                     "multi_sigmoid_bce")],
    {**ALL_CONFIGS["sine_leaky"], "keep_prob": 0.8},  # dropout's mask before g'
    *BUG_CONFIGS.values(),
], ids=["full_batch", "adam_l2", "momentum_tanh", "rmsprop_softmax", "sine_leaky", "logistic",
        "multi_sigmoid_bce", "sine_leaky_dropout", *BUG_CONFIGS])
def test_buffers_change_no_bit(raw):
    """A step written into a chunk's buffers (training: its tensors, dθ and θ_{t+1}) equals
    the same step that allocates its own arrays (a replay), byte for byte, for three steps
    in a row; a bug's mistaken gradients too."""
    run, steps = _runner(raw)
    theta = run.theta0
    state = init_state(run.config["optimizer"], theta)
    buffered_theta, buffered_state = theta, state
    for t in range(3):
        plain = steps.run(t, theta, state)
        slot = _slot(run, buffered_theta)
        buffered = steps.run(t, slot.theta, buffered_state, slot.buffers, slot.params)
        want, got = _arrays(plain), _arrays(buffered)
        assert sorted(got) == sorted(want)
        for key in want:
            assert_same_bytes(got[key], want[key], (t, key))
        assert buffered.forward.cost == plain.forward.cost
        for name, views in (("dZ", slot.buffers.grads.dZ), ("dA", slot.buffers.grads.dA)):
            for l, view in enumerate(views, start=1):  # the statistics read these rows
                assert view is None or buffered.backward.grads[f"{name}{l}"] is view
        theta, state = plain.update.new_theta, plain.update.new_state
        buffered_theta, buffered_state = buffered.update.new_theta, buffered.update.new_state


# ---------------------------------------------------------------- batches and updates


@pytest.mark.parametrize("raw", [
    {"dataset": "digits", "hidden_layers": [16, 8], "batch_size": 64, "steps": 30},
    {"dataset": "moons", "n_samples": 200, "hidden_layers": [5],
     "activations": ["tanh", "sigmoid"], "batch_size": 16, "optimizer": "adam",
     "keep_prob": 0.8, "steps": 30},
    {"dataset": "sine", "hidden_layers": [8], "activations": ["tanh", "linear"], "loss": "mse",
     "batch_size": 1, "steps": 30},
    {"dataset": "iris", "hidden_layers": [6], "batch_size": 32, "bug": "missing_1_over_m",
     "steps": 30},
], ids=["digits_64_remainder", "moons_16_dropout_adam", "sine_batch_1", "iris_bug"])
def test_a_shuffled_copy_changes_no_bit(raw, monkeypatch):
    """A mini-batch taken as a view of its epoch's shuffled copy of the training set (how a
    small set trains) equals the same batch gathered by index (a set above
    SHUFFLED_COPY_BYTES), on every array of its steps, byte for byte, across epochs."""
    run, copied = _runner(raw)
    assert copied.shuffled_copy and copied.shuffled_nbytes > 0
    monkeypatch.setattr(step_module, "SHUFFLED_COPY_BYTES", 0)
    gathered = StepRunner(run.config, run.data, run.layout)
    assert not gathered.shuffled_copy and gathered.shuffled_nbytes == 0
    theta, state = run.theta0, init_state(run.config["optimizer"], run.theta0)
    for t in range(run.config["steps"]):
        batch = copied.batch(t)
        assert np.shares_memory(batch.X_ones, copied._epoch_set.X_ones)  # a view, no copy
        want, got = gathered.run(t, theta, state), copied.run(t, theta, state)
        np.testing.assert_array_equal(got.forward.indices, want.forward.indices)
        want_arrays, got_arrays = _arrays(want), _arrays(got)
        assert sorted(got_arrays) == sorted(want_arrays)
        for key in want_arrays:
            assert_same_bytes(got_arrays[key], want_arrays[key], (t, key))
        assert got.forward.cost == want.forward.cost
        theta, state = want.update.new_theta, want.update.new_state



def test_update_links_consecutive_steps(trained):
    _, run, originals = trained
    for t in range(run.num_steps - 1):
        now, nxt = run.step_record(t), run.step_record(t + 1)
        for layer, layer_next in zip(now["layers"], nxt["layers"], strict=True):
            l = layer["l"]
            for p in ("W", "b"):
                theta, theta_next = layer["linear_cache"][p], layer_next["linear_cache"][p]
                # θ_{t+1} is exactly what the optimizer produced at step t ...
                assert_same_bytes(theta_next, originals[t]["new_params"][f"{p}{l}"], (t, l, p))
                # ... the update is exactly θ_{t+1} − θ_t, and adding it back is within
                # one rounding of θ_{t+1} (W + (W' − W) need not be W' bit for bit)
                assert_same_bytes(layer["update"][p], theta_next - theta, (t, l, p))
                np.testing.assert_allclose(theta + layer["update"][p], theta_next, rtol=0,
                                           atol=4.5e-16 * max(np.abs(theta).max(),
                                                              np.abs(theta_next).max()))


def test_batches_follow_the_configured_size(trained):
    _, run, originals = trained
    cfg = run.config
    m_train = run.data.X_train.shape[1]
    for t in range(run.num_steps):
        indices = originals[t]["record"]["batch"]["indices"]
        if cfg["batch_size"] is None:
            assert indices == list(range(m_train)) and originals[t]["indices"] is None
        else:
            per_epoch = math.ceil(m_train / cfg["batch_size"])
            k = t % per_epoch
            size = min(cfg["batch_size"], m_train - k * cfg["batch_size"])
            assert len(indices) == size
            assert originals[t]["record"]["epoch"] == t // per_epoch
            if k == per_epoch - 1:
                # one epoch's batches partition the training set
                epoch = [i for s in range(t - k, t + 1)
                         for i in originals[s]["record"]["batch"]["indices"]]
                assert sorted(epoch) == list(range(m_train))
        record = originals[t]["record"]
        np.testing.assert_array_equal(record["batch"]["X"], run.data.X_train[:, indices])
        np.testing.assert_array_equal(record["batch"]["Y"], run.data.Y_train[:, indices])


# ---------------------------------------------------------------- numbers recomputed here


def _close(got, want, where):
    # the same formulas evaluated by other code: agree to ~1e-15; entries much smaller
    # than the tensor's largest come out of cancelling sums, hence atol relative to it
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale, err_msg=str(where))


def _recompute(record, cfg):
    """Forward, cost and backward of a record from its own A_prev, W, b, D and Y."""
    layers, Y, kp = record["layers"], record["batch"]["Y"], cfg["keep_prob"]
    m, L = Y.shape[1], len(layers)
    A = record["batch"]["X"]
    for layer in layers:
        lc = layer["linear_cache"]
        _close(lc["A_prev"], A, (layer["l"], "A_prev"))
        Z = lc["W"] @ A + lc["b"]
        _close(layer["activation_cache"]["Z"], Z, (layer["l"], "Z"))
        A = ACTIVATIONS[layer["activation"]](Z)
        if layer["D"] is not None:
            A = A * layer["D"] / kp
        _close(layer["A"], A, (layer["l"], "A"))
    Z, out = layers[-1]["activation_cache"]["Z"], layers[-1]["activation"]
    if cfg["loss"] == "binary_cross_entropy":
        # the logit form of -[y log σ(z) + (1-y) log(1-σ(z))]
        cost = np.sum(np.logaddexp(0.0, Z) - Y * Z) / m
        dA = -Y / A + (1 - Y) / (1 - A)
        dZ = A - Y
    elif cfg["loss"] == "categorical_cross_entropy":
        cost = -np.sum(Y * (Z - Z.max(0) - np.log(np.exp(Z - Z.max(0)).sum(0)))) / m
        dA = -Y / A
        dZ = A - Y
    else:
        cost = np.sum((A - Y) ** 2) / (2 * m)
        dA = A - Y
        # softmax mixes a column's units: dZ = A ⊙ (dA − Σₖ dAₖ Aₖ)
        dZ = A * (dA - (dA * A).sum(0)) if out == "softmax" else dA * DERIVATIVES[out](Z)
    cost += cfg["l2"] / (2 * m) * sum(np.sum(e["linear_cache"]["W"] ** 2) for e in layers)
    assert record["cost"] == pytest.approx(cost, rel=1e-12)
    for layer in reversed(layers):
        l, lc, g = layer["l"], layer["linear_cache"], layer["grads"]
        if l < L:
            dA_kept = dA if layer["D"] is None else dA * layer["D"] / kp
            dZ = dA_kept * DERIVATIVES[layer["activation"]](layer["activation_cache"]["Z"])
        _close(g["dA"], dA, (l, "dA"))
        _close(g["dZ"], dZ, (l, "dZ"))
        _close(g["dW"], dZ @ lc["A_prev"].T / m + cfg["l2"] / m * lc["W"], (l, "dW"))
        _close(g["db"], dZ.sum(axis=1, keepdims=True) / m, (l, "db"))
        dA = lc["W"].T @ dZ


def test_served_numbers_recompute_independently(trained):
    _, run, _ = trained
    for t in (0, run.num_steps // 2, run.num_steps - 1):
        _recompute(run.step_record(t), run.config)


def test_optimizer_update_recomputes_from_the_gradients():
    """Two adam steps from the records' own dW, db: the update is the course's adam."""
    run = Run(normalize_config(CONFIGS["adam_l2"])).train()
    cfg = run.config
    v = s = None
    for t in range(3):
        record = run.step_record(t)
        grads = np.concatenate([np.r_[e["grads"]["dW"].ravel(), e["grads"]["db"].ravel()]
                                for e in record["layers"]])
        update = np.concatenate([np.r_[e["update"]["W"].ravel(), e["update"]["b"].ravel()]
                                 for e in record["layers"]])
        if v is None:
            v, s = np.zeros_like(grads), np.zeros_like(grads)
        v = cfg["beta1"] * v + (1 - cfg["beta1"]) * grads
        s = cfg["beta2"] * s + (1 - cfg["beta2"]) * grads**2
        v_hat, s_hat = v / (1 - cfg["beta1"] ** (t + 1)), s / (1 - cfg["beta2"] ** (t + 1))
        expected = -cfg["learning_rate"] * v_hat / (np.sqrt(s_hat) + cfg["epsilon"])
        # the recorded update is θ_{t+1} − θ_t: one extra rounding of θ's size
        np.testing.assert_allclose(update, expected, rtol=1e-9, atol=1e-15)

