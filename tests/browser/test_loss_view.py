"""The loss view (static/js/views/loss_view.js) as a learner reads it: which accuracy is of
the step's own batch and which of the whole sets, every k-th step in a mini-batch run."""

from playwright.sync_api import expect

from app.run_ids import encode_run_id
from engine.config import normalize_config
from tests.browser.conftest import expect_words, open_page

# 320 training examples in batches of 32: training scores the whole sets every k-th step
MINI_BATCH = {"dataset": "moons", "batch_size": 32, "steps": 120}
TRACES = "gd => gd.data.map(d => ({name: d.name, mode: d.mode, x: d.x, y: d.y}))"
SETS = {"train accuracy (whole set)": "train_accuracy", "test accuracy": "test_accuracy"}


def _served(page, server, run_id, path, params=None):
    response = page.request.get(f"{server}/api/runs/{run_id}/{path}", params=params)
    assert response.ok, response.text()
    return response.json()


def test_a_mini_batch_run_tells_its_batch_accuracy_from_the_whole_sets(page, server):
    """The batch's own accuracy at every step; the whole sets' through the steps training
    scored and the run's evenly spread scores; the caption gives this step's own."""
    run_id = encode_run_id(normalize_config(MINI_BATCH))
    open_page(page, server, f"?run={run_id}&it=50")
    summary = _served(page, server, run_id, "summary")
    spread = _served(page, server, run_id, "scores")
    k = summary["evaluated_every"]
    assert k > 1 and 50 % k and 50 not in spread["steps"]
    trained = [t for t, v in enumerate(summary["train_accuracy"]) if v is not None]
    assert trained == sorted({*range(0, 120, k), 119})
    steps = sorted({*trained, *spread["steps"]})
    # the spread scores come after the page has drawn: the lines then pass through them
    page.wait_for_function(f"gd => gd.data.some(d => d.x.length === {len(steps)})",
                           arg=page.locator("#view-loss .plot").element_handle())
    traces = {t["name"]: t for t in page.locator("#view-loss .plot").evaluate(TRACES)}
    assert set(traces) == {"cost J", "batch accuracy", *SETS}
    assert traces["batch accuracy"]["y"] == summary["batch_accuracy"]
    for name, key in SETS.items():
        assert traces[name]["mode"] == "lines+markers" and traces[name]["x"] == steps
        by_step = dict(zip(spread["steps"], spread[key], strict=True))
        by_step.update({t: summary[key][t] for t in trained})
        assert traces[name]["y"] == [by_step[t] for t in steps], name
    legend = page.locator("#view-loss .legendtext").all_text_contents()
    assert {"batch accuracy", *SETS} <= set(legend)
    # iteration 50 was not scored by training: the caption gives θ_50's, served for it
    exact = _served(page, server, run_id, "scores", {"steps": "50"})
    caption = page.locator("#view-loss .caption")
    train, test = (f"{exact[key][0]:.3f}".rstrip("0") for key in SETS.values())
    expect_words(caption, ["iteration 50: J = ", "batch accuracy ", f"train accuracy {train}",
                           f"test accuracy {test}"], ["measured at"])


def test_without_its_own_scores_the_caption_says_when_they_were_measured(page, server):
    """While playing (or with no scores route), the caption gives the last scores measured
    before the step, and says at which iteration."""
    run_id = encode_run_id(normalize_config(MINI_BATCH))
    page.route("**/scores?steps=*", lambda route: route.abort())
    page.recorder.allow("net::ERR_FAILED")  # the browser's log of the aborted requests
    open_page(page, server, f"?run={run_id}&it=50")
    spread = _served(page, server, run_id, "scores")
    summary = _served(page, server, run_id, "summary")
    measured = [t for t in sorted({*spread["steps"], *(
        t for t, v in enumerate(summary["train_accuracy"]) if v is not None)}) if t <= 50]
    page.wait_for_function(f"() => document.querySelector('#view-loss .caption').textContent"
                           f".includes('(measured at iteration {measured[-1]})')")


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
    expect(caption).to_contain_text("R² below −1 (worse than predicting the mean) is off the plot"
                                    ": it falls to −")
    colours = page.locator("#view-loss .plot").evaluate(
        "gd => gd.data.flatMap(d => [d.marker && d.marker.color, d.line && d.line.color])")
    ring = page.locator("#view-loss .plot").evaluate(
        "gd => gd.layout.shapes.filter(s => s.type === 'circle')[0].fillcolor")
    assert ring not in colours, (ring, colours)


