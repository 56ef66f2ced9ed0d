"""Pictures of what the network learned: a thumbnail per hidden unit over the input plane
(2-D data), fetched only while its panel is open and on screen; and digits as 8 × 8
pictures (the example, W[1]'s templates, the output with the true class marked), drawn from
the frame's served numbers."""

import base64
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PAGE_PLOTS, is_run_post, open_page, redraws, wait_redrawn

UNITS = re.compile(r"/steps/(\d+)/units\?layer=(\d+)&units=([\d,]+)&resolution=(\d+)$")
NUMBER = r"[-+]?\d[\d.]*(?:e[-+]?\d+)?"
DIGITS = "?dataset=digits&hidden_layers=32,16&it=20&ex=5"
DIVERGED = ("?learning_rate=10&steps=60&hidden_layers=64,64,64,64,64,64&init=uniform"
            "&it=7&layer=5")


def units_asked(page):
    """(step, layer, units, resolution) of every units request the page made, in order."""
    return [(int(m[1]), int(m[2]), m[3], int(m[4]))
            for url in page.recorder.requests if (m := UNITS.search(url))]


def open_run(page, server, query, plots=PAGE_PLOTS):
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, query, plots)
    return answer.value.json()["id"]


def show_units(page):
    page.locator("#panel-units").scroll_into_view_if_needed()


def thumbnails(page):
    return page.locator("#view-units .unit-map")


def served_units(page, server, run_id, t, layer, units):
    url = f"{server}/api/runs/{run_id}/steps/{t}/units?layer={layer}&units={units}&resolution=24"
    return page.request.get(url).json()


def value_at(unit, answer, i, j):
    """The value that the served byte of grid point (x[j], y[i]) stands for."""
    k = base64.b64decode(unit["bytes"])[i * answer["resolution"] + j]
    f = k / answer["levels"]
    return unit["lo"] * (1 - f) + unit["hi"] * f


def test_moons_thumbnails_are_the_served_maps_once_shown(page, server):
    run_id = open_run(page, server, "?it=150")
    assert units_asked(page) == []  # below the first screen: not shown, not fetched
    show_units(page)
    expect(thumbnails(page)).to_have_count(8)
    assert (150, 1, "0,1,2,3,4,5,6,7", 24) in units_asked(page)
    labels = [re.match(r"A\[1\]_\d+", t)[0] for t in
              thumbnails(page).locator("figcaption").all_inner_texts()]
    assert labels == [f"A[1]_{i}" for i in range(8)]
    answer = served_units(page, server, run_id, 150, 1, "0,1,2,3,4,5,6,7")
    canvases = thumbnails(page).locator("canvas")
    for k, unit in enumerate(answer["units"]):
        text = canvases.nth(k).get_attribute("aria-label")
        lo, hi = (float(v) for v in re.search(rf"from ({NUMBER}) to ({NUMBER})", text).groups())
        assert (lo, hi) == (pytest.approx(unit["lo"], rel=1e-3, abs=1e-9),
                            pytest.approx(unit["hi"], rel=1e-3))
    assert canvases.first.evaluate("c => [c.width, c.height]") == [24, 24]
    # the point under the mouse: its column j across, its row from the top (x₂ falls)
    box = canvases.nth(3).bounding_box()
    page.mouse.move(box["x"] + box["width"] * 12.5 / 24, box["y"] + box["height"] * 4.5 / 24)
    tip = page.locator(".tooltip")
    expect(tip).to_be_visible()
    shown = float(re.search(rf"A = ({NUMBER})", tip.inner_text())[1])
    assert shown == pytest.approx(value_at(answer["units"][3], answer, 23 - 4, 12),
                                  rel=1e-3, abs=1e-9)
    page.get_by_test_id("step-next").click()
    expect(page.locator("#view-units .caption")).to_contain_text("iteration 151")
    assert any(step == 151 for step, *_ in units_asked(page))


