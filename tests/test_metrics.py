"""app.metrics: the Prometheus metrics, in process and from real servers' metrics port."""

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import metrics
from app.settings import Settings
from tests.conftest import SMALL
from tests.server_processes import free_port, serving


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, (label, value), ...): value} of a text exposition."""
    return {(s.name, *sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client) -> dict[tuple, float]:
    app = client.app
    return samples(app.state.metrics.exposition(app.state).decode())


def test_the_apps_port_serves_no_metrics(client):
    assert Settings().metrics_port == 0  # and no listener unless asked for
    assert client.get("/metrics").status_code == 404


def test_runs_answers_and_their_bytes_are_counted(make_client):
    client = make_client()
    created = client.post("/api/runs", json=SMALL)
    assert created.status_code == 201
    step = client.get(f"/api/runs/{created.json()['id']}/steps/0")
    found = scrape(client)
    assert found["backprop_lens_runs", ("state", "cached")] == 1
    assert found["backprop_lens_runs", ("state", "training")] == 0
    assert found["backprop_lens_responses_total", ("route", "/api/runs"), ("status", "201")] == 1
    route = ("route", "/api/runs/{run_id}/steps/{t}")
    assert found["backprop_lens_answer_bytes_count", route] == 1
    # the bytes that went out, gzip included (TestClient accepts gzip)
    assert found["backprop_lens_answer_bytes_sum", route] == step.num_bytes_downloaded
    assert found["backprop_lens_answer_bytes_bucket", ("le", "+Inf"), route] == 1


def test_an_unknown_path_is_one_label_whatever_the_path(make_client):
    client = make_client()
    for path in ("/nothing", "/nothing/else", "/api/runs/x/y/z"):
        assert client.get(path).status_code == 404
    found = scrape(client)
    assert found["backprop_lens_responses_total", ("route", "unmatched"), ("status", "404")] == 3


def test_memory_and_the_cache_budgets(make_client):
    client = make_client(cache_bytes=123 * 2**20, answer_cache_bytes=7 * 2**20)
    client.post("/api/runs", json=SMALL)
    found = scrape(client)
    assert found["backprop_lens_resident_memory_bytes",] > 50 * 2**20  # NumPy alone
    assert found["backprop_lens_cache_budget_bytes", ("cache", "runs")] == 123 * 2**20
    assert found["backprop_lens_cache_budget_bytes", ("cache", "answers")] == 7 * 2**20
    held = client.app.state.run_cache.nbytes()
    assert held > 0
    assert found["backprop_lens_cache_bytes", ("cache", "runs")] == held


def test_the_seconds_bulk_work_waited(make_client):
    client = make_client()
    assert scrape(client)["backprop_lens_bulk_paused_seconds_total",] == 0
    client.app.state.bulk.waited(1.5)
    assert scrape(client)["backprop_lens_bulk_paused_seconds_total",] == 1.5


def test_refusals_are_counted_by_reason(make_client):
    client = make_client(max_runs_per_client=1, sync_seconds=0)
    heavy = {"dataset": "digits", "hidden_layers": [64], "steps": 2000}
    answers = [client.post("/api/runs", json={**heavy, "seed": seed}).status_code
               for seed in range(3)]
    assert 429 in answers
    found = scrape(client)
    refused = found["backprop_lens_admission_refused_total", ("reason", "max_runs_per_client")]
    assert refused == answers.count(429)
    assert found["backprop_lens_responses_total", ("route", "/api/runs"),
                 ("status", "429")] == answers.count(429)


def test_totals_carried_over_never_count_twice():
    found = metrics.Metrics()
    counter = found.ended.labels("cancelled")
    for total in (2, 2, 5, 5):
        found._carry(counter, total)
    assert counter._value.get() == 5


def test_gauges_of_exited_workers_are_forgotten(tmp_path):
    exited = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                            capture_output=True, text=True, check=True)
    dead, alive = int(exited.stdout), os.getpid()
    for pid in (dead, alive):
        for kind in ("gauge_livesum", "counter"):
            (tmp_path / f"{kind}_{pid}.db").write_bytes(b"")
    metrics.forget_dead(str(tmp_path))
    # a counter's counts stay after its process has gone; a live gauge does not
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"counter_{dead}.db", f"counter_{alive}.db", f"gauge_livesum_{alive}.db"])


# -- real servers: the metrics port, with one worker and with several -------------------------

def scrape_port(port: int) -> dict[tuple, float]:
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def wait_for(port: int, key: tuple, value: float, seconds: float = 15.0):
    """The scrape once `key` has `value` (gauges are written every REFRESH_SECONDS)."""
    deadline = time.monotonic() + seconds
    while (found := scrape_port(port)).get(key) != value and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


@pytest.mark.parametrize("workers", [1, 2])
def test_the_metrics_port_adds_up_every_worker(workers):
    port, budget = free_port(), 32 * 2**20
    env = {"BPL_METRICS_PORT": str(port), "BPL_CACHE_BYTES": str(budget)}
    with serving(workers=workers, env=env) as (url, _):
        assert httpx.get(f"{url}/metrics").status_code == 404
        with httpx.Client(base_url=url) as client:  # one connection: one worker
            for _ in range(5):
                assert client.get("/api/options").status_code == 200
        # every worker's gauges, summed: each worker reports its own budget
        key = ("backprop_lens_cache_budget_bytes", ("cache", "runs"))
        found = wait_for(port, key, workers * budget)
        assert found[key] == workers * budget
        assert found["backprop_lens_responses_total", ("route", "/api/options"),
                     ("status", "200")] == 5
        assert found["backprop_lens_resident_memory_bytes",] > workers * 50 * 2**20


def test_a_metrics_port_in_use_stops_serve_with_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "app", "serve", "--port", str(free_port())],
            env={**os.environ, "BPL_METRICS_PORT": str(port)}, capture_output=True,
            text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"backprop-lens: error: BPL_METRICS_PORT={port}: cannot listen on 127.0.0.1:{port}: "
        "Address already in use"]


def test_the_pages_own_port_as_metrics_port_stops_serve_with_one_line():
    """Both bound it (SO_REUSEADDR), then uvicorn's listen failed: 76 lines of traceback."""
    port = free_port()
    result = subprocess.run([sys.executable, "-m", "app", "serve", "--port", str(port)],
                            env={**os.environ, "BPL_METRICS_PORT": str(port)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"backprop-lens: error: BPL_METRICS_PORT={port}: the page's own port "
        f"(--port {port}); choose another"]
