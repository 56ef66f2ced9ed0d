"""Prometheus metrics of the server's processes, and the port that serves them.

What an operator sees (docs/deploy.md, "Metrics"): runs queued, training, cached and
cancelled; answers by route and status (429s among them); answer sizes on the wire; the
workers' resident memory and the bytes their caches hold.

Where: `backprop-lens serve` listens on BPL_METRICS_PORT (0, the default, serves none), on
the same address as the app, at /metrics. A port of its own, because the app's port is the
one that nginx, an Ingress or `docker run -p` publish: the metrics are never public unless
that port is published on purpose.

Several workers: prometheus_client's multiprocess mode, for any worker count. `serve` makes
a fresh folder and names it in PROMETHEUS_MULTIPROC_DIR before any worker starts. Each
worker writes its values to its own files there (counters and histograms as they happen,
gauges every REFRESH_SECONDS); the listener, in the process that `serve` started, adds them
up at each scrape. So one scrape shows the whole server, and a worker that uvicorn replaced
leaves its counts but not its gauges. Without that variable (tests, `uvicorn app.main:app`)
the values stay in the process and `exposition()` reads them.
"""

import glob
import os
import re
import shutil
import tempfile
from contextlib import asynccontextmanager, contextmanager

import anyio
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client import values as prometheus_values
from prometheus_client.exposition import start_wsgi_server

from app.middleware import noting_status

FOLDER_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
REFRESH_SECONDS = 1.0  # how stale a worker's gauges may be in a scrape
# bytes of an answer's body as sent (after gzip): from a 2-byte 204 to a 100 MB step record
ANSWER_BUCKETS = tuple(4**k * 256 for k in range(10))  # 256 B, 1 KiB, ... 64 MiB
RUN_STATES = ("queued", "training", "cached")  # gauges of RunCache.counts()
ENDINGS = ("cancelled", "dropped")  # its running totals
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def multiprocess_folder() -> str | None:
    """The folder the workers write to, when `serve` exports metrics; else None."""
    return os.environ.get(FOLDER_VARIABLE) or None


