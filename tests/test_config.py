"""Tests for engine.config: defaults, every end of the documented ranges, and named errors."""

import math

import pytest

from engine.config import (
    CHOICES,
    DEFAULT_CONFIG,
    LIMITS,
    ConfigError,
    layer_dims,
    normalize_config,
    unread_as_defaults,
)
from engine.datasets import CATALOGUE, split_sizes
from engine.optimizers import DEFAULTS as OPTIMIZER_DEFAULTS
from engine.run import Run

M_TRAIN_DEFAULT = split_sizes(400, 0.2)[0]  # 320 training examples of the default moons


def test_defaults_are_filled():
    cfg = normalize_config({})
    assert list(cfg) == list(DEFAULT_CONFIG)
    assert cfg["dataset"] == "moons" and cfg["noise"] == CATALOGUE["moons"].default_noise
    assert cfg["activations"] == ["relu"] * len(cfg["hidden_layers"]) + ["sigmoid"]
    assert cfg["loss"] == "binary_cross_entropy"
    assert cfg["batch_size"] is None
    assert cfg["beta"] == 0.9 and cfg["beta1"] == 0.9 and cfg["beta2"] == 0.999
    assert cfg["epsilon"] == 1e-8
    assert normalize_config(cfg) == cfg, "normalizing is idempotent"


@pytest.mark.parametrize(("dataset", "output", "loss"), [
    ("moons", "sigmoid", "binary_cross_entropy"),
    ("spiral", "softmax", "categorical_cross_entropy"),
    ("sine", "linear", "mse"),
    ("digits", "softmax", "categorical_cross_entropy"),
    ("breast_cancer", "sigmoid", "binary_cross_entropy"),
])
def test_dataset_natural_head_is_the_default(dataset, output, loss):
    cfg = normalize_config({"dataset": dataset, "hidden_layers": [5]})
    assert cfg["activations"] == ["relu", output] and cfg["loss"] == loss
    info = CATALOGUE[dataset]
    assert layer_dims(cfg) == [info.n_x, 5, info.n_y]


@pytest.mark.parametrize("bug", [None, *CHOICES["bug"]])
def test_bug_is_null_or_a_classic_mistake(bug):
    cfg = normalize_config({"bug": bug})
    assert cfg["bug"] == bug
    assert normalize_config(cfg) == cfg
    assert normalize_config({})["bug"] is None


def test_an_unknown_bug_lists_the_mistakes():
    with pytest.raises(ConfigError, match=r"^bug: unknown name 'off_by_one'; choose one of "
                                          r"activation_cache_holds_A, missing_1_over_m"):
        normalize_config({"bug": "off_by_one"})


def test_the_six_classic_mistakes():
    assert CHOICES["bug"] == [
        "activation_cache_holds_A", "missing_1_over_m", "no_activation_derivative",
        "wrong_update_sign", "dropout_mask_forgotten_in_backward", "l2_gradient_missing"]


def test_real_data_ignores_n_samples():
    assert normalize_config({"dataset": "iris", "n_samples": 20})["n_samples"] == 150


@pytest.mark.parametrize(("dataset", "size"), [("digits", 1797), ("breast_cancer", 569)])
def test_real_data_is_served_whatever_a_servers_limit_on_n_samples(dataset, size):
    """A server with BPL_MAX_SAMPLES=300 answered 201 to digits, then 404 to its id: the
    normalized config's 1,797 failed the check of the id's config."""
    narrow = {"limits": {"n_samples": ("int", 20, 300, False)}}
    config = normalize_config({"dataset": dataset}, **narrow)
    assert config["n_samples"] == size
    assert normalize_config(config, **narrow) == config
    for wrong in (5, 2001, "abc", True):  # out of the contract's range: still refused
        with pytest.raises(ConfigError):
            normalize_config({"dataset": dataset, "n_samples": wrong}, **narrow)


def test_input_is_not_modified():
    raw = {"hidden_layers": [3, 4], "activations": ["tanh", "tanh", "sigmoid"]}
    copy = {k: list(v) for k, v in raw.items()}
    cfg = normalize_config(raw)
    assert raw == copy
    cfg["hidden_layers"].append(9)
    assert raw == copy


