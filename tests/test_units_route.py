"""GET /api/runs/{id}/steps/{t}/units: each hidden unit's A over the input plane as bytes,
against engine.unit_maps and a forward pass from the served θ_t, its errors, its OpenAPI
schema and its data budget."""

import base64

import numpy as np
import pytest
from jsonschema import Draft202012Validator

from engine.config import normalize_config
from engine.run import Run
from engine.unit_maps import (
    LEVELS,
    NON_FINITE,
    UNITS_BUDGET_BYTES,
    UNITS_BUDGET_GZIP_BYTES,
    unit_maps,
)
from tests.conftest import strict_json
from tests.test_step_records import G

MOONS = {"dataset": "moons", "n_samples": 120, "hidden_layers": [10, 5],
         "activations": ["tanh", "relu", "sigmoid"], "steps": 8}
# moons through six wide uniform layers at lr 10: step 7 overflows (tests/test_unit_maps.py)
DIVERGED = {"dataset": "moons", "learning_rate": 10, "steps": 60, "hidden_layers": [64] * 6,
            "init": "uniform"}


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.text
    return strict_json(response.text)


def codes_of(unit):
    return np.frombuffer(base64.b64decode(unit["bytes"]), dtype=np.uint8)


def values_of(unit):
    """What a unit's bytes stand for, as the page decodes them; NaN where not finite."""
    codes = codes_of(unit)
    f = codes / LEVELS
    lo, hi = (np.nan if v is None else v for v in (unit["lo"], unit["hi"]))
    return np.where(codes == NON_FINITE, np.nan, lo * (1 - f) + hi * f)


@pytest.fixture(scope="module")
def moons(client):
    info = client.post("/api/runs", json=MOONS).json()
    assert info["status"] == "done"
    return info


def hand_A(client, info, t, layer, points):
    """A[layer] at points (2, k) from θ_t as the step route serves it, in float64."""
    record = get(client, f"/api/runs/{info['id']}/steps/{t}?fields=W,b")
    A = points
    for entry in record["layers"][:layer]:
        W = np.array(entry["linear_cache"]["W"]["data"])
        b = np.array(entry["linear_cache"]["b"]["data"])
        A = G[entry["activation"]][0](W @ A + b)
    return A


@pytest.mark.parametrize(("layer", "units", "resolution"), [
    (1, None, None), (1, "9,0,4", 7), (2, None, 2), (2, "3", 64)])
def test_the_maps_are_A_of_the_served_theta(client, moons, layer, units, resolution):
    query = f"layer={layer}" + (f"&units={units}" if units else "") + \
        (f"&resolution={resolution}" if resolution else "")
    answer = get(client, f"/api/runs/{moons['id']}/steps/5/units?{query}")
    R = resolution or 24
    width = MOONS["hidden_layers"][layer - 1]
    asked = sorted(int(u) for u in units.split(",")) if units else list(range(min(8, width)))
    assert (answer["step"], answer["layer"], answer["resolution"]) == (5, layer, R)
    assert answer["activation"] == MOONS["activations"][layer - 1]
    assert (answer["levels"], answer["non_finite"]) == (LEVELS, NON_FINITE)
    assert [u["unit"] for u in answer["units"]] == asked
    x, y = (np.linspace(*answer[axis], R) for axis in ("x", "y"))
    xx, yy = np.meshgrid(x, y)
    expected = hand_A(client, moons, 5, layer, np.stack([xx.ravel(), yy.ravel()]))[asked]
    for unit, row in zip(answer["units"], expected, strict=True):
        assert codes_of(unit).shape == (R * R,)
        assert unit["lo"] == pytest.approx(row.min(), rel=1e-12, abs=1e-300)
        assert unit["hi"] == pytest.approx(row.max(), rel=1e-12, abs=1e-300)
        assert np.all(np.abs(values_of(unit) - row) <= (unit["hi"] - unit["lo"]) / 255 + 1e-12)


def test_the_answer_is_the_engines_and_the_grid_is_the_boundarys(client, moons):
    answer = get(client, f"/api/runs/{moons['id']}/steps/7/units?layer=1&units=2,6")
    run = Run(normalize_config(MOONS)).train()
    engine = unit_maps(run, 7, 1, [2, 6])
    for served, own in zip(answer["units"], engine["units"], strict=True):
        assert np.array_equal(codes_of(served), own["codes"])
        assert (served["lo"], served["hi"]) == (own["lo"], own["hi"])
    boundary = get(client, f"/api/runs/{moons['id']}/steps/7/boundary?resolution=24")
    assert answer["x"] == [boundary["x"][0], boundary["x"][-1]]
    assert answer["y"] == [boundary["y"][0], boundary["y"][-1]]


