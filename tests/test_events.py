"""app.events: the run info, and the Server-Sent Events that follow a run through the run
cache until it is done, diverged, failed, or the server leaves."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

import app.events
from app.admission import Admission, Client
from app.deps import RunRef
from app.events import progress_events
from app.run_ids import canonical_json
from tests.fake_runs import FakeRun, wait_for


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
    info = app.events.run_info(RunRef("r1test", {"steps": 10}, run))
    assert run.reads == ["status", "num_steps", "diverged"]
    # "running" with the final fields is consistent (the next poll says "diverged");
    # "diverged" with the old fields, which reading status last allows, would not be
    assert (info["status"], info["num_steps"], info["progress"]) == ("running", 5, 0.5)


# -- the event stream of GET /api/runs/{id}/events ---------------------------------------

def stream(cache, config, run=None, seconds=5.0):
    """The chunks of the stream of this config's run, to its end; the stream starts from
    `run` if given, else from the cache's run."""
    async def collect():
        ref = RunRef("r1test", config, run or cache.get(canonical_json(config), config))
        with anyio.fail_after(seconds):  # the bug was a stream that never ends
            return [chunk async for chunk in progress_events(ref, cache)]

    # on a thread of its own: the browser tests' Playwright keeps an event loop
    # running in the main thread for the whole session
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, collect).result()


def follow(cache, config, run=None):
    """Every event of the stream of this config's run, as (name, data text) pairs."""
    events = [chunk.decode().split("\n")[:2] for chunk in stream(cache, config, run)
              if chunk.startswith(b"event: ")]
    return [(name.removeprefix("event: "), data.removeprefix("data: "))
            for name, data in events]


@pytest.fixture
def fast_events(monkeypatch):
    monkeypatch.setattr(app.events, "EVENT_INTERVAL", 0.005)


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


def test_events_of_a_run_that_gave_way_under_a_cap_end_with_an_error(fake_runs, fast_events):
    """Its stream held no place (only requests do): it does not start the run again, which
    would make another stream's run give way in turn, each started anew."""
    cache = fake_runs(10**6)
    cache.admission = cache._trainer.admission = Admission(per_address=1)
    followed = {"steps": 3}
    run = cache.get(canonical_json(followed), followed, Client("a" * 22, "X"))
    job = next(j for j in [*cache._trainer._waiting, *cache._trainer._training] if j.run is run)
    job.requested -= 60  # no request for a minute: only its stream asks
    cache.get(b"newer", {"steps": 3}, Client("b" * 22, "X"))
    events = follow(cache, followed, run)
    assert events[-1][0] == "error" and "gave way to a newer one" in events[-1][1]
    assert canonical_json(followed) not in cache


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


def test_a_quiet_stream_sends_heartbeats_until_the_end(fake_runs, fast_events, monkeypatch):
    monkeypatch.setattr(app.events, "HEARTBEAT", 0.01)
    cache = fake_runs(10**6)
    config = {"steps": 3}
    run = cache.get(canonical_json(config), config)
    threading.Timer(0.3, run.release.set).start()  # trains, without progress, until then
    chunks = stream(cache, config)
    assert b": still training\n\n" in chunks
    assert chunks[-1].startswith(b"event: done\n")
