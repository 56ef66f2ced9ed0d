"""Costs and their gradients, exactly as the course scales them.

J is the mean loss over the m columns. The gradients returned here are
per-example: dA = m · ∂J/∂A, so that dW = (1/m) dZ A_prevᵀ holds downstream.
"""

import numpy as np

# keeps log() and 1/a finite where a probability is exactly 0 or 1
EPS = 1e-15
# the smallest normal float: 1/a overflows below it (a subnormal softmax output, e^-720)
TINY = float(np.finfo(float).tiny)


def _low_end(A):
    """A with entries of exactly 0 moved to EPS, and subnormal ones (0 < a < TINY) to TINY,
    where 1/a is ±inf (dZ would be NaN, and a bug run's training would stop there); every
    other value as it is, however close to 0 (the course's own formulas give -1/a = -1e17
    at a = 1e-17, and dZ = dA · a(1 - a) then cancels to a - y: moving such an a to EPS
    would make that gradient 100 times too small), and outside [0, 1] too (the course's
    L_model_backward test feeds a = 1.79)."""
    A = np.where(A == 0.0, EPS, A)
    return np.where((A > 0.0) & (A < TINY), TINY, A)


def _off_the_ends(A):
    """_low_end, and entries of exactly 1 moved to 1 - EPS (1 - a is never subnormal)."""
    A = _low_end(A)
    return np.where(A == 1.0, 1.0 - EPS, A)


def binary_cross_entropy(A, Y):
    """J = -(1/m) Σ [y log a + (1-y) log(1-a)].  A, Y: (n_y, m)."""
    A = _off_the_ends(A)
    # the course's order of operations: 1/m times the sum
    return -(1.0 / A.shape[1]) * np.sum(Y * np.log(A) + (1.0 - Y) * np.log(1.0 - A))


def binary_cross_entropy_backward(A, Y):
    """dA = -(y/a - (1-y)/(1-a)), per example (-4.5e307 at most, _low_end)."""
    A = _off_the_ends(A)
    return -(Y / A - (1.0 - Y) / (1.0 - A))


def categorical_cross_entropy(A, Y):
    """J = -(1/m) Σ y log a.  A: softmax output (K, m), Y: one-hot (K, m)."""
    return -np.sum(Y * np.log(_low_end(A))) / A.shape[1]


def categorical_cross_entropy_backward(A, Y):
    """dA = -y / a, per example (-4.5e307 at most, _low_end)."""
    return -Y / _low_end(A)


def mse(A, Y):
    """J = (1/2m) Σ (a - y)²."""
    D = A - Y
    return (D * D).sum() / (2.0 * A.shape[1])


def mse_backward(A, Y):
    """dA = a - y, per example."""
    return A - Y


def bce_from_logits(A, Y, Z):
    """BCE of A = sigmoid(Z) without forming log(sigmoid): max(z,0) - z y + log(1 + e^-|z|)."""
    L = np.maximum(Z, 0.0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))
    return L.sum() / Z.shape[1]  # the method: np.sum's dispatch costs more than this sum


# log of the smallest normal float: below it a's digits thin out, and so do log a's
LOG_TINY = float(np.log(np.finfo(float).tiny))


def label_index(labels, m):
    """Flat index, in an (n_y, m) array's row-major order, of each column's entry in
    row labels[i]: the position of y's class among the outputs."""
    return labels * m + np.arange(m)


def one_hot_labels(Y):
    """The class of each column of Y (n_y, m): the row of its single 1.  None unless
    Y is one-hot with two rows or more (binary targets are one row of 0/1)."""
    if Y.shape[0] < 2:
        return None
    labels = Y.argmax(axis=0)
    picked = np.take(Y, label_index(labels, Y.shape[1]))
    one_hot = np.count_nonzero(Y) == Y.shape[1] and bool(np.all(picked == 1.0))
    return labels if one_hot else None


def cce_of_log_softmax(Y, Z):
    """CCE from the logits: -(1/m) Σ y log a with log a = z - max - log Σ e^(z - max),
    which stays exact for huge logits.  Y, Z: (K, m)."""
    S = Z - Z.max(axis=0, keepdims=True)
    log_A = S - np.log(np.sum(np.exp(S), axis=0, keepdims=True))
    return -np.sum(Y * log_A) / Z.shape[1]


def cce_from_logits(A, Y, Z):
    """CCE of A = softmax(Z): -(1/m) Σ y log a, from A (as the course does) while every
    a is a normal float; else from the logits (cce_of_log_softmax)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_A = np.log(A)
        cost = -(Y * log_A).sum() / Z.shape[1]
    if np.isfinite(cost) and log_A.min() > LOG_TINY:
        return cost
    return cce_of_log_softmax(Y, Z)


LOSSES = {
    "binary_cross_entropy": (binary_cross_entropy, binary_cross_entropy_backward),
    "categorical_cross_entropy": (categorical_cross_entropy, categorical_cross_entropy_backward),
    "mse": (mse, mse_backward),
}

# output activation + loss pairs whose dZ simplifies to A - Y, and whose cost
# falls back on the logits, so that it stays finite when a saturates
FUSED = {
    ("sigmoid", "binary_cross_entropy"): bce_from_logits,
    ("softmax", "categorical_cross_entropy"): cce_from_logits,
}


def compute_loss(loss, activation, A, Y, Z):
    """Mean loss J of the output layer (no L2 term).  A, Y, Z: (n_y, m).

    Sigmoid + BCE and softmax + CCE take their cost from the logits Z, so that it
    stays finite and exact when a saturates at 0 or 1.
    """
    from_logits = FUSED.get((activation, loss))
    if from_logits is not None:
        return float(from_logits(A, Y, Z))
    return float(LOSSES[loss][0](A, Y))


def loss_backward(loss, A, Y):
    """dA[L] = m · ∂J/∂A[L], per example.  A, Y: (n_y, m)."""
    return LOSSES[loss][1](A, Y)
