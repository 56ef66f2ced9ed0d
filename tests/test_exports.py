"""export.npz (app/routes/exports.py, app/npz_export.py; CONTRACT §4): np.load reads it
without pickles, under the course's names, and its arrays equal an engine recomputation of
the step records and the summary exactly; the steps it holds are limited and checked."""

import io
import json

import numpy as np
import pytest

from app.npz_export import layer_arrays
from engine.config import normalize_config
from engine.run import Run
from tests.conftest import DIVERGENT, SMALL, strict_json

pytestmark = pytest.mark.usefixtures("pinned_blas")

# (name, config): full batch; dropout with a bug (D and true_grads); mini-batch regression;
# a run that diverges at step 4 (NaN and inf kept as they are)
CONFIGS = [
    ("full-batch", SMALL),
    ("dropout-bug", {**SMALL, "keep_prob": 0.8, "bug": "dropout_mask_forgotten_in_backward"}),
    ("mini-batch-sine", {"dataset": "sine", "n_samples": 120, "hidden_layers": [5],
                         "batch_size": 16, "steps": 12}),
    ("diverged", DIVERGENT),
]


def load(response) -> dict[str, np.ndarray]:
    assert response.status_code == 200, response.text
    with np.load(io.BytesIO(response.content), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


@pytest.fixture(scope="module", params=CONFIGS, ids=[name for name, _ in CONFIGS])
def exported(request, client):
    """(run info, the engine's own Run of the config, trained here) per config."""
    info = client.post("/api/runs", json=request.param[1]).json()
    run = Run(normalize_config(request.param[1]))
    run.train()
    return info, run


def expected_step(record: dict) -> dict[str, np.ndarray]:
    """The course's names of a step record's tensors, written out here from the record."""
    t, batch = record["step"], record["batch"]
    named = {"X": batch["X"], "Y": batch["Y"], "cost": np.array(record["cost"]),
             "indices": np.array(batch["indices"])}
    for layer in record["layers"]:
        l = layer["l"]
        named.update({f"A_prev{l}": layer["linear_cache"]["A_prev"],
                      f"W{l}": layer["linear_cache"]["W"], f"b{l}": layer["linear_cache"]["b"],
                      f"Z{l}": layer["activation_cache"]["Z"], f"A{l}": layer["A"],
                      f"update_W{l}": layer["update"]["W"], f"update_b{l}": layer["update"]["b"]})
        named.update({f"{g}{l}": layer["grads"][g] for g in ("dA", "dZ", "dW", "db")})
        named.update({f"true_{g}{l}": X for g, X in layer.get("true_grads", {}).items()})
        if layer["D"] is not None:
            named[f"D{l}"] = layer["D"]
    return {f"step{t}/{name}": X for name, X in named.items()}


def test_the_steps_tensors_equal_the_engines_records_exactly(client, exported):
    info, run = exported
    last = info["num_steps"] - 1
    arrays = load(client.get(f"/api/runs/{info['id']}/export.npz?steps=0,2,{last}"))
    for t in (0, 2, last):
        expected = expected_step(run.step_record(t))
        names = {n for n in arrays if n.startswith(f"step{t}/")}
        assert names == set(expected)
        for name, X in expected.items():
            assert arrays[name].dtype.kind in "fi", name
            assert np.array_equal(arrays[name], X, equal_nan=True), name


def test_a_bug_run_has_true_gradients_and_dropout_its_masks(client, exported):
    info, _ = exported
    arrays = load(client.get(f"/api/runs/{info['id']}/export.npz?steps=1"))
    hidden = len(info["config"]["hidden_layers"])
    bug, dropout = info["config"]["bug"] is not None, info["config"]["keep_prob"] < 1
    assert ("step1/true_dW1" in arrays) == bug
    assert [f"step1/D{l}" in arrays for l in range(1, hidden + 2)] == \
        [dropout] * hidden + [False]  # dropout acts on hidden layers only
    if bug:  # this mistake changes dA below a dropout layer: grads differ from the truth
        assert not np.array_equal(arrays["step1/dA1"], arrays["step1/true_dA1"])


def series_of(summary: dict) -> dict[str, list]:
    series = {k: v for k, v in summary.items() if isinstance(v, list) and k != "layers"}
    series.update({f"layers/{layer['l']}/{k}": v for layer in summary["layers"]
                   for k, v in layer.items() if isinstance(v, list)})
    return series


def floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_the_series_equal_the_summary_and_the_config_is_json(client, exported):
    info, run = exported
    arrays = load(client.get(f"/api/runs/{info['id']}/export.npz"))
    served = series_of(strict_json(client.get(f"/api/runs/{info['id']}/summary").text))
    assert json.loads(arrays["config.json"].item()) == info["config"]
    assert "cost" in served and "layers/1/dW_norm" in served
    assert set(served) <= set(arrays)
    for name, values in series_of(run.summary()).items():
        # exact, inf included; the JSON summary writes a value that is not finite as null
        assert np.array_equal(arrays[name], floats(values), equal_nan=True), name
        finite = np.where(np.isfinite(arrays[name]), arrays[name], np.nan)
        assert np.array_equal(finite, floats(served[name]), equal_nan=True), name


def test_by_default_the_first_and_the_last_step(client, small_run):
    response = client.get(f"/api/runs/{small_run['id']}/export.npz")
    last = small_run["num_steps"] - 1
    assert {n.split("/")[0] for n in load(response) if n.startswith("step")} == \
        {"step0", f"step{last}"}
    assert response.headers["content-type"] == "application/octet-stream"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="backprop-lens-moons-')
    assert disposition.endswith('.npz"')


def test_the_layer_arrays_of_a_record_entry_are_named_by_layer():
    layer = {"l": 2, "A": np.ones((1, 1)), "D": None,
             "linear_cache": {"A_prev": np.zeros((1, 1))}, "update": {"W": np.eye(1)}}
    assert set(layer_arrays(layer)) == {"A2", "A_prev2", "update_W2"}


@pytest.mark.parametrize(("query", "start"), [
    ("steps=" + ",".join(map(str, range(19))) + ",19,0", None),  # 20 distinct: fine
    ("steps=20", "steps: this run has steps 0 to 19, got '20'"),
    ("steps=-1", "steps: this run has steps 0 to 19"),
    ("steps=1.5", "steps: give step numbers separated by commas"),
    ("steps=", "steps: give step numbers separated by commas"),
])
def test_bad_steps_are_422_naming_steps(client, small_run, query, start):
    response = client.get(f"/api/runs/{small_run['id']}/export.npz?{query}")
    assert response.status_code == (200 if start is None else 422), response.text
    if start is not None:
        assert response.json()["detail"].startswith(start)


def test_at_most_50_steps(client):
    info = client.post("/api/runs", json={**SMALL, "steps": 60}).json()
    url = f"/api/runs/{info['id']}/export.npz?steps="
    assert client.get(url + ",".join(map(str, range(50)))).status_code == 200
    response = client.get(url + ",".join(map(str, range(51))))
    assert response.status_code == 422
    assert response.json()["detail"] == "steps: at most 50 steps a request, got 51"


def test_the_answer_ceiling_names_steps(make_client, small_run):
    small = make_client(max_answer_cells=8000)
    url = f"/api/runs/{small_run['id']}/export.npz?steps="
    assert small.get(url + "0,1").status_code == 200  # a step of SMALL holds 3,613 cells
    response = small.get(url + "0,1,2")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "steps: these 3 steps hold 10839 cells, over this server's ceiling of 8000 cells an "
        "answer; ask for fewer steps (about 2 fit)")
    response = make_client(max_answer_cells=3000).get(url + "1")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "steps: this step holds 3613 cells, over this server's ceiling of 3000 cells an "
        "answer; a single step of this run is over it; fetch a step's tensors narrowed by "
        "layers and fields from GET /api/runs/{id}/steps/{t} instead")


