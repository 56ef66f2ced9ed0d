"""Request and response models: they document the API in /openapi.json.

RunConfig's types, enums and ranges come from the engine's own tables and this server's
settings, so the schema cannot drift from the check; normalize_config stays the
authoritative check (pairings, activation count, batch size against the data).
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.settings import get_settings
from engine.config import CHOICES, DEFAULT_CONFIG, LIMITS

_settings = get_settings()
_SERVER_MAX = {"n_samples": _settings.max_samples, "steps": _settings.max_steps}

Dataset = Literal[tuple(CHOICES["dataset"])]
Activation = Literal[tuple(CHOICES["activations"])]
Loss = Literal[tuple(CHOICES["loss"])]
Init = Literal[tuple(CHOICES["init"])]
Optimizer = Literal[tuple(CHOICES["optimizer"])]
Width = Annotated[int, Field(ge=1, le=_settings.max_width)]
INTEGER_FIELDS = ("n_samples", "batch_size", "steps", "seed")


def _integral(value):
    """5.0 as 5: JSON has one number type, and JSON Schema's integer takes 5.0 too.
    5.5, "5" and true stay what they are, and strict validation refuses them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _limited(field, description, default=...):
    """A Field with the engine's range for `field` (the server may raise a maximum)."""
    _, low, high, low_open, high_open = LIMITS[field]
    high = _SERVER_MAX.get(field, high)
    bounds = {"gt" if low_open else "ge": low,
              **({} if high is None else {"lt" if high_open else "le": high})}
    default = DEFAULT_CONFIG[field] if default is ... else default
    return Field(default, description=description, **bounds)


class RunConfig(BaseModel):
    """A run config. Every field is optional; the server fills in the defaults."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              json_schema_extra={"examples": [
                                  {"dataset": "moons", "hidden_layers": [8, 8], "steps": 300}]})

    dataset: Dataset = Field(DEFAULT_CONFIG["dataset"])
    n_samples: int = _limited("n_samples", "Examples in total; fixed-size real data ignores it.")
    noise: float | None = _limited("noise", "Null: the dataset's own default.", None)
    test_fraction: float = _limited("test_fraction", "Share of examples held out for testing.")
    hidden_layers: list[Width] = Field(DEFAULT_CONFIG["hidden_layers"],
                                       max_length=_settings.max_hidden_layers,
                                       description="Width of each hidden layer.")
    activations: list[Activation] | None = Field(
        None, description="One per layer, the output layer included (softmax: output only). "
                          "Null: relu hidden layers and the dataset's natural output.")
    loss: Loss | None = Field(None, description="Null: the dataset's natural loss.")
    init: Init = Field(DEFAULT_CONFIG["init"])
    optimizer: Optimizer = Field(DEFAULT_CONFIG["optimizer"])
    learning_rate: float = _limited("learning_rate", "Step size α.")
    batch_size: int | None = Field(None, ge=1, description="Null: full batch. At most the "
                                                           "number of training examples.")
    l2: float = _limited("l2", "L2 strength λ; the cost adds (λ/2m) Σ‖W‖².")
    keep_prob: float = _limited("keep_prob", "Dropout keep probability for hidden layers.")
    steps: int = _limited("steps", "Training steps (iterations).")
    seed: int = _limited("seed", "Seeds the data, the initial weights, batches and dropout.")
    beta: float = _limited("beta", "Momentum's β.")
    beta1: float = _limited("beta1", "Adam's β₁.")
    beta2: float = _limited("beta2", "Adam's and RMSprop's β₂.")
    epsilon: float = _limited("epsilon", "Adam's and RMSprop's ε.")

    @model_validator(mode="before")
    @classmethod
    def _whole_numbers(cls, data):
        """Integer fields take whole numbers written as floats (before strict checks, so
        that the schema keeps its plain integer bounds)."""
        if not isinstance(data, dict):
            return data
        data = {k: _integral(v) if k in INTEGER_FIELDS else v for k, v in data.items()}
        if isinstance(data.get("hidden_layers"), list):
            data["hidden_layers"] = [_integral(v) for v in data["hidden_layers"]]
        return data


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Divergence(BaseModel):
    """The first non-finite value, in computation order: forward Z, A per layer; the cost;
    backward dA, dZ, dW, db from layer L down; then each layer's update."""

    step: int = Field(description="The step that holds it; training stopped there.")
    layer: int = Field(description="Its layer; L (the output layer) for the cost.")
    tensor: str = Field(description="Z, A, cost, dA, dZ, dW, db or update.")


