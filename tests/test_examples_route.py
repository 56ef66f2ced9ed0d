"""GET /api/runs/{id}/examples/{i}: a training example as the picture it was, against
sklearn's digits and the step route's standardized X, before the run has trained; its
errors and its OpenAPI schema."""

import threading

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from sklearn import datasets as sk

from engine.datasets import load_dataset
from engine.run import Run
from tests.conftest import SMALL, strict_json
from tests.test_datasets import split_order

DIGITS = {"dataset": "digits", "hidden_layers": [8], "steps": 2, "seed": 3}
M_TRAIN = 1438  # 1797 digits, 359 of them (20 %) held out


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.text
    return strict_json(response.text)


@pytest.fixture(scope="module")
def digits(client):
    response = client.post("/api/runs", json=DIGITS)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("i", [0, 5, 700, M_TRAIN - 1])
def test_the_pixels_are_the_digit_as_written(client, digits, i):
    answer = get(client, f"/api/runs/{digits['id']}/examples/{i}")
    order = split_order(DIGITS["seed"], 1797)
    assert answer == {"index": i, "image_shape": [8, 8], "levels": [0, 16],
                      "pixels": sk.load_digits().images[order[i]].astype(int).tolist()}


@pytest.mark.parametrize("i", [5, 1000])
def test_the_pixels_are_the_step_routes_example_before_standardizing(client, digits, i):
    """The same index as a step's example=i: its served X column is (pixels - mean) / std."""
    pixels = np.array(get(client, f"/api/runs/{digits['id']}/examples/{i}")["pixels"])
    step = get(client, f"/api/runs/{digits['id']}/steps/0?example={i}&fields=X")
    X = np.array(step["batch"]["X"]["data"])
    data = load_dataset("digits", 0, None, 0.2, DIGITS["seed"])
    np.testing.assert_allclose((pixels.reshape(64, 1) - data.mean) / data.std, X,
                               rtol=1e-12, atol=1e-12)


@pytest.fixture
def held_training(monkeypatch):
    """Training waits for the gate, so a run stays untrained until the test opens it."""
    gate, train = threading.Event(), Run.train

    def held(self, *args, **kwargs):
        gate.wait(30)
        return train(self, *args, **kwargs)
    monkeypatch.setattr(Run, "train", held)
    yield gate
    gate.set()


def test_the_dataset_is_enough_no_step_is_needed(make_client, held_training):
    client = make_client(sync_seconds=0)
    info = client.post("/api/runs", json=DIGITS).json()
    answer = get(client, f"/api/runs/{info['id']}/examples/5")
    assert answer["pixels"] == sk.load_digits().images[split_order(3, 1797)[5]].tolist()
    run = get(client, f"/api/runs/{info['id']}")
    assert (run["status"], run["num_steps"]) == ("running", 0)
    assert client.get(f"/api/runs/{info['id']}/steps/0").status_code == 409


@pytest.mark.parametrize(("i", "shown"), [
    ("-1", "'-1'"), ("abc", "'abc'"), ("1.5", "'1.5'"), (str(M_TRAIN), f"'{M_TRAIN}'"),
    ("9" * 40, "'" + "9" * 40 + "'"),
])
def test_an_index_outside_the_training_set_is_404(client, digits, i, shown):
    response = client.get(f"/api/runs/{digits['id']}/examples/{i}")
    assert response.status_code == 404
    assert response.json()["detail"] == ("Example not found: i must be a training example, "
                                         f"an integer from 0 to {M_TRAIN - 1}, got {shown}")


def test_an_unknown_run_is_404(client, digits):
    response = client.get(f"/api/runs/{digits['id'][:-2]}xx/examples/0")
    assert (response.status_code, response.json()) == (404, {"detail": "Run not found"})


@pytest.mark.parametrize("config", [SMALL, {"dataset": "iris", "steps": 2}])
def test_data_that_are_not_images_are_422_naming_dataset(client, config):
    run = client.post("/api/runs", json=config).json()
    response = client.get(f"/api/runs/{run['id']}/examples/0")
    assert response.status_code == 422
    assert response.json()["detail"] == (f"dataset: the examples of {config['dataset']!r} "
                                         "are not images; only those of digits are")


def test_the_answer_matches_its_openapi_schema(client, digits):
    document = get(client, "/openapi.json")
    operation = document["paths"]["/api/runs/{run_id}/examples/{i}"]["get"]
    assert {"200", "404", "422"} <= set(operation["responses"])
    schema = document["components"]["schemas"]["ExampleImage"]
    assert set(schema["required"]) == {"index", "image_shape", "pixels", "levels"}
    validator = Draft202012Validator({**document, "$ref": "#/components/schemas/ExampleImage"})
    answer = get(client, f"/api/runs/{digits['id']}/examples/3")
    assert list(validator.iter_errors(answer)) == []
    assert not validator.is_valid({**answer, "pixels": [[0.5] * 8] * 8})  # whole levels
