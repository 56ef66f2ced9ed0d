"""A user's run config checked against the engine's rules and this server's limits."""

from app.settings import Settings
from engine.config import ConfigError, normalize_config
from engine.work_estimate import run_flops


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
    engine.work_estimate's estimate) names steps. A config that leaves steps out takes as
    many as fit the budget, as a left-out field takes a narrower limit (engine.config), so
    that each dataset's default runs on a server with a smaller budget too."""
    config = normalize_config(raw, **engine_limits(settings))
    flops = run_flops(config)
    if flops <= settings.compute_budget:
        return config
    fit = steps_within_budget(config, settings.compute_budget)
    if raw.get("steps") is None and fit:
        return {**config, "steps": fit}
    raise ConfigError("steps", f"{config['steps']} steps of this network on this data need "
                      f"about {flops:.2g} flops, over this server's budget of "
                      f"{settings.compute_budget:.2g}; at most {fit} steps fit")


def steps_within_budget(config, budget: float) -> int:
    """The most steps of config whose run stays within budget flops (0: not one)."""
    low, high = 0, config["steps"]  # low fits (no steps), high does not
    while high - low > 1:
        middle = (low + high) // 2
        if run_flops({**config, "steps": middle}) <= budget:
            low = middle
        else:
            high = middle
    return low
