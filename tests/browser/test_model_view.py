""""What the model does" draws the engine's numbers: the decision boundary, the class map
and the fitted curve are the boundary route's grid (CONTRACT §4), read back from what the
page shows under the mouse, at the display precision the page asks for (a byte a grid
point: within (hi - lo)/508 of the engine's value); data with more features shows the
confusion matrix of the engine's predicted classes."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import is_run_post, open_page

NUMBER = r"[-+]?\d[\d.]*(?:e[-+]?\d+)?"
# points of the plot area, as fractions across and up
POINTS = [(0.1, 0.1), (0.3, 0.7), (0.5, 0.5), (0.62, 0.38), (0.9, 0.85)]
RESOLUTION = re.compile(r"/steps/(\d+)/boundary\?resolution=(\d+)")


def plot_area(page):
    """The screen box of the model view's axes (Plotly's plot area)."""
    return page.evaluate("""() => {
      const gd = document.querySelector('#view-boundary .plot'), s = gd._fullLayout._size;
      const box = gd.getBoundingClientRect();
      return {x: box.left + s.l, y: box.top + s.t, w: s.w, h: s.h};
    }""")


def tip_at(page, fx, fy) -> str:
    box = plot_area(page)
    page.mouse.move(box["x"] + fx * box["w"], box["y"] + (1 - fy) * box["h"])
    tip = page.locator(".tooltip")
    expect(tip).to_be_visible()
    return tip.inner_text()


def served_boundary(page, server, run_id, t, resolution):
    url = f"{server}/api/runs/{run_id}/steps/{t}/boundary?resolution={resolution}"
    return page.request.get(url).json()


def display_precision(page, url, key="output"):
    """The largest error of a value of the boundary the page asked for (url): half a byte's
    step of its range, (hi - lo)/508 (docs/api.md, Lean answers)."""
    lean = page.request.get(url).json()[key]
    return (lean["hi"] - lean["lo"]) / 508


def shown_close(shown, exact, precision):
    """A printed value (4 digits) is the served value at the page's display precision."""
    return shown == pytest.approx(exact, rel=1e-3, abs=2 * precision + 1e-9)


def grid_index(points, v):
    index = min(range(len(points)), key=lambda k: abs(points[k] - v))
    assert points[index] == pytest.approx(v, rel=1e-3, abs=1e-3)  # printed to 4 digits
    return index


def opened(page, server, query):
    """(run id, the boundary requests the page made: [(step, resolution, url)])."""
    asked = []
    page.on("request", lambda r: (m := RESOLUTION.search(r.url)) and asked.append(
        (int(m[1]), int(m[2]), r.url)))
    with page.expect_response(is_run_post) as answer:
        open_page(page, server, query)
    page.locator("#view-boundary").scroll_into_view_if_needed()
    return answer.value.json()["id"], asked


def test_boundary_heatmap_is_the_served_probability(page, server):
    run_id, asked = opened(page, server, "?it=10")
    t, resolution, url = next(a for a in asked if a[0] == 10)
    served = served_boundary(page, server, run_id, t, resolution)
    assert served["kind"] == "classification"
    precision = display_precision(page, url)
    assert precision < 0.002  # a byte on P's range of at most [0, 1]
    for fx, fy in POINTS:
        text = tip_at(page, fx, fy)
        x1, x2, p = (float(v) for v in re.search(
            rf"x₁ = ({NUMBER}), x₂ = ({NUMBER})\nP\(y = 1\) = ({NUMBER})", text).groups())
        i, j = grid_index(served["y"], x2), grid_index(served["x"], x1)
        assert shown_close(p, served["output"]["data"][i][j], precision)
    expect(page.locator("#view-boundary .caption")).to_contain_text("evaluated by the engine")


def test_boundary_follows_the_iteration(page, server):
    run_id, asked = opened(page, server, "?it=10")
    page.get_by_test_id("step-next").click()
    expect(page.get_by_test_id("step-label")).to_contain_text("iteration 11 ")
    page.wait_for_function("() => document.querySelector('#view-boundary .caption')"
                           ".textContent.includes('iteration 11')")
    url = next(url for t, _, url in asked if t == 11)
    before = served_boundary(page, server, run_id, 10, 60)["output"]["data"]
    after = served_boundary(page, server, run_id, 11, 60)["output"]["data"]
    text = tip_at(page, 0.5, 0.5)
    x1, x2, p = (float(v) for v in re.search(
        rf"x₁ = ({NUMBER}), x₂ = ({NUMBER})\nP\(y = 1\) = ({NUMBER})", text).groups())
    served = served_boundary(page, server, run_id, 11, 60)
    i, j = grid_index(served["y"], x2), grid_index(served["x"], x1)
    assert before[i][j] != after[i][j]
    assert shown_close(p, after[i][j], display_precision(page, url))


