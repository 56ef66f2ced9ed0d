"""While its run waits for a training thread, the page says how many runs go first; while
it trains, a banner above the views says how far it is and about how long is left."""

import contextlib
import json
import re
import threading

import httpx
from playwright.sync_api import expect

from app.admission import COOKIE
from tests.server_processes import serving

HEAVY = {"dataset": "digits", "hidden_layers": [128, 128, 128], "steps": 2000}
# one training thread and no fast lane: every run waits its turn
ONE_THREAD = {"BPL_TRAIN_THREADS": "1", "BPL_FAST_LANE_FLOPS": "0"}


def test_a_waiting_run_shows_how_many_runs_are_ahead(page):
    with serving(env=ONE_THREAD) as (url, _):
        for seed in (1, 2):  # two other clients' runs: one trains, one waits
            posted = httpx.post(f"{url}/api/runs", json={**HEAVY, "seed": seed}, timeout=30,
                                cookies={COOKIE: f"{seed:_<22}"})
            assert posted.status_code == 202
        page.goto(f"{url}/?dataset=digits&hidden_layers=128,128,128&steps=2000&seed=3")
        expect(page.locator("#run-progress-text")).to_have_text("waiting: 1 run ahead")
        expect(page.locator("#run-summary")).to_have_text("Waiting: 1 run ahead")
        expect(page.locator("#training-banner")).to_have_text(
            "This run is waiting: 1 run ahead. The views fill in when it is done.")
        page.goto("about:blank")  # stop polling before the server stops


BUSY_LOG = "the server responded with a status of 429"


@contextlib.contextmanager
def asked_about(url, run_id, cookie):
    """Ask about a run every second, as a page that waits for it does: a run nobody asked
    about for app.admission.LEFT_SECONDS gives way to its client's next one."""
    stop = threading.Event()

    def ask():
        with httpx.Client(cookies={COOKIE: cookie}, timeout=30) as client:
            while not stop.wait(1.0):
                client.get(f"{url}/api/runs/{run_id}")

    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    try:
        yield
    finally:
        stop.set()
        asking.join(timeout=35)


def test_a_refused_run_says_so_and_is_asked_for_again(page):
    """The server's own 429: this browser already has its one run in flight."""
    page.recorder.allow(BUSY_LOG)
    with serving(env={**ONE_THREAD, "BPL_MAX_RUNS_PER_CLIENT": "1"}) as (url, _):
        page.request.get(f"{url}/healthz")  # the context now holds this server's cookie
        first = page.request.post(f"{url}/api/runs", data={**HEAVY, "seed": 1})
        assert first.status == 202
        cookie = next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE)
        # the first run stays in flight however long the page takes to load
        with asked_about(url, first.json()["id"], cookie):
            page.goto(f"{url}/?dataset=digits&hidden_layers=128,128,128&steps=2000&seed=2")
            expect(page.locator("#run-progress-text")).to_contain_text(
                "waiting: this server already trains as many runs as it allows you; asking "
                "again in")
            expect(page.get_by_test_id("alert")).to_be_hidden()  # a wait, not an error
            page.goto("about:blank")


def test_after_retry_after_the_run_opens(page, server):
    """A 429 with Retry-After: 1 (from the route, so that it ends soon), then the server."""
    page.recorder.allow(BUSY_LOG)
    refusals = []

    def refuse_once(route):
        if refusals:
            return route.continue_()
        refusals.append(route.request.url)
        route.fulfill(status=429, headers={"Retry-After": "1"}, content_type="application/json",
                      body='{"detail": "max_runs_per_client: this client already has 3 runs"}')

    page.route("**/api/runs", refuse_once)
    page.goto(f"{server}/?seed=7")
    expect(page.locator("#run-progress-text")).to_contain_text("asking again in 1 s")
    expect(page.get_by_test_id("step-label")).to_contain_text("0")
    page.locator(".js-plotly-plot").nth(5).wait_for()
    assert len(refusals) == 1
    expect(page.get_by_test_id("alert")).to_be_hidden()


# the time left shows after 2 s of training: for the last 4 s of these 6
RUNNING_POLLS = 24


def test_a_training_run_says_how_far_it_is_and_about_how_long_is_left(page, server):
    """The server's answers made slow: 202 and 24 polls of "running", 4 % more each (the
    page polls every 250 ms: 6 s), then the run as it is. The banner gives the percentage
    and, after two seconds, the time left; it goes once the run is done and drawn."""
    polls = []

    def slow_post(route):
        real = route.fetch()
        info = {**real.json(), "status": "running", "progress": 0.0}
        route.fulfill(status=202, content_type="application/json", body=json.dumps(info))

    def slow_run(route):
        if len(polls) >= RUNNING_POLLS:
            return route.continue_()
        polls.append(route.request.url)
        info = {**route.fetch().json(), "status": "running",
                "progress": len(polls) / (RUNNING_POLLS + 1)}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(info))

    page.route("**/api/runs", slow_post)
    page.route(re.compile(r".*/api/runs/[^/?]+$"), slow_run)
    page.goto(f"{server}/?seed=11")
    banner = page.locator("#training-banner")
    expect(banner).to_contain_text(re.compile(r"This run is training… \d+ %"))
    expect(banner).to_contain_text(re.compile(r"training… \d+ %, about \d+ s left\. The views "
                                              r"fill in when it is done\."))
    expect(banner).to_be_hidden(timeout=20_000)
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 0 of 299")
    assert len(polls) == RUNNING_POLLS
