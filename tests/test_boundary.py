"""The boundary route (engine.boundary): the model θ_t over a grid that spans the data,
against a plain float64 forward pass written out here, through the HTTP API."""

import numpy as np
import pytest

from engine import boundary as engine_boundary
from engine.boundary import PADDING, boundary, grid_axes, grid_points
from engine.config import normalize_config
from engine.datasets import load_dataset
from engine.fast_step import forward, with_ones
from engine.run import Run
from tests.conftest import strict_json
from tests.test_serialize import within_digits
from tests.test_step_records import G
from tests.test_steps_route import has_digits
from tests.test_steps_route import values as served_values

CONFIGS = {  # kind -> config
    "classification": {"dataset": "moons", "n_samples": 120, "hidden_layers": [5, 4],
                       "activations": ["tanh", "relu", "sigmoid"], "steps": 8},
    "multiclass": {"dataset": "spiral", "n_samples": 150, "hidden_layers": [6],
                   "batch_size": 32, "steps": 8},
    "regression": {"dataset": "sine", "n_samples": 80, "hidden_layers": [7, 5],
                   "activations": ["leaky_relu", "sigmoid", "linear"], "keep_prob": 0.8,
                   "steps": 8},
}
# diverged at step 4 (Z of the output layer) and step 9: the grid's outputs overflow
DIVERGED = {
    "regression": {"dataset": "sine", "learning_rate": 10, "steps": 100,
                   "hidden_layers": [64] * 4, "init": "uniform"},
    "multiclass": {"dataset": "spiral", "learning_rate": 10, "steps": 200,
                   "hidden_layers": [64] * 3, "init": "uniform"},
}


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.text
    return strict_json(response.text)


def arr(tensor):
    return np.array([[np.nan if v is None else v for v in row] for row in tensor["data"]])


def hand_forward(client, info, t, X):
    """AL at the points X (n_x, k), from θ_t as the step route serves it, in float64."""
    record = get(client, f"/api/runs/{info['id']}/steps/{t}?fields=W,b")
    A = X
    for layer in record["layers"]:
        W, b = arr(layer["linear_cache"]["W"]), arr(layer["linear_cache"]["b"])
        A = G[layer["activation"]][0](W @ A + b)
    return A


def grid(answer):
    """The answer's grid points, row by row: (n_x, k)."""
    if answer["kind"] == "regression":
        return np.array([answer["x"]])
    x, y = np.meshgrid(answer["x"], answer["y"])
    return np.stack([x.ravel(), y.ravel()])


@pytest.fixture(scope="module", params=list(CONFIGS))
def served(request, client):
    info = client.post("/api/runs", json=CONFIGS[request.param]).json()
    assert info["status"] == "done"
    return request.param, info


@pytest.mark.parametrize("t", [0, 7])
def test_the_output_is_the_models_forward_pass(client, served, t):
    kind, info = served
    answer = get(client, f"/api/runs/{info['id']}/steps/{t}/boundary?resolution=17")
    assert answer["step"] == t and answer["kind"] == kind
    AL = hand_forward(client, info, t, grid(answer))
    if kind == "classification":
        assert answer["output"]["shape"] == [17, 17] and "probability" not in answer
        np.testing.assert_allclose(arr(answer["output"]), AL.reshape(17, 17), rtol=1e-12)
    elif kind == "multiclass":
        assert np.array_equal(arr(answer["output"]), AL.argmax(axis=0).reshape(17, 17))
        np.testing.assert_allclose(arr(answer["probability"]), AL.max(axis=0).reshape(17, 17),
                                   rtol=1e-12)
    else:
        assert answer["output"]["shape"] == [1, 17] and "y" not in answer
        np.testing.assert_allclose(arr(answer["output"]), AL, rtol=1e-12, atol=1e-15)


def test_the_grid_spans_every_example_padded(client, served):
    _, info = served
    config = info["config"]
    data = load_dataset(config["dataset"], config["n_samples"], config["noise"],
                        config["test_fraction"], config["seed"])
    X = np.concatenate([data.X_train, data.X_test], axis=1)
    first = get(client, f"/api/runs/{info['id']}/steps/0/boundary")
    last = get(client, f"/api/runs/{info['id']}/steps/7/boundary?resolution=60")
    axes = [first["x"], first["y"]] if "y" in first else [first["x"]]
    assert len(axes) == X.shape[0]
    for values, feature in zip(axes, X, strict=True):
        pad = PADDING * (feature.max() - feature.min())
        assert len(values) == 60 and values == sorted(values)  # the default resolution
        assert values[0] == pytest.approx(feature.min() - pad, rel=1e-12)
        assert values[-1] == pytest.approx(feature.max() + pad, rel=1e-12)
    assert (first["x"], first.get("y")) == (last["x"], last.get("y"))  # it stays put


def test_data_with_more_features_has_no_grid(client):
    info = client.post("/api/runs", json={"dataset": "iris", "hidden_layers": [4],
                                          "steps": 3}).json()
    assert get(client, f"/api/runs/{info['id']}/steps/2/boundary") == {"step": 2,
                                                                         "kind": "none"}


@pytest.mark.parametrize("kind", list(DIVERGED))
def test_a_diverged_step_answers_nulls(client, kind):
    info = client.post("/api/runs", json=DIVERGED[kind]).json()
    t = info["diverged"]["step"]
    response = client.get(f"/api/runs/{info['id']}/steps/{t}/boundary?resolution=30")
    assert response.status_code == 200
    answer = strict_json(response.text)  # no NaN or Infinity literal
    outputs = [answer["output"], answer.get("probability", answer["output"])]
    assert all(any(v is None for row in o["data"] for v in row) for o in outputs)


