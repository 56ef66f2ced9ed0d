"""engine.parameter_stats: the norms of W, dW, db and the update, and the EXTREMES (max |·|
of W, b, dW, db and the units' spread), against NumPy on the step records."""

import math
import warnings

import numpy as np
import pytest
from test_stats import CONFIGS

from engine import parameter_stats, stats
from engine.config import normalize_config
from engine.layout import ParamLayout
from engine.parameter_stats import EXACT_UPDATE_RATIO, StepVectors
from engine.run import Run


def expected_extremes(layer):
    """The statistics of one step record's layer, recomputed plainly."""
    W, b = layer["linear_cache"]["W"], layer["linear_cache"]["b"]
    dW, db = layer["grads"]["dW"], layer["grads"]["db"]
    return {"W_max_abs": np.abs(W).max(), "b_max_abs": np.abs(b).max(),
            "dW_max_abs": np.abs(dW).max(), "db_max_abs": np.abs(db).max(),
            "W_row_spread": max(np.linalg.norm(W[i] - W[0]) for i in range(W.shape[0])),
            "b_spread": b.max() - b.min()}


@pytest.fixture(scope="module", params=list(CONFIGS))
def trained(request):
    return request.param, Run(normalize_config(CONFIGS[request.param])).train()


def measured(stat, big, expected):
    """Whether the engine measures this statistic: not the weights' spread where the
    biases differ, nor a big θ's weight maxima (engine.parameter_stats)."""
    if stat == "W_row_spread":
        return expected["b_spread"] <= parameter_stats.SAME_BIAS * expected["b_max_abs"]
    return not big or stat in ("b_max_abs", "db_max_abs", "b_spread")


def test_extremes_match_the_step_records(trained):
    name, run = trained
    big = run.layout.size > stats.FEW_PARAMETERS
    assert big == (name == "big")
    summary = run.summary()
    for t in range(run.num_steps):
        for entry, layer in zip(summary["layers"], run.step_record(t)["layers"], strict=True):
            expected = expected_extremes(layer)
            for stat, value in expected.items():
                if not measured(stat, big, expected):
                    assert math.isnan(entry[stat][t]), (t, stat)
                    continue
                assert math.isfinite(entry[stat][t]), (t, stat)
                # max |·| is exact; a spread sums squares in another order
                rel = 0.0 if stat.endswith("max_abs") else 1e-12
                assert entry[stat][t] == pytest.approx(value, rel=rel, abs=0.0), (t, stat)


@pytest.mark.parametrize(("optimizer", "big"), [("gd", False), ("adam", False), ("gd", True)])
def test_norms_of_a_chunk_are_each_steps_own(optimizer, big):
    """fill_parameters on T steps: ‖W‖, ‖dW‖, ‖db‖ and ‖ΔW‖ per layer and step (from the
    optimizer's step, or α·‖dθ‖ for gradient descent), and ‖ΔW‖/‖W‖, in the NORMS columns."""
    dims = [300, 128, 128, 128, 128, 10] if big else [3, 4, 2]
    layout, rng, T = ParamLayout(dims), np.random.default_rng(4), 3
    assert (layout.size > stats.FEW_PARAMETERS) == big
    alpha = 0.1
    thetas, grads = rng.standard_normal((T, layout.size)), rng.standard_normal((T, layout.size))
    steps = alpha * grads if optimizer == "gd" else rng.standard_normal((T, layout.size))
    rows = np.full((T, layout.L, len(stats.LAYER_STATS)), np.nan)
    vectors = StepVectors(thetas, grads, None if optimizer == "gd" else steps, thetas - steps)
    parameter_stats.fill_parameters(rows, vectors, layout, alpha if optimizer == "gd" else None)
    for t in range(T):
        views = [layout.views(v[t]) for v in (thetas, grads, steps)]
        for l in range(1, layout.L + 1):
            W, dW, step = (v[f"W{l}"] for v in views)
            expected = {"W_norm": np.linalg.norm(W), "dW_norm": np.linalg.norm(dW),
                        "db_norm": np.linalg.norm(views[1][f"b{l}"]),
                        "update_norm": np.linalg.norm(step)}
            expected["update_ratio"] = expected["update_norm"] / expected["W_norm"]
            for name, value in expected.items():
                assert rows[t, l - 1, stats.INDEX[name]] == pytest.approx(value, rel=1e-12), \
                    (t, l, name)


