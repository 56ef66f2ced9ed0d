"""The loss view (static/js/views/loss_view.js) as a learner reads it: which accuracy is of
the step's own batch and which of the whole sets, every k-th step in a mini-batch run."""

from playwright.sync_api import expect

from app.run_ids import encode_run_id
from engine.config import normalize_config
from tests.browser.conftest import open_page

# 320 training examples in batches of 32: the whole sets are scored every 17th step
MINI_BATCH = {"dataset": "moons", "batch_size": 32, "steps": 120}
TRACES = "gd => gd.data.map(d => ({name: d.name, mode: d.mode, y: d.y}))"


def test_a_mini_batch_run_tells_its_batch_accuracy_from_the_whole_sets(page, server):
    run_id = encode_run_id(normalize_config(MINI_BATCH))
    open_page(page, server, f"?run={run_id}&it=50")
    summary = page.request.get(f"{server}/api/runs/{run_id}/summary").json()
    k = summary["evaluated_every"]
    assert k > 1
    sets = {f"train accuracy (every {k} steps)": "train_accuracy",
            f"test accuracy (every {k} steps)": "test_accuracy"}
    traces = {t["name"]: t for t in page.locator("#view-loss .plot").evaluate(TRACES)}
    assert set(traces) == {"cost J", "batch accuracy", *sets}
    assert traces["batch accuracy"]["y"] == summary["batch_accuracy"]
    for name, key in sets.items():
        # the steps not scored stay null: gaps between dots, not zeros
        assert traces[name]["y"] == summary[key] and traces[name]["mode"] == "markers"
        scored = [t for t, v in enumerate(traces[name]["y"]) if v is not None]
        assert scored == sorted({*range(0, 120, k), 119})
    legend = page.locator("#view-loss .legendtext").all_text_contents()
    assert {"batch accuracy", *sets} <= set(legend)
    caption = page.locator("#view-loss .caption")
    expect(caption).to_contain_text("iteration 50: J = ")
    expect(caption).to_contain_text("batch accuracy ")
    expect(caption).to_contain_text(f"(measured at iteration {50 - 50 % k})")


def test_a_full_batch_run_draws_its_train_accuracy_at_every_step(page, server):
    open_page(page, server, "?it=3")
    traces = {t["name"]: t for t in page.locator("#view-loss .plot").evaluate(TRACES)}
    # a full batch's own accuracy is its train accuracy: drawn once
    assert set(traces) == {"cost J", "train accuracy", "test accuracy"}
    assert traces["train accuracy"]["mode"] == "lines"
    assert None not in traces["train accuracy"]["y"]
    expect(page.locator("#view-loss .caption")).not_to_contain_text("batch accuracy")


def test_the_current_step_and_an_r2_off_the_plot_are_told_apart(page, server):
    """sine at α = 5 diverges: its R² falls to about −4e165, far below the axis's −1, and the
    caption says so; the current step's marker is a ring unlike any score's dots."""
    open_page(page, server, "?dataset=sine&hidden_layers=16,16&learning_rate=5&it=3")
    caption = page.locator("#view-loss .caption")
    expect(caption).to_contain_text("R² below −1 (worse than predicting the mean) is off the plot")
    colours = page.locator("#view-loss .plot").evaluate(
        "gd => gd.data.flatMap(d => [d.marker && d.marker.color, d.line && d.line.color])")
    ring = page.locator("#view-loss .plot").evaluate(
        "gd => gd.layout.shapes.filter(s => s.type === 'circle')[0].fillcolor")
    assert ring not in colours, (ring, colours)
