"""Train + record through one POST against the bare NumPy loop, side by side (W4).

Each round times, back to back and in alternating order: the bare loop of bench/bare_loop.py
in this process (BLAS pinned to one thread, as the server pins it), Run.train() in this
process (the engine alone), and one `POST /api/runs` of a new seed to a real one-worker
server started with BPL_SYNC_SECONDS long enough that the POST answers 201 once the run is
trained. Two figures per side: wall time, and CPU time (this thread's for the bare loop and
the engine; every thread of the server process, from /proc, for the POST), which a busy
machine does not inflate. Ratios are medians over the rounds.
"""

import os
import statistics
import time
from functools import partial
from pathlib import Path

import httpx

from app.config_limits import check_config
from app.settings import Settings
from bench import bare_loop
from engine.run import Run
from engine.threads import single_blas_thread
from tests.server_processes import serving

# the engine bench's W4 (bench/workloads.py: [64, 32, 16, 10] on all 1,797 digits, He init,
# learning rate 0.05), 600 steps: the workload of issue 15's 1.75×
W4 = {"dataset": "digits", "test_fraction": 0.0, "hidden_layers": [32, 16], "init": "he",
      "learning_rate": 0.05, "steps": 600}
TARGET = 1.35
TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of every thread of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime: fields 14 and 15


def timed(work) -> tuple[float, float]:
    """(wall, this thread's CPU) seconds of work()."""
    wall, cpu = time.perf_counter(), time.thread_time()
    work()
    return time.perf_counter() - wall, time.thread_time() - cpu


def bare(config):
    run = Run(config)
    views = run.layout.views(run.theta0.copy())
    params = [(views[f"W{l}"], views[f"b{l}"]) for l in range(1, run.L + 1)]
    return timed(lambda: bare_loop.train(params, run.data.X_train, run.data.Y_train,
                                         config["steps"], config["learning_rate"],
                                         config["activations"][0], config["activations"][-1]))


def engine(config):
    run = Run(config)
    return timed(run.train)


def server(url, pid, config):
    """(wall, server CPU) of one POST that trains and records the run."""
    cpu, wall = process_cpu(pid), time.perf_counter()
    response = httpx.post(f"{url}/api/runs", json=config, timeout=600)
    wall, cpu = time.perf_counter() - wall, process_cpu(pid) - cpu
    if response.status_code != 201:
        raise RuntimeError(f"POST answered {response.status_code}: {response.text[:200]}")
    return wall, cpu


def measure(rounds: int, config=W4, env=None) -> dict:
    """Median ratios to the bare loop over `rounds` rounds, and the bare step in ms."""
    single_blas_thread()
    env = {"BPL_SYNC_SECONDS": "60", **(env or {})}
    rows = []
    with serving(workers=1, env=env) as (url, process):
        server(url, process.pid, {**config, "seed": 10_000})  # warm up: imports, first data
        for k in range(rounds):
            normalized = check_config({**config, "seed": k + 1}, Settings())
            sides = [partial(bare, normalized), partial(engine, normalized),
                     partial(server, url, process.pid, normalized)]
            order = sides if k % 2 == 0 else sides[::-1]
            times = [side() for side in order]
            rows.append(times if k % 2 == 0 else times[::-1])
    bare_wall = statistics.median(r[0][0] for r in rows)
    ratios = {f"{side} {kind}": statistics.median(r[i][j] / r[0][j] for r in rows)
              for i, side in ((1, "engine"), (2, "server")) for j, kind in enumerate(("wall",
                                                                                       "cpu"))}
    return {"rounds": rounds, "bare_step_ms": 1000 * bare_wall / config["steps"], **ratios}


def print_overhead(result):
    print(f"\ntrain + record of W4 ({W4}), median of {result['rounds']} rounds; bare loop "
          f"{result['bare_step_ms']:.2f} ms a step")
    print(f"  {'':28}{'wall':>7}{'CPU':>7}")
    for side, label in (("engine", "Run.train() in process"), ("server", "one POST, 1 worker")):
        print(f"  {label:28}{result[side + ' wall']:6.2f}×{result[side + ' cpu']:6.2f}×")
    verdicts = ", ".join(f"{kind} {'met' if result['server ' + kind] <= TARGET else 'MISSED'}"
                         for kind in ("wall", "cpu"))
    print(f"  target: one POST ≤ {TARGET}× the bare loop: {verdicts} (wall time is only "
          "fair on a quiet machine)")
