"""A user's run config checked against the engine's rules and this server's limits."""

from itertools import pairwise

from app.settings import Settings
from engine.config import ConfigError, layer_dims, normalize_config
from engine.datasets import split_sizes

# per example and weight: forward 2 flops, backward 4 (dZ A_prevᵀ and Wᵀ dZ)
TRAIN_FLOPS, EVAL_FLOPS = 6, 2


def engine_limits(settings: Settings) -> dict:
    """normalize_config's keyword arguments for this server's limits."""
    return {
        "max_layers": settings.max_hidden_layers,
        "max_width": settings.max_width,
        "limits": {"n_samples": ("int", 20, settings.max_samples, False),
                   "steps": ("int", 1, settings.max_steps, False)},
    }


def flops_per_step(config: dict) -> float:
    """Estimated flops of one step: train on the batch, and evaluate θ_t on the whole
    train and test sets (accuracy or R² of every step)."""
    dims = layer_dims(config)
    weights = sum(n_prev * n for n_prev, n in pairwise(dims))
    m_train, m_test = split_sizes(config["n_samples"], config["test_fraction"])
    batch = config["batch_size"]
    per_eval = EVAL_FLOPS * (m_train + m_test)
    return float(weights * (TRAIN_FLOPS * (batch or m_train) + per_eval))


def estimate_flops(config: dict) -> float:
    """Estimated flops of the whole run."""
    return config["steps"] * flops_per_step(config)


def check_config(raw, settings: Settings) -> dict:
    """The normalized config, or a ConfigError naming the field (the budget names steps)."""
    config = normalize_config(raw, **engine_limits(settings))
    per_step = flops_per_step(config)
    if config["steps"] * per_step > settings.compute_budget:
        fit = int(settings.compute_budget // per_step)
        raise ConfigError("steps", f"{config['steps']} steps of this network on this data need "
                          f"about {config['steps'] * per_step:.2g} flops, over this server's "
                          f"budget of {settings.compute_budget:.2g}; at most {fit} steps fit")
    return config
