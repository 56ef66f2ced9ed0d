"""Downloads (CONTRACT §4, issue 17 point 4): the page links the run on screen's export.npz
and report.html at the first, the current and the last iteration; every plot keeps Plotly's
PNG download; and the saved report opens from a file with its plots drawn, no console
error and no request leaving the file."""

import io
import re
from urllib.parse import parse_qs, urlparse

import numpy as np

from tests.browser.conftest import PLOTS, is_run_post, open_page, post_run, redraws, wait_redrawn

PNG_BUTTON = '.modebar-btn[data-title="Download plot as a PNG"]'


def link_query(page, testid):
    href = page.get_by_test_id(testid).get_attribute("href")
    return urlparse(href).path, parse_qs(urlparse(href).query)


def test_the_links_follow_the_run_and_the_iteration(page, server):
    with page.expect_response(is_run_post) as posted:
        open_page(page, server)
    path, query = link_query(page, "download-npz")
    assert path == f"/api/runs/{posted.value.json()['id']}/export.npz"
    last = int(page.get_by_test_id("step-slider").get_attribute("max"))
    assert query["steps"] == [f"0,{last}"]  # at iteration 0: the first and the last
    before = redraws(page)
    page.get_by_test_id("step-next").click()
    wait_redrawn(page, before)
    assert link_query(page, "download-npz")[1]["steps"] == [f"0,1,{last}"]
    report_path, report_query = link_query(page, "download-report")
    assert report_path == path.replace("export.npz", "report.html")
    assert report_query == {"steps": [f"0,1,{last}"], "layer": ["1"]}
    with page.expect_download() as saving:
        page.get_by_test_id("download-npz").click()
    with np.load(io.BytesIO(saving.value.path().read_bytes()), allow_pickle=False) as npz:
        assert {"config.json", "cost", "step1/Z1", f"step{last}/dW1"} <= set(npz.files)
    with page.expect_download() as saving:
        page.get_by_test_id("download-report").click()
    assert saving.value.suggested_filename.endswith(".html")  # saved as the page, not gzip
    assert saving.value.path().read_bytes().startswith(b"<!doctype html>")


def test_every_plot_keeps_its_png_download(page, server):
    open_page(page, server)
    plots = page.locator(PLOTS)
    assert plots.count() > 0
    for k in range(plots.count()):
        assert plots.nth(k).locator(PNG_BUTTON).count() == 1, f"plot {k} has no PNG button"


def test_the_saved_report_opens_offline_with_its_plots(browser, server, tmp_path):
    api = browser.new_context()
    config = {"dataset": "moons", "n_samples": 100, "hidden_layers": [4, 3], "steps": 20,
              "keep_prob": 0.8, "bug": "missing_1_over_m"}
    run = post_run(api.request, server, config).json()
    answer = api.request.get(f"{server}/api/runs/{run['id']}/report.html?steps=0,9,19&layer=2")
    assert answer.status == 200
    saved = tmp_path / "report.html"
    saved.write_bytes(answer.body())
    api.close()

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    requests, errors, outside = [], [], []
    # any request other than the file itself is recorded, and refused
    context.route(re.compile(r"^(?!file:).*"), lambda route: (outside.append(route.request.url),
                                                             route.abort()))
    page = context.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: m.type in ("error", "warning") and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(saved.as_uri())
    figures = page.locator("[data-figure]").count()
    assert figures == 4 + 3 * 3  # loss, score, gradient flow, boundary; 3 figures a step
    page.locator(PLOTS).nth(figures - 1).wait_for()
    page.wait_for_function(f"() => document.querySelectorAll('{PLOTS} .main-svg').length "
                           f">= {figures}")
    assert page.locator(PLOTS).count() == figures
    assert page.locator(f"{PLOTS} {PNG_BUTTON}").count() == figures
    page.wait_for_timeout(300)  # a late request or error would show here
    context.close()
    assert outside == [] and requests == [saved.as_uri()]
    assert errors == []



def test_the_saved_report_reads_on_a_phone(browser, server, tmp_path):
    """390 px: a row of six heatmaps keeps its width and scrolls sideways in its own frame
    (its titles do not run into each other), the page does not, and no tool bar covers
    the titles of a touch screen's plots."""
    api = browser.new_context()
    run = post_run(api.request, server, {"steps": 20}).json()
    answer = api.request.get(f"{server}/api/runs/{run['id']}/report.html?steps=0&layer=1")
    saved = tmp_path / "report.html"
    saved.write_bytes(answer.body())
    api.close()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    try:
        page = context.new_page()
        page.goto(saved.as_uri())
        page.wait_for_function(f"() => document.querySelectorAll('{PLOTS} .main-svg').length")
        page.wait_for_timeout(300)
        widths = page.evaluate("""() => ({page: document.scrollingElement.scrollWidth,
          rows: [...document.querySelectorAll('.wide')].map((w) => [w.clientWidth, w.scrollWidth]),
          bars: [...document.querySelectorAll('.modebar-container')]
            .filter((b) => getComputedStyle(b).display !== 'none').length})""")
        assert widths["page"] <= 390, widths
        assert widths["rows"] and all(inner >= 900 > outer for outer, inner in widths["rows"])
        assert widths["bars"] == 0, widths
    finally:
        context.close()
