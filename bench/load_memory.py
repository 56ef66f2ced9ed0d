"""The server's memory: RSS of its process tree, and the memory phase of the load test.

Memory phase: one worker with BPL_CACHE_BYTES = budget receives `count` distinct runs,
`concurrency` at a time, as learners would bring them: each is created, polled until
trained, and read (its summary and a few steps, as the page asks for them, one step in
full). Half are digits networks (~4.4 MB each by Run.nbytes()), half small 2-D ones, so the
runs add up to several times the budget and the cache must evict. RSS of the server's
process tree is sampled every `every` runs and its peak all along; the server's own
/metrics gives what its caches count.
"""

import asyncio
import os
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.server_processes import free_port, serving

MIB = 2**20
OK = (200, 201, 202)
DIGITS = {"dataset": "digits", "hidden_layers": [32, 16], "steps": 300}
SMALL = {"dataset": "moons", "hidden_layers": [16, 16], "steps": 300}
# the page's requests of one step (static/js/step_frame.js), and one step in full
PAGE_STEP = ("?max_cells=16384&fields=W,b,dW,db,update", "?layers=1&max_cells=16384"
             "&fields=A_prev,Z,A,D,dA,dZ")


def session_memory(sid: int) -> dict[int, tuple[int, int]]:
    """{pid: (VmRSS, VmHWM) in bytes} of the processes of session `sid`: the server
    started in its own session, with uvicorn's workers and helpers."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[3]) != sid:  # field 6: session id
                continue
            status = Path(f"/proc/{entry.name}/status").read_text()
        except (OSError, IndexError, ValueError):
            continue  # the process left meanwhile
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        found[int(entry.name)] = tuple(int(fields.get(name, "0 kB").split()[0]) * 1024
                                       for name in ("VmRSS", "VmHWM"))
    return found


def session_rss(sid: int) -> int:
    return sum(rss for rss, _ in session_memory(sid).values())


class RssSampler(threading.Thread):
    """The peak of the server tree's summed RSS, sampled every `every` seconds, and
    every process seen: uvicorn replaces a worker that misses its 5 s health ping."""

    def __init__(self, sid, every=0.25):
        super().__init__(daemon=True)
        self.sid, self.every, self.peak, self.hwm = sid, every, 0, 0
        self.pids = set(session_memory(sid))
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(self.every):
            memory = session_memory(self.sid)
            self.pids |= set(memory)
            self.peak = max(self.peak, sum(rss for rss, _ in memory.values()))
            self.hwm = sum(hwm for _, hwm in memory.values())

    def stop(self):
        self.done.set()
        self.join()
        return self.peak, self.hwm, len(self.pids)


def cache_bytes(metrics_url: str) -> dict[str, float]:
    """The caches' bytes as the server counts them (its /metrics)."""
    text = httpx.get(metrics_url, timeout=10).text
    found = {}
    for line in text.splitlines():
        if line.startswith("backprop_lens_cache_bytes{"):
            found[line.split('cache="')[1].split('"')[0]] = float(line.split()[-1])
    return found


async def read_run(client, config, errors) -> None:
    """Create, poll until trained, then read the summary and three steps as the page does."""
    response = await client.post("/api/runs", json=config)
    while response.status_code in OK and response.json()["status"] == "running":
        await asyncio.sleep(0.1)
        response = await client.get(f"/api/runs/{response.json()['id']}")
    if response.status_code not in OK:
        errors[f"create {response.status_code}"] += 1
        return
    info = response.json()
    base = f"/api/runs/{info['id']}"
    last = info["num_steps"] - 1
    paths = [f"{base}/summary", *(f"{base}/steps/{last // 2}{query}" for query in PAGE_STEP),
             f"{base}/steps/{last}"]
    for path in paths:
        answer = await client.get(path)
        if answer.status_code != 200:
            errors[f"read {answer.status_code}"] += 1


async def bring_runs(url, count, sid, every, concurrency, seed):
    """`count` distinct runs, `concurrency` learners at a time; [(runs, tree RSS)]."""
    curve, errors, done = [(0, session_rss(sid))], Counter(), 0
    queue = iter(range(count))

    async def learner():
        nonlocal done
        # its own cookie jar: one learner, one anonymous client (admission control)
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            await client.get("/healthz")
            for k in queue:
                config = {**(DIGITS if k % 2 else SMALL), "seed": seed * 100_000 + k}
                try:
                    await read_run(client, config, errors)
                except httpx.HTTPError as err:
                    errors[type(err).__name__] += 1
                done += 1
                if done % every == 0:
                    curve.append((done, session_rss(sid)))

    await asyncio.gather(*(learner() for _ in range(concurrency)))
    return curve, dict(errors)


def run_memory(count, budget, env=None, every=50, concurrency=4, seed=0):
    """The memory phase against one worker with this run budget; its figures."""
    port = free_port()
    env = {"BPL_CACHE_BYTES": str(budget), "BPL_METRICS_PORT": str(port), **(env or {})}
    with serving(workers=1, env=env) as (url, process):
        idle = session_rss(process.pid)
        sampler = RssSampler(process.pid, every=0.1)
        sampler.start()
        start = time.monotonic()
        curve, errors = asyncio.run(bring_runs(url, count, process.pid, every, concurrency,
                                               seed))
        seconds = time.monotonic() - start
        peak, _, _ = sampler.stop()
        counted = cache_bytes(f"http://127.0.0.1:{port}/metrics")
        if process.poll() is not None:
            errors[f"server exited with {process.returncode}"] = 1
    return {"count": count, "budget": budget, "env": env, "idle": idle, "peak": peak,
            "curve": curve, "errors": errors, "seconds": seconds, "counted": counted}


def print_memory(result):
    env = {k: v for k, v in result["env"].items() if k != "BPL_METRICS_PORT"}
    print(f"\n{result['count']} distinct runs read as the page does, {env}; "
          f"{result['seconds']:.0f} s; errors: {sum(result['errors'].values())} "
          f"{result['errors'] or ''}")
    print("  runs   " + "".join(f"{n:>7}" for n, _ in result["curve"]))
    print("  RSS MiB" + "".join(f"{rss / MIB:>7.0f}" for _, rss in result["curve"]))
    counted = ", ".join(f"{k} {v / MIB:.0f} MiB" for k, v in result["counted"].items())
    print(f"  idle {result['idle'] / MIB:.0f} MiB, peak {result['peak'] / MIB:.0f} MiB; "
          f"budget {result['budget'] / MIB:.0f} MiB; the caches count at the end: {counted}")
