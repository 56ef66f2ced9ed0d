"""Parameter updates: gd, momentum, rmsprop and adam, with the course's formulas.

Each optimizer is `update(g, state, hp) -> (step, new_state)` for the gradient
dθ of one array θ (a run passes all parameters as one flat vector), and
θ_{t+1} = θ_t − step. Nothing is modified in place: checkpoints keep the state.
"""

import numpy as np

DEFAULTS = {"beta": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


def gd(g, state, hp):
    """θ = θ - α dθ."""
    return hp["learning_rate"] * g, state


def momentum(g, state, hp):
    """v = β v + (1-β) dθ;  θ = θ - α v."""
    beta = hp["beta"]
    v = beta * state["v"] + (1.0 - beta) * g
    return hp["learning_rate"] * v, {"v": v, "t": state["t"] + 1}


def rmsprop(g, state, hp):
    """s = β₂ s + (1-β₂) dθ²;  θ = θ - α dθ / (√s + ε)."""
    beta2 = hp["beta2"]
    s = beta2 * state["s"] + (1.0 - beta2) * (g * g)
    step = hp["learning_rate"] * g / (np.sqrt(s) + hp["epsilon"])
    return step, {"s": s, "t": state["t"] + 1}


def adam(g, state, hp):
    """Adam with bias correction: θ = θ - α v̂ / (√ŝ + ε), t counted from 1."""
    b1, b2, t = hp["beta1"], hp["beta2"], state["t"] + 1
    v = b1 * state["v"] + (1.0 - b1) * g
    s = b2 * state["s"] + (1.0 - b2) * (g * g)
    v_hat, s_hat = v / (1.0 - b1**t), s / (1.0 - b2**t)
    step = hp["learning_rate"] * v_hat / (np.sqrt(s_hat) + hp["epsilon"])
    return step, {"v": v, "s": s, "t": t}


OPTIMIZERS = {"gd": gd, "momentum": momentum, "rmsprop": rmsprop, "adam": adam}
MOMENTS = {"gd": (), "momentum": ("v",), "rmsprop": ("s",), "adam": ("v", "s")}
# the hyper-parameters (of DEFAULTS) each optimizer reads: a config's others change nothing
HYPERPARAMETERS = {"gd": (), "momentum": ("beta",), "rmsprop": ("beta2", "epsilon"),
                   "adam": ("beta1", "beta2", "epsilon")}


def init_state(optimizer, theta):
    """Zero moments shaped like θ, and t = 0 (steps taken so far)."""
    state = {name: np.zeros_like(theta) for name in MOMENTS[optimizer]}
    state["t"] = 0
    return state
