"""engine.stats: the table of per-layer statistics, Z's and A's moments over a chunk of
steps (TensorReductions), and the served ranges of dZ, dA and X, against NumPy on the step
records."""

import math
import statistics

import numpy as np
import pytest

from engine import stats
from engine.config import normalize_config
from engine.run import Run
from engine.step_buffers import RowLayout

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
GROUPS = {"NORMS": stats.NORMS, "MOMENTS": stats.MOMENTS, "FRACTIONS": stats.FRACTIONS,
          "EXTREMES": stats.EXTREMES, "GRADIENT_EXTREMES": stats.GRADIENT_EXTREMES}


@pytest.fixture(scope="module", params=list(CONFIGS))
def trained(request):
    return request.param, Run(normalize_config(CONFIGS[request.param])).train()


@pytest.mark.parametrize("group", GROUPS)
def test_a_group_of_statistics_is_its_columns(group):
    """Statistics are read and written by name: each group's columns hold its names."""
    names = GROUPS[group]
    assert stats.LAYER_STATS[stats.columns(names)] == names
    assert [stats.INDEX[name] for name in names] == list(range(len(stats.LAYER_STATS)))[
        stats.columns(names)]


def test_the_groups_make_the_table():
    assert sum(GROUPS.values(), ()) == stats.LAYER_STATS
    assert len(set(stats.LAYER_STATS)) == len(stats.LAYER_STATS)


def _chunk(Zs, As, dZs, dAs):
    """The rows (T, S) of a chunk whose steps hold these tensors, (T, n_l, m) per layer, and
    their RowLayout; dAs has L entries (dA[L] kept) or L - 1."""
    T, m = Zs[0].shape[0], Zs[0].shape[2]
    dims = [3] + [Z.shape[1] for Z in Zs]
    layout = RowLayout(dims, m, output_dA=len(dAs) == len(Zs))
    X = np.full((T, layout.size), np.nan)
    for l in range(1, len(Zs) + 1):
        for name, tensors in (("Z", Zs), ("A", As), ("dZ", dZs), ("dA", dAs)):
            if l <= len(tensors):
                layout.tensor(X, name, l)[:] = tensors[l - 1]
        if l < len(Zs):
            layout.tensor(X, "A", l, 1)[:, -1] = 1.0  # the row of ones below
    return X, layout


def _fill(rows, X, layout, activations, masked=False):
    """rows' tensor statistics of the steps whose rows are X, reduced two steps at a time
    (the last alone if T is odd), as a run reduces a group of rows."""
    fused = ("dA", len(activations)) not in layout.segment  # dA[L] left out
    reductions = stats.TensorReductions(layout, activations, masked, len(X), fused)
    for k in range(0, len(X), 2):
        reductions.reduce(k, X[k:k + 2], layout)
    reductions.fill(rows, layout, np.full(len(X), float(layout.m)))


