"""Heatmaps with the keyboard: Tab reaches them, arrow keys move a visible cursor cell
(and do not step the iteration while a heatmap has the focus), Enter opens the formula of
the very entry under the cursor, and Escape closes it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import is_run_post, open_page, step_tensor

NUMBER = r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"

# (tensor, layer, arrow presses, its shape): W[2] is 8 × 8 at full size; Z[2] is 8 × 320,
# drawn as block means, so the cursor moves over blocks and Enter opens a block's first entry
CASES = [("W", 2, ["ArrowDown"] * 3 + ["ArrowRight"] * 5 + ["ArrowLeft"], (8, 8)),
         ("Z", 2, ["ArrowDown"] * 2 + ["ArrowRight"] * 7, (8, 320))]


def cursor_cell(page, name):
    """(row, col) of the drawn cell the cursor outlines, from where it is on screen."""
    heatmap = page.get_by_test_id(f"cache-slot-{name}")
    drawn = heatmap.evaluate("c => [c.height, c.width]")
    box, cursor = heatmap.bounding_box(), heatmap.locator("xpath=../div[@class='cell-cursor']")
    expect(cursor).to_be_visible()
    c = cursor.bounding_box()
    # its top-left corner is the cell's (a cell narrower than a few pixels gets a wider outline)
    cell_h, cell_w = box["height"] / drawn[0], box["width"] / drawn[1]
    row = int((c["y"] - box["y"] + cell_h / 2) / cell_h)
    col = int((c["x"] - box["x"] + cell_w / 2) / cell_w)
    return (row, col), drawn


@pytest.mark.parametrize(("name", "layer", "keys", "shape"), CASES, ids=[c[0] for c in CASES])
def test_arrows_move_the_cursor_and_enter_opens_that_cells_formula(page, server, name, layer,
                                                                    keys, shape):
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, f"?it=5&phase=backward-{layer}&layer={layer}")
    full = step_tensor(page, server, answer.value.json()["id"], 5, layer, name)
    heatmap = page.get_by_test_id(f"cache-slot-{name}")
    label = re.compile(rf"^{name}\[{layer}\], {shape[0]} × {shape[1]}")
    expect(heatmap).to_have_attribute("aria-label", label)
    # Tab reaches the heatmaps in reading order: from A_prev's to W's
    page.get_by_test_id("cache-slot-A_prev").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("cache-slot-W")).to_be_focused()
    heatmap.focus()
    for key in keys:
        page.keyboard.press(key)
    expect(heatmap).to_be_focused()
    # the arrows stayed in the heatmap: the iteration did not change
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 5 ")
    rows = keys.count("ArrowDown") - keys.count("ArrowUp")
    cols = keys.count("ArrowRight") - keys.count("ArrowLeft")
    (i, j), drawn = cursor_cell(page, name)
    assert (i, j) == (rows, cols)
    page.keyboard.press("Enter")
    formula = page.get_by_test_id("cell-formula")
    expect(formula).to_contain_text("(exact)")
    where = re.search(rf"{name} at row (\d+), column (\d+) = ({NUMBER}) \(exact\)",
                      formula.inner_text())
    # the first entry of the block the cursor cell stands for (the cell itself at full size)
    block_rows, block_cols = -(-shape[0] // drawn[0]), -(-shape[1] // drawn[1])
    row, col = int(where[1]), int(where[2])
    assert (row, col) == (i * block_rows, j * block_cols)
    assert float(where[3]) == pytest.approx(full[row][col], rel=1e-9, abs=1e-15)
    page.keyboard.press("Escape")
    expect(formula).to_be_hidden()
    expect(heatmap).to_be_focused()
    page.keyboard.press("Shift+ArrowRight")  # Shift+arrows still walk the phases
    expect(page.get_by_test_id("phase-label")).not_to_have_text(f"backward · layer {layer}")
