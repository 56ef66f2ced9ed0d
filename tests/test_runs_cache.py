"""app.runs.RunCache: one Run per config, trained off the caller's thread, LRU by bytes."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import app.runs
from app.run_ids import canonical_json
from app.runs import RunCache
from engine.config import normalize_config


class FakeRun:
    """Trains until released; counts how many were built."""

    built = 0

    def __init__(self, config):
        type(self).built += 1
        self.config, self.status, self.size = config, "pending", config.get("size", 100)
        self.release = threading.Event()

    def train(self, progress=None, should_stop=None):
        self.status = "running"
        while not self.release.wait(0.005):
            if should_stop is not None and should_stop():
                self.status = "stopped"
                return self
        if self.config.get("explode"):
            raise RuntimeError("engine bug")
        self.status = "done"
        return self

    def nbytes(self):
        return self.size


@pytest.fixture
def fake_runs(monkeypatch):
    monkeypatch.setattr(app.runs, "Run", FakeRun)
    FakeRun.built = 0
    caches = []

    def make(budget):
        caches.append(RunCache(budget))
        return caches[-1]

    yield make
    for cache in caches:
        cache.close()


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_concurrent_requests_build_a_run_once(fake_runs):
    cache = fake_runs(10**6)
    start = threading.Barrier(16)

    def request(_):
        start.wait()
        return cache.get(b"k", {"size": 1})

    with ThreadPoolExecutor(16) as pool:
        runs = list(pool.map(request, range(16)))
    assert FakeRun.built == 1 and all(run is runs[0] for run in runs)
    assert cache.peek(b"k") is runs[0]
    runs[0].release.set()


def finish(cache, key, size=100):
    run = cache.get(key, {"size": size})
    run.release.set()
    wait_for(lambda: run.status == "done")
    cache.evict()  # what the training thread does when it finishes
    return run


def test_least_recently_used_finished_runs_leave_first(fake_runs):
    cache = fake_runs(250)
    finish(cache, b"a")
    finish(cache, b"b")
    assert cache.peek(b"a") is not None  # a is now more recent than b
    finish(cache, b"c")
    assert (b"a" in cache, b"b" in cache, b"c" in cache) == (True, False, True)
    assert cache.nbytes() == 200


def test_running_runs_and_the_newest_run_stay(fake_runs):
    cache = fake_runs(0)
    first = cache.get(b"first", {})
    queued = cache.get(b"queued", {})  # one training thread: this one waits its turn
    cache.evict()
    assert list(cache._slots) == [b"first", b"queued"]  # nothing finished: nothing leaves
    first.release.set()
    wait_for(lambda: b"first" not in cache)  # finished, least recent, over budget
    queued.release.set()
    wait_for(lambda: queued.status == "done")
    cache.evict()
    assert list(cache._slots) == [b"queued"]  # the newest stays even over budget


def test_a_failed_training_is_dropped_so_the_next_request_retries(fake_runs):
    cache = fake_runs(10**6)
    run = cache.get(b"bad", {"explode": True})
    run.release.set()
    wait_for(lambda: run.status == "failed")
    wait_for(lambda: b"bad" not in cache)
    assert cache.get(b"bad", {}) is not run


def test_close_stops_training(fake_runs):
    cache = fake_runs(10**6)
    run = cache.get(b"long", {})
    wait_for(lambda: run.status == "running")
    cache.close()
    wait_for(lambda: run.status == "stopped")


def test_real_runs_train_on_the_background_thread():
    cache = RunCache(10**9)
    config = normalize_config({"dataset": "moons", "n_samples": 60, "hidden_layers": [3],
                               "steps": 5})
    try:
        run = cache.get(canonical_json(config), config)
        wait_for(lambda: run.status == "done")
        assert run.num_steps == 5 and 0 < cache.nbytes() == run.nbytes()
    finally:
        cache.close()


def test_the_queue_is_bounded_dropping_the_least_recent_waiting_runs(fake_runs):
    cache = fake_runs(10**6)
    cache.max_queued = 2
    training = cache.get(b"training", {})
    wait_for(lambda: training.status == "running")
    for key in (b"q1", b"q2", b"q3"):
        cache.get(key, {})
    assert list(cache._slots) == [b"training", b"q2", b"q3"]
    training.release.set()