@pytest.mark.parametrize(("optimizer", "big"), [("gd", False), ("adam", False), ("gd", True)])
def test_norms_of_huge_finite_tensors_do_not_overflow(optimizer, big):
    """A run on its way to diverging holds finite entries beyond 1.3e154, whose squares
    overflow: Σx² is inf there, and the norm was served as null (an audit: ‖dW[1]‖ at the
    divergence lesson's step 5, 7.95e169). The norm is then scaled by max |x|; a tensor
    that holds an inf has norm inf, and one that holds a NaN, NaN."""
    dims = [300, 128, 128, 128, 128, 10] if big else [3, 4, 2]
    layout, rng, T, alpha = ParamLayout(dims), np.random.default_rng(5), 3, 0.5
    thetas = rng.standard_normal((T, layout.size)) * 1e200
    grads = rng.standard_normal((T, layout.size)) * 1e170
    steps = alpha * grads if optimizer == "gd" else rng.standard_normal((T, layout.size)) * 1e199
    b1 = layout.cuts[1]
    grads[1, b1.start], grads[2, b1.start] = np.inf, np.nan
    rows = np.full((T, layout.L, len(stats.LAYER_STATS)), np.nan)
    vectors = StepVectors(thetas, grads, None if optimizer == "gd" else steps, thetas - steps)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore", invalid="ignore"):  # as training calls it
            parameter_stats.fill_parameters(rows, vectors, layout,
                                            alpha if optimizer == "gd" else None)
    for t in range(T):
        views = [layout.views(v[t]) for v in (thetas, grads, steps)]
        for l in range(1, layout.L + 1):
            expected = {"W_norm": views[0][f"W{l}"], "dW_norm": views[1][f"W{l}"],
                        "db_norm": views[1][f"b{l}"]}
            if optimizer != "gd":
                expected["update_norm"] = views[2][f"W{l}"]
            for name, x in expected.items():
                value = rows[t, l - 1, stats.INDEX[name]]
                if l == 1 and name == "db_norm" and t > 0:
                    assert (np.isinf(value), np.isnan(value)) == (t == 1, t == 2), (t, value)
                    continue
                exact = math.hypot(*x.ravel())  # Python's hypot scales: no overflow
                assert math.isfinite(exact)
                assert value == pytest.approx(exact, rel=1e-13), (t, l, name)


@pytest.mark.parametrize("big", [False, True])
def test_norms_of_vanished_tensors_do_not_underflow(big):
    """Entries below about 1e-154 have squares below the normal floats: ‖dW‖ of a bug run's
    vanished gradient (max |dW| 5.5e-246) was served as 0, and the gradient check called
    it agreement. The norm is then scaled by max |x|; a tensor of zeros keeps 0."""
    dims = [300, 128, 128, 128, 128, 10] if big else [3, 4, 2]
    layout, rng, T, alpha = ParamLayout(dims), np.random.default_rng(6), 2, 0.5
    thetas = rng.standard_normal((T, layout.size))
    grads = rng.standard_normal((T, layout.size)) * 1e-246
    grads[1, layout.cuts[1]] = 0.0  # b1 of the second step: zeros
    rows = np.full((T, layout.L, len(stats.LAYER_STATS)), np.nan)
    vectors = StepVectors(thetas, grads, None, thetas - alpha * grads)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            parameter_stats.fill_parameters(rows, vectors, layout, alpha)
    for t in range(T):
        views = layout.views(grads[t])
        for l in range(1, layout.L + 1):
            for name, x in (("dW_norm", views[f"W{l}"]), ("db_norm", views[f"b{l}"])):
                exact = math.hypot(*x.ravel())  # Python's hypot scales: no underflow
                assert rows[t, l - 1, stats.INDEX[name]] == pytest.approx(exact, rel=1e-13)
    assert rows[1, 0, stats.INDEX["db_norm"]] == 0.0
    assert parameter_stats.vector_norm(np.array([3e-200, 4e-200])) == pytest.approx(5e-200)


