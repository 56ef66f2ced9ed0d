"""Tests for engine.check.mistake_hints and the mutations in forward_ and backward_mistakes:
each classic mistake, made in a function, is recognised by running the mutations."""

from pathlib import Path

import numpy as np
import pytest

from engine import course
from engine.check.course_functions import BY_NAME
from engine.check.mistake_hints import MISTAKES, mistakes_of
from engine.check.verdict import check_function

# the issue's list of mistakes that must be recognised, by the mutations that make them
REQUIRED = {
    "linear_cache holding Z": ["linear_cache_holds_Z", "layer_linear_cache_holds_Z"],
    "activation_cache holding A": ["activation_cache_holds_A", "sigmoid_caches_A",
                                   "relu_caches_A"],
    "a missing 1/m in dW, db": ["dW_without_1_over_m", "db_without_1_over_m"],
    "an extra 1/m in dW, db, dA_prev": ["dW_with_1_over_m_twice", "db_with_1_over_m_twice",
                                        "dA_prev_with_1_over_m"],
    "keepdims forgotten": ["db_without_keepdims"],
    "the sign of dAL": ["dAL_sign_flipped"],
    "+ in the update": ["update_adds"],
    "an inverted or shifted ReLU mask": ["relu_mask_inverted", "relu_mask_keeps_0",
                                         "layer_relu_mask_inverted", "layer_relu_mask_keeps_0"],
    "hidden layers with the wrong activation": ["hidden_layers_sigmoid",
                                                "hidden_backward_sigmoid"],
    "the wrong init scale": ["init_not_scaled", "init_over_sqrt_n", "init_he"],
    "backward with the wrong output activation": ["output_backward_relu"],
    "the cost without 1/m": ["cost_without_1_over_m"],
    # and those an audit of the checker found unnamed
    "1/m or keepdims forgotten in linear_backward written out inside "
    "linear_activation_backward": ["layer_dW_without_1_over_m", "layer_db_without_1_over_m",
                                   "layer_dW_db_without_1_over_m", "layer_db_without_keepdims"],
    "L = len(parameters), without // 2": ["forward_L_is_len_parameters",
                                          "update_L_is_len_parameters"],
    "a cost of shape (1,)": ["cost_of_shape_1"],
    "dAL kept in grads": ["dAL_kept_in_grads"],
    "Z appended to linear_cache": ["linear_cache_with_Z", "layer_linear_cache_with_Z"],
    # and those a learner's walk found unnamed
    "db summed over the units, axis=0": ["db_summed_over_units", "layer_db_summed_over_units"],
    "the two caches swapped at a call": ["layer_linear_backward_of_activation_cache",
                                         "layer_activation_backward_of_linear_cache"],
    "g'(Z) left out of relu_backward or sigmoid_backward": ["relu_backward_without_mask",
                                                             "sigmoid_backward_without_derivative"],
    "sigmoid's derivative of Z as if it were A, written out in linear_activation_backward":
        ["layer_sigmoid_backward_of_Z_as_A"],
    "dA_prev without Wᵀ": ["dA_prev_without_transpose", "layer_dA_prev_without_transpose"],
}
# mistakes that raise (a KeyError, a ValueError unpacking Z into three, a TypeError of a
# tuple given where Z belongs, a ValueError of shapes that do not multiply or broadcast, an
# IndexError of dAL's mask in a wider layer) rather than return something else
RAISING = {"forward_L_is_len_parameters", "update_L_is_len_parameters",
           "layer_linear_backward_of_activation_cache",
           "layer_activation_backward_of_linear_cache", "dA_prev_without_transpose",
           "layer_dA_prev_without_transpose", "linear_forward_elementwise",
           "sigmoid_backward_with_dot", "dW_elementwise", "layer_dW_elementwise",
           "cost_dot_without_transpose", "dAL_to_every_layer", "forward_L_float_division",
           "update_L_float_division", "cache_unpacked_out_of_order",
           "layer_cache_unpacked_out_of_order", "backward_loop_from_output",
           "update_from_layer_0", "forward_from_layer_0", "dW_without_transpose",
           "layer_dW_without_transpose", "linear_forward_b_flat",
           "linear_forward_A_first",
           "forward_A_not_updated", "hidden_backward_reads_its_own_dA",
           "update_reads_grads_without_d"}


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: f"{m.function}-{m.name}")
def test_each_mistake_is_recognised_when_a_learner_makes_it(mistake):
    result = check_function(BY_NAME[mistake.function], mistake.code)
    assert result.status == ("error" if mistake.name in RAISING else "fail")
    assert (result.failure.mistake, result.failure.hint) == (mistake.name, mistake.hint)


@pytest.mark.parametrize("required", REQUIRED)
def test_the_issues_mistakes_are_all_known(required):
    known = {m.name for m in MISTAKES}
    assert set(REQUIRED[required]) <= known


def test_hints_are_short_and_unique_per_function():
    for mistake in MISTAKES:
        assert len(mistake.hint) <= 200 and mistake.hint.endswith(".")
    for function in BY_NAME:
        names = [m.name for m in mistakes_of(function)]
        assert len(names) == len(set(names))


def test_two_mistakes_in_one_function_name_the_one_that_shows_first():
    def linear_backward(dZ, cache):  # no 1/m in dW, and no keepdims in db
        A_prev, W, _ = cache
        return np.dot(W.T, dZ), np.dot(dZ, A_prev.T), np.sum(dZ, axis=1) / A_prev.shape[1]

    result = check_function(BY_NAME["linear_backward"], linear_backward)
    assert result.failure.what == "dW"
    assert result.failure.mistake == "dW_without_1_over_m"


def test_an_unknown_mistake_has_no_hint():
    def linear_backward(dZ, cache):
        dA_prev, dW, db = course.linear_backward(dZ, cache)
        return dA_prev, 2 * dW, db

    result = check_function(BY_NAME["linear_backward"], linear_backward)
    assert result.status == "fail" and result.failure.what == "dW"
    assert result.failure.hint is None and result.failure.mistake is None


def test_the_learners_guide_explains_every_hint():
    guide = (Path(__file__).resolve().parents[1] / "docs" / "check-my-code.md").read_text()
    missing = [m.hint for m in MISTAKES if m.hint not in guide]
    assert not missing


def _relu_branch_only(cache_of):
    """linear_activation_forward whose relu branch builds its cache as cache_of(linear_cache,
    Z); the sigmoid branch is the course's."""
    def linear_activation_forward(A_prev, W, b, activation):
        A, (linear_cache, Z) = course.linear_activation_forward(A_prev, W, b, activation)
        return A, (cache_of(linear_cache, Z) if activation == "relu" else (linear_cache, Z))
    return linear_activation_forward


@pytest.mark.parametrize("cache_of, mistake", [
    # both give linear_cache at cache[1] (where the first differs): the one that gives the
    # whole cache names it
    (lambda linear_cache, Z: (linear_cache, linear_cache),
     "layer_activation_cache_is_linear_cache"),
    (lambda linear_cache, Z: (Z, linear_cache), "layer_cache_order_swapped"),
])
def test_a_mistake_in_one_branch_is_named_by_the_whole_failing_case(cache_of, mistake):
    result = check_function(BY_NAME["linear_activation_forward"], _relu_branch_only(cache_of))
    assert result.status == "fail" and result.failure.mistake == mistake
