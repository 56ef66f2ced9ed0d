"""The choices a run config offers, their limits and a complete default config."""

from engine.config import (
    CHOICES,
    LIMITS,
    MAX_HIDDEN_LAYERS,
    MAX_WIDTH,
    Limit,
    normalize_config,
)
from engine.datasets import CATALOGUE
from engine.gradcheck import THRESHOLD
from engine.histograms import HISTOGRAM_EDGES

OPTIMIZER_HYPERPARAMETERS = {
    "gd": [], "momentum": ["beta"], "rmsprop": ["beta2", "epsilon"],
    "adam": ["beta1", "beta2", "epsilon"],
}


def options(max_layers=MAX_HIDDEN_LAYERS, max_width=MAX_WIDTH, limits=None):
    """Everything a client needs to build the config form."""
    merged = {**LIMITS, **(limits or {})}
    return {
        "datasets": [info.as_dict() for info in CATALOGUE.values()],
        "activations": CHOICES["activations"],
        "output_only_activations": ["softmax"],
        "losses": CHOICES["loss"],
        "inits": CHOICES["init"],
        "optimizers": CHOICES["optimizer"],
        "optimizer_hyperparameters": OPTIMIZER_HYPERPARAMETERS,
        "limits": {
            **{field: {"type": kind, "min": low, "max": high, "min_exclusive": low_open,
                       "max_exclusive": high_open}
               for field, (kind, low, high, low_open, high_open) in
               ((f, Limit(*v)) for f, v in merged.items())},
            "hidden_layers": {"max_layers": max_layers, "min_width": 1, "max_width": max_width},
        },
        "default_config": normalize_config({}),
        "gradcheck_threshold": THRESHOLD,
        "histogram_edges": HISTOGRAM_EDGES[1:-1].tolist(),
    }
