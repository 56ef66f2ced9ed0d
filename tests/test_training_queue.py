"""app.training_queue.TrainingQueue: the fast lane, fair turns among heavy runs, the
thread cap, cancellation of runs nobody asks about, and a full queue."""

import threading
import time

import pytest

import app.admission
from app.admission import Admission, AdmissionError, Client
from app.training_queue import TrainingQueue

FAST_FLOPS = 1e6
LIGHT, HEAVY = 1e3, 1e12


class Held:
    """A run that trains until released (at once if quick), asking should_stop every few
    milliseconds as the engine does after every step."""

    def __init__(self, flops=HEAVY, quick=False, finished=None, peak=0):
        self.config = {"flops": flops, "steps": 10}
        self.peak = peak
        self.status, self.num_steps, self.thread = "pending", 0, None
        self.release, self.finished = threading.Event(), finished
        if quick:
            self.release.set()

    def train(self, should_stop):
        self.status, self.thread = "running", threading.get_ident()
        while not self.release.wait(0.002):
            if should_stop():
                self.status = "stopped"
                return
        self.status = "done"
        if self.finished is not None:
            self.finished.append(self)


    def peak_nbytes(self):
        return self.peak


def client(name, address="10.0.0.1"):
    return Client(f"{name:_<22}", address)


@pytest.fixture
def make_queue():
    """TrainingQueue(threads, max_queued, admission, bulk) with a fast lane below FAST_FLOPS;
    each queue has .dropped_jobs, the jobs it let go before they trained."""
    queues = []

    def make(threads=1, max_queued=64, bulk=None, training_bytes=None, **rules):
        admission = Admission(fast_lane_flops=FAST_FLOPS, cost=lambda c: c["flops"], **rules)
        dropped = []
        queue = TrainingQueue(lambda job, stop: job.run.train(stop), dropped.append,
                              threads, max_queued, admission, bulk, training_bytes)
        queue.dropped_jobs = dropped
        queues.append(queue)
        return queue

    yield make
    for queue in queues:
        queue.close()


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def submit(queue, run, who=None, key=b"k"):
    return queue.submit(key, run, who)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_small_run_finishes_while_eight_heavy_ones_train_or_wait(make_queue, threads):
    queue, finished = make_queue(threads=threads), []
    heavy = [Held(finished=finished) for _ in range(8)]
    for n, run in enumerate(heavy):
        submit(queue, run, client(f"other{n}"))
    wait_for(lambda: sum(r.status == "running" for r in heavy) == threads)
    small = Held(LIGHT, quick=True, finished=finished)
    submit(queue, small, client("student"))
    wait_for(lambda: small.status == "done")
    assert finished == [small]  # before every heavy run, without waiting for one
    assert [r.status for r in heavy].count("running") == threads
    assert small.thread in {r.thread for r in heavy if r.thread}  # no thread of its own
    for run in heavy:
        run.release.set()


def test_waiting_runs_fast_ones_first_then_heavy_ones_by_client(make_queue):
    queue = make_queue(threads=1)
    busy = Held(LIGHT)  # a fast run trains no other between its steps
    submit(queue, busy, client("x"))
    wait_for(lambda: busy.status == "running")
    x2, x3, y1, fast = Held(), Held(), Held(), Held(LIGHT)
    for run, who in [(x2, "x"), (x3, "x"), (y1, "y"), (fast, "z")]:
        submit(queue, run, client(who))
    # x has a run training: y's heavy run goes before x's, which keep their order
    assert [queue.position(r) for r in (fast, y1, x2, x3, busy)] == [0, 1, 2, 3, None]
    busy.release.set()
    wait_for(lambda: fast.status == "running")
    # nobody's run trains now (fast is z's): oldest first
    assert [queue.position(r) for r in (x2, x3, y1)] == [0, 1, 2]
    fast.release.set()


@pytest.mark.parametrize("flops", [LIGHT, HEAVY], ids=["fast lane", "heavy lane"])
def test_an_address_that_makes_a_client_a_request_takes_turns_with_the_others(make_queue,
                                                                              flops):
    """A client token costs nothing to make: a script at one address that sent each
    request with a new one put 64 runs before a learner's at another address (who waited
    31 to 47 s for the default run, 121 s for digits)."""
    queue = make_queue(threads=1)
    busy = Held(LIGHT)
    submit(queue, busy, client("flood0", "10.6.6.6"))
    wait_for(lambda: busy.status == "running")
    flood = [Held(flops) for _ in range(10)]
    for n, run in enumerate(flood):
        submit(queue, run, client(f"flood{n + 1}", "10.6.6.6"))
    learner = Held(flops)
    submit(queue, learner, client("learner", "10.0.0.2"))
    # the learner's address has nothing training, and had no run start since the flood's:
    # its run is next
    assert queue.position(learner) == 0
    assert [queue.position(r) for r in flood] == list(range(1, 11))  # in their own order
    for run in [busy, *flood, learner]:
        run.release.set()


