"""engine.unit_maps: each hidden unit's A[l] over the input plane, quantised to bytes,
against the course's own forward (engine.course) at the grid points."""

import numpy as np
import pytest

from engine import course
from engine.boundary import grid_axes, grid_points
from engine.config import normalize_config
from engine.run import Run
from engine.unit_maps import (
    LEVELS,
    MAX_UNITS,
    NON_FINITE,
    dequantise,
    quantise,
    unit_maps,
)

CONFIGS = {
    "moons relu": {"dataset": "moons", "n_samples": 120, "hidden_layers": [10, 4], "steps": 6},
    "circles tanh, sigmoid, dropout": {
        "dataset": "circles", "n_samples": 100, "hidden_layers": [5, 6, 3],
        "activations": ["tanh", "sigmoid", "leaky_relu", "sigmoid"], "keep_prob": 0.6,
        "steps": 6},
    "spiral mini-batches, softmax": {"dataset": "spiral", "n_samples": 150,
                                     "hidden_layers": [12], "activations": ["linear", "softmax"],
                                     "batch_size": 32, "steps": 6},
}
# moons through six wide uniform layers at lr 10: at step 7, layer 4's units overflow at
# some grid points (a finite hi near 1.7e308), layer 5 has units with no finite value, and
# every unit of layer 6 is NaN
DIVERGED = {"dataset": "moons", "learning_rate": 10, "steps": 60, "hidden_layers": [64] * 6,
            "init": "uniform"}


@pytest.fixture(scope="module", params=list(CONFIGS))
def run(request):
    return Run(normalize_config(CONFIGS[request.param])).train()


@pytest.fixture(scope="module")
def diverged():
    run = Run(normalize_config(DIVERGED)).train()
    assert run.num_steps == 8
    return run


def course_A(run, t, layer, resolution):
    """A[layer] at the grid points, layer by layer with engine.course, no dropout: (n, R·R)."""
    params, activations = run.replay(t).forward.params, run.config["activations"]
    A = grid_points(*grid_axes(run.data, resolution))
    with np.errstate(all="ignore"):  # a diverged θ: inf and NaN
        for l in range(1, layer + 1):
            A, _ = course.linear_activation_forward(A, params[f"W{l}"], params[f"b{l}"],
                                                    activations[l - 1])
    return A


def decoded(answer):
    """The values the answer's units stand for: (units, R·R), NaN where not finite."""
    codes = np.stack([u["codes"] for u in answer["units"]])
    lo = np.array([u["lo"] for u in answer["units"]])
    hi = np.array([u["hi"] for u in answer["units"]])
    return dequantise(codes, lo, hi), lo, hi


def hidden_layers(run):
    return range(1, len(run.config["activations"]))


