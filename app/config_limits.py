"""A user's run config checked against the engine's rules and this server's limits."""

from app.settings import Settings
from engine.config import ConfigError, normalize_config
from engine.work_estimate import run_flops, step_flops


def engine_limits(settings: Settings) -> dict:
    """normalize_config's keyword arguments for this server's limits."""
    return {
        "max_layers": settings.max_hidden_layers,
        "max_width": settings.max_width,
        "limits": {"n_samples": ("int", 20, settings.max_samples, False),
                   "steps": ("int", 1, settings.max_steps, False)},
    }


def check_config(raw, settings: Settings) -> dict:
    """The normalized config, or a ConfigError naming the field: the budget (in flops, by
    engine.work_estimate's estimate) names steps."""
    config = normalize_config(raw, **engine_limits(settings))
    flops = run_flops(config)
    if flops > settings.compute_budget:
        fit = int(settings.compute_budget // step_flops(config))
        raise ConfigError("steps", f"{config['steps']} steps of this network on this data need "
                          f"about {flops:.2g} flops, over this server's budget of "
                          f"{settings.compute_budget:.2g}; at most {fit} steps fit")
    return config
