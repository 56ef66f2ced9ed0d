"""static/js/colour_scale.js, run by Node: each heatmap's colour range comes from the served
statistics, exact, and never understates the values it colours."""

from tests.node_runner import call_js, needs_node

# layer 2's dA_max_abs at steps 0 to 2; step 2 diverged: its dA holds an inf, so its
# statistic is null, and its finite entries (2e299) pass every other step's
SUMMARY = {"X_max_abs": [1, 1, 1],
           "layers": [{"A_min": [0, 0, 0], "A_max": [1, 1, 1]},
                      {"dA_max_abs": [3.0, 4.4e153, None]}]}
DIVERGED_DA = {"shape": [1, 3], "data": [[1.0, -2.1e299, None]]}


def frame(t, scale):
    return {"summary": SUMMARY, "layer": 2, "t": t, "scale": scale,
            "run": {"num_steps": 3, "L": 2}, "phase": {"kind": "backward", "l": 2}}


@needs_node
def test_the_run_range_holds_a_diverged_steps_finite_values():
    got = call_js("colour_scale.js", [
        ["colourScales", frame(2, "run"), {"dA": DIVERGED_DA}],
        ["colourScales", frame(1, "run"), {"dA": {"shape": [1, 1], "data": [[4.4e153]]}}],
        ["colourScales", frame(2, "tensor"), {"dA": DIVERGED_DA}],
        ["colourScales", frame(2, "run"), {"dA": {**DIVERGED_DA, "downsampled_from": [8, 9]}}],
    ])
    ranges = [(g["dA"]["top"], g["dA"]["exact"], g["dA"]["from"]) for g in got]
    assert ranges == [
        (2.1e299, True, "heatmap"),  # was 4.4e153 "exact over the run"
        (4.4e153, True, "run"),  # a step with its statistic: the run's
        (2.1e299, True, "heatmap"),  # its own: no statistic, the drawn values
        (2.1e299, False, "heatmap"),  # block means: a lower bound
    ]