@pytest.mark.parametrize("t", [0, 5])
@pytest.mark.parametrize("resolution", [2, 17, 24])
def test_the_maps_are_A_of_theta_t_at_the_grid_points(run, t, resolution):
    for layer in hidden_layers(run):
        answer = unit_maps(run, t, layer, resolution=resolution)
        expected = course_A(run, t, layer, resolution)[:MAX_UNITS]
        values, lo, hi = decoded(answer)
        assert [u["unit"] for u in answer["units"]] == list(range(len(expected)))
        assert values.shape == (len(expected), resolution**2)
        np.testing.assert_allclose(lo, expected.min(axis=1), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(hi, expected.max(axis=1), rtol=1e-12, atol=1e-300)
        # rounding to the nearest of 255 levels: within half a level, (hi - lo) / 508
        assert np.all(np.abs(values - expected) <= (hi - lo)[:, None] / 255 + 1e-12)


def test_the_grid_is_the_boundarys_and_rows_ascend_in_x2(run):
    answer = unit_maps(run, 3, 1, [0], resolution=5)
    x, y = grid_axes(run.data, 5)
    assert (answer["x"], answer["y"]) == ([x[0], x[-1]], [y[0], y[-1]])
    assert (answer["step"], answer["layer"], answer["resolution"]) == (3, 1, 5)
    assert answer["activation"] == run.config["activations"][0]
    # entry i·R + j of a map is the point (x[j], y[i])
    params, (i, j) = run.replay(3).forward.params, (4, 1)
    A, _ = course.linear_activation_forward(np.array([[x[j]], [y[i]]]), params["W1"],
                                            params["b1"], run.config["activations"][0])
    values, lo, hi = decoded(answer)
    assert abs(values[0, i * 5 + j] - A[0, 0]) <= (hi[0] - lo[0]) / 255 + 1e-12


@pytest.mark.parametrize("units", [[3], [0, 2, 1], list(range(MAX_UNITS))])
def test_the_units_asked_for_in_their_order(units):
    run = Run(normalize_config(CONFIGS["moons relu"])).train()
    everything = course_A(run, 2, 1, 9)
    answer = unit_maps(run, 2, 1, units, resolution=9)
    assert [u["unit"] for u in answer["units"]] == units
    values, lo, hi = decoded(answer)
    assert np.all(np.abs(values - everything[units]) <= (hi - lo)[:, None] / 255 + 1e-12)


def test_a_narrow_layer_gives_all_its_units():
    run = Run(normalize_config(CONFIGS["moons relu"])).train()
    assert [u["unit"] for u in unit_maps(run, 0, 2)["units"]] == [0, 1, 2, 3]


@pytest.mark.parametrize("name", ["random", "constant rows", "huge range", "non-finite"])
def test_quantisation_round_trips_within_a_level(name):
    rng = np.random.default_rng(7)
    A = {"random": rng.normal(size=(5, 300)) * [[1e-6], [1], [30], [1e3], [1e-300]],
         "constant rows": np.array([[0.0] * 10, [-2.5] * 10, [1e300] * 10]),
         "huge range": np.array([[-1.7e308, 0.0, 1.7e308, 1e307], [0.0, 1e-320, 5e-324, 1e308]]),
         "non-finite": np.array([[np.nan, 1.0, np.inf, -2.0, -np.inf, 0.5]])}[name]
    codes, lo, hi = quantise(A)
    assert codes.dtype == np.uint8 and codes.shape == A.shape
    finite = np.isfinite(A)
    assert np.all(codes[finite] <= LEVELS) and np.all(codes[~finite] == NON_FINITE)
    values = dequantise(codes, lo, hi)
    assert np.all(np.isfinite(values) == finite)
    # hi - lo may overflow to inf, which bounds nothing; halves keep it finite
    error, level = np.abs(values / 2 - A / 2), (hi / 2 - lo / 2)[:, None] / 255
    assert np.all(error[finite] <= np.broadcast_to(level, A.shape)[finite] * (1 + 1e-12))


def test_each_level_is_used_from_lo_to_hi():
    codes, lo, hi = quantise(np.linspace(-3, 5, 2 * (LEVELS + 1))[None])
    assert (lo[0], hi[0]) == (-3, 5)
    assert set(codes[0].tolist()) == set(range(LEVELS + 1))


# layer -> units: overflowing at some points (a finite hi near 1.7e308 among them); finite
# nowhere beside others finite at some points (lo = hi = 0); NaN everywhere
DIVERGED_UNITS = {4: [17, 28, 29, 50, 51, 52], 5: [0, 11, 16, 18, 19, 26], 6: [0, 1, 2]}


@pytest.mark.parametrize("layer", list(DIVERGED_UNITS))
def test_a_diverged_step_marks_non_finite_values(diverged, layer):
    units = DIVERGED_UNITS[layer]
    answer = unit_maps(diverged, 7, layer, units, resolution=24)
    expected = course_A(diverged, 7, layer, 24)[units]
    finite = np.isfinite(expected)
    assert not finite.all()
    codes = np.stack([u["codes"] for u in answer["units"]])
    assert np.array_equal(codes == NON_FINITE, ~finite)
    values, lo, hi = decoded(answer)
    for k, row in enumerate(finite):
        if not row.any():  # no finite value: no range
            assert np.isnan(lo[k]) and np.isnan(hi[k])
            continue
        assert (lo[k], hi[k]) == (expected[k, row].min(), expected[k, row].max())
        level = (hi[k] / 2 - lo[k] / 2) / 255
        assert np.all(np.abs(values[k, row] / 2 - expected[k, row] / 2) <= level * (1 + 1e-12))


def test_the_diverged_cases_are_there(diverged):
    """DIVERGED_UNITS holds each case it names."""
    A = {layer: course_A(diverged, 7, layer, 24)[units]
         for layer, units in DIVERGED_UNITS.items()}
    finite = {layer: np.isfinite(a) for layer, a in A.items()}
    assert np.nanmax(np.where(finite[4], A[4], np.nan)) > 1e308
    assert finite[5].any(axis=1).any() and not finite[5].any(axis=1).all()
    assert not finite[6].any()


@pytest.mark.parametrize(("config", "layer", "units", "resolution", "message"), [
    ({"dataset": "digits", "hidden_layers": [4]}, 1, None, 24,
     "dataset: unit maps cover the input plane of 2-D data; digits has 64 features"),
    ({"dataset": "sine", "hidden_layers": [4]}, 1, None, 24, "dataset: "),
    ({"hidden_layers": []}, 1, None, 24, "layer: this network has no hidden layer"),
    ({"hidden_layers": [4, 3]}, 3, None, 24,
     "layer: this network's hidden layers are 1 to 2, got 3"),
    ({"hidden_layers": [4, 3]}, 0, None, 24, "layer: "),
    ({"hidden_layers": [4]}, 1, None, 1, "resolution: must be an integer from 2 to 64, got 1"),
    ({"hidden_layers": [4]}, 1, None, 65, "resolution: must be an integer from 2 to 64, got 65"),
    ({"hidden_layers": [4]}, 1, [], 24, "units: 1 to 8 units a request, got 0"),
    ({"hidden_layers": [12]}, 1, list(range(9)), 24, "units: 1 to 8 units a request, got 9"),
    ({"hidden_layers": [4]}, 1, [0, 4], 24, "units: layer 1 has units 0 to 3, got [0, 4]"),
    ({"hidden_layers": [4]}, 1, [-1], 24, "units: layer 1 has units 0 to 3"),
])
def test_bad_arguments_raise_a_value_error_naming_the_field(config, layer, units, resolution,
                                                            message):
    run = Run(normalize_config({**config, "n_samples": 60, "steps": 2})).train()
    with pytest.raises(ValueError) as raised:
        unit_maps(run, 1, layer, units, resolution)
    assert str(raised.value).startswith(message)
