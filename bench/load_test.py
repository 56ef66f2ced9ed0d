"""Load test: a class of learners against a real server, then hostile clients beside them,
then many distinct runs against the run cache's byte budget (docs/load-test.md).

    .venv/bin/python bench/load_test.py                       # all three phases, ~20 min
    .venv/bin/python bench/load_test.py --learners 25,50,100 --phases class
    .venv/bin/python bench/load_test.py --quick               # a smoke run, ~2 min

Phase "class", for each learner count: `python -m app serve --workers W` (2) on a free
loopback port, and that many learners (bench/load_learners.py) for --seconds (60), split
over --generators load generator processes. Phase "hostile": the same again with 10
hostile clients beside the learners; the learners' p95 is compared with phase "class".
Phase "memory": --runs (600) distinct runs, each read as the page reads it, into one worker
with BPL_CACHE_BYTES = --budget-mib (512); RSS against the budget plus the baseline.

Reported: per kind of request, count, rate, p50/p95/p99; the latency of a step change (all
of the page's requests of one iteration); errors; the server's RSS (idle and peak, summed
over its processes) and CPU; the load generators' CPU; the machine's load average. Every
request goes to 127.0.0.1, every loop is bounded in time, and the servers are stopped.
"""

import argparse
import json
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.load_learners import HOSTILE_MIX, Stats, generate, hostile_kinds  # noqa: E402
from bench.load_memory import RssSampler, print_memory, run_memory, session_rss  # noqa: E402
from tests.server_processes import free_port, serving  # noqa: E402

MIB = 2**20
TICKS = os.sysconf("SC_CLK_TCK")
# targets (issue 15): a step change's p95, and the learners' p95 beside hostile clients
STEP_P95_MS, HOSTILE_FACTOR, MEMORY_FACTOR = 100.0, 2.0, 1.25
KINDS = ("page", "options", "create", "poll", "summary", "histograms", "constant", "request",
         "step change")


def session_cpu(sid: int) -> float:
    """CPU seconds so far of the processes of session `sid` (the server's tree)."""
    total = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:
                total += int(fields[11]) + int(fields[12])
    return total / TICKS


def set_autogroup_nice(pid: int, nice: int | None):
    """Give pid's autogroup (Linux: its session) this nice value; None leaves it alone.

    On a machine shared with other sessions, the kernel shares the cores between sessions
    first: a server in a session of its own gets 1/(busy sessions) of them, whatever its
    load. A negative value (root) lets the server and the load generators have the machine
    as if it were theirs, so that phases measured minutes apart compare."""
    if nice is not None:
        with open(f"/proc/{pid}/autogroup", "w") as autogroup:
            autogroup.write(str(nice))


def run_load(workers, learners, hostiles, seconds, generators, seed, env=None, nice=None):
    """One phase against a fresh server, with hostile clients of these kinds: its figures."""
    env = {"BPL_METRICS_PORT": str(free_port()), **(env or {})}
    with serving(workers=workers, env=env) as (url, process):
        set_autogroup_nice(process.pid, nice)
        time.sleep(1.0)  # every worker up (the supervisor's second one starts later)
        sampler = RssSampler(process.pid)
        initial = len(sampler.pids)
        sampler.start()
        idle, cpu, start = session_rss(process.pid), session_cpu(process.pid), time.monotonic()
        # the hostile clients are other machines: in a process of their own, so that the
        # learners' event loops do not parse their 10 MB answers (h11 is Python) and time that
        shares = [(range(k, learners, generators), []) for k in range(generators)]
        if hostiles:
            shares.append((range(0), list(enumerate(hostiles, start=learners))))
        with ProcessPoolExecutor(len(shares), mp_context=get_context("spawn")) as pool:
            parts = list(pool.map(generate, [url] * len(shares), *zip(*shares, strict=True),
                                  [seconds] * len(shares), [seed] * len(shares)))
        elapsed, cpu = time.monotonic() - start, session_cpu(process.pid) - cpu
        peak, _, seen = sampler.stop()
        replaced = seen - initial  # uvicorn replaces a worker that misses its health ping
    stats = Stats()
    for ms, errors, retried, _ in parts:
        part = Stats()
        part.ms.update(ms)
        part.errors.update(errors)
        part.retried.update(retried)
        stats.merge(part)
    learner_errors = {k: v for k, v in stats.errors.items() if not k.startswith("hostile")}
    return {"workers": workers, "learners": learners, "hostiles": len(hostiles),
            "hostile_mix": ",".join(f"{k}:{n}" for k, n in Counter(hostiles).items()),
            "seconds": elapsed,
            "idle_rss": idle, "peak_rss": peak, "server_cpu": cpu, "replaced": replaced,
            "generator_cpu": sum(part[3] for part in parts),
            "errors": learner_errors, "hostile": hostile_summary(stats),
            "retried_409": dict(stats.retried), "latency": summarize(stats.ms, elapsed)}


def summarize(ms, elapsed):
    rows = {}
    for kind in KINDS:
        values = np.array(ms.get(kind) or [np.nan])
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        rows[kind] = {"count": len(ms.get(kind, [])), "per_s": len(ms.get(kind, [])) / elapsed,
                      "p50": p50, "p95": p95, "p99": p99}
    return rows


def hostile_summary(stats):
    """{kind: (answers, p50 ms)} of the hostile clients, and their unexpected answers."""
    kinds = sorted(k for k in stats.ms if k.startswith("hostile"))
    return {"answers": {k: (len(stats.ms[k]), float(np.median(stats.ms[k]))) for k in kinds},
            "unexpected": {k: v for k, v in stats.errors.items() if k.startswith("hostile")}}


