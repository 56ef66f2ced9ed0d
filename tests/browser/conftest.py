"""Fixtures for the browser suite: the real server in a subprocess, Debian's Chromium,
and a page that records console errors and every request it makes; and the helpers the
tests share to open the page and wait for redraws."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30
# every browser test is bounded: a broken page fails fast instead of hanging the suite
TIMEOUT_MS = 20_000


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, log):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the server exited with {process.returncode}: "
                               f"{log.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer /healthz within {STARTUP_SECONDS} s")


@pytest.fixture(scope="session")
def server():
    """Base URL of `python -m app serve` on a free port of 127.0.0.1."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # the server logs every request: into a file, since a pipe that nobody reads fills
    # after some hundred requests and then blocks the server
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)],
                                   cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                   stdout=subprocess.DEVNULL, stderr=log)
        try:
            wait_healthy(url, process, log)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def is_plotly_warning(message):
    """Plotly.js's own warnings (Lib.warn: a console.trace of "WARN: ..."), such as "Too many
    auto-margin redraws": a figure that its layout makes Plotly draw again and again."""
    return message.type == "trace" and message.text.startswith("WARN:")


class Recorder:
    """What a page said and asked for: console errors and Plotly warnings, page errors and
    request URLs."""

    def __init__(self, page):
        self.errors, self.requests, self.allowed = [], [], []
        page.on("console", lambda m: (m.type == "error" or is_plotly_warning(m))
                and not self.is_allowed(m.text) and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))

    def allow(self, text):
        """Expect console errors containing text (the browser's log of an intended 4xx)."""
        self.allowed.append(text)

    def is_allowed(self, message):
        return any(text in message for text in self.allowed)


def sent_once_more(send, url, **kwargs):
    """send(url, ...) through Playwright's request context, sent once more if it met a
    kept-alive connection that the server closed as it left: uvicorn closes one idle for
    5 s, and a request sent at that moment fails with ECONNRESET (the client retries
    neither a POST nor a GET)."""
    try:
        return send(url, **kwargs)
    except Exception as err:  # playwright's Error
        if "ECONNRESET" not in str(err):
            raise
        return send(url, **kwargs)


def retrying_gets(requests):
    """Make a request context's get() send once more (sent_once_more)."""
    get = requests.get
    requests.get = lambda url, **kwargs: sent_once_more(get, url, **kwargs)


@pytest.fixture(scope="session")
def context(browser):
    """One browser context: pages share its HTTP cache, so Plotly.js loads once."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(TIMEOUT_MS)
    retrying_gets(ctx.request)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, server):
    """A fresh 1280 × 800 page; after the test, no console error and no outside request."""
    p = context.new_page()
    p.recorder = Recorder(p)
    yield p
    recorder = p.recorder
    p.close()
    assert recorder.errors == [], f"console errors: {recorder.errors}"
    outside = [u for u in recorder.requests
               if not u.startswith(("http://127.0.0.1:", "data:", "blob:"))]
    assert outside == [], f"requests that left the machine: {outside}"


PLOTS = ".js-plotly-plot"
# the Plotly figures of the whole page: network, loss, boundary, gradient flow, the
# distributions' four panels and, once it has answered, the gradient check
PAGE_PLOTS = 9


def open_page(page, server, query="", plots=PAGE_PLOTS):
    """Load the page and wait until the run is trained and every view has drawn (`plots`:
    how many Plotly figures show; the presenter layout shows only the network's)."""
    page.goto(f"{server}/{query}")
    page.locator(PLOTS).nth(plots - 1).wait_for()
    page.wait_for_function("() => performance.getEntriesByName('step-redraw').length > 0")
    return page


def redraws(page) -> int:
    return page.evaluate("() => performance.getEntriesByName('step-redraw').length")


def wait_redrawn(page, before: int):
    page.wait_for_function(f"() => performance.getEntriesByName('step-redraw').length > {before}")


def expect_words(locator, shown, absent=()):
    """The locator's text holds every phrase of `shown` and none of `absent`."""
    from playwright.sync_api import expect  # as the browser fixture: only when it runs
    for phrase in shown:
        expect(locator).to_contain_text(phrase)
    for phrase in absent:
        expect(locator).not_to_contain_text(phrase)


def is_run_post(response) -> bool:
    """The answer to POST /api/runs: the run info with the normalized config."""
    return response.request.method == "POST" and response.url.endswith("/api/runs")


def slot_point(page, name: str, fx: float, fy: float):
    """The screen point at fractions (fx, fy) across and down the cache inspector's heatmap
    of tensor `name` (its test-id'd slot box: cache-slot-Z, ...), whatever the layout."""
    box = page.get_by_test_id(f"cache-slot-{name}").bounding_box()
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def step_tensor(page, server, run_id, t, layer, field):
    """One recorded tensor of step t at full size, from the JSON API, as rows."""
    answer = page.request.get(f"{server}/api/runs/{run_id}/steps/{t}?layers={layer}&fields={field}")
    entry = answer.json()["layers"][0]
    tensors = {**entry.get("linear_cache", {}), **entry.get("activation_cache", {}),
               **entry.get("grads", {}), **{k: entry[k] for k in ("A", "D") if k in entry}}
    return tensors[field]["data"]


def post_run(requests, url, config):
    """POST /api/runs through Playwright's request context (page.request), sent once more
    on a closed kept-alive connection (sent_once_more: the same config gives the same
    run)."""
    return sent_once_more(requests.post, f"{url}/api/runs", data=config)