LEAN = "resolution=24&digits=4&encoding=u8delta"  # as the page asks, at a smaller grid


def test_a_lean_boundary_is_the_exact_one_at_display_precision(client, served):
    """digits rounds the grid's axes; encoding=u8delta sends each float map as a byte a point,
    within (hi - lo)/508 of the engine's value; a multiclass map's classes stay exact."""
    kind, info = served
    url = f"/api/runs/{info['id']}/steps/5/boundary?resolution=24"
    exact, lean = get(client, url), get(client, f"/api/runs/{info['id']}/steps/5/boundary?{LEAN}")
    for axis in ("x", "y")[:2 if kind != "regression" else 1]:
        assert has_digits(np.array(lean[axis]), 4)
        assert within_digits(lean[axis], exact[axis], 4)
    maps = ["output", "probability"] if kind == "multiclass" else ["output"]
    for name in maps:
        if kind == "multiclass" and name == "output":
            assert lean[name] == exact[name]  # classes: whole numbers, as rows
            continue
        want = arr(exact[name])
        assert (lean[name]["lo"], lean[name]["hi"]) == (want.min(), want.max())
        error = np.max(np.abs(served_values(lean[name]) - want))
        assert error <= (want.max() - want.min()) / 508 * (1 + 1e-12)


@pytest.mark.parametrize("encoding", ["u8", "u8delta"])
@pytest.mark.parametrize("kind", list(DIVERGED))
def test_a_lean_diverged_step_marks_its_non_finite_points(client, kind, encoding):
    info = client.post("/api/runs", json=DIVERGED[kind]).json()
    url = f"/api/runs/{info['id']}/steps/{info['diverged']['step']}/boundary?resolution=30"
    exact, lean = get(client, url), get(client, f"{url}&encoding={encoding}")
    name = "probability" if kind == "multiclass" else "output"
    assert np.array_equal(np.isnan(served_values(lean[name])), np.isnan(arr(exact[name])))
    assert np.isnan(arr(exact[name])).any()


@pytest.mark.parametrize(("query", "words"), [
    ("digits=0", "digits: input should be greater than or equal to 1"),
    ("digits=18", "digits: input should be less than or equal to 17"),
    ("encoding=png", "encoding: input should be 'json', 'u8' or 'u8delta'"),
])
def test_a_bad_form_is_422_naming_the_field(client, small_run, query, words):
    response = client.get(f"/api/runs/{small_run['id']}/steps/1/boundary?{query}")
    assert response.status_code == 422
    assert words in response.json()["detail"]


@pytest.mark.parametrize(("query", "words"), [
    ("resolution=1", "greater than or equal to 2"), ("resolution=201", "less than or equal to 200"),
    ("resolution=2.5", "valid integer"), ("resolution=many", "valid integer"),
    ("resolution=10&resolution=20", "given 2 times"),
])
def test_a_bad_resolution_is_422_naming_resolution(client, small_run, query, words):
    response = client.get(f"/api/runs/{small_run['id']}/steps/1/boundary?{query}")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("resolution: ") and words in detail


@pytest.mark.parametrize("resolution", [2, 200])
def test_the_resolution_limits_are_served(client, small_run, resolution):
    answer = get(client, f"/api/runs/{small_run['id']}/steps/1/boundary?resolution={resolution}")
    assert answer["output"]["shape"] == [resolution, resolution]


@pytest.mark.parametrize(("path", "status"), [
    ("/api/runs/r2AAAA/steps/0/boundary", 404), ("/steps/20/boundary", 404),
    ("/steps/-1/boundary", 404), ("/steps/abc/boundary", 404),
])
def test_an_unknown_run_or_step_is_404(client, small_run, path, status):
    url = path if path.startswith("/api") else f"/api/runs/{small_run['id']}{path}"
    assert client.get(url).status_code == status


def test_a_step_not_computed_yet_is_409(make_client):
    slow = make_client(sync_seconds=0)
    config = {"dataset": "moons", "n_samples": 2000, "hidden_layers": [128] * 3, "steps": 2000}
    run_id = slow.post("/api/runs", json=config).json()["id"]
    response = slow.get(f"/api/runs/{run_id}/steps/1999/boundary")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Step not computed yet")


def test_the_ceiling_names_resolution(make_client, small_run):
    small = make_client(max_answer_cells=1000)
    assert small.get(f"/api/runs/{small_run['id']}/steps/1/boundary?resolution=31").status_code \
        == 200
    response = small.get(f"/api/runs/{small_run['id']}/steps/1/boundary?resolution=32")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("resolution: this answer would hold 1024 cells")


@pytest.mark.parametrize("forward_bytes", [16 * 2**20, 5000])
def test_the_engine_evaluates_theta_t_with_its_training_forward(monkeypatch, forward_bytes):
    """engine.boundary against the training forward over every grid point at once, also when the
    grid goes through in slices (a wide network)."""
    monkeypatch.setattr(engine_boundary, "FORWARD_BYTES", forward_bytes)
    run = Run(normalize_config({**CONFIGS["multiclass"], "keep_prob": 0.6})).train()
    answer = boundary(run, 5, resolution=23)
    x, y = grid_axes(run.data, 23)
    assert (answer["x"], answer["y"]) == (x.tolist(), y.tolist())
    AL = forward(with_ones(grid_points(x, y)), run.replay(5).forward.params,
                 run.config["activations"])[0]  # no dropout: keep_prob 1
    np.testing.assert_allclose(answer["probability"], AL.max(axis=0).reshape(23, 23),
                               rtol=1e-14)
    assert np.array_equal(answer["output"], AL.argmax(axis=0).reshape(23, 23))
