"""Gradient check at one step: centred differences against the analytic gradients.

The course's measure, per layer: ‖g − g_num‖ / (‖g‖ + ‖g_num‖), with
g_num = (J(θ+ε) − J(θ−ε)) / 2ε. Four things keep it honest and fast:
- Perturbing W[l]ᵢⱼ only moves row i of Z[l] (by ±ε A[l-1]ⱼ), so each cost
  evaluation recomputes layers l..L from the cached A[l-1]; big layers are
  sampled within a compute budget, and the answer says how many were checked.
- A perturbation that flips a ReLU on or off crosses a kink, where the centred
  difference measures neither one-sided slope (cs231n's "kinks"): such entries
  are skipped and counted. A layer whose every entry was skipped compared nothing: its
  relative difference is None, not a 0 that would claim agreement.
- Each difference quotient carries the rounding noise of the two costs, over ε. A cost
  rounds in every layer it recomputes (from l up), not only in its last sum: about u times
  |J| plus each rounded number times how much J moves with it (the step's own dZ and dA:
  _cost_rounding). A cost near 0 whose outputs sit near 1 (a converged softmax, J = 7e-5)
  rounds fifteen thousand times more than u·|J|. Where the gradients are small against
  that noise (zero init, or a run that has converged), the relative difference is mostly
  noise; a disagreement ‖g − g_num‖ within the noise floor is no sign of a bug, and passes.
- A relative difference that is not finite says why (`non_finite`): backprop's gradient
  is not finite, or it is but J(θ±ε) overflows (a diverged cost), so that there is no
  numerical gradient to compare it with.
The analytic side is the step's recorded gradients: a run with a bug (engine.mistakes)
records the mistaken ones, while the differences take the true cost (with the step's own
dropout masks), so the check fails where the mistake changes dW or db.
"""

from typing import NamedTuple

import numpy as np

from engine import work_estimate
from engine.activations import activation_forward
from engine.losses import compute_loss
from engine.model import l2_cost
from engine.parameter_stats import vector_norm

EPSILON = 1e-7
THRESHOLD = 2e-7  # the course: above 2e-7, "there is a mistake in backward propagation"
GRADCHECK_STREAM = 4
# cost evaluations of one check take about this long ("within a second or two")
CHECK_SECONDS = 0.75
BUDGET = work_estimate.multiply_adds_in(CHECK_SECONDS)  # multiply-adds
MIN_PER_LAYER = 4
KINKED = ("relu", "leaky_relu")
# rounding error of a computed number, relative, generously: a few ulps
COST_ROUNDING = 1e-15


def _cost_from(result, cfg, l, Z_l):
    """J with layer l's pre-activation replaced by Z_l, and the on/off pattern of the
    ReLU units from layer l up (to spot a perturbation that crossed a kink)."""
    forward = result.forward
    acts, keep_prob, params = cfg["activations"], cfg["keep_prob"], forward.params
    L, A, pattern = len(acts), None, []
    for k in range(l, L + 1):
        if k > l:
            Z_l = params[f"W{k}"] @ A + params[f"b{k}"]
        if acts[k - 1] in KINKED:
            pattern.append(Z_l > 0)
        A = activation_forward(acts[k - 1], Z_l)[0]
        D = forward.masks[k - 1]
        if D is not None:
            A = A * D / keep_prob
    m = forward.X.shape[1]
    J = compute_loss(cfg["loss"], acts[-1], A, forward.Y, Z_l) + l2_cost(params, L, cfg["l2"], m)
    return J, pattern


def _numerical(result, cfg, l, name, i, j):
    """(g_num, crossed_kink, costs_finite) for parameter name[l][i, j], name "W" or "b"."""
    (A_prev, W, _), Z = result.forward.caches[l - 1]
    m, l2 = result.forward.X.shape[1], cfg["l2"]
    # ∂Z[l]ᵢ/∂W[l]ᵢⱼ = A[l-1]ⱼ and ∂Z[l]ᵢ/∂b[l]ᵢ = 1
    direction = A_prev[j] if name == "W" else 1.0
    costs, patterns = [], []
    for sign in (1.0, -1.0):
        Z_new = Z.copy()
        Z_new[i] = Z[i] + sign * EPSILON * direction
        J, pattern = _cost_from(result, cfg, l, Z_new)
        if name == "W" and l2:
            # l2_cost used the unperturbed W; add the change of (λ/2m) w²
            w = W[i, j]
            J += l2 / (2 * m) * ((w + sign * EPSILON) ** 2 - w * w)
        costs.append(J)
        patterns.append(pattern)
    crossed = any(not np.array_equal(p, q) for p, q in zip(*patterns, strict=True))
    return (costs[0] - costs[1]) / (2 * EPSILON), crossed, bool(np.isfinite(costs).all())


