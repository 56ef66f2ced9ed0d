"""This process's runs: trained once per config, kept in an LRU under a byte budget.

A run is fully determined by its config, so the cache is only an accelerator: an
evicted or never-seen run is retrained on demand. Training happens on a small pool of
background threads per process, so the event loop and other requests stay responsive,
and one long run does not hold up every other one.
"""

import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import anyio

from engine.run import Run

log = logging.getLogger("app.runs")

FINISHED = ("done", "diverged")


def public_status(run) -> str:
    """The status the API reports (docs/api.md): a queued or stopping run is still
    "running"."""
    status = run.status  # once: training, on another thread, may change it meanwhile
    if status == "failed":
        raise RuntimeError("training failed; see the log")  # the catch-all answers 500
    return status if status in FINISHED else "running"


class _Slot:
    """One cache entry; its lock makes concurrent first requests build the Run once."""

    __slots__ = ("future", "lock", "run")

    def __init__(self):
        self.lock = threading.Lock()
        self.run = None
        self.future = None  # its training job

    def queued(self) -> bool:
        return self.future is not None and not self.future.running() and not self.future.done()


class RunCache:
    """Runs by key (the canonical config), least recently used first."""

    def __init__(self, budget_bytes: int, max_queued: int = 64, threads: int = 2):
        self.budget_bytes, self.max_queued = budget_bytes, max_queued
        self._slots: OrderedDict[bytes, _Slot] = OrderedDict()
        self._lock = threading.Lock()
        self._trainer = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="train")
        self._closing = False

    @property
    def closing(self) -> bool:
        """True once close() ran: nothing trains here any more."""
        return self._closing

    def peek(self, key: bytes) -> Run | None:
        """The run if it is already built (cheap enough for the event loop)."""
        with self._lock:
            slot = self._slots.get(key)
            if slot is None or slot.run is None:
                return None
            self._slots.move_to_end(key)
            return slot.run

    def get(self, key: bytes, config: dict) -> Run:
        """The run of this config, built and queued for training on first use.

        Building loads the dataset (milliseconds), so call it off the event loop. After
        close() a new run is built but never trained (it stays "pending").
        """
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = _Slot()
            self._slots.move_to_end(key)
        with slot.lock:
            if slot.run is None:
                slot.run = Run(config)
                slot.future = self._queue(key, slot.run)
                self._drop_excess_queue()
                self.evict()
        return slot.run

    def _queue(self, key, run):
        """The run's training job; None once close() ran (the run then stays pending)."""
        try:
            return None if self._closing else self._trainer.submit(self._train, key, run)
        except RuntimeError:  # close() shut the pool down in between
            return None

    def _drop_excess_queue(self):
        """Forget the least recently used runs still waiting for a training thread,
        beyond max_queued: a flood of configs cannot grow the queue (or memory) without
        bound. Anyone still polling such a run, or following its events, queues it again."""
        with self._lock:
            queued = [k for k, s in self._slots.items() if s.queued()]
            for key in queued[:max(0, len(queued) - self.max_queued)]:
                if self._slots[key].future.cancel():
                    del self._slots[key]

    def _train(self, key, run):
        try:
            run.train(should_stop=lambda: self._closing)
        except Exception:
            # an engine bug: the route layer answers 500, and the next request retries
            log.exception("training failed for %s", key.decode())
            run.status = "failed"
            with self._lock:
                if self._slots.get(key) is not None and self._slots[key].run is run:
                    del self._slots[key]
        self.evict()

    def nbytes(self) -> int:
        with self._lock:
            return sum(s.run.nbytes() for s in self._slots.values() if s.run is not None)

    def evict(self):
        """Drop finished runs, least recently used first, until the cache fits its budget.

        Runs still training stay: dropping them would only waste the work done so far.
        """
        with self._lock:
            sizes = {k: s.run.nbytes() for k, s in self._slots.items() if s.run is not None}
            total = sum(sizes.values())
            for key in list(self._slots)[:-1]:  # the most recent run always stays
                if total <= self.budget_bytes:
                    break
                run = self._slots[key].run
                if run is not None and run.status in FINISHED:
                    total -= sizes[key]
                    del self._slots[key]

    def __len__(self):
        return len(self._slots)

    def __contains__(self, key):
        return key in self._slots

    def close(self):
        """Stop training (at the next step) and drop queued runs: the server is leaving."""
        self._closing = True
        self._trainer.shutdown(wait=False, cancel_futures=True)


async def wait_finished(run, seconds: float) -> bool:
    """Poll until the run finishes or `seconds` pass; True if it finished.

    Any process can be asked about any run; one that has not trained it yet does so
    on demand, and a short wait lets it answer complete instead of 409 or partial.
    """
    deadline, pause = time.monotonic() + seconds, 0.002
    while public_status(run) not in FINISHED:
        if time.monotonic() >= deadline:
            return False
        await anyio.sleep(pause)
        pause = min(pause * 2, 0.05)
    return True
