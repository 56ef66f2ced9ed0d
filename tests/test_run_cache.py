"""app.run_cache.RunCache: one Run per config, trained off the caller's thread, LRU by bytes;
and the event stream that follows a run through it."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

import app.routes.runs
import app.run_cache
from app.deps import RunRef
from app.routes.runs import progress_events
from app.run_cache import RunCache
from app.run_ids import canonical_json
from engine.config import normalize_config


class FakeRun:
    """Trains until released (at once if its config says "quick"); counts the builds."""

    built = 0

    def __init__(self, config):
        type(self).built += 1
        self.config, self.status, self.size = config, "pending", config.get("size", 100)
        self.peak = config.get("peak", self.size)  # what it will hold once trained
        self.num_steps, self.diverged = 0, None
        self.release = threading.Event()
        if config.get("quick"):
            self.release.set()

    def train(self, progress=None, should_stop=None):
        self.status = "running"
        while not self.release.wait(0.005):
            if should_stop is not None and should_stop():
                self.status = "stopped"
                return self
        if self.config.get("explode"):
            raise RuntimeError("engine bug")
        self.num_steps = self.config.get("steps", 1)
        self.status = "done"
        return self

    def nbytes(self):
        return self.size

    def peak_nbytes(self):
        return self.peak


@pytest.fixture
def fake_runs(monkeypatch):
    monkeypatch.setattr(app.run_cache, "Run", FakeRun)
    FakeRun.built = 0
    caches = []

    def make(budget, max_queued=64, threads=1):
        caches.append(RunCache(budget, max_queued, threads))
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
    cache = fake_runs(0, threads=1)
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


def test_a_run_that_starts_training_makes_room_for_all_it_will_hold(fake_runs):
    """Memory within the budget (issue 15): a training run counts for its peak, before it
    has grown to it, so finished runs leave first."""
    cache = fake_runs(250)
    finish(cache, b"a")
    finish(cache, b"b")
    growing = cache.get(b"c", {"size": 10, "peak": 150})
    wait_for(lambda: growing.status == "running")
    assert (b"a" in cache, b"b" in cache, b"c" in cache) == (False, True, True)
    assert cache.nbytes() == 100 + 150
    growing.release.set()


def test_a_queued_run_counts_only_what_it_holds(fake_runs):
    """Waiting for a thread, a run holds its data: a queue of big runs does not push out
    the finished runs a class is reading."""
    cache = fake_runs(250, threads=1)
    finish(cache, b"a")
    training = cache.get(b"training", {"size": 10})
    wait_for(lambda: training.status == "running")
    cache.get(b"queued", {"size": 10, "peak": 10**6})
    cache.evict()
    assert b"a" in cache and cache.nbytes() == 100 + 10 + 10
    training.release.set()


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
        assert run.num_steps == 5 and 0 < run.nbytes() <= cache.nbytes() == run.peak_nbytes()
    finally:
        cache.close()


def test_the_queue_is_bounded_dropping_the_least_recent_waiting_runs(fake_runs):
    cache = fake_runs(10**6, max_queued=2, threads=1)
    training = cache.get(b"training", {})
    wait_for(lambda: training.status == "running")
    for key in (b"q1", b"q2", b"q3"):
        cache.get(key, {})
    assert list(cache._slots) == [b"training", b"q2", b"q3"]
    training.release.set()


def test_a_long_run_does_not_hold_up_a_short_one_with_two_threads(fake_runs):
    cache = fake_runs(10**6, threads=2)
    long = cache.get(b"long", {})
    wait_for(lambda: long.status == "running")
    short = cache.get(b"short", {"quick": True})
    wait_for(lambda: short.status == "done")
    assert long.status == "running"
    long.release.set()


def test_runs_beyond_the_threads_wait_their_turn(fake_runs):
    cache = fake_runs(10**6, threads=2)
    held = [cache.get(key, {}) for key in (b"a", b"b")]
    wait_for(lambda: all(run.status == "running" for run in held))
    third = cache.get(b"c", {"quick": True})
    time.sleep(0.05)
    assert third.status == "pending"
    held[0].release.set()
    wait_for(lambda: third.status == "done")
    held[1].release.set()


def test_after_close_a_run_is_built_but_not_trained(fake_runs):
    cache = fake_runs(10**6)
    cache.close()
    run = cache.get(b"late", {"quick": True})
    time.sleep(0.05)
    assert cache.closing and run.status == "pending"


class DivergesWhileRead:
    """A run that the engine marks diverged at step 4 while run_info reads it: in the
    engine's order, num_steps and diverged first, the status last."""

    def __init__(self):
        self.reads, self._status = [], "running"

    def __getattr__(self, name):  # num_steps, diverged, progress
        self.reads.append(name)
        return {"num_steps": 5, "diverged": {"step": 4, "layer": 2, "tensor": "cost"},
                "progress": 1.0}[name]

    @property
    def status(self):
        self.reads.append("status")
        return self._status


