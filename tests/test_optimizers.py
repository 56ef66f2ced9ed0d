"""Tests for engine.optimizers: three successive updates against the course's formulas."""

import numpy as np
import pytest

from engine.optimizers import DEFAULTS, OPTIMIZERS, init_state

NAMES = ["gd", "momentum", "rmsprop", "adam"]


class CourseOptimizer:
    """The course's update rules, written out independently with a python step counter."""

    def __init__(self, name, hp, shape):
        self.name, self.hp, self.t = name, hp, 0
        self.v, self.s = np.zeros(shape), np.zeros(shape)

    def step(self, theta, d):
        lr, hp = self.hp["learning_rate"], self.hp
        self.t += 1
        if self.name == "gd":
            return theta - lr * d
        if self.name == "momentum":
            self.v = hp["beta"] * self.v + (1 - hp["beta"]) * d
            return theta - lr * self.v
        if self.name == "rmsprop":
            self.s = hp["beta2"] * self.s + (1 - hp["beta2"]) * d**2
            return theta - lr * d / (np.sqrt(self.s) + hp["epsilon"])
        self.v = hp["beta1"] * self.v + (1 - hp["beta1"]) * d
        self.s = hp["beta2"] * self.s + (1 - hp["beta2"]) * d**2
        v_hat = self.v / (1 - hp["beta1"] ** self.t)
        s_hat = self.s / (1 - hp["beta2"] ** self.t)
        return theta - lr * v_hat / (np.sqrt(s_hat) + hp["epsilon"])


HYPERPARAMETERS = [
    {"learning_rate": 0.1, **DEFAULTS},
    {"learning_rate": 0.01, "beta": 0.5, "beta1": 0.8, "beta2": 0.9, "epsilon": 1e-4},
]


@pytest.mark.parametrize("hp", HYPERPARAMETERS)
@pytest.mark.parametrize("shape", [(17,), (3, 4)])
@pytest.mark.parametrize("name", NAMES)
def test_three_updates_match_the_course(name, shape, hp):
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(shape)
    reference, ref_theta = CourseOptimizer(name, hp, shape), theta.copy()
    state = init_state(name, theta)
    assert state["t"] == 0
    for t in range(1, 4):
        g = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 2, size=shape)
        theta_in, g_in = theta.copy(), g.copy()
        state_in = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}
        old_state = state
        step, state = OPTIMIZERS[name](g, old_state, hp)
        new_theta = theta - step
        ref_theta = reference.step(ref_theta, g)
        # the same arithmetic up to operation order: a few ulps
        np.testing.assert_allclose(new_theta, ref_theta, rtol=1e-13, atol=1e-15)
        assert new_theta.shape == shape and new_theta.dtype == np.float64
        # inputs never mutated: a step record keeps θ_t, and the old state is a checkpoint
        np.testing.assert_array_equal(theta, theta_in)
        np.testing.assert_array_equal(g, g_in)
        for k, v in state_in.items():
            np.testing.assert_array_equal(np.asarray(old_state[k]), np.asarray(v))
        assert not np.shares_memory(step, g)  # the step is the optimizer's own array
        if name != "gd":
            assert state["t"] == t
        if name in ("momentum", "adam"):
            np.testing.assert_allclose(state["v"], reference.v, rtol=1e-13, atol=1e-300)
        if name in ("rmsprop", "adam"):
            np.testing.assert_allclose(state["s"], reference.s, rtol=1e-13, atol=1e-300)
        theta = new_theta


def test_previous_state_is_not_mutated():
    """Checkpoints keep (θ, state) objects; an update must leave them intact."""
    theta = np.linspace(-1, 1, 6)
    for name in NAMES:
        state = init_state(name, theta)
        _, state1 = OPTIMIZERS[name](np.ones(6), state, {"learning_rate": 0.1, **DEFAULTS})
        snapshot = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state1.items()}
        OPTIMIZERS[name](np.full(6, 3.0), state1, {"learning_rate": 0.1, **DEFAULTS})
        for k, v in snapshot.items():
            np.testing.assert_array_equal(np.asarray(state1[k]), np.asarray(v))


def test_adam_first_step_is_lr_times_sign():
    """t = 1: v̂ = g and ŝ = g², so the step is lr · g / (|g| + ε) ≈ lr · sign(g)."""
    g = np.array([3.0, -0.5, 1e-3])
    step, state = OPTIMIZERS["adam"](g, init_state("adam", np.zeros(3)),
                                     {"learning_rate": 0.01, **DEFAULTS})
    np.testing.assert_allclose(-step, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    assert state["t"] == 1


def test_gd_hand_value():
    theta = np.array([[1.0, 2.0]])
    step, _ = OPTIMIZERS["gd"](np.array([[0.5, -4.0]]), {"t": 0}, {"learning_rate": 0.25})
    np.testing.assert_array_equal(theta - step, [[0.875, 3.0]])


@pytest.mark.parametrize(("name", "moments"), [("gd", set()), ("momentum", {"v"}),
                                               ("rmsprop", {"s"}), ("adam", {"v", "s"})])
def test_init_state_is_zero_moments(name, moments):
    theta = np.ones((2, 3))
    state = init_state(name, theta)
    assert set(state) == moments | {"t"} and state["t"] == 0
    for k in moments:
        assert state[k].shape == theta.shape
        np.testing.assert_array_equal(state[k], 0.0)


def test_defaults_are_the_course_values():
    assert DEFAULTS == {"beta": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    assert list(OPTIMIZERS) == NAMES