def print_load(result, quiet_p95=None):
    r = result
    p95 = r["latency"]["step change"]["p95"]
    print(f"\n{r['workers']} workers, {r['learners']} learners"
          + (f" + {r['hostiles']} hostile clients ({r['hostile_mix']})" if r["hostiles"]
             else "")
          + f", {r['seconds']:.0f} s; learners' errors: {sum(r['errors'].values())} "
            f"{r['errors'] or ''}; retried (as the page does): {r['retried_409'] or 0}")
    total = sum(row["count"] for row in r["latency"].values()) - \
        r["latency"]["step change"]["count"]
    print(f"  {total / r['seconds']:.0f} learner requests/s; server RSS idle "
          f"{r['idle_rss'] / MIB:.0f} MiB, peak {r['peak_rss'] / MIB:.0f} MiB; server CPU "
          f"{r['server_cpu'] / r['seconds']:.2f} cores, load generators "
          f"{r['generator_cpu'] / r['seconds']:.2f} cores; server processes replaced: "
          f"{r['replaced']}")
    print(f"  {'':12}{'count':>7}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for kind, row in r["latency"].items():
        if row["count"]:
            print(f"  {kind:<12}{row['count']:>7}{row['per_s']:>8.1f}{row['p50']:>9.1f}"
                  f"{row['p95']:>9.1f}{row['p99']:>9.1f}")
    verdict = "met" if p95 <= STEP_P95_MS and not r["errors"] else "MISSED"
    print(f"  step change p95 {p95:.0f} ms (target ≤ {STEP_P95_MS:.0f} ms, 0 errors): {verdict}")
    if r["hostiles"]:
        answers = ", ".join(f"{k[8:]} {n} (p50 {ms:.0f} ms)"
                            for k, (n, ms) in r["hostile"]["answers"].items())
        print(f"  hostile answers: {answers}; unexpected: {r['hostile']['unexpected'] or 0}")
        if quiet_p95:
            ratio = p95 / quiet_p95
            print(f"  learners' p95 {ratio:.2f}× phase class (target ≤ {HOSTILE_FACTOR}×): "
                  f"{'met' if ratio <= HOSTILE_FACTOR else 'MISSED'}")


def memory_verdict(result, baseline):
    limit = MEMORY_FACTOR * (result["budget"] + baseline)
    met = result["peak"] <= limit
    print(f"  peak {result['peak'] / MIB:.0f} MiB against (budget + baseline "
          f"{baseline / MIB:.0f} MiB) × {MEMORY_FACTOR} = {limit / MIB:.0f} MiB: "
          f"{'met' if met else 'MISSED'}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--phases", default="class,hostile,memory")
    p.add_argument("--learners", default="100", help="learner counts, e.g. 25,50,100")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seconds", type=float, default=60.0, help="per learner count")
    p.add_argument("--generators", type=int, default=2, help="load generator processes")
    p.add_argument("--runs", type=int, default=600, help="distinct runs of phase memory")
    p.add_argument("--budget-mib", type=int, default=512, help="BPL_CACHE_BYTES, phase memory")
    p.add_argument("--baseline-mib", type=int, default=214,
                   help="the documented baseline: an idle worker (150) and its answer "
                        "cache (BPL_ANSWER_CACHE_BYTES, 64) (docs/deploy.md, Sizing)")
    p.add_argument("--malloc-arena-max", default="2",
                   help="MALLOC_ARENA_MAX of the servers, as the Dockerfile sets it ('': "
                        "glibc's default, 8 per core)")
    p.add_argument("--hostile", default=HOSTILE_MIX,
                   help="phase hostile's clients by kind (heavy runs, full-size fetches, "
                        "altered ids and cross-site); default %(default)s")
    p.add_argument("--autogroup-nice", type=int, default=None,
                   help="on a shared Linux machine (as root): this nice value for the "
                        "sessions of the server and of the load generators, e.g. -10")
    p.add_argument("--quick", action="store_true", help="10 s phases, 100 runs")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.quick:
        args.seconds, args.runs = 10.0, 100
    phases = args.phases.split(",")
    set_autogroup_nice(os.getpid(), args.autogroup_nice)  # the generators are our children
    env = {"MALLOC_ARENA_MAX": args.malloc_arena_max} if args.malloc_arena_max else {}
    print(f"{os.cpu_count()} cores; load average (1, 5, 15 min) "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()) + " before")
    results = {"class": [], "hostile": [], "memory": None}
    for learners in (int(n) for n in args.learners.split(",")):
        quiet = None
        if "class" in phases:
            results["class"].append(run_load(args.workers, learners, [], args.seconds,
                                             args.generators, args.seed, env,
                                             args.autogroup_nice))
            print_load(results["class"][-1])
            quiet = results["class"][-1]["latency"]["step change"]["p95"]
        if "hostile" in phases:
            results["hostile"].append(run_load(args.workers, learners,
                                               hostile_kinds(args.hostile), args.seconds,
                                               args.generators, args.seed, env,
                                               args.autogroup_nice))
            print_load(results["hostile"][-1], quiet)
    if "memory" in phases:
        results["memory"] = run_memory(args.runs, args.budget_mib * MIB, env, seed=args.seed)
        print_memory(results["memory"])
        memory_verdict(results["memory"], args.baseline_mib * MIB)
    print("\nload average (1, 5, 15 min) " + " ".join(f"{x:.1f}" for x in os.getloadavg())
          + " after")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
