"""app.bulk_share: the serving time a process spends on requests, and the pace of bulk work
(heavy training, big answers) while it is busy."""

import math
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from app.bulk_share import (
    BUSY_AT,
    SERVING_SECONDS,
    BulkShare,
    ServingClock,
    ServingTime,
    not_serving,
)
from app.run_cache import wait_finished


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Busy:
    """A ServingTime stand-in: busy, or not."""

    def __init__(self, busy=True):
        self.busy = busy

    def share(self):
        return 1.0 if self.busy else 0.0


def test_serving_time_is_a_moving_average_of_the_time_spent_answering():
    clock = Clock()
    serving = ServingTime(clock)
    serving.add(0.5)
    assert serving.share() == pytest.approx(0.5 / SERVING_SECONDS)
    clock.now += 3 * SERVING_SECONDS
    assert serving.share() == pytest.approx(0.5 * math.exp(-3) / SERVING_SECONDS)
    serving.add(0.25)
    assert serving.share() == pytest.approx((0.5 * math.exp(-3) + 0.25) / SERVING_SECONDS)


@pytest.mark.parametrize(("cores", "charged", "later", "due"), [
    (0.2, [0.1], 0.0, 0.5),  # 0.1 s of CPU at 0.2 of a core: wait 0.5 s
    (0.2, [0.1], 0.25, 0.25),  # a quarter of a second later, half of it is paid
    (0.2, [0.1], 1.0, 0.0),  # paid off, never below zero
    (0.5, [0.1, 0.2], 0.0, 0.6),  # several pieces add up, whoever ran them
])
def test_bulk_work_waits_until_its_cpu_is_paid_at_its_share(cores, charged, later, due):
    clock = Clock()
    bulk = BulkShare(cores, Busy(), clock)
    for seconds in charged:
        bulk.charge(seconds)
    clock.now += later
    assert bulk.due() == pytest.approx(due)


def test_bulk_work_does_not_wait_while_nobody_is_served():
    serving, clock = Busy(busy=False), Clock()
    bulk = BulkShare(0.2, serving, clock)
    bulk.charge(1.0)
    assert bulk.due() == 0
    serving.busy = True
    bulk.charge(0.1)
    assert bulk.due() == pytest.approx(0.5)
    serving.busy = False  # the class went home: the debt is forgiven
    assert bulk.due() == 0


def test_one_page_polling_a_run_does_not_make_the_process_busy():
    clock = Clock()
    serving = ServingTime(clock)
    for _ in range(40):  # 10 s of polls 4 times a second, each answered in 3 ms
        serving.add(0.003)
        clock.now += 0.25
    assert serving.share() < BUSY_AT


def serving_app(clock):
    """An app whose plain answer takes 0.01 s of the clock, and whose streamed answer takes
    0.02 s to its first byte and 5 s more to stream."""
    async def plain(request):
        clock.now += 0.01
        return PlainTextResponse("ok")

    async def streamed(request):
        async def body():
            yield b"first"
            clock.now += 5
            yield b"rest"
        clock.now += 0.02
        return StreamingResponse(body())

    async def fails(request):
        clock.now += 0.04
        raise RuntimeError("boom")

    async def big(request):
        clock.now += 0.03
        with not_serving(clock):  # waiting for a turn and building a big answer
            clock.now += 2
        return PlainTextResponse("big")

    routes = [Route("/plain", plain), Route("/streamed", streamed), Route("/fails", fails),
              Route("/big", big)]
    return Starlette(routes=routes)


@pytest.mark.parametrize(("path", "counted", "after"), [
    ("/plain", 0.01, 0),
    ("/streamed", 0.02, 5),  # until its first byte: a stream of events is not work
    ("/fails", 0.04, 0),  # an answer that never started still took the time
    ("/big", 0.03, 0),  # a big answer's bulk work is not serving: it would pace itself
])
def test_serving_clock_counts_each_request_until_its_answer_starts(path, counted, after):
    clock = Clock()
    serving = ServingTime(clock)
    app = ServingClock(serving_app(clock), serving, clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.get(path)
    # the clock went on for `after` seconds once the answer started
    assert serving.share() * SERVING_SECONDS == pytest.approx(counted * math.exp(-after))


def test_a_request_waiting_for_a_run_to_train_is_not_serving():
    # else the heavy run it waits for would count it as busy serving, and pace itself
    training = SimpleNamespace(status="running", when_trained=lambda wake: None)

    async def waits(request):
        await wait_finished(training, 0.3)
        return PlainTextResponse("still training")

    serving = ServingTime()
    app = ServingClock(Starlette(routes=[Route("/waits", waits)]), serving)
    with TestClient(app) as client:
        assert client.get("/waits").text == "still training"
    assert serving.share() < 0.05  # counted, the 0.3 s wait would leave about 0.3 here