def test_the_learner_picks_up_to_eight_units_with_the_keyboard(page, server):
    open_run(page, server, "?hidden_layers=12,8&it=20")
    show_units(page)
    expect(thumbnails(page)).to_have_count(8)
    boxes = page.locator("#view-units .unit-picker input[type=checkbox]")
    expect(boxes).to_have_count(12)
    assert [boxes.nth(i).is_checked() for i in range(12)] == [True] * 8 + [False] * 4
    assert [boxes.nth(i).is_disabled() for i in range(8, 12)] == [True] * 4  # 8 at most
    boxes.nth(0).focus()
    page.keyboard.press("Space")
    expect(boxes.nth(10)).to_be_enabled()
    boxes.nth(10).focus()
    page.keyboard.press("Space")
    expect(thumbnails(page).locator("figcaption", has_text="A[1]_10")).to_have_count(1)
    expect(thumbnails(page).locator("figcaption", has_text="A[1]_0 ")).to_have_count(0)
    assert (20, 1, "1,2,3,4,5,6,7,10", 24) in units_asked(page)
    page.locator("#view-units .unit-picker button").click()  # back to the first 8
    expect(thumbnails(page).locator("figcaption", has_text="A[1]_0 ")).to_have_count(1)


def test_the_output_layer_selected_shows_the_last_hidden_layer(page, server):
    open_run(page, server, "?it=5&layer=3")
    show_units(page)
    expect(thumbnails(page)).to_have_count(8)
    expect(page.locator("#view-units .caption")).to_contain_text("Layer 3 is the output")
    assert {layer for _, layer, *_ in units_asked(page)} == {2}
    expect(thumbnails(page).first.locator("figcaption")).to_contain_text("A[2]_0")


def test_a_closed_panel_fetches_nothing_until_opened(page, server):
    open_run(page, server, "?it=40")
    show_units(page)
    expect(thumbnails(page)).to_have_count(8)
    page.locator("#panel-units > summary").press("Space")  # the keyboard closes it
    expect(page.locator("#view-units")).to_be_hidden()
    asked = len(units_asked(page))
    before = redraws(page)
    page.get_by_test_id("step-next").click()
    wait_redrawn(page, before)
    page.get_by_test_id("step-next").click()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 42 ")
    page.wait_for_timeout(300)
    assert len(units_asked(page)) == asked
    page.locator("#panel-units > summary").click()
    expect(page.locator("#view-units .caption")).to_contain_text("iteration 42")
    assert units_asked(page)[asked][0] == 42


def test_the_presenter_layout_fetches_no_thumbnails(page, server):
    open_run(page, server, "?layout=presenter&it=3", plots=1)
    before = redraws(page)
    page.get_by_test_id("step-next").click()
    wait_redrawn(page, before)
    page.wait_for_timeout(300)
    assert units_asked(page) == []


def test_a_diverged_step_marks_points_that_are_not_finite(page, server):
    open_run(page, server, DIVERGED)
    expect(page.get_by_test_id("alert")).to_contain_text("diverged at iteration 7")
    show_units(page)
    expect(thumbnails(page)).to_have_count(8)
    labels = thumbnails(page).locator("canvas").evaluate_all("cs => cs.map(c => c.ariaLabel)")
    assert any(re.search(r"\d+ of 576 points not finite", text) for text in labels), labels
    grey = thumbnails(page).locator("canvas").first.evaluate("""c => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let o = 0; o < d.length; o += 4) n += d[o] === 127 && d[o + 1] === 127 &&
        d[o + 2] === 127;
      return n; }""")
    assert grey > 0


def served_example(page, server, run_id, t, example):
    url = f"{server}/api/runs/{run_id}/steps/{t}?example={example}&fields=X,Y,A,W"
    return page.request.get(url).json()


def examples_asked(page):
    return [url for url in page.recorder.requests if "/examples/" in url]


def ink_at(canvas, r, c):
    """The drawn colour of the image's pixel (r, c), as [red, green, blue]."""
    return canvas.evaluate(
        "(c, [r, k]) => [...c.getContext('2d').getImageData(k, r, 1, 1).data.slice(0, 3)]",
        [r, c])