def test_an_unknown_run_is_404(client):
    response = client.get("/api/runs/r2nope/export.npz")
    assert response.status_code == 404 and response.json()["detail"] == "Run not found"


def test_a_run_still_training_is_409(make_client):
    slow = make_client(sync_seconds=0)
    config = {"dataset": "digits", "hidden_layers": [128, 128, 128], "steps": 2000}
    run_id = slow.post("/api/runs", json=config).json()["id"]
    for route in ("export.npz", "report.html"):
        response = slow.get(f"/api/runs/{run_id}/{route}")
        assert response.status_code == 409
        assert response.json()["detail"].startswith(f"{route}: the run is still training")


@pytest.mark.parametrize(("ceiling", "kept"), [(8000, "both"), (5000, "last"), (3000, "none")])
def test_the_default_steps_keep_to_the_ceiling(make_client, small_run, ceiling, kept):
    """The page's link names no steps: where the first and the last are over the ceiling, the
    file holds the last alone, or only the config and series (the biggest valid runs' steps
    are each over it), rather than a 422 the link cannot show."""
    small = make_client(max_answer_cells=ceiling)
    response = small.get(f"/api/runs/{small_run['id']}/export.npz")
    assert response.status_code == 200
    with np.load(io.BytesIO(response.content), allow_pickle=False) as f:
        steps = sorted({int(name.split("/")[0].removeprefix("step")) for name in f.files
                        if name.startswith("step")})
        last = small_run["num_steps"] - 1  # a step of SMALL holds 3,613 cells
        assert steps == {"both": [0, last], "last": [last], "none": []}[kept]
        assert "cost" in f.files and "config.json" in f.files
    # named steps over the ceiling are still refused, naming them
    assert small.get(f"/api/runs/{small_run['id']}/export.npz?steps=0,1,2").status_code == 422
