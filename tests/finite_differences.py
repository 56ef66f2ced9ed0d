"""Centred finite differences and a relative error, shared by the gradient tests.

Tolerances used with these (float64 throughout): a centred difference with
eps = 1e-6 has truncation error ~eps² |f'''| ~ 1e-12 and rounding error
~u |J| / eps ~ 1e-16 / 1e-6 = 1e-10, against gradients of size 1e-2..1; so a
correct gradient agrees to ~1e-8 and a wrong one (a missing factor, a transposed
term, a lost 1/m) is off by more than 1e-2. Tests assert 1e-7..1e-6.
"""

import numpy as np

EPS = 1e-6


def rel_error(x, y):
    """‖x − y‖ / (‖x‖ + ‖y‖), the course's gradient-check measure (0 when both are 0).

    cs231n divides elementwise; a whole-tensor norm keeps entries whose true value
    is ~1e-9 from amplifying the 1e-10 rounding noise of the difference quotient.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    assert x.shape == y.shape, (x.shape, y.shape)
    denom = np.linalg.norm(x) + np.linalg.norm(y)
    return 0.0 if denom == 0 else float(np.linalg.norm(x - y) / denom)


def rounding_noise(J, eps=EPS):
    """Bound on one centred difference's rounding error: ~10 ulps of |J| over 2 eps.

    J is a sum of a few dozen terms, so it carries a few ulps of error; a gradient
    entry smaller than this cannot be checked by finite differences at all.
    """
    return 10 * np.finfo(np.float64).eps * max(1.0, abs(float(J))) / (2 * eps)


def numerical_gradient(f, X, eps=EPS):
    """∂f/∂X by centred differences; f() reads X, which is perturbed in place and restored."""
    grad = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        old = X[idx]
        X[idx] = old + eps
        plus = f()
        X[idx] = old - eps
        minus = f()
        X[idx] = old
        grad[idx] = (plus - minus) / (2.0 * eps)
    return grad
