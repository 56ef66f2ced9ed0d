"""example=i on the step route: one training example's column of every tensor with the
batch axis, equal to that column of the full step answer; the other tensors unchanged."""

import pytest

from engine.records import BATCH_AXIS
from tests.conftest import DIVERGENT, strict_json

CONFIGS = {
    "moons full batch": {"dataset": "moons", "n_samples": 100, "hidden_layers": [4, 3],
                         "steps": 6},
    "spiral mini-batch": {"dataset": "spiral", "n_samples": 150, "hidden_layers": [6],
                          "activations": ["tanh", "softmax"], "batch_size": 32, "steps": 6},
    "sine dropout": {"dataset": "sine", "n_samples": 80, "hidden_layers": [7, 5],
                     "keep_prob": 0.7, "steps": 6},
    "diverged": DIVERGENT,
}


@pytest.fixture(scope="module", params=list(CONFIGS))
def run(request, client):
    info = client.post("/api/runs", json=CONFIGS[request.param]).json()
    assert info["status"] in ("done", "diverged")
    return info


def fetch(client, run_id, t, query=""):
    response = client.get(f"/api/runs/{run_id}/steps/{t}{query}")
    assert response.status_code == 200, response.text
    return strict_json(response.text)


def column(tensor, k):
    """Column k of a served tensor, as a served (n, 1) tensor."""
    return {"shape": [tensor["shape"][0], 1], "data": [[row[k]] for row in tensor["data"]]}


def tensors(record):
    """(place, name, tensor) of every tensor in a served record."""
    batch = record.get("batch", {})
    found = [("batch", name, batch[name]) for name in ("X", "Y") if name in batch]
    for layer in record["layers"]:
        for group in ("linear_cache", "activation_cache", "grads", "update"):
            found += [(f"{layer['l']}.{group}", name, tensor)
                      for name, tensor in layer.get(group, {}).items()]
        found += [(layer["l"], name, layer[name]) for name in ("A", "D")
                  if layer.get(name) is not None]
    return found


def test_an_example_is_its_column_of_the_full_step(client, run):
    last = run["num_steps"] - 1
    for t in sorted({0, last}):
        full = fetch(client, run["id"], t)
        indices = full["batch"]["indices"]
        for k in sorted({0, len(indices) // 2, len(indices) - 1}):
            one = fetch(client, run["id"], t, f"?example={indices[k]}")
            assert one["batch"]["indices"] == [indices[k]]
            assert {key: one[key] for key in ("step", "epoch", "cost")} == \
                {key: full[key] for key in ("step", "epoch", "cost")}
            pairs = list(zip(tensors(full), tensors(one), strict=True))
            for (place, name, whole), (_, other_name, narrowed) in pairs:
                assert name == other_name
                expected = column(whole, k) if name in BATCH_AXIS else whole
                assert narrowed == expected, (t, k, place, name)


def test_a_diverged_step_sends_its_nulls(client):
    info = client.post("/api/runs", json=DIVERGENT).json()
    t = info["diverged"]["step"]
    full = fetch(client, info["id"], t)
    dZ = full["layers"][0]["grads"]["dZ"]
    nulls = [k for k in range(dZ["shape"][1]) if any(row[k] is None for row in dZ["data"])]
    assert nulls, "the diverged step's dZ[1] holds no null"
    one = fetch(client, info["id"], t, f"?example={full['batch']['indices'][nulls[0]]}")
    assert one["layers"][0]["grads"]["dZ"] == column(dZ, nulls[0])


def test_layers_fields_and_max_cells_narrow_the_rest(client, small_run):
    query = "?example=7&layers=2&fields=A_prev,W,dZ,X&max_cells=1"
    one = fetch(client, small_run["id"], 3, query)
    full = fetch(client, small_run["id"], 3, "?layers=2&fields=A_prev,W,dZ,X&max_cells=1")
    whole = fetch(client, small_run["id"], 3)
    assert set(one["batch"]) == {"X", "indices"} and one["batch"]["indices"] == [7]
    assert one["batch"]["X"] == column(whole["batch"]["X"], 7)  # full size, not averaged
    [layer], second = one["layers"], whole["layers"][1]
    assert set(layer["linear_cache"]) == {"A_prev", "W"} and set(layer["grads"]) == {"dZ"}
    assert layer["linear_cache"]["A_prev"] == column(second["linear_cache"]["A_prev"], 7)
    assert layer["grads"]["dZ"] == column(second["grads"]["dZ"], 7)
    assert layer["linear_cache"]["W"] == full["layers"][0]["linear_cache"]["W"]
    assert layer["linear_cache"]["W"]["downsampled_from"] == [3, 4]


@pytest.mark.parametrize(("value", "words"), [
    ("-1", "greater than or equal to 0"), ("1.5", "valid integer"), ("abc", "valid integer"),
    ("", "valid integer"), ("9" * 30, "example " + "9" * 20 + "… is not in this step's batch"),
    ("9" * 5000, "exceeded maximum size"), ("80", "is not in this step's batch"),
])
def test_a_bad_example_is_422_naming_example(client, small_run, value, words):
    response = client.get(f"/api/runs/{small_run['id']}/steps/3?example={value}")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("example: ") and words in detail


def test_an_example_outside_a_mini_batch_is_422(client):
    info = client.post("/api/runs", json=CONFIGS["spiral mini-batch"]).json()
    indices = fetch(client, info["id"], 2, "?fields=Y")["batch"]["indices"]
    outside = next(i for i in range(120) if i not in indices)
    response = client.get(f"/api/runs/{info['id']}/steps/2?example={outside}")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"example: training example {outside} is not in this step's batch; choose one of "
        "its batch.indices (step 2)")


def test_a_repeated_example_is_422(client, small_run):
    response = client.get(f"/api/runs/{small_run['id']}/steps/3?example=1&example=2")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("example: given 2 times")


def test_the_ceiling_counts_one_example(make_client):
    """A whole step is over a small ceiling; one example of it is not."""
    small = make_client(max_answer_cells=400)
    run_id = small.post("/api/runs", json=CONFIGS["moons full batch"]).json()["id"]
    assert small.get(f"/api/runs/{run_id}/steps/1?fields=A_prev,Z,A,dA,dZ").status_code == 422
    response = small.get(f"/api/runs/{run_id}/steps/1?example=5")
    assert response.status_code == 200
    assert response.json()["layers"][0]["A"]["shape"] == [4, 1]
