"""Big answers sent in slices, as the client takes them, within a budget a process."""

import logging

import anyio
import anyio.lowlevel

from app.middleware import HEAD_AS_GET, holding_start, send_detail

log = logging.getLogger("app.sliced_body")

# uvicorn writes a slice into the connection's buffer and holds the next send until that
# buffer is below 16 KiB: a client that takes less than a slice in a whole stall is slow
# enough to stop for (64 KiB in 30 s: about 2 KB/s)
SLICE_BYTES = 64 * 1024
# the most of the budget that the answers being sent to one address may hold (one alone
# goes whatever its size): a client that opens a few connections and reads nothing had
# held all of it for a stall, and every other client's big answers answered 503
ADDRESS_SHARE = 0.5


class SendStalledError(Exception):
    """A client took less than a slice of an answer in a whole stall."""


class SlicedBody:
    """Pure ASGI middleware: answers over slice_bytes go out in slices, each sent once the
    client has taken most of the last.

    Sent whole, an answer is copied into the connection's write buffer at once, and a
    client that reads nothing keeps that copy: 40 clients asking for a 32 MB step and
    reading nothing held 1.4 GB in one worker, though the answer itself was cached once.
    In slices a connection holds a slice or two beyond the answer. The answers being sent
    count against budget_bytes a process: one that would pass it answers 503 with
    Retry-After (one alone goes whatever its size), so that slow readers of many
    different answers cannot hold them all; and those being sent to one client address
    against ADDRESS_SHARE of it (one alone goes whatever its size), so that one client's
    slow readers cannot hold it all either. A client that takes less than a slice in
    stall_seconds gets no more: the answer's share of the budget is freed, and uvicorn
    closes the connection once its buffer is sent, which a client that reads nothing never
    lets happen; `serve` sets TCP_USER_TIMEOUT on its socket, so the kernel drops such a
    connection itself (app.cli.listening_socket). Streamed answers (more_body: Server-Sent
    Events, files) pass through as they are, and so do the answers to HEAD, whose body
    HeadAsGet drops.
    """

    def __init__(self, app, slice_bytes: int, budget_bytes: int, stall_seconds: float):
        self.app, self.slice_bytes = app, slice_bytes
        self.budget_bytes, self.stall_seconds = budget_bytes, stall_seconds
        self.sending = 0  # bytes of the answers being sent, in this process
        self.by_address = {}  # those bytes by client address (the ones with some)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get(HEAD_AS_GET):
            return await self.app(scope, receive, send)

        async def answer(start, message):
            body = message.get("body", b"")
            if message.get("more_body") or len(body) <= self.slice_bytes:
                await send(start)
                return await send(message)
            address = (scope.get("client") or ("unknown",))[0]
            mine = self.by_address.get(address, 0)
            if (self.sending and self.sending + len(body) > self.budget_bytes) or \
                    (mine and mine + len(body) > ADDRESS_SHARE * self.budget_bytes):
                return await self._busy(send)
            self.sending += len(body)
            self.by_address[address] = mine + len(body)
            try:
                await self._send_within_stall(send, start)
                view = memoryview(body)
                for at in range(0, len(body), self.slice_bytes):
                    end = at + self.slice_bytes
                    await self._send_within_stall(send, {
                        "type": "http.response.body", "body": bytes(view[at:end]),
                        "more_body": end < len(body)})
                    # a send into a connection that just failed returns at once: let the
                    # event loop tell uvicorn that it is lost (its send then writes nothing)
                    # rather than write every slice left into it, each logged by asyncio
                    # ("socket.send() raised exception.")
                    await anyio.lowlevel.checkpoint()
            finally:
                self.sending -= len(body)
                left = self.by_address[address] - len(body)
                if left:
                    self.by_address[address] = left
                else:
                    del self.by_address[address]

        try:
            await self.app(scope, receive, holding_start(send, answer))
        except SendStalledError:
            # uvicorn then logs "ASGI callable returned without completing response."
            log.warning("%s %s: the client took less than %d bytes in %g s; no more is sent",
                        scope["method"], scope["path"], self.slice_bytes, self.stall_seconds)

    async def _send_within_stall(self, send, message):
        try:
            with anyio.fail_after(self.stall_seconds):
                await send(message)
        except TimeoutError as err:
            raise SendStalledError from err

    async def _busy(self, send):
        await send_detail(send, 503, "server: busy sending other large answers; try again "
                                     "shortly", [(b"retry-after", b"1")])
