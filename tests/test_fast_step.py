"""Tests for engine.fast_step: a training step by the fast path equals the plain course
functions (engine.layers, engine.model) on every tensor of the step, and its pieces (the
row of ones, buffers, the fused output gradient, the one-hot cost) compute the same maths.

Relative difference of a tensor: max |fast − plain| / max |plain| (0 when both are 0), the
measure of scripts/verify_against_torch.py.
"""

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest
from finite_differences import numerical_gradient, rel_error

from engine import losses, model, records
from engine.activations import ACTIVATIONS, relu_backward
from engine.batches import batch_indices, dropout_rng
from engine.config import normalize_config
from engine.fast_step import (
    activate,
    affine_forward,
    forward,
    mean_loss,
    network_output,
    ones_below,
    output_gradient,
    relu_derivative_into,
    stacked_outputs,
    with_ones,
)
from engine.layout import ParamLayout
from engine.optimizers import OPTIMIZERS, init_state
from engine.run import Run

TORCH_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "verify_against_torch.py"


def _script_configs():
    """scripts/verify_against_torch.py's CONFIGS, read without running it (it imports torch)."""
    tree = ast.parse(TORCH_SCRIPT.read_text())
    return ast.literal_eval(next(node.value for node in tree.body if isinstance(node, ast.Assign)
                                 and [target.id for target in node.targets] == ["CONFIGS"]))


# the bug-free ones: the script's bug runs check their true_grads, which the fast path
# computes for configs like these (tests/test_mistakes.py holds them equal to the bug-free run's)
TORCH_CONFIGS = [raw for raw in _script_configs() if "bug" not in raw]
MORE_CONFIGS = {
    "dropout": {"dataset": "moons", "hidden_layers": [8, 8], "keep_prob": 0.6, "steps": 25},
    "l2": {"dataset": "circles", "hidden_layers": [6], "l2": 2.0, "activations": ["sigmoid",
           "sigmoid"], "optimizer": "momentum", "steps": 25},
    "mini-batch": {"dataset": "flower", "hidden_layers": [5], "batch_size": 48, "steps": 25,
                   "activations": ["tanh", "sigmoid"]},
    "softmax digits": {"dataset": "digits", "hidden_layers": [16], "steps": 25,
                       "learning_rate": 0.1},
}
STEP_CONFIGS = {f"torch {k}": raw for k, raw in enumerate(TORCH_CONFIGS)} | MORE_CONFIGS
RELATIVE = 1e-12


# matmul results may depend on the BLAS thread count: pinned as the server pins it
pytestmark = pytest.mark.usefixtures("pinned_blas")


def relative_difference(fast, plain):
    fast, plain = np.asarray(fast, dtype=float), np.asarray(plain, dtype=float)
    assert fast.shape == plain.shape
    scale = np.max(np.abs(plain), initial=0.0)
    difference = np.max(np.abs(fast - plain), initial=0.0)
    return 0.0 if difference == 0 else difference / scale


# ---------------------------------------------------------------- a whole step, both ways


def plain_step(run, t, theta, state):
    """Step t from θ_t by the course functions: engine.model's forward and backward, the
    loss's dA[L], L2, then the optimizer.  Returns its tensors as (name, l) -> array."""
    cfg, layout = run.config, run.layout
    _, idx = batch_indices(cfg["seed"], t, run.data.X_train.shape[1], cfg["batch_size"])
    X, Y = (run.data.X_train, run.data.Y_train) if idx is None else \
        (run.data.X_train[:, idx], run.data.Y_train[:, idx])
    keep_prob, acts, m = cfg["keep_prob"], cfg["activations"], X.shape[1]
    params = layout.views(theta.copy())
    rng = dropout_rng(cfg["seed"], t) if keep_prob < 1 else None
    AL, caches, masks = model.model_forward(X, params, acts, keep_prob, rng)
    J = losses.compute_loss(cfg["loss"], acts[-1], AL, Y, caches[-1][1]) + \
        model.l2_cost(params, run.L, cfg["l2"], m)
    grads = model.model_backward(losses.loss_backward(cfg["loss"], AL, Y), caches, acts, masks,
                                 keep_prob)
    if cfg["l2"]:
        grads = model.l2_gradients(grads, params, cfg["l2"], m)
    g = layout.flatten({name: grads[f"d{name}"] for name, _ in layout.shapes})
    step, new_state = OPTIMIZERS[cfg["optimizer"]](g, state, cfg)
    new_params = {name: params[name] - step_part for name, step_part in layout.views(step).items()}
    tensors = {("cost", run.L): np.array(J)}
    for l, ((A_prev, W, b), Z) in enumerate(caches, start=1):
        A = AL if l == run.L else caches[l][0][0]
        tensors |= {("A_prev", l): A_prev, ("W", l): W, ("b", l): b, ("Z", l): Z, ("A", l): A,
                    ("dA", l): grads[f"dA{l}"], ("dZ", l): grads[f"dZ{l}"],
                    ("dW", l): grads[f"dW{l}"], ("db", l): grads[f"db{l}"],
                    ("update_W", l): new_params[f"W{l}"] - W,
                    ("update_b", l): new_params[f"b{l}"] - b}
        if masks[l - 1] is not None:
            tensors[("D", l)] = masks[l - 1]
    return tensors, new_state


