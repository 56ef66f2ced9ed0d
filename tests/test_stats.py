"""engine.stats: the parameter statistics of the summary (max |·| of W, b, dW, db and the
units' spread) and the histograms' exact ranges, against NumPy on the step records."""

import math
import warnings

import numpy as np
import pytest

from engine import stats
from engine.config import normalize_config
from engine.run import Run

# (config, what it covers); each trains a few steps
CONFIGS = {
    "relu": {"dataset": "moons", "hidden_layers": [8, 8], "steps": 6, "init": "he"},
    "zeros": {"dataset": "moons", "hidden_layers": [8, 8], "steps": 6, "init": "zeros",
              "learning_rate": 0.5},
    "sigmoid_zeros": {"dataset": "moons", "hidden_layers": [5], "steps": 6, "init": "zeros",
                      "activations": ["sigmoid", "sigmoid"], "learning_rate": 1.0},
    "dropout_adam": {"dataset": "circles", "hidden_layers": [6, 4], "steps": 6,
                     "keep_prob": 0.8, "optimizer": "adam", "learning_rate": 0.01},
    # more than FEW_PARAMETERS: the step-by-step path, without stacked copies
    "big": {"dataset": "digits", "hidden_layers": [128] * 5, "steps": 3, "init": "he"},
    # mini-batches, the last one of an epoch short (a step summarized alone); softmax
    "mini_batch": {"dataset": "spiral", "n_samples": 150, "hidden_layers": [6, 5],
                   "batch_size": 32, "steps": 6, "activations": ["tanh", "sigmoid", "softmax"]},
    # mse on a linear output: dA[L] = A - Y is the one training computes
    "regression": {"dataset": "sine", "hidden_layers": [6], "steps": 6, "keep_prob": 0.7},
}


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
    biases differ, nor a big θ's weight maxima (engine.stats)."""
    if stat == "W_row_spread":
        return expected["b_spread"] <= stats.SAME_BIAS * expected["b_max_abs"]
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


def test_served_ranges_match_the_step_records(trained):
    """max |·| of each step's X, and of each layer's dZ and dA (the output layer's dA too,
    which training itself leaves out where dZ = A - Y), exactly."""
    _, run = trained
    summary = run.summary()
    assert len(summary["X_max_abs"]) == run.num_steps
    for t in range(run.num_steps):
        record = run.step_record(t)
        assert summary["X_max_abs"][t] == np.abs(record["batch"]["X"]).max(), t
        for entry, layer in zip(summary["layers"], record["layers"], strict=True):
            for name in stats.GRADIENT_EXTREMES:
                tensor = layer["grads"][name.removesuffix("_max_abs")]
                assert entry[name][t] == np.abs(tensor).max(), (t, layer["l"], name)


def test_a_non_finite_gradient_has_no_range():
    """The diverged step's dZ and dA: NaN where one holds a NaN, inf where one holds an inf
    (null in JSON either way), as np.abs(·).max() says; the steps before are finite."""
    raw = {"dataset": "sine", "learning_rate": 10, "steps": 50, "hidden_layers": [32] * 3,
           "init": "uniform"}
    run = Run(normalize_config(raw)).train()
    step, summary = run.diverged["step"], run.summary()
    layers = run.step_record(step)["layers"]
    for entry, layer in zip(summary["layers"], layers, strict=True):
        for name in stats.GRADIENT_EXTREMES:
            expected = np.abs(layer["grads"][name.removesuffix("_max_abs")]).max()
            value = entry[name][step]
            assert value == expected or (math.isnan(expected) and math.isnan(value)), \
                (layer["l"], name)
            assert all(math.isfinite(v) for v in entry[name][:step])
    # a NaN beside an inf: a pass that skips NaN would say inf
    dZ = layers[2]["grads"]["dZ"]
    assert np.isnan(dZ).any() and np.isinf(dZ).any()


@pytest.mark.parametrize(("values", "exact", "expected"), [
    ([[1.0, -3.0], [2.0, 0.5]], False, 3.0), ([[1.0, -3.0], [2.0, 0.5]], True, 3.0),
    ([[-0.0, 0.0]], True, 0.0), ([[1.0, -np.inf]], False, np.inf),
    ([[1.0, np.nan], [np.inf, 0.0]], True, np.nan),
])
def test_gradient_extremes_of_one_step(values, exact, expected):
    row = np.full((1, len(stats.LAYER_STATS)), np.nan)
    X = np.array(values)
    stats.fill_gradient_extremes(row, [X], [2 * X], exact)
    np.testing.assert_equal(row[0, [stats.INDEX["dZ_max_abs"], stats.INDEX["dA_max_abs"]]],
                            [expected, 2 * expected])


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
            assert entry["b_spread"][t] <= stats.SAME_BIAS * entry["b_max_abs"][t], t
    # the output layer's one unit has no other unit to differ from
    assert run.summary()["layers"][-1]["W_row_spread"] == [0.0] * run.num_steps


def test_a_random_init_spreads_the_units():
    run = Run(normalize_config(CONFIGS["relu"])).train()
    for entry in run.summary()["layers"][:-1]:
        # b starts at 0: the weights tell the units apart; then the biases do
        assert entry["b_spread"][0] == 0.0 and entry["W_row_spread"][0] > 0
        assert min(entry["b_spread"][1:]) > 0
        assert all(math.isnan(v) for v in entry["W_row_spread"][1:])


def test_histogram_ranges_are_each_tensors_finite_extremes():
    run = Run(normalize_config({**CONFIGS["dropout_adam"], "steps": 12})).train()
    h = run.histograms(snapshots=4)
    for entry in h["layers"]:
        for k, t in enumerate(h["steps"]):
            layer = run.step_record(t)["layers"][entry["l"] - 1]
            tensors = {"Z": layer["activation_cache"]["Z"], "A": layer["A"],
                       "dZ": layer["grads"]["dZ"], "dW": layer["grads"]["dW"]}
            for name, tensor in tensors.items():
                assert entry[f"{name}_range"][k] == [tensor.min(), tensor.max()], (t, name)


def test_an_all_zero_tensor_has_the_range_zero():
    run = Run(normalize_config(CONFIGS["zeros"])).train()
    first = run.histograms(snapshots=3)["layers"][0]
    assert all(r == [0.0, 0.0] for name in stats.HISTOGRAM_TENSORS for r in first[f"{name}_range"])


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