@pytest.mark.parametrize(("activation", "dropout"), [
    ("relu", False), ("relu", True), ("tanh", False), ("sigmoid", True), ("linear", False),
    ("leaky_relu", False), ("softmax", False),
])
def test_the_statistics_of_a_chunk_are_each_steps_own(activation, dropout):
    """TensorReductions of a chunk write mean, std, min and max of each step's Z and A,
    the dead and saturated fractions and max |dZ| and |dA| into their columns, and
    nothing else."""
    rng = np.random.default_rng(3)
    Z = 3 * rng.standard_normal((4, 5, 7))
    Z[:, 0] = -1.0  # a unit that a ReLU leaves dead
    Z[1, 2, 3] = 0.0  # relu'(0) = 0: a unit whose largest Z is 0 is dead too
    Z[1, 2] = np.minimum(Z[1, 2], 0.0)
    A = {"relu": np.maximum(Z, 0), "tanh": np.tanh(Z), "sigmoid": 1 / (1 + np.exp(-Z)),
         "linear": Z.copy(), "leaky_relu": np.maximum(Z, 0.01 * Z),
         "softmax": np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)}[activation]
    if dropout:  # inverted dropout's mask on the hidden layer: A is not g(Z)
        A = np.where(rng.random(Z.shape) < 0.5, 0.0, 2 * A)
    out_Z = rng.standard_normal((4, 2, 7))
    dZs, dAs = [rng.standard_normal(Z.shape), rng.standard_normal(out_Z.shape)], \
        [-5 * rng.random(Z.shape)]
    X, layout = _chunk([Z, out_Z], [A, 1 / (1 + np.exp(-out_Z))], dZs, dAs)
    activations = [activation, "sigmoid"]
    rows = np.full((4, 2, len(stats.LAYER_STATS)), np.nan)
    _fill(rows, X, layout, activations, dropout)
    written = {*stats.MOMENTS, *stats.FRACTIONS, *stats.GRADIENT_EXTREMES}
    for t in range(4):
        expected = {f"{name}_{stat}": f(X[t]) for name, X in (("Z", Z), ("A", A))
                    for stat, f in (("mean", np.mean), ("std", np.std), ("min", np.min),
                                    ("max", np.max))}
        expected["dead_fraction"] = np.mean(Z[t].max(axis=1) <= 0) if activation == "relu" \
            else np.nan
        limit = stats.SATURATION.get(activation)
        expected["saturated_fraction"] = np.nan if limit is None else np.mean(
            np.abs(Z[t]) > limit)
        expected["dZ_max_abs"], expected["dA_max_abs"] = (np.abs(dZs[0][t]).max(),
                                                          np.abs(dAs[0][t]).max())
        for name, value in expected.items():
            assert rows[t, 0, stats.INDEX[name]] == pytest.approx(value, rel=1e-9, abs=1e-12,
                                                                 nan_ok=True), (t, name)
        for name in set(stats.LAYER_STATS) - written:
            assert math.isnan(rows[t, 0, stats.INDEX[name]]), name
        # the output layer: dA[L] has no segment (fused with the loss), so no range here
        assert rows[t, 1, stats.INDEX["dZ_max_abs"]] == np.abs(dZs[1][t]).max()
        assert math.isnan(rows[t, 1, stats.INDEX["dA_max_abs"]])
    assert expected["dead_fraction"] != 0 or activation != "relu"


def test_std_of_a_constant_tensor_is_zero():
    raw = {"dataset": "circles", "n_samples": 40, "init": "zeros", "steps": 10,
           "optimizer": "adam"}
    run = Run(normalize_config(raw)).train()
    summary = run.summary()
    wrong = []
    for t in range(run.num_steps):
        for layer, entry in zip(run.step_record(t)["layers"], summary["layers"], strict=True):
            for name, X in (("Z", layer["activation_cache"]["Z"]), ("A", layer["A"])):
                if np.ptp(X) == 0 and entry[f"{name}_std"][t] != 0.0:
                    wrong.append((t, layer["l"], name, entry[f"{name}_std"][t]))
    # e.g. step 2, layer 3: every A is 0.43621..., std reported as 1.29e-8
    assert not wrong


