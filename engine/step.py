"""One training step, t: forward on batch t with θ_t, cost, backward, update to θ_{t+1}.

Training and replay both call `run_step`, so a replayed step is the same
sequence of floating-point operations as the original, hence bit-identical.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from engine.batches import batch_indices, dropout_rng
from engine.layout import ParamLayout
from engine.losses import compute_loss, loss_backward
from engine.model import l2_cost, model_backward, model_forward
from engine.optimizers import OPTIMIZERS


@dataclass(slots=True)
class StepResult:
    epoch: int
    indices: np.ndarray | None  # None: the whole training set
    X: np.ndarray  # (n_x, m) this step's batch
    Y: np.ndarray  # (n_y, m)
    AL: np.ndarray  # (n_y, m)
    caches: list  # [((A_prev, W, b), Z)] per layer
    masks: list  # D[l] or None per layer
    cost: float
    grads: dict  # dA{l}, dZ{l}, dW{l}, db{l}; use dA(l), since dA{L} may be left out
    params: dict  # θ_t as W{l}, b{l} views of theta
    theta: np.ndarray  # θ_t, flat
    g: np.ndarray  # dθ, flat, same layout
    layout: ParamLayout
    loss: str
    step: np.ndarray = None  # the optimizer's step: θ_{t+1} = θ_t − step
    new_theta: np.ndarray = None  # θ_{t+1}
    new_state: dict = None  # optimizer state after the update

    @property
    def new_params(self):
        return self.layout.views(self.new_theta)

    def dA(self, l):
        """dA[l]; training leaves out dA[L] when dZ[L] = A - Y did not need it."""
        dA = self.grads[f"dA{l}"]
        return loss_backward(self.loss, self.AL, self.Y) if dA is None else dA

    def A(self, l):
        """A[l], as the next layer saw it (after dropout)."""
        return self.AL if l == len(self.caches) else self.caches[l][0][0]


def batch(cfg, data, t):
    """(epoch, indices, X_ones, Y, labels) of step t.  X_ones: the batch's X with a row
    of ones below (model_forward); labels: each example's class, or None unless Y is
    one-hot."""
    if cfg["batch_size"] is None:  # the common case, without the calls
        return t, None, data.X_train_ones, data.Y_train, data.train_labels
    epoch, idx = batch_indices(cfg["seed"], t, data.X_train.shape[1], cfg["batch_size"])
    if idx is None:
        return epoch, idx, data.X_train_ones, data.Y_train, data.train_labels
    labels = None if data.train_labels is None else data.train_labels[idx]
    return epoch, idx, data.X_train_ones[:, idx], data.Y_train[:, idx], labels


class Buffers(NamedTuple):
    """Arrays a training step writes into instead of allocating its own (the numbers
    are the same): the forward's (Z[l], A[l]) per layer (a hidden A[l] above a row of
    ones, as model_forward takes it), dθ with its W/b views, and θ_{t+1} with its W/b
    views, which the next step takes as its parameters."""

    out: list
    g: np.ndarray
    grads: dict
    theta: np.ndarray
    params: dict


def forward_backward(cfg, data, layout, t, theta, buffers=None, params=None):
    """Forward, cost and backward of step t with θ_t.  A StepResult without the update.

    params: θ_t's W/b views, if the caller has them already.
    """
    epoch, idx, X_ones, Y, labels = batch(cfg, data, t)
    X = X_ones[:-1]
    keep_prob, acts = cfg["keep_prob"], cfg["activations"]
    rng = dropout_rng(cfg["seed"], t) if keep_prob < 1.0 else None
    params = layout.views(theta) if params is None else params
    if buffers is None:
        g = np.empty(layout.size)
        out, grad_out = None, layout.views(g)
    else:
        out, g, grad_out = buffers.out, buffers.g, buffers.grads
    AL, caches, masks = model_forward(X_ones, params, acts, keep_prob, rng, out)
    cost = compute_loss(cfg["loss"], acts[-1], AL, Y, caches[-1][1], labels)
    if cfg["l2"]:
        cost += l2_cost(params, layout.L, cfg["l2"], X.shape[1])
    grads = model_backward(AL, Y, caches, acts, cfg["loss"], masks, keep_prob, cfg["l2"],
                           grad_out=grad_out, need_dAL=False)
    return StepResult(epoch, idx, X, Y, AL, caches, masks, cost, grads, params, theta, g,
                      layout, cfg["loss"])


def run_step(cfg, data, layout, t, theta, state, buffers=None, params=None):
    """The whole step t: a StepResult with θ_{t+1} and the new optimizer state."""
    result = forward_backward(cfg, data, layout, t, theta, buffers, params)
    result.step, result.new_state = OPTIMIZERS[cfg["optimizer"]](result.g, state, cfg)
    result.new_theta = np.subtract(theta, result.step, out=buffers and buffers.theta)
    return result