class RunInfo(BaseModel):
    id: str = Field(description="Encodes the normalized config: valid in any server process.")
    config: RunConfig = Field(description="The normalized config, every default filled in.")
    status: Literal["running", "done", "diverged"]
    progress: float = Field(ge=0, le=1)
    num_steps: int = Field(description="Steps recorded so far (the final count when done).")
    diverged: Divergence | None


class GradcheckLayer(BaseModel):
    l: int
    relative_difference: float | None = Field(
        description="‖g − g_num‖ / (‖g‖ + ‖g_num‖) over this layer's checked W and b "
                    "entries; null when not finite.")
    checked: int = Field(description="Entries of W and b evaluated, kinks included.")
    total: int = Field(description="Entries of W and b in the layer.")


class Gradcheck(BaseModel):
    """Centred differences (ε = epsilon) against the analytic gradients at one step."""

    step: int
    epsilon: float
    threshold: float = Field(description="The course's bound: above it, backprop is wrong.")
    layers: list[GradcheckLayer]
    relative_difference: float | None = Field(
        description="Over every checked entry; null when not finite (passed is then false).")
    passed: bool = Field(description="relative_difference below threshold, or the "
                                     "difference within noise_floor; false if not finite.")
    sampled: bool = Field(description="True when some layer checked only a sample of its "
                                      "entries (checked < total).")
    skipped_at_kinks: int = Field(description="Entries left out of the comparison because "
                                              "the ±ε perturbation flipped a ReLU on or off.")
    noise_floor: float | None = Field(
        description="Rounding noise expected in ‖g − g_num‖ with this cost and ε; a "
                    "difference within it passes. Null when the cost is not finite.")


class ServerLimits(BaseModel):
    compute_budget: float = Field(description="Estimated flops one run may cost.")
    max_tensor_cells: int = Field(description="Larger tensors are block-averaged.")
    max_body_bytes: int
    sync_seconds: float = Field(description="POST /api/runs waits this long before 202.")


class Options(BaseModel):
    model_config = ConfigDict(extra="allow")

    datasets: list[dict[str, Any]]
    activations: list[str]
    losses: list[str]
    inits: list[str]
    optimizers: list[str]
    limits: dict[str, dict[str, Any]]
    default_config: dict[str, Any]
    server: ServerLimits


class Summary(BaseModel):
    """Series with one entry per recorded step; null where not measured or non-finite."""

    model_config = ConfigDict(extra="allow")

    cost: list[float | None]
    train_accuracy: list[float | None] | None = Field(description="Null for regression.")
    test_accuracy: list[float | None] | None
    train_r2: list[float | None] | None = Field(description="Regression only.")
    test_r2: list[float | None] | None
    layers: list[dict[str, Any]] = Field(description="Per layer: l, activation and one "
                                                     "series per statistic.")


class Tensor(BaseModel):
    shape: tuple[int, int]
    data: list[list[float | None]] = Field(description="Rows; non-finite values are null.")
    downsampled_from: tuple[int, int] | None = Field(
        None, description="Present when block-averaged to fit max_cells.")


class Batch(BaseModel):
    X: Tensor | None = None
    Y: Tensor | None = None
    indices: list[int]


class Update(BaseModel):
    W: Tensor
    b: Tensor


class LayerRecord(BaseModel):
    l: int
    activation: str
    linear_cache: dict[Literal["A_prev", "W", "b"], Tensor]
    activation_cache: dict[Literal["Z"], Tensor]
    A: Tensor | None = None
    D: Tensor | None = Field(None, description="Dropout mask; null without dropout.")
    grads: dict[Literal["dA", "dZ", "dW", "db"], Tensor]
    update: Update | None = Field(None, description="W_{t+1} - W_t and b_{t+1} - b_t.")


class StepRecord(BaseModel):
    """Step t: θ_t, the caches, the gradients and the applied update. Tensors that the
    `layers`/`fields` query leaves out are absent."""

    run_id: str
    step: int
    epoch: int
    cost: float | None
    batch: Batch | None = Field(None, description="Present unless `fields` omits X and Y.")
    layers: list[LayerRecord]
