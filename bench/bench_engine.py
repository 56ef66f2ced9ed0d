"""Engine benchmark: train + record, and step fetches, against a bare NumPy loop.

Run: python -m bench.bench_engine [--quick] [--only W6,W7]
Every figure is a ratio measured side by side in this one process, with BLAS
pinned to one thread, so a busy or slow machine moves both sides alike. Times are
this thread's CPU time (time.thread_time): waiting for a core that another
process holds is not counted, on either side. The mini-batch workloads (W6–W8) compare
with the bare loop in mini-batches of the same size.
"""

import argparse
import itertools
import statistics
import time
import tracemalloc

import numpy as np

from bench import bare_loop
from bench.workloads import workloads
from engine.run import Run
from engine.threads import single_blas_thread

STEPS = {"W1": 1000, "W2": 1000, "W3": 12, "W4": 100, "W5": 50, "W6": 300, "W7": 300,
         "W8": 300}
TARGETS = {"W1": 1.5, "W2": 1.5, "W3": 1.25, "W4": 1.25, "W5": 1.25, "W6": 1.5, "W7": 1.5,
           "W8": 2.0}
FETCH_TARGET = 8.0
MEMORY_TARGET_MB = 50


def bare_params(run):
    views = run.layout.views(run.theta0.copy())
    return [(views[f"W{l}"], views[f"b{l}"]) for l in range(1, run.L + 1)]


def time_bare(run, steps):
    cfg, data = run.config, run.data
    if cfg["batch_size"] is None:
        batches = itertools.repeat((data.X_train, data.Y_train))
    else:
        batches = bare_loop.mini_batches(data.X_train, data.Y_train, cfg["batch_size"])
    start = time.thread_time()
    bare_loop.train_batches(bare_params(run), batches, steps, cfg["learning_rate"],
                            cfg["activations"][0], cfg["activations"][-1])
    return time.thread_time() - start


def time_engine(cfg, data):
    run = Run(cfg, data)
    start = time.thread_time()
    run.train()
    return time.thread_time() - start, run


def measure(name, cfg, data, rounds):
    """Median over rounds of engine ÷ bare, each round timing both back to back (in
    alternating order), so that a machine that speeds up or slows down between rounds
    moves both sides of a ratio alike."""
    steps = cfg["steps"]
    bare, ratios = [], []
    for k in range(rounds):
        if k % 2:
            bare_seconds = time_bare(Run(cfg, data), steps)
            seconds, run = time_engine(cfg, data)
        else:
            seconds, run = time_engine(cfg, data)
            bare_seconds = time_bare(run, steps)
        bare.append(bare_seconds)
        ratios.append(seconds / bare_seconds)
    bare_step = statistics.median(bare) / steps
    rng = np.random.default_rng(0)
    fetch = []
    for t in rng.integers(0, steps, size=max(10, 3 * rounds)).tolist():
        start = time.thread_time()
        run.step_record(int(t))
        fetch.append(time.thread_time() - start)
    quartiles = statistics.quantiles(ratios, n=4)  # the rounds' spread: this machine's noise
    return {"bare_step_ms": 1e3 * bare_step,
            "train_ratio": statistics.median(ratios),
            "train_spread": (quartiles[0], quartiles[2]),
            "fetch_ratio": statistics.mean(fetch) / bare_step}


def memory_of_long_run(cfg, data):
    """MB held by a finished 2,000-step run, and the peak while training."""
    tracemalloc.start()
    run = Run({**cfg, "steps": 2000}, data).train()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert run.num_steps == 2000
    return current / 2**20, peak / 2**20


def print_workload(name, description, result):
    """One row of the table: the ratios of `name` and whether they meet their targets."""
    ok = "ok" if result["train_ratio"] <= TARGETS[name] and \
        result["fetch_ratio"] <= FETCH_TARGET else "MISS"
    low, high = result["train_spread"]
    print(f"{name} {description:<39} {result['bare_step_ms']:>12.3f} "
          f"{result['train_ratio']:>10.2f}× {f'{low:.2f}–{high:.2f}':>11} "
          f"{'≤' + str(TARGETS[name]):>7} {result['fetch_ratio']:>10.2f}× {'≤8':>7}  {ok}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--only", default=",".join(STEPS),
                        help="comma-separated workloads (default: all)")
    args = parser.parse_args()
    chosen = args.only.split(",")
    single_blas_thread()
    rounds = 3 if args.quick else 21
    print(f"{'workload':<42} {'bare ms/step':>12} {'train÷bare':>11} {'IQR':>11} {'target':>7} "
          f"{'fetch÷step':>11} {'target':>7}")
    for name, (description, cfg, data) in workloads(1).items():
        if name in chosen:
            print_workload(name, description,
                           measure(name, {**cfg, "steps": STEPS[name]}, data, rounds))
    if "W4" in chosen:
        _, cfg, data = workloads(1)["W4"]
        held, peak = memory_of_long_run(cfg, data)
        print(f"W4 2,000 steps: {held:.1f} MB held after training, {peak:.1f} MB peak "
              f"(target ≤ {MEMORY_TARGET_MB} MB)  {'ok' if held <= MEMORY_TARGET_MB else 'MISS'}")


if __name__ == "__main__":
    main()