# every end of every range in docs/api.md, each of which must be served
VALID = [
    {"learning_rate": 10},
    {"learning_rate": 10.0},
    {"learning_rate": 1e-12},
    {"steps": 1},
    {"steps": 2000},
    {"n_samples": 20},
    {"n_samples": 2000},
    {"batch_size": 1},
    {"batch_size": M_TRAIN_DEFAULT},
    {"n_samples": 20, "batch_size": split_sizes(20, 0.2)[0]},
    {"keep_prob": 1.0},
    {"keep_prob": 1},
    {"keep_prob": 1e-9},
    {"l2": 0},
    {"l2": 10},
    {"seed": 0},
    {"seed": 2**32 - 1},
    {"hidden_layers": []},
    {"hidden_layers": [1]},
    {"hidden_layers": [128] * 6},
    {"hidden_layers": [1] * 6},
    {"steps": 2000.0},
    {"activations": ["leaky_relu", "tanh", "sigmoid"]},
    {"activations": ["linear", "sigmoid", "relu"], "loss": "mse"},
    {"dataset": "spiral", "activations": ["tanh", "sigmoid", "softmax"], "loss": "mse"},
    {"dataset": "digits", "activations": ["relu", "relu", "sigmoid"],
     "loss": "binary_cross_entropy"},
    {"dataset": "sine", "activations": ["tanh", "tanh", "tanh"]},
    *({"init": name} for name in CHOICES["init"]),
    *({"optimizer": name} for name in CHOICES["optimizer"]),
    *({"dataset": name} for name in CHOICES["dataset"]),
]


@pytest.mark.parametrize("raw", VALID, ids=lambda raw: repr(raw)[:60])
def test_valid_configs_are_accepted(raw):
    cfg = normalize_config(raw)
    for field, value in raw.items():
        if field == "batch_size":
            continue
        if field != "n_samples" or not CATALOGUE[cfg["dataset"]].fixed_size:
            assert cfg[field] == value
    assert type(cfg["steps"]) is int and type(cfg["seed"]) is int
    assert type(cfg["learning_rate"]) is float


def test_full_batch_size_means_full_batch():
    assert normalize_config({"batch_size": M_TRAIN_DEFAULT})["batch_size"] is None
    assert normalize_config({"batch_size": 1})["batch_size"] == 1


BIG = 10**400  # a JSON integer Python parses but float() cannot hold

INVALID = [
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"learning_rate": -0.1}, "learning_rate"),
    ({"learning_rate": 10.0001}, "learning_rate"),
    ({"learning_rate": math.nan}, "learning_rate"),
    ({"learning_rate": math.inf}, "learning_rate"),
    ({"learning_rate": "0.1"}, "learning_rate"),
    ({"learning_rate": True}, "learning_rate"),
    ({"learning_rate": [1]}, "learning_rate"),
    ({"steps": 0}, "steps"),
    ({"steps": 2001}, "steps"),
    ({"steps": 1.5}, "steps"),
    ({"steps": True}, "steps"),
    ({"steps": "10"}, "steps"),
    ({"n_samples": 19}, "n_samples"),
    ({"n_samples": 2001}, "n_samples"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": M_TRAIN_DEFAULT + 1}, "batch_size"),
    ({"batch_size": 2.5}, "batch_size"),
    ({"batch_size": "32"}, "batch_size"),
    ({"n_samples": 20, "batch_size": 17}, "batch_size"),
    ({"keep_prob": 0}, "keep_prob"),
    ({"keep_prob": 1.01}, "keep_prob"),
    ({"keep_prob": -0.5}, "keep_prob"),
    ({"l2": -1}, "l2"),
    ({"l2": 10.5}, "l2"),
    ({"l2": [1]}, "l2"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**32}, "seed"),
    ({"seed": 0.5}, "seed"),
    ({"hidden_layers": [4] * 7}, "hidden_layers"),
    ({"hidden_layers": [0]}, "hidden_layers.0"),
    ({"hidden_layers": [129]}, "hidden_layers.0"),
    ({"hidden_layers": [8, -1]}, "hidden_layers.1"),
    ({"hidden_layers": [8, 2.5]}, "hidden_layers.1"),
    ({"hidden_layers": [True]}, "hidden_layers.0"),  # each width by its place
    ({"hidden_layers": 8}, "hidden_layers"),
    ({"hidden_layers": "8,8"}, "hidden_layers"),
    ({"dataset": "mnist"}, "dataset"),
    ({"dataset": 3}, "dataset"),
    ({"activations": ["relu", "swish", "sigmoid"]}, "activations"),
    ({"activations": ["relu", "sigmoid"]}, "activations"),
    ({"activations": ["relu", "relu", "relu", "sigmoid"]}, "activations"),
    ({"hidden_layers": [4], "activations": ["relu", "relu", "sigmoid"]}, "activations"),
    ({"activations": "relu"}, "activations"),
    ({"activations": ["relu", 1, "sigmoid"]}, "activations"),
    ({"dataset": "spiral", "activations": ["softmax", "relu", "softmax"]}, "activations"),
    ({"activations": ["relu", "relu", "softmax"], "loss": "mse"}, "activations"),
    ({"loss": "hinge"}, "loss"),
    ({"loss": "binary_cross_entropy", "activations": ["relu", "relu", "tanh"]}, "loss"),
    ({"dataset": "spiral", "loss": "categorical_cross_entropy",
      "activations": ["relu", "relu", "sigmoid"]}, "loss"),
    ({"dataset": "sine", "loss": "binary_cross_entropy",
      "activations": ["relu", "relu", "sigmoid"]}, "loss"),
    ({"dataset": "spiral", "loss": "binary_cross_entropy",
      "activations": ["relu", "relu", "softmax"]}, "loss"),
    # without a loss, the dataset's own: the activations given do not suit it
    ({"activations": ["relu", "relu", "tanh"]}, "activations"),
    ({"dataset": "spiral", "activations": ["relu", "relu", "sigmoid"]}, "activations"),
    ({"hidden_layers": [], "activations": ["softmax"]}, "activations"),
    ({"init": "orthogonal"}, "init"),
    ({"optimizer": "sgd"}, "optimizer"),
    ({"optimizer": ["adam"]}, "optimizer"),
    ({"momentum": 0.9}, "momentum"),
    ({"lr": 0.1}, "lr"),
    ({"epsilon": 0}, "epsilon"),
    ({"beta": 1.5}, "beta"),
    ({"test_fraction": 0.9}, "test_fraction"),
    ({"noise": -0.1}, "noise"),
    ({"bug": "off_by_one"}, "bug"),
    ({"bug": "Missing_1_over_m"}, "bug"),
    ({"bug": 1}, "bug"),
    ({"bug": ["wrong_update_sign"]}, "bug"),
]


