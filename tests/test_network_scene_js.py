"""static/js/views/network_scene.js, run by Node: the diagram's edges share one colour range
across layers (so that a vanishing dW[1] is faint beside dW[3]), or, with the colours per
tensor, each layer has its own; layers the phase has not reached have none."""

import pytest

from tests.node_runner import call_js, needs_node


def frame(scale, dW_scales=(1e-3, 0.5, 2.0)):
    """Three layers [2, 3, 3, 1] whose dW[l] entries are ±dW_scales[l - 1]."""
    dims = [2, 3, 3, 1]
    params = []
    for l, size in enumerate(dW_scales, 1):
        rows = [[size * (-1) ** (i + k) for k in range(dims[l - 1])] for i in range(dims[l])]
        params.append({"W": {"data": rows}, "dW": {"data": rows}, "updateW": {"data": rows}})
    column = [0.5] * 3
    example = {"A": [[1.0, 2.0], column, column, [0.5]], "dZ": [None, column, column, [0.5]],
               "dA": [None, column, column, [0.5]], "masks": None}
    return {"run": {"dims": dims, "L": 3}, "params": params, "example": example,
            "scale": scale}


@needs_node
@pytest.mark.parametrize(("scale", "phase", "ranges"), [
    ("shared", {"kind": "backward", "l": 1}, [None, 2.0, 2.0, 2.0]),
    ("symlog", {"kind": "backward", "l": 1}, [None, 2.0, 2.0, 2.0]),
    ("tensor", {"kind": "backward", "l": 1}, [None, 1e-3, 0.5, 2.0]),
    ("run", {"kind": "backward", "l": 1}, [None, 1e-3, 0.5, 2.0]),  # each heatmap its own
    # backward at layer 2 has not reached dW[1]: it has no range, and the others the pass's
    ("shared", {"kind": "backward", "l": 2}, [None, None, 2.0, 2.0]),
    ("shared", {"kind": "update", "l": None}, [None, 2.0, 2.0, 2.0]),
])
def test_edges_share_one_range_unless_colours_are_per_tensor(scale, phase, ranges):
    [got] = call_js("views/network_scene.js", [["edgeRanges", frame(scale), phase]])
    assert got == pytest.approx(ranges)


B = [{"kind": "backward", "l": l} for l in (3, 2, 1)]
F = [{"kind": "forward", "l": l} for l in (1, 2, 3)] + [{"kind": "cost", "l": 3}]


@needs_node
def test_an_edge_and_a_neuron_keep_their_colour_through_a_pass():
    """The ranges are the pass's, layers not reached yet included: dZ[3] (0.5) had been pale
    on dA[3]'s range at backward 3, then dark at backward 2 once dA[3] left it; so had
    dW[3]'s edges once a larger dW[1] came in."""
    f = frame("shared", dW_scales=(5.0, 0.5, 2.0))
    f["example"]["dA"][3] = [1.9]  # the output's dA, larger than any dZ
    f["example"]["A"][2] = [4.0, 0.1, 0.1]  # forward 1 has not reached it
    scenes = call_js("views/network_scene.js", [["scene", f, {"w": 400, "h": 300}, p]
                                                for p in B + F])
    assert [s["top"] for s in scenes] == [1.9] * 3 + [4.0] * 4
    edges = call_js("views/network_scene.js", [["edgeRanges", f, p] for p in B])
    assert edges == [[None, None, None, 5.0], [None, None, 5.0, 5.0], [None, 5.0, 5.0, 5.0]]


@needs_node
def test_a_vanishing_layers_edges_are_drawn_faint():
    calls = [["scene", frame(scale), {"w": 400, "h": 300}, {"kind": "backward", "l": 1}]
             for scale in ("shared", "tensor")]
    shared, own = call_js("views/network_scene.js", calls)

    def widest(scene, l):
        return max(abs(e["pos"]) for e in scene["edges"] if e["l"] == l)

    assert widest(shared, 1) == pytest.approx(1e-3 / 2.0)
    assert widest(shared, 3) == pytest.approx(1.0)
    assert widest(own, 1) == pytest.approx(1.0)
    # the neurons' one range holds the dA[1] that arrives and the dZ it becomes: the key says so
    assert shared["legend"] == "dA, dZ"


@needs_node
def test_the_range_skips_non_finite_entries_and_takes_a_big_tensor():
    # a dW[1] of 400 x 400 (160,000 values, more than Math.max takes spread) with a null
    # (a non-finite value in JSON); the range is its largest finite |value|
    big = frame("tensor")
    rows = [[0.25] * 400 for _ in range(400)]
    rows[7][9], rows[8][1] = None, -0.75
    big["run"]["dims"] = [400, 400, 3, 1]
    big["params"][0]["dW"] = {"data": rows}
    [got] = call_js("views/network_scene.js", [["edgeRanges", big, {"kind": "backward", "l": 1}]])
    assert got == pytest.approx([None, 0.75, 0.5, 2.0])
