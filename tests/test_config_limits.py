"""app.config_limits: the server's limits and compute budget on top of normalize_config."""

import itertools

import pytest

from app.config_limits import check_config
from app.settings import Settings
from engine.config import CHOICES, ConfigError
from engine.work_estimate import run_flops

DEFAULTS = Settings()


@pytest.mark.parametrize(("dataset", "test_fraction", "batch_size"), list(itertools.product(
    CHOICES["dataset"], [0.0, 0.5], [None, 1])))
@pytest.mark.parametrize("bug", [None, *CHOICES["bug"]])
def test_every_contract_sized_run_fits_the_default_budget(dataset, test_fraction, batch_size, bug):
    # CONTRACT §4: every config inside the ranges is served; a bug's steps take two
    # backward passes (keep_prob and l2 make every bug active)
    biggest = {"dataset": dataset, "n_samples": 2000, "test_fraction": test_fraction,
               "hidden_layers": [128] * 6, "steps": 2000, "batch_size": batch_size,
               "bug": bug, "keep_prob": 0.5, "l2": 10.0}
    config = check_config(biggest, DEFAULTS)
    assert run_flops(config) <= DEFAULTS.compute_budget


def test_a_run_beyond_the_contract_and_the_budget_is_refused_naming_steps():
    wide = Settings(max_width=512, max_samples=5000)
    with pytest.raises(ConfigError) as err:
        check_config({"n_samples": 5000, "hidden_layers": [512] * 6, "test_fraction": 0.0,
                      "steps": 2000}, wide)
    assert err.value.field == "steps"
    assert "budget" in str(err.value) and "at most" in str(err.value)


@pytest.mark.parametrize(("changes", "raw", "field"), [
    ({"max_steps": 100}, {"steps": 101}, "steps"),
    ({"max_samples": 500}, {"n_samples": 501}, "n_samples"),
    ({"max_hidden_layers": 2}, {"hidden_layers": [4, 4, 4]}, "hidden_layers"),
    ({"max_width": 16}, {"hidden_layers": [17]}, "hidden_layers.0"),
    ({"compute_budget": 1e6}, {"steps": 300}, "steps"),
])
def test_server_limits_apply(changes, raw, field):
    with pytest.raises(ConfigError) as err:
        check_config(raw, Settings(**changes))
    assert err.value.field == field


def test_a_config_that_leaves_steps_out_takes_the_steps_that_fit_the_budget():
    small = Settings(compute_budget=2e9)
    fitted = check_config({"dataset": "digits"}, small)
    assert run_flops(fitted) <= 2e9 < run_flops({**fitted, "steps": fitted["steps"] + 1})
    with pytest.raises(ConfigError, match=f"at most {fitted['steps']} steps fit"):
        check_config({"dataset": "digits", "steps": 300}, small)  # given: refused
    with pytest.raises(ConfigError):  # not one step fits
        check_config({"dataset": "digits"}, Settings(compute_budget=1e6))


def test_server_may_allow_more_than_the_contract():
    config = check_config({"steps": 3000, "hidden_layers": [200]},
                          Settings(max_steps=5000, max_width=256))
    assert (config["steps"], config["hidden_layers"]) == (3000, [200])


@pytest.mark.parametrize(("name", "value"), [
    ("BPL_PORT", "9123"), ("BPL_MAX_STEPS", "50"), ("BPL_FRAME_ANCESTORS", "'none'"),
    ("BPL_SYNC_SECONDS", "0.5"), ("BPL_CACHE_BYTES", "1000"),
])
def test_settings_come_from_bpl_env_vars(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert str(getattr(Settings(), name.removeprefix("BPL_").lower())) == value


def test_frame_ancestors_cannot_inject_a_directive(monkeypatch):
    monkeypatch.setenv("BPL_FRAME_ANCESTORS", "'self'; script-src *")
    with pytest.raises(ValueError, match="frame_ancestors"):
        Settings()
