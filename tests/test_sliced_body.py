"""app.sliced_body: big answers go out in slices as the client takes them, the answers
being sent count against a budget, and a client that takes nothing gets no more."""

import logging
import socket
import time

import anyio
import anyio.lowlevel
import httpx
import pytest

from app.middleware import HeadAsGet
from app.sliced_body import SlicedBody
from tests.conftest import SMALL
from tests.event_loops import run_async
from tests.server_processes import serving

SCOPE = {"type": "http", "method": "GET", "path": "/big", "headers": []}


def answering(body: bytes, more_body=False):
    """An ASGI app that answers 200 with body in one message (more_body: a stream)."""
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body, "more_body": more_body})
    return app


def collect(middleware, sent, before_each=None, method="GET", client=("127.0.0.1", 5000)):
    async def send(message):
        if before_each is not None:
            await before_each(message)
        sent.append(message)

    async def receive():
        return {"type": "http.disconnect"}

    return middleware({**SCOPE, "method": method, "client": client}, receive, send)


def waiting_for(event):
    """A client's pace for collect(): it takes the start, then no body until event is set."""
    async def slow(message):
        if message["type"] == "http.response.body":
            await event.wait()
    return slow


@pytest.mark.parametrize(("size", "slices"), [(10, 1), (100, 1), (101, 2), (250, 3)])
def test_a_big_answer_goes_out_in_slices_that_make_it_whole(size, slices):
    body, sent = bytes(range(256))[:size], []
    middleware = SlicedBody(answering(body), slice_bytes=100, budget_bytes=10**6,
                            stall_seconds=5)
    run_async(lambda: collect(middleware, sent))
    start, *parts = sent
    assert start["status"] == 200
    assert len(parts) == slices
    assert b"".join(bytes(p["body"]) for p in parts) == body
    assert [p.get("more_body", False) for p in parts] == [True] * (slices - 1) + [False]
    assert middleware.sending == 0


def test_the_event_loop_runs_between_slices():
    """A send into a connection that just failed returns at once; uvicorn learns of the loss
    from a callback of the event loop. Without a turn of the loop between slices, each
    slice left went into the dead connection, and asyncio logged "socket.send() raised
    exception." for each (about a hundred lines for an export.npz given up)."""
    order, sent = [], []
    middleware = SlicedBody(answering(b"x" * 500), slice_bytes=100, budget_bytes=10**6,
                            stall_seconds=5)

    async def record(message):
        order.append("slice")

    async def both():
        async def loop_turns():
            for _ in range(20):
                order.append("turn")
                await anyio.lowlevel.checkpoint()
        async with anyio.create_task_group() as group:
            group.start_soon(collect, middleware, sent, record)
            group.start_soon(loop_turns)

    run_async(both)
    slices = [k for k, what in enumerate(order) if what == "slice"][1:]  # after the start
    assert len(slices) == 5
    assert all(order[k - 1] == "turn" for k in slices[1:]), order


def test_a_stream_passes_as_it_is():
    sent = []
    middleware = SlicedBody(answering(b"x" * 500, more_body=True), 100, 10**6, 5)
    run_async(lambda: collect(middleware, sent))
    assert [len(m.get("body", b"")) for m in sent[1:]] == [500]


def test_answers_past_the_budget_wait_for_none_and_answer_503():
    """While a slow client holds a big answer, a second one that would pass the budget is
    a 503 with Retry-After; one alone goes whatever its size; once the first is sent,
    the budget is free again."""
    middleware = SlicedBody(answering(b"a" * 300), slice_bytes=100, budget_bytes=500,
                            stall_seconds=5)
    held, first, second, third = anyio.Event(), [], [], []
    slow = waiting_for(held)

    async def main():
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(collect, middleware, first, slow)
            await anyio.sleep(0.05)
            assert middleware.sending == 300
            await collect(middleware, second)  # 300 + 300 > 500
            held.set()
        await collect(middleware, third)

    run_async(main)
    assert b"".join(m["body"] for m in first[1:]) == b"a" * 300
    assert second[0]["status"] == 503 and (b"retry-after", b"1") in second[0]["headers"]
    assert b"busy sending other large answers" in second[1]["body"]
    assert third[0]["status"] == 200
    alone = SlicedBody(answering(b"b" * 900), 100, budget_bytes=500, stall_seconds=5)
    sent = []
    run_async(lambda: collect(alone, sent))
    assert sent[0]["status"] == 200 and len(sent) == 10


