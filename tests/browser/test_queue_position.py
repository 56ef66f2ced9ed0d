"""While its run waits for a training thread, the page says how many runs go first."""

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
        page.goto("about:blank")  # stop polling before the server stops
