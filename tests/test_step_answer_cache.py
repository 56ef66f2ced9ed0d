"""app.step_answer_cache.AnswerCache and its use by the step route: finished runs' answers only."""

import time

import pytest

import app.routes.steps
from app.step_answer_cache import ENTRY_OVERHEAD, AnswerCache
from tests.conftest import SMALL


def answer(size):
    return b"x" * (size - ENTRY_OVERHEAD)


def test_least_recently_used_answers_leave_first():
    cache = AnswerCache(1000)
    for key in "abc":
        cache.put(key, answer(250))
    assert cache.get("a") == answer(250)  # a is now more recent than b
    cache.put("d", answer(250))  # exactly the budget: nothing leaves
    cache.put("e", answer(250))
    assert [cache.get(k) is not None for k in "abcde"] == [True, False, True, True, True]
    assert cache.nbytes == 1000 and len(cache) == 4


def test_putting_a_key_again_replaces_it():
    cache = AnswerCache(1000)
    cache.put("a", answer(250))
    cache.put("a", answer(240))
    assert (cache.get("a"), cache.nbytes, len(cache)) == (answer(240), 240, 1)


@pytest.mark.parametrize(("budget", "kept"), [(1000, True), (999, False), (0, False)])
def test_an_answer_over_a_quarter_of_the_budget_is_not_kept(budget, kept):
    cache = AnswerCache(budget)
    cache.put("a", answer(250))
    assert (cache.get("a") is not None, cache.nbytes) == (kept, 250 if kept else 0)


@pytest.fixture
def computed(monkeypatch):
    """The (t, layers, fields, max_cells) of every step answer actually computed."""
    calls, step_json = [], app.routes.steps.step_json

    def counting(ref, t, layers, fields, max_cells, *more):  # more: example, form
        calls.append((t, layers, fields, max_cells))
        return step_json(ref, t, layers, fields, max_cells, *more)

    monkeypatch.setattr(app.routes.steps, "step_json", counting)
    return calls


def test_a_finished_runs_step_is_computed_once_per_query(make_client, computed):
    client = make_client()
    run_id = client.post("/api/runs", json=SMALL).json()["id"]
    queries = ["", "?layers=2", "?layers=2&fields=dW,W", "?fields=W,dW&layers=2",
               "?max_cells=7", "?example=3", "?example=4", "", "?example=3"]
    bodies = [client.get(f"/api/runs/{run_id}/steps/5{query}").content for query in queries]
    assert bodies[0] == bodies[-2] and bodies[5] == bodies[-1]
    assert bodies[2] == bodies[3]  # the same tensors asked in another order
    assert bodies[5] != bodies[6]  # one example is not another
    assert len(computed) == 6
    assert len(client.app.state.answer_cache) == 6


def test_answers_of_a_run_still_training_are_not_kept(make_client, computed):
    slow = make_client(sync_seconds=0)
    config = {"dataset": "digits", "hidden_layers": [128, 128, 128], "steps": 2000}
    run_id = slow.post("/api/runs", json=config).json()["id"]
    deadline = time.monotonic() + 30
    while slow.get(f"/api/runs/{run_id}").json()["num_steps"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    for _ in range(2):
        response = slow.get(f"/api/runs/{run_id}/steps/0?fields=W")
        assert response.status_code == 200
    assert len(computed) == 2 and len(slow.app.state.answer_cache) == 0


def test_the_cache_can_be_turned_off(make_client, computed):
    client = make_client(answer_cache_bytes=0)
    run_id = client.post("/api/runs", json=SMALL).json()["id"]
    for _ in range(2):
        assert client.get(f"/api/runs/{run_id}/steps/3").status_code == 200
    assert len(computed) == 2 and len(client.app.state.answer_cache) == 0