def test_one_address_holds_at_most_its_share_of_the_budget():
    """A client that opened connections for big answers and read none had held the whole
    budget, and every other client's big answers answered 503. One address holds at most
    ADDRESS_SHARE of it (one answer alone goes whatever its size); another address's
    answer still goes."""
    middleware = SlicedBody(answering(b"a" * 300), slice_bytes=100, budget_bytes=1000,
                            stall_seconds=5)
    held, first, again, other = anyio.Event(), [], [], []
    slow = waiting_for(held)
    attacker, neighbour = ("203.0.113.7", 4000), ("198.51.100.2", 4001)

    async def main():
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(collect, middleware, first, slow, "GET", attacker)
            await anyio.sleep(0.05)
            await collect(middleware, again, None, "GET", attacker)  # 300 + 300 > 500
            await collect(middleware, other, None, "GET", neighbour)  # 600 <= 1000
            assert middleware.by_address == {attacker[0]: 300}
            held.set()

    run_async(main)
    assert again[0]["status"] == 503
    assert other[0]["status"] == 200
    assert first[0]["status"] == 200
    assert middleware.sending == 0 and middleware.by_address == {}


def test_a_head_is_neither_sliced_nor_counted_against_the_budget():
    """HEAD answers as GET without the body: its body is dropped whole, so a monitor's HEAD
    of a big answer is not refused while other big answers fill the budget."""
    middleware = SlicedBody(answering(b"a" * 300), slice_bytes=100, budget_bytes=500,
                            stall_seconds=5)
    head = HeadAsGet(middleware)
    held, first, headed = anyio.Event(), [], []
    slow = waiting_for(held)

    async def main():
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(collect, middleware, first, slow)
            await anyio.sleep(0.05)
            await collect(head, headed, method="HEAD")  # 300 + 300 > 500, but no body goes
            assert middleware.sending == 300
            held.set()

    run_async(main)
    assert headed[0]["status"] == 200
    assert (b"content-length", b"300") in headed[0]["headers"]
    assert [(m["body"], m["more_body"]) for m in headed[1:]] == [(b"", False)]


def test_a_client_that_takes_nothing_is_dropped_and_frees_the_budget(caplog):
    middleware = SlicedBody(answering(b"c" * 300), 100, 10**6, stall_seconds=0.05)
    sent = []

    async def never(message):  # takes the start and one slice, then nothing
        if len(sent) >= 2:
            await anyio.sleep(60)

    with caplog.at_level(logging.WARNING, logger="app.sliced_body"):
        started = time.monotonic()
        run_async(lambda: collect(middleware, sent, never))
    assert time.monotonic() - started < 5
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert middleware.sending == 0
    assert "took less than 100 bytes in 0.05 s" in caplog.text


def test_a_real_server_sends_no_more_to_a_client_that_reads_nothing_of_a_big_answer():
    """Through `serve`: a step answer of about 30 MB to a socket that reads nothing. The
    server sends slices until the kernel's socket buffers are full (a few MB on loopback),
    sends no more once the stall passes, and answers others meanwhile: the client gets
    only what was on its way. (That the kernel then drops the connection is
    test_cli's.)"""
    with serving(env={"BPL_SEND_STALL_SECONDS": "1"}) as (url, _):
        config = {**SMALL, "n_samples": 2000, "hidden_layers": [128, 128], "steps": 2}
        run = httpx.post(f"{url}/api/runs", json=config, timeout=60).json()
        while run["status"] == "running":
            time.sleep(0.2)
            run = httpx.get(f"{url}/api/runs/{run['id']}", timeout=60).json()
        path = f"/api/runs/{run['id']}/steps/0?layers=1,2&fields=Z,A,dZ,dA"
        size = len(httpx.get(url + path, timeout=60).content)
        assert size > 25 * 2**20
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            time.sleep(3)  # the stall passes while nothing is read
            assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
            got = b""
            sock.settimeout(3)
            try:
                while chunk := sock.recv(65536):
                    got += chunk
            except (TimeoutError, ConnectionResetError):
                pass  # a connection that the server's kernel dropped ends either way
        assert len(got) < size  # the connection ended before the answer did
