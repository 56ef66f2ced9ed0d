"""One training step, t: forward on batch t with θ_t, cost, backward, update to θ_{t+1}.

A step's numbers come in three records, one per phase (Forward, Backward, Update),
each complete when it is made. Training and replay both call `StepRunner.run`, which
takes the fast path (engine.fast_step), so a replayed step is the same sequence of
floating-point operations as the original, hence bit-identical. A config whose bug is
active (engine.mistakes) backpropagates with the mistaken code, and with the fast path
beside it for its true gradients; its update applies the mistaken gradients.
"""

from typing import NamedTuple

import numpy as np

from engine import fast_step, mistakes
from engine.batches import batch_columns, dropout_rng, epoch_permutation, is_full_batch
from engine.model import l2_cost
from engine.optimizers import OPTIMIZERS


class Batch(NamedTuple):
    """Step t's examples: X with a row of ones below (fast_step.with_ones)."""

    epoch: int
    indices: np.ndarray | None  # the examples' indices in the training set; None: all
    X_ones: np.ndarray  # (n_x + 1, m)
    Y: np.ndarray  # (n_y, m)
    labels: np.ndarray | None  # each example's class where Y is one-hot (losses.one_hot_labels)


class EpochSet(NamedTuple):
    """The training set as one epoch of mini-batches takes it: each batch is consecutive
    positions of the epoch's shuffled order, as the course's random_mini_batches cuts them."""

    epoch: int
    order: np.ndarray  # the training examples' indices, shuffled (m,)
    X_ones: np.ndarray  # (n_x + 1, m), [X; 1]: in that order if shuffled, else as it is
    Y: np.ndarray  # (n_y, m), likewise
    labels: np.ndarray | None  # as Batch.labels, likewise
    shuffled: bool  # whether the arrays are copies in the shuffled order

    def batch(self, columns):
        """The Batch at these positions (a slice) of the order: views of the shuffled
        copies, or the examples gathered by index, into arrays laid out as the views are
        (rows contiguous): some BLAS builds round a product of a column-major operand
        differently (OpenBLAS on SkylakeX)."""
        indices = self.order[columns]
        if self.shuffled:
            return Batch(self.epoch, indices, self.X_ones[:, columns], self.Y[:, columns],
                         None if self.labels is None else self.labels[columns])
        return Batch(self.epoch, indices, self.X_ones.take(indices, axis=1),
                     self.Y.take(indices, axis=1),
                     None if self.labels is None else self.labels[indices])


# a training set's [X; 1] up to this size is copied in each epoch's shuffled order, and a
# step's batch is a view of the copy, as in the course's loop (gathering each batch by
# index made W7 and W8 2 to 3 % slower); a bigger one is not copied, and a step gathers
# its batch by index. The numbers are the same either way: BLAS reads a batch's columns
# where they are (tests/test_step.py)
SHUFFLED_COPY_BYTES = 2 * 2**20


class Forward(NamedTuple):
    """The forward pass and cost of step t on its batch, with θ_t."""

    epoch: int
    indices: np.ndarray | None  # as Batch.indices
    X: np.ndarray  # (n_x, m)
    Y: np.ndarray  # (n_y, m)
    theta: np.ndarray  # θ_t, flat (engine.layout)
    params: dict  # θ_t as W{l}, b{l} views of theta
    caches: list  # [((A_prev, W, b), Z)] per layer
    masks: list  # D[l] or None per layer
    AL: np.ndarray  # (n_y, m)
    cost: float  # J, the L2 term included

    def A(self, l):
        """A[l], as the next layer saw it (after dropout)."""
        return self.AL if l == len(self.caches) else self.caches[l][0][0]


class Backward(NamedTuple):
    """The gradients of step t."""

    grads: dict  # dA{l}, dZ{l}, dW{l}, db{l}; dA{L} None where training skipped it
    g: np.ndarray  # dθ, flat: the dW{l}, db{l} are views of it
    # a config with a bug: the correct gradients at the same θ (grads as the bug-free
    # engine computes them; grads itself where the bug is inactive); None without a bug
    true_grads: dict | None = None


class Update(NamedTuple):
    """The optimizer's update of step t: θ_{t+1} = θ_t − step (+ step: wrong_update_sign)."""

    step: np.ndarray
    new_theta: np.ndarray  # θ_{t+1}
    new_params: dict  # θ_{t+1} as W{l}, b{l} views
    new_state: dict  # the optimizer's state after the update


class StepResult(NamedTuple):
    forward: Forward
    backward: Backward
    update: Update


def _written_into(grads, out):
    """grads with each dW[l] and db[l] copied into out's views of dθ, and each dZ[l] and
    dA[l] into its buffers if it has them (fast_step.GradientOut), and replaced by those
    views, as the fast path writes them."""
    for key, view in out.params.items():  # keys W1, b1, ...
        np.copyto(view, grads[f"d{key}"])
        grads[f"d{key}"] = view
    for name, views in (("dZ", out.dZ or []), ("dA", out.dA or [])):
        for l, view in enumerate(views, start=1):
            if view is not None and grads.get(f"{name}{l}") is not None:
                np.copyto(view, grads[f"{name}{l}"])
                grads[f"{name}{l}"] = view
    return grads


