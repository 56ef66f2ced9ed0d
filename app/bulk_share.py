"""How much of a core bulk work may take while this process answers requests.

Bulk work is what nobody waits for at a click: heavy runs training (beyond the fast lane)
and big answers being built. On a small box it competes with the class's requests for
the cores and for the worker's GIL, and the operating system cannot tell them apart: nice
does not help a thread that shares its process's GIL (it holds the GIL while starved).
So bulk work paces itself: while the process is busy answering requests, each piece of
bulk work is charged its CPU time, and the next piece waits until the debt is paid at
`cores` (a share of one core, for all the process's bulk work together). When requests
stop, the debt is forgiven and bulk work goes at full speed again. A request counts as
serving only for the time it does not spend waiting on bulk work (not_serving): building
a big answer or waiting for one, or waiting for a run to train. Else a big answer, or a
request that waits for a heavy run, would make the process look busy, and the bulk work
it waits for would pace itself.
"""

import math
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar

# serving time is averaged over about this many seconds
SERVING_SECONDS = 1.0
# the process counts as busy while it spends this share of a core answering requests;
# one page polling a run four times a second stays well under it
BUSY_AT = 0.05


class ServingTime:
    """The share of a core this process spends answering requests, averaged over about
    SERVING_SECONDS (an exponential moving average of the time to each answer's start)."""

    def __init__(self, clock=time.monotonic):
        self._clock, self._lock = clock, threading.Lock()
        self._total, self._at = 0.0, clock()

    def add(self, seconds: float):
        with self._lock:
            self._total = self._decayed() + seconds

    def share(self) -> float:
        with self._lock:
            return self._decayed() / SERVING_SECONDS

    def _decayed(self) -> float:
        now = self._clock()
        self._total *= math.exp(-(now - self._at) / SERVING_SECONDS)
        self._at = now
        return self._total


# the current request's seconds spent on bulk work so far: a one-item list that
# ServingClock sets for each request, and not_serving adds to; None outside a request
_not_serving_seconds: ContextVar[list | None] = ContextVar("not_serving_seconds", default=None)


@contextmanager
def not_serving(clock=time.monotonic):
    """Count the time inside as the current request's time on bulk work (a big answer's
    turn and build, a run's training), which ServingClock leaves out of its serving time."""
    start = clock()
    try:
        yield
    finally:
        seconds = _not_serving_seconds.get()
        if seconds is not None:
            seconds[0] += clock() - start


class ServingClock:
    """Pure ASGI middleware: adds each request's time until its answer starts to a
    ServingTime (a streamed answer counts until its first byte, not while it streams),
    less the time it spent on bulk work meanwhile (not_serving)."""

    def __init__(self, app, serving: ServingTime, clock=time.monotonic):
        self.app, self.serving, self._clock = app, serving, clock

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, counted, elsewhere = self._clock(), False, [0.0]
        token = _not_serving_seconds.set(elsewhere)

        def count():
            nonlocal counted
            counted = True
            self.serving.add(max(0.0, self._clock() - start - elsewhere[0]))

        async def send_and_count(message):
            if message["type"] == "http.response.start" and not counted:
                count()
            await send(message)

        try:
            await self.app(scope, receive, send_and_count)
        finally:
            _not_serving_seconds.reset(token)
            if not counted:
                count()


class BulkShare:
    """Paces bulk work to `cores` of CPU while `serving` says the process is busy.

    charge(seconds) after each piece; due() is how long to wait before the next one.
    Shared by every bulk worker of the process, so they take `cores` together.
    """

    def __init__(self, cores: float, serving: ServingTime, clock=time.monotonic):
        self.cores, self.serving, self._clock = cores, serving, clock
        self._lock = threading.Lock()
        self._owed, self._at = 0.0, clock()
        self.paused = 0.0  # seconds bulk work waited, in all (for /metrics)

    def charge(self, seconds: float):
        """Bulk work took `seconds` of CPU: owed while the process is busy."""
        with self._lock:
            self._owed = self._paid() + (seconds if self._busy() else 0.0)

    def due(self) -> float:
        """Seconds until the debt is paid: wait that long before the next piece."""
        with self._lock:
            self._owed = self._paid()
            return self._owed / self.cores

    def waited(self, seconds: float):
        with self._lock:
            self.paused += seconds

    def _busy(self) -> bool:
        return self.serving.share() >= BUSY_AT

    def _paid(self) -> float:
        """The debt left now: paid off at `cores` per second, forgiven when idle."""
        now = self._clock()
        owed = 0.0 if not self._busy() else max(0.0, self._owed - (now - self._at) * self.cores)
        self._at = now
        return owed
