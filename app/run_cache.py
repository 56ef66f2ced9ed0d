"""This process's runs: trained once per config, kept in an LRU under a byte budget.

A run is fully determined by its config, so the cache is only an accelerator: an
evicted or never-seen run is retrained on demand. Training happens on a small, fixed
number of background threads per process (app.training_queue), so the event loop and
other requests stay responsive, small runs go first, and one long run does not hold up
every other one.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections import OrderedDict

import anyio

from app.admission import Admission, AdmissionError, Client
from app.bulk_share import BulkShare, not_serving
from app.memory import FreedMemory
from app.training_queue import TrainingQueue
from engine.run import Run

log = logging.getLogger("app.run_cache")

FINISHED = ("done", "diverged")


class TrainingFailedError(Exception):
    """The engine raised while training this run (logged where it happened): requests
    about it answer 500 (app.errors), and its event stream ends with an error event."""

    detail = "training failed; see the server log"


def public_status(run) -> str:
    """The status the API reports (docs/api.md): a queued or stopping run is still
    "running"; TrainingFailedError for a run whose training raised."""
    status = run.status  # once: training, on another thread, may change it meanwhile
    if status == "failed":
        raise TrainingFailedError(TrainingFailedError.detail)
    return status if status in FINISHED else "running"


class _Slot:
    """One cache entry; its lock makes concurrent first requests build the Run once."""

    __slots__ = ("job", "lock", "run")

    def __init__(self):
        self.lock = threading.Lock()
        self.run = None
        self.job = None  # its training turn (app.training_queue)

    def asked(self, streaming: bool = False):
        """A request asked about the run: it is not left alone (Admission.idle_seconds).
        streaming: a round of its event stream, which keeps it training but holds no place
        at its address's cap (Admission.room_for): an idle stream costs its client nothing
        a second."""
        if self.job is not None:
            self.job.asked = time.monotonic()
            if not streaming:
                self.job.requested = self.job.asked


# get() at once on worker threads: building a run loads its dataset, in milliseconds
BUILD_THREADS = 4
# heavy runs train side by side while they hold at most this share of the budget at their
# peak (one alone whatever its size): the rest stays for the finished runs a class reads
TRAINING_SHARE = 0.75


class RunCache:
    """Runs by key (the canonical config), least recently used first.

    Runs train on a TrainingQueue under the admission's rules (app.admission), heavy ones
    paced by `bulk` (app.bulk_share): a request that builds a run may raise
    AdmissionError. counts() and admission.refused are for /metrics.
    """

    def __init__(self, budget_bytes: int, max_queued: int = 64, threads: int = 2,
                 admission: Admission | None = None, bulk: BulkShare | None = None):
        self.budget_bytes, self.max_queued = budget_bytes, max_queued
        self.admission = admission or Admission()
        self._slots: OrderedDict[bytes, _Slot] = OrderedDict()
        self._lock = threading.Lock()
        self._trainer = TrainingQueue(self._train, self._forget, threads, max_queued,
                                      self.admission, bulk, int(TRAINING_SHARE * budget_bytes))
        self._closing = False
        self.freed = FreedMemory()
        # the worker threads that get() runs on (app.deps.obtain): its own few, so that
        # admitting and building a run never waits behind answers that fill the shared pool
        self.build_threads = anyio.CapacityLimiter(BUILD_THREADS)

    @property
    def closing(self) -> bool:
        """True once close() ran: nothing trains here any more."""
        return self._closing

    def counts(self) -> dict[str, int]:
        """Runs queued, training and held finished (now); cancelled and dropped (so far)."""
        with self._lock:
            finished = sum(s.run is not None and s.run.status in FINISHED
                           for s in self._slots.values())
        trainer = self._trainer
        return {"queued": trainer.queued, "training": trainer.training, "cached": finished,
                "cancelled": trainer.cancelled, "dropped": trainer.dropped}

    def gave_way(self, run) -> bool:
        """Whether the run was cancelled to make room for a newer one under a cap."""
        return run in self._trainer.gave_way

    def queue_position(self, run) -> int | None:
        """How many waiting runs train before this one; None once it trains (or is done)."""
        return self._trainer.position(run)

    def peek(self, key: bytes, asked: bool = True) -> Run | None:
        """The run if it is already built (cheap enough for the event loop). asked: the
        request counts as someone asking about the run (a cross-site one does not)."""
        return self._peek(key, asked, streaming=False)

    def peek_streaming(self, key: bytes) -> Run | None:
        """peek() for a round of the run's event stream: it keeps the run training, but
        holds no place at a cap (_Slot.asked)."""
        return self._peek(key, True, streaming=True)

    def _peek(self, key: bytes, asked: bool, streaming: bool) -> Run | None:
        with self._lock:
            slot = self._slots.get(key)
            if slot is None or slot.run is None:
                return None
            self._slots.move_to_end(key)
            if asked:
                slot.asked(streaming)
            return slot.run

    def get(self, key: bytes, config: dict, client: Client | None = None) -> Run:
        """The run of this config, built and queued for training on first use.

        Building loads the dataset (milliseconds), so call it off the event loop. A run to
        build is admitted for `client` first (else AdmissionError). After close() a new run is
        built but never trained (it stays "pending").
        """
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = _Slot()
            self._slots.move_to_end(key)
            slot.asked()
        with slot.lock:
            if slot.run is None:
                try:
                    self._build(key, slot, config, client)
                except AdmissionError:
                    self._forget_slot(key, slot)
                    raise
        return slot.run

    def _build(self, key, slot, config, client):
        self._trainer.check(client)  # before the dataset is loaded
        run = Run(config)
        slot.job = self._trainer.submit(key, run, client)
        slot.run = run
        self.evict()

    def _train(self, job, should_stop):
        run = job.run
        try:
            # room for all it will hold, before it grows: still queued, it counts its data
            self.evict(reserve=run.peak_nbytes() - run.nbytes())
            run.train(should_stop=should_stop)
        except Exception:
            # an engine bug: requests about this run answer 500, and the next one retries
            log.exception("training failed for %s", job.key.decode())
            run.fail()
            self._forget(job)
        if run.status == "stopped":  # cancelled: the next request queues it again
            self._forget(job)
        self.evict()

    def _forget(self, job):
        """Drop a job's run that will not finish here (failed, cancelled or pushed out of
        the queue): anyone still asking about it gets it built and queued again."""
        with self._lock:
            slot = self._slots.get(job.key)
        if slot is not None and slot.run is job.run:
            self._forget_slot(job.key, slot)

    def _forget_slot(self, key, slot):
        with self._lock:
            if self._slots.get(key) is slot:
                del self._slots[key]

    def nbytes(self) -> int:
        """The bytes the cache counts against its budget (see evict)."""
        with self._lock:
            return sum(counted_nbytes(s.run) for s in self._slots.values() if s.run is not None)

    def evict(self, reserve: int = 0):
        """Drop finished runs, least recently used first, until the cache fits its budget
        with `reserve` bytes to spare. Every run counts, queued and training ones included
        (counted_nbytes).

        Runs still training stay: dropping them would only waste the work done so far.
        """
        evicted = False
        with self._lock:
            sizes = {k: counted_nbytes(s.run) for k, s in self._slots.items()
                     if s.run is not None}
            total = sum(sizes.values()) + reserve
            for key in list(self._slots)[:-1]:  # the most recent run always stays
                if total <= self.budget_bytes:
                    break
                run = self._slots[key].run
                if run is not None and run.status in FINISHED:
                    total -= sizes[key]
                    del self._slots[key]
                    evicted = True
        if evicted:  # RSS follows the budget only if the freed pages go back (app.memory)
            self.freed.release()

    def __len__(self):
        return len(self._slots)

    def __contains__(self, key):
        return key in self._slots

    def close(self):
        """Stop training (at the next step) and drop queued runs: the server is leaving."""
        self._closing = True
        self._trainer.close()


def counted_nbytes(run) -> int:
    """What a run counts against the cache's budget: the most it will hold (its checkpoints
    to come, its recent replays: Run.peak_nbytes), or, while it waits for a training
    thread, what it holds (its data): a queue of big runs then cannot push out the small
    finished runs that a class is reading."""
    return run.nbytes() if run.status == "pending" else run.peak_nbytes()


async def wait_finished(run, seconds: float) -> bool:
    """Wait until the run finishes or `seconds` pass; True if it finished.

    Any process can be asked about any run; one that has not trained it yet does so
    on demand, and a short wait lets it answer complete instead of 409 or partial. The
    training thread wakes the wait when training ends (Run.when_trained): polling the
    status instead answered up to 50 ms late, 5 % of a run that trains in a second.
    """
    if public_status(run) in FINISHED:
        return True
    loop, ended = asyncio.get_running_loop(), asyncio.Event()

    def wake():  # on the training thread
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
            loop.call_soon_threadsafe(ended.set)

    run.when_trained(wake)
    with not_serving(), anyio.move_on_after(seconds):  # the training is not this request's
        await ended.wait()
    return public_status(run) in FINISHED
