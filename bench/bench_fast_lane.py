"""The fast lane under load (issue 15): a student's small run while heavy runs of other
clients train and wait, against a real server on loopback.

    .venv/bin/python bench/bench_fast_lane.py [--heavy 8] [--repeat 5]

Each of `--heavy` clients (its own cookie) posts a heavy run (digits, 3 × 128, 2,000 steps,
about 1e12 flops: minutes); then a student posts the default moons run at 100 steps and
polls it every 5 ms. Prints, per repeat, the seconds from the POST until the run info says
"done", and the heavy runs' states then. Run it with the fast lane off
(BPL_FAST_LANE_FLOPS=0 in the environment) to see what it replaces.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from app.admission import COOKIE  # noqa: E402
from tests.server_processes import serving  # noqa: E402

HEAVY = {"dataset": "digits", "hidden_layers": [128, 128, 128], "steps": 2000}
SMALL = {"dataset": "moons", "steps": 100}
GIVE_UP = 120.0  # seconds: without a fast lane the small run waits for minutes


def small_run_seconds(url: str, seed: int) -> float:
    """Seconds from posting a small run until its run info says done (polled every 5 ms)."""
    with httpx.Client(base_url=url, timeout=30, cookies={COOKIE: "student".ljust(22, "_")}) \
            as student:
        start = time.perf_counter()
        info = student.post("/api/runs", json={**SMALL, "seed": seed}).json()
        while info["status"] == "running" and time.perf_counter() - start < GIVE_UP:
            time.sleep(0.005)
            info = student.get(f"/api/runs/{info['id']}").json()
        return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--heavy", type=int, default=8, help="heavy runs (other clients)")
    parser.add_argument("--repeat", type=int, default=5, help="small runs, one at a time")
    args = parser.parse_args()
    with serving() as (url, _):
        heavy = []
        for n in range(args.heavy):
            cookies = {COOKIE: f"other{n}".ljust(22, "_")}
            heavy.append(httpx.post(f"{url}/api/runs", json={**HEAVY, "seed": n},
                                    cookies=cookies, timeout=30).json()["id"])
        seconds = [small_run_seconds(url, seed) for seed in range(args.repeat)]
        # nobody asked about the heavy runs meanwhile: after BPL_IDLE_CANCEL_SECONDS they
        # are cancelled (then this GET queues them again, or answers 429)
        states = [httpx.get(f"{url}/api/runs/{run_id}").json() for run_id in heavy]
    running = sum(s.get("status") == "running" for s in states)
    print(f"{args.heavy} heavy runs ({running} running at the end); small 100-step moons "
          f"run, POST to done, {args.repeat} runs:")
    print("  " + ", ".join(f"{s:.3f} s" for s in seconds))
    print(f"  median {statistics.median(seconds):.3f} s, max {max(seconds):.3f} s")


if __name__ == "__main__":
    main()
