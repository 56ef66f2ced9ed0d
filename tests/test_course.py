"""Tests for engine.course: the course's names, signatures, caches and published numbers."""

import inspect
from typing import ClassVar

import numpy as np
import pytest
from finite_differences import numerical_gradient, rel_error

from engine import course

SIGNATURES = {
    "initialize_parameters": ["n_x", "n_h", "n_y"],
    "initialize_parameters_deep": ["layer_dims"],
    "linear_forward": ["A", "W", "b"],
    "linear_activation_forward": ["A_prev", "W", "b", "activation"],
    "L_model_forward": ["X", "parameters"],
    "compute_cost": ["AL", "Y"],
    "linear_backward": ["dZ", "cache"],
    "linear_activation_backward": ["dA", "cache", "activation"],
    "L_model_backward": ["AL", "Y", "caches"],
    "update_parameters": ["parameters", "grads", "learning_rate"],
    "sigmoid": ["Z"],
    "relu": ["Z"],
    "sigmoid_backward": ["dA", "Z"],
    "relu_backward": ["dA", "Z"],
}


@pytest.mark.parametrize(("name", "params"), SIGNATURES.items())
def test_names_and_signatures(name, params):
    """The course's call: positional parameters in its order; extras only with defaults."""
    assert name in course.__all__
    signature = inspect.signature(getattr(course, name))
    required = [p for p in signature.parameters.values() if p.default is inspect.Parameter.empty]
    assert len(required) == len(params)
    positional = list(signature.parameters)[:len(params)]
    # linear_forward's first argument is A in the course and A_prev in the engine
    assert positional == params or (name == "linear_forward" and positional[1:] == ["W", "b"])


def test_linear_forward_accepts_the_contract_keywords():
    Z, _ = course.linear_forward(A=np.ones((2, 1)), W=np.ones((1, 2)), b=np.zeros((1, 1)))
    np.testing.assert_array_equal(Z, [[2.0]])


def test_all_names_exist():
    assert sorted(course.__all__) == sorted(SIGNATURES)


def test_linear_forward_cache_is_the_inputs_themselves():
    A, W, b = np.ones((3, 2)), np.arange(6.0).reshape(2, 3), np.array([[1.0], [-1.0]])
    Z, cache = course.linear_forward(A, W, b)
    assert isinstance(cache, tuple) and len(cache) == 3
    assert cache[0] is A and cache[1] is W and cache[2] is b
    np.testing.assert_array_equal(Z, [[4.0, 4.0], [11.0, 11.0]])


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh", "leaky_relu", "linear"])
def test_linear_activation_forward_cache_layout(activation):
    rng = np.random.default_rng(0)
    A_prev, W, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 3)), rng.standard_normal(
        (2, 1))
    A, cache = course.linear_activation_forward(A_prev, W, b, activation)
    (lin_A, lin_W, lin_b), Z = cache
    assert lin_A is A_prev and lin_W is W and lin_b is b
    np.testing.assert_allclose(Z, W @ A_prev + b, rtol=1e-14)
    assert A.shape == Z.shape == (2, 4)


def test_initialize_parameters_course_numbers():
    np.random.seed(1)
    p = course.initialize_parameters(3, 2, 1)
    assert list(p) == ["W1", "b1", "W2", "b2"]
    # the notebook's expected output, printed to 8 digits
    np.testing.assert_allclose(p["W1"], [[0.01624345, -0.00611756, -0.00528172],
                                         [-0.01072969, 0.00865408, -0.02301539]], atol=5e-9)
    np.testing.assert_allclose(p["W2"], [[0.01744812, -0.00761207]], atol=5e-9)
    np.testing.assert_array_equal(p["b1"], np.zeros((2, 1)))
    np.testing.assert_array_equal(p["b2"], np.zeros((1, 1)))


def test_initialize_parameters_deep_course_numbers():
    np.random.seed(3)
    p = course.initialize_parameters_deep([5, 4, 3])
    assert list(p) == ["W1", "b1", "W2", "b2"]
    np.testing.assert_allclose(p["W1"][0], [0.01788628, 0.0043651, 0.00096497, -0.01863493,
                                            -0.00277388], atol=5e-9)
    assert p["W1"].shape == (4, 5) and p["W2"].shape == (3, 4)
    assert p["b1"].shape == (4, 1) and p["b2"].shape == (3, 1)
    np.testing.assert_array_equal(p["b2"], 0.0)


