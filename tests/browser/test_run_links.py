"""A link that names a run by id (`?run=`) opens that run, in the id's current format and
in the earlier r1 format that slides may hold (the API redirects it to the r2 id)."""

import re

import pytest
from playwright.sync_api import expect

from app.run_ids import encode_run_id
from engine.config import normalize_config
from tests.browser.conftest import open_page

DEFAULT_R1 = "r1Gw1DysMQAA"  # the default run's id as the r1 server gave it


@pytest.mark.parametrize("run_id", [DEFAULT_R1, encode_run_id(normalize_config({}))])
def test_a_run_link_opens_the_run(page, server, run_id):
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    open_page(page, server, f"?run={run_id}")
    r2 = encode_run_id(normalize_config({}))
    # every step and summary the page fetched names the run by its r2 id
    reads = [u for u in requested if "/api/runs/" in u and ("/steps/" in u or "/summary" in u)]
    assert reads and all(f"/api/runs/{r2}/" in u for u in reads), reads


def test_a_broken_run_link_says_so_and_shows_the_default_run(page, server):
    """A link cut short or mistyped on a slide: the alert names the id, and the default
    run opens under it, rather than an empty page (and no console error: the id is checked
    before the run is asked for)."""
    open_page(page, server, "?run=r2garbage&it=5")
    alert = page.get_by_test_id("alert")
    expect(alert).to_contain_text("No run has the id “r2garbage”")
    expect(alert).to_contain_text("Showing the default run instead.")
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 5 of 299")
    expect(page).not_to_have_url(re.compile(r"run="))
