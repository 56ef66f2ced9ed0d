"""engine.check.backward_mistakes: each mutation is the course's backward code with one
mistake, has the signature of the function it breaks, and gives a hint (mistake_hints)."""

import numpy as np
import pytest

from engine import course
from engine.check import backward_mistakes as back
from tests.mutation_modules import (
    assert_a_mistake_with_the_signature_it_breaks,
    assert_the_reference,
    course_parameters,
    mutations,
    parameters,
)

MUTATIONS = mutations(back, factories={"layer_with"})


@pytest.mark.parametrize("name", MUTATIONS)
def test_each_mutation_has_a_hint_and_the_signature_of_the_function_it_breaks(name):
    assert_a_mistake_with_the_signature_it_breaks(name, MUTATIONS[name])


def test_layer_with_writes_linear_backward_inside_the_layer_with_its_mistake():
    made = back.layer_with(back.dW_without_1_over_m)
    assert made.__name__ == "layer_dW_without_1_over_m"
    assert parameters(made) == course_parameters("linear_activation_backward")
    rng = np.random.default_rng(0)
    A_prev, W, b, dA = rng.normal(size=(3, 4)), rng.normal(size=(2, 3)), rng.normal(size=(2, 1)), \
        rng.normal(size=(2, 4))
    _, cache = course.linear_activation_forward(A_prev, W, b, "relu")
    dA_prev, dW, db = made(dA, cache, "relu")
    right = course.linear_activation_backward(dA, cache, "relu")
    np.testing.assert_allclose(dW, 4 * right[1])  # the sum over 4 examples, not the mean
    np.testing.assert_allclose(dA_prev, right[0])
    np.testing.assert_allclose(db, right[2])


def test_the_model_helper_without_its_mistake_is_the_reference():
    assert_the_reference("L_model_backward", back._model_backward)
