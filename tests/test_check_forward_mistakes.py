"""engine.check.forward_mistakes: each mutation is the course's forward code with one
mistake, has the signature of the function it breaks, and gives a hint (mistake_hints)."""

import numpy as np
import pytest

from engine.check import forward_mistakes as fwd
from tests.mutation_modules import (
    assert_a_mistake_with_the_signature_it_breaks,
    assert_the_reference,
    mutations,
)

MUTATIONS = mutations(fwd, factories={"two_layer"})


@pytest.mark.parametrize("name", MUTATIONS)
def test_each_mutation_has_a_hint_and_the_signature_of_the_function_it_breaks(name):
    assert_a_mistake_with_the_signature_it_breaks(name, MUTATIONS[name])


def test_two_layer_makes_initialize_parameters_with_the_deep_mistake():
    made = fwd.two_layer(fwd.init_not_scaled)
    assert made.__name__ == "init_not_scaled"
    np.random.seed(1)
    expected = fwd.init_not_scaled([3, 2, 1])
    np.random.seed(1)
    got = made(3, 2, 1)
    assert got.keys() == expected.keys()
    assert all(np.array_equal(got[k], expected[k]) for k in got)


# the parametrized helpers, without their mistake, are the reference itself
@pytest.mark.parametrize(("name", "helper"), [
    ("L_model_forward", fwd._model_forward),
    ("initialize_parameters_deep",
     lambda dims: fwd._init(dims, lambda n, n_prev: np.random.randn(n, n_prev) * 0.01)),
])
def test_a_helper_without_its_mistake_is_the_reference(name, helper):
    assert_the_reference(name, helper)
