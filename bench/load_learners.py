"""The clients of bench/load_test.py: learners who step and play their own small run with
the page's own requests, and hostile clients.

A learner is one browser: its own connections (at most 6) and its own cookie jar, so the
server's admission control sees one anonymous client per learner. It loads the page and
the options, creates a small run (its own config and seed), polls it as the page does
until trained, reads its summary and histograms, then until time is up: steps through a
few iterations with a think time, and plays a stretch at 15 iterations a second; now and
then it creates another run. A step change is the page's requests for one iteration,
sent at once (static/js/step_frame.js, FRAME below); its latency is the time until the
last of them has answered. A 409 is retried with backoff, as the page does.

The hostile clients of phase 2 (HOSTILE): heavy runs as fast as they are refused,
full-size step fetches of a big run, and altered ids and cross-site requests.
"""

import asyncio
import random
import time
from collections import Counter, defaultdict

import httpx

OK = (200, 201, 202)
RETRY_409 = 120.0  # seconds a request retries 409 (and 429/503), as the page's api.js does
POLL = 0.25  # seconds between polls of a training run, as the page does
PLAY_RATE = 15.0  # iterations a second while playing
STEP_THINK = (0.3, 1.0)  # seconds between two clicks on "next"
STEPS_CLICKED, STEPS_PLAYED = (3, 8), (30, 60)
NEW_RUN_EVERY = 4  # stretches of stepping and playing before a learner makes a new run
DATASETS, WIDTHS, STEPS = ("moons", "circles", "xor", "spiral"), ([8, 8], [16]), (100, 200, 300)

# the page's requests of one step change (static/js/step_frame.js; docs/api.md, "Lean
# answers"): parameters at display precision, the selected layer's heatmaps a byte a cell
# (layer 1's A_prev, X in full batch, comes once per run), one example's column, the
# decision boundary (a byte a point; fewer points while playing), and the thumbnails of
# what the first layer's units learned (2-D data)
DISPLAY = "digits=4"
HEATMAP = "max_cells=2048&encoding=u8"
FRAME = (
    "/steps/{t}?fields=W,b,dW,db,update&" + DISPLAY,
    "/steps/{t}?layers={layer}&fields={heatmaps}&" + HEATMAP,
    "/steps/{t}?example={example}&fields=X,Z,A,D,dA,dZ",
    "/steps/{t}/boundary?resolution={resolution}&encoding=u8delta&digits=6",
    "/steps/{t}/units?layer=1&units=0,1,2,3,4,5,6,7&resolution=24",
)
# what a full-batch run serves the same at every step: fetched once per run
CONSTANTS = ("/steps/0?layers={L}&fields=X,Y", "/steps/0?layers=1&fields=A_prev&" + HEATMAP)


class Stats:
    """Latencies (ms) by kind, errors and 409 retries of one load generator process."""

    def __init__(self):
        self.ms, self.errors, self.retried = defaultdict(list), Counter(), Counter()

    async def call(self, client, kind, method, url, ok=OK, **kwargs):
        """One request, timed under `kind`; the response, or None after an error."""
        start, pause = time.perf_counter(), 0.1
        try:
            response = await self.send(client, kind, method, url, **kwargs)
            while time.perf_counter() - start < RETRY_409:
                if response.status_code == 409:  # not trained here yet: the page backs off
                    wait, pause = pause, min(2 * pause, 1.0)
                elif (response.status_code in (429, 503) and response.status_code not in ok
                      and "retry-after" in response.headers):
                    wait = float(response.headers["retry-after"])  # as the page waits
                else:
                    break
                self.retried[f"{kind} {response.status_code}"] += 1
                await asyncio.sleep(wait)
                response = await self.send(client, kind, method, url, **kwargs)
        except httpx.HTTPError as err:
            self.errors[f"{kind} {type(err).__name__}"] += 1
            return None
        self.ms[kind].append((time.perf_counter() - start) * 1000)
        if response.status_code not in ok:
            self.errors[f"{kind} {response.status_code}"] += 1
            return None
        return response

    async def send(self, client, kind, method, url, **kwargs):
        """A request; a GET that meets a keep-alive connection the server closed as the
        request left is sent again, as a browser does unseen by the page (an overloaded
        server's keep-alive timer fires late, so this happens under load)."""
        for _ in range(2):
            try:
                return await client.request(method, url, **kwargs)
            except (httpx.RemoteProtocolError, httpx.ReadError):
                if method != "GET":
                    raise
                self.retried[f"{kind} on a closed connection"] += 1
        return await client.request(method, url, **kwargs)

    def merge(self, other: "Stats"):
        for kind, values in other.ms.items():
            self.ms[kind] += values
        self.errors.update(other.errors)
        self.retried.update(other.retried)