def test_the_std_of_entries_close_together_is_exact():
    """E[x²] − mean² cancels when |mean| ≫ std: a sigmoid output of 0.5061103377 ± 1e-10
    (the course's init in a deep net) was served a std of 0, or off by half, and so was a
    constant tensor but for one entry 0.0101 away (off by 6.5e-8, relative). The
    reductions measure such a tensor from its entries while its group's rows are there,
    from the first group on, and in every chunk."""
    rng = np.random.default_rng(8)
    T = 5
    Z = 3 * rng.standard_normal((T, 4, 6))
    Z[1] = -7.25 + 1e-9 * rng.standard_normal((4, 6))  # a hidden Z close together
    A = np.maximum(Z, 0) + 0.01
    A[3] = 2.5 + 1e-12 * rng.standard_normal((4, 6))  # and an A, above its row of ones
    Z[4] = 0.5  # a constant but for one entry, whose range alone does not tell
    Z[4, 0, 0] = 0.4899
    A[4] = Z[4]
    out_Z = 1e-10 * rng.standard_normal((T, 1, 6)) + 0.0244
    out_A = 1 / (1 + np.exp(-out_Z))
    out_A[2] = 0.5061103377  # constant: exactly 0
    X, layout = _chunk([Z, out_Z], [A, out_A], [Z, out_Z], [A])
    reductions = stats.TensorReductions(layout, ["linear", "sigmoid"], False, T, False)
    for _ in range(2):  # a chunk, then the next
        rows = np.full((T, 2, len(stats.LAYER_STATS)), np.nan)
        for k in range(0, T, 2):
            reductions.reduce(k, X[k:k + 2], layout)
            X[k:k + 2] = np.nan  # the next group writes these rows again
        reductions.fill(rows, layout, np.full(T, float(layout.m)))
        for t in range(T):
            for l, tensors in enumerate(((Z, A), (out_Z, out_A))):
                for name, x in zip("ZA", tensors, strict=True):
                    std = rows[t, l, stats.INDEX[f"{name}_std"]]
                    assert std == pytest.approx(np.std(x[t]), rel=1e-9, abs=0), (t, l, name)
        assert rows[2, 1, stats.INDEX["A_std"]] == 0.0
        X, _ = _chunk([Z, out_Z], [A, out_A], [Z, out_Z], [A])


def test_a_tensor_that_comes_close_later_is_left_to_the_run_then_watched():
    """A run whose first group has no close tensor is not tested group by group (a few
    calls a group cost small networks 3 to 6 %); fill names a close one that comes later
    (`close`: the run replays those steps), and from then on every group is tested."""
    rng = np.random.default_rng(9)
    T = 6
    Z = rng.standard_normal((T, 4, 6))
    Z[3] = -7.25 + 1e-9 * rng.standard_normal((4, 6))  # close from the second group on
    out_Z = rng.standard_normal((T, 1, 6))
    X, layout = _chunk([Z, out_Z], [Z, out_Z], [Z, out_Z], [Z])
    reductions = stats.TensorReductions(layout, ["linear", "linear"], False, T, False)
    for chunk, close in enumerate(([(3, 1, "A"), (3, 1, "Z")], [])):
        rows = np.full((T, 2, len(stats.LAYER_STATS)), np.nan)
        for k in range(0, T, 2):
            assert reductions.watching == (chunk == 1 or k == 0), (chunk, k)
            reductions.reduce(k, X[k:k + 2], layout)
        reductions.fill(rows, layout, np.full(T, float(layout.m)))
        assert sorted(reductions.close) == close
        if chunk == 1:
            for name in "ZA":
                assert rows[3, 0, stats.INDEX[f"{name}_std"]] == pytest.approx(
                    np.std(Z[3]), rel=1e-9, abs=0)


def test_a_deep_course_init_nets_stds_match_its_step_records():
    """The he-vs-course lesson's second run: sigmoid outputs of about 0.506 that differ in
    the tenth digit, at every step."""
    raw = {"dataset": "moons", "n_samples": 200, "noise": 0.2, "hidden_layers": [16] * 5,
           "init": "course", "learning_rate": 0.1, "steps": 150, "seed": 1}
    run = Run(normalize_config(raw)).train()
    summary = run.summary()
    for t in range(0, run.num_steps, 13):
        for layer, entry in zip(run.step_record(t)["layers"], summary["layers"], strict=True):
            for name, x in (("Z", layer["activation_cache"]["Z"]), ("A", layer["A"])):
                assert entry[f"{name}_std"][t] == pytest.approx(np.std(x), rel=1e-9, abs=0), (
                    t, layer["l"], name)


