"""The cache inspector: a clicked cell's formula opens where the learner looks, hover and
click agree on block-averaged heatmaps, "per run" colours come from the whole run, and
the update phase shows the weights it writes. Heatmaps and hovers show display precision
(a byte a cell, 4 digits for the parameters); a click gives the exact value."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    Recorder,
    is_run_post,
    open_page,
    redraws,
    slot_point,
    step_tensor,
    wait_redrawn,
)

NUMBER = r"[-+]?\d[\d.]*(?:e[-+]?\d+)?"
BLOCK = (rf"mean of a (\d+)×(\d+) block of (\d+) cells \(rows? (\d+)(?:–(\d+))?, "
         rf"columns? (\d+)(?:–(\d+))?\) ([=≈]) ({NUMBER})")


def scroll_under_controls(page, test_id):
    """Scroll the element to the top of the window, just under the sticky controls."""
    page.get_by_test_id(test_id).evaluate("""el => {
      const under = document.querySelector('.controls').getBoundingClientRect().bottom;
      window.scrollBy(0, el.getBoundingClientRect().top - under - 4);
    }""")


# (window, what is scrolled to just under the sticky controls): on a laptop the learner
# reads the heatmaps from the top of the inspector; on a phone, the one heatmap clicked
WINDOWS = [(1280, 720, "view-cache"), (390, 844, "cache-slot-dZ")]


@pytest.mark.parametrize(("width", "height", "top"), WINDOWS, ids=["1280", "390"])
def test_a_clicked_cells_formula_opens_beside_it_on_screen(page, server, width, height, top):
    page.set_viewport_size({"width": width, "height": height})
    open_page(page, server, "?it=5&phase=backward-2&layer=2")
    scroll_under_controls(page, top)
    x, y = slot_point(page, "dZ", 0.5, 0.5)  # the bottom row of heatmaps
    assert y < height, "the dZ heatmap itself is on screen"
    page.mouse.click(x, y)
    formula = page.get_by_test_id("cell-formula")
    expect(formula).to_contain_text("dZ[2]")
    box = formula.bounding_box()
    under = page.locator(".controls").bounding_box()
    # wholly on screen, below the sticky controls
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert box["y"] >= under["y"] + under["height"] - 1 and box["y"] + box["height"] <= height
    # beside the click: within 60 px of it
    dx = max(box["x"] - x, 0, x - box["x"] - box["width"])
    dy = max(box["y"] - y, 0, y - box["y"] - box["height"])
    assert dx <= 60 and dy <= 60, (box, x, y)
    page.keyboard.press("Escape")
    expect(formula).to_be_hidden()


def test_hover_names_the_block_and_the_click_gives_the_exact_value(page, server):
    """Z[2] of the default run is 8 × 320, drawn in 2048 cells: each drawn cell is the mean
    of a block. Hover says so and gives that mean, at the display precision the page asked
    for (a byte a cell on Z's range); the click gives the entry's own exact value, with one
    narrow request, and none while the mouse moves."""
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, "?it=5&phase=forward-2&layer=2")
    run_id = answer.value.json()["id"]
    Z = step_tensor(page, server, run_id, 5, 2, "Z")
    lean = page.request.get(f"{server}/api/runs/{run_id}/steps/5?layers=2&fields=Z"
                            "&max_cells=2048&encoding=u8").json()
    drawn = lean["layers"][0]["activation_cache"]["Z"]
    precision = (drawn["hi"] - drawn["lo"]) / 508  # half a byte's step
    legend = page.locator(".panel-cache .legend")
    expect(legend).not_to_contain_text("hover for exact values")
    expect(legend).to_contain_text("hover: a value or a block's mean")
    page.get_by_test_id("view-cache").evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_load_state("networkidle")  # the neighbouring steps, fetched ahead
    steps = lambda: len([u for u in page.recorder.requests  # noqa: E731
                         if "/steps/" in u and "/gradcheck" not in u])
    before = steps()
    for fx in (0.13, 0.37, 0.61, 0.86):
        page.mouse.move(*slot_point(page, "Z", fx, 0.45))
        tip = page.locator(".tooltip").inner_text()
        m = re.search(BLOCK, tip)
        assert m, tip
        rows, cols, count = int(m[1]), int(m[2]), int(m[3])
        r0, c0 = int(m[4]), int(m[6])
        r1, c1 = int(m[5] or r0), int(m[7] or c0)
        assert (r1 - r0 + 1, c1 - c0 + 1) == (rows, cols) and rows * cols == count > 1
        block = [Z[i][j] for i in range(r0, r1 + 1) for j in range(c0, c1 + 1)]
        # sent as a byte: "≈", and no digit finer than the precision (the last one shown
        # right or one off), where "0.093" read as exact for 0.0908
        assert m[8] == "≈", tip
        last_place = 10.0 ** -len(m[9].partition(".")[2])
        assert last_place >= precision, tip
        assert float(m[9]) == pytest.approx(sum(block) / count,
                                            abs=1.5 * precision + last_place / 2), tip
    assert steps() == before, "no request per mouse move"
    page.mouse.down()
    page.mouse.up()
    formula = page.get_by_test_id("cell-formula")
    expect(formula).to_contain_text("(exact)")
    where = re.search(rf"Z at row (\d+), column (\d+) = ({NUMBER}) \(exact\)", formula.inner_text())
    row, col = int(where[1]), int(where[2])
    assert (r0 <= row <= r1) and (c0 <= col <= c1), "the entry under the pointer, in its block"
    assert float(where[3]) == pytest.approx(Z[row][col], rel=1e-9, abs=1e-12)
    page.wait_for_load_state("networkidle")
    assert steps() <= before + 1
    # the formula says all the tip would: no tip over it while the mouse stays on the cell
    expect(page.locator(".tooltip")).to_be_hidden()
    x, y = slot_point(page, "Z", 0.86, 0.45)
    page.mouse.move(x + 0.5, y)
    expect(page.locator(".tooltip")).to_be_hidden()
    page.mouse.move(x + 4, y)  # another cell of this dense heatmap, on the clicked spot
    expect(page.locator(".tooltip")).to_be_hidden()
    page.mouse.move(*slot_point(page, "Z", 0.86, 0.05))  # another cell: its tip
    expect(page.locator(".tooltip")).to_be_visible()


RUN_VIEW = "?it=200&phase=update&layer=2&scale=run"
PIXELS = ("() => [...document.querySelectorAll('#view-cache canvas.heatmap')]"
          ".map(c => c.toDataURL()).join()")


def test_per_run_colours_do_not_depend_on_the_steps_seen_before(page, server, context):
    open_page(page, server, RUN_VIEW.replace("it=200", "it=0"))
    before = redraws(page)
    page.locator("#jump").fill("200")
    page.locator("#jump").press("Enter")
    wait_redrawn(page, before)
    expect(page).to_have_url(re.compile(re.escape(RUN_VIEW[1:]).replace("&", "&.*")))
    page.wait_for_timeout(300)
    after_visit = page.evaluate(PIXELS)

    direct = context.new_page()
    recorder = Recorder(direct)
    try:
        open_page(direct, server, RUN_VIEW)
        direct.wait_for_timeout(300)
        assert direct.evaluate(PIXELS) == after_visit
        # every heatmap, dZ and dA included, has its range over the run from the server
        sources = direct.locator(".slot:not([hidden]) .colour-bar").evaluate_all(
            "bars => bars.map(b => b.dataset.from)")
        assert sources == ["run"] * 9
        assert recorder.errors == []
    finally:
        direct.close()


def test_update_phase_shows_the_weights_after_the_update(page, server):
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, "?it=5&phase=update&layer=2")
    run_id = answer.value.json()["id"]
    W5, W6 = (step_tensor(page, server, run_id, t, 2, "W") for t in (5, 6))
    cache = page.get_by_test_id("view-cache")
    expect(cache).to_contain_text("after the update: θ of iteration 6")
    cache.evaluate("el => el.scrollIntoView({block: 'center'})")
    moved = 0
    for fy in (0.06, 0.31, 0.56, 0.81):  # rows 0, 2, 4 and 6 of W[2] (8 × 8)
        for fx in (0.06, 0.56):
            page.mouse.move(*slot_point(page, "W", fx, fy))
            tip = page.locator(".tooltip").inner_text()
            m = re.search(rf"W\[2\]\[row (\d+), col (\d+)\] after the update = ({NUMBER})", tip)
            i, j = int(m[1]), int(m[2])
            # the parameters' display precision: 4 significant digits
            assert float(m[3]) == pytest.approx(W6[i][j], rel=5e-4, abs=1e-12), tip
            moved += W5[i][j] != W6[i][j]
    assert moved >= 2  # θ_{t+1}, not θ_t: the update changed these weights


def test_the_last_update_says_there_is_no_next_iteration(page, server):
    open_page(page, server, "?it=299&phase=update&layer=1")
    expect(page.get_by_test_id("view-cache")).to_contain_text("no iteration 300 is recorded")


def test_a_cells_hover_is_approximate_to_the_digits_its_byte_carries(page, server):
    """A learner compared hovers with the formula's exact value: Z[2] read "= 0.093" for
    0.0908. A value sent as a byte reads "≈", with no digit finer than its precision."""
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, "?hidden_layers=6,4&batch_size=64&it=3&phase=forward-2&layer=2")
    run_id = answer.value.json()["id"]
    Z = step_tensor(page, server, run_id, 3, 2, "Z")  # 4 × 64: one drawn cell an entry
    precision = (max(max(r) for r in Z) - min(min(r) for r in Z)) / 508
    page.get_by_test_id("view-cache").evaluate("el => el.scrollIntoView({block: 'center'})")
    for fx in (0.1, 0.35, 0.6, 0.85):
        page.mouse.move(*slot_point(page, "Z", fx, 0.5))
        tip = page.locator(".tooltip").inner_text()
        m = re.search(rf"Z\[2\]\[row (\d+), col (\d+)\] ≈ ({NUMBER})", tip)
        assert m, tip
        decimals = m[3].partition(".")[2]
        assert 10.0 ** -len(decimals) >= precision, tip
        assert float(m[3]) == pytest.approx(Z[int(m[1])][int(m[2])],
                                            abs=1.5 * precision + 10.0 ** -len(decimals) / 2)
