"""A link that names a run by id (`?run=`) opens that run, in the id's current format and
in the earlier r1 format that slides may hold (the API redirects it to the r2 id)."""

import pytest

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
