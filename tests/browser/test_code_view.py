"""The code panel (static/js/views/code_view.js) of a run with a classic mistake (CONTRACT
§7) shows the mistaken code that trained it, each mistaken line marked, where it used to
show the correct course code beside the mistaken numbers."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import expect_words, open_page

BASE = "?n_samples=200&steps=20&it=3"
# (the run's URL, lines the panel shows, lines it must not show)
CASES = {
    "missing_1_over_m": (
        f"{BASE}&bug=missing_1_over_m&phase=backward-2&layer=2",
        ["dW = np.dot(dZ, A_prev.T)", "db = np.sum(dZ, axis=1, keepdims=True)",
         "# the mistake (bug): no 1/m"],
        ["dW = 1/m * np.dot"]),
    "wrong_update_sign": (
        f"{BASE}&bug=wrong_update_sign&phase=update&layer=1",
        ["W = W + learning_rate * dW", "b = b + learning_rate * db",
         "# the mistake (bug): + instead of −"],
        ["W = W - learning_rate"]),
    "wrong_update_sign_adam": (
        f"{BASE}&bug=wrong_update_sign&optimizer=adam&learning_rate=0.01&phase=update&layer=1",
        ["W = W + learning_rate * v_corrected", "v = beta1 * v + (1 - beta1) * dW"],
        ["W = W - learning_rate"]),
    "l2_gradient_missing": (
        f"{BASE}&bug=l2_gradient_missing&l2=0.7&phase=backward-1&layer=1",
        ["dW = 1/m * np.dot(dZ, A_prev.T)", "# the mistake (bug): no + lambd/m * W"],
        ["dW = 1/m * np.dot(dZ, A_prev.T) + lambd/m * W"]),
    "no_activation_derivative": (
        f"{BASE}&bug=no_activation_derivative&phase=backward-3&layer=3",
        ["dZ = dA", "# the mistake (bug): the factor g′(Z) is forgotten"],
        ["dZ = AL - Y", "sigmoid_backward"]),
    "activation_cache_holds_A": (
        f"{BASE}&bug=activation_cache_holds_A&phase=forward-2&layer=2",
        ["activation_cache = A", "((A[1], W[2], b[2]), A[2])"], ["), Z[2])"]),
    "activation_cache_holds_A_backward": (
        f"{BASE}&bug=activation_cache_holds_A&phase=backward-3&layer=3",
        ["dZ = sigmoid_backward(dA, activation_cache)",
         "g′ is taken at the cached A[3], not Z[3]"], ["dZ = AL - Y"]),
    "dropout_mask_forgotten_in_backward": (
        f"{BASE}&bug=dropout_mask_forgotten_in_backward&keep_prob=0.8&phase=backward-1&layer=1",
        ["# no dA = dA * D / keep_prob"], ["dropped units get no gradient"]),
    # a batch of 1 leaves 1/m nothing to do: the run is the correct one, and so is its code
    "inactive_missing_1_over_m": (
        f"{BASE}&bug=missing_1_over_m&batch_size=1&phase=backward-2&layer=2",
        ["dW = 1/m * np.dot(dZ, A_prev.T)"], ["the mistake"]),
    # the course's line, and the shortcut the engine takes, as a note on it
    "correct": (
        f"{BASE}&phase=backward-3&layer=3",
        ["dZ = sigmoid_backward(dA, activation_cache)",
         "s = 1 / (1 + np.exp(-Z)); dZ = dA * s * (1 - s)",
         "# = AL - Y: sigmoid′ cancels with dAL of binary_cross_entropy; "
         "the engine computes dZ[3] so",
         "dW = 1/m * np.dot(dZ, A_prev.T)"], ["the mistake", "dZ = AL - Y"]),
    # a linear output's g is the identity: its functions are not the course's linear_*,
    # which are every layer's linear step
    "linear_output_forward": (
        "?dataset=sine&steps=20&it=3&phase=forward-3&layer=3",
        ["A, activation_cache = identity(Z)", "Z, linear_cache = linear_forward(A_prev, W, b)"],
        ["linear(Z)"]),
    "linear_output_backward": (
        "?dataset=sine&steps=20&it=3&phase=backward-3&layer=3",
        ["dZ = identity_backward(dA, activation_cache)"],
        ["linear_backward(dA"]),
}


@pytest.mark.parametrize("name", CASES)
def test_the_code_panel_shows_the_code_that_trained_the_run(page, server, name):
    query, shown, absent = CASES[name]
    open_page(page, server, query)
    expect_words(page.get_by_test_id("view-code"), shown, absent)


def test_the_explainer_names_a_linear_outputs_backward_apart_from_linear_backward(page, server):
    open_page(page, server, "?dataset=sine&steps=20&it=3&phase=backward-3&layer=3")
    expect_words(page.get_by_test_id("cache-explainer"),
                 ["identity_backward(dA, activation_cache) needs Z for g′(Z)",
                  "linear_backward(dZ, linear_cache) needs A_prev"], ["linear_backward(dA"])


def test_the_code_panel_points_to_check_my_code(page, server):
    """A learner on the page found no word of `backprop-lens check` (CONTRACT §8)."""
    open_page(page, server)
    note = page.locator(".panel-code .code-check")
    expect(note).to_be_visible()
    expect(note).to_contain_text("backprop-lens check my_notebook.ipynb")
