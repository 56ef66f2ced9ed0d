"""Tests for engine.model: whole-network gradients against finite differences of J.

The reference below is a second, independent forward pass written from the
formulas (no engine code): it can add a perturbation to any Z[l] or A[l], so
finite differences give ∂J/∂W, ∂J/∂b, ∂J/∂Z[l], ∂J/∂A[l] and ∂J/∂X directly.
"""

import itertools

import numpy as np
import pytest
from finite_differences import numerical_gradient, rel_error, rounding_noise

from engine.losses import loss_backward
from engine.model import l2_cost, l2_gradients, model_backward, model_forward

HIDDEN = ["relu", "leaky_relu", "tanh", "sigmoid", "linear"]
HEADS = [("sigmoid", "binary_cross_entropy"), ("softmax", "categorical_cross_entropy")] + \
    [(out, "mse") for out in ("relu", "leaky_relu", "tanh", "sigmoid", "linear", "softmax")]
KINKED = {"relu", "leaky_relu"}
DIMS, M = [3, 4, 3], 5  # n_x, two hidden layers; the output width comes from the head
TOL = 1e-6  # see finite_differences: correct gradients agree to ~1e-8 here


def _error(analytic, numeric, noise):
    """rel_error, or 0 when the whole difference is within FD's rounding noise.

    Saturated sigmoid layers give per-entry gradients of ~1e-5, where rounding
    (~1e-10 per entry at eps 1e-6) alone is a relative 1e-5; a real mistake (a lost
    factor, a wrong mask) is still orders of magnitude above that noise.
    """
    if np.linalg.norm(analytic - numeric) <= noise * np.sqrt(analytic.size):
        return 0.0
    return rel_error(analytic, numeric)


def _g(name, Z):
    if name == "relu":
        return np.where(Z > 0, Z, 0.0)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, 0.01 * Z)
    if name == "tanh":
        return np.tanh(Z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-Z))
    if name == "linear":
        return Z
    E = np.exp(Z - Z.max(axis=0))
    return E / E.sum(axis=0)


def _J(loss, A, Y):
    m = Y.shape[1]
    if loss == "binary_cross_entropy":
        return -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
    if loss == "categorical_cross_entropy":
        return -np.sum(Y * np.log(A)) / m
    return np.sum((A - Y) ** 2) / (2 * m)


class Reference:
    """J(θ) for fixed X, Y, masks; `bumps[("Z"|"A", l)]` is added to Z[l] / A[l]."""

    def __init__(self, X, Y, params, acts, loss, masks=None, keep_prob=1.0, l2=0.0):
        self.X, self.Y, self.params, self.acts, self.loss = X, Y, params, acts, loss
        self.masks, self.keep_prob, self.l2 = masks, keep_prob, l2
        self.bumps = {}

    def forward(self):
        """Z[l] and A[l] (A after dropout) for l = 1..L."""
        A, Zs, As = self.X, [], []
        for l, name in enumerate(self.acts, start=1):
            Z = self.params[f"W{l}"] @ A + self.params[f"b{l}"] + self.bumps.get(("Z", l), 0.0)
            A = _g(name, Z)
            if self.masks is not None and self.masks[l - 1] is not None:
                A = A * self.masks[l - 1] / self.keep_prob
            A = A + self.bumps.get(("A", l), 0.0)
            Zs.append(Z)
            As.append(A)
        return Zs, As

    def cost(self):
        m, L = self.X.shape[1], len(self.acts)
        reg = self.l2 / (2 * m) * sum(np.sum(self.params[f"W{l}"] ** 2) for l in range(1, L + 1))
        return _J(self.loss, self.forward()[1][-1], self.Y) + reg

    def gradient_of(self, kind, l):
        """m · ∂J/∂Z[l] or m · ∂J/∂A[l]: the per-example gradient of the course's scaling."""
        bump = np.zeros((self.params[f"W{l}"].shape[0], self.X.shape[1]))
        self.bumps[(kind, l)] = bump
        try:
            return self.X.shape[1] * numerical_gradient(self.cost, bump)
        finally:
            del self.bumps[(kind, l)]