@pytest.mark.parametrize("raw", [
    # finishes `done`: Z[2] of 4.7e154 std at step 6, Z[1] of 1.4e157
    {"dataset": "moons", "n_samples": 100, "hidden_layers": [16] * 6, "optimizer": "momentum",
     "beta": 0.0, "learning_rate": 5.05, "steps": 16},
    # diverges at step 6, where A[1]'s entries are finite but their squares are not
    {"dataset": "sine", "n_samples": 100, "hidden_layers": [8],
     "activations": ["relu", "linear"], "optimizer": "momentum", "beta": 0.0,
     "learning_rate": 7, "steps": 60},
], ids=["done", "diverged"])
def test_moments_of_entries_past_1e154_are_those_of_the_step_records(raw):
    """Σx² overflows once entries pass 1.3e154: the std was null, or capped at half the
    range (found by a torch audit). Such tensors are measured from their entries, scaled,
    as the close ones are; checked against exact rational arithmetic (statistics)."""
    run = Run(normalize_config(raw)).train()
    summary, huge = run.summary(), 0
    for t in range(run.num_steps):
        for layer, entry in zip(run.step_record(t)["layers"], summary["layers"], strict=True):
            for name, x in (("Z", layer["activation_cache"]["Z"]), ("A", layer["A"])):
                if not np.isfinite(x).all():
                    assert entry[f"{name}_std"][t] is None or np.isnan(entry[f"{name}_std"][t])
                    continue
                huge += np.abs(x).max() > 1.4e154
                entries = x.ravel().tolist()
                assert entry[f"{name}_std"][t] == pytest.approx(
                    statistics.pstdev(entries), rel=1e-12, abs=0), (t, layer["l"], name)
                # a mean near 0 is a sum that cancels: its error is relative to max |x|
                assert entry[f"{name}_mean"][t] == pytest.approx(
                    statistics.fmean(entries), rel=1e-12, abs=1e-12 * np.abs(x).max()), (
                    t, layer["l"], name)
    assert huge >= 2


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
    dZ = layers[1]["grads"]["dZ"]
    assert np.isnan(dZ).any() and np.isinf(dZ).any()


@pytest.mark.parametrize(("values", "expected"), [
    ([[1.0, -3.0], [2.0, 0.5]], 3.0), ([[-0.0, 0.0]], 0.0), ([[1.0, -np.inf]], np.inf),
    ([[1.0, np.nan], [np.inf, 0.0]], np.nan), ([[np.nan, np.inf]], np.nan),
], ids=["finite", "zeros", "inf", "nan_after_inf", "nan_first"])
def test_gradient_extremes_of_one_step(values, expected):
    """max |dZ| and |dA|, exactly: a NaN anywhere gives NaN (null in JSON), an inf inf,
    and -0.0 prints as 0."""
    G = np.array(values)[None]
    Z = np.zeros((1, 1, G.shape[2]))
    X, layout = _chunk([np.zeros((1, G.shape[1], G.shape[2])), Z],
                       [np.zeros((1, G.shape[1], G.shape[2])), Z], [G, Z], [2 * G, Z])
    rows = np.full((1, 2, len(stats.LAYER_STATS)), np.nan)
    _fill(rows, X, layout, ["relu", "linear"])
    np.testing.assert_equal(rows[0, 0, [stats.INDEX["dZ_max_abs"], stats.INDEX["dA_max_abs"]]],
                            [expected, 2 * expected])
    assert str(rows[0, 0, stats.INDEX["dZ_max_abs"]]) != "-0.0"


