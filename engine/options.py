"""The choices a run config offers, their limits and a complete default config."""

from engine.config import (
    CHOICES,
    HIDDEN_ACTIVATION,
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


def dataset_options(name, limits):
    """A dataset's facts and the complete config a run of it gets by default, as the
    engine normalizes it within a server's limits (normalize_config's keywords): the page
    reads its defaults here instead of re-deriving them. With other hidden layers, each
    hidden layer takes `default_hidden_activation`."""
    return {**CATALOGUE[name].as_dict(),
            "default_config": normalize_config({"dataset": name}, **limits),
            "default_hidden_activation": HIDDEN_ACTIVATION}


def options(max_layers=MAX_HIDDEN_LAYERS, max_width=MAX_WIDTH, limits=None):
    """Everything a client needs to build the config form."""
    merged = {**LIMITS, **(limits or {})}
    server = {"max_layers": max_layers, "max_width": max_width, "limits": limits}
    return {
        "datasets": [dataset_options(name, server) for name in CATALOGUE],
        "activations": CHOICES["activations"],
        "output_only_activations": ["softmax"],
        "losses": CHOICES["loss"],
        "inits": CHOICES["init"],
        "optimizers": CHOICES["optimizer"],
        "bugs": CHOICES["bug"],
        "optimizer_hyperparameters": OPTIMIZER_HYPERPARAMETERS,
        "limits": {
            **{field: {"type": kind, "min": low, "max": high, "min_exclusive": low_open,
                       "max_exclusive": high_open}
               for field, (kind, low, high, low_open, high_open) in
               ((f, Limit(*v)) for f, v in merged.items())},
            "hidden_layers": {"max_layers": max_layers, "min_width": 1, "max_width": max_width},
        },
        "default_config": normalize_config({}, **server),
        "gradcheck_threshold": THRESHOLD,
        "histogram_edges": HISTOGRAM_EDGES[1:-1].tolist(),
    }
