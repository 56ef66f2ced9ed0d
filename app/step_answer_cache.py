"""This process's serialized step answers: an LRU of JSON bytes under a byte budget.

A finished run's step record never changes, so its bytes can be reused: a class that
opens the same run and steps is served from memory instead of replaying and
serializing each step again. Answers of runs still training are not kept (a run that
diverges later truncates its record). Requests for an answer that is being built wait for
that build rather than start their own: a class that opens the same step at once builds it
once. The time a request waits for a big answer that is bulk work (app.bulk_share) is not
counted as serving time.
"""

import asyncio
import threading
import time
from collections import OrderedDict

import anyio
from starlette.exceptions import HTTPException

from app.bulk_share import not_serving

# bookkeeping per entry (key tuple, dict slot, bytes object header), roughly
ENTRY_OVERHEAD = 200


class AnswerCache:
    """JSON bytes by key, least recently used first; at most budget_bytes in all."""

    def __init__(self, budget_bytes: int):
        self.budget_bytes = budget_bytes
        self._answers: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.nbytes = 0
        # key -> the task building its answer, and how many requests wait for it; only
        # touched on the event loop
        self._building: dict[tuple, asyncio.Future] = {}
        self._waiting: dict[tuple, int] = {}

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            body = self._answers.get(key)
            if body is not None:
                self._answers.move_to_end(key)
            return body

    def put(self, key: tuple, body: bytes):
        """Keep body, dropping the least recently used answers to fit. An answer over a
        quarter of the budget is not kept: it would push out many smaller ones."""
        size = len(body) + ENTRY_OVERHEAD
        if size > self.budget_bytes // 4:
            return
        with self._lock:
            old = self._answers.pop(key, None)
            if old is not None:
                self.nbytes -= len(old) + ENTRY_OVERHEAD
            self._answers[key] = body
            self.nbytes += size
            while self.nbytes > self.budget_bytes:
                _, dropped = self._answers.popitem(last=False)
                self.nbytes -= len(dropped) + ENTRY_OVERHEAD

    async def answer(self, key: tuple, final: bool, build, *args, big=None) -> bytes:
        """The kept answer of key, else build(*args) on a worker thread, kept when
        `final` (the run had finished before the step was checked).  big: None, or the
        slots a big answer takes its turn from (app.answer_size.BigAnswerSlots).

        While an answer is built, other requests for it wait for that build, and keep it
        going when the one that started it goes away; once nobody waits for it, a build
        still waiting for its turn gives the turn back. A request that joined late and
        shares the build's busy 503 before its own wait is up asks again itself."""
        asked = time.monotonic()
        while True:
            body = self.get(key)
            if body is not None:
                return body
            building = self._building.get(key)
            started = building is None
            if started:
                building = self._building[key] = asyncio.ensure_future(
                    self._build(key, final, build, args, big))
                building.add_done_callback(lambda done: self._built(key, done))
            try:
                return await self._wait(key, building, big)
            except HTTPException as exc:
                if started or big is None or exc.status_code != 503 or \
                        time.monotonic() - asked >= big.wait_seconds:
                    raise

    async def _wait(self, key, building, big):
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            if big is None or big.bulk is None:
                return await asyncio.shield(building)
            with not_serving():  # bulk work, waited for or built: not serving time
                return await asyncio.shield(building)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                if not building.done():  # nobody waits for it: a new request starts afresh
                    if self._building.get(key) is building:
                        del self._building[key]
                    building.cancel()

    async def _build(self, key, final, build, args, big):
        body = await (big.build(build, *args) if big is not None
                      else anyio.to_thread.run_sync(build, *args))
        if final:
            self.put(key, body)
        return body

    def _built(self, key, done):
        if self._building.get(key) is done:
            del self._building[key]
        if not done.cancelled():
            done.exception()  # retrieved here too: every request for it may have gone

    def __len__(self):
        return len(self._answers)