def learner_config(i: int, session: int, rng: random.Random) -> dict:
    return {"dataset": rng.choice(DATASETS), "hidden_layers": rng.choice(WIDTHS),
            "steps": rng.choice(STEPS), "n_samples": rng.choice((200, 300, 400)),
            "seed": i * 1000 + session}


async def open_run(client, stats, config, deadline):
    """POST the config, poll until trained as the page does, then read what the page reads
    once per run; the run info, or None."""
    response = await stats.call(client, "create", "POST", "/api/runs", json=config)
    info = response.json() if response else None
    while info and info["status"] == "running" and time.monotonic() < deadline:
        await asyncio.sleep(POLL)
        response = await stats.call(client, "poll", "GET", f"/api/runs/{info['id']}")
        info = response.json() if response else None
    if not info or info["status"] == "running":
        return None
    base, L = f"/api/runs/{info['id']}", len(info["config"]["activations"])
    await asyncio.gather(
        stats.call(client, "summary", "GET", f"{base}/summary"),
        stats.call(client, "histograms", "GET", f"{base}/histograms"),
        *(stats.call(client, "constant", "GET", base + path.format(L=L)) for path in CONSTANTS))
    return info


async def step_change(client, stats, info, t, layer, example, playing):
    """The page's requests of iteration t, at once; timed as one step change."""
    base, start = f"/api/runs/{info['id']}", time.perf_counter()
    heatmaps = "Z,A,D,dA,dZ" if layer == 1 else "A_prev,Z,A,D,dA,dZ"
    paths = [base + p.format(t=t, layer=layer, heatmaps=heatmaps, example=example,
                             resolution=30 if playing else 60) for p in FRAME]
    answers = await asyncio.gather(*(stats.call(client, "request", "GET", p) for p in paths))
    if all(answers):
        stats.ms["step change"].append((time.perf_counter() - start) * 1000)


async def explore(client, stats, info, rng, deadline):
    """Click through a few iterations, then play a stretch at PLAY_RATE."""
    steps, L = info["num_steps"], len(info["config"]["activations"])
    t, layer, example = rng.randrange(steps), rng.randint(1, L - 1), 0  # indices of a full batch
    for _ in range(rng.randint(*STEPS_CLICKED)):
        if time.monotonic() >= deadline:
            return
        await step_change(client, stats, info, t, layer, example, playing=False)
        await asyncio.sleep(rng.uniform(*STEP_THINK))
        t = (t + 1) % steps
    for _ in range(rng.randint(*STEPS_PLAYED)):
        if time.monotonic() >= deadline:
            return
        frame_start = time.monotonic()
        await step_change(client, stats, info, t, layer, example, playing=True)
        # the page draws, then schedules the next step: requests never pile up
        await asyncio.sleep(max(0.0, 1 / PLAY_RATE - (time.monotonic() - frame_start)))
        t = (t + 1) % steps