def fast_tensors(run, result):
    """The same names for a StepResult that training computed (engine.step)."""
    record = records.step_record(result, run.config, 0)
    tensors = {("cost", run.L): np.array(record["cost"])}
    for layer in record["layers"]:
        l = layer["l"]
        tensors |= {(name, l): tensor for group in ("linear_cache", "activation_cache", "grads")
                    for name, tensor in layer[group].items()}
        tensors |= {("A", l): layer["A"], ("update_W", l): layer["update"]["W"],
                    ("update_b", l): layer["update"]["b"]}
        if layer["D"] is not None:
            tensors[("D", l)] = layer["D"]
    return tensors


@pytest.mark.parametrize("name", STEP_CONFIGS)
def test_a_training_step_equals_the_course_functions_on_every_tensor(name):
    run = Run(normalize_config(STEP_CONFIGS[name]))
    state = [init_state(run.config["optimizer"], run.theta0)]  # the state before step t
    worst = {}

    def compare(t, result):  # on the training thread, while the chunk buffers hold step t
        plain, new_state = plain_step(run, t, result.forward.theta, state[0])
        fast = fast_tensors(run, result)
        assert sorted(fast) == sorted(plain), t
        for key, tensor in plain.items():
            worst[key] = max(worst.get(key, 0.0), relative_difference(fast[key], tensor))
        state[0] = result.update.new_state
        assert new_state.keys() == state[0].keys()

    run.train(on_step=compare)
    assert run.status == "done" and run.num_steps == run.config["steps"]
    above = {f"{key[0]}{key[1]}": value for key, value in worst.items() if not value <= RELATIVE}
    assert not above, f"relative differences above {RELATIVE}: {above}"
    # every tensor of the step was compared: the forward's, the backward's and the update
    names = {key[0] for key in worst}
    assert {"A_prev", "W", "b", "Z", "A", "dA", "dZ", "dW", "db", "update_W", "update_b",
            "cost"} <= names
    assert ("D" in names) == (run.config["keep_prob"] < 1)


# ---------------------------------------------------------------- the row of ones


