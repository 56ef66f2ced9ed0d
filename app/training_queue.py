"""The training threads of one process: a fast lane, fair turns, and cancellation.

A fixed number of threads (settings.train_threads) trains every run of the process, and
nothing else trains. Small runs (by engine.work_estimate.run_flops) take the fast lane: they go
first, and a thread that trains a heavy run trains the waiting small ones between two of its
steps. A student's small run so finishes in a fraction of a second however many heavy runs
train or wait, without a thread beyond the cap. Addresses take turns in each lane, and
among heavy runs the next is one of the address, then the client, with the fewest runs
training. While the process answers
requests, heavy runs pace their steps to a share of a core (app.bulk_share).

No library fits this: executors and task queues have no notion of a run that yields to
others between its steps, nor of the run's own cost; this is a condition variable and a
list of at most max_queued jobs.
"""

import itertools
import logging
import threading
import time
import weakref
from collections import Counter

from app.admission import Admission, Client
from app.bulk_share import BulkShare

log = logging.getLogger("app.training_queue")

# addresses whose last start the queue keeps at most (TrainingQueue._started)
MAX_SERVED = 4096


class Job:
    """One run's turn: queued, then training, then gone. `asked` is when a request or an
    event stream last asked about the run, `requested` when a request other than an event
    stream's rounds did (time.monotonic); the cache sets them."""

    __slots__ = ("asked", "cancelled", "client", "cpu_at", "fast", "key", "requested", "run",
                 "seq")

    def __init__(self, key: bytes, run, client: Client | None, fast: bool):
        self.key, self.run, self.client, self.fast = key, run, client, fast
        self.asked = self.requested = time.monotonic()
        self.cancelled, self.seq = False, 0
        self.cpu_at = 0.0  # the training thread's CPU time (time.thread_time) at its last step


def _address(job: Job) -> str | None:
    return job.client and job.client.address


def _turns(jobs: list[Job]) -> dict[Job, int]:
    """Each job's turn among its address's: 0 for the oldest of each address, 1 for the
    next, and so on."""
    seen, rank = Counter(), {}
    for job in sorted(jobs, key=lambda j: j.seq):
        rank[job] = seen[_address(job)]
        seen[_address(job)] += 1
    return rank