@pytest.mark.parametrize("flops", [LIGHT, HEAVY], ids=["fast lane", "heavy lane"])
def test_an_addresss_backlog_takes_turns_with_a_newer_address_run_by_run(make_queue, flops):
    """Turns were counted among the waiting runs only, ties going to the older: each time
    the flood's oldest left for a thread, its next was oldest at its turn again, and the
    learner's run trained after all ten (a default run waited 21 to 81 s)."""
    queue = make_queue(threads=0)
    for n in range(10):
        submit(queue, Held(flops), client(f"flood{n}", "10.6.6.6"), key=f"A{n}".encode())
    submit(queue, Held(flops), client("learner", "10.0.0.2"), key=b"B0")
    submit(queue, Held(flops), client("learner", "10.0.0.2"), key=b"B1")
    order = []
    with queue._cond:
        while queue._waiting:
            job = queue._take(fast_only=flops == LIGHT)
            order.append(job.key.decode())
            queue._training.remove(job)
    assert order[:5] == ["A0", "B0", "A1", "B1", "A2"]


def test_no_more_threads_train_than_the_cap(make_queue):
    queue, finished = make_queue(threads=2), []
    runs = [Held(quick=True, finished=finished) for _ in range(10)]
    runs += [Held(LIGHT, quick=True, finished=finished) for _ in range(5)]
    for n, run in enumerate(runs):
        submit(queue, run, client(f"c{n}"))
    wait_for(lambda: len(finished) == len(runs))
    assert len({run.thread for run in runs}) <= 2
    assert len(queue._workers) == 2


def test_a_run_nobody_asks_about_is_cancelled_at_its_next_step(make_queue):
    queue = make_queue(idle_seconds=0.05)
    run = Held()
    submit(queue, run, client("x"))
    wait_for(lambda: run.status == "stopped" and queue.training == 0)
    assert queue.cancelled == 1


def test_a_run_asked_about_trains_and_one_left_waiting_never_starts(make_queue):
    queue = make_queue(idle_seconds=0.2)
    busy, left = Held(), Held()
    asked = submit(queue, busy, client("x"), b"busy")
    submit(queue, left, client("y"), b"left")
    wait_for(lambda: busy.status == "running")
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:  # asked about every 10 ms, as a polling page does
        asked.asked = time.monotonic()
        time.sleep(0.01)
    busy.release.set()
    wait_for(lambda: queue.dropped_jobs)
    assert busy.status == "done"
    assert [job.run for job in queue.dropped_jobs] == [left] and left.status == "pending"
    assert queue.cancelled == 1


def test_a_full_queue_drops_from_the_client_with_the_most_waiting(make_queue):
    queue = make_queue(threads=1, max_queued=2)
    busy = Held()
    submit(queue, busy, client("busy"))
    wait_for(lambda: busy.status == "running")
    x1, x2, y1 = Held(), Held(), Held()
    for run, who in [(x1, "x"), (x2, "x"), (y1, "y")]:
        submit(queue, run, client(who))
    assert [job.run for job in queue.dropped_jobs] == [x1]
    assert (queue.queued, queue.dropped) == (2, 1)
    busy.release.set()


def test_a_left_run_gives_way_to_the_same_clients_new_one(make_queue, monkeypatch):
    monkeypatch.setattr(app.admission, "LEFT_SECONDS", 0.05)
    queue = make_queue(threads=2, per_client=1)
    old, new = Held(), Held()
    submit(queue, old, client("x"))
    wait_for(lambda: old.status == "running")
    time.sleep(0.1)  # nobody asked about `old` since it was queued
    submit(queue, new, client("x"))
    wait_for(lambda: old.status == "stopped" and new.status == "running")
    assert queue.cancelled == 1
    # `new` is fresh and stays: restore the real patience, so that a slow machine, taking
    # longer than 0.05 s to get here, does not make `new` a left run too
    monkeypatch.setattr(app.admission, "LEFT_SECONDS", 5.0)
    with pytest.raises(AdmissionError) as refused:
        submit(queue, Held(), client("x"))
    assert refused.value.status == 429 and refused.value.reason == "max_runs_per_client"
    new.release.set()


def test_a_thread_lives_on_when_training_raises(make_queue):
    queue, finished = make_queue(threads=1), []
    broken = Held(quick=True)
    broken.train = None  # calling it raises TypeError on the training thread
    submit(queue, broken)
    after = Held(quick=True, finished=finished)
    submit(queue, after)
    wait_for(lambda: finished == [after])
    assert queue.training == 0


