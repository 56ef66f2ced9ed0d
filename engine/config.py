"""Run configs: field names, choices, limits and defaults (docs/api.md).

`normalize_config(raw)` checks a user's dict and returns the complete config
with every default filled in. A bad value raises ConfigError, a ValueError
whose message names the field and the limit.
"""

import json
import math
from typing import NamedTuple

from engine.activations import ACTIVATIONS, OUTPUT_ONLY
from engine.datasets import CATALOGUE, dataset_size, split_sizes
from engine.initializers import INITS
from engine.losses import LOSSES
from engine.mistakes import BUGS
from engine.optimizers import DEFAULTS as OPTIMIZER_DEFAULTS
from engine.optimizers import HYPERPARAMETERS, OPTIMIZERS


class ConfigError(ValueError):
    """An invalid run config; `field` names the offending field."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field = field


class Limit(NamedTuple):
    """A numeric field's range; an open end excludes its bound."""

    kind: str  # "int" or "float"
    low: float
    high: float | None  # None: bounded by something else (batch_size: the train set)
    low_open: bool = False
    high_open: bool = False


# the server may widen the maxima of n_samples and steps
LIMITS = {
    "n_samples": Limit("int", 20, 2000),
    "noise": Limit("float", 0.0, 1.0),
    "test_fraction": Limit("float", 0.0, 0.5),
    "learning_rate": Limit("float", 0.0, 10.0, low_open=True),
    "steps": Limit("int", 1, 2000),
    "batch_size": Limit("int", 1, None),
    "l2": Limit("float", 0.0, 10.0),
    "keep_prob": Limit("float", 0.0, 1.0, low_open=True),
    "seed": Limit("int", 0, 2**32 - 1),
    # at β = 1 the moving averages never move (and Adam's correction divides by 0)
    "beta": Limit("float", 0.0, 1.0, high_open=True),
    "beta1": Limit("float", 0.0, 1.0, high_open=True),
    "beta2": Limit("float", 0.0, 1.0, high_open=True),
    "epsilon": Limit("float", 0.0, 1.0, low_open=True),
}
MAX_HIDDEN_LAYERS = 6
MAX_WIDTH = 128
# a hidden layer's activation when the config names none (the output's is the dataset's)
HIDDEN_ACTIVATION = "relu"

DEFAULT_CONFIG = {
    "dataset": "moons",
    "n_samples": 400,
    "noise": None,
    "test_fraction": 0.2,
    "hidden_layers": [8, 8],
    "activations": None,
    "loss": None,
    "init": "he",
    "optimizer": "gd",
    "learning_rate": 0.5,
    "batch_size": None,
    "l2": 0.0,
    "keep_prob": 1.0,
    "steps": 300,
    "seed": 1,
    **OPTIMIZER_DEFAULTS,
    "bug": None,  # or a classic mistake that training then runs (engine.mistakes)
}
CHOICES = {
    "dataset": list(CATALOGUE),
    "activations": list(ACTIVATIONS),
    "loss": list(LOSSES),
    "init": list(INITS),
    "optimizer": list(OPTIMIZERS),
    "bug": list(BUGS),
}


def _choice(field, value, names):
    if not isinstance(value, str) or value not in names:
        raise ConfigError(field, f"unknown name {value!r}; choose one of {', '.join(names)}")
    return value