class TrainingQueue:
    """Jobs waiting for a thread, and those training.

    train(job, should_stop) trains job.run, calling should_stop() after every step.
    on_dropped(job) is told of a job that leaves before it trains (cancelled or pushed out
    of a full queue), outside the queue's lock. bulk: heavy runs pace their steps by it
    (app.bulk_share) while the process answers requests; None: they never wait.
    training_bytes: a heavy run waits while starting it would make the runs training hold
    more than this at their peak, unless no heavy run trains (the run cache keeps them all
    and evicts finished runs for them: two of the biggest at once pushed out every run a
    class was reading).
    """

    def __init__(self, train, on_dropped, threads: int = 2, max_queued: int = 64,
                 admission: Admission | None = None, bulk: BulkShare | None = None,
                 training_bytes: int | None = None):
        self._train, self._on_dropped = train, on_dropped
        self.threads, self.max_queued = threads, max_queued
        # heavy runs start while those training hold at most this much at their peak
        # (run.peak_nbytes()), one alone whatever its size: None, no bound
        self.training_bytes = training_bytes
        self.admission = admission or Admission()
        self.bulk = bulk
        self._cond = threading.Condition()
        self._waiting: list[Job] = []
        self._training: list[Job] = []
        self._workers: list[threading.Thread] = []
        self._seq = itertools.count()
        # when each address last had a run start (a count of starts): of two addresses'
        # turns, the one served longer ago goes first. Kept: the addresses with runs queued
        # or training, and those served after one of them was (_started)
        self._starts, self._served = itertools.count(), {}
        self._closing = False
        self.cancelled = 0  # runs cancelled: unasked for too long, or left for a newer one
        self.dropped = 0  # waiting runs pushed out of a full queue
        # the runs cancelled to make room for a newer one under a cap (Admission.room_for):
        # an event stream that follows one ends there, rather than admit it again and
        # make another give way in turn (app.events)
        self.gave_way = weakref.WeakSet()

    @property
    def queued(self) -> int:
        return len(self._waiting)

    @property
    def training(self) -> int:
        return len(self._training)

    def check(self, client: Client | None):
        """An AdmissionError if a run of this client would not be admitted now, before the
        run is built (a request refused here does not reach submit)."""
        with self._cond:
            self.admission.room_for(client, self._in_flight(), time.monotonic())

    def submit(self, key: bytes, run, client: Client | None) -> Job | None:
        """Queue the run's training: the job, or None after close(); an AdmissionError
        if admission refuses it."""
        job = Job(key, run, client, self.admission.is_fast(run.config))
        with self._cond:
            if self._closing:
                return None
            left = self.admission.room_for(client, self._in_flight(), time.monotonic())
            self.gave_way.update(j.run for j in left)
            dropped = [j for j in left if self._cancel(j)]
            job.seq = next(self._seq)
            self._waiting.append(job)
            dropped += self._trim()
            self._start_workers()
            if job.fast:  # it also wakes the heavy runs' threads that pace themselves (_pace)
                self._cond.notify_all()
            else:
                self._cond.notify()
        for old in dropped:
            self._on_dropped(old)
        return job

    def position(self, run) -> int | None:
        """How many waiting runs go before this one; None if it is not waiting."""
        with self._cond:
            order = self._in_turn()
        return next((i for i, job in enumerate(order) if job.run is run), None)

    def close(self):
        """Stop training at the next step, and forget the waiting runs (they stay pending)."""
        with self._cond:
            self._closing = True
            self._waiting.clear()
            self._cond.notify_all()

    # -- under the lock -------------------------------------------------------------------

    def _in_flight(self) -> list[Job]:
        return [j for j in self._waiting + self._training if not j.cancelled]

    def _in_turn(self) -> list[Job]:
        """The waiting jobs in the order they will train: fast ones first, then heavy ones
        of the addresses with the fewest runs training, and within an address of the
        clients with the fewest. In each lane addresses take turns (an address's k-th
        waiting job after every address's (k-1)-th, the address served longer ago first),
        then the oldest first: a client token costs nothing to make, so one address that
        makes one a request cannot put its runs before another's, and an address's backlog
        does not go before a newer address's run."""
        rank = _turns(self._waiting)
        busy = Counter(_address(j) for j in self._training)
        busy_client = Counter(j.client and j.client.key for j in self._training)
        return sorted(self._waiting, key=lambda j: (0, 0, 0, rank[j], self._last(j), j.seq)
                      if j.fast else (1, busy[_address(j)], busy_client[j.client and j.client.key],
                                      rank[j], self._last(j), j.seq))

    def _last(self, job: Job) -> int:
        """When job's address last had a run start: -1 if not while it had runs here."""
        return self._served.get(_address(job), -1)

    def _started(self, job: Job):
        """Note that job's address had a run start now, and forget the addresses that
        have none queued or training and were last served before every address that has:
        forgotten, such an address compares with those as it did (-1 is before them all).
        One served since would go before an address it had followed, and could keep it
        waiting for good; at most MAX_SERVED are kept, whatever."""
        self._served[_address(job)] = next(self._starts)
        if len(self._served) > 2 * (len(self._waiting) + len(self._training)):
            here = {_address(j) for j in self._waiting + self._training}
            oldest = min(self._served.get(a, -1) for a in here)
            self._served = {a: n for a, n in self._served.items() if a in here or n > oldest}
        if len(self._served) > MAX_SERVED:  # the oldest half goes
            cut = sorted(self._served.values())[len(self._served) // 2]
            self._served = {a: n for a, n in self._served.items() if n >= cut}

    def _cancel(self, job: Job) -> bool:
        """Cancel a job: True if it was waiting (it leaves now), else it stops at its next
        step."""
        job.cancelled = True
        self.cancelled += 1
        if job in self._waiting:
            self._waiting.remove(job)
            return True
        return False

    def _trim(self) -> list[Job]:
        """Push out waiting jobs beyond max_queued: of the client with the most waiting,
        the least recently asked, so that one client's flood cannot push out the
        others."""
        dropped = []
        while len(self._waiting) > self.max_queued:
            waiting = Counter(j.client and j.client.key for j in self._waiting)
            job = min(self._waiting, key=lambda j: (-waiting[j.client and j.client.key],
                                                    j.asked, j.seq))
            self._waiting.remove(job)
            self.dropped += 1
            dropped.append(job)
        return dropped

    def _start_workers(self):
        while len(self._workers) < min(self.threads, len(self._waiting) + len(self._training)):
            worker = threading.Thread(target=self._work, daemon=True,
                                      name=f"train-{len(self._workers)}")
            self._workers.append(worker)
            worker.start()

    def _take(self, fast_only: bool) -> Job | None:
        """The next job to train (of the fast lane only: the oldest fast one), moved to
        training; None if there is none, or none whose memory fits beside the heavy runs
        training (_fits). Asked after every step of a heavy run: cheap."""
        if fast_only:
            fast = [j for j in self._waiting if j.fast]
            rank = _turns(fast)
            job = min(fast, key=lambda j: (rank[j], self._last(j), j.seq), default=None)
        else:
            job = next((j for j in self._in_turn() if j.fast or self._fits(j)), None)
        if job is None:
            return None
        self._waiting.remove(job)
        self._training.append(job)
        self._started(job)
        return job

    def _fits(self, job: Job) -> bool:
        """Whether a heavy job may start: no heavy run trains, or all of them hold at most
        training_bytes with it, at their peak."""
        heavy = [j.run for j in self._training if not j.fast]
        if self.training_bytes is None or not heavy:
            return True
        return sum(run.peak_nbytes() for run in [*heavy, job.run]) <= self.training_bytes

    # -- on a training thread -------------------------------------------------------------

    def _work(self):
        while True:
            with self._cond:
                job = None
                while job is None:
                    if self._closing:
                        return
                    job = self._take(fast_only=False)
                    if job is None:  # none waits, or none fits until a run ends
                        self._cond.wait()
            self._run(job)

    def _run(self, job: Job):
        try:
            if self._stale(job):  # nobody asked while it waited: it never starts
                self._on_dropped(job)
            else:
                job.cpu_at = time.thread_time()
                self._train(job, lambda: self._between_steps(job))
        except Exception:  # train() handles the engine's errors; this thread must live on
            log.exception("training job failed for %s", job.key.decode(errors="replace"))
        finally:
            with self._cond:
                self._training.remove(job)
                self._cond.notify_all()  # a heavy run waiting for memory may fit now

    def _stale(self, job: Job) -> bool:
        """Cancel the job if nobody asked about it for admission.idle_seconds."""
        with self._cond:
            if not job.cancelled and self.admission.is_idle(job.asked, time.monotonic()):
                job.cancelled = True
                self.cancelled += 1
            return job.cancelled

    def _between_steps(self, job: Job) -> bool:
        """should_stop of a training run: True to stop it. A heavy run first trains the
        fast lane's waiting runs on this thread, and paces itself (_pace)."""
        if self._closing or self._stale(job):
            return True
        if not job.fast:
            self._pace(time.thread_time() - job.cpu_at)
            job.cpu_at = time.thread_time()
        return False

    def _pace(self, step_seconds: float):
        """Charge a heavy step's CPU to the bulk share, then wait until it is paid, training
        the fast lane's runs first and as they come (they wait for nobody)."""
        if self.bulk is not None:
            self.bulk.charge(step_seconds)
        start = time.monotonic()
        end = start + (self.bulk.due() if self.bulk is not None else 0.0)
        while True:
            with self._cond:
                fast = None if self._closing else self._take(fast_only=True)
                if fast is None:
                    left = end - time.monotonic()
                    if self._closing or left <= 0:
                        break
                    self._cond.wait(left)
                    continue
            self._run(fast)
        if self.bulk is not None:
            self.bulk.waited(time.monotonic() - start)