def resident_bytes() -> int:
    """This process's resident memory (Linux /proc; 0 where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * PAGE_BYTES
    except OSError:
        return 0


def route_of(scope) -> str:
    """The route template that answered ('/api/runs/{run_id}/steps/{t}'): a label with a
    few values, whatever the ids; 'unmatched' for a path no route knows."""
    return getattr(scope.get("route"), "path", None) or "unmatched"


class Metrics:
    """One process's metrics. Answers are counted as they go out; the rest is read from the
    app's state by refresh(): gauges are set, and the totals that the run cache and its
    admission control keep as plain numbers are carried over as counter increments."""

    def __init__(self):
        # multiprocess mode registers nothing here: the listener reads the workers' files
        self.registry = None if multiprocess_folder() else CollectorRegistry()
        live = {"registry": self.registry, "multiprocess_mode": "livesum"}
        counted = {"registry": self.registry}
        self.runs = Gauge("backprop_lens_runs", "Runs in the server's processes: queued for "
                          "a training thread, training, or cached (finished and kept)",
                          ["state"], **live)
        self.ended = Counter("backprop_lens_runs_ended", "Runs whose training was given up: "
                             "cancelled (nobody asked about it for a while, or its client "
                             "started a newer one) or dropped (pushed out of a full queue)",
                             ["reason"], **counted)
        self.refused = Counter("backprop_lens_admission_refused", "Requests refused by "
                               "admission control, by the limit that refused them (429: "
                               "max_runs_per_client, max_runs_per_address; 403: cross_site)",
                               ["reason"], **counted)
        self.answers = Counter("backprop_lens_responses", "Answers by route template and "
                               "HTTP status (429: refused by admission control)",
                               ["route", "status"], **counted)
        self.sizes = Histogram("backprop_lens_answer_bytes", "Bytes of each answer's body "
                               "as sent, after any gzip", ["route"], buckets=ANSWER_BUCKETS,
                               **counted)
        self.resident = Gauge("backprop_lens_resident_memory_bytes", "Resident memory of "
                              "the server's worker processes", **live)
        self.cache_bytes = Gauge("backprop_lens_cache_bytes", "Bytes the caches count: runs "
                                 "(at their peak, against BPL_CACHE_BYTES) and step answers "
                                 "(against BPL_ANSWER_CACHE_BYTES)", ["cache"], **live)
        self.budget = Gauge("backprop_lens_cache_budget_bytes", "The caches' byte budgets, "
                            "summed over the worker processes", ["cache"], **live)
        self.paused = Counter("backprop_lens_bulk_paused_seconds", "Seconds heavy training "
                              "and big answers waited so that the class's requests go first "
                              "(BPL_BULK_CORES, app.bulk_share)", **counted)
        self._carried = {}  # counter -> the total already carried over

    def answered(self, route: str, status: int, size: int):
        self.answers.labels(route, str(status)).inc()
        self.sizes.labels(route).observe(size)

    def refresh(self, state):
        """Set the gauges, and carry over the totals, from app.state: its run cache (with
        admission control), answer cache and settings."""
        counts = state.run_cache.counts()
        for name in RUN_STATES:
            self.runs.labels(name).set(counts.get(name, 0))
        for reason in ENDINGS:
            self._carry(self.ended.labels(reason), counts.get(reason, 0))
        for reason, total in state.run_cache.admission.refused.items():
            self._carry(self.refused.labels(reason), total)
        self._carry(self.paused, state.bulk.paused)
        self.resident.set(resident_bytes())
        self.cache_bytes.labels("runs").set(state.run_cache.nbytes())
        self.cache_bytes.labels("answers").set(state.answer_cache.nbytes)
        self.budget.labels("runs").set(state.settings.cache_bytes)
        self.budget.labels("answers").set(state.settings.answer_cache_bytes)

    def _carry(self, counter, total: int):
        """Advance `counter` to a total that another object keeps."""
        counter.inc(max(0, total - self._carried.get(counter, 0)))
        self._carried[counter] = max(total, self._carried.get(counter, 0))

    def exposition(self, state) -> bytes:
        """The text format of this process's registry, refreshed (not in multiprocess mode,
        where the listener of `serve` answers)."""
        self.refresh(state)
        return generate_latest(self.registry)


class CountAnswers:
    """Pure ASGI middleware: each answer's route, status and body bytes as sent. Added
    outermost, so that it sees the bytes after gzip and every status, 413s included."""

    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        size = 0

        async def send_and_count(message):
            nonlocal size
            if message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        await noting_status(self.app, scope, receive, send_and_count,
                            lambda status: self.metrics.answered(route_of(scope), status, size))


# -- in each worker ------------------------------------------------------------------------

@asynccontextmanager
async def exported(app):
    """For the app's lifespan: in a worker of `serve` with metrics on, write this process's
    gauges every REFRESH_SECONDS, and take them back when the worker stops."""
    if multiprocess_folder() is None:
        yield
        return

    async def refresh_forever():
        while True:
            app.state.metrics.refresh(app.state)
            await anyio.sleep(REFRESH_SECONDS)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(refresh_forever)
        try:
            yield
        finally:
            tasks.cancel_scope.cancel()
            prometheus_multiprocess.mark_process_dead(os.getpid())


# -- in the process that `serve` started ------------------------------------------------------

LIVE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db$")


def forget_dead(folder: str):
    """Drop the gauges of workers that have exited (killed or replaced by uvicorn's
    supervisor, so they could not take them back themselves); their counts stay."""
    for path in glob.glob(os.path.join(folder, "gauge_live*.db")):
        match = LIVE_FILE.search(os.path.basename(path))
        if match and not pid_alive(int(match[1])):
            prometheus_multiprocess.mark_process_dead(int(match[1]), folder)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WorkersCollector:
    """The workers' files, added up; the gauges of exited workers dropped first."""

    def __init__(self, folder: str):
        self.folder = folder
        self.files = prometheus_multiprocess.MultiProcessCollector(None, folder)

    def collect(self):
        forget_dead(self.folder)
        return self.files.collect()


@contextmanager
def serving_metrics(host: str, port: int):
    """Serve the workers' metrics on host:port while the server runs (nothing if port is
    0). The folder must be named before any worker starts: call this first."""
    if not port:
        yield
        return
    folder = tempfile.mkdtemp(prefix="backprop-lens-metrics-")
    os.environ[FOLDER_VARIABLE] = folder  # inherited by every worker, which writes there
    # prometheus_client picks its value store from that variable when first imported, which
    # in this process was before: pick again, before any metric exists (with one worker,
    # this process is the worker and builds the app's metrics only later)
    prometheus_values.ValueClass = prometheus_values.get_value_class()
    try:
        server, thread = start_wsgi_server(port, host, registry=WorkersCollector(folder))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        yield
    finally:
        server.shutdown()
        thread.join(timeout=5)
        shutil.rmtree(folder, ignore_errors=True)