@pytest.mark.parametrize(("n", "n_prev", "m"), [
    (3, 2, 5), (4, 4, 5),  # n_prev < m: one product, [W b]·[A; 1]
    (2, 5, 5), (2, 7, 3), (1, 1, 1), (5, 40, 6),  # else: W A, then + b
])
def test_affine_forward_is_W_A_plus_b(n, n_prev, m):
    rng = np.random.default_rng(n * 100 + n_prev * 10 + m)
    A, W, b = (rng.standard_normal(s) for s in ((n_prev, m), (n, n_prev), (n, 1)))
    Z = affine_forward(with_ones(A), W, b)
    assert Z.shape == (n, m)
    np.testing.assert_allclose(Z, W @ A + b, rtol=1e-13, atol=1e-13)
    out = np.empty((n, m))
    assert affine_forward(with_ones(A), W, b, out) is out
    np.testing.assert_array_equal(out, Z)
    # a stack of two parameter sets on the same A (engine.scores's stacked forward)
    Ws, bs = np.stack([W, 2 * W]), np.stack([b, -b])
    np.testing.assert_allclose(affine_forward(with_ones(A), Ws, bs), Ws @ A + bs,
                               rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("m", [1, 2, 4])
def test_affine_forward_is_exact_on_small_integers(m):
    A = np.arange(2 * m, dtype=float).reshape(2, m)
    W, b = np.array([[1.0, -2.0], [3.0, 0.5]]), np.array([[4.0], [-1.0]])
    np.testing.assert_array_equal(affine_forward(with_ones(A), W, b), W @ A + b)


def test_with_ones_puts_a_row_of_ones_below_a_copy():
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    A_ones = with_ones(A)
    np.testing.assert_array_equal(A_ones, [[1, 2, 3], [4, 5, 6], [1, 1, 1]])
    A_ones[0, 0] = 9.0
    assert A[0, 0] == 1.0
    assert ones_below((3, 2)).shape == (4, 2)
    np.testing.assert_array_equal(ones_below((3, 2))[-1], [1.0, 1.0])
    stack = with_ones(np.zeros((2, 3, 4)))  # (T, n, m) stacks: a row of ones per step
    np.testing.assert_array_equal(stack.sum(axis=(1, 2)), [4.0, 4.0])


# ---------------------------------------------------------------- activations into buffers


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activate_is_the_activation_bit_for_bit_into_a_buffer(name):
    Z = np.random.default_rng(0).normal(0.0, 3.0, size=(4, 6))
    A = ACTIVATIONS[name][0](Z)[0]
    np.testing.assert_array_equal(activate(name, Z), A)
    out = np.empty_like(Z)
    assert activate(name, Z, out) is out
    np.testing.assert_array_equal(out, A)
    # a stack (T, n, m) of several steps: each one as it would be alone
    stack = np.stack([Z, -Z])
    np.testing.assert_array_equal(activate(name, stack)[1], ACTIVATIONS[name][0](-Z)[0])


def test_relu_derivative_is_the_courses_wherever_dA_is_finite():
    """The 0/1 mask equals the course's relu_backward in value (a zero's sign aside), into
    a buffer or not, and the same bits either way (training writes into buffers, replays
    do not)."""
    rng = np.random.default_rng(3)
    Z, dA = rng.normal(size=(5, 40)), rng.normal(size=(5, 40))
    Z[0, :3] = 0.0
    out = np.empty_like(Z)
    assert relu_derivative_into(dA, Z, out) is out
    np.testing.assert_array_equal(out, relu_backward(dA, Z))
    assert relu_derivative_into(dA, Z, None).tobytes() == out.tobytes()


def test_relu_derivative_of_a_replay_with_infinite_dA_is_the_courses():
    """Where dA holds ±inf or NaN (a diverged step), the mask would give inf·0 = NaN where
    Z ≤ 0; a replay (no buffer) gives the course's 0, and dA where Z is NaN."""
    Z = np.array([[-1.0, 0.0, 2.0, np.nan, 1.0]])
    dA = np.array([[np.inf, -np.inf, -np.inf, 3.0, 1.0]])
    np.testing.assert_array_equal(relu_derivative_into(dA, Z, None),
                                  [[0.0, 0.0, -np.inf, 3.0, 1.0]])
    # training's buffers take the mask: its diverged step is replayed before it is served
    with np.errstate(invalid="ignore"):  # (training runs under one such)
        assert np.isnan(relu_derivative_into(dA, Z, np.empty_like(Z))[0, :2]).all()


@pytest.mark.parametrize(("keep_prob", "seed"), [(1.0, None), (0.7, 5)])
def test_forward_equals_model_forward(keep_prob, seed):
    rng = np.random.default_rng(1)
    dims, acts = [3, 5, 4, 2], ["relu", "tanh", "softmax"]
    params = {}
    for l in range(1, 4):
        params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1]))
        params[f"b{l}"] = rng.standard_normal((dims[l], 1))
    X = rng.standard_normal((3, 9))
    new_rng = (lambda: np.random.default_rng(seed)) if seed else (lambda: None)
    AL, caches, masks = forward(with_ones(X), params, acts, keep_prob, new_rng())
    AL_plain, caches_plain, masks_plain = model.model_forward(X, params, acts, keep_prob,
                                                              new_rng())
    assert relative_difference(AL, AL_plain) <= RELATIVE
    for ((A_prev, W, b), Z), ((A_prev_p, W_p, b_p), Z_p) in zip(caches, caches_plain,
                                                                strict=True):
        assert W is W_p and b is b_p
        assert relative_difference(A_prev, A_prev_p) <= RELATIVE
        assert relative_difference(Z, Z_p) <= RELATIVE
    for D, D_plain in zip(masks, masks_plain, strict=True):  # the same draws
        assert (D is None and D_plain is None) or np.array_equal(D, D_plain)
    assert (masks[0] is None) == (keep_prob == 1.0) and masks[-1] is None


# ---------------------------------------------------------------- the output layer

M = 6


def _targets(loss, n_y, seed=0):
    rng = np.random.default_rng(seed)
    if loss == "binary_cross_entropy":
        return (rng.random((n_y, M)) < 0.5).astype(float)
    if loss == "categorical_cross_entropy":
        return np.eye(n_y)[rng.integers(n_y, size=M)].T
    return rng.normal(size=(n_y, M))