def test_steps_of_two_widths_reduce_into_one_chunk():
    """An epoch's narrower last batch reduces its own row, laid out for its width, into the
    chunk's reductions beside the others: each step's statistics are its own."""
    rng = np.random.default_rng(5)
    widths = [7, 7, 4, 7]
    Zs = [rng.standard_normal((5, m)) for m in widths]
    reductions = None
    for k, Z in enumerate(Zs):
        A = np.maximum(Z, 0)
        out_Z = rng.standard_normal((2, Z.shape[1]))
        X, layout = _chunk([Z[None], out_Z[None]], [A[None], out_Z[None]],
                           [3 * Z[None], out_Z[None]], [-A[None]])
        if reductions is None:
            reductions = stats.TensorReductions(layout, ["relu", "linear"], False, len(Zs), False)
        reductions.reduce(k, X, layout)
    rows = np.full((len(Zs), 2, len(stats.LAYER_STATS)), np.nan)
    reductions.fill(rows, layout, np.array(widths, dtype=float))
    for k, Z in enumerate(Zs):
        A = np.maximum(Z, 0)
        for name, value in (("Z_mean", Z.mean()), ("Z_std", Z.std()), ("A_mean", A.mean()),
                            ("A_std", A.std()), ("A_max", A.max()), ("Z_min", Z.min()),
                            ("dZ_max_abs", 3 * np.abs(Z).max()), ("dA_max_abs", A.max()),
                            ("dead_fraction", np.mean(Z.max(axis=1) <= 0))):
            assert rows[k, 0, stats.INDEX[name]] == pytest.approx(value, rel=1e-12), (k, name)


def test_a_steps_saturated_fraction_does_not_depend_on_its_group():
    """A step whose Z holds a NaN counts its saturated units alone as beside a step that
    saturates: the reductions of a group give each step its own fraction."""
    rng = np.random.default_rng(2)
    Z = 5 * rng.standard_normal((2, 4, 6))  # |z| > 4.6 somewhere: saturated sigmoid units
    Z[0, 0, 0] = np.nan
    A = 1 / (1 + np.exp(-Z))
    out_Z = rng.standard_normal((2, 1, 6))
    X, layout = _chunk([Z, out_Z], [A, out_Z], [Z, out_Z], [Z])
    fractions = []
    for groups in ([(0, 2)], [(0, 1), (1, 2)]):
        reductions = stats.TensorReductions(layout, ["sigmoid", "linear"], False, 2, False)
        for start, stop in groups:
            reductions.reduce(start, X[start:stop], layout)
        rows = np.full((2, 2, len(stats.LAYER_STATS)), np.nan)
        reductions.fill(rows, layout, np.full(2, 6.0))
        fractions.append(rows[:, 0, stats.INDEX["saturated_fraction"]].tolist())
    assert fractions[0] == fractions[1]
    assert fractions[0][1] == np.mean(np.abs(Z[1]) > stats.SATURATION["sigmoid"]) > 0
    assert fractions[0][0] == np.sum(np.abs(Z[0]) > stats.SATURATION["sigmoid"]) / 24


@pytest.mark.parametrize("fused", [True, False])
def test_an_output_fused_with_its_loss_does_not_measure_saturation(fused):
    """A sigmoid output with cross-entropy learns at any Z (dZ[L] = A − Y): its saturated
    fraction is not measured (NaN). With a loss it does not cancel with (MSE: training
    computes dA[L]), g′ scales its gradient, and its saturation is counted."""
    rng = np.random.default_rng(3)
    Z, out_Z = 5 * rng.standard_normal((2, 4, 6)), 8 * rng.standard_normal((2, 1, 6))
    A, out_A = np.tanh(Z), 1 / (1 + np.exp(-out_Z))
    dAs = [Z] if fused else [Z, out_Z]
    X, layout = _chunk([Z, out_Z], [A, out_A], [Z, out_Z], dAs)
    rows = np.full((2, 2, len(stats.LAYER_STATS)), np.nan)
    _fill(rows, X, layout, ["tanh", "sigmoid"])
    sat = stats.INDEX["saturated_fraction"]
    for t in range(2):
        assert rows[t, 0, sat] == np.mean(np.abs(Z[t]) > stats.SATURATION["tanh"])
        if fused:
            assert math.isnan(rows[t, 1, sat])
        else:
            assert rows[t, 1, sat] == np.mean(np.abs(out_Z[t]) > stats.SATURATION["sigmoid"])
    assert np.any(np.abs(out_Z) > stats.SATURATION["sigmoid"])  # the output did saturate
