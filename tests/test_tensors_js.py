"""static/js/tensors.js: the bytes of a lean answer (encoding=u8) back into numbers, as
app.serialize and engine.unit_maps encode them."""

import numpy as np
import pytest
from node_runner import call_js, needs_node

from engine.unit_maps import LEVELS

pytestmark = needs_node


@pytest.mark.parametrize(("lo", "hi"), [(-2e7, -2e3), (3e-9, 5e3), (-1.0, 1.0), (0.25, 0.75),
                                        (-5e22, 4e28)])
def test_every_level_lies_within_the_tensors_range_and_near_its_exact_value(lo, hi):
    """A level rounded to the tensor's precision stays inside [lo, hi]: the level nearest 0
    of −2e7 to −2e3 had read 0, and a diverged fit drew a flat line at ŷ = 0."""
    values = np.array(call_js("tensors.js", [["byteValues", lo, hi]])[0][:LEVELS + 1],
                      dtype=float)
    exact = lo * (1 - np.arange(LEVELS + 1) / LEVELS) + hi * (np.arange(LEVELS + 1) / LEVELS)
    assert np.all((values >= lo) & (values <= hi))
    assert np.all(np.abs(values - exact) <= (hi - lo) / (2 * LEVELS))
