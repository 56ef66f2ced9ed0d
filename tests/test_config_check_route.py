"""POST /api/configs/check and GET /api/run-ids/{run_id}: what POST /api/runs would say of
a config, and the run routes of an id, answered 200, and nothing trained."""

import pytest

from app.run_ids import canonical_json, encode_legacy_run_id, encode_run_id
from engine.config import normalize_config
from tests.conftest import strict_json

BAD = [
    {"hidden_layers": [8, "abc"]},
    {"learning_rate": 50},
    {"steps": 10**7},
    {"bogus": 1},
    {"dataset": "nope"},
    {"hidden_layers": [8], "activations": ["relu"]},
    {"activations": ["relu", "relu", "nope"]},
    {"batch_size": 0},
]


@pytest.mark.parametrize("body", BAD, ids=lambda body: ",".join(body))
def test_a_refused_config_gets_the_detail_its_run_would_get(client, body):
    refused = client.post("/api/runs", json=body)
    assert refused.status_code == 422
    answer = client.post("/api/configs/check", json=body)
    assert answer.status_code == 200
    verdict = strict_json(answer.content)
    assert verdict["valid"] is False and verdict["config"] is None
    assert verdict["detail"] == refused.json()["detail"]
    assert verdict["errors"] == refused.json().get("errors", [])


@pytest.mark.parametrize("body", [{}, {"dataset": "iris", "hidden_layers": [5], "steps": 40}])
def test_a_config_it_would_take_comes_back_normalized_and_untrained(client, body):
    runs = client.app.state.run_cache
    before = len(runs)
    verdict = client.post("/api/configs/check", json=body).json()
    assert verdict == {"valid": True, "detail": None, "errors": [],
                       "config": verdict["config"]}
    assert len(runs) == before  # checked, not trained
    assert client.post("/api/runs", json=body).json()["config"] == verdict["config"]


@pytest.mark.parametrize("body", [b'{"hidden_layers": ' + b"[" * 30000, b'{"dataset": "\xff\xfe"}',
                                  b'{"steps": ', b'{"steps": 5,}'],
                         ids=["nested_too_deeply", "not_utf8", "cut_short", "trailing_comma"])
def test_a_body_json_cannot_read_gets_the_detail_its_run_would_get(client, body):
    headers = {"content-type": "application/json"}
    refused = client.post("/api/runs", content=body, headers=headers)
    assert refused.status_code == 422
    verdict = client.post("/api/configs/check", content=body, headers=headers)
    assert verdict.status_code == 200
    assert verdict.json()["valid"] is False
    assert verdict.json()["detail"] == refused.json()["detail"]


def test_a_body_that_is_no_config_is_a_verdict_too_but_not_json_is_refused(client):
    broken = client.post("/api/configs/check", content=b"{bad",
                         headers={"content-type": "application/json"}).json()
    assert broken["valid"] is False and broken["detail"].startswith("body: invalid JSON")
    plain = client.post("/api/configs/check", content=b"a=1",
                        headers={"content-type": "text/plain"})
    assert plain.status_code == 415


# GET /api/run-ids/{run_id}: what the run routes would say of an id, answered 200


def test_an_id_of_this_server_is_valid_with_its_config_and_untrained(client, small_run):
    run_id = small_run["id"]
    cache = client.app.state.run_cache
    answer = client.get(f"/api/run-ids/{run_id}")
    assert answer.status_code == 200
    verdict = strict_json(answer.content)
    assert verdict == {"valid": True, "id": run_id, "detail": None,
                       "config": client.get(f"/api/runs/{run_id}").json()["config"]}
    other = encode_run_id(normalize_config({**small_run["config"], "seed": 99}))
    assert client.get(f"/api/run-ids/{other}").json()["valid"] is True
    assert cache.peek(canonical_json(normalize_config({**small_run["config"], "seed": 99}))) \
        is None  # checking an id trains nothing


def test_an_r1_id_answers_the_runs_current_id(client, small_run):
    legacy = encode_legacy_run_id(small_run["config"])
    assert client.get(f"/api/run-ids/{legacy}").json()["id"] == small_run["id"]


@pytest.mark.parametrize("run_id", ["r2garbage", "hello world", "r2" + "A" * 3000, "bogus"])
def test_an_id_the_run_routes_refuse_gets_their_detail(client, small_run, run_id):
    assert client.get(f"/api/runs/{run_id}").status_code == 404
    cut = small_run["id"][:-2]
    for bad in (run_id, cut):
        refused = client.get(f"/api/runs/{bad}")
        verdict = client.get(f"/api/run-ids/{bad}")
        assert (refused.status_code, verdict.status_code) == (404, 200)
        assert verdict.json() == {"valid": False, "id": None, "config": None,
                                  "detail": refused.json()["detail"]}


def test_an_unknown_query_parameter_is_still_a_422(client, small_run):
    assert client.get(f"/api/run-ids/{small_run['id']}?x=1").status_code == 422
