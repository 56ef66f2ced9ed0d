"""A step change is lean on the wire (issue 15): the bytes of the page's own /api/ requests
per step change, as Chromium measures them (transfer size: gzip and headers included), stay
within the budgets for the default moons run with its unit thumbnails and for digits full
batch, stepping and playing; and the cell formula still shows the engine's exact numbers,
fetched in narrow requests, while the views draw display precision."""

import itertools
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    is_run_post,
    open_page,
    post_run,
    redraws,
    slot_point,
    wait_redrawn,
)
from tests.conftest import DIVERGENT
from tests.test_boundary import DIVERGED

DIGITS = "?dataset=digits&hidden_layers=32,16"
PLAY_RATE, PLAY_MB_S = 15, 1.0  # it/s, and the budget of playing digits at that rate
# completed /api/ answers since the last reset: [url, transfer size in bytes]
API_ANSWERS = ("() => performance.getEntriesByType('resource')"
               ".filter(e => e.name.includes('/api/')).map(e => [e.name, e.transferSize])")
NUMBER = r"[-+]?\d[\d.]*(?:e[-+]?\d+)?"


def reset_answers(page):
    page.evaluate("() => { performance.setResourceTimingBufferSize(100000); "
                  "performance.clearResourceTimings(); }")


def wait_for_thumbnails(page):
    """Scroll the unit thumbnails on screen (they are fetched while their panel is open and
    on screen) and wait for their first answer, which is the page's, not a step change's."""
    with page.expect_response(lambda r: "/units?" in r.url):
        page.get_by_test_id("view-units").scroll_into_view_if_needed()


def kb_per_click(page, clicks):
    """KB of /api/ answers per click on "next": the step shown and the one fetched ahead."""
    reset_answers(page)
    for _ in range(clicks):
        before = redraws(page)
        page.get_by_test_id("step-next").click()
        wait_redrawn(page, before)
        page.wait_for_load_state("networkidle")
    answers = page.evaluate(API_ANSWERS)
    assert all(size > 0 for _, size in answers)  # each was sent, none from a cache
    return sum(size for _, size in answers) / 1024 / clicks, [url for url, _ in answers]


@pytest.mark.parametrize(("query", "thumbnails", "budget_kb"), [
    ("", False, 16), ("", True, 16), (DIGITS, False, 64)],
    ids=["moons", "moons with thumbnails", "digits full batch"])
def test_a_step_change_costs_at_most_its_budget(page, server, query, thumbnails, budget_kb):
    open_page(page, server, query)
    if thumbnails:
        wait_for_thumbnails(page)
    page.wait_for_load_state("networkidle")
    kb, urls = kb_per_click(page, 4)
    assert any("/units?" in url for url in urls) == thumbnails
    assert kb <= budget_kb, f"{kb:.1f} KB per step change"


def step_of(url):
    return int(re.search(r"/steps/(\d+)", url)[1]) if "/steps/" in url else None


def test_playing_digits_at_15_its_stays_under_a_megabyte_a_second(page, server):
    open_page(page, server, DIGITS)
    expect(page.locator("#speed")).to_have_value(str(PLAY_RATE))
    page.wait_for_load_state("networkidle")
    reset_answers(page)
    page.get_by_test_id("play-toggle").click()
    page.wait_for_function("() => +document.querySelector('[data-testid=step-slider]').value >= 10")
    page.get_by_test_id("play-toggle").click()
    shown = int(page.get_by_test_id("step-slider").input_value())
    page.wait_for_load_state("networkidle")
    # the steps fetched while playing, the first (fetched ahead before play) and those
    # fetched ahead of the last shown left out
    sent = sum(size for url, size in page.evaluate(API_ANSWERS)
               if step_of(url) is not None and 2 <= step_of(url) <= shown)
    kb_per_step = sent / 1024 / (shown - 1)
    assert kb_per_step * PLAY_RATE / 1024 <= PLAY_MB_S, f"{kb_per_step:.1f} KB a step"


def full_tensor(page, server, run_id, t, layer, name):
    answer = page.request.get(f"{server}/api/runs/{run_id}/steps/{t}?layers={layer}").json()
    entry = answer["layers"][0]
    groups = [entry["linear_cache"], entry["activation_cache"], entry["grads"], entry]
    return next(g[name] for g in groups if name in g)["data"]