def _problem(hidden, out, loss, seed):
    """Small net, xavier-scale weights (gradients of size ~0.1), nonzero biases."""
    rng = np.random.default_rng(seed)
    n_y = 3 if out == "softmax" else 2
    dims = [*DIMS, n_y]
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])
        params[f"b{l}"] = rng.normal(0.0, 0.3, size=(dims[l], 1))
    X = rng.standard_normal((dims[0], M))
    if loss == "binary_cross_entropy":
        Y = (rng.random((n_y, M)) < 0.5).astype(float)
    elif loss == "categorical_cross_entropy":
        Y = np.eye(n_y)[rng.integers(n_y, size=M)].T
    else:
        Y = rng.normal(size=(n_y, M))
    acts = [hidden] * (len(dims) - 2) + [out]
    return X, Y, params, acts


def _check_kinks(ref):
    """FD across relu's kink would be meaningless: demand |Z| ≫ eps · |perturbation|."""
    for name, Z in zip(ref.acts, ref.forward()[0], strict=True):
        if name in KINKED:
            assert np.min(np.abs(Z)) > 1e-4, "pick another seed: a Z sits on the kink"


def _gradients(AL, Y, caches, acts, loss, masks=None, keep_prob=1.0):
    """The course's L_model_backward, generalised: dA[L] from the loss, then every layer."""
    return model_backward(loss_backward(loss, AL, Y), caches, acts, masks, keep_prob)


def _check_all_gradients(X, Y, params, acts, loss, masks=None, keep_prob=1.0, l2=0.0):
    AL, caches, out_masks = model_forward(X, params, acts, keep_prob,
                                          np.random.default_rng(0) if masks else None)
    grads = _gradients(AL, Y, caches, acts, loss, out_masks, keep_prob)
    if l2:
        grads = l2_gradients(grads, params, l2, X.shape[1])
    ref = Reference(X, Y, params, acts, loss, masks, keep_prob, l2)
    _check_kinks(ref)
    L, m = len(acts), X.shape[1]
    noise = rounding_noise(ref.cost())  # for ∂J; per-example gradients carry m times it
    failures = {}
    for l in range(1, L + 1):
        for name in ("W", "b"):
            numeric = numerical_gradient(ref.cost, params[f"{name}{l}"])
            failures[f"d{name}{l}"] = _error(grads[f"d{name}{l}"], numeric, noise)
        for kind in ("Z", "A"):
            failures[f"d{kind}{l}"] = _error(grads[f"d{kind}{l}"], ref.gradient_of(kind, l),
                                             m * noise)
    failures["dA0"] = _error(grads["dA0"], m * numerical_gradient(ref.cost, X), m * noise)
    bad = {k: v for k, v in failures.items() if not v < TOL}
    assert not bad, f"relative errors above {TOL}: {bad}"
    return AL, caches, out_masks, grads


