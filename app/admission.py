"""Who may start training, and in which lane (docs/deploy.md, "Admission").

A client is an anonymous token that the page holds in a cookie; its address is only a
coarse ceiling, since a whole classroom behind one school NAT is one address. A request
without the cookie (a script) is its address. Admission guards new work only: reading a
run that is already held (queued, training or finished) is never refused, and a request
that would train (a new config, or an id whose run was evicted or cancelled) is admitted
here, whichever route it came by. Cross-site requests start nothing.
"""

import math
import re
import secrets
from collections import Counter
from typing import NamedTuple

from fastapi import HTTPException, Request
from starlette.requests import cookie_parser

from app.settings import Settings
from engine.work_estimate import run_flops, seconds_of_flops

COOKIE = "bpl_client"
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)
# the page asks about a run it waits for every 250 ms: a run of this client that nobody
# asked about for this long was left for a newer config, and gives way to it
LEFT_SECONDS = 5.0
MAX_RETRY_AFTER = 60


class Client(NamedTuple):
    """Who asks: the cookie's token (None without one), the address, and whether the
    request came from another site's page (Sec-Fetch-Site: cross-site)."""

    token: str | None
    address: str
    cross_site: bool = False

    @property
    def key(self) -> str:
        """Whom the per-client cap counts: the token, or the address without one."""
        return f"token {self.token}" if self.token else f"address {self.address}"


def token_of(cookie_header: str) -> str | None:
    """The client token of a Cookie header, if it holds a well-formed one."""
    token = cookie_parser(cookie_header).get(COOKIE, "")
    return token if TOKEN.fullmatch(token) else None


def client_of(request: Request) -> Client:
    """The client of a request. Behind a proxy the address is the proxy's, unless uvicorn
    trusts it (forwarded_allow_ips): then it is X-Forwarded-For's."""
    address = request.client.host if request.client else "unknown"
    cross_site = request.headers.get("sec-fetch-site") == "cross-site"
    return Client(token_of(request.headers.get("cookie", "")), address, cross_site)


