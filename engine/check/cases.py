"""The inputs each course function is checked on.

Every function gets several cases: the course's published test case where it has one,
a deep net, a single example (m = 1) and a wide batch. ReLU's cases hold entries of Z
that are exactly 0, where `Z > 0` and `Z >= 0` part. A case builds fresh arrays on every
call (a learner's function may change its inputs) from np.random.RandomState seeds, so
NumPy's global random state is left alone. The course's cases draw what its notebook
draws (np.random.seed(s), then np.random.randn, as tests/test_course.py does), so their
reference results are the notebook's published numbers.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from engine import course


class Case(NamedTuple):
    label: str
    make: Callable[[], tuple]  # fresh arguments for one call
    # the hidden layers' widths of the net a whole-net case builds (its layer numbers are
    # that net's), and the activation a one-layer case asks for: the lens link shows them
    hidden: tuple[int, ...] | None = None
    activation: str | None = None


COURSE = "the course's test case"
DEEP = "a deep net, layer_dims [4, 6, 5, 4, 3, 1]"
ONE = "one example (m = 1)"
WIDE = "a wide batch (m = 300)"
ZEROS = "Z with entries exactly 0"


def draws(seed, *shapes):
    """np.random.seed(seed); [np.random.randn(*shape) for shape in shapes], without
    touching the global state."""
    rng = np.random.RandomState(seed)
    return [rng.randn(*shape) for shape in shapes]


def with_zeros(Z):
    """Z with every third entry exactly 0."""
    Z = Z.copy()
    Z.flat[::3] = 0.0
    return Z


def net(dims, m, seed):
    """X: (dims[0], m), Y: (1, m) of 0/1, and parameters W[l]: (dims[l], dims[l-1])."""
    rng = np.random.RandomState(seed)
    parameters = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = rng.randn(dims[l], dims[l - 1]) / np.sqrt(dims[l - 1])
        parameters[f"b{l}"] = 0.1 * rng.randn(dims[l], 1)
    X = rng.randn(dims[0], m)
    return X, (rng.rand(1, m) < 0.5).astype(float), parameters


def backward_inputs(dims, m, seed):
    """(AL, Y, caches) of a forward pass, with entries of each hidden Z set to 0."""
    X, Y, parameters = net(dims, m, seed)
    AL, caches = course.L_model_forward(X, parameters)
    caches = [((A_prev.copy(), W.copy(), b.copy()), Z if l == len(caches) else with_zeros(Z))
              for l, ((A_prev, W, b), Z) in enumerate(caches, start=1)]
    return AL, Y, caches


def activation_cases():
    return (Case(ZEROS, lambda: (with_zeros(draws(1, (4, 5))[0]),)),
            Case(ONE, lambda: tuple(draws(2, (3, 1)))),
            Case(WIDE + ", Z from -15 to 15", lambda: (5 * draws(3, (5, 300))[0],)))


def course_dA_Z():
    """dA and Z of the course's linear_activation_backward test case (drawn first and last)."""
    dA, _, _, _, Z = draws(2, (1, 2), (3, 2), (1, 3), (1, 1), (1, 2))
    return dA, Z


def activation_backward_cases():
    return (Case(COURSE, course_dA_Z),
            Case(ZEROS, lambda: (draws(4, (4, 5))[0], with_zeros(draws(5, (4, 5))[0]))),
            Case(ONE, lambda: tuple(draws(6, (3, 1), (3, 1)))),
            Case(WIDE, lambda: (draws(7, (5, 300))[0], 5 * with_zeros(draws(8, (5, 300))[0]))))


def layer_activation_case(label, make, activation):
    """A case of linear_activation_forward or _backward: its arguments end with activation."""
    return Case(f'{label}, activation="{activation}"', lambda: (*make(), activation),
                activation=activation)


def net_case(label, make, dims):
    """A case of a whole-net function, on a net of layer_dims dims."""
    return Case(label, make, hidden=tuple(dims[1:-1]))


def layer(seed, n_prev, n, m):
    """A_prev: (n_prev, m), W: (n, n_prev), b: (n, 1)."""
    return draws(seed, (n_prev, m), (n, n_prev), (n, 1))


def linear_backward_layer(seed, n_prev, n, m):
    """dZ: (n, m) and a linear cache (A_prev, W, b); seed 1, 5 -> 3 units, m = 4 is the
    course's test case."""
    dZ, A_prev, W, b = draws(seed, (n, m), (n_prev, m), (n, n_prev), (n, 1))
    return dZ, (A_prev, W, b)