class StepRunner:
    """The steps of one run: its normalized config, Dataset and ParamLayout.  X_ones:
    the training set's [X; 1] (fast_step.examples_with_ones), if the caller holds it."""

    def __init__(self, cfg, data, layout, X_ones=None):
        self.cfg, self.data, self.layout = cfg, data, layout
        self.X_ones = fast_step.with_ones(data.X_train) if X_ones is None else X_ones
        # a bug that cannot change a number trains on the bug-free path (bug_active)
        self.bug = cfg.get("bug") if mistakes.bug_active(cfg) else None
        self.full_batch = is_full_batch(data.X_train.shape[1], cfg["batch_size"])
        self.shuffled_copy = not self.full_batch and self.X_ones.nbytes <= SHUFFLED_COPY_BYTES
        self._epoch_set = None  # the EpochSet of the last epoch asked for

    def batch(self, t):
        """Step t's Batch: the whole training set, or mini-batch t of its epoch."""
        if self.full_batch:  # the common case, without the calls
            return Batch(t, None, self.X_ones, self.data.Y_train, self.data.train_labels)
        epoch, columns = batch_columns(t, self.data.X_train.shape[1], self.cfg["batch_size"])
        epoch_set = self._epoch_set  # read once: a replay in another thread may replace it
        if epoch_set is None or epoch_set.epoch != epoch:
            epoch_set = self._epoch_set = self.epoch_set(epoch)
        return epoch_set.batch(columns)

    def epoch_set(self, epoch):
        """The EpochSet of an epoch: copies of the training set in its order if
        shuffled_copy, else the training set as it is."""
        data = self.data
        order = epoch_permutation(self.cfg["seed"], epoch, data.X_train.shape[1])
        X_ones, Y, labels = self.X_ones, data.Y_train, data.train_labels
        if not self.shuffled_copy:
            return EpochSet(epoch, order, X_ones, Y, labels, False)
        X_ones, Y = X_ones.take(order, axis=1), Y.take(order, axis=1)
        X_ones.flags.writeable = Y.flags.writeable = False  # replays read them
        return EpochSet(epoch, order, X_ones, Y, None if labels is None else labels[order],
                        True)

    @property
    def shuffled_nbytes(self):
        """What an epoch's shuffled copies hold (shuffled_copy), while training or replaying."""
        return self.X_ones.nbytes + self.data.Y_train.nbytes if self.shuffled_copy else 0

    def forward(self, t, theta, params=None, out=None):
        """Forward and cost of step t with θ_t.  params: θ_t's W/b views, if the caller has
        them; out: (Z[l], A[l]) buffers per layer (fast_step.forward), or None."""
        cfg, batch = self.cfg, self.batch(t)
        keep_prob, acts = cfg["keep_prob"], cfg["activations"]
        rng = dropout_rng(cfg["seed"], t) if keep_prob < 1.0 else None
        params = self.layout.views(theta) if params is None else params
        AL, caches, masks = fast_step.forward(batch.X_ones, params, acts, keep_prob, rng, out)
        cost = fast_step.mean_loss(cfg["loss"], acts[-1], AL, batch.Y, caches[-1][1], batch.labels)
        if cfg["l2"]:
            cost += l2_cost(params, self.layout.L, cfg["l2"], batch.Y.shape[1])
        return Forward(batch.epoch, batch.indices, batch.X_ones[:-1], batch.Y, theta, params,
                       caches, masks, AL, cost)

    def backward(self, forward, buffers=None):
        """The gradients of a Forward, written into buffers.g if given; with an active
        bug, the mistaken ones (engine.mistakes), and the correct ones as true_grads."""
        if buffers is None:
            g = np.empty(self.layout.size)
            out = fast_step.GradientOut(self.layout.views(g))
        else:
            g, out = buffers.g, buffers.grads
        if self.bug is None:
            grads = self.correct_grads(forward, out)
            return Backward(grads, g, None if self.cfg.get("bug") is None else grads)
        own = fast_step.GradientOut(self.layout.views(np.empty(self.layout.size)))
        true_grads = self.correct_grads(forward, own)
        # the optimizer reads dθ: the mistaken gradients
        grads = _written_into(mistakes.backward(self.bug, forward, self.cfg), out)
        return Backward(grads, g, true_grads)

    def correct_grads(self, forward, out):
        """The gradients of a Forward, written where out (fast_step.GradientOut) says."""
        cfg, acts, L = self.cfg, self.cfg["activations"], self.layout.L
        last = (None, None) if out.dZ is None else (out.dA[-1], out.dZ[-1])
        dAL, dZL = fast_step.output_gradient(cfg["loss"], acts[-1], forward.AL, forward.Y,
                                             forward.caches[-1][1], last)
        grads = fast_step.backward(dZL, forward.caches, acts, forward.masks, cfg["keep_prob"],
                                   out)
        grads[f"dA{L}"] = dAL
        if cfg["l2"]:
            fast_step.add_l2(grads, forward.params, cfg["l2"], forward.Y.shape[1])
        return grads

    def update(self, forward, backward, state, buffers=None):
        """The optimizer's step from dθ, and θ_{t+1} (into buffers.theta if given)."""
        step, new_state = OPTIMIZERS[self.cfg["optimizer"]](backward.g, state, self.cfg)
        if buffers is None:
            new_theta = mistakes.apply_step(self.bug, forward.theta, step)
            return Update(step, new_theta, self.layout.views(new_theta), new_state)
        new_theta = mistakes.apply_step(self.bug, forward.theta, step, out=buffers.theta)
        return Update(step, new_theta, buffers.params, new_state)

    def run(self, t, theta, state, buffers=None, params=None):
        """The whole step t from θ_t and the optimizer state.  buffers: fast_step.Buffers
        to write into, or None; params: θ_t's W/b views, if the caller has them."""
        forward = self.forward(t, theta, params, buffers and buffers.out)
        backward = self.backward(forward, buffers)
        return StepResult(forward, backward, self.update(forward, backward, state, buffers))
