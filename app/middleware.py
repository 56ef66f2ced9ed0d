"""Pure ASGI middleware: security headers, access log, request body limit, gzip, and HEAD.
(Big answers in slices: app.sliced_body.)"""

import gzip
import logging
import time

import anyio
import orjson

from app.settings import Settings

access_log = logging.getLogger("app.access")
# the status logged and counted for a request that got no answer because its client went
# away first (an upload given up halfway): nginx's "client closed request", not a 500
CLIENT_CLOSED = 499


async def noting_status(app, scope, receive, send, note):
    """Run app, then note(status) of its answer: 500 if it raised before answering,
    CLIENT_CLOSED if it returned without one."""
    status = None

    async def send_and_note(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    try:
        await app(scope, receive, send_and_note)
    except BaseException:
        status = status or 500
        raise
    finally:
        note(status or CLIENT_CLOSED)


def security_headers(settings: Settings) -> dict[str, str]:
    """Headers every answer carries: the page loads nothing from elsewhere."""
    csp = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
           "object-src 'none'; base-uri 'self'; "
           f"frame-ancestors {settings.frame_ancestors}")
    return {"content-security-policy": csp, "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer"}


class SecurityHeaders:
    def __init__(self, app, settings: Settings):
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in security_headers(settings).items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k for k, _ in self.headers}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# characters of a request's query that its access line keeps
LOGGED_QUERY = 200


class AccessLog:
    """One JSON line per request: method, path, query (its first LOGGED_QUERY characters,
    "" without one), status, ms, and client, the address (X-Forwarded-For's where uvicorn
    trusts the proxy), so that an operator can tell who sends what. uvicorn's own access
    log is off."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()

        def log(status):
            ms = round((time.perf_counter() - start) * 1000, 2)
            query = scope.get("query_string", b"").decode("latin-1")[:LOGGED_QUERY]
            client = (scope.get("client") or ("unknown",))[0]
            access_log.info(orjson.dumps({"method": scope["method"], "path": scope["path"],
                                          "query": query, "status": status, "ms": ms,
                                          "client": client}).decode())

        await noting_status(self.app, scope, receive, send, log)


async def send_detail(send, status: int, detail: str, headers=()):
    """An error answered from ASGI middleware, below FastAPI's handlers: the JSON body
    {"detail": ...} that every error has, with these extra headers."""
    body = orjson.dumps({"detail": detail})
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for a request body over max_bytes, whether Content-Length says so or not; 408
    for one that has not arrived within seconds."""

    def __init__(self, app, max_bytes: int, seconds: float = 30.0):
        self.app = app
        self.max_bytes, self.seconds = max_bytes, seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            return await self._too_large(send)
        # read the whole (small) body first, so a chunked upload cannot exceed the limit
        chunks, size, more = [], 0, True
        with anyio.move_on_after(self.seconds):  # (only the reading: no answer is cut short)
            while more and size <= self.max_bytes:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                more = message.get("more_body", False)
        if size > self.max_bytes:
            return await self._too_large(send)
        if more:
            return await send_detail(send, 408, f"body: not received within this server's "
                                                f"{self.seconds:g} s", [(b"connection", b"close")])
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: wait for the disconnect
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send):
        await send_detail(send, 413, f"body: larger than this server's limit of "
                                     f"{self.max_bytes} bytes")


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header admits gzip; `gzip;q=0` refuses it (RFC 9110)."""
    weights = {}
    for item in accept_encoding.lower().split(","):
        name, *params = (part.strip() for part in item.split(";"))
        q = next((value for key, _, value in (p.partition("=") for p in params) if key == "q"),
                 "1")
        try:
            weights[name] = float(q)
        except ValueError:
            weights[name] = 0.0
    return weights.get("gzip", weights.get("*", 0.0)) > 0


def holding_start(send, answer):
    """A send that keeps an answer's start message until its first body message shows the
    size, then awaits answer(start, message), which sends them as it sees fit; a stream's
    later messages go straight to send."""
    held = None

    async def send_holding(message):
        nonlocal held
        if message["type"] == "http.response.start":
            held = message
            return
        if held is None:  # the answer was already released
            await send(message)
            return
        start, held = held, None
        await answer(start, message)

    return send_holding


GZIP_MIN_BYTES = 1000  # smaller answers go out as they are: gzip's header outweighs it
COMPRESSIBLE = (b"application/json", b"text/html", b"text/css", b"text/javascript",
                b"application/javascript", b"image/svg+xml")


class Gzip:
    """gzip for whole answers of min_bytes to max_bytes when the client accepts it.

    Bigger answers go out as they are: a step record is megabytes of float text, and
    deflating it (~55 MB/s at level 1 on one core) costs more time than it saves on a
    local or LAN link. Streams (Server-Sent Events) pass through untouched.
    """

    def __init__(self, app, min_bytes: int, max_bytes: int, level: int):
        self.app, self.level = app, level
        self.min_bytes, self.max_bytes = min_bytes, max_bytes

    async def __call__(self, scope, receive, send):
        accepts = dict(scope.get("headers", [])).get(b"accept-encoding", b"")
        if scope["type"] != "http" or not accepts_gzip(accepts.decode("latin-1")):
            return await self.app(scope, receive, send)

        async def answer(start, message):
            body = message.get("body", b"")
            if not message.get("more_body") and self._worth_it(start, body):
                start, message = self._compressed(start, body)
            await send(start)
            await send(message)

        await self.app(scope, receive, holding_start(send, answer))

    def _worth_it(self, start, body) -> bool:
        headers = dict(start.get("headers", []))
        kind = headers.get(b"content-type", b"").split(b";")[0].strip()
        return (self.min_bytes <= len(body) <= self.max_bytes and kind in COMPRESSIBLE
                and b"content-encoding" not in headers)

    def _compressed(self, start, body):
        # mtime=0: identical answers are identical bytes in every process
        packed = gzip.compress(body, compresslevel=self.level, mtime=0)
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding"),
                    (b"content-length", str(len(packed)).encode())]
        return {**start, "headers": headers}, {"type": "http.response.body", "body": packed}


# the scope key by which HeadAsGet tells the middleware inside it that no body leaves
HEAD_AS_GET = "backprop_lens.head_as_get"


class HeadAsGet:
    """HEAD answered as GET without the body (RFC 9110: a GET resource answers HEAD too),
    so that an uptime monitor's HEAD /healthz, or / , gets 200 and GET's headers. Progress
    events (a stream that lasts while the run trains) stay GET only: 405. The inner scope
    carries HEAD_AS_GET, so that SlicedBody neither slices nor counts a body that is
    dropped here."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD" or \
                scope["path"].endswith("/events"):
            return await self.app(scope, receive, send)

        async def send_headers_only(message):
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        inner = {**scope, "method": "GET", HEAD_AS_GET: True}
        try:
            await self.app(inner, receive, send_headers_only)
        finally:
            # what routing wrote for the outer middleware (the metrics' route template)
            for name in ("route", "endpoint", "path_params"):
                if name in inner:
                    scope[name] = inner[name]