def backward_layer(seed, n_prev, n, m, zeros=False):
    """dA: (n, m) and a cache ((A_prev, W, b), Z)."""
    dA, A_prev, W, b, Z = draws(seed, (n, m), (n_prev, m), (n, n_prev), (n, 1), (n, m))
    return dA, ((A_prev, W, b), with_zeros(Z) if zeros else Z)


def course_L_model_backward():
    """The notebook's L_model_backward_test_case: AL and Z[L] drawn independently."""
    AL, A1, W1, b1, Z1, A2, W2, b2, Z2 = draws(3, (1, 2), (4, 2), (3, 4), (3, 1), (3, 2),
                                               (3, 2), (1, 3), (1, 1), (1, 2))
    return AL, np.array([[1, 0]]), (((A1, W1, b1), Z1), ((A2, W2, b2), Z2))


def course_update():
    W1, b1, W2, b2 = draws(2, (3, 4), (3, 1), (1, 3), (1, 1))
    dW1, db1, dW2, db2 = draws(3, (3, 4), (3, 1), (1, 3), (1, 1))
    return ({"W1": W1, "b1": b1, "W2": W2, "b2": b2},
            {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}, 0.1)


def deep_update(dims=None, seed=20, learning_rate=0.5):
    """Parameters of a deep net and a whole grads dict, dA keys included, as
    L_model_backward gives it (for a batch of m = 7); dims: DEEP_DIMS unless given."""
    dims = DEEP_DIMS if dims is None else dims
    _, _, parameters = net(dims, 1, seed)
    shapes = [p.shape for p in parameters.values()]
    grads = {f"d{k}": g for k, g in zip(parameters, draws(seed + 1, *shapes), strict=True)}
    grads |= {f"dA{l}": g for l, g in enumerate(draws(seed + 2, *[(n, 7) for n in dims[:-1]]))}
    return parameters, grads, learning_rate


def one_layer_update():
    W1, b1, dW1, db1 = draws(23, (1, 3), (1, 1), (1, 3), (1, 1))
    return {"W1": W1, "b1": b1}, {"dW1": dW1, "db1": db1}, 1.2


def wide_cost():
    rng = np.random.RandomState(24)
    return rng.uniform(0.05, 0.95, (1, 300)), (rng.rand(1, 300) < 0.5).astype(float)


def course_L_model_forward():
    X, W1, b1, W2, b2, W3, b3 = draws(6, (5, 4), (4, 5), (4, 1), (3, 4), (3, 1), (1, 3), (1, 1))
    return X, {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3}


def model_forward(dims, m, seed):
    X, _, parameters = net(dims, m, seed)
    return X, parameters


# the course's notebook tests initialize_parameters after np.random.seed(1); the check
# draws after np.random.seed(3) for every init function (CONTRACT §8), so this case has the
# notebook's arguments but not its published numbers
INIT_COURSE = ("the course's test case (3, 2, 1), after np.random.seed(3), the seed of the "
               "course's initialize_parameters_deep (the notebook's own test uses seed 1)")
DEEP_DIMS = [4, 6, 5, 4, 3, 1]
# ten layers: W10 comes after W9, where a loop over sorted(parameters) puts it after W1 (more
# hidden layers than a run may have: the lens link shows the page's default run)
TALL_DIMS = [3, 4, 3, 4, 3, 4, 3, 4, 3, 2, 1]
TALL = f"ten layers, layer_dims {TALL_DIMS}"