def test_close_stops_training_and_forgets_the_waiting_runs(make_queue):
    queue = make_queue(threads=1)
    busy, waiting = Held(), Held()
    submit(queue, busy)
    submit(queue, waiting)
    wait_for(lambda: busy.status == "running")
    queue.close()
    wait_for(lambda: busy.status == "stopped")
    assert waiting.status == "pending" and submit(queue, Held()) is None


class Pacer:
    """A BulkShare stand-in: every heavy step is charged, then waits `due` seconds."""

    def __init__(self, due):
        self.due_seconds, self.charged, self.paused = due, [], 0.0

    def charge(self, seconds):
        self.charged.append(seconds)

    def due(self):
        return self.due_seconds

    def waited(self, seconds):
        self.paused += seconds


def test_a_pacing_heavy_run_waits_between_steps_while_fast_runs_go(make_queue):
    pacer = Pacer(due=60)
    queue, finished = make_queue(threads=1, bulk=pacer), []
    heavy = Held()
    submit(queue, heavy, client("teacher"))
    wait_for(lambda: len(pacer.charged) == 1)  # one step done: it waits a minute now
    small = Held(LIGHT, quick=True, finished=finished)
    submit(queue, small, client("student"))
    wait_for(lambda: small.status == "done")  # on the waiting thread, not after it
    assert small.thread == heavy.thread
    assert heavy.status == "running" and len(pacer.charged) == 1
    assert pacer.charged[0] >= 0
    queue.close()  # the server leaves: the wait ends, and the run stops at once
    wait_for(lambda: heavy.status == "stopped")
    assert 0 < pacer.paused < 60


def test_fast_runs_do_not_pace_themselves(make_queue):
    pacer = Pacer(due=60)
    queue = make_queue(threads=1, bulk=pacer)
    fast = Held(LIGHT)
    submit(queue, fast, client("student"))
    wait_for(lambda: fast.status == "running")
    time.sleep(0.05)  # many steps (should_stop calls) go by
    fast.release.set()
    wait_for(lambda: fast.status == "done")
    assert pacer.charged == [] and pacer.paused == 0


def test_heavy_runs_train_side_by_side_only_while_their_memory_fits(make_queue):
    """Two of the biggest runs trained at once held more than the run cache's budget, which
    then evicted every finished run a class was reading: the second waits for the first,
    while a run that fits beside it, and the fast lane, go on."""
    queue = make_queue(threads=3, training_bytes=100)
    big, other_big, medium = Held(peak=70), Held(peak=70), Held(peak=30)
    submit(queue, big, client("a"), b"1")
    wait_for(lambda: big.status == "running")
    submit(queue, other_big, client("b"), b"2")
    submit(queue, medium, client("c"), b"3")
    wait_for(lambda: medium.status == "running")  # 70 + 30 fit
    time.sleep(0.05)
    assert other_big.status == "pending" and queue.position(other_big) == 0
    small = Held(flops=LIGHT, quick=True)
    submit(queue, small, client("d"), b"4")
    wait_for(lambda: small.status == "done")  # the fast lane waits for nobody
    big.release.set()
    medium.release.set()
    wait_for(lambda: other_big.status == "running")
    other_big.release.set()
    wait_for(lambda: other_big.status == "done")


def test_a_run_bigger_than_the_bound_trains_alone(make_queue):
    queue = make_queue(threads=2, training_bytes=100)
    huge = Held(peak=500, quick=True)
    submit(queue, huge, client("a"))
    wait_for(lambda: huge.status == "done")


def test_an_address_that_served_and_left_does_not_come_back_before_one_that_waits(make_queue):
    """Forgetting every address with no run here made one that was served after a waiting
    address, left and came back, look never served: ten such addresses, each sending one run
    at a time a few rounds apart, kept a learner's second run waiting for good."""
    queue = make_queue(threads=0)
    learner = client("learner", "10.0.0.1")
    submit(queue, Held(HEAVY), learner, key=b"a1")
    with queue._cond:
        running = [queue._take(fast_only=False)]
    second = Held(HEAVY)
    submit(queue, second, learner, key=b"a2")
    others = [client(f"other{i}", f"10.1.0.{i}") for i in range(10)]
    due = dict.fromkeys(range(10), 0)  # round at which each other address sends its next run
    for rounds in range(200):
        for i, when in list(due.items()):
            if when == rounds:
                submit(queue, Held(HEAVY), others[i], key=f"b{i}".encode())
                del due[i]
        with queue._cond:
            for job in running:
                queue._training.remove(job)
                if job.client is not learner:
                    due[others.index(job.client)] = rounds + 7
            running = [queue._take(fast_only=False)]
        if running[0].run is second:
            break
    assert rounds <= 10  # after each other address's one turn at most