def test_digits_show_the_example_the_templates_and_the_output(page, server):
    run_id = open_run(page, server, DIGITS)
    page.locator("#panel-digits").scroll_into_view_if_needed()
    expect(page.locator("#panel-units")).to_be_hidden()
    view = page.get_by_test_id("view-digits")
    image = view.locator(".digit-image canvas")
    expect(image).to_have_count(1)
    assert image.evaluate("c => [c.width, c.height]") == [8, 8]
    # the digit as written: the served pixels, white paper (0) to black ink (16)
    expect(image).to_have_attribute("aria-label", re.compile(r"^example 5: the digit as written"))
    pixels = page.request.get(f"{server}/api/runs/{run_id}/examples/5").json()["pixels"]
    assert image.get_attribute("data-pixels") == ",".join(" ".join(map(str, row))
                                                          for row in pixels)
    for level in (0, max(map(max, pixels))):  # white paper, the darkest ink
        r, c = next((r, c) for r in range(8) for c in range(8) if pixels[r][c] == level)
        grey = 255 * (1 - level / 16)
        assert ink_at(image, r, c) == [pytest.approx(grey, abs=1.5)] * 3, (level, r, c)
    assert examples_asked(page) == [f"{server}/api/runs/{run_id}/examples/5"]
    served = served_example(page, server, run_id, 20, 5)
    W1 = served["layers"][0]["linear_cache"]["W"]["data"]
    templates = view.locator(".digit-template canvas")
    expect(templates).to_have_count(len(W1))
    assert templates.nth(31).evaluate("c => [c.width, c.height]") == [8, 8]
    s = max(abs(v) for row in W1 for v in row)
    scale = float(re.search(rf"red \+({NUMBER})", templates.first.get_attribute("aria-label"))[1])
    assert scale == pytest.approx(s, rel=1e-3)
    # the bars: the served output column, the true class from the served Y column
    output = [row[0] for row in served["layers"][-1]["A"]["data"]]
    truth = [row[0] for row in served["batch"]["Y"]["data"]].index(1)
    predicted = output.index(max(output))
    bars = view.locator(".digit-bar")
    expect(bars).to_have_count(10)
    expect(view.locator(".digit-bar.true-class")).to_have_attribute("data-class", str(truth))
    expect(view.locator(".digit-bar.true-class")).to_contain_text("true")
    expect(view.locator(".digit-verdict")).to_contain_text(
        f"predicted {predicted} (A = ")
    drawn = [float(t) for t in view.locator(".digit-value").all_inner_texts()]
    assert drawn == pytest.approx(output, rel=5e-3, abs=1e-12)  # printed to 3 digits
    assert units_asked(page) == []


def test_digits_follow_the_chosen_example(page, server):
    open_run(page, server, DIGITS)
    page.locator("#panel-digits").scroll_into_view_if_needed()
    image = page.locator("#view-digits .digit-image canvas")
    expect(image).to_have_attribute("aria-label", re.compile(r"^example 5: "))
    page.locator("#example").select_option("9")
    expect(image).to_have_attribute("aria-label", re.compile(r"^example 9: the digit as written"))
    before = redraws(page)
    page.get_by_test_id("step-next").click()  # the same example: its picture is not asked again
    wait_redrawn(page, before)
    assert [url.rsplit("/", 1)[1] for url in examples_asked(page)] == ["5", "9"]


def test_a_zero_inits_units_say_every_A_is_0_not_a_range_of_0_to_0(page, server):
    open_page(page, server, "?init=zeros&it=5")
    show_units(page)
    expect(thumbnails(page)).to_have_count(8)
    legend = page.locator("#view-units .unit-legend")
    expect(legend).to_contain_text("One colour scale for every picture: every A shown is 0 (white)")
    expect(page.locator("#view-units .unit-scale-low")).to_have_text("")
