"""Two real server processes side by side: ids work across them, answers are identical."""

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from app.cli import GRACEFUL_SHUTDOWN_SECONDS
from app.events import SHUTTING_DOWN
from tests.server_processes import ROOT, serving

CONFIG = {"dataset": "spiral", "n_samples": 300, "hidden_layers": [16, 8], "steps": 40,
          "optimizer": "adam", "learning_rate": 0.01, "batch_size": 64, "keep_prob": 0.9}
RAW = {"accept-encoding": "identity"}


@pytest.fixture(scope="module")
def two_servers():
    with serving() as (a, _), serving() as (b, _):
        yield a, b


def wait_done(url, run_id, seconds=30.0):
    deadline = time.monotonic() + seconds
    while (info := httpx.get(f"{url}/api/runs/{run_id}").json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return info


def test_an_id_made_by_one_process_is_served_by_the_other(two_servers):
    a, b = two_servers
    created = httpx.post(f"{a}/api/runs", json=CONFIG, timeout=30)
    assert created.status_code == 201
    info = created.json()
    seen_by_b = httpx.get(f"{b}/api/runs/{info['id']}")
    assert seen_by_b.status_code == 200 and seen_by_b.json()["status"] in ("running", "done")
    assert wait_done(b, info["id"]) == info


@pytest.mark.parametrize("path", ["", "/summary", "/steps/0", "/steps/17",
                                  "/steps/39?max_cells=50", "/steps/23?layers=2&fields=dZ,W",
                                  "/steps/11/gradcheck"])
def test_both_processes_answer_with_identical_bytes(two_servers, path):
    a, b = two_servers
    run_id = httpx.post(f"{a}/api/runs", json=CONFIG, timeout=30).json()["id"]
    httpx.post(f"{b}/api/runs", json=CONFIG, timeout=30)
    wait_done(b, run_id)
    answers = [httpx.get(f"{url}/api/runs/{run_id}{path}", headers=RAW) for url in (a, b)]
    assert [r.status_code for r in answers] == [200, 200]
    assert answers[0].content == answers[1].content


def test_python_m_app_help():
    result = subprocess.run([sys.executable, "-m", "app", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "serve" in result.stdout and "backprop-lens" in result.stdout


def test_backprop_lens_serve_starts_and_answers():
    script = str(ROOT / ".venv" / "bin" / "backprop-lens")
    with serving([script, "serve"]) as (url, process):
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
        banner = process.stdout.readline()
    assert banner.startswith("Backprop Lens running at http://127.0.0.1:")
    assert banner.rstrip().endswith("/ (Ctrl+C to stop)")


@pytest.mark.parametrize("workers", [1, 2])
def test_an_open_event_stream_ends_with_its_error_event_at_shutdown(workers):
    """The stream was cut after uvicorn's graceful wait, with no word: the lifespan that
    tells the streams runs after it. The stop signal now tells them at once."""
    long = {"dataset": "digits", "hidden_layers": [128, 128, 128], "steps": 2000}
    with serving(workers=workers) as (url, process):
        run_id = httpx.post(f"{url}/api/runs", json=long, timeout=30).json()["id"]
        streaming, lines, ended = threading.Event(), [], []

        def follow():
            with httpx.stream("GET", f"{url}/api/runs/{run_id}/events",
                              timeout=None) as response:
                streaming.set()
                lines.extend(response.iter_lines())
                ended.append(True)  # a whole answer: the stream was not cut

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        assert streaming.wait(10)
        start = time.monotonic()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=GRACEFUL_SHUTDOWN_SECONDS + 10)
        follower.join(5)
        # the run alone would take tens of seconds more
        assert time.monotonic() - start < GRACEFUL_SHUTDOWN_SECONDS + 3
    assert ended == [True]
    assert lines[-3:-1] == ["event: error", 'data: {"detail":"' + SHUTTING_DOWN + '"}']
