"""The step route's lean answers (app/routes/steps.py, docs/api.md "Lean answers"): digits=N
rounds every tensor to N significant digits, encoding=u8 sends a byte per cell, both within
their stated precision of the exact numbers, with non-finite cells still marked; the
default answer stays full precision; and the predictions route gives each example's class."""

import numpy as np
import pytest

from app.config_limits import check_config
from app.routes import steps as steps_routes
from app.run_ids import canonical_json
from app.serialize import significant
from app.settings import Settings
from engine.unit_maps import LEVELS, NON_FINITE, dequantise
from tests.conftest import DIVERGENT, strict_json
from tests.test_serialize import byte_codes, within_digits

# a classifier whose softmax output overflows at its last step (tests/test_boundary.py)
DIVERGED_SPIRAL = {"dataset": "spiral", "learning_rate": 10, "steps": 200,
                   "hidden_layers": [64] * 3, "init": "uniform"}
MINI_BATCH = {"dataset": "spiral", "n_samples": 150, "hidden_layers": [6], "batch_size": 32,
              "steps": 6}


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.text
    return strict_json(response.text)


def tensors(record):
    """{(l, name): tensor} of a step answer, the batch's X and Y at l = 0."""
    found = {(0, k): v for k, v in record.get("batch", {}).items() if k in ("X", "Y")}
    for layer in record["layers"]:
        groups = [layer.get("linear_cache", {}), layer.get("activation_cache", {}),
                  layer.get("grads", {}), {k: layer[k] for k in ("A", "D") if layer.get(k)},
                  {f"update_{k}": v for k, v in layer.get("update", {}).items()}]
        found.update({(layer["l"], name): t for group in groups for name, t in group.items()})
    return found


def has_digits(v, digits):
    """Every number of v is written with at most `digits` significant digits."""
    return np.array_equal(significant(v, digits), v, equal_nan=True)


def values(t):
    """A served tensor's numbers, NaN where not finite: rows of numbers, or its bytes."""
    if "bytes" not in t:
        return np.array([[np.nan if v is None else v for v in row] for row in t["data"]])
    codes = byte_codes(t)
    lo, hi = (np.nan if v is None else v for v in (t["lo"], t["hi"]))
    return dequantise(codes, np.full(len(codes), lo), np.full(len(codes), hi))


@pytest.fixture(scope="module")
def diverged(client):
    info = client.post("/api/runs", json=DIVERGENT).json()
    assert info["status"] == "diverged"
    return info


@pytest.mark.parametrize("digits", [1, 3, 4, 6])
@pytest.mark.parametrize("query", ["", "?max_cells=40", "?example=5&fields=X,Z,W,dW,update"])
def test_digits_round_every_tensor_to_its_significant_digits(client, small_run, query, digits):
    url = f"/api/runs/{small_run['id']}/steps/7{query}"
    exact, lean = get(client, url), get(client, f"{url}{'&' if query else '?'}digits={digits}")
    assert lean["cost"] == exact["cost"]  # a scalar, not a tensor: exact
    assert tensors(lean).keys() == tensors(exact).keys()
    for key, t in tensors(exact).items():
        sent = values(tensors(lean)[key])
        assert tensors(lean)[key]["shape"] == t["shape"], key
        assert has_digits(sent, digits) and within_digits(sent, values(t), digits), key


@pytest.mark.parametrize("encoding", ["u8", "u8delta"])
@pytest.mark.parametrize("query", ["", "?max_cells=40", "?layers=2&fields=Z,dW",
                                   "?example=5&fields=X,Z,W"])
def test_bytes_come_back_within_half_a_step_of_each_tensors_range(client, small_run, query,
                                                                   encoding):
    url = f"/api/runs/{small_run['id']}/steps/7{query}"
    exact = get(client, url)
    lean = get(client, f"{url}{'&' if query else '?'}encoding={encoding}")
    assert tensors(lean).keys() == tensors(exact).keys()
    for key, t in tensors(exact).items():
        sent, want = tensors(lean)[key], values(t)
        assert "data" not in sent and sent["shape"] == t["shape"], key
        assert sent.get("downsampled_from") == t.get("downsampled_from"), key
        assert (sent["lo"], sent["hi"]) == (want.min(), want.max()), key
        error = np.max(np.abs(values(sent) - want))
        assert error <= (want.max() - want.min()) / (2 * LEVELS) * (1 + 1e-12), key


@pytest.mark.parametrize("form", ["digits=3", "encoding=u8", "encoding=u8delta"])
def test_non_finite_cells_stay_marked(client, diverged, form):
    url = f"/api/runs/{diverged['id']}/steps/{diverged['diverged']['step']}"
    exact, lean = get(client, url), get(client, f"{url}?{form}")
    marked = 0
    for key, t in tensors(exact).items():
        want, sent = values(t), tensors(lean)[key]
        assert np.array_equal(np.isnan(values(sent)), ~np.isfinite(want)), key
        if "data" in sent:
            assert has_digits(values(sent), 3), key
        if "bytes" in sent:
            codes = byte_codes(sent).ravel()
            assert np.array_equal(codes == NON_FINITE, ~np.isfinite(want.ravel())), key
        marked += int(np.isnan(want).sum())
    assert marked > 0  # the step has non-finite cells to mark