@pytest.mark.parametrize(("raw", "field"), INVALID, ids=lambda v: repr(v)[:60])
def test_invalid_configs_name_the_field(raw, field):
    with pytest.raises(ConfigError) as info:
        normalize_config(raw)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("raw", "says"), [
    ({"activations": ["relu", "relu", "tanh"]},
     "activations: the output layer's tanh does not suit the loss of moons, binary_cross_entropy, "
     "which needs a sigmoid output layer (outputs in (0, 1)); "
     "end with sigmoid, or set loss to one that suits tanh (mse)"),
    # digits' sigmoid output also suits binary cross-entropy (the audit: "or mse" said less)
    ({"dataset": "digits", "activations": ["relu", "relu", "sigmoid"]},
     "activations: the output layer's sigmoid does not suit the loss of digits, "
     "categorical_cross_entropy, which needs a softmax output; end with softmax, or set loss "
     "to one that suits sigmoid (binary_cross_entropy or mse)"),
    # a regression's own output is linear, not sigmoid
    ({"dataset": "sine", "activations": ["relu", "relu", "softmax"]},
     "activations: softmax needs at least 2 output units; sine has 1, use linear"),
    ({"hidden_layers": [], "activations": ["softmax"]},
     "activations: softmax needs at least 2 output units; moons has 1, use sigmoid"),
    ({"hidden_layers": [], "activations": ["softmax"], "loss": "binary_cross_entropy"},
     "activations: softmax needs at least 2 output units; moons has 1, use sigmoid"),
    ({"activations": ["relu", "relu", "tanh"], "loss": "binary_cross_entropy"},
     "loss: binary_cross_entropy needs a sigmoid output layer (outputs in (0, 1)), got tanh"),
])
def test_a_mismatched_output_and_loss_names_what_the_config_gave(raw, says):
    with pytest.raises(ConfigError) as info:
        normalize_config(raw)
    assert str(info.value) == says


def test_a_batch_larger_than_the_training_set_says_where_the_limit_comes_from():
    with pytest.raises(ConfigError) as info:
        normalize_config({"batch_size": 400})
    assert str(info.value) == ("batch_size: must be <= 320, the number of training examples "
                               "(400 samples, less a test_fraction of 0.2), got 400")


def test_not_a_dict():
    with pytest.raises(ConfigError) as info:
        normalize_config([("steps", 3)])
    assert info.value.field == "config"


NON_FINITE_OR_HUGE = [
    ({"steps": math.inf}, "steps"),
    ({"steps": -math.inf}, "steps"),
    ({"seed": math.nan}, "seed"),
    ({"n_samples": math.nan}, "n_samples"),
    ({"hidden_layers": [math.inf]}, "hidden_layers.0"),
    ({"learning_rate": BIG}, "learning_rate"),
    ({"l2": -BIG}, "l2"),
]


