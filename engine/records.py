"""A step's full record in the layout of docs/api.md, and where a step first went non-finite.

A run whose config names a bug (engine.mistakes) records the mistaken gradients as
`grads`, and the correct ones at the same θ as `true_grads`, narrowed alike."""

import numpy as np

from engine.batches import example_column
from engine.losses import loss_backward

LAYER_FIELDS = ("A_prev", "W", "b", "Z", "A", "D", "dA", "dZ", "dW", "db", "update")
BATCH_FIELDS = ("X", "Y")
FIELDS = BATCH_FIELDS + LAYER_FIELDS
# the tensors with one column per example of the batch: example=i keeps one column of each
BATCH_AXIS = ("X", "Y", "A_prev", "Z", "A", "D", "dA", "dZ")
GRAD_FIELDS = ("dA", "dZ", "dW", "db")
TRUE = "true_"  # the prefix of a true gradient's name among a layer's tensors


def layer_dA(result, l, loss, grads=None):
    """dA[l] of a StepResult's grads (or of the given ones: its true_grads); dA[L] is
    recomputed where training left it out (the fused output gradient of engine.fast_step)."""
    forward = result.forward
    dA = (result.backward.grads if grads is None else grads)[f"dA{l}"]
    return loss_backward(loss, forward.AL, forward.Y) if dA is None else dA


def _grad_tensors(result, l, loss, grads, prefix=""):
    """dA, dZ, dW, db of layer l in grads, named with the prefix."""
    return {prefix + "dA": layer_dA(result, l, loss, grads),
            **{prefix + n: grads[f"{n}{l}"] for n in GRAD_FIELDS[1:]}}


def _layer_tensors(result, l, loss):
    """Every tensor of layer l (1-based) at this step, by its API name; a bug run's
    true gradients too, as true_dA, true_dZ, true_dW, true_db."""
    forward, backward, new = result.forward, result.backward, result.update.new_params
    (A_prev, W, b), Z = forward.caches[l - 1]
    true_grads = backward.true_grads
    return {
        "A_prev": A_prev, "W": W, "b": b, "Z": Z, "A": forward.A(l), "D": forward.masks[l - 1],
        **_grad_tensors(result, l, loss, backward.grads),
        **({} if true_grads is None else _grad_tensors(result, l, loss, true_grads, TRUE)),
        "update_W": new[f"W{l}"] - W, "update_b": new[f"b{l}"] - b,
    }


def _pick(tensors, names, wanted):
    return {n: tensors[n] for n in names if wanted is None or n in wanted}


def _at_column(tensors, k):
    """The tensors, those with the batch axis cut to their column k: (n, 1)."""
    return {n: X[:, k:k + 1] if n.removeprefix(TRUE) in BATCH_AXIS and X is not None else X
            for n, X in tensors.items()}


def layer_record(result, l, config, wanted=None, column=None):
    """One entry of the record's "layers" list; `wanted` narrows the tensors, and
    `column` (an index into the batch) keeps one example."""
    tensors = _layer_tensors(result, l, config["loss"])
    if column is not None:
        tensors = _at_column(tensors, column)
    record = {"l": l, "activation": config["activations"][l - 1],
              "linear_cache": _pick(tensors, ("A_prev", "W", "b"), wanted),
              "activation_cache": _pick(tensors, ("Z",), wanted),
              **_pick(tensors, ("A", "D"), wanted),
              "grads": _pick(tensors, GRAD_FIELDS, wanted)}
    if TRUE + "dA" in tensors:  # a bug run: the correct gradients beside the mistaken ones
        record["true_grads"] = {n: tensors[TRUE + n] for n in GRAD_FIELDS
                                if wanted is None or n in wanted}
    if wanted is None or "update" in wanted:
        record["update"] = {"W": tensors["update_W"], "b": tensors["update_b"]}
    return record


def _batch(forward, fields, example, column):
    """The record's "batch": X, Y and the examples' indices in the training set."""
    m = forward.X.shape[1]
    indices = list(range(m) if forward.indices is None else forward.indices.tolist())
    tensors = {"X": forward.X, "Y": forward.Y}
    if column is not None:
        indices, tensors = [example], _at_column(tensors, column)
    return {**_pick(tensors, BATCH_FIELDS, fields), "indices": indices}


def step_record(result, config, t, layers=None, fields=None, example=None):
    """The record of step t: batch, caches, A, D, gradients and the applied update.

    layers: 1-based layer numbers, or None for all; fields: the API's tensor names or None;
    example: a training example's index (in batch.indices) to keep alone, or None.
    """
    forward = result.forward
    column = None if example is None else \
        example_column(forward.indices, forward.X.shape[1], example)
    record = {"step": t, "epoch": forward.epoch, "cost": forward.cost}
    if fields is None or not set(BATCH_FIELDS).isdisjoint(fields):
        record["batch"] = _batch(forward, fields, example, column)
    L = len(forward.caches)
    numbers = range(1, L + 1) if layers is None else layers
    if not all(1 <= l <= L for l in numbers):
        raise ValueError(f"layers: this network has layers 1 to {L}, got {list(numbers)}")
    record["layers"] = [layer_record(result, l, config, fields, column) for l in numbers]
    return record


def _first_non_finite(named):
    for name, X in named:
        if X is not None and not np.isfinite(X).all():
            return name
    return None


def divergence_point(result, config):
    """{"layer", "tensor"} of the first non-finite value in computation order, or None.

    Order: forward Z, A per layer; the cost; backward dA, dZ, dW, db from layer L
    down; then the update of each layer.
    """
    L = len(result.forward.caches)
    by_layer = {l: _layer_tensors(result, l, config["loss"]) for l in range(1, L + 1)}
    order = [(l, [(n, by_layer[l][n]) for n in ("Z", "A")]) for l in range(1, L + 1)]
    order.append((L, [("cost", np.array(result.forward.cost))]))
    order += [(l, [(n, by_layer[l][n]) for n in ("dA", "dZ", "dW", "db")])
              for l in range(L, 0, -1)]
    order += [(l, [("update", by_layer[l]["update_W"]), ("update", by_layer[l]["update_b"])])
              for l in range(1, L + 1)]
    for l, named in order:
        name = _first_non_finite(named)
        if name is not None:
            return {"layer": l, "tensor": name}
    return None