class ClientCookie:
    """Pure ASGI middleware: an answer to a request without a valid token sets one.

    The token is random and anonymous, a handle for fair shares, not a secret: HttpOnly
    (no script needs it), SameSite=Lax (another site's subrequests do not carry it), a
    session cookie (it ends with the browser).
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cookie = dict(scope["headers"]).get(b"cookie", b"").decode("latin-1")
        if token_of(cookie):
            return await self.app(scope, receive, send)
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        header = (b"set-cookie", f"{COOKIE}={secrets.token_urlsafe(16)}; Path=/; HttpOnly; "
                                 f"SameSite=Lax{secure}".encode())

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _excess(count: int, cap: int | None) -> int:
    """How many runs must go so that one more fits `count` under `cap` (None: no cap)."""
    return 0 if cap is None else max(0, count + 1 - cap)


class AdmissionError(Exception):
    """Training not admitted; `reason` names the limit (a setting, or cross_site)."""

    def __init__(self, status: int, reason: str, detail: str, retry_after: int | None = None):
        super().__init__(detail)
        self.status, self.reason, self.detail, self.retry_after = \
            status, reason, detail, retry_after

    def http(self) -> HTTPException:
        headers = None if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        return HTTPException(self.status, self.detail, headers=headers)


class Admission:
    """The rules: caps on runs in flight (queued or training) per client and per address,
    the fast lane by the engine's work estimate, and how long training goes on unasked.

    Counts refusals by reason in `refused` (for /metrics). The defaults admit everything,
    have no fast lane and cancel nothing. cost(config): a run's flops (engine.work_estimate).
    """

    def __init__(self, per_client: int | None = None, per_address: int | None = None,
                 fast_lane_flops: float = 0.0, idle_seconds: float | None = None,
                 cost=run_flops):
        self.per_client, self.per_address = per_client, per_address
        self.fast_lane_flops, self.idle_seconds, self.cost = fast_lane_flops, idle_seconds, cost
        self.refused = Counter({"max_runs_per_client": 0, "max_runs_per_address": 0,
                                "cross_site": 0})

    @classmethod
    def from_settings(cls, settings: Settings) -> "Admission":
        return cls(settings.max_runs_per_client, settings.max_runs_per_address,
                   settings.fast_lane_flops, settings.idle_cancel_seconds)

    def is_fast(self, config: dict) -> bool:
        """Whether a run takes the fast lane: estimated flops within fast_lane_flops."""
        return self.fast_lane_flops > 0 and self.cost(config) <= self.fast_lane_flops

    def is_idle(self, asked: float, now: float) -> bool:
        """Whether a run last asked about at `asked` (time.monotonic) is left alone."""
        return self.idle_seconds is not None and now - asked > self.idle_seconds

    def room_for(self, client: Client | None, in_flight: list, now: float) -> list:
        """The left runs (jobs) to cancel so that one more run fits the caps: the client's
        own under its cap, any at its address under the address's; an AdmissionError if it
        does not fit even so. in_flight: the jobs queued or training. A refusal counts in
        `refused`."""
        if client is None:  # the server's own work (tests, benchmarks)
            return []
        if client.cross_site:
            raise self._refusal(403, "cross_site", "Sec-Fetch-Site: cross-site: "
                                "another site's page cannot start training on this server; "
                                "open the run in Backprop Lens itself")
        mine = [j for j in in_flight if j.client is not None and j.client.key == client.key]
        here = [j for j in in_flight if j.client is not None and j.client.address == client.address]
        # without the cookie a client is its address, and the words say so
        who = "this client" if client.token else \
            f"this client (without a {COOKIE} cookie, its address)"
        over = {"max_runs_per_client": (len(mine), self.per_client, who),
                "max_runs_per_address": (len(here), self.per_address, "this address")}
        # the client's own left runs make room under its cap; under the address's, any
        # client's there, least recently requested first: tokens are free to invent, so
        # runs that nobody watches must not lock a classroom behind one NAT out of training
        # (holding them takes a request about each within LEFT_SECONDS: an idle event
        # stream, which costs nothing a second, does not hold one). Its own at this
        # address go first: one of those makes room under both caps
        own = sorted(self._left(mine, now), key=lambda j: j.client.address != client.address)
        room = own[:_excess(len(mine), self.per_client)]
        rest = [j for j in self._left(here, now) if j not in room]
        room += rest[:max(0, _excess(len(here), self.per_address) - sum(j in here for j in room))]
        still = {r: _excess(n - sum(j in jobs for j in room), cap)
                 for (r, (n, cap, _)), jobs in zip(over.items(), (mine, here), strict=True)}
        if not any(still.values()):
            return room
        reason = next(r for r, excess in still.items() if excess)
        n, cap, who = over[reason]
        raise self._refusal(429, reason,
                            f"{reason}: {who} already has {n} runs queued or training, the "
                            f"most this server allows at once ({reason} = {cap}); retry "
                            "when one has finished",
                            self.retry_after(mine if reason == "max_runs_per_client" else here))

    @staticmethod
    def _left(jobs: list, now: float) -> list:
        """The jobs no request asked about for LEFT_SECONDS (an event stream's rounds do not
        count: Job.requested), least recently requested first."""
        return sorted((j for j in jobs if now - j.requested > LEFT_SECONDS),
                      key=lambda j: j.requested)

    def _refusal(self, status: int, reason: str, detail: str,
                 retry_after: int | None = None) -> AdmissionError:
        self.refused[reason] += 1
        return AdmissionError(status, reason, detail, retry_after)

    def retry_after(self, jobs: list) -> int:
        """Seconds until the first of these runs probably finishes (its estimated flops
        left, at the engine's rate), from 1 to MAX_RETRY_AFTER."""
        left = min((self.cost(j.run.config) * (1 - j.run.num_steps / j.run.config["steps"])
                    for j in jobs), default=0.0)
        seconds = seconds_of_flops(left)
        return int(min(MAX_RETRY_AFTER, max(1, math.ceil(seconds))))