def test_init_draws_exactly_like_randn():
    np.random.seed(7)
    expected = [np.random.randn(4, 5) * 0.01, np.random.randn(3, 4) * 0.01]
    np.random.seed(7)
    p = course.initialize_parameters_deep([5, 4, 3])
    np.testing.assert_array_equal(p["W1"], expected[0])
    np.testing.assert_array_equal(p["W2"], expected[1])


def test_compute_cost_course_value():
    cost = course.compute_cost(np.array([[0.8, 0.9, 0.4]]), np.array([[1, 1, 0]]))
    assert np.ndim(cost) == 0 and np.shape(cost) == ()
    assert float(cost) == 0.2797765635793422  # the notebook's digits, all of them


def _notebook_draws(seed, *shapes):
    """The notebook's test-case inputs: np.random.randn draws after seeding."""
    np.random.seed(seed)
    return [np.random.randn(*shape) for shape in shapes]


def test_notebook_linear_forward():
    A, W, b = _notebook_draws(1, (3, 2), (1, 3), (1, 1))
    np.testing.assert_allclose(course.linear_forward(A, W, b)[0], [[3.26295337, -1.23429987]],
                               atol=5e-9)


@pytest.mark.parametrize(("activation", "expected"), [
    ("sigmoid", [[0.96890023, 0.11013289]]),
    ("relu", [[3.43896131, 0.0]]),
])
def test_notebook_linear_activation_forward(activation, expected):
    A_prev, W, b = _notebook_draws(2, (3, 2), (1, 3), (1, 1))
    A, _ = course.linear_activation_forward(A_prev, W, b, activation)
    np.testing.assert_allclose(A, expected, atol=5e-9)


def test_notebook_L_model_forward_2hidden():
    X, W1, b1, W2, b2, W3, b3 = _notebook_draws(6, (5, 4), (4, 5), (4, 1), (3, 4), (3, 1),
                                                (1, 3), (1, 1))
    AL, caches = course.L_model_forward(X, {"W1": W1, "b1": b1, "W2": W2, "b2": b2,
                                            "W3": W3, "b3": b3})
    np.testing.assert_allclose(AL, [[0.03921668, 0.70498921, 0.19734387, 0.04728177]],
                               atol=5e-9)
    assert len(caches) == 3


def test_notebook_linear_backward():
    dZ, A, W, b = _notebook_draws(1, (3, 4), (5, 4), (3, 5), (3, 1))
    dA_prev, dW, db = course.linear_backward(dZ, (A, W, b))
    np.testing.assert_allclose(dA_prev[0], [-1.15171336, 0.06718465, -0.3204696, 2.09812712],
                               atol=5e-9)
    np.testing.assert_allclose(dW[0], [0.07313866, -0.0976715, -0.87585828, 0.73763362,
                                       0.00785716], atol=5e-9)
    np.testing.assert_allclose(db, [[-0.14713786], [-0.11313155], [-0.13209101]], atol=5e-9)


@pytest.mark.parametrize(("activation", "dA_prev", "dW", "db"), [
    ("sigmoid", [[0.11017994, 0.01105339], [0.09466817, 0.00949723],
                 [-0.05743092, -0.00576154]], [[0.10266786, 0.09778551, -0.01968084]],
     [[-0.05729622]]),
    ("relu", [[0.44090989, 0.0], [0.37883606, 0.0], [-0.2298228, 0.0]],
     [[0.44513824, 0.37371418, -0.10478989]], [[-0.20837892]]),
])
def test_notebook_linear_activation_backward(activation, dA_prev, dW, db):
    dA, A, W, b, Z = _notebook_draws(2, (1, 2), (3, 2), (1, 3), (1, 1), (1, 2))
    got = course.linear_activation_backward(dA, ((A, W, b), Z), activation)
    for value, expected in zip(got, (dA_prev, dW, db), strict=True):
        np.testing.assert_allclose(value, expected, atol=5e-9)