@pytest.mark.parametrize(("out", "loss"), HEADS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_every_gradient_matches_finite_differences(hidden, out, loss):
    _check_all_gradients(*_problem(hidden, out, loss, seed=11), loss)


@pytest.mark.parametrize(("out", "loss"), HEADS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_l2_gradients_match_finite_differences(hidden, out, loss):
    X, Y, params, acts = _problem(hidden, out, loss, seed=12)
    _check_all_gradients(X, Y, params, acts, loss, l2=0.7)


@pytest.mark.parametrize(("out", "loss"), HEADS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_dropout_gradients_match_finite_differences_with_fixed_masks(hidden, out, loss):
    X, Y, params, acts = _problem(hidden, out, loss, seed=13)
    keep_prob = 0.8
    _, _, masks = model_forward(X, params, acts, keep_prob, np.random.default_rng(0))
    _check_all_gradients(X, Y, params, acts, loss, masks, keep_prob, l2=0.7)


def test_dropout_masks_are_hidden_only_binary_and_seeded():
    X, _, params, acts = _problem("relu", "sigmoid", "binary_cross_entropy", seed=14)
    AL, caches, masks = model_forward(X, params, acts, 0.8, np.random.default_rng(7))
    assert masks[-1] is None
    for D, (_, Z) in zip(masks[:-1], caches[:-1], strict=True):
        assert D.shape == Z.shape and D.dtype == np.float64
        assert set(np.unique(D)) <= {0.0, 1.0}
    # A[l], as the next layer sees it, is g(Z) ⊙ D / keep_prob
    for l in range(1, len(acts)):
        Z, D = caches[l - 1][1], masks[l - 1]
        np.testing.assert_allclose(caches[l][0][0], _g("relu", Z) * D / 0.8, rtol=1e-15, atol=0)
    # the same generator seed gives the same masks and outputs
    AL2, _, masks2 = model_forward(X, params, acts, 0.8, np.random.default_rng(7))
    np.testing.assert_array_equal(AL, AL2)
    for D, D2 in zip(masks[:-1], masks2[:-1], strict=True):
        np.testing.assert_array_equal(D, D2)


def test_dropout_keeps_about_keep_prob_of_the_units():
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((100, 2)), "b1": np.zeros((100, 1)),
              "W2": rng.standard_normal((1, 100)), "b2": np.zeros((1, 1))}
    X = rng.standard_normal((2, 200))
    _, _, masks = model_forward(X, params, ["tanh", "sigmoid"], 0.8, np.random.default_rng(1))
    # 20 000 Bernoulli(0.8) draws: std of the mean is 0.0028, so ±0.015 is > 5 sigma
    assert abs(masks[0].mean() - 0.8) < 0.015


def test_without_dropout_there_are_no_masks():
    X, _, params, acts = _problem("tanh", "sigmoid", "binary_cross_entropy", seed=15)
    _, _, masks = model_forward(X, params, acts)
    assert masks == [None] * len(acts)


@pytest.mark.parametrize(("hidden", "out", "loss"), [
    ("relu", "sigmoid", "binary_cross_entropy"),
    ("tanh", "softmax", "categorical_cross_entropy"),
    ("leaky_relu", "linear", "mse"),
])
def test_chain_identities_hold_exactly(hidden, out, loss):
    """dA[l-1] = W[l]ᵀ dZ[l], dW = (1/m) dZ A_prevᵀ, db = (1/m) Σ dZ, as the engine states them."""
    X, Y, params, acts = _problem(hidden, out, loss, seed=16)
    AL, caches, _ = model_forward(X, params, acts)
    grads = _gradients(AL, Y, caches, acts, loss)
    m = X.shape[1]
    for l in range(len(acts), 0, -1):
        (A_prev, W, _), Z = caches[l - 1]
        dZ = grads[f"dZ{l}"]
        np.testing.assert_allclose(grads[f"dA{l - 1}"], W.T @ dZ, rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(grads[f"dW{l}"], dZ @ A_prev.T / m, rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(grads[f"db{l}"], dZ.sum(axis=1, keepdims=True) / m,
                                   rtol=1e-13, atol=1e-16)
        if l < len(acts):
            g_prime = {"relu": lambda Z: (Z > 0) * 1.0, "tanh": lambda Z: 1 - np.tanh(Z) ** 2,
                       "leaky_relu": lambda Z: np.where(Z > 0, 1.0, 0.01)}[hidden]
            np.testing.assert_allclose(dZ, grads[f"dA{l}"] * g_prime(Z), rtol=1e-13, atol=1e-16)


def test_gradient_keys():
    X, Y, params, acts = _problem("relu", "sigmoid", "binary_cross_entropy", seed=17)
    AL, caches, _ = model_forward(X, params, acts)
    grads = _gradients(AL, Y, caches, acts, "binary_cross_entropy")
    L = len(acts)
    expected = {f"{k}{l}" for l in range(1, L + 1) for k in ("dA", "dZ", "dW", "db")}
    assert set(grads) == expected | {"dA0"}
    assert grads["dA0"].shape == X.shape
    for l in range(1, L + 1):
        assert grads[f"dW{l}"].shape == params[f"W{l}"].shape
        assert grads[f"db{l}"].shape == params[f"b{l}"].shape
        assert grads[f"dZ{l}"].shape == grads[f"dA{l}"].shape == caches[l - 1][1].shape


def test_caches_follow_the_course_layout_and_alias_the_inputs():
    X, _, params, acts = _problem("tanh", "sigmoid", "binary_cross_entropy", seed=18)
    AL, caches, _ = model_forward(X, params, acts)
    assert len(caches) == len(acts)
    # A[0] is X as the caller gave it, not a copy; each A_prev is the A below it
    assert caches[0][0][0] is X
    for below, above in itertools.pairwise(caches):
        np.testing.assert_array_equal(above[0][0], _g("tanh", below[1]))
    for l, ((A_prev, W, b), Z) in enumerate(caches, start=1):
        assert W is params[f"W{l}"] and b is params[f"b{l}"]
        np.testing.assert_allclose(Z, W @ A_prev + b, rtol=1e-14)
    np.testing.assert_array_equal(AL, _g("sigmoid", caches[-1][1]))


def test_forward_and_backward_do_not_modify_inputs():
    X, Y, params, acts = _problem("relu", "softmax", "categorical_cross_entropy", seed=19)
    before = {k: v.copy() for k, v in params.items()}
    X0, Y0 = X.copy(), Y.copy()
    AL, caches, masks = model_forward(X, params, acts, 0.8, np.random.default_rng(0))
    AL0 = AL.copy()
    Z0 = [c[1].copy() for c in caches]
    dAL = loss_backward("categorical_cross_entropy", AL, Y)
    dAL0 = dAL.copy()
    grads = model_backward(dAL, caches, acts, masks, 0.8)
    dW0 = {k: v.copy() for k, v in grads.items()}
    l2_gradients(grads, params, 0.7, X.shape[1])
    np.testing.assert_array_equal(dAL, dAL0)
    for k, v in grads.items():
        np.testing.assert_array_equal(v, dW0[k])
    for k, v in params.items():
        np.testing.assert_array_equal(v, before[k])
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
    np.testing.assert_array_equal(AL, AL0)
    for c, Z in zip(caches, Z0, strict=True):
        np.testing.assert_array_equal(c[1], Z)


@pytest.mark.parametrize(("l2", "expected"), [(0.0, 0.0), (0.7, 0.7 / (2 * 5) * (1 + 4 + 9 + 16))])
def test_l2_cost_formula(l2, expected):
    params = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([[100.0]]),
              "W2": np.array([[3.0], [4.0]]), "b2": np.array([[100.0], [100.0]])}
    assert l2_cost(params, 2, l2, 5) == pytest.approx(expected, rel=1e-15)


def test_l2_gradients_add_lambda_over_m_W_to_dW_only():
    params = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([[3.0]])}
    grads = {"dA1": np.ones((1, 4)), "dZ1": np.ones((1, 4)), "dW1": np.array([[0.5, 0.25]]),
             "db1": np.array([[1.0]]), "dA0": np.ones((2, 4))}
    new = l2_gradients(grads, params, 0.8, 4)
    np.testing.assert_array_equal(new["dW1"], [[0.5 + 0.2, 0.25 - 0.4]])
    assert set(new) == set(grads)
    for key in ("dA1", "dZ1", "db1", "dA0"):
        assert new[key] is grads[key]
    np.testing.assert_array_equal(grads["dW1"], [[0.5, 0.25]])  # a new dict, a new dW