def test_multiclass_map_is_the_served_class_and_probability(page, server):
    run_id, asked = opened(page, server, "?dataset=spiral&hidden_layers=16,16&it=150")
    t, resolution, url = next(a for a in asked if a[0] == 150)
    served = served_boundary(page, server, run_id, t, resolution)
    assert served["kind"] == "multiclass"
    precision = display_precision(page, url, "probability")
    classes = set()
    for fx, fy in POINTS:
        text = tip_at(page, fx, fy)
        x1, x2, k, p = re.search(rf"x₁ = ({NUMBER}), x₂ = ({NUMBER})\npredicted class (\d+) "
                                 rf"with P = ({NUMBER})", text).groups()
        i, j = grid_index(served["y"], float(x2)), grid_index(served["x"], float(x1))
        assert int(k) == served["output"]["data"][i][j]  # a class: always exact
        assert shown_close(float(p), served["probability"]["data"][i][j], precision)
        classes.add(int(k))
    assert len(classes) >= 2


def test_fitted_curve_is_the_served_fit(page, server):
    run_id, asked = opened(page, server, "?dataset=sine&it=100")
    t, resolution, url = next(a for a in asked if a[0] == 100)
    served = served_boundary(page, server, run_id, t, resolution)
    assert served["kind"] == "regression" and "y" not in served
    precision = display_precision(page, url)
    for fx, _ in POINTS:
        x, y_hat = (float(v) for v in re.search(rf"x = ({NUMBER}): ŷ = ({NUMBER})",
                                                tip_at(page, fx, 0.5)).groups())
        j = min(range(len(served["x"])), key=lambda k: abs(served["x"][k] - x))
        assert served["x"][j] == pytest.approx(x, rel=1e-2, abs=1e-2)  # printed to 3 digits
        assert shown_close(y_hat, served["output"]["data"][0][j], precision)


@pytest.mark.parametrize("query", ["?dataset=iris&it=20",
                                   "?dataset=digits&hidden_layers=8&batch_size=64&it=20"])
def test_wide_data_shows_the_confusion_matrix_and_asks_no_grid(page, server, query):
    """The matrix counts the engine's predicted classes (the predictions route) against Y:
    over a full batch, its accuracy is the summary's training accuracy."""
    predictions = []
    page.on("request", lambda r: "/predictions" in r.url and predictions.append(r.url))
    run_id, asked = opened(page, server, query)
    caption = page.locator("#view-boundary .caption")
    expect(caption).to_contain_text("Confusion matrix")
    assert asked == []
    assert any("/steps/20/predictions" in url for url in predictions)
    shown = float(re.search(r"accuracy ([\d.]+) %", caption.inner_text())[1])
    answer = page.request.get(f"{server}/api/runs/{run_id}/steps/20/predictions").json()
    batch = page.request.get(f"{server}/api/runs/{run_id}/steps/20?fields=Y").json()["batch"]
    Y = batch["Y"]["data"]
    truth = [max(range(len(Y)), key=lambda k: Y[k][j]) for j in range(len(Y[0]))]
    right = sum(p == y for p, y in zip(answer["classes"], truth, strict=True))
    assert shown == pytest.approx(100 * right / len(truth), abs=0.05)
    if "batch_size" not in query:
        summary = page.request.get(f"{server}/api/runs/{run_id}/summary").json()
        assert shown == pytest.approx(100 * summary["train_accuracy"][20], abs=0.05)


def test_a_fit_off_the_plot_says_where_it_went(page, server):
    """sine at α = 10 before it diverges: ŷ reaches 1e147 everywhere, far above the data's
    axis, so no curve shows; the caption says where it went."""
    run_id, asked = opened(page, server,
                           "?dataset=sine&hidden_layers=16,16&learning_rate=10&steps=200&it=130")
    t, resolution, _ = next(a for a in asked if a[0] == 130)
    served = served_boundary(page, server, run_id, t, resolution)["output"]["data"][0]
    assert min(abs(v) for v in served) > 1e10
    caption = page.locator("#view-boundary .caption")
    expect(caption).to_contain_text("the curve is off the plot: ŷ runs from")
    low, high = (float(v) for v in re.search(rf"runs from ({NUMBER}) to ({NUMBER})",
                                             caption.text_content()).groups())
    assert low == pytest.approx(min(served), rel=1e-2) and high == pytest.approx(max(served),
                                                                                  rel=1e-2)