def _sample(rng, shape, k):
    """Up to k distinct (i, j) positions of a matrix of this shape, or all of them."""
    total = shape[0] * shape[1]
    flat = np.arange(total) if total <= k else np.sort(rng.choice(total, k, replace=False))
    return [divmod(int(f), shape[1]) for f in flat]


def _per_layer_budget(dims, m, max_params):
    """Parameters to check in each layer: what BUDGET's multiply-adds pay for, on a batch
    of m examples.  dims: [n_x, n_1, ..., n_L]."""
    L = len(dims) - 1
    budgets = []
    for l in range(1, L + 1):
        evaluation = work_estimate.perturbed_cost_multiply_adds(dims, m, l)
        affordable = int(BUDGET / L / (2 * max(evaluation, 1)))
        budgets.append(max(MIN_PER_LAYER, min(max_params // L, affordable)))
    return budgets


def _relative_difference(g, g_num):
    """‖g − g_num‖ / (‖g‖ + ‖g_num‖); NaN when not finite, None when nothing was compared."""
    if not g.size:
        return None
    denom = vector_norm(g) + vector_norm(g_num)
    if not np.isfinite(denom):
        return float("nan")
    return float(vector_norm(g - g_num) / denom) if denom > 0 else 0.0


def _non_finite(g, g_num, costs_finite):
    """Why the relative difference is not finite, or None: "analytic" (backprop's g),
    "cost" (g is finite but J(θ±ε) is not: no numerical gradient), "numerical" (finite
    costs whose quotient overflows) or "norm" (finite entries whose norms, or the norm of
    their difference, overflow)."""
    if not np.isfinite(g).all():
        return "analytic"
    if not costs_finite:
        return "cost"
    if not np.isfinite(g_num).all():
        return "numerical"
    norms = vector_norm(g) + vector_norm(g_num) + vector_norm(g - g_num)
    return None if np.isfinite(norms) else "norm"


class LayerCheck(NamedTuple):
    entry: dict  # the layer's entry of the answer
    g: np.ndarray  # backprop's gradient at the entries compared
    g_num: np.ndarray  # the centred differences there
    costs_finite: bool  # every J(θ±ε) the layer took was finite
    noise: float  # the noise floor of its differences


def _layer_check(result, cfg, l, budget, rng, rounding) -> LayerCheck:
    """The check of layer l's sampled W and b entries; rounding: how much its costs round
    (_cost_rounding's R_l)."""
    W, b = result.forward.params[f"W{l}"], result.forward.params[f"b{l}"]
    n_b = min(b.size, max(1, budget // 4))
    analytic, numeric, kinks, checked, costs_finite = [], [], 0, 0, True
    for name, shape, k in (("W", W.shape, max(1, budget - n_b)), ("b", b.shape, n_b)):
        grad = result.backward.grads[f"d{name}{l}"]
        for i, j in _sample(rng, shape, k):
            checked += 1
            g_num, crossed, finite_costs = _numerical(result, cfg, l, name, i, j)
            if crossed:
                kinks += 1
                continue
            costs_finite &= finite_costs
            analytic.append(grad[i, j])
            numeric.append(g_num)
    g, g_num = np.array(analytic), np.array(numeric)
    noise = _noise_floor(rounding, g.size) if g.size else 0.0  # nothing compared: no noise
    entry = {"l": l, "relative_difference": _relative_difference(g, g_num),
             "checked": checked, "total": W.size + b.size, "skipped_at_kinks": kinks,
             "analytic_norm": float(vector_norm(g)),
             "non_finite": _non_finite(g, g_num, costs_finite),
             "within_noise": _within_noise(g, g_num, noise)}
    return LayerCheck(entry, g, g_num, costs_finite, noise)


def _cost_rounding(result, cfg):
    """[R_1, ..., R_L]: about how far J's rounding moves it when layers l..L are computed
    again (a check of layer l's entries), over COST_ROUNDING: |J|, plus each number that
    layer k ≥ l rounds, times |∂J/∂it|. Z[k] = W A + b rounds by about |W||A| + |b| (at l,
    only the ± ε of its Z: |Z[l]|), A[k] = g(Z[k]) by |A[k]|; ∂J/∂Z[k] = dZ[k]/m and
    ∂J/∂A[k] = dA[k]/m: the step's correct ones (a bug's are not J's); where training left
    dA[L] out, the loss from the logits (_fused_loss_rounding). Not finite where the step's
    numbers overflow."""
    forward = result.forward
    grads = result.backward.true_grads or result.backward.grads
    L, m = len(forward.caches), forward.X.shape[1]
    rerun, own = np.zeros(L + 1), np.zeros(L + 1)  # layer k's terms when l < k, when l = k
    with np.errstate(all="ignore"):
        for k in range(1, L + 1):
            (A_prev, W, b), Z = forward.caches[k - 1]
            dZ, dA = np.abs(grads[f"dZ{k}"]), grads.get(f"dA{k}")
            if k == L and dA is None:  # a loss from the logits (losses.FUSED)
                activation = _fused_loss_rounding(cfg["activations"][-1], Z, forward.Y)
            else:
                activation = np.sum(np.abs(dA) * np.abs(forward.A(k)))
            rerun[k] = (np.sum(dZ * (np.abs(W) @ np.abs(A_prev) + np.abs(b))) + activation) / m
            own[k] = (np.sum(dZ * np.abs(Z)) + activation) / m
        later = np.cumsum(rerun[::-1])[::-1]  # later[k]: Σ rerun[k..L]
        J = abs(forward.cost)
        return [float(J + own[l] + (later[l + 1] if l < L else 0.0)) for l in range(1, L + 1)]


def _fused_loss_rounding(activation, Z, Y):
    """m times what a loss from the logits rounds, over COST_ROUNDING: BCE's max(z, 0) −
    z y + log(1 + e^−|z|) takes terms of |z|; softmax's CCE, −log a_y with a_y rounded
    by about u·a_y (1 for each example: y_k/a_k · a_k)."""
    if activation == "sigmoid":
        return np.sum(np.abs(Z) * (1.0 + np.abs(Y)))
    return np.sum(np.abs(Y))


def _noise_floor(rounding, n):
    """The rounding noise of n difference quotients of costs that round by about
    COST_ROUNDING·rounding: ‖noise‖ ≈ COST_ROUNDING·rounding/ε · √n."""
    return COST_ROUNDING * rounding / EPSILON * np.sqrt(max(n, 1))


def _within_noise(g, g_num, noise):
    """Whether ‖g − g_num‖ is within the rounding noise of the differences: they cannot
    tell such a disagreement from none (False where not finite)."""
    return bool(vector_norm(g - g_num) <= noise)


def _verdict(g, g_num, costs_finite, noise):
    """The overall relative difference, why it is not finite, and passed; noise: the
    noise floor of all the differences (the layers' floors, added as independent)."""
    diff, why = _relative_difference(g, g_num), _non_finite(g, g_num, costs_finite)
    # the differences cannot tell a disagreement below their rounding noise from none
    # (db[L] of 3e-5 after 50 steps of a zero init disagrees by 3e-10, a relative 5e-6;
    # a converged spiral at batch 1, J = 7e-5, by 2e-9); a classic mistake moves g by a
    # share of itself, far above the floor. Nothing compared (every entry at a kink) is
    # no evidence either way
    within_noise = _within_noise(g, g_num, noise)
    passed = diff is not None and why is None and (diff < THRESHOLD or within_noise)
    return {"relative_difference": diff, "non_finite": why, "noise_floor": float(noise),
            "passed": passed}


def gradient_check(run, t, max_params=2000):
    """The gradient check of step t of a run, as docs/api.md gives it."""
    result = run.replay(t)
    cfg = run.config
    rng = np.random.default_rng([cfg["seed"], GRADCHECK_STREAM, t])
    with np.errstate(all="ignore"):
        budgets = _per_layer_budget(run.dims, result.forward.X.shape[1], max_params)
        roundings = _cost_rounding(result, cfg)
        checks = [_layer_check(result, cfg, l, budget, rng, rounding)
                  for l, (budget, rounding) in enumerate(zip(budgets, roundings, strict=True),
                                                         start=1)]
        layers = [check.entry for check in checks]
        noise = vector_norm(np.array([check.noise for check in checks]))
        verdict = _verdict(np.concatenate([check.g for check in checks]),
                           np.concatenate([check.g_num for check in checks]),
                           all(check.costs_finite for check in checks), noise)
    return {"step": t, "epsilon": EPSILON, "threshold": THRESHOLD, "layers": layers,
            **verdict, "sampled": any(e["checked"] < e["total"] for e in layers),
            "skipped_at_kinks": sum(e["skipped_at_kinks"] for e in layers)}