async def learner(i, url, deadline, stats, seed):
    rng = random.Random(seed * 7919 + i)
    await asyncio.sleep(rng.uniform(0, 2))  # the class does not click at the same instant
    # a browser's connections per host; idle ones closed before uvicorn's 5 s keep-alive
    # ends, or a request may leave on a connection the server is closing
    limits = httpx.Limits(max_connections=6, keepalive_expiry=4)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        await stats.call(client, "page", "GET", "/")  # the page: and the client's cookie
        await stats.call(client, "options", "GET", "/api/options")
        session = 0
        while time.monotonic() < deadline:
            info = await open_run(client, stats, learner_config(i, session, rng), deadline)
            session += 1
            for _ in range(NEW_RUN_EVERY if info else 0):
                await explore(client, stats, info, rng, deadline)


# -- hostile clients --------------------------------------------------------------------------

HEAVY = {"dataset": "digits", "hidden_layers": [128, 128, 128], "steps": 2000}
# full-size steps of this run are ~700,000 cells (~12 MB of JSON); its 20 steps train in
# the fast lane, so that the fetches start at once rather than when heavy work may train
BIG = {"dataset": "digits", "hidden_layers": [64, 32], "steps": 20, "seed": 1}


async def heavy_runs(client, stats, deadline, rng):
    """A new heavy run as soon as the last answer came, refused or not."""
    while time.monotonic() < deadline:
        await stats.call(client, "hostile create", "POST", "/api/runs", ok=(*OK, 429),
                         json={**HEAVY, "seed": rng.randrange(2**32)})
        await asyncio.sleep(0.05)


async def full_fetches(client, stats, deadline, rng):
    """Full-size, full-precision steps of a big run, one after another."""
    info = await open_run(client, Stats(), BIG, deadline)
    while info and time.monotonic() < deadline:
        await stats.call(client, "hostile fetch", "GET", f"/api/runs/{info['id']}/steps/"
                         f"{rng.randrange(info['num_steps'])}", ok=(200, 503))


async def altered_ids(client, stats, deadline, rng):
    """Ids with one character changed (404), and heavy runs asked for cross-site."""
    info = (await client.post("/api/runs", json={"dataset": "moons"})).json()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    while time.monotonic() < deadline:
        run_id = list(info["id"])
        k = rng.randrange(3, len(run_id))
        run_id[k] = rng.choice(alphabet.replace(run_id[k], ""))
        await stats.call(client, "hostile altered", "GET",
                         f"/api/runs/{''.join(run_id)}/steps/0", ok=(404,))
        await stats.call(client, "hostile cross-site", "POST", "/api/runs", ok=(403,),
                         json={**HEAVY, "seed": rng.randrange(2**32)},
                         headers={"sec-fetch-site": "cross-site"})


HOSTILE = {"heavy": heavy_runs, "fetch": full_fetches, "altered": altered_ids}
# the 10 hostile clients of phase hostile, by kind
HOSTILE_MIX = "heavy:4,fetch:4,altered:2"


def hostile_kinds(mix: str) -> list[str]:
    """'heavy:4,fetch:4,altered:2' -> the kind of each hostile client."""
    return [kind for item in mix.split(",") if item
            for kind in [item.split(":")[0]] * int(item.split(":")[1])]


async def hostile(i, kind, url, deadline, stats, seed):
    rng = random.Random(seed * 104729 + i)
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        await client.get("/")  # a cookie, as a browser would have
        await HOSTILE[kind](client, stats, deadline, rng)


def generate(url, learners, hostiles, seconds, seed):
    """One load generator process: its learners, and hostile clients ([(i, kind)]), until
    the deadline; (latencies by kind, errors, 409 retries, this process's CPU seconds)."""
    async def everyone():
        stats, deadline = Stats(), time.monotonic() + seconds
        await asyncio.gather(*(learner(i, url, deadline, stats, seed) for i in learners),
                             *(hostile(i, kind, url, deadline, stats, seed)
                               for i, kind in hostiles))
        return stats

    cpu = time.process_time()
    stats = asyncio.run(everyone())
    return dict(stats.ms), dict(stats.errors), dict(stats.retried), time.process_time() - cpu