def test_notebook_update_parameters():
    W1, b1, W2, b2 = _notebook_draws(2, (3, 4), (3, 1), (1, 3), (1, 1))
    dW1, db1, dW2, db2 = _notebook_draws(3, (3, 4), (3, 1), (1, 3), (1, 1))
    new = course.update_parameters({"W1": W1, "b1": b1, "W2": W2, "b2": b2},
                                   {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}, 0.1)
    np.testing.assert_allclose(new["W1"], [[-0.59562069, -0.09991781, -2.14584584, 1.82662008],
                                           [-1.76569676, -0.80627147, 0.51115557, -1.18258802],
                                           [-1.0535704, -0.86128581, 0.68284052, 2.20374577]],
                               atol=5e-9)
    np.testing.assert_allclose(new["b1"], [[-0.04659241], [-1.28888275], [0.53405496]],
                               atol=5e-9)
    np.testing.assert_allclose(new["W2"], [[-0.55569196, 0.0354055, 1.32964895]], atol=5e-9)
    np.testing.assert_allclose(new["b2"], [[-0.84610769]], atol=5e-9)


def test_L_model_backward_course_test_case():
    """The notebook's L_model_backward_test_case: AL and Z[L] are drawn independently,
    so dZ[L] must come from sigmoid_backward(dAL, Z[L]), not from AL - Y."""
    AL, A1, W1, b1, Z1, A2, W2, b2, Z2 = _notebook_draws(
        3, (1, 2), (4, 2), (3, 4), (3, 1), (3, 2), (3, 2), (1, 3), (1, 1), (1, 2))
    Y = np.array([[1, 0]])
    grads = course.L_model_backward(AL, Y, (((A1, W1, b1), Z1), ((A2, W2, b2), Z2)))
    # the notebook's expected output, printed to 8 digits
    np.testing.assert_allclose(grads["dW1"], [[0.41010002, 0.07807203, 0.13798444, 0.10502167],
                                              [0, 0, 0, 0],
                                              [0.05283652, 0.01005865, 0.01777766, 0.0135308]],
                               atol=5e-9)
    np.testing.assert_allclose(grads["db1"], [[-0.22007063], [0], [-0.02835349]], atol=5e-9)
    np.testing.assert_allclose(grads["dA1"], [[0.12913162, -0.44014127],
                                              [-0.14175655, 0.48317296],
                                              [0.01663708, -0.05670698]], atol=5e-9)


def _course_code_backward(AL, Y, A_prev, Z):
    """The course's own compute_cost and output-layer backward for one sigmoid layer, as
    the exercise writes them (no guard at all)."""
    m = Y.shape[1]
    cost = -1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    s = 1 / (1 + np.exp(-Z))
    dZ = dAL * s * (1 - s)
    return cost, dZ @ A_prev.T / m, dAL


def test_saturated_outputs_give_the_course_codes_numbers():
    """Outputs within 1e-15 of 0 or 1 (not exactly): engine.course had moved them to 1e-15
    first, which made dW 100 times too small at a = 1e-17 (dZ = dA · a(1 - a) no longer
    cancels to a - y) and the cost 34.5 where it is 39.1."""
    Z = np.array([[-39.1, 0.0, -36.8, 35.0, -50.0]])
    AL, Y = 1 / (1 + np.exp(-Z)), np.array([[1.0, 1.0, 1.0, 0.0, 0.0]])
    A_prev, W, b = np.linspace(-1, 1, 10).reshape(2, 5), np.ones((1, 2)), np.zeros((1, 1))
    cost, dW, dAL = _course_code_backward(AL, Y, A_prev, Z)
    assert float(course.compute_cost(AL, Y)) == pytest.approx(cost, rel=1e-14)
    grads = course.L_model_backward(AL, Y, [((A_prev, W, b), Z)])
    np.testing.assert_allclose(grads["dW1"], dW, rtol=1e-13)
    assert abs(dAL[0, 0]) > 1e16  # the case in point: -1/a beyond the old guard's 1e15


