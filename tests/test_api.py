"""The HTTP API of docs/api.md through the ASGI app: statuses and bodies."""

import time

import numpy as np
import pytest

from app import __version__
from app.run_ids import decode_run_id, encode_run_id
from engine import run as run_module
from engine.config import CHOICES, DEFAULT_CONFIG, normalize_config
from engine.datasets import load_dataset
from engine.run import Run
from tests.conftest import DIVERGENT, SMALL, strict_json

INFO_KEYS = {"id", "config", "status", "progress", "num_steps", "diverged", "bug_active",
             "queue_position"}


def wait_done(client, run_id, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        info = client.get(f"/api/runs/{run_id}").json()
        if info["status"] != "running":
            return info
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still running after {seconds} s")


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_options_offer_choices_limits_and_a_complete_default(client):
    response = client.get("/api/options")
    assert response.status_code == 200
    options = response.json()
    assert [d["name"] for d in options["datasets"]] == CHOICES["dataset"]
    for key, field in [("activations", "activations"), ("losses", "loss"), ("inits", "init"),
                       ("optimizers", "optimizer"), ("bugs", "bug")]:
        assert options[key] == CHOICES[field]
    assert len(options["bugs"]) == 6
    assert options["limits"]["steps"]["max"] == 2000
    assert options["limits"]["hidden_layers"] == {"max_layers": 6, "min_width": 1,
                                                  "max_width": 128}
    assert options["default_config"] == normalize_config({})  # complete, as normalized
    assert options["server"]["compute_budget"] >= 2.7e12
    assert options["server"]["max_tensor_cells"] >= 128 * 2000


def test_post_answers_201_with_the_normalized_config(client):
    response = client.post("/api/runs", json=SMALL)
    assert response.status_code == 201
    info = response.json()
    assert set(info) == INFO_KEYS
    assert info["config"] == normalize_config(SMALL)
    assert info["id"] == encode_run_id(info["config"])
    assert decode_run_id(info["id"]) == info["config"]
    assert (info["status"], info["progress"], info["num_steps"], info["diverged"]) == \
        ("done", 1.0, 20, None)
    assert info["bug_active"] is False and info["config"]["bug"] is None


def test_the_same_config_is_the_same_run(client, small_run):
    spelled_out = {**normalize_config(SMALL), "activations": ["relu", "relu", "sigmoid"]}
    again = client.post("/api/runs", json=spelled_out)
    assert again.status_code == 201
    assert again.json() == small_run


def test_get_run_info(client, small_run):
    response = client.get(f"/api/runs/{small_run['id']}")
    assert response.status_code == 200
    assert response.json() == small_run


def test_an_id_this_process_never_saw_is_served(make_client, small_run):
    fresh = make_client()
    first = fresh.get(f"/api/runs/{small_run['id']}")
    assert first.status_code == 200
    assert first.json()["status"] in ("running", "done")
    assert wait_done(fresh, small_run["id"]) == small_run


def test_slow_runs_answer_202_then_409_for_steps_not_computed(make_client):
    slow = make_client(sync_seconds=0)
    config = {"dataset": "digits", "hidden_layers": [128, 128, 128], "steps": 2000}
    response = slow.post("/api/runs", json=config)
    assert response.status_code == 202
    info = response.json()
    assert info["status"] == "running" and 0 <= info["progress"] < 1
    step = slow.get(f"/api/runs/{info['id']}/steps/1999")
    assert step.status_code == 409
    assert step.json()["detail"].startswith("Step not computed yet")
    assert slow.get(f"/api/runs/{info['id']}/steps/1999/gradcheck").status_code == 409
    assert slow.get(f"/api/runs/{info['id']}/histograms").status_code == 409
    assert slow.get(f"/api/runs/{info['id']}/scores").status_code == 409
    assert slow.get(f"/api/runs/{info['id']}/steps/2000").status_code == 404


def test_events_report_progress_then_done(make_client):
    slow = make_client(sync_seconds=0)
    config = {"dataset": "moons", "n_samples": 2000, "hidden_layers": [64, 64], "steps": 300}
    run_id = slow.post("/api/runs", json=config).json()["id"]
    response = slow.get(f"/api/runs/{run_id}/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block.split("\n") for block in response.text.strip().split("\n\n")]
    events = [(lines[0].removeprefix("event: "), strict_json(lines[1].removeprefix("data: ")))
              for lines in events if lines[0].startswith("event: ")]
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) <= {"progress"}
    assert events[-1][1]["num_steps"] == 300 and events[-1][1]["status"] == "done"
    steps_seen = [data["num_steps"] for _, data in events]
    assert steps_seen == sorted(steps_seen)


def test_summary_has_one_entry_per_step(client, small_run):
    response = client.get(f"/api/runs/{small_run['id']}/summary")
    assert response.status_code == 200
    summary = strict_json(response.text)
    assert len(summary["cost"]) == len(summary["train_accuracy"]) == 20
    assert all(0 <= a <= 1 for a in summary["train_accuracy"] + summary["test_accuracy"])
    assert [layer["l"] for layer in summary["layers"]] == [1, 2, 3]
    for key in ("dW_norm", "db_norm", "W_norm", "update_ratio", "Z_mean", "A_std"):
        assert len(summary["layers"][0][key]) == 20


def test_regression_summary_gives_r2_instead_of_accuracy(client):
    run = client.post("/api/runs", json={"dataset": "sine", "steps": 10}).json()
    summary = client.get(f"/api/runs/{run['id']}/summary").json()
    assert summary["train_accuracy"] is None and summary["test_accuracy"] is None
    assert summary["batch_accuracy"] is None
    assert len(summary["train_r2"]) == len(summary["test_r2"]) == len(summary["batch_r2"]) == 10


def test_a_mini_batch_summary_says_which_steps_scored_the_whole_sets(client):
    """Every step's batch accuracy; train and test accuracy every k-th step and at the
    last, null at the others (docs/api.md, "Summary")."""
    config = {"dataset": "digits", "hidden_layers": [16], "batch_size": 64, "steps": 120}
    run = client.post("/api/runs", json=config).json()
    response = client.get(f"/api/runs/{run['id']}/summary")
    assert response.status_code == 200
    summary = strict_json(response.text)
    k = summary["evaluated_every"]
    assert 1 < k < 119
    assert all(0 <= a <= 1 for a in summary["batch_accuracy"])
    for key in ("train_accuracy", "test_accuracy"):
        scored = [t for t, a in enumerate(summary[key]) if a is not None]
        assert scored == [t for t in range(120) if t % k == 0 or t == 119], key


def _accuracy_of(record, X, Y):
    """θ_t's accuracy on (X, Y) from a served step record's W and b, plainly (ReLU hidden
    layers, softmax output)."""
    A = X
    for layer in record["layers"]:
        cache = layer["linear_cache"]
        Z = np.array(cache["W"]["data"]) @ A + np.array(cache["b"]["data"])
        A = np.maximum(Z, 0) if layer["activation"] == "relu" else Z  # softmax: argmax of Z
    return float(np.mean(A.argmax(0) == Y.argmax(0)))


def test_scores_are_theta_t_on_the_whole_sets_at_any_step(client):
    """A mini-batch run's summary scores the whole sets every k-th step; the scores route
    scores θ_t of any step, as a recomputation from the served record gives it, and at
    the steps training scored, gives the summary's very numbers."""
    config = {"dataset": "digits", "hidden_layers": [16], "batch_size": 64, "steps": 120}
    run = client.post("/api/runs", json=config).json()
    summary = client.get(f"/api/runs/{run['id']}/summary").json()
    k = summary["evaluated_every"]
    steps = [1, k, k + 3, 119]
    response = client.get(f"/api/runs/{run['id']}/scores",
                          params={"steps": ",".join(map(str, steps))})
    assert response.status_code == 200
    scores = strict_json(response.text)
    assert set(scores) == {"steps", "train_accuracy", "test_accuracy"}
    assert scores["steps"] == steps
    cfg = run["config"]
    data = load_dataset(cfg["dataset"], cfg["n_samples"], cfg["noise"], cfg["test_fraction"],
                        cfg["seed"])
    for j, t in enumerate(steps):
        record = client.get(f"/api/runs/{run['id']}/steps/{t}", params={"fields": "W,b"}).json()
        assert scores["train_accuracy"][j] == pytest.approx(
            _accuracy_of(record, data.X_train, data.Y_train), abs=1e-12)
        assert scores["test_accuracy"][j] == pytest.approx(
            _accuracy_of(record, data.X_test, data.Y_test), abs=1e-12)
        if summary["train_accuracy"][t] is not None:
            assert t in (k, 119)
            assert scores["train_accuracy"][j] == summary["train_accuracy"][t]
            assert scores["test_accuracy"][j] == summary["test_accuracy"][t]
    spread = client.get(f"/api/runs/{run['id']}/scores").json()
    assert spread["steps"][0] == 0 and spread["steps"][-1] == 119 and len(spread["steps"]) == 50


def test_regression_scores_give_r2(client):
    run = client.post("/api/runs", json={"dataset": "sine", "batch_size": 8, "steps": 30}).json()
    scores = client.get(f"/api/runs/{run['id']}/scores", params={"steps": "5"}).json()
    assert scores["train_accuracy"] is None and scores["test_accuracy"] is None
    assert len(scores["train_r2"]) == len(scores["test_r2"]) == 1


def test_histograms_of_a_finished_run(client, small_run):
    response = client.get(f"/api/runs/{small_run['id']}/histograms")
    assert response.status_code == 200
    histograms = strict_json(response.text)
    assert set(histograms) >= {"steps", "edges", "layers"}
    assert histograms["steps"][0] == 0 and histograms["steps"][-1] == 19
    assert len(histograms["layers"]) == 3


def test_histograms_at_named_steps(client, small_run):
    response = client.get(f"/api/runs/{small_run['id']}/histograms", params={"steps": "7,3,7"})
    assert response.status_code == 200
    histograms = strict_json(response.text)
    assert histograms["steps"] == [3, 7]
    record = client.get(f"/api/runs/{small_run['id']}/steps/7", params={"fields": "Z"}).json()
    Z = record["layers"][0]["activation_cache"]["Z"]
    assert sum(histograms["layers"][0]["Z"][1]) == len(Z["data"]) * len(Z["data"][0])


# a mini-batch run that trains 60 steps, scoring the whole sets every k-th
MINI_BATCH = {"dataset": "moons", "hidden_layers": [4], "batch_size": 16, "steps": 60}


@pytest.mark.parametrize("route", ["histograms", "scores"])
def test_replays_that_recompute_too_much_are_422(client, monkeypatch, route):
    run = client.post("/api/runs", json=MINI_BATCH).json()
    summary = client.get(f"/api/runs/{run['id']}/summary").json()
    assert [summary["train_accuracy"][t] for t in (1, 3, 5)] == [None] * 3  # scores replay
    # no time to replay: one step each, which steps on checkpoints take
    monkeypatch.setattr(run_module, "HISTOGRAM_SECONDS", 0.0)
    # checkpoints every 2 steps: 1, 3 and 5 recompute 2 steps each
    response = client.get(f"/api/runs/{run['id']}/{route}", params={"steps": "1,3,5"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("steps: these steps recompute 6 training steps, "
                                                "at most 3 a request for this run")
    ok = client.get(f"/api/runs/{run['id']}/{route}", params={"steps": "0,2,4"})
    assert ok.status_code == 200


def test_scores_that_training_took_need_no_replay(client, small_run, monkeypatch):
    """A full-batch run scored the whole sets at every step: any steps are answered, with
    no time to replay; a mini-batch run's steps 0 and 59 (training scored them) beside 4
    (on a checkpoint)."""
    monkeypatch.setattr(run_module, "HISTOGRAM_SECONDS", 0.0)
    response = client.get(f"/api/runs/{small_run['id']}/scores", params={"steps": "1,3,5"})
    assert response.status_code == 200, response.text
    summary = client.get(f"/api/runs/{small_run['id']}/summary").json()
    assert response.json()["train_accuracy"] == [summary["train_accuracy"][t] for t in (1, 3, 5)]
    run = client.post("/api/runs", json=MINI_BATCH).json()
    response = client.get(f"/api/runs/{run['id']}/scores", params={"steps": "0,59,4"})
    assert response.status_code == 200, response.text
    summary = client.get(f"/api/runs/{run['id']}/summary").json()
    scores = response.json()
    assert scores["steps"] == [0, 4, 59] and summary["train_accuracy"][4] is None
    assert [scores["train_accuracy"][k] for k in (0, 2)] == [
        summary["train_accuracy"][t] for t in (0, 59)]


@pytest.mark.parametrize(("steps", "words"), [
    ("abc", "separated by commas"), ("", "separated by commas"),
    ("20", "steps 0 to 19"), ("-1", "steps 0 to 19"),
    (",".join(map(str, range(20))) + ",0", None),  # 20 distinct steps: fine
    (",".join(map(str, range(60))), "at most 50"),
])
@pytest.mark.parametrize("route", ["histograms", "scores"])
def test_bad_steps_are_422_naming_steps(client, small_run, steps, words, route):
    response = client.get(f"/api/runs/{small_run['id']}/{route}", params={"steps": steps})
    if words is None:
        assert response.status_code == 200
        return
    assert response.status_code == 422
    assert response.json()["detail"].startswith("steps:") and words in response.json()["detail"]


GRADCHECK_KEYS = {"step", "epsilon", "threshold", "layers", "relative_difference", "passed",
                  "sampled", "skipped_at_kinks", "noise_floor", "non_finite"}
GRADCHECK_LAYER_KEYS = {"l", "relative_difference", "checked", "total", "skipped_at_kinks",
                        "analytic_norm", "non_finite", "within_noise"}


def test_gradcheck_passes(client, small_run):
    response = client.get(f"/api/runs/{small_run['id']}/steps/7/gradcheck")
    assert response.status_code == 200
    check = response.json()
    assert set(check) == GRADCHECK_KEYS
    assert check["step"] == 7 and check["passed"] is True
    assert check["relative_difference"] < check["threshold"]
    assert [layer["l"] for layer in check["layers"]] == [1, 2, 3]
    assert all(0 < layer["checked"] <= layer["total"] for layer in check["layers"])
    # SMALL's layers are small enough to check whole
    assert check["sampled"] is False and check["skipped_at_kinks"] >= 0
    assert check["noise_floor"] >= 0
    assert all(set(layer) == GRADCHECK_LAYER_KEYS for layer in check["layers"])
    assert check["non_finite"] is None
    assert check["skipped_at_kinks"] == sum(layer["skipped_at_kinks"] for layer in check["layers"])


def test_gradcheck_of_a_big_layer_is_sampled(client):
    run = client.post("/api/runs", json={"dataset": "digits", "hidden_layers": [64],
                                         "steps": 2}).json()
    check = client.get(f"/api/runs/{run['id']}/steps/1/gradcheck").json()
    assert check["sampled"] is True
    assert any(layer["checked"] < layer["total"] for layer in check["layers"])


def test_divergence_is_reported_and_served_as_valid_json(client):
    response = client.post("/api/runs", json=DIVERGENT)
    assert response.status_code == 201
    info = response.json()
    assert info["status"] == "diverged" and info["progress"] == 1.0
    # the cost overflows first; its layer is L, the output layer
    assert info["diverged"] == {"step": info["diverged"]["step"], "layer": 4, "tensor": "cost"}
    last = info["diverged"]["step"]
    assert info["num_steps"] == last + 1
    step = client.get(f"/api/runs/{info['id']}/steps/{last}")
    assert step.status_code == 200
    assert "NaN" not in step.text and "Infinity" not in step.text
    assert "null" in step.text and strict_json(step.text)["step"] == last
    assert client.get(f"/api/runs/{info['id']}/steps/{last + 1}").status_code == 404
    summary = client.get(f"/api/runs/{info['id']}/summary")
    assert strict_json(summary.text)["cost"][-1] is None
    check = client.get(f"/api/runs/{info['id']}/steps/{last}/gradcheck")
    assert check.status_code == 200
    check = strict_json(check.text)
    assert set(check) == GRADCHECK_KEYS
    assert check["relative_difference"] is None and check["passed"] is False
    assert check["non_finite"] == "analytic"  # dW[4] is not finite


def test_a_diverged_cost_is_named_in_the_gradient_check(client):
    """Only the cost overflows at step 293 (tests/test_gradcheck.py): the check says that
    J(θ±ε), not a gradient, is not finite."""
    info = client.post("/api/runs", json={"dataset": "sine", "hidden_layers": [16, 16],
                                          "learning_rate": 3,
                                          "activations": ["tanh", "relu", "linear"]}).json()
    assert info["diverged"] == {"step": 293, "layer": 3, "tensor": "cost"}
    check = strict_json(client.get(f"/api/runs/{info['id']}/steps/293/gradcheck").text)
    assert check["non_finite"] == "cost" and check["passed"] is False
    assert [layer["non_finite"] for layer in check["layers"]] == ["cost"] * 3
    assert check["layers"][2]["analytic_norm"] > 1e153


@pytest.mark.parametrize("path", ["", "/summary", "/scores", "/events", "/steps/0",
                                  "/steps/0/gradcheck", "/steps/0/boundary",
                                  "/steps/0?example=0"])
def test_unknown_run_is_404(client, path):
    response = client.get(f"/api/runs/r1AAAA{path}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Run not found"}


def test_openapi_documents_every_config_field(client):
    schema = client.get("/openapi.json").json()
    fields = schema["components"]["schemas"]["RunConfig"]["properties"]
    assert set(fields) == set(DEFAULT_CONFIG)
    assert fields["dataset"]["enum"] == CHOICES["dataset"]
    assert {"enum": CHOICES["bug"], "type": "string"} in fields["bug"]["anyOf"]
    assert {"type": "null"} in fields["bug"]["anyOf"]
    assert "bug_active" in schema["components"]["schemas"]["RunInfo"]["required"]
    assert fields["learning_rate"]["exclusiveMinimum"] == 0 and \
        fields["learning_rate"]["maximum"] == 10
    assert fields["steps"]["minimum"] == 1 and fields["steps"]["maximum"] == 2000
    assert fields["hidden_layers"]["maxItems"] == 6
    gradcheck = schema["components"]["schemas"]["Gradcheck"]
    assert set(gradcheck["properties"]) == GRADCHECK_KEYS
    layer_schema = schema["components"]["schemas"]["GradcheckLayer"]
    assert set(layer_schema["properties"]) == GRADCHECK_LAYER_KEYS
    assert {"type": "null"} in gradcheck["properties"]["relative_difference"]["anyOf"]
    layer = schema["components"]["schemas"]["Divergence"]["properties"]["layer"]
    assert layer["type"] == "integer" and "output layer" in layer["description"]
    for path in ["/healthz", "/api/options", "/api/runs", "/api/runs/{run_id}",
                 "/api/runs/{run_id}/summary", "/api/runs/{run_id}/events",
                 "/api/runs/{run_id}/steps/{t}", "/api/runs/{run_id}/steps/{t}/gradcheck"]:
        assert path in schema["paths"]


@pytest.fixture
def failing_training(monkeypatch):
    """Every run's training raises, as an engine bug would (before any step: the cache,
    not Run.train, marks the run failed)."""
    def engine_bug(run, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(Run, "train", engine_bug)


def test_a_run_whose_training_raises_is_a_500_that_says_so(make_client, failing_training):
    response = make_client().post("/api/runs", json=SMALL)
    assert response.status_code == 500
    assert response.json() == {"detail": "training failed; see the server log"}


def test_the_events_of_a_run_whose_training_raises_end_with_an_error(make_client,
                                                                     failing_training):
    client = make_client(sync_seconds=0)
    run_id = encode_run_id(normalize_config(SMALL))
    response = client.get(f"/api/runs/{run_id}/events")
    assert response.status_code == 200
    last = response.text.strip().split("\n\n")[-1].split("\n")
    assert last == ["event: error", 'data: {"detail":"training failed; see the server log"}']


@pytest.mark.parametrize(("changes", "body", "status", "detail"), [
    ({"max_steps": 50}, {"steps": 60}, 422, "steps: must be <= 50, got 60"),
    ({"max_steps": 50}, {"steps": 50}, 201, None),
    ({"max_steps": 5000}, {"steps": 2500}, 201, None),  # beyond the contract's 2,000
    ({"max_width": 16}, {"hidden_layers": [8, 17]}, 422, "hidden_layers.1: must be <= 16, got 17"),
    ({"max_width": 256}, {"hidden_layers": [200]}, 201, None),
    ({"max_samples": 300}, {"n_samples": 301}, 422, "n_samples: must be <= 300, got 301"),
])
def test_posts_are_checked_against_the_settings_of_the_app(make_client, changes, body, status,
                                                           detail):
    client = make_client(sync_seconds=60, **changes)  # 201 once trained, however busy
    response = client.post("/api/runs", json={**SMALL, "steps": 2, **body})
    assert response.status_code == status, response.text
    if detail is not None:
        assert response.json()["detail"] == detail


# the six classic mistakes (CONTRACT §7): each is a run of its own, served like any other
BUG_RUN = {**SMALL, "keep_prob": 0.8, "l2": 0.2, "batch_size": 16,
           "activations": ["tanh", "relu", "sigmoid"]}


@pytest.mark.parametrize("bug", CHOICES["bug"])
def test_a_bug_run_is_served_with_true_grads(client, bug):
    response = client.post("/api/runs", json={**BUG_RUN, "bug": bug})
    assert response.status_code in (201, 202), response.text
    info = wait_done(client, response.json()["id"])
    assert info["config"]["bug"] == bug and info["bug_active"] is True
    assert client.get(f"/api/runs/{info['id']}").json()["bug_active"] is True
    record = strict_json(client.get(f"/api/runs/{info['id']}/steps/3").text)
    for layer in record["layers"]:
        assert set(layer["true_grads"]) == {"dA", "dZ", "dW", "db"}
        for name, tensor in layer["true_grads"].items():
            assert tensor["shape"] == layer["grads"][name]["shape"]
    narrowed = client.get(f"/api/runs/{info['id']}/steps/3?fields=dW&layers=2").json()
    assert narrowed["layers"][0]["true_grads"].keys() == {"dW"}
    assert narrowed["layers"][0]["true_grads"]["dW"]["shape"] == [3, 4]
    index = record["batch"]["indices"][5]
    one = client.get(f"/api/runs/{info['id']}/steps/3?example={index}&fields=dZ,db").json()
    column = [row[5] for row in record["layers"][0]["true_grads"]["dZ"]["data"]]
    assert [row[0] for row in one["layers"][0]["true_grads"]["dZ"]["data"]] == column
    assert one["layers"][0]["true_grads"]["db"] == record["layers"][0]["true_grads"]["db"]
    small = client.get(f"/api/runs/{info['id']}/steps/3?max_cells=4&fields=dZ").json()
    assert small["layers"][0]["true_grads"]["dZ"]["downsampled_from"] == [4, 16]


def test_an_inactive_bug_says_so(client):
    response = client.post("/api/runs", json={**SMALL, "bug": "l2_gradient_missing"})
    assert response.status_code == 201
    info = response.json()
    assert info["bug_active"] is False and info["config"]["bug"] == "l2_gradient_missing"
    plain = client.get(f"/api/runs/{encode_run_id(normalize_config(SMALL))}/steps/2").json()
    record = client.get(f"/api/runs/{info['id']}/steps/2").json()
    for layer, same in zip(record["layers"], plain["layers"], strict=True):
        assert layer["grads"] == same["grads"] == layer["true_grads"]
        assert layer["update"] == same["update"]


@pytest.mark.parametrize("bug", ["off_by_one", "", 3, ["wrong_update_sign"], True])
def test_an_unknown_bug_is_422_naming_bug(client, bug):
    response = client.post("/api/runs", json={**SMALL, "bug": bug})
    assert response.status_code == 422
    assert "bug" in response.json()["detail"]


def test_the_gradient_check_shows_the_mistake(client):
    info = client.post("/api/runs", json={**SMALL, "bug": "missing_1_over_m"}).json()
    check = client.get(f"/api/runs/{info['id']}/steps/0/gradcheck").json()
    assert check["passed"] is False and check["relative_difference"] > 0.1
