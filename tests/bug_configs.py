"""Run configs with each classic mistake (engine.mistakes), shared by tests/test_mistakes.py
and tests/test_gradcheck.py: where each bug acts, and where it cannot."""

from engine.config import normalize_config

TINY = {"dataset": "moons", "n_samples": 40, "hidden_layers": [4, 3], "steps": 8}
# each bug in a config where it acts, and its hidden and output activations vary
ACTIVE = {
    "activation_cache_holds_A": {**TINY, "activations": ["tanh", "relu", "sigmoid"]},
    "activation_cache_holds_A/softmax": {
        "dataset": "spiral", "n_samples": 45, "hidden_layers": [5], "steps": 8,
        "activations": ["sigmoid", "softmax"], "bug": "activation_cache_holds_A"},
    "missing_1_over_m": {**TINY, "batch_size": 8, "l2": 0.3},
    "no_activation_derivative": {
        "dataset": "spiral", "n_samples": 45, "hidden_layers": [5], "steps": 8,
        "activations": ["tanh", "softmax"]},
    "no_activation_derivative/mse": {
        "dataset": "sine", "n_samples": 30, "hidden_layers": [4], "steps": 8,
        "activations": ["sigmoid", "linear"], "bug": "no_activation_derivative"},
    "wrong_update_sign": {**TINY, "learning_rate": 0.1},
    "dropout_mask_forgotten_in_backward": {**TINY, "keep_prob": 0.7, "batch_size": 10},
    "l2_gradient_missing": {**TINY, "l2": 0.5},
}
LATER = 5  # a step after several mistaken updates, off a checkpoint


def active_config(name):
    """The normalized config of ACTIVE[name], its bug named before any "/" in name."""
    return normalize_config({"bug": name.split("/")[0], **ACTIVE[name]})


# a bug that cannot act in its config: the run is the bug-free run
INACTIVE = {
    "dropout_mask_forgotten_in_backward": {**TINY},
    "l2_gradient_missing": {**TINY, "l2": 0.0},
    "missing_1_over_m": {**TINY, "batch_size": 1, "steps": 6},
    "activation_cache_holds_A": {"dataset": "sine", "n_samples": 30, "hidden_layers": [4, 3],
                                 "activations": ["relu", "leaky_relu", "linear"], "steps": 6},
    "no_activation_derivative": {"dataset": "sine", "n_samples": 30, "hidden_layers": [4],
                                 "activations": ["linear", "linear"], "steps": 6},
}