def test_sigmoid_and_relu_return_A_and_Z():
    Z = np.array([[-1.0, 0.0, 2.0]])
    for forward in (course.sigmoid, course.relu):
        A, cache = forward(Z)
        assert cache is Z and A.shape == Z.shape
    np.testing.assert_array_equal(course.relu(Z)[0], [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(course.relu_backward(np.ones((1, 3)), Z), [[0.0, 0.0, 1.0]])
    np.testing.assert_allclose(course.sigmoid_backward(np.ones((1, 3)), Z),
                               [[0.19661193324148185, 0.25, 0.10499358540350662]], rtol=1e-14)


def _course_net(seed=1, dims=(4, 5, 3, 1), m=6):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])
        params[f"b{l}"] = rng.normal(0.0, 0.2, size=(dims[l], 1))
    X = rng.standard_normal((dims[0], m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    return X, Y, params


def test_L_model_forward_relu_hidden_sigmoid_output():
    X, _, params = _course_net()
    AL, caches = course.L_model_forward(X, params)
    assert len(caches) == 3 and AL.shape == (1, 6)
    A = X
    for l, ((A_prev, W, b), Z) in enumerate(caches, start=1):
        np.testing.assert_allclose(A_prev, A, rtol=1e-15)
        assert W is params[f"W{l}"] and b is params[f"b{l}"]
        np.testing.assert_allclose(Z, W @ A_prev + b, rtol=1e-13)
        A = np.maximum(Z, 0) if l < 3 else 1 / (1 + np.exp(-Z))
    np.testing.assert_allclose(AL, A, rtol=1e-15)


def test_L_model_backward_keys_and_finite_differences():
    X, Y, params = _course_net()
    AL, caches = course.L_model_forward(X, params)
    grads = course.L_model_backward(AL, Y, caches)
    assert set(grads) == {"dA0", "dA1", "dA2", "dW1", "dW2", "dW3", "db1", "db2", "db3"}

    def cost():
        return float(course.compute_cost(course.L_model_forward(X, params)[0], Y))

    for Z in (c[1] for c in caches[:-1]):
        assert np.abs(Z).min() > 1e-4  # no relu kink within FD's reach
    # FD tolerance: see finite_differences
    for name in ("W1", "b1", "W2", "b2", "W3", "b3"):
        assert rel_error(grads[f"d{name}"], numerical_gradient(cost, params[name])) < 1e-7
    # dA0 = m ∂J/∂X (per example, the course's scaling)
    assert rel_error(grads["dA0"], X.shape[1] * numerical_gradient(cost, X)) < 1e-7
    for l in range(1, 3):
        np.testing.assert_allclose(grads[f"dA{l - 1}"], params[f"W{l}"].T @ (
            grads[f"dA{l}"] * (caches[l - 1][1] > 0)), rtol=1e-12, atol=1e-16)


def test_linear_activation_backward_matches_linear_backward_of_dZ():
    rng = np.random.default_rng(2)
    A_prev, W, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 3)), np.zeros((2, 1))
    _, cache = course.linear_activation_forward(A_prev, W, b, "sigmoid")
    dA = rng.standard_normal((2, 4))
    s = 1 / (1 + np.exp(-cache[1]))
    dZ = dA * s * (1 - s)
    for got, want in zip(course.linear_activation_backward(dA, cache, "sigmoid"),
                         (W.T @ dZ, dZ @ A_prev.T / 4, dZ.sum(axis=1, keepdims=True) / 4),
                         strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-16)


def test_update_parameters_returns_new_arrays():
    X, Y, params = _course_net()
    before = {k: v.copy() for k, v in params.items()}
    AL, caches = course.L_model_forward(X, params)
    grads = course.L_model_backward(AL, Y, caches)
    new = course.update_parameters(params, grads, 0.1)
    assert set(new) == set(params)
    for k, v in params.items():
        np.testing.assert_array_equal(v, before[k])
        assert new[k] is not v
        np.testing.assert_array_equal(new[k], v - 0.1 * grads[f"d{k}"])


