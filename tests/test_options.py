"""engine.options and GET /api/options: each dataset's defaults are the engine's own
normalize_config, so that the page reads them instead of deriving them (issue 16)."""

import pytest

from engine.config import CHOICES, HIDDEN_ACTIVATION, normalize_config
from engine.options import dataset_options, options

HIDDEN = [[], [4], [16, 8, 4]]


@pytest.mark.parametrize("dataset", CHOICES["dataset"])
def test_a_datasets_defaults_are_its_normalized_config(dataset):
    served = dataset_options(dataset, {})
    assert served["default_config"] == normalize_config({"dataset": dataset})
    # other hidden layers: each takes default_hidden_activation, the output keeps its own
    for hidden in HIDDEN:
        expected = normalize_config({"dataset": dataset, "hidden_layers": hidden})
        assert expected["activations"] == ([served["default_hidden_activation"]] * len(hidden)
                                           + served["default_config"]["activations"][-1:])


def test_a_server_narrower_than_the_defaults_serves_defaults_within_its_limits():
    """The page's first run is the default config: on a server of one hidden layer of at
    most 4 units, 100 steps and 300 samples, it had been refused (422)."""
    server = {"max_layers": 1, "max_width": 4,
              "limits": {"steps": ("int", 1, 100), "n_samples": ("int", 20, 300)}}
    narrow = options(**server)
    assert [d["default_config"] for d in narrow["datasets"]] == [
        normalize_config({"dataset": d}, **server) for d in CHOICES["dataset"]]
    default = narrow["default_config"]
    assert (default["hidden_layers"], default["steps"], default["n_samples"]) == ([4], 100, 300)
    assert normalize_config(default, **server) == default  # a run the server takes


@pytest.mark.parametrize("dataset", CHOICES["dataset"])
def test_the_served_options_carry_the_datasets_defaults(client, dataset):
    response = client.get("/api/options")
    assert response.status_code == 200
    served = next(d for d in response.json()["datasets"] if d["name"] == dataset)
    assert served["default_config"] == normalize_config({"dataset": dataset})
    assert served["default_hidden_activation"] == HIDDEN_ACTIVATION


def test_a_narrow_server_answers_its_options_and_runs_its_default(make_client):
    client = make_client(max_hidden_layers=1, max_width=4, max_steps=50, max_samples=100)
    response = client.get("/api/options")
    assert response.status_code == 200, response.text
    default = response.json()["datasets"][0]["default_config"]
    assert (default["hidden_layers"], default["steps"], default["n_samples"]) == ([4], 50, 100)
    created = client.post("/api/runs", json={})
    assert created.status_code == 201, created.text
    assert created.json()["config"] == default
    assert client.post("/api/runs", json={"steps": 51}).status_code == 422  # given: checked


def test_a_server_with_a_smaller_budget_offers_and_runs_defaults_within_it(make_client):
    """With BPL_COMPUTE_BUDGET=2e9 digits' default (300 steps, 2.4e9 flops) was offered,
    then refused: it takes the steps that fit, and every dataset's default runs."""
    client = make_client(compute_budget=2e9)
    served = {d["name"]: d["default_config"] for d in client.get("/api/options").json()["datasets"]}
    assert served["digits"]["steps"] == 249 and served["moons"]["steps"] == 300
    for dataset, default in served.items():
        assert client.post("/api/configs/check", json=default).json()["valid"], dataset
    # (POST /api/runs takes what the check takes; a short run)
    assert client.post("/api/runs", json={"dataset": "digits", "steps": 2}).status_code == 201
    checked = client.post("/api/configs/check", json={"dataset": "digits"}).json()
    assert checked["config"] == served["digits"]


@pytest.mark.parametrize("dataset", ["digits", "breast_cancer"])
def test_a_server_with_fewer_samples_than_real_data_serves_the_real_data(make_client, dataset):
    """BPL_MAX_SAMPLES=300 answered 201 to digits, then 404 on every route of its id."""
    client = make_client(max_samples=300)
    created = client.post("/api/runs", json={"dataset": dataset, "steps": 2})
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    for path in ("", "/summary", "/steps/1?fields=dW"):
        assert client.get(f"/api/runs/{run_id}{path}").status_code == 200, path
    names = [lesson["id"] for lesson in client.get("/api/lessons").json()]
    assert "softmax-digits" in names


def test_an_int_fields_bounds_are_integers(client):
    limits = client.get("/api/options").json()["limits"]
    ranges = {name: limit for name, limit in limits.items() if "type" in limit}
    assert len(ranges) >= 10
    for name, limit in ranges.items():
        bounds = [b for b in (limit["min"], limit["max"]) if b is not None]
        assert all(isinstance(b, int if limit["type"] == "int" else float) for b in bounds), name
    assert (limits["n_samples"]["min"], limits["steps"]["max"]) == (20, 2000)