def open_formula(page, name, fx, fy):
    """Click the heatmap of `name` and read the formula: (row, col, exact value, text)."""
    page.keyboard.press("Escape")
    page.mouse.click(*slot_point(page, name, fx, fy))
    formula = page.get_by_test_id("cell-formula")
    expect(formula).to_contain_text(f"{name} at row")
    text = formula.inner_text()
    where = re.search(rf"{name} at row (\d+), column (\d+) = ({NUMBER}) \(exact\)", text)
    return int(where[1]), int(where[2]), float(where[3]), text


# (tensor, where on its heatmap): W, dW and db are whole; Z and dA are block means
CELLS = [("W", 0.7, 0.6), ("Z", 0.3, 0.4), ("dW", 0.4, 0.8), ("dA", 0.8, 0.2), ("db", 0.5, 0.3)]


def test_the_formula_shows_exact_numbers_in_narrow_requests(page, server):
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, "?it=5&phase=backward-2&layer=2")
    run_id = answer.value.json()["id"]
    full = {name: full_tensor(page, server, run_id, 5, 2, name) for name, _, _ in CELLS}
    dZ, A_prev = (full_tensor(page, server, run_id, 5, 2, name) for name in ("dZ", "A_prev"))
    page.get_by_test_id("view-cache").evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_load_state("networkidle")
    more_digits = 0
    for name, fx, fy in CELLS:
        before = len(page.recorder.requests)
        row, col, exact, text = open_formula(page, name, fx, fy)
        value = full[name][row][col]
        assert exact == pytest.approx(value, rel=1e-9, abs=1e-15), name
        more_digits += len(re.sub(r"[-.]|e.*|^0+", "", repr(exact)).lstrip("0")) > 4
        if name == "dW":  # the first terms of the sum over the batch, and m
            terms = re.findall(rf"\(({NUMBER})\)\(({NUMBER})\)", text)
            assert "m = 320" in text and len(terms) == 4
            for j, (dz, a) in enumerate(terms):
                assert float(dz) == pytest.approx(dZ[row][j], rel=1e-3, abs=1e-12)
                assert float(a) == pytest.approx(A_prev[col][j], rel=1e-3, abs=1e-12)
        page.wait_for_load_state("networkidle")
        asked = [u for u in page.recorder.requests[before:] if "/steps/" in u]
        assert asked and all("example=" in u for u in asked), asked  # one column at a time
    # the page itself holds 4 digits of W and dW and a byte a cell of Z and dA
    assert more_digits >= 3


DECODED = """async ([urls, path]) => {
  const {decodeTensors} = await import('/static/js/tensors.js');
  const get = async (u) => decodeTensors(await (await fetch(u)).json());
  const answers = await Promise.all(urls.map(get));
  return answers.map((a) => path.reduce((o, k) => o[k], a));
}"""


@pytest.mark.parametrize(("config", "route", "path"), [
    (DIVERGENT, "?layers=2&fields=dZ", ["layers", 0, "grads", "dZ"]),
    (DIVERGENT, "?layers=3&fields=dZ&max_cells=2048", ["layers", 0, "grads", "dZ"]),
    (DIVERGED["regression"], "/boundary?resolution=30", ["output"])],
    ids=["dZ", "dZ averaged", "boundary"])
def test_the_page_decodes_bytes_to_the_served_numbers(page, server, config, route, path):
    """tensors.js turns encoding=u8 and u8delta answers back into the rows every view reads:
    the engine's numbers within (hi - lo)/508 (and the digits that carries), null where the
    number is not finite, on a diverged step that has both."""
    open_page(page, server, "?it=1")
    info = post_run(page.request, server, config).json()
    base = f"{server}/api/runs/{info['id']}/steps/{info['diverged']['step']}{route}"
    sep = "&" if "?" in route else "?"
    exact, u8, delta = page.evaluate(DECODED, [[base, f"{base}{sep}encoding=u8",
                                                f"{base}{sep}encoding=u8delta"], path])
    finite = [v for row in exact["data"] for v in row if v is not None]
    assert finite and len(finite) < exact["shape"][0] * exact["shape"][1]  # both kinds
    precision = (max(finite) - min(finite)) / 508
    for lean in (u8, delta):
        assert lean["shape"] == exact["shape"] and "bytes" not in lean
        assert lean.get("downsampled_from") == exact.get("downsampled_from")
        assert lean["precision"] == pytest.approx(precision, rel=1e-12)
        cells = zip(itertools.chain(*exact["data"]), itertools.chain(*lean["data"]), strict=True)
        for want, got in cells:
            assert (want is None) == (got is None)
            assert want is None or abs(got - want) <= 1.5 * precision * (1 + 1e-9)