def test_run_info_reads_the_status_before_the_fields_it_vouches_for():
    run = DivergesWhileRead()
    info = app.routes.runs.run_info(RunRef("r1test", {"steps": 10}, run))
    assert run.reads == ["status", "num_steps", "diverged"]
    # "running" with the final fields is consistent (the next poll says "diverged");
    # "diverged" with the old fields, which reading status last allows, would not be
    assert (info["status"], info["num_steps"], info["progress"]) == ("running", 5, 0.5)


# -- the event stream of GET /api/runs/{id}/events ---------------------------------------

def follow(cache, config, run=None, seconds=5.0):
    """Every event of the stream of this config's run, as (name, data text) pairs; the
    stream starts from `run` if given, else from the cache's run."""
    async def collect():
        ref = RunRef("r1test", config, run or cache.get(canonical_json(config), config))
        with anyio.fail_after(seconds):  # the bug was a stream that never ends
            return [chunk async for chunk in progress_events(ref, cache)]

    # on a thread of its own: the browser tests' Playwright keeps an event loop
    # running in the main thread for the whole session
    with ThreadPoolExecutor(max_workers=1) as pool:
        chunks = pool.submit(anyio.run, collect).result()
    events = [chunk.decode().split("\n")[:2] for chunk in chunks
              if chunk.startswith(b"event: ")]
    return [(name.removeprefix("event: "), data.removeprefix("data: "))
            for name, data in events]


@pytest.fixture
def fast_events(monkeypatch):
    monkeypatch.setattr(app.routes.runs, "EVENT_INTERVAL", 0.005)


def test_events_follow_a_run_to_done(fake_runs, fast_events):
    cache = fake_runs(10**6)
    events = follow(cache, {"quick": True, "steps": 20})
    assert events[-1][0] == "done" and '"num_steps":20' in events[-1][1]
    assert {name for name, _ in events[:-1]} <= {"progress"}


def test_events_of_a_run_dropped_from_the_queue_requeue_it_and_end(fake_runs, fast_events):
    cache = fake_runs(10**6, max_queued=1, threads=1)
    blocker = cache.get(b"blocker", {})
    wait_for(lambda: blocker.status == "running")
    followed = {"quick": True, "steps": 3}
    dropped = cache.get(canonical_json(followed), followed)  # waits behind the blocker
    cache.get(b"newer", {"quick": True})  # one waiting run at most: drops `followed`
    assert canonical_json(followed) not in cache
    threading.Timer(0.05, blocker.release.set).start()
    events = follow(cache, followed, dropped)
    assert dropped.status == "pending"  # cancelled: this one never trains
    assert events[-1][0] == "done"  # the stream queued the run again and saw it finish


def test_events_end_with_an_error_when_the_server_shuts_down(fake_runs, fast_events):
    cache = fake_runs(10**6, threads=1)
    blocker = cache.get(b"blocker", {})
    wait_for(lambda: blocker.status == "running")
    queued = {"steps": 3}

    def shut_down():
        wait_for(lambda: FakeRun.built == 2)
        time.sleep(0.02)  # a few "still queued" rounds
        cache.close()

    helper = threading.Thread(target=shut_down)
    helper.start()
    events = follow(cache, queued)
    helper.join()
    wait_for(lambda: blocker.status == "stopped")
    assert events[-1] == ("error", '{"detail":"server: shutting down; reconnect to follow '
                                   'the run"}')


def test_events_end_with_an_error_when_training_fails(fake_runs, fast_events):
    cache = fake_runs(10**6)
    events = follow(cache, {"quick": True, "explode": True, "steps": 3})
    assert events[-1] == ("error", '{"detail":"training failed; see the server log"}')


class WatchedRun:
    """A run whose status reads are counted; training ends when the test says."""

    def __init__(self):
        self._status, self.reads, self.waiting = "running", 0, []

    @property
    def status(self):
        self.reads += 1
        return self._status

    def when_trained(self, callback):
        self.waiting.append(callback)

    def end(self, status):
        self._status = status
        for callback in self.waiting:
            callback()


@pytest.mark.parametrize(("status", "finished"), [("done", True), ("stopped", False)])
def test_a_waiting_request_is_woken_when_training_ends_not_by_polling(status, finished):
    run = WatchedRun()

    async def scenario():
        async with anyio.create_task_group() as tasks:
            result = []

            async def wait():
                result.append(await app.run_cache.wait_finished(run, 30))

            tasks.start_soon(wait)
            with anyio.fail_after(5):
                while not run.waiting:
                    await anyio.sleep(0.01)
            await anyio.sleep(0.3)  # polling would have read the status a dozen times
            reads = run.reads
            await anyio.to_thread.run_sync(run.end, status)  # the training thread
        return result[0], reads

    assert anyio.run(scenario) == (finished, 1)


def test_evicting_gives_the_freed_memory_back(fake_runs):
    cache = fake_runs(150)
    trims = []
    cache.freed = app.run_cache.FreedMemory(0.0, trims.append)
    finish(cache, b"a")
    assert trims == []  # nothing evicted, nothing to give back
    finish(cache, b"b")
    assert b"a" not in cache and trims