def short_number(value) -> str | None:
    """How a message quotes a huge int: 1e+308 rather than its 309 digits (a JSON body's
    1e308 arrives as that int: app.json_body reads whole numbers as ints); None for any
    other value, which is quoted as it is."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) < 10**16:
        return None
    try:
        return f"{float(value):.6g}"
    except OverflowError:
        return "an integer beyond 1.8e+308"


def shown(value) -> str:
    """A rejected value as a message quotes it: a huge int as short_number does; a string as
    Python writes it ('abc', as a query's text came); anything else as the client wrote it
    in JSON (true, null, NaN, Infinity, {"a": 1}), not as Python prints it (True, None)."""
    number = short_number(value)
    if number is not None:
        return number
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _number(field, value, limit=None):
    """Check type and range of a numeric field; returns it as int or float."""
    kind, low, high, low_open, high_open = Limit(*(limit or LIMITS[field]))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(field, f"must be a number, got {shown(value)}")
    # compare before converting: int(inf) and float(10**400) raise
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(field, f"must be a finite number, got {shown(value)}")
    if value < low or (low_open and value == low):
        raise ConfigError(field, f"must be {'>' if low_open else '>='} {low}, "
                                 f"got {shown(value)}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ConfigError(field, f"must be {'<' if high_open else '<='} {high}, "
                                 f"got {shown(value)}")
    if kind == "int" and value != int(value):
        raise ConfigError(field, f"must be a whole number, got {value!r}")
    # + 0.0 turns -0.0 into 0.0: one number, one id and one dataset (sklearn refuses a noise
    # of -0.0)
    return int(value) if kind == "int" else float(value) + 0.0


def _hidden_layers(value, max_layers, max_width):
    if not isinstance(value, list):
        raise ConfigError("hidden_layers", "must be a list of layer widths, like [8, 8]")
    if len(value) > max_layers:
        raise ConfigError("hidden_layers", f"at most {max_layers} hidden layers, got {len(value)}")
    # each width named by its place, hidden_layers.1, as the API's schema names them
    return [_number(f"hidden_layers.{k}", w, Limit("int", 1, max_width))
            for k, w in enumerate(value)]


def _activations(value, L, info):
    if value is None:
        return [HIDDEN_ACTIVATION] * (L - 1) + [info.output_activation]
    if not isinstance(value, list) or len(value) != L:
        got = f"a list of {len(value)}" if isinstance(value, list) else shown(value)[:60]
        raise ConfigError("activations", f"give one activation per layer, output included: "
                          f"{L} for {L - 1} hidden layers, got {got}")
    names = [_choice("activations", a, list(ACTIVATIONS)) for a in value]
    if any(a in OUTPUT_ONLY for a in names[:-1]):
        raise ConfigError("activations", "softmax is for the output layer only")
    return names


# the losses that read outputs as probabilities, and the output activation each needs
OUTPUT_OF_LOSS = {"binary_cross_entropy": "sigmoid", "categorical_cross_entropy": "softmax"}
OUTPUT_WORDS = {"sigmoid": "a sigmoid output layer (outputs in (0, 1))",
                "softmax": "a softmax output"}


def _check_pairing(loss, output, info, loss_given):
    """Losses that read outputs as probabilities need a matching output activation. A
    mismatch names the loss if the config gave it, else the activations it gave (the loss
    is then the dataset's own)."""
    if output == "softmax" and info.n_y < 2:
        raise ConfigError("activations", f"softmax needs at least 2 output units; {info.name} "
                          f"has 1, use {info.output_activation}")
    if loss != "mse" and info.task == "regression":
        raise ConfigError("loss", f"{loss} needs class labels; {info.name} is regression, use mse")
    needed = OUTPUT_OF_LOSS.get(loss)
    if needed and output != needed:
        words = OUTPUT_WORDS[needed]
        if loss_given:
            raise ConfigError("loss", f"{loss} needs {words}, got {output}")
        raise ConfigError("activations", f"the output layer's {output} does not suit the "
                          f"loss of {info.name}, {loss}, which needs {words}; "
                          f"end with {needed}, or set loss to one that suits "
                          f"{output}{_losses_for(output, info)}")


def _losses_for(output, info) -> str:
    """" (binary_cross_entropy or mse)": the losses that an output activation may take on a
    dataset's targets, as _check_pairing allows them."""
    fits = [loss for loss in LOSSES if OUTPUT_OF_LOSS.get(loss, output) == output
            and not (info.task == "regression" and loss != "mse")]
    return f" ({' or '.join(fits)})"


def unread_as_defaults(config: dict) -> dict:
    """The config with each setting it holds that nothing reads set to its default (a new
    dict): they change nothing, so one run has one config and one id. Those are the
    optimizer hyper-parameters its optimizer does not read, the noise of a bundled
    dataset (digits, iris, breast_cancer: real data, made no noisier), and keep_prob
    without a hidden layer (dropout drops hidden units only). A run id's config passes
    here as it came (app.deps): a field it lacks is not added, and an unknown optimizer
    reads none."""
    read = HYPERPARAMETERS.get(config.get("optimizer"), ())
    unread = {name: default for name, default in OPTIMIZER_DEFAULTS.items()
              if name in config and name not in read}
    info = CATALOGUE.get(config.get("dataset")) if isinstance(config.get("dataset"), str) \
        else None
    if "noise" in config and info is not None and info.fixed_size:
        unread["noise"] = info.default_noise
    if "keep_prob" in config and config.get("hidden_layers") == []:
        unread["keep_prob"] = DEFAULT_CONFIG["keep_prob"]
    return {**config, **unread}


def _fit_left_out_defaults(cfg, raw, limits, max_layers, max_width):
    """A field that raw leaves out takes its default, or a server's narrower limit where
    the default is beyond it (400 samples where BPL_MAX_SAMPLES is 300; two hidden layers
    of 8 where one of 4 is the most): an empty config, the page's first run, runs on any
    server. A value that raw gives is checked as it is."""
    for field, limit in limits.items():
        default, limit = DEFAULT_CONFIG.get(field), Limit(*limit)
        if raw.get(field) is None and default is not None and limit.high is not None \
                and not limit.high_open and default > limit.high:
            cfg[field] = limit.high
    if raw.get("hidden_layers") is None:
        cfg["hidden_layers"] = [min(width, max_width)
                                for width in DEFAULT_CONFIG["hidden_layers"][:max_layers]]


def _limit(field, limits, info):
    """The range a field is checked against: the server's, but for real data's n_samples,
    which it does not read (its size is its own), the wider of the server's and the
    engine's, so that a server with fewer samples than digits still serves digits."""
    limit = Limit(*limits[field])
    if field != "n_samples" or not info.fixed_size:
        return limit
    base = LIMITS[field]
    return limit._replace(high=None if None in (limit.high, base.high)
                          else max(limit.high, base.high))


def normalize_config(raw, max_layers=MAX_HIDDEN_LAYERS, max_width=MAX_WIDTH, limits=None):
    """The complete, checked config for a user's (possibly partial) dict."""
    if not isinstance(raw, dict):
        raise ConfigError("config", "must be a JSON object of run settings")
    unknown = sorted(set(raw) - set(DEFAULT_CONFIG))
    if unknown:
        known = ", ".join(DEFAULT_CONFIG)
        raise ConfigError(unknown[0], f"unknown field; known fields are {known}")
    limits = {**LIMITS, **(limits or {})}
    cfg = {**DEFAULT_CONFIG, **{k: v for k, v in raw.items() if v is not None}}
    for field in ("activations", "loss", "noise", "batch_size"):
        cfg[field] = raw.get(field)
    info = CATALOGUE[_choice("dataset", cfg["dataset"], CHOICES["dataset"])]
    for field in ("init", "optimizer"):
        _choice(field, cfg[field], CHOICES[field])
    if cfg["bug"] is not None:
        _choice("bug", cfg["bug"], CHOICES["bug"])
    _fit_left_out_defaults(cfg, raw, limits, max_layers, max_width)
    for field in limits:
        if cfg.get(field) is not None and field != "batch_size":
            cfg[field] = _number(field, cfg[field], _limit(field, limits, info))
    cfg["hidden_layers"] = _hidden_layers(cfg["hidden_layers"], max_layers, max_width)
    cfg = unread_as_defaults(cfg)
    L = len(cfg["hidden_layers"]) + 1
    cfg["activations"] = _activations(cfg["activations"], L, info)
    cfg["loss"] = _choice("loss", cfg["loss"] or info.loss, CHOICES["loss"])
    _check_pairing(cfg["loss"], cfg["activations"][-1], info,
                   loss_given=raw.get("loss") is not None)
    if info.fixed_size:
        cfg["n_samples"] = dataset_size(info.name, cfg["n_samples"])
    if cfg["noise"] is None:
        cfg["noise"] = info.default_noise
    m_train, _ = split_sizes(cfg["n_samples"], cfg["test_fraction"])
    if cfg["batch_size"] is not None:
        cfg["batch_size"] = _number("batch_size", cfg["batch_size"], limits["batch_size"])
        if cfg["batch_size"] > m_train:
            raise ConfigError("batch_size", f"must be <= {m_train}, the number of training "
                              f"examples ({cfg['n_samples']} samples, less a test_fraction "
                              f"of {cfg['test_fraction']:g}), got {shown(cfg['batch_size'])}")
        if cfg["batch_size"] == m_train:
            cfg["batch_size"] = None  # one batch of everything is full-batch training
    return {k: cfg[k] for k in DEFAULT_CONFIG}


def layer_dims(config):
    """[n_x, n_1, ..., n_L] for a normalized config."""
    info = CATALOGUE[config["dataset"]]
    return [info.n_x, *config["hidden_layers"], info.n_y]