def test_without_a_form_the_answer_is_full_precision(client, small_run):
    url = f"/api/runs/{small_run['id']}/steps/7"
    full = client.get(url).content
    assert client.get(f"{url}?encoding=json").content == full
    W = strict_json(full)["layers"][0]["linear_cache"]["W"]["data"]
    assert any(len(repr(v)) > 12 for row in W for v in row)  # 17-digit doubles, not rounded


def test_each_form_is_its_own_answer(client, small_run):
    """The answer cache keeps each form apart: a lean answer is never served for another."""
    url = f"/api/runs/{small_run['id']}/steps/3?layers=1&fields=W"
    answers = [client.get(url + form).json()["layers"][0]["linear_cache"]["W"]
               for form in ("&digits=2", "&digits=6", "&encoding=u8", "")]
    assert answers[0] != answers[1] and "bytes" in answers[2] and "data" in answers[3]
    assert within_digits(values(answers[0]), values(answers[3]), 2)
    assert within_digits(values(answers[1]), values(answers[3]), 6)


@pytest.mark.parametrize(("query", "words"), [
    ("digits=0", "digits: input should be greater than or equal to 1"),
    ("digits=18", "digits: input should be less than or equal to 17"),
    ("digits=four", "digits: input should be a valid integer"),
    ("encoding=f16", "encoding: input should be 'json', 'u8' or 'u8delta'"),
    ("digits=3&digits=4", "digits: given 2 times"),
])
def test_a_bad_form_is_422_naming_the_field_and_its_limit(client, small_run, query, words):
    response = client.get(f"/api/runs/{small_run['id']}/steps/1?{query}")
    assert response.status_code == 422
    assert words in response.json()["detail"]


def output_of(client, info, t):
    L = len(info["config"]["activations"])
    return values(get(client, f"/api/runs/{info['id']}/steps/{t}?layers={L}&fields=A")
                  ["layers"][0]["A"])


@pytest.mark.parametrize("config", [{"dataset": "moons", "n_samples": 100, "steps": 5},
                                    {"dataset": "iris", "hidden_layers": [5], "steps": 5},
                                    MINI_BATCH], ids=["binary", "multiclass", "mini-batch"])
def test_predictions_are_the_outputs_classes(client, config):
    info = client.post("/api/runs", json=config).json()
    for t in (0, 4):
        answer = get(client, f"/api/runs/{info['id']}/steps/{t}/predictions")
        A = output_of(client, info, t)
        want = (A[0] > 0.5).astype(int) if len(A) == 1 else A.argmax(axis=0)
        assert answer == {"step": t, "classes": want.tolist()}  # batch.indices' order


def test_a_non_finite_output_predicts_no_class(client):
    info = client.post("/api/runs", json=DIVERGED_SPIRAL).json()
    last = info["num_steps"] - 1
    classes = get(client, f"/api/runs/{info['id']}/steps/{last}/predictions")["classes"]
    finite = np.isfinite(output_of(client, info, last)).all(axis=0)
    assert not finite.all()
    assert [c is not None for c in classes] == finite.tolist()


def test_a_regression_has_no_predicted_classes(client):
    info = client.post("/api/runs", json={"dataset": "sine", "steps": 3}).json()
    response = client.get(f"/api/runs/{info['id']}/steps/1/predictions")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("dataset: sine is a regression")


@pytest.mark.parametrize(("path", "status"), [("/steps/20/predictions", 404),
                                              ("/steps/-1/predictions", 404)])
def test_predictions_of_an_unknown_step_are_404(client, small_run, path, status):
    assert client.get(f"/api/runs/{small_run['id']}{path}").status_code == status


STEP_ROUTES = ["/steps/{t}", "/steps/{t}/gradcheck", "/steps/{t}/predictions",
               "/steps/{t}/units?layer=1", "/steps/{t}/boundary"]


@pytest.mark.parametrize("route", STEP_ROUTES)
def test_a_step_no_run_of_the_config_has_is_a_404_without_waiting(client, monkeypatch, route):
    """A run still training makes a request for a step it has not published wait for it
    (up to sync_seconds), but not one for a step past the config's steps, or a t that is
    no step (404s whatever training does), nor one for a step already published: stepping
    through a long run while it trained took a second a step."""
    waits = []

    async def wait_finished(run, seconds):
        waits.append(seconds)
        return True

    monkeypatch.setattr(steps_routes, "wait_finished", wait_finished)
    run_id = client.post("/api/runs", json=MINI_BATCH).json()["id"]
    for t in (MINI_BATCH["steps"], 10**9, "abc", "-1"):
        response = client.get(f"/api/runs/{run_id}{route.format(t=t)}")
        assert response.status_code == 404, (t, response.text)
        assert response.json()["detail"].startswith("Step not found: t must be an integer "
                                                    f"from 0 to {MINI_BATCH['steps'] - 1}")
    assert waits == []
    # a step training has published is answered at once, whether or not the run is done
    assert client.get(f"/api/runs/{run_id}{route.format(t=5)}").status_code == 200
    assert waits == []
    run = client.app.state.run_cache.peek(canonical_json(check_config(MINI_BATCH, Settings())))
    monkeypatch.setattr(run, "num_steps", 3)  # as if it had published 3 steps of 6
    client.get(f"/api/runs/{run_id}{route.format(t=2)}")
    assert waits == []
    client.get(f"/api/runs/{run_id}{route.format(t=4)}")  # one still to come: waited for
    assert len(waits) == 1
