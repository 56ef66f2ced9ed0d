"""Step-fetch latency, size and throughput against real uvicorn servers on loopback.

    .venv/bin/python bench/bench_server.py [--quick]

W1: [2, 8, 8, 1] on moons, 500 training points; W4: [64, 32, 16, 10] on digits (1438).
The client is a minimal keep-alive HTTP/1.1 client on plain sockets, so that its own
work costs little next to the server's: client and server share this machine's cores.
Latency: one connection fetching random steps one after another. Throughput: several
connections at once (a thread each) for a bounded time.
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
from tests.server_processes import serving  # noqa: E402

WORKLOADS = {
    "W1": {"dataset": "moons", "n_samples": 625, "test_fraction": 0.2,
           "hidden_layers": [8, 8], "steps": 300},
    "W4": {"dataset": "digits", "test_fraction": 0.2, "hidden_layers": [32, 16],
           "steps": 300},
}
DISPLAY = "?max_cells=16384"
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

    def get(self, path):
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n"
                          "Accept-Encoding: gzip\r\n\r\n".encode())
        got = 0
        while (end := self.buffer.find(b"\r\n\r\n", 0, got)) < 0:
            got += self.sock.recv_into(self.view[got:])
        length = int(LENGTH.search(self.buffer, 0, end)[1])
        while got < end + 4 + length:
            got += self.sock.recv_into(self.view[got:])
        return int(self.buffer[9:12]), length

    def close(self):
        self.sock.close()


def ready_run(url, config, settle=30):
    """POST the config, then probe on fresh connections (which reach every worker) until
    `settle` answers in a row say done."""
    run_id = httpx.post(f"{url}/api/runs", json=config, timeout=120).json()["id"]
    done_in_a_row = 0
    while done_in_a_row < settle:
        status = httpx.get(f"{url}/api/runs/{run_id}").json()["status"]
        done_in_a_row = done_in_a_row + 1 if status == "done" else 0
        time.sleep(0.01 if status == "done" else 0.1)
    return run_id


def latency(port, run_id, query, count, seed):
    """p50, p95 (ms) and median bytes of `count` random-step fetches, one at a time."""
    connection = Connection(port)
    times, sizes = [], []
    for t in np.random.default_rng(seed).integers(0, 300, size=count):
        start = time.perf_counter()
        status, size = connection.get(f"/api/runs/{run_id}/steps/{t}{query}")
        times.append((time.perf_counter() - start) * 1000)
        sizes.append(size)
        assert status == 200, status
    connection.close()
    p50, p95 = np.percentile(times, [50, 95])
    return p50, p95, int(np.median(sizes))


def throughput(port, run_id, query, clients, seconds):
    """Fetches per second of `clients` connections (one thread each) on random steps."""
    counts, ready = [0] * clients, threading.Barrier(clients + 1)
    stop = [0.0]

    def loop(i):
        connection, rng = Connection(port), np.random.default_rng(i)
        # a connection stays with one worker process: make sure that one has the run
        while connection.get(f"/api/runs/{run_id}/steps/299{query}")[0] != 200:
            time.sleep(0.1)
        ready.wait()
        while time.monotonic() < stop[0]:
            status, _ = connection.get(f"/api/runs/{run_id}/steps/{rng.integers(300)}{query}")
            assert status == 200, status
            counts[i] += 1
        connection.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop[0] = time.monotonic() + 3600  # set for real once every connection is warm
    ready.wait()
    start = time.monotonic()
    stop[0] = start + seconds
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - start)


def measure(workers, count, seconds):
    rows = []
    with serving(workers=workers) as (url, _):
        port = int(url.rsplit(":", 1)[1])
        for name, config in WORKLOADS.items():
            run_id = ready_run(url, config)
            row = {"workers": workers, "workload": name}
            if workers == 1:
                latency(port, run_id, DISPLAY, 10, seed=99)  # warm up
                row["display"] = latency(port, run_id, DISPLAY, count, seed=0)
                row["full"] = latency(port, run_id, "", count, seed=1)
            row["rate"] = {c: throughput(port, run_id, DISPLAY, c, seconds) for c in (1, 4)}
            rows.append(row)
    return rows


def print_table(rows):
    print("latency, one connection, random steps (ms); bytes per step")
    print(f"{'':4} {'max_cells':>9} {'p50':>7} {'p95':>7} {'bytes':>11}")
    for row in rows:
        for label, cells in (("display", "16384"), ("full", "none")):
            if label in row:
                p50, p95, size = row[label]
                print(f"{row['workload']:4} {cells:>9} {p50:7.1f} {p95:7.1f} {size:11,d}")
    print("\nthroughput at max_cells=16384 (fetches/s)")
    print(f"{'':4} {'workers':>7} {'1 conn':>8} {'4 conns':>8}")
    for row in rows:
        rate = row["rate"]
        print(f"{row['workload']:4} {row['workers']:7d} {rate[1]:8.0f} {rate[4]:8.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer fetches, shorter runs")
    args = parser.parse_args()
    count, seconds = (40, 2.0) if args.quick else (300, 8.0)
    before = os.getloadavg()[0]
    rows = measure(1, count, seconds) + measure(2, count, seconds)
    print(f"{os.cpu_count()} cores; 1-minute load average {before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (the bench itself adds about 2)\n")
    print_table(rows)


if __name__ == "__main__":
    main()
