"""All parameters of a network in one flat vector θ (and gradients in one dθ).

One vector lets the optimizer update every parameter in one NumPy call, and
the statistics take every tensor's norm in a couple of calls. Each W[l], b[l]
handed out is a C-contiguous view into the vector.
"""

import numpy as np


def _segments(sizes):
    """Start offsets of consecutive segments of these sizes, and the total."""
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
    return starts, int(np.sum(sizes))


class ParamLayout:
    """θ = [W1, b1, W2, b2, ..., WL, bL] flattened, for layer_dims [n_x, n_1, ..., n_L]."""

    def __init__(self, dims):
        self.dims = list(dims)
        self.L = len(dims) - 1
        self.shapes = []
        for l in range(1, self.L + 1):
            self.shapes += [(f"W{l}", (dims[l], dims[l - 1])), (f"b{l}", (dims[l], 1))]
        self.starts, self.size = _segments([r * c for _, (r, c) in self.shapes])
        # each tensor's slice of θ, ready for views(), which runs twice a training step
        self.cuts = [slice(int(s), int(s) + r * c)
                     for (_, (r, c)), s in zip(self.shapes, self.starts, strict=True)]

    def views(self, theta):
        """{"W1": (n_1, n_x) view, "b1": (n_1, 1) view, ...} into θ."""
        return {name: theta[cut].reshape(shape)
                for (name, shape), cut in zip(self.shapes, self.cuts, strict=True)}

    def stacked_views(self, thetas):
        """{"W1": (T, n_1, n_x) view, "b1": (T, n_1, 1) view, ...} into T vectors θ: (T, P)."""
        return {name: thetas[:, cut].reshape(-1, *shape)
                for (name, shape), cut in zip(self.shapes, self.cuts, strict=True)}

    def flatten(self, params):
        """θ from a parameter dict."""
        return np.concatenate([params[name].ravel() for name, _ in self.shapes])

