"""app.step_answer_cache.AnswerCache and its use by the step route: finished runs' answers only."""

import threading
import time

import anyio
import pytest
from fastapi import HTTPException

import app.routes.steps
from app.answer_size import BigAnswerSlots
from app.step_answer_cache import ENTRY_OVERHEAD, AnswerCache
from tests.conftest import SMALL
from tests.event_loops import run_async


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


def test_requests_for_an_answer_being_built_wait_for_that_build():
    cache, calls, release = AnswerCache(10_000), [], threading.Event()

    def build(name):
        calls.append(name)
        release.wait(5)
        return name.encode()

    async def main():
        async with anyio.create_task_group() as group:
            results = []

            async def ask(key, name):
                results.append(await cache.answer(key, True, build, name))

            for _ in range(5):
                group.start_soon(ask, "a", "a")
            group.start_soon(ask, "b", "b")
            await anyio.sleep(0.2)
            release.set()
        return results

    results = run_async(main)
    assert sorted(calls) == ["a", "b"]  # one build per key, however many ask
    assert sorted(results) == [b"a"] * 5 + [b"b"]
    assert cache.get("a") == b"a"


def held_build():
    """(build, release, calls): a build that answers b"x" on its worker thread once
    release is set, noting each call in calls."""
    release, calls = threading.Event(), []

    def build():
        calls.append(1)
        release.wait(5)
        return b"x"

    return build, release, calls


def test_a_request_that_goes_away_does_not_stop_the_build_others_wait_for():
    cache, (build, release, calls) = AnswerCache(10_000), held_build()

    async def main():
        async with anyio.create_task_group() as group:
            answers = []

            async def ask():
                answers.append(await cache.answer("k", True, build))

            group.start_soon(ask)
            with anyio.move_on_after(0.1):  # the one that started the build gives up
                await cache.answer("k", True, build)
            await anyio.sleep(0.1)
            release.set()
        return answers

    assert run_async(main) == [b"x"]
    assert cache.get("k") == b"x" and calls == [1]  # built once, for the one still asking


def test_a_build_nobody_waits_for_gives_its_turn_back():
    cache, slots, calls = AnswerCache(10_000), BigAnswerSlots(1, wait_seconds=5), []

    def build(name):
        calls.append(name)
        return name.encode()

    async def main():
        slots.free = 0  # another big answer holds the one turn
        with anyio.move_on_after(0.1):  # the only request for "a" goes away while it waits
            await cache.answer("a", True, build, "a", big=slots)
        await anyio.sleep(0.05)
        slots.free = 1
        with anyio.fail_after(1):
            answer = await cache.answer("b", True, build, "b", big=slots)
        await anyio.sleep(0.3)  # time enough for a build still waiting to take its turn
        return answer

    assert run_async(main) == b"b"
    assert calls == ["b"] and slots.free == 1  # "a" was never built for nobody


def test_a_request_that_joins_a_build_late_waits_its_own_time_for_a_turn():
    cache, slots = AnswerCache(10_000), BigAnswerSlots(1, wait_seconds=0.5)

    async def main():
        slots.free = 0  # held for longer than anyone waits
        waited = {}

        async def ask(name, after):
            await anyio.sleep(after)
            start = time.monotonic()
            with pytest.raises(HTTPException) as busy:
                await cache.answer("k", True, lambda: b"x", big=slots)
            waited[name] = (busy.value.status_code, time.monotonic() - start)

        async with anyio.create_task_group() as group:
            group.start_soon(ask, "first", 0)
            group.start_soon(ask, "late", 0.4)
        return waited

    waited = run_async(main)
    assert waited["first"][0] == waited["late"][0] == 503
    assert waited["late"][1] >= 0.45  # not the first one's refusal, 0.1 s after it joined


@pytest.fixture
def checked(monkeypatch):
    """The (run id, t) of every gradient check actually computed."""
    calls, gradcheck_json = [], app.routes.steps.gradcheck_json

    def counting(ref, t):
        calls.append((ref.id, t))
        return gradcheck_json(ref, t)

    monkeypatch.setattr(app.routes.steps, "gradcheck_json", counting)
    return calls


def test_a_finished_runs_gradient_check_is_computed_once(make_client, checked):
    client = make_client()
    run_id = client.post("/api/runs", json=SMALL).json()["id"]
    bodies = [client.get(f"/api/runs/{run_id}/steps/{t}/gradcheck").json() for t in (2, 3, 2)]
    assert bodies[0] == bodies[2] and bodies[0]["step"] == 2 and bodies[1]["step"] == 3
    assert checked == [(run_id, 2), (run_id, 3)]


def test_gradient_checks_take_turns_of_their_own(make_client, checked):
    busy = make_client(big_answers_at_once=1, big_answer_wait_seconds=0.05)
    run_id = busy.post("/api/runs", json=SMALL).json()["id"]
    busy.app.state.gradient_checks.free = 0  # another check is being computed
    response = busy.get(f"/api/runs/{run_id}/steps/1/gradcheck")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert checked == []
    busy.app.state.gradient_checks.free = 1
    busy.app.state.big_answers.free = 0  # big steps being built do not hold a check back
    assert busy.get(f"/api/runs/{run_id}/steps/1/gradcheck").json()["passed"] is True


def test_a_request_after_everyone_left_a_build_gets_a_build_of_its_own():
    """The build the first request left is still finishing on its thread, cancelled: a
    request that comes meanwhile does not share that cancellation."""
    cache, (build, release, calls) = AnswerCache(10_000), held_build()

    async def main():
        with anyio.move_on_after(0.1):  # the only request goes away; its thread runs on
            await cache.answer("k", True, build)
        async with anyio.create_task_group() as group:
            answers = []

            async def ask():
                answers.append(await cache.answer("k", True, build))

            group.start_soon(ask)
            await anyio.sleep(0.1)
            release.set()
        return answers

    assert run_async(main) == [b"x"]
    assert calls == [1, 1]