def test_the_answer_matches_its_openapi_schema(client, moons):
    openapi = client.get("/openapi.json").json()
    validator = Draft202012Validator({**openapi, "$ref": "#/components/schemas/UnitMaps"})
    answer = get(client, f"/api/runs/{moons['id']}/steps/0/units")
    assert [e.message for e in validator.iter_errors(answer)] == []
    names = {p["name"] for p in openapi["paths"]["/api/runs/{run_id}/steps/{t}/units"]["get"]
             ["parameters"]}
    assert names == {"run_id", "t", "layer", "units", "resolution"}


def test_a_diverged_step_sends_the_non_finite_byte(client):
    info = client.post("/api/runs", json=DIVERGED).json()
    assert info["diverged"]["step"] == 7
    answer = get(client, f"/api/runs/{info['id']}/steps/7/units?layer=5&units=11,18")
    partly, nowhere = answer["units"]
    assert NON_FINITE in codes_of(partly) and partly["lo"] is not None
    assert np.all(codes_of(nowhere) == NON_FINITE)
    assert (nowhere["lo"], nowhere["hi"]) == (None, None)


def test_the_default_moons_answer_keeps_to_its_budget(client):
    """The page's request on the default run: 8 units of layer 1 at 24 × 24."""
    info = client.post("/api/runs", json={}).json()
    assert normalize_config({})["hidden_layers"][0] >= 8  # so that 8 maps are sent
    response = client.get(f"/api/runs/{info['id']}/steps/150/units?layer=1",
                          headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert len(response.json()["units"]) == 8
    assert len(response.content) <= UNITS_BUDGET_BYTES
    assert response.headers["content-encoding"] == "gzip"
    assert response.num_bytes_downloaded <= UNITS_BUDGET_GZIP_BYTES


@pytest.mark.parametrize(("query", "detail"), [
    ("layer=0", "layer: input should be greater than or equal to 1"),
    ("layer=3", "layer: this network's hidden layers are 1 to 2, got 3"),
    ("layer=one", "layer: input should be a valid integer"),
    ("layer=1&layer=2", "layer: given 2 times"),
    ("units=0,1,2,3,4,5,6,7,8", "units: at most 8 units a request, got 9"),
    ("units=10", "units: layer 1 has units 0 to 9, got '10'"),
    ("layer=2&units=5", "units: layer 2 has units 0 to 4, got '5'"),
    ("units=1,,2", "units: give unit numbers separated by commas, like 0,3,5"),
    ("units=", "units: give unit numbers separated by commas"),
    ("resolution=1", "resolution: input should be greater than or equal to 2"),
    ("resolution=65", "resolution: input should be less than or equal to 64"),
    ("resolution=2.5", "resolution: input should be a valid integer"),
])
def test_bad_queries_are_422_naming_the_field_and_limit(client, moons, query, detail):
    response = client.get(f"/api/runs/{moons['id']}/steps/1/units?{query}")
    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail), response.json()["detail"]


@pytest.mark.parametrize(("config", "detail"), [
    ({"dataset": "digits", "hidden_layers": [4], "steps": 2},
     "dataset: unit maps cover the input plane of 2-D data; digits has 64 features"),
    ({"dataset": "sine", "hidden_layers": [4], "steps": 2}, "dataset: "),
    ({"hidden_layers": [], "n_samples": 40, "steps": 2}, "layer: this network has no hidden layer"),
])
def test_runs_without_maps_are_422(client, config, detail):
    info = client.post("/api/runs", json=config).json()
    response = client.get(f"/api/runs/{info['id']}/steps/1/units")
    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail)


@pytest.mark.parametrize("path", [
    "/api/runs/r2AAAA/steps/0/units", "/steps/20/units", "/steps/-1/units", "/steps/x/units"])
def test_an_unknown_run_or_step_is_404(client, small_run, path):
    url = path if path.startswith("/api") else f"/api/runs/{small_run['id']}{path}"
    response = client.get(url)
    assert response.status_code == 404
    assert response.json()["detail"].startswith(("Run not found", "Step not found"))


def test_a_step_not_computed_yet_is_409(make_client):
    slow = make_client(sync_seconds=0)
    config = {"dataset": "moons", "n_samples": 2000, "hidden_layers": [128] * 3, "steps": 2000}
    run_id = slow.post("/api/runs", json=config).json()["id"]
    response = slow.get(f"/api/runs/{run_id}/steps/1999/units")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Step not computed yet")


def test_the_ceiling_names_resolution(make_client, small_run):
    small = make_client(max_answer_cells=4000)
    url = f"/api/runs/{small_run['id']}/steps/1/units"
    assert small.get(f"{url}?resolution=31").status_code == 200  # 4 units × 961 cells
    response = small.get(f"{url}?resolution=32")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("resolution: this answer would hold 4096 cells")
    assert small.get(f"{url}?resolution=32&units=0,1,2").status_code == 200