def test_a_run_without_a_test_set_has_no_test_score(page, server):
    """Without a test set, a step's served test score is null: the caption says there is
    no test set, not that its score is not finite, and the legend has no test line."""
    config = {**MINI_BATCH, "test_fraction": 0}
    run_id = encode_run_id(normalize_config(config))
    summary = page.request.get(f"{server}/api/runs/{run_id}/summary").json()
    spread = page.request.get(f"{server}/api/runs/{run_id}/scores").json()
    trained = {t for t, v in enumerate(summary["train_accuracy"]) if v is not None}
    t = min(set(range(120)) - trained - set(spread["steps"]))
    open_page(page, server, f"?run={run_id}&it={t}")
    expect_words(page.locator("#view-loss .caption"), [f"iteration {t}: ", "no test set"],
                 ["not finite", "measured at", "test accuracy"])
    names = page.locator("#view-loss .plot").evaluate("gd => gd.data.map(d => d.name)")
    assert names == ["cost J", "batch accuracy", "train accuracy (whole set)"]


def test_the_r2_axis_holds_the_spread_scores(page, server):
    """sine in batches of 8 for 60 steps: training scores the whole sets at steps 0 and 59
    only (R² above 0), the spread steps (and the batches) reach R² −3: the axis reaches
    down to −1 for them, as the caption's "below −1 is off the plot" says."""
    run_id = encode_run_id(normalize_config({"dataset": "sine", "batch_size": 8, "steps": 60}))
    open_page(page, server, f"?run={run_id}&it=30")
    summary = page.request.get(f"{server}/api/runs/{run_id}/summary").json()
    spread = page.request.get(f"{server}/api/runs/{run_id}/scores").json()
    assert min(v for v in summary["train_r2"] + summary["test_r2"] if v is not None) > 0
    assert min(spread["train_r2"] + spread["test_r2"]) < -1
    page.wait_for_function("gd => gd.layout.yaxis2.range[0] === -1",
                           arg=page.locator("#view-loss .plot").element_handle())


def test_a_diverged_mini_batch_regression_draws_its_huge_scores_off_the_plot(page, server):
    """sine at α = 10 in batches of 16 diverges at step 137: its R² reaches −1e307 and its
    cost 4e306. Those draw off the plot without a console error (the page fixture fails on
    one), the axes' ticks stay numbers, the hover tells the score itself, and the
    diverged step's batch R² is not finite."""
    query = "?dataset=sine&batch_size=16&learning_rate=10&steps=200"
    run_id = encode_run_id(normalize_config({"dataset": "sine", "batch_size": 16,
                                             "learning_rate": 10, "steps": 200}))
    open_page(page, server, query)  # trains it
    diverged = page.request.get(f"{server}/api/runs/{run_id}").json()["diverged"]
    assert diverged is not None
    open_page(page, server, f"{query}&it={diverged['step']}")
    expect_words(page.locator("#view-loss .caption"), ["batch R² not finite"])
    ticks = page.locator("#view-loss .ytick text, #view-loss .y2tick text").all_text_contents()
    assert ticks and not any("Infinity" in t or "NaN" in t for t in ticks), ticks
    batch = page.locator("#view-loss .plot").evaluate(
        "gd => gd.data.find(d => d.name === 'batch R²')")
    low = min(v for v in batch["customdata"] if v is not None)
    assert low < -1e100 and min(v for v in batch["y"] if v is not None) == -1e3


RING_ROOM = """gd => {
  const xa = gd._fullLayout.xaxis, last = gd.data[0].x.length - 1;
  return [xa.l2p(0) - xa.l2p(xa.range[0]), xa.l2p(xa.range[1]) - xa.l2p(last)];
}"""


def test_the_ring_at_the_first_and_last_iteration_is_drawn_whole(page, server):
    """The "you are here" ring (8 px with its line) stays inside the plot at either end,
    at projector and phone widths."""
    for width, height in ((1280, 720), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        open_page(page, server, "?steps=40&it=39")
        plot = page.locator("#view-loss .plot")
        left, right = plot.evaluate(RING_ROOM)
        assert 8 <= left < 14 and 8 <= right < 14, (width, left, right)


def test_a_score_that_training_took_and_is_not_finite_says_so(page, server):
    """A full-batch run scores the whole sets at every step: at its diverged step, a null
    train R² is one that is not finite, not one to take from the step before."""
    config = {"dataset": "sine", "hidden_layers": [16, 16], "learning_rate": 10, "steps": 200}
    run_id = encode_run_id(normalize_config(config))
    open_page(page, server, f"?run={run_id}")
    t = page.request.get(f"{server}/api/runs/{run_id}").json()["diverged"]["step"]
    summary = _served(page, server, run_id, "summary")
    assert summary["train_r2"][t] is None and summary["train_r2"][t - 1] is not None
    open_page(page, server, f"?run={run_id}&it={t}")
    caption = page.locator("#view-loss .caption")
    expect_words(caption, ["train R² not finite"])
    expect(caption).not_to_contain_text("measured at")
