"""Step-fetch latency, size and throughput against real uvicorn servers on loopback; and
train + record through one POST against the bare loop (bench/training_overhead.py).

    .venv/bin/python bench/bench_server.py [--quick] [--only fetch|training]

W1: [2, 8, 8, 1] on moons, 500 training points; W4: [64, 32, 16, 10] on digits (1438).
Every figure comes in two kinds, because the server keeps finished runs' step answers:
- cold: every fetch is a (run, step) pair never fetched before from that server, drawn
  at random from several runs of the workload (seeds differ), so each one replays the
  step and serializes it;
- warm: a class fetching the same steps: every connection walks the same 5 steps of one
  run, after one pass over them, so answers come from the server's memory. (5: W4's
  answers are 4 MB at display size and 10 MB in full; the default 64 MiB answer cache
  holds 6 full ones, and an LRU walked in a cycle longer than it holds always misses.)
The client is a minimal keep-alive HTTP/1.1 client on plain sockets, so that its own
work costs little next to the server's: client and server share this machine's cores.
"""

import argparse
import os
import re
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import training_overhead  # noqa: E402
from tests.server_processes import serving  # noqa: E402

STEPS = 300
WORKLOADS = {
    "W1": {"dataset": "moons", "n_samples": 625, "test_fraction": 0.2,
           "hidden_layers": [8, 8], "steps": STEPS},
    "W4": {"dataset": "digits", "test_fraction": 0.2, "hidden_layers": [32, 16],
           "steps": STEPS},
}
# runs (seeds) per workload: enough distinct (run, step) pairs that cold fetches never
# repeat; W4 trains for seconds per run, W1 in a fraction of one
RUNS = {"W1": 20, "W4": 4}
CLASS_STEPS = list(range(0, STEPS, STEPS // 5))  # the steps a class walks through
DISPLAY, FULL = "?max_cells=16384", ""
LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


class Connection:
    """One keep-alive connection; get() returns (status, bytes of the answer's body).

    Blocking recv_into one preallocated buffer: Python's own per-chunk overhead stays far
    below the server's time (stream readers cost 6-10 ms per 4 MB answer here).
    """

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buffer = bytearray(64 * 2**20)
        self.view = memoryview(self.buffer)
        self.body = b""

    def get(self, path, gzip=True):
        accept = "Accept-Encoding: gzip\r\n" if gzip else ""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{accept}\r\n".encode())
        got = 0
        while (end := self.buffer.find(b"\r\n\r\n", 0, got)) < 0:
            got += self.sock.recv_into(self.view[got:])
        length = int(LENGTH.search(self.buffer, 0, end)[1])
        while got < end + 4 + length:
            got += self.sock.recv_into(self.view[got:])
        self.body = self.view[end + 4:end + 4 + length]
        return int(self.buffer[9:12]), length

    def wait_done(self, run_ids):
        """Poll the runs' info on this connection (so on its worker process) until each
        is done there; run info is never cached, so no step answer is made here."""
        for run_id in run_ids:
            while True:
                self.get(f"/api/runs/{run_id}", gzip=False)
                if b'"status":"done"' in bytes(self.body):
                    break
                time.sleep(0.05)

    def close(self):
        self.sock.close()


class Pairs:
    """(run id, step) pairs in random order, each handed out once, from any thread."""

    def __init__(self, run_ids, seed):
        order = np.random.default_rng(seed).permutation(len(run_ids) * STEPS)
        self.pairs = [(run_ids[i // STEPS], int(i % STEPS)) for i in order]
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            return self.pairs.pop() if self.pairs else None


def create_runs(url, name):
    """POST the workload's runs (seeds 1, 2, ...); their ids."""
    return [httpx.post(f"{url}/api/runs", json={**WORKLOADS[name], "seed": seed},
                       timeout=120).json()["id"] for seed in range(1, RUNS[name] + 1)]


def latency(connection, paths):
    """p50, p95 (ms) and median bytes of fetching `paths` one after another."""
    times, sizes = [], []
    for path in paths:
        start = time.perf_counter()
        status, size = connection.get(path)
        times.append((time.perf_counter() - start) * 1000)
        sizes.append(size)
        assert status == 200, status
    p50, p95 = np.percentile(times, [50, 95])
    return p50, p95, int(np.median(sizes))


def class_paths(run_id, query, count):
    return [f"/api/runs/{run_id}/steps/{CLASS_STEPS[k % len(CLASS_STEPS)]}{query}"
            for k in range(count)]


def throughput(port, run_ids, clients, seconds, next_path):
    """Fetches per second of `clients` connections (a thread each) for `seconds`, or
    until next_path(i, k) runs out (returns None). Returns (rate, seconds measured)."""
    counts, ends = [0] * clients, [0.0] * clients
    ready, stop = threading.Barrier(clients + 1), [0.0]

    def loop(i):
        connection = Connection(port)
        connection.wait_done(run_ids)  # a connection stays with one worker process
        ready.wait()
        while time.monotonic() < stop[0] and (path := next_path(i, counts[i])) is not None:
            status, _ = connection.get(path)
            assert status == 200, status
            counts[i] += 1
        ends[i] = time.monotonic()
        connection.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop[0] = time.monotonic() + 3600  # set for real once every connection is ready
    ready.wait()
    start = time.monotonic()
    stop[0] = start + seconds
    for thread in threads:
        thread.join()
    elapsed = max(ends) - start
    return sum(counts) / elapsed, elapsed


def cold_paths(pairs, query):
    def next_path(i, k):
        pair = pairs.take()
        return None if pair is None else f"/api/runs/{pair[0]}/steps/{pair[1]}{query}"
    return next_path


def warm_paths(run_id, query):
    def next_path(i, k):  # connection i starts i steps into the walk
        return f"/api/runs/{run_id}/steps/{CLASS_STEPS[(i + k) % len(CLASS_STEPS)]}{query}"
    return next_path


def measure(workers, count, seconds):
    rows = []
    with serving(workers=workers) as (url, _):
        port = int(url.rsplit(":", 1)[1])
        for name in WORKLOADS:
            run_ids = create_runs(url, name)
            # one pool per query: a display answer does not make the full one warm
            display, full = Pairs(run_ids, seed=0), Pairs(run_ids, seed=1)
            row = {"workers": workers, "workload": name, "lat": {}, "rate": {}}
            if workers == 1:
                connection = Connection(port)
                connection.wait_done(run_ids)
                latency(connection, [f"/api/runs/{run_ids[0]}"] * 10)  # warm up the stack
                for label, pool, query in (("display", display, DISPLAY), ("full", full, FULL)):
                    cold = [f"/api/runs/{r}/steps/{t}{query}"
                            for r, t in (pool.take() for _ in range(count))]
                    row["lat"][label, "cold"] = latency(connection, cold)
                    latency(connection, class_paths(run_ids[0], query, len(CLASS_STEPS)))
                    row["lat"][label, "warm"] = latency(
                        connection, class_paths(run_ids[0], query, count))
                connection.close()
            for clients in (1, 4):
                row["rate"]["cold", clients] = throughput(
                    port, run_ids, clients, seconds, cold_paths(display, DISPLAY))
                throughput(port, run_ids, clients, 0.5, warm_paths(run_ids[0], DISPLAY))
                row["rate"]["warm", clients] = throughput(
                    port, run_ids, clients, seconds, warm_paths(run_ids[0], DISPLAY))
            rows.append(row)
    return rows


def print_table(rows, seconds):
    print("latency, 1 worker, one connection (ms); bytes per answer")
    print(f"{'':4} {'max_cells':>9} {'answers':>7} {'p50':>7} {'p95':>7} {'bytes':>11}")
    for row in rows:
        for (label, kind), (p50, p95, size) in row["lat"].items():
            cells = "16384" if label == "display" else "none"
            print(f"{row['workload']:4} {cells:>9} {kind:>7} {p50:7.1f} {p95:7.1f} {size:11,d}")
    print("\nthroughput at max_cells=16384 (fetches/s)")
    print(f"{'':4} {'workers':>7} {'answers':>7} {'1 conn':>8} {'4 conns':>8}")
    short = []
    for row in rows:
        for kind in ("cold", "warm"):
            rates = [row["rate"][kind, c] for c in (1, 4)]
            print(f"{row['workload']:4} {row['workers']:7d} {kind:>7} "
                  f"{rates[0][0]:8.0f} {rates[1][0]:8.0f}")
            short += [f"{row['workload']} {row['workers']}w {kind} {c} conn: {s:.1f} s"
                      for (_, s), c in zip(rates, (1, 4), strict=True) if s < seconds - 0.5]
    if short:
        print("\ncold pairs ran out before the time was up (rate over the time measured): "
              + "; ".join(short))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer fetches, shorter runs")
    parser.add_argument("--only", choices=("fetch", "training"),
                        help="only the step fetches, or only train + record (W4, one POST)")
    args = parser.parse_args()
    count, seconds = (40, 2.0) if args.quick else (300, 8.0)
    before = os.getloadavg()
    rows = [] if args.only == "training" else measure(1, count, seconds) + measure(2, count,
                                                                                    seconds)
    overhead = None if args.only == "fetch" else training_overhead.measure(3 if args.quick
                                                                            else 11)
    after = os.getloadavg()
    print(f"{os.cpu_count()} cores; load average (1, 5, 15 min) "
          f"{before[0]:.1f} {before[1]:.1f} {before[2]:.1f} before, "
          f"{after[0]:.1f} {after[1]:.1f} {after[2]:.1f} after "
          "(the bench itself adds about 2)\n")
    if rows:
        print_table(rows, seconds)
    if overhead:
        training_overhead.print_overhead(overhead)


if __name__ == "__main__":
    main()