@pytest.mark.parametrize(("raw", "field"), NON_FINITE_OR_HUGE, ids=lambda v: repr(v)[:40])
def test_non_finite_and_huge_numbers_raise_config_error(raw, field):
    with pytest.raises(ConfigError) as info:
        normalize_config(raw)
    assert info.value.field == field



@pytest.mark.parametrize("field", ["beta1", "beta2"])
def test_accepted_adam_betas_train(field):
    raw = {"optimizer": "adam", field: 1.0, "steps": 2, "n_samples": 40, "hidden_layers": [3]}
    try:
        cfg = normalize_config(raw)
    except ConfigError as err:
        assert err.field == field  # rejecting it, naming the field, is a fix too
        return
    run = Run(cfg).train()
    assert run.status == "done", run.diverged


HYPER = {"beta": 0.5, "beta1": 0.6, "beta2": 0.7, "epsilon": 0.01}


@pytest.mark.parametrize(("optimizer", "kept"), [
    ("gd", set()), ("momentum", {"beta"}), ("rmsprop", {"beta2", "epsilon"}),
    ("adam", {"beta1", "beta2", "epsilon"})])
def test_a_hyper_parameter_the_optimizer_does_not_read_is_its_default(optimizer, kept):
    """So that a run has one config, and one id, whatever unread values came with it."""
    cfg = normalize_config({"optimizer": optimizer, **HYPER})
    assert {k for k in HYPER if cfg[k] == HYPER[k]} == kept
    assert {k: cfg[k] for k in set(HYPER) - kept} == \
        {k: OPTIMIZER_DEFAULTS[k] for k in set(HYPER) - kept}


@pytest.mark.parametrize(("raw", "field", "default"), [
    ({"dataset": "digits", "noise": 0.9}, "noise", 0.0),  # real data: no noise is added
    ({"dataset": "iris", "noise": 0.3}, "noise", 0.0),
    ({"dataset": "breast_cancer", "noise": 1.0}, "noise", 0.0),
    ({"hidden_layers": [], "keep_prob": 0.5}, "keep_prob", 1.0),  # no hidden unit to drop
])
def test_a_setting_that_nothing_reads_is_its_default(raw, field, default):
    """So that a run has one config, and one id (a hostile client's audit: noise 0 and 0.9
    on digits made two runs, two trainings of the same numbers)."""
    assert normalize_config(raw)[field] == default
    assert unread_as_defaults(raw)[field] == default


@pytest.mark.parametrize(("raw", "field", "value"), [
    ({"dataset": "moons", "noise": 0.3}, "noise", 0.3),
    ({"hidden_layers": [4], "keep_prob": 0.5}, "keep_prob", 0.5),
])
def test_a_setting_that_is_read_is_kept(raw, field, value):
    assert normalize_config(raw)[field] == value


def test_an_unread_hyper_parameter_is_still_checked():
    with pytest.raises(ConfigError) as info:
        normalize_config({"optimizer": "gd", "beta": 2})
    assert info.value.field == "beta"


def test_server_may_allow_more():
    raw = {"hidden_layers": [200] * 8, "steps": 5000}
    with pytest.raises(ConfigError):
        normalize_config(raw)
    cfg = normalize_config(raw, max_layers=8, max_width=256,
                           limits={"steps": ("int", 1, 5000, False)})
    assert cfg["hidden_layers"] == [200] * 8 and cfg["steps"] == 5000


def test_limits_match_the_contract():
    assert LIMITS["learning_rate"] == ("float", 0.0, 10.0, True, False)
    assert LIMITS["steps"][1:3] == (1, 2000)
    assert LIMITS["n_samples"][1:3] == (20, 2000)
    assert LIMITS["keep_prob"] == ("float", 0.0, 1.0, True, False)
    assert LIMITS["l2"][1:3] == (0.0, 10.0)
    assert LIMITS["seed"][1:3] == (0, 2**32 - 1)
    assert CHOICES["activations"] == ["relu", "leaky_relu", "tanh", "sigmoid", "linear",
                                      "softmax"]
    assert CHOICES["loss"] == ["binary_cross_entropy", "categorical_cross_entropy", "mse"]
    assert CHOICES["init"] == ["course", "he", "xavier", "zeros", "uniform"]
    assert CHOICES["optimizer"] == ["gd", "momentum", "rmsprop", "adam"]


def test_activations_of_the_wrong_length_are_counted_not_quoted():
    """A list of thousands of names had been quoted whole: 70 KB of detail for a 65 KB body."""
    with pytest.raises(ConfigError) as refused:
        normalize_config({"hidden_layers": [4], "activations": ["relu"] * 5000})
    assert str(refused.value).endswith("2 for 1 hidden layers, got a list of 5000")