@pytest.mark.parametrize(("activation", "loss", "n_y"), [
    ("sigmoid", "binary_cross_entropy", 1),
    ("sigmoid", "binary_cross_entropy", 3),
    ("softmax", "categorical_cross_entropy", 4),
])
def test_fused_heads_give_A_minus_Y_equal_to_m_dJ_dZ(activation, loss, n_y):
    Z = np.random.default_rng(2).normal(0.0, 2.0, size=(n_y, M))
    Y = _targets(loss, n_y)
    g = ACTIVATIONS[activation][0]
    A = g(Z)[0]
    dA, dZ = output_gradient(loss, activation, A, Y, Z)
    assert dA is None  # not computed: engine.records recomputes it for a record
    np.testing.assert_array_equal(dZ, A - Y)
    numeric = numerical_gradient(lambda: losses.LOSSES[loss][0](g(Z)[0], Y), Z)
    assert rel_error(dZ, M * numeric) < 1e-7
    # and the cost from logits has the same gradient
    numeric_logits = numerical_gradient(
        lambda: losses.compute_loss(loss, activation, g(Z)[0], Y, Z), Z)
    assert rel_error(dZ, M * numeric_logits) < 1e-7
    # the course's way, through dA[L] and g'(Z[L]), gives the same dZ
    course_dZ = ACTIVATIONS[activation][1](losses.loss_backward(loss, A, Y), Z)
    assert relative_difference(dZ, course_dZ) <= RELATIVE


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear", "softmax"])
def test_other_heads_go_through_dA(activation):
    Z = np.random.default_rng(4).normal(0.0, 1.5, size=(3, M))
    Y = _targets("mse", 3)
    A = ACTIVATIONS[activation][0](Z)[0]
    dA, dZ = output_gradient("mse", activation, A, Y, Z)
    np.testing.assert_array_equal(dA, A - Y)
    np.testing.assert_array_equal(dZ, ACTIVATIONS[activation][1](A - Y, Z))


@pytest.mark.parametrize(("activation", "loss", "n_y"), [
    ("sigmoid", "binary_cross_entropy", 1),
    ("softmax", "categorical_cross_entropy", 3),
    ("softmax", "mse", 3),
])
def test_mean_loss_of_one_hot_labels_is_compute_loss(activation, loss, n_y):
    Z = np.random.default_rng(5).normal(0.0, 3.0, size=(n_y, M))
    Y = _targets(loss, n_y) if loss != "mse" else np.eye(n_y)[[0, 1, 2, 0, 1, 2]].T
    A = ACTIVATIONS[activation][0](Z)[0]
    labels = losses.one_hot_labels(Y)
    got = mean_loss(loss, activation, A, Y, Z, labels)
    assert isinstance(got, float)
    assert got == pytest.approx(losses.compute_loss(loss, activation, A, Y, Z), rel=1e-14)


@pytest.mark.parametrize(("Z", "Y", "expected"), [
    # -log softmax of the labelled logit: 1600 and 0; mean 800
    ([[800.0, 800.0], [-800.0, -800.0], [0.0, 0.0]], [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]],
     800.0),
    # a = e^-720 is subnormal, with few digits: log a must come from the logits
    ([[0.0], [-720.0]], [[0.0], [1.0]], 720.0),
])
def test_mean_loss_of_one_hot_labels_is_exact_for_huge_logits(Z, Y, expected):
    Z, Y = np.array(Z), np.array(Y)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        A = ACTIVATIONS["softmax"][0](Z)[0]
        got = mean_loss("categorical_cross_entropy", "softmax", A, Y, Z, losses.one_hot_labels(Y))
    assert got == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("activations", [["relu", "tanh", "sigmoid"],
                                         ["leaky_relu", "sigmoid", "softmax"],
                                         ["tanh", "relu", "linear"]])
def test_network_output_and_stacked_outputs_are_the_plain_forward(activations):
    """The boundary's and the unit maps' forward (network_output), and the scorers' forward
    of many θ at once (stacked_outputs), against engine.model's plain one."""
    dims = [3, 5, 4, 2]
    layout, rng = ParamLayout(dims), np.random.default_rng(7)
    thetas = rng.normal(size=(3, layout.size))
    X = rng.normal(size=(dims[0], 11))
    plain = [model.model_forward(X, layout.views(theta), activations)[0] for theta in thetas]
    for theta, AL in zip(thetas, plain, strict=True):
        np.testing.assert_allclose(network_output(X, layout.views(theta), activations), AL,
                                   rtol=1e-12, atol=1e-15)
    stacked = stacked_outputs(with_ones(X), layout.stacked_views(thetas), activations)
    assert stacked.shape == (3, dims[-1], 11)
    np.testing.assert_allclose(stacked, np.stack(plain), rtol=1e-12, atol=1e-15)
