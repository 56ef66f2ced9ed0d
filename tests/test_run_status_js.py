"""static/js/run_status.js, run by Node: the words of a run in training, and about how long
it has left."""

import pytest

from tests.node_runner import call_js, needs_node

pytestmark = needs_node

# (since, fraction, now, seconds left): 2 s at least before saying, and a rate above 0
TIMES = [
    ({"at": 0, "fraction": 0.0}, 0.2, 1000, None),  # too early to say
    ({"at": 0, "fraction": 0.1}, 0.1, 5000, None),  # no progress since
    ({"at": 0, "fraction": 0.0}, 0.25, 5000, 15.0),  # 5 % a second, 75 % to go
    ({"at": 1000, "fraction": 0.5}, 0.6, 11000, 40.0),
]


@pytest.mark.parametrize(("since", "fraction", "now", "left"), TIMES)
def test_seconds_left_is_the_rest_at_the_rate_so_far(since, fraction, now, left):
    [got] = call_js("run_status.js", [["secondsLeft", since, fraction, now]])
    assert got == (None if left is None else pytest.approx(left))


# (text, seconds left, a run on screen meanwhile, the banner)
BANNERS = [
    ("training… 12 %", None, False,
     "This run is training… 12 %. The views fill in when it is done."),
    ("training… 40 %", 13.2, False,
     "This run is training… 40 %, about 15 s left. The views fill in when it is done."),
    ("training… 90 %", 0.3, True,
     "The new run is training… 90 %, about 5 s left. The run on screen stays until it is done."),
    ("training… 5 %", 150.0, False,
     "This run is training… 5 %, about 3 min left. The views fill in when it is done."),
    ("waiting: 2 runs ahead", None, True,
     "The new run is waiting: 2 runs ahead. The run on screen stays until it is done."),
]


@pytest.mark.parametrize(("text", "left", "had_run", "banner"), BANNERS)
def test_the_banner_says_how_far_and_how_long(text, left, had_run, banner):
    assert call_js("run_status.js", [["bannerText", text, left, had_run]]) == [banner]


def test_a_runs_words_name_its_mistake_then_its_learning_rate_before_its_layers():
    """The header shows two lines: at 1024 px a deep net's activations pushed α off them."""
    config = {"dataset": "moons", "activations": ["sigmoid"] * 6 + ["sigmoid"],
              "loss": "binary_cross_entropy", "init": "xavier", "optimizer": "gd",
              "learning_rate": 0.5, "batch_size": None, "l2": 0, "keep_prob": 1,
              "bug": "missing_1_over_m"}
    run = {"config": config, "dims": [2, *[16] * 6, 1], "num_steps": 100, "bug_active": True}
    [words] = call_js("run_status.js", [["describeRun", run]])
    assert words == ("classic mistake: dW without 1/m · moons · "
                     "2 → 16 → 16 → 16 → 16 → 16 → 16 → 1 · gd, α = 0.5 · full batch · "
                     "100 iterations · " + ", ".join(["sigmoid"] * 7) +
                     " · binary_cross_entropy · xavier init")


def test_a_lost_server_reads_as_one_sentence_in_the_banner():
    """It read "This run is the server does not answer (restarting?)…"."""
    [text] = call_js("run_status.js", [["trainingText", 0.4, None, None, True]])
    [banner] = call_js("run_status.js", [["bannerText", text, None, False]])
    assert banner == ("This run is waiting: the server does not answer (restarting?); asking "
                      "again every second. The views fill in when it is done.")
