"""The course's helpers as its `dnn_utils` module gives them to a learner's code: the
engine's functions under dnn_utils' signatures, `relu_backward(dA, cache)` with `cache`
the activation cache Z (engine.activations names it Z). A learner's call by keyword,
`relu_backward(dA, cache=activation_cache)`, reaches them, and so does `Z=`.
"""

from engine import course


def relu_backward(dA, cache=None, *, Z=None):
    """dZ = dA where Z > 0, else 0: engine.course.relu_backward of the cache Z."""
    return course.relu_backward(dA, Z if cache is None else cache)


def sigmoid_backward(dA, cache=None, *, Z=None):
    """dZ = dA · s(1 - s), s = σ(Z): engine.course.sigmoid_backward of the cache Z."""
    return course.sigmoid_backward(dA, Z if cache is None else cache)


# what `from dnn_utils import *` binds in a learner's code, by name
IMPORTED = {"sigmoid": course.sigmoid, "relu": course.relu, "sigmoid_backward": sigmoid_backward,
           "relu_backward": relu_backward}
