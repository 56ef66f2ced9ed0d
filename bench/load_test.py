"""Load test: a class of learners against real uvicorn servers on loopback, then a flood
of distinct runs against the run cache's byte budget.

    .venv/bin/python bench/load_test.py [--seconds 60] [--workers 1,2] [--quick]

Phase 1, for each worker count: `python -m app serve --workers W` on a free loopback
port, and --learners (50) learners (asyncio + httpx, split over --generators processes)
for --seconds.
Each learner loads the options, then, until time is up: creates a run (a small config;
every fifth learner uses the class's shared config), polls it until trained, fetches its
summary, and steps through 30 consecutive steps with a think time of 0.2-0.6 s. Each step
is the page's three requests at once (static/js/step_frame.js), narrowed by layers and fields
and capped at max_cells=16384. Reported: requests/s, p50/p95/p99 per kind of route,
errors (anything but 200/201/202), and the peak RSS of the server's process tree.

Phase 2: 1,000 distinct runs (moons, 40 samples, 5 steps; four hidden layers of 64 so
each run holds ~0.5 MB) into one worker with BPL_CACHE_BYTES=64 MiB, RSS sampled every
100 runs; then, as a control, the same into a budget that never evicts; then 100 runs
whose Run.nbytes() is small (80 KB) but which keep ~15 MB of summary buffers each.

Every request goes to 127.0.0.1. Counts and times are bounded; the script stops itself.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.server_processes import serving  # noqa: E402

MIB = 2**20
FRAMES, MAX_CELLS = 30, 16384
THINK = (0.2, 0.6)  # seconds between two steps, as a learner clicking "next"
POLL = 0.25  # seconds between polls of a training run, as the page does
RETRY_409 = 120.0  # seconds a request retries 409, as the page does
CLASS_CONFIG = {"dataset": "moons", "hidden_layers": [8, 8], "steps": 200, "seed": 7}
DATASETS, WIDTHS, STEPS = ("moons", "circles", "xor", "spiral"), ([8, 8], [16]), (100, 200, 300)
# the page's three requests of one step (static/js/step_frame.js)
PARAM_FIELDS, LAYER_FIELDS = "W,b,dW,db,update", "A_prev,Z,A,D,dA,dZ"
FLOOD = {"dataset": "moons", "n_samples": 40, "steps": 5, "hidden_layers": [64, 64, 64, 64]}
# 32 full-batch steps on 1,800 examples: engine.evaluation.Series allocates 32-step chunk
# buffers of Z and A (~15 MB) that outlive training and that Run.nbytes() leaves out
BUFFERED = {"dataset": "moons", "n_samples": 1800, "test_fraction": 0.0, "steps": 32,
            "hidden_layers": [8, 8]}
OK = (200, 201, 202)


# -- the server's memory ---------------------------------------------------------------

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


# -- one learner -------------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.ms, self.errors, self.retried = defaultdict(list), Counter(), Counter()

    async def call(self, client, kind, method, url, **kwargs):
        """One request, timed under `kind`; the response, or None after an error.

        A 409 (a worker still retraining a run that another one trained) is retried
        with backoff, as the page's api.js does; the time counts, the retry is no error.
        """
        start, pause = time.perf_counter(), 0.1
        try:
            response = await client.request(method, url, **kwargs)
            while response.status_code == 409 and time.perf_counter() - start < RETRY_409:
                self.retried[kind] += 1
                await asyncio.sleep(pause)
                pause = min(2 * pause, 1.0)
                response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as err:
            self.errors[f"{kind} {type(err).__name__}"] += 1
            return None
        self.ms[kind].append((time.perf_counter() - start) * 1000)
        if response.status_code not in OK:
            self.errors[f"{kind} {response.status_code}"] += 1
            return None
        return response


def learner_config(i, session, rng):
    if i % 5 == 0:
        return CLASS_CONFIG  # the example the teacher handed out
    return {"dataset": rng.choice(DATASETS), "hidden_layers": rng.choice(WIDTHS),
            "steps": rng.choice(STEPS), "n_samples": rng.choice((200, 300, 400)),
            "seed": i * 1000 + session}


async def open_run(client, stats, config, deadline):
    """POST the config, then poll until trained, as the page does; the run info."""
    response = await stats.call(client, "create", "POST", "/api/runs", json=config)
    info = response.json() if response else None
    while info and info["status"] == "running" and time.monotonic() < deadline:
        await asyncio.sleep(POLL)
        response = await stats.call(client, "poll", "GET", f"/api/runs/{info['id']}")
        info = response.json() if response else None
    return info if info and info["status"] != "running" else None


async def step_frame(client, stats, run_id, t, L):
    base = f"/api/runs/{run_id}/steps/{t}?max_cells={MAX_CELLS}"
    await asyncio.gather(
        stats.call(client, "step", "GET", f"{base}&fields={PARAM_FIELDS}"),
        stats.call(client, "step", "GET", f"{base}&layers=1&fields={LAYER_FIELDS}"),
        stats.call(client, "step", "GET", f"{base}&layers={L}&fields=A,X,Y"))


async def learner(i, url, deadline, stats, seed):
    rng = random.Random(seed * 7919 + i)
    await asyncio.sleep(rng.uniform(0, 2))  # the class does not click at the same instant
    limits = httpx.Limits(max_connections=6)  # a browser's connections per host
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        await stats.call(client, "options", "GET", "/api/options")
        session = 0
        while time.monotonic() < deadline:
            info = await open_run(client, stats, learner_config(i, session, rng), deadline)
            session += 1
            if info is None:
                continue
            summary = await stats.call(client, "summary", "GET",
                                       f"/api/runs/{info['id']}/summary")
            if summary and len(summary.json()["cost"]) != info["num_steps"]:
                stats.errors["summary incomplete"] += 1  # a worker that had to retrain it
            L = len(info["config"]["activations"])
            first = rng.randrange(max(1, info["num_steps"] - FRAMES))
            for t in range(first, min(first + FRAMES, info["num_steps"])):
                if time.monotonic() >= deadline:
                    break
                await step_frame(client, stats, info["id"], t, L)
                await asyncio.sleep(rng.uniform(*THINK))


def generate(url, learners, seconds, seed):
    """One load generator process: its learners until the deadline; latencies, errors."""
    async def everyone():
        stats, deadline = Stats(), time.monotonic() + seconds
        await asyncio.gather(*(learner(i, url, deadline, stats, seed) for i in learners))
        return stats

    stats = asyncio.run(everyone())
    return dict(stats.ms), dict(stats.errors), dict(stats.retried)


# -- phase 1: the class --------------------------------------------------------------------

def run_class(workers, learners, seconds, generators, seed):
    with serving(workers=workers) as (url, process):
        sampler = RssSampler(process.pid)
        sampler.start()
        idle_rss, processes = session_rss(process.pid), len(sampler.pids)
        start = time.monotonic()
        shares = [range(k, learners, generators) for k in range(generators)]
        with ProcessPoolExecutor(generators, mp_context=get_context("spawn")) as pool:
            parts = list(pool.map(generate, [url] * generators, shares,
                                  [seconds] * generators, [seed] * generators))
        elapsed = time.monotonic() - start
        peak, hwm, seen = sampler.stop()
    ms, errors, retried = defaultdict(list), Counter(), Counter()
    for part_ms, part_errors, part_retried in parts:
        for kind, values in part_ms.items():
            ms[kind] += values
        errors.update(part_errors)
        retried.update(part_retried)
    return {"workers": workers, "learners": learners, "seconds": elapsed,
            "idle_rss": idle_rss, "peak_rss": peak, "hwm_sum": hwm, "errors": dict(errors),
            "retried_409": dict(retried),
            "processes_replaced": seen - processes,
            "latency": summarize(ms, elapsed)}


def summarize(ms, elapsed):
    rows = {}
    for kind in ("options", "create", "poll", "summary", "step"):
        values = np.array(ms.get(kind, [0.0]))
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        rows[kind] = {"count": len(ms.get(kind, [])), "per_s": len(ms.get(kind, [])) / elapsed,
                      "p50": p50, "p95": p95, "p99": p99}
    return rows


# -- phase 2: many distinct runs against the LRU budget -------------------------------------

async def flood(url, config, count, sid, every=100, concurrency=4):
    """POST `count` distinct runs; [(runs so far, tree RSS)] every `every` runs."""
    curve, errors, done = [(0, session_rss(sid))], Counter(), 0
    queue = iter(range(count))

    async def worker(client):
        nonlocal done
        for seed in queue:
            try:
                response = await client.post("/api/runs", json={**config, "seed": seed})
                if response.status_code not in OK:
                    errors[response.status_code] += 1
            except httpx.HTTPError as err:
                errors[type(err).__name__] += 1
            done += 1
            if done % every == 0:
                curve.append((done, session_rss(sid)))

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return curve, dict(errors)


def run_flood(config, count, budget):
    with serving(workers=1, env={"BPL_CACHE_BYTES": str(budget)}) as (url, process):
        start = time.monotonic()
        curve, errors = asyncio.run(flood(url, config, count, process.pid,
                                          every=max(1, count // 10)))
        if process.poll() is not None:
            errors[f"server exited with {process.returncode}"] = 1
        return {"config": config, "budget": budget, "curve": curve, "errors": errors,
                "seconds": time.monotonic() - start, "run_bytes": run_bytes(config)}


def run_bytes(config):
    """Run.nbytes() of one run of `config`, trained here (the same for every seed)."""
    from app.configs import check_config
    from app.settings import Settings
    from engine.run import Run

    run = Run(check_config(config, Settings()))
    run.train()
    return run.nbytes()


# -- report ---------------------------------------------------------------------------------

def print_class(result):
    print(f"\n{result['workers']} worker(s), {result['learners']} learners, "
          f"{result['seconds']:.0f} s; "
          f"errors: {sum(result['errors'].values())} {result['errors'] or ''}; "
          f"409s retried as the page does: {result['retried_409'] or 0}")
    total = sum(row["count"] for row in result["latency"].values())
    print(f"  {total / result['seconds']:.0f} requests/s; server RSS idle "
          f"{result['idle_rss'] / MIB:.0f} MiB, peak {result['peak_rss'] / MIB:.0f} MiB "
          f"(sum of per-process peaks {result['hwm_sum'] / MIB:.0f} MiB); "
          f"processes replaced: {result['processes_replaced']}")
    print(f"  {'route':<8}{'count':>7}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for kind, row in result["latency"].items():
        print(f"  {kind:<8}{row['count']:>7}{row['per_s']:>8.1f}{row['p50']:>9.1f}"
              f"{row['p95']:>9.1f}{row['p99']:>9.1f}")


def print_flood(result):
    count, config = result["curve"][-1][0], result["config"]
    print(f"\n{count} distinct runs of {config}, BPL_CACHE_BYTES={result['budget'] // MIB} MiB"
          f"\n  Run.nbytes() {result['run_bytes'] / 1024:.0f} KB each, "
          f"{count * result['run_bytes'] / MIB:.0f} MiB in all; {result['seconds']:.0f} s, "
          f"errors: {sum(result['errors'].values())} {result['errors'] or ''}")
    print("  runs   " + "".join(f"{n:>7}" for n, _ in result["curve"]))
    print("  RSS MiB" + "".join(f"{rss / MIB:>7.0f}" for _, rss in result["curve"]))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="phase 1, per worker count")
    p.add_argument("--workers", default="1,2", help="worker counts of phase 1 ('': none)")
    p.add_argument("--learners", type=int, default=50)
    p.add_argument("--generators", type=int, default=2, help="load generator processes")
    p.add_argument("--runs", type=int, default=1000, help="distinct runs of phase 2 (0: none)")
    p.add_argument("--budget-mib", type=int, default=64, help="BPL_CACHE_BYTES of phase 2")
    p.add_argument("--no-control", action="store_true",
                   help="skip the never-evicting run and the buffered runs")
    p.add_argument("--quick", action="store_true", help="6 s per worker count, 200 runs")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.quick:
        args.seconds, args.runs, args.no_control = 6.0, 200, True
    print(f"{os.cpu_count()} cores; 1-minute load average {os.getloadavg()[0]:.1f} before")
    results = {"class": [], "flood": []}
    for workers in (int(w) for w in args.workers.split(",") if w):
        results["class"].append(run_class(workers, args.learners, args.seconds,
                                          args.generators, args.seed))
        print_class(results["class"][-1])
    budget = args.budget_mib * MIB
    floods = [(FLOOD, args.runs, budget)] if args.runs else []
    if args.runs and not args.no_control:
        floods += [(FLOOD, args.runs, 4096 * MIB), (BUFFERED, args.runs // 10, budget)]
    for config, count, budget in floods:
        results["flood"].append(run_flood(config, count, budget))
        print_flood(results["flood"][-1])
    print(f"\n1-minute load average {os.getloadavg()[0]:.1f} after")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