CASES = {
    "sigmoid": activation_cases(),
    "relu": activation_cases(),
    "sigmoid_backward": activation_backward_cases(),
    "relu_backward": activation_backward_cases(),
    "initialize_parameters": (
        net_case(INIT_COURSE, lambda: (3, 2, 1), (3, 2, 1)),
        net_case("(5, 4, 3)", lambda: (5, 4, 3), (5, 4, 3)),
        net_case("one unit each: (1, 1, 1)", lambda: (1, 1, 1), (1, 1, 1)),
        net_case("a wide layer: (30, 40, 1)", lambda: (30, 40, 1), (30, 40, 1))),
    "initialize_parameters_deep": (
        net_case(COURSE + ": [5, 4, 3]", lambda: ([5, 4, 3],), (5, 4, 3)),
        net_case(DEEP, lambda: (DEEP_DIMS,), DEEP_DIMS),
        net_case("one layer: [2, 1]", lambda: ([2, 1],), (2, 1)),
        net_case("a wide net: [30, 40, 1]", lambda: ([30, 40, 1],), (30, 40, 1)),
        net_case(TALL, lambda: (TALL_DIMS,), TALL_DIMS)),
    "linear_forward": (
        Case(COURSE, lambda: tuple(layer(1, 3, 1, 2))),
        Case("a hidden layer (6 -> 5 units, m = 4)", lambda: tuple(layer(5, 6, 5, 4))),
        Case(ONE, lambda: tuple(layer(6, 4, 3, 1))),
        Case(WIDE, lambda: tuple(layer(7, 5, 4, 300)))),
    "linear_activation_forward": (
        layer_activation_case(COURSE, lambda: layer(2, 3, 1, 2), "sigmoid"),
        layer_activation_case(COURSE, lambda: layer(2, 3, 1, 2), "relu"),
        layer_activation_case(ONE, lambda: layer(8, 4, 3, 1), "relu"),
        layer_activation_case(WIDE, lambda: layer(9, 5, 4, 300), "sigmoid")),
    "L_model_forward": (
        net_case(COURSE + " (3 layers)", course_L_model_forward, (5, 4, 3, 1)),
        net_case(DEEP, lambda: model_forward(DEEP_DIMS, 7, 10), DEEP_DIMS),
        net_case(ONE, lambda: model_forward([3, 4, 1], 1, 11), (3, 4, 1)),
        net_case(WIDE, lambda: model_forward([5, 8, 1], 300, 12), (5, 8, 1)),
        net_case("one layer (logistic regression)", lambda: model_forward([3, 1], 5, 13),
                 (3, 1)),
        net_case(TALL, lambda: model_forward(TALL_DIMS, 4, 29), TALL_DIMS)),
    "compute_cost": (
        Case(COURSE, lambda: (np.array([[0.8, 0.9, 0.4]]), np.array([[1, 1, 0]]))),
        Case(ONE, lambda: (np.array([[0.3]]), np.array([[0]]))),
        Case(WIDE, wide_cost)),
    "linear_backward": (
        Case(COURSE, lambda: linear_backward_layer(1, 5, 3, 4)),
        Case("an output layer (n = 1, m = 6)", lambda: linear_backward_layer(15, 4, 1, 6)),
        Case(ONE, lambda: linear_backward_layer(16, 4, 3, 1)),
        Case(WIDE, lambda: linear_backward_layer(17, 5, 4, 300))),
    "linear_activation_backward": (
        layer_activation_case(COURSE, lambda: backward_layer(2, 3, 1, 2), "sigmoid"),
        layer_activation_case(COURSE, lambda: backward_layer(2, 3, 1, 2), "relu"),
        layer_activation_case("a hidden layer with Z exactly 0 in places",
                              lambda: backward_layer(18, 3, 4, 6, zeros=True), "relu"),
        layer_activation_case(ONE, lambda: backward_layer(19, 4, 3, 1), "sigmoid"),
        layer_activation_case(WIDE, lambda: backward_layer(25, 5, 4, 300, zeros=True),
                              "relu")),
    "L_model_backward": (
        net_case(COURSE + " (2 layers)", course_L_model_backward, (4, 3, 1)),
        net_case(DEEP + ", hidden Z exactly 0 in places",
                 lambda: backward_inputs(DEEP_DIMS, 7, 26), DEEP_DIMS),
        net_case(ONE, lambda: backward_inputs([3, 4, 1], 1, 27), (3, 4, 1)),
        net_case(WIDE, lambda: backward_inputs([5, 8, 1], 300, 28), (5, 8, 1)),
        net_case(TALL, lambda: backward_inputs(TALL_DIMS, 4, 30), TALL_DIMS)),
    "update_parameters": (
        net_case(COURSE + ", learning_rate 0.1", course_update, (4, 3, 1)),
        net_case(DEEP + ", learning_rate 0.5", deep_update, DEEP_DIMS),
        net_case("one layer, learning_rate 1.2", one_layer_update, (3, 1)),
        net_case(TALL + ", learning_rate 0.3", lambda: deep_update(TALL_DIMS, 31, 0.3),
                 TALL_DIMS)),
}
