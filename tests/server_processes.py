"""Start real server processes on free loopback ports, for tests and the bench."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# the installed `backprop-lens`, or the same program through `python -m app`
SCRIPT = Path(sys.executable).with_name("backprop-lens")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "app"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# a readiness wait, not a speed goal: a start takes about 3 s alone, and over 30 s on two
# cores shared with a busy test run (a CI run failed so)
def wait_healthy(url: str, process: subprocess.Popen, seconds: float = 120.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} not healthy after {seconds} s")


@contextlib.contextmanager
def serving(command=None, workers=1, env=None):
    """Yields (base url, process) of `python -m app serve` (or `command`) on a free port."""
    port = free_port()
    args = command or [sys.executable, "-m", "app", "serve"]
    args = [*args, "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or {})},
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url, process
    finally:
        stop_session(process, timeout=10)


def stop_session(process, timeout):
    """Stop the process's whole session (uvicorn's worker processes too): SIGTERM, and
    SIGKILL if it has not ended within timeout seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