class TestHandWorkedExample:
    """A 2-2-1 net worked out on paper; every number is a dyadic rational, so exact.

    X = [[1, -1], [2, 0]], W1 = I, b1 = 0  ->  Z1 = X, A1 = relu(Z1) = [[1, 0], [2, 0]]
    (Z1[1, 1] = 0 sits on the kink: relu'(0) = 0). W2 = [[2, -1]], b2 = 0 -> Z2 = [[0, 0]],
    AL = [[0.5, 0.5]]; Y = [[1, 0]] -> J = -(1/2)(log ½ + log ½) = log 2.
    dZ2 = AL − Y = [[-½, ½]]; dW2 = ½ dZ2 A1ᵀ = [[-¼, -½]]; db2 = ½ Σ dZ2 = 0;
    dA1 = W2ᵀ dZ2 = [[-1, 1], [½, -½]]; dZ1 = dA1 ⊙ (Z1 > 0) = [[-1, 0], [½, 0]];
    dW1 = ½ dZ1 Xᵀ = [[-½, -1], [¼, ½]]; db1 = ½ Σ dZ1 = [[-½], [¼]]; dA0 = W1ᵀ dZ1 = dZ1.
    """

    X = np.array([[1.0, -1.0], [2.0, 0.0]])
    Y = np.array([[1.0, 0.0]])
    PARAMS: ClassVar[dict] = {"W1": np.eye(2), "b1": np.zeros((2, 1)),
                              "W2": np.array([[2.0, -1.0]]), "b2": np.zeros((1, 1))}
    EXPECTED: ClassVar[dict] = {
        "dW2": [[-0.25, -0.5]], "db2": [[0.0]], "dA1": [[-1.0, 1.0], [0.5, -0.5]],
        "dW1": [[-0.5, -1.0], [0.25, 0.5]], "db1": [[-0.5], [0.25]],
        "dA0": [[-1.0, 0.0], [0.5, 0.0]],
    }

    def test_forward_and_cost(self):
        AL, caches = course.L_model_forward(self.X, self.PARAMS)
        np.testing.assert_array_equal(caches[0][1], self.X)
        np.testing.assert_array_equal(caches[1][0][0], [[1.0, 0.0], [2.0, 0.0]])
        np.testing.assert_array_equal(caches[1][1], [[0.0, 0.0]])
        np.testing.assert_array_equal(AL, [[0.5, 0.5]])
        assert float(course.compute_cost(AL, self.Y)) == pytest.approx(np.log(2.0), rel=1e-15)

    def test_gradients(self):
        AL, caches = course.L_model_forward(self.X, self.PARAMS)
        grads = course.L_model_backward(AL, self.Y, caches)
        assert set(grads) == set(self.EXPECTED)
        for k, v in self.EXPECTED.items():
            np.testing.assert_array_equal(grads[k], v, err_msg=k)

    def test_update(self):
        AL, caches = course.L_model_forward(self.X, self.PARAMS)
        new = course.update_parameters(self.PARAMS, course.L_model_backward(AL, self.Y, caches),
                                       0.5)
        # θ − ½ dθ, still exact in binary
        np.testing.assert_array_equal(new["W1"], [[1.25, 0.5], [-0.125, 0.75]])
        np.testing.assert_array_equal(new["b1"], [[0.25], [-0.125]])
        np.testing.assert_array_equal(new["W2"], [[2.125, -0.75]])
        np.testing.assert_array_equal(new["b2"], [[0.0]])

    def test_linear_backward_by_hand(self):
        dZ = np.array([[-0.5, 0.5]])
        cache = (np.array([[1.0, 0.0], [2.0, 0.0]]), self.PARAMS["W2"], self.PARAMS["b2"])
        dA_prev, dW, db = course.linear_backward(dZ, cache)
        np.testing.assert_array_equal(dA_prev, self.EXPECTED["dA1"])
        np.testing.assert_array_equal(dW, self.EXPECTED["dW2"])
        np.testing.assert_array_equal(db, self.EXPECTED["db2"])


def test_course_functions_are_the_engines_own():
    """engine.course: aliases of the engine's functions, never a second implementation."""
    from engine import activations, layers

    assert course.linear_forward is layers.linear_forward
    assert course.linear_backward is layers.linear_backward
    assert course.linear_activation_forward is layers.linear_activation_forward
    assert course.linear_activation_backward is layers.linear_activation_backward
    assert course.sigmoid is activations.sigmoid and course.relu is activations.relu
    assert course.sigmoid_backward is activations.sigmoid_backward
    assert course.relu_backward is activations.relu_backward
