"""static/js/course_names.js, run by Node: the page's names of course functions and
tensors."""

from tests.node_runner import call_js, needs_node


@needs_node
def test_a_tensor_of_a_layer_is_named_as_the_course_names_it():
    """A_prev[2] would read as A[2]: the inspector's tips and the comparison name the array."""
    got = call_js("course_names.js", [["tensorLabel", "A_prev", 2], ["tensorLabel", "A_prev", 1],
                                      ["tensorLabel", "Z", 2], ["tensorLabel", "update", 3]])
    assert got == ["A_prev (= A[1])", "A_prev (= X)", "Z[2]", "ΔW[3]"]
