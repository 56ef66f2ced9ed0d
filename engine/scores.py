"""How well θ fits: accuracy for classification, R² for regression.

A step's score on its own batch comes from the output AL that the step computed. A
score on a whole set (the training or test set) takes a forward pass over it; a
SetScorer does that for a stack of parameter vectors at once, one batched product per
layer, on the training path's row of ones (engine.fast_step).
"""

from functools import cached_property

import numpy as np

from engine.fast_step import stacked_outputs
from engine.losses import label_index


class ClassLabels:
    """What accuracy needs of one-hot targets Y, precomputed once.  Y: (n_y, m), or a
    stack (T, n_y, m) of T steps' targets; labels: Y's classes, (m,) or (T, m), if the
    caller has them (engine.losses.one_hot_labels)."""

    def __init__(self, Y, labels=None):
        self.labels = Y.argmax(axis=-2) if labels is None else labels  # y's class
        self.n_y, m = Y.shape[-2:]
        self.index = label_index(self.labels, m)  # of y's class in each step's flat AL

    @cached_property
    def later(self):
        """(..., n_y, m): the classes ≥ y, which only tied outputs need."""
        return np.arange(self.n_y)[:, None] >= self.labels[..., None, :]


def _own_outputs(AL, labels):
    """Each column's output for its own class y.  AL: (..., n_y, m) -> (..., m)."""
    flat = AL.reshape(*AL.shape[:-2], -1)
    if labels.index.ndim == 1:  # one Y for every θ of the stack
        return np.take(flat, labels.index, axis=-1)
    return np.take_along_axis(flat, labels.index, axis=-1)


def _r2(AL, Y):
    """R² = 1 − Σ(a − y)² / Σ(y − ȳ)²: NaN where Y has no spread.  AL, Y: (..., n_y, m)."""
    residual = np.sum((AL - Y) ** 2, axis=(-2, -1))
    if Y.ndim == 2:
        total = np.sum((Y - Y.mean()) ** 2)
        return 1.0 - residual / total if total > 0 else np.full(AL.shape[:-2], np.nan)
    # one batch of targets per step: each has its own mean
    total = np.sum((Y - Y.mean(axis=(-2, -1), keepdims=True)) ** 2, axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, 1.0 - residual / total, np.nan)


def score(task, AL, Y, labels=None):
    """Accuracy for classification, R² for regression.  AL: (..., n_y, m); Y: (n_y, m), or
    (T, n_y, m) with AL (T, n_y, m): each step's own targets.  Returns (...) scores.

    labels: ClassLabels(Y), when the caller has it already.
    """
    if Y.shape[-1] == 0:
        return np.full(AL.shape[:-2], np.nan)
    if task == "regression":
        return _r2(AL, Y)
    # a column with an output that is not finite predicts no class (predicted_classes),
    # so it is never right: NaN > 0.5 is false, which had counted it right for y = 0
    finite = np.isfinite(AL).all()
    if Y.shape[-2] == 1:
        right = (AL > 0.5) == (Y > 0.5)
        if not finite:
            right &= np.isfinite(AL)
        return np.add.reduce(right, axis=(-2, -1)) / Y.shape[-1]
    # argmax's answer without argmax along the short, strided unit axis, which is
    # several times slower: with one maximum per column, y is right where its output
    # is the maximum
    labels = ClassLabels(Y) if labels is None else labels
    own = _own_outputs(AL, labels)  # (..., m)
    top = AL.max(axis=-2)
    if finite and np.count_nonzero(top[..., None, :] == AL) == top.size:
        return np.add.reduce(own == top, axis=-1) / AL.shape[-1]
    # tied maxima: argmax picks the first, so y is right when its output is above every
    # earlier class and not below any later one, and every output of its column is finite
    own = own[..., None, :]
    right = ((own > AL) | ((own == AL) & labels.later)).all(axis=-2)
    if not finite:
        right &= np.isfinite(AL).all(axis=-2)
    return right.mean(axis=-1)


def predicted_classes(AL) -> list[int | None]:
    """Each column's class, as score() counts it: A > 0.5 for one output unit, else the
    first largest output; None where a column is not finite.  AL: (n_y, m) -> m entries."""
    finite = np.isfinite(AL).all(axis=0)
    classes = AL[0] > 0.5 if AL.shape[0] == 1 else np.argmax(AL, axis=0)
    return [int(c) if ok else None for c, ok in zip(classes.tolist(), finite, strict=True)]


# a stacked forward holds two (n, m) activations per θ at once (a layer's input and its
# output): at most this many bytes of them
EVALUATE_BYTES = 8 * 2**20


class SetScorer:
    """The score of parameter vectors θ on one whole set (X, Y), such as the training set.

    X_ones: (n_x + 1, m), X with a row of ones below; Y: (n_y, m).
    """

    def __init__(self, task, layout, activations, X_ones, Y):
        self.task, self.layout, self.activations = task, layout, activations
        self.X_ones, self.Y, self.labels = X_ones, Y, ClassLabels(Y)
        # θs per stacked forward, as many as EVALUATE_BYTES allows
        self.group = max(1, EVALUATE_BYTES // (2 * 8 * X_ones.shape[1] * max(layout.dims[1:])))

    def __call__(self, thetas):
        """Scores (T,) of T flat vectors θ (a single one is not copied)."""
        values = []
        for k in range(0, len(thetas), self.group):
            part = thetas[k:k + self.group]
            stack = part[0][None] if len(part) == 1 else np.stack(part)
            params = self.layout.stacked_views(stack)
            AL = stacked_outputs(self.X_ones, params, self.activations)
            values.append(score(self.task, AL, self.Y, self.labels))
        return np.concatenate(values)
