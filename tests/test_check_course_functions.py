"""Tests for engine.check.course_functions: §8's order, the words of `what`, misspellings."""

import inspect

import pytest

from engine import course
from engine.check.course_functions import (
    BY_NAME,
    NAMES,
    edit_distance,
    layer_named,
    meaning,
    probable_misspellings,
    what,
)

CONTRACT_ORDER = ["sigmoid", "relu", "sigmoid_backward", "relu_backward",
                  "initialize_parameters", "initialize_parameters_deep", "linear_forward",
                  "linear_activation_forward", "L_model_forward", "compute_cost",
                  "linear_backward", "linear_activation_backward", "L_model_backward",
                  "update_parameters"]


def test_the_order_is_contract_section_8s():
    assert list(NAMES) == CONTRACT_ORDER


@pytest.mark.parametrize("name", CONTRACT_ORDER)
def test_each_function_takes_the_references_arguments(name):
    params = list(inspect.signature(getattr(course, name)).parameters)
    assert len(params) >= len(BY_NAME[name].params)
    assert params[:len(BY_NAME[name].params)] == list(BY_NAME[name].params)


@pytest.mark.parametrize(("name", "path", "expected"), [
    ("linear_forward", ("return", 1, 0), "cache[0]"),
    ("linear_forward", ("return",), "return"),
    ("linear_activation_forward", ("return", 1, 0, 1), "cache[0][1]"),
    ("L_model_forward", ("return", 1, 2, 1), "caches[2][1]"),
    ("L_model_backward", ("return", "dW2"), 'grads["dW2"]'),
    ("L_model_backward", ("input", 2, 0, 1), "input caches[0][1]"),
    ("compute_cost", ("return",), "cost"),
    ("relu_backward", ("input", 0), "input dA"),
    ("linear_backward", ("return", 2), "db"),
])
def test_what_names_the_place_as_the_course_does(name, path, expected):
    assert what(BY_NAME[name], path) == expected


@pytest.mark.parametrize(("name", "path", "expected"), [
    ("linear_forward", ("return", 1, 0), "A_prev"),
    ("linear_forward", ("return", 1), "linear_cache"),
    ("linear_activation_forward", ("return", 1, 0, 0), "A_prev in linear_cache"),
    ("linear_activation_forward", ("return", 1, 1), "activation_cache, which is Z"),
    ("L_model_forward", ("return", 1, 1, 0, 2), "layer 2's b in linear_cache"),
    ("linear_backward", ("input", 1, 1), "W"),
    ("relu", ("return", 1), "activation_cache, which is Z"),
    ("linear_backward", ("return", 1), None),
])
def test_meaning_says_what_sits_in_a_cache(name, path, expected):
    assert meaning(BY_NAME[name], path) == expected


@pytest.mark.parametrize(("name", "path", "expected"), [
    ("L_model_backward", ("return", "dW2"), 2),
    ("L_model_backward", ("return", "dA1"), 2),  # layer 2's backward writes dA1
    ("L_model_forward", ("return", 1, 0, 0), 1),
    ("initialize_parameters_deep", ("return", "b3"), 3),
    ("linear_backward", ("return", 1), None),
    ("compute_cost", ("return",), None),
])
def test_layer_named(name, path, expected):
    assert layer_named(BY_NAME[name], path) == expected


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("L_model_foward", "L_model_forward", 1), ("kitten", "sitting", 3), ("", "abc", 3),
    ("relu", "relu", 0), ("linear_forwad", "linear_forward", 1), ("ab", "ba", 2),
])
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b) == distance == edit_distance(b, a)


@pytest.mark.parametrize(("defined", "expected"), [
    ({"L_model_foward"}, [("L_model_foward", "L_model_forward")]),
    ({"Linear_forward"}, [("Linear_forward", "linear_forward")]),
    ({"compute_costs", "compute_cost"}, []),  # the course's name is defined: a helper
    ({"sigmoid_backwards"}, [("sigmoid_backwards", "sigmoid_backward")]),
    ({"my_helper", "train"}, []),
    ({"elu"}, [("elu", "relu")]),
    ({"gelu6"}, []),  # two letters from relu, which is too short to reach that far
])
def test_probable_misspellings(defined, expected):
    assert probable_misspellings(defined) == expected
