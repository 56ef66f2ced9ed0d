"""What training costs, estimated in one place: multiply-adds, flops, and seconds at the
engine's rate.

Every budget reads this estimate: the server's compute budget and fast lane
(app.config_limits, app.admission), a run's checkpoint spacing and its histograms' replays
(engine.run), and the sampling of a gradient check (engine.gradcheck). Only the matrix
products count: per example and weight, forward Z = W A_prev is one multiply-add, and
backward two more (dW from dZ A_prevᵀ, dA_prev from Wᵀ dZ); the elementwise work beside
them is a few percent (except in a gradient check's perturbed layer, which has no product). A
run with an active bug (engine.mistakes) takes two backward passes a step: the mistaken
gradients, and the true ones.
"""

import math
from itertools import pairwise

from engine.config import layer_dims
from engine.datasets import split_sizes
from engine.mistakes import bug_active

MULTIPLY_ADDS_PER_SECOND = 2e9  # one core, NumPy's BLAS, measured on a slow machine
FLOPS_PER_MULTIPLY_ADD = 2
FLOPS_PER_SECOND = FLOPS_PER_MULTIPLY_ADD * MULTIPLY_ADDS_PER_SECOND
FORWARD, BACKWARD = 1, 2  # multiply-adds per example and weight


def weights(dims) -> int:
    """Entries of every W[l].  dims: [n_x, n_1, ..., n_L]."""
    return sum(n_prev * n for n_prev, n in pairwise(dims))


def forward_multiply_adds(dims, m, first=1) -> int:
    """Z[l] = W[l] A[l-1] for the layers l = first..L, on m examples."""
    return FORWARD * m * weights(dims[first - 1:])


def perturbed_cost_multiply_adds(dims, m, l) -> int:
    """One cost evaluation of a gradient check after one entry of W[l] moved: row i of
    Z[l] moves by ±ε A[l-1]ⱼ (no product), layer l's activation is taken again (counted as
    one multiply-add per entry of Z[l], since it is the only work there), and layers
    l+1..L run in full (engine.gradcheck)."""
    return m * dims[l] + forward_multiply_adds(dims, m, first=l + 1)


def train_multiply_adds(dims, m, backward_passes=1) -> int:
    """One training step on a batch of m examples: forward, then backward (twice for a
    run with an active bug: backward_passes)."""
    return (FORWARD + backward_passes * BACKWARD) * m * weights(dims)


def backward_passes(config) -> int:
    """Backward passes of a step of a normalized config: 2 with an active bug (the
    mistaken gradients and the true ones), else 1."""
    return 2 if bug_active(config) else 1


def scored_steps(steps, every) -> int:
    """The steps whose θ is scored on the whole training and test sets: every `every`-th
    from 0, and the last (engine.step_scores)."""
    return len(range(0, steps, every)) + ((steps - 1) % every != 0)


def run_multiply_adds(config) -> int:
    """A whole run of a normalized config: every step trains on its batch, and θ is scored
    on the whole training and test sets at the steps engine.step_scores scores."""
    dims, steps = layer_dims(config), config["steps"]
    m_train, m_test = split_sizes(config["n_samples"], config["test_fraction"])
    m = config["batch_size"] or m_train
    every = evaluation_interval(dims, m, m_train, m_test)
    return (steps * train_multiply_adds(dims, m, backward_passes(config))
            + scored_steps(steps, every) * forward_multiply_adds(dims, m_train + m_test))


def run_flops(config) -> float:
    """Flops of a whole run: what the server's compute budget and fast lane compare."""
    return float(FLOPS_PER_MULTIPLY_ADD * run_multiply_adds(config))


def step_flops(config) -> float:
    """Flops of one step of a normalized config, on average over its run."""
    return run_flops(config) / config["steps"]


def seconds(multiply_adds) -> float:
    """How long this many multiply-adds take at the engine's rate."""
    return multiply_adds / MULTIPLY_ADDS_PER_SECOND


def seconds_of_flops(flops) -> float:
    """How long this many flops take at the engine's rate."""
    return flops / FLOPS_PER_SECOND


def multiply_adds_in(seconds_allowed) -> float:
    """The multiply-adds that fit in this many seconds: a budget of work, not of time."""
    return seconds_allowed * MULTIPLY_ADDS_PER_SECOND


def steps_in(seconds_allowed, multiply_adds_per_step) -> int:
    """Whole steps of this cost that fit in this many seconds."""
    return int(multiply_adds_in(seconds_allowed) / max(multiply_adds_per_step, 1))


# a mini-batch run scores θ on the whole training and test sets every k steps, as often
# as keeps those forward passes within this share of the training's multiply-adds; any
# other step's θ is scored on demand, replayed (engine.run.Run.scores), and the page draws
# the curves through evenly spread steps scored so
EVALUATION_SHARE = 0.1


def evaluation_interval(dims, m, m_train, m_test) -> int:
    """k: the steps between two scores of θ on the whole training and test sets
    (engine.step_scores), for batches of m of the m_train training examples.  A full batch
    scores every step: its own output gives the train score."""
    if m >= m_train:
        return 1
    ratio = forward_multiply_adds(dims, m_train + m_test) / train_multiply_adds(dims, m)
    return max(1, math.ceil(ratio / EVALUATION_SHARE))