@pytest.mark.parametrize("learning_rate", [1e-10, 1e-7, 0.5])
def test_update_norm_is_the_applied_update(learning_rate):
    """‖ΔW‖ against θ_{t+1} − θ_t: measured on that difference when the update is
    tiny beside W (the optimizer's step would be off by ~u/ratio: an audit found 2.8e-9 at
    a ratio of 1e-9), else on the step, which then agrees to about 2e-10."""
    run = Run(normalize_config({"dataset": "moons", "hidden_layers": [5], "steps": 3,
                                "init": "he", "learning_rate": learning_rate})).train()
    summary = run.summary()
    for t in range(run.num_steps):
        for layer, entry in zip(run.step_record(t)["layers"], summary["layers"], strict=True):
            difference = np.linalg.norm(layer["update"]["W"])
            ratio = difference / np.linalg.norm(layer["linear_cache"]["W"])
            assert (ratio < EXACT_UPDATE_RATIO) == (learning_rate < 1e-6)
            rel = 1e-12 if ratio < EXACT_UPDATE_RATIO else max(1e-12, 2.3e-16 / ratio)
            assert rel <= 2.3e-10
            assert entry["update_norm"][t] == pytest.approx(difference, rel=rel, abs=0), (t, ratio)


def test_a_big_zero_init_measures_its_weights_spread():
    """Equal biases: the units may be the same, so a big θ measures the weights' spread."""
    run = Run(normalize_config({**CONFIGS["big"], "init": "zeros", "steps": 2})).train()
    assert run.layout.size > stats.FEW_PARAMETERS
    for entry in run.summary()["layers"][:-1]:
        assert entry["W_row_spread"] == [0.0, 0.0] and entry["b_spread"] == [0.0, 0.0]
        assert all(math.isnan(v) for v in entry["W_max_abs"])


@pytest.mark.parametrize("name", ["zeros", "sigmoid_zeros"])
def test_a_constant_init_keeps_every_hidden_unit_the_same(name):
    """The symmetry problem: no spread in any hidden layer at any step, beyond the last
    bits that BLAS may round differently in one row of a product than in another."""
    run = Run(normalize_config(CONFIGS[name])).train()
    for entry in run.summary()["layers"][:-1]:
        for t in range(run.num_steps):
            assert entry["W_row_spread"][t] <= 1e-12 * entry["W_max_abs"][t], t
            assert entry["b_spread"][t] <= parameter_stats.SAME_BIAS * entry["b_max_abs"][t], t
    # the output layer's one unit has no other unit to differ from
    assert run.summary()["layers"][-1]["W_row_spread"] == [0.0] * run.num_steps


def test_a_random_init_spreads_the_units():
    run = Run(normalize_config(CONFIGS["relu"])).train()
    for entry in run.summary()["layers"][:-1]:
        # b starts at 0: the weights tell the units apart; then the biases do
        assert entry["b_spread"][0] == 0.0 and entry["W_row_spread"][0] > 0
        assert min(entry["b_spread"][1:]) > 0
        assert all(math.isnan(v) for v in entry["W_row_spread"][1:])


def test_a_diverged_step_has_no_finite_extremes_and_no_warning():
    raw = {"dataset": "sine", "hidden_layers": [16, 16], "learning_rate": 5, "steps": 50}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may leak from numpy
        run = Run(normalize_config(raw)).train()
        summary = run.summary()
        histograms = run.histograms(steps=[run.num_steps - 1])
    step = run.diverged["step"]
    assert step == run.num_steps - 1
    last = summary["layers"][-1]
    assert not all(math.isfinite(last[stat][step]) for stat in stats.EXTREMES)
    assert all(math.isfinite(last[stat][step - 1]) for stat in stats.EXTREMES)
    # a non-finite statistic of these does not make a step count as diverged by itself
    assert not set(stats.EXTREMES) & {stats.LAYER_STATS[k] for k in stats.MUST_BE_FINITE}
    for entry in histograms["layers"]:
        assert all(len(r) == 2 for r in entry["Z_range"])
