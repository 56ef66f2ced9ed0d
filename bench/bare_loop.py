"""The baseline: a bare, course-style NumPy training loop, with nothing recorded.

Same maths as the engine (ReLU/tanh hidden layers, sigmoid+BCE or softmax+CCE
output, plain gradient descent) and, like the engine, no dA[0]. Mini-batches as the
course's loop takes them: each epoch a new shuffle, cut into batches (the last one holds
the remainder).
"""

import itertools

import numpy as np

HIDDEN = {
    "relu": (lambda Z: np.maximum(Z, 0), lambda dA, Z: dA * (Z > 0)),
    "tanh": (np.tanh, lambda dA, Z: dA * (1 - np.tanh(Z) ** 2)),
}


def forward(X, params, hidden, output):
    caches, A = [], X
    for l, (W, b) in enumerate(params, start=1):
        Z = W @ A + b
        caches.append((A, W, b, Z))
        if l < len(params):
            A = HIDDEN[hidden][0](Z)
        elif output == "sigmoid":
            A = 1 / (1 + np.exp(-Z))
        else:
            E = np.exp(Z - Z.max(axis=0, keepdims=True))
            A = E / E.sum(axis=0, keepdims=True)
    return A, caches


def cost(AL, Y, output):
    m = Y.shape[1]
    if output == "sigmoid":
        return -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
    return -np.sum(Y * np.log(AL)) / m


def backward(AL, Y, caches, hidden):
    m, dZ, grads = Y.shape[1], AL - Y, []
    for l in range(len(caches) - 1, -1, -1):
        A_prev, W, _, _ = caches[l]
        grads.append((dZ @ A_prev.T / m, np.sum(dZ, axis=1, keepdims=True) / m))
        if l > 0:
            dZ = HIDDEN[hidden][1](W.T @ dZ, caches[l - 1][3])
    return grads[::-1]


def mini_batches(X, Y, batch_size, seed=0):
    """Endless (X_batch, Y_batch) pairs as the course's random_mini_batches cuts them:
    every epoch X and Y shuffled by columns, then consecutive column slices."""
    rng, m = np.random.default_rng(seed), X.shape[1]
    while True:
        order = rng.permutation(m)
        X_shuffled, Y_shuffled = X[:, order], Y[:, order]
        for k in range(0, m, batch_size):
            yield X_shuffled[:, k:k + batch_size], Y_shuffled[:, k:k + batch_size]


def train(params, X, Y, steps, learning_rate, hidden="relu", output="sigmoid"):
    """Plain gradient descent on the whole set; returns the final parameters and cost."""
    return train_batches(params, itertools.repeat((X, Y)), steps, learning_rate, hidden,
                         output)


def train_batches(params, batches, steps, learning_rate, hidden="relu", output="sigmoid"):
    """Plain gradient descent, one step per (X, Y) of batches; the final parameters and
    cost."""
    J = None
    for X, Y in itertools.islice(batches, steps):
        AL, caches = forward(X, params, hidden, output)
        J = cost(AL, Y, output)
        grads = backward(AL, Y, caches, hidden)
        params = [(W - learning_rate * dW, b - learning_rate * db)
                  for (W, b), (dW, db) in zip(params, grads, strict=True)]
    return params, J
