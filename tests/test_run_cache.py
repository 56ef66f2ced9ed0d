"""app.run_cache: one Run per config, trained off the caller's thread, LRU by bytes; a
failed training; and requests woken when training ends (the event stream that follows a
run through the cache: tests/test_events.py)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

import app.run_cache
from app.config_limits import check_config
from app.run_cache import RunCache, TrainingFailedError, public_status
from app.run_ids import canonical_json
from app.settings import Settings
from engine.config import normalize_config
from engine.run import Run
from engine.step_buffers import StepBuffers
from tests.event_loops import run_async
from tests.fake_runs import FakeRun, wait_for


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


def test_an_event_streams_round_keeps_a_run_asked_about_but_not_requested(fake_runs):
    """Training goes on while a stream follows it (Admission.idle_seconds reads `asked`),
    but only a request holds its place at the address's cap (Admission.room_for reads
    `requested`)."""
    cache = fake_runs(10**6, threads=1)
    first, queued = cache.get(b"first", {}), cache.get(b"queued", {})
    job = next(j for j in cache._trainer._waiting if j.run is queued)
    job.asked = job.requested = 0.0
    assert cache.peek_streaming(b"queued") is queued
    assert job.asked > 0.0 and job.requested == 0.0
    assert cache.peek(b"queued") is queued
    assert job.requested == job.asked > 0.0
    first.release.set()
    queued.release.set()


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
    wait_for(lambda: run.status == "failed")  # the cache called run.fail()
    with pytest.raises(TrainingFailedError):
        public_status(run)
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

    assert run_async(scenario) == (finished, 1)


def test_a_waiting_request_hears_that_training_failed():
    run = WatchedRun()
    threading.Timer(0.05, run.end, ["failed"]).start()  # the training thread
    with pytest.raises(TrainingFailedError):
        run_async(app.run_cache.wait_finished, run, 30)


def test_evicting_gives_the_freed_memory_back(fake_runs):
    cache = fake_runs(150)
    trims = []
    cache.freed = app.run_cache.FreedMemory(0.0, trims.append)
    finish(cache, b"a")
    assert trims == []  # nothing evicted, nothing to give back
    finish(cache, b"b")
    assert b"a" not in cache and trims


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
@pytest.mark.parametrize("dataset", ["moons", "digits"])
def test_the_default_cache_keeps_a_biggest_run_while_another_trains(dataset, optimizer):
    """A teacher comparing two runs of the biggest valid size: while the second trains
    (counted at its peak), the first, finished, stays; evicted, it would train again from
    step 0 at its next request, and the two would push each other out."""
    settings = Settings()
    biggest = check_config({"dataset": dataset, "n_samples": 2000, "test_fraction": 0.0,
                            "hidden_layers": [128] * 6, "steps": 2000,
                            "optimizer": optimizer}, settings)
    first, second = Run(biggest), Run({**biggest, "seed": 2})
    finished = first.peak_nbytes() - StepBuffers.planned_nbytes(*first._buffers_plan())
    assert finished + second.peak_nbytes() <= settings.cache_bytes
