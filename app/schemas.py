"""The run config, run info, options and error models: they document /openapi.json.

RunConfig's types, enums and ranges come from the engine's own tables, so the schema
cannot drift from the check; normalize_config stays the authoritative check (pairings,
activation count, batch size against the data). The bounds that a server's settings set
(SERVER_BOUNDED: samples, steps, layers and widths) are not in the models, which serve
every app: check_config applies them, and with_server_bounds writes them into the
OpenAPI document of each app. The models of a run's data (summary, step record, ...) are
in app.record_schemas.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from app.config_limits import engine_limits
from app.settings import Settings
from engine.config import CHOICES, DEFAULT_CONFIG, LIMITS, normalize_config

SERVER_BOUNDED = ("n_samples", "steps")  # maxima set by the settings (and hidden_layers)

Dataset = Literal[tuple(CHOICES["dataset"])]
Activation = Literal[tuple(CHOICES["activations"])]
Loss = Literal[tuple(CHOICES["loss"])]
Init = Literal[tuple(CHOICES["init"])]
Optimizer = Literal[tuple(CHOICES["optimizer"])]
Bug = Literal[tuple(CHOICES["bug"])]
Width = Annotated[int, Field(ge=1)]
INTEGER_FIELDS = ("n_samples", "batch_size", "steps", "seed")


def _integral(value):
    """5.0 as 5: JSON has one number type, and JSON Schema's integer takes 5.0 too.
    5.5, "5" and true stay what they are, and strict validation refuses them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _limited(field, description, default=...):
    """A Field with the engine's range for `field`, less a maximum that settings set
    (SERVER_BOUNDED)."""
    _, low, high, low_open, high_open = LIMITS[field]
    high = None if field in SERVER_BOUNDED else high
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
    bug: Bug | None = Field(None, description="Null: correct code. Else a classic mistake "
                                              "that training runs (its recorded gradients "
                                              "and updates are the mistaken ones).")

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
    id: str = Field(description="Encodes the normalized config, with a checksum: valid in "
                                "any server process.")
    config: RunConfig = Field(description="The normalized config, every default filled in.")
    status: Literal["running", "done", "diverged"]
    progress: float = Field(ge=0, le=1)
    num_steps: int = Field(description="Steps recorded so far (the final count when done).")
    diverged: Divergence | None
    bug_active: bool = Field(description="False without a bug, or when the config's bug "
                                         "cannot change any number of this run.")
    queue_position: int | None = Field(None, ge=0, description=(
        "While the run waits for a training thread of this process: how many waiting runs "
        "train before it (0: it is next). Null once it trains, and when it is done."))


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="Where: ['body', 'hidden_layers', 1].")
    msg: str
    type: str


class ConfigCheck(BaseModel):
    """POST /api/configs/check: what POST /api/runs would say of a config, as an answer."""

    valid: bool
    detail: str | None = Field(description="Why not, naming the field and the limit, as the "
                                           "422 of POST /api/runs would; null when valid.")
    errors: list[ValidationIssue] = Field(description="The body's validation errors, one "
                                                      "each; empty for a limit of this server.")
    config: RunConfig | None = Field(description="The normalized config, when valid.")


class RunIdCheck(BaseModel):
    """GET /api/run-ids/{run_id}: whether the run routes would take this id, as an answer."""

    valid: bool
    id: str | None = Field(description="The run's id, when valid: the id asked about, or the "
                                       "current id of an r1 id (which the run routes "
                                       "redirect).")
    detail: str | None = Field(description="Why not, when not valid: the run routes answer "
                                           "404 for it.")
    config: RunConfig | None = Field(description="The normalized config the id names, when "
                                                 "valid.")


class DatasetInfo(BaseModel):
    name: str
    task: Literal["binary", "multiclass", "regression"]
    n_x: int = Field(description="Features: rows of X.")
    n_y: int = Field(description="Output units: rows of Y.")
    classes: list[str]
    output_activation: str
    loss: str
    fixed_size: bool = Field(description="Real data of a fixed size ignores n_samples.")
    default_noise: float
    description: str
    default_config: RunConfig = Field(description=(
        "The complete config a run of this dataset gets when only the dataset is given."))
    default_hidden_activation: str = Field(description=(
        "Each hidden layer's activation when a config names none."))


class Range(BaseModel):
    type: Literal["int", "float"]
    # int | float: an int field's bounds stay integers (20, not 20.0)
    min: int | float
    max: int | float | None = Field(description="Null: no fixed maximum (batch_size: the "
                                                "training examples).")
    min_exclusive: bool
    max_exclusive: bool


class HiddenLayersLimit(BaseModel):
    max_layers: int
    min_width: int
    max_width: int


# one Range per limited config field, named as in the engine's table
Limits = create_model("Limits", **{name: (Range, ...) for name in LIMITS},
                      hidden_layers=(HiddenLayersLimit, ...))


class ServerLimits(BaseModel):
    compute_budget: float = Field(description="Estimated flops one run may cost.")
    max_tensor_cells: int = Field(description="Larger tensors are block-averaged.")
    max_answer_cells: int = Field(description="Cells one step answer may hold; a request "
                                              "for more answers 422.")
    max_body_bytes: int
    sync_seconds: float = Field(description="POST /api/runs waits this long before 202.")


class Options(BaseModel):
    model_config = ConfigDict(extra="allow")  # a choice the engine adds is never dropped

    datasets: list[DatasetInfo]
    activations: list[str]
    output_only_activations: list[str]
    losses: list[str]
    inits: list[str]
    optimizers: list[str]
    bugs: list[str] = Field(description="The classic mistakes a config's bug may name.")
    optimizer_hyperparameters: dict[str, list[str]] = Field(
        description="The config fields each optimizer reads.")
    limits: Limits
    default_config: RunConfig
    gradcheck_threshold: float
    histogram_edges: list[float] = Field(description="Inner bin edges of the histograms.")
    server: ServerLimits


class ErrorBody(BaseModel):
    detail: str = Field(description="Human-readable; starts with the field it is about.")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query or path, then the field.")
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """Every 422: `detail` names each bad field; `errors` lists them one by one when the
    request failed validation of its fields (not for a failed check of its values)."""

    detail: str = Field(description="'field: message, got value', joined by '; '.")
    errors: list[FieldError] = Field(default_factory=list)


def error(description: str) -> dict:
    """An error status's entry in a route's `responses`."""
    return {"model": ErrorBody, "description": description}


INVALID = {422: {"model": ValidationErrorBody,
                 "description": "Invalid input; `detail` names the field"}}
# a route that would have to train (a new config, or an id whose run this process does
# not hold) goes through admission (app.admission)
ADMISSION = {429: {**error("Too many runs in flight for this client or address; `detail` "
                           "names the limit"),
                   "headers": {"Retry-After": {"schema": {"type": "integer"},
                                               "description": "Seconds to wait"}}},
             403: error("A cross-site request (Sec-Fetch-Site: cross-site) would have to "
                        "train this run; it is served only if this process holds it")}
# routes whose answers take turns as big answers (app.answer_size.BigAnswerSlots)
BUSY = {503: error("Busy building other large answers; see Retry-After")}
# every route that names a run by id
NOT_FOUND = {**ADMISSION, 404: error("Run not found (an unknown or altered id)"),
             308: {**error("An id of the earlier r1 format: Location is the same route "
                           "with the run's r2 id"),
                   "headers": {"Location": {"schema": {"type": "string"},
                                            "description": "The route with the r2 id"}}}}


def server_bounds(settings: Settings) -> dict:
    """RunConfig's JSON Schema keywords that this server's settings set, by field: the
    maxima, and the defaults within them (engine.config fits a left-out field's default
    to a narrower limit)."""
    defaults = normalize_config({}, **engine_limits(settings))
    return {"n_samples": {"maximum": settings.max_samples, "default": defaults["n_samples"]},
            "steps": {"maximum": settings.max_steps, "default": defaults["steps"]},
            "hidden_layers": {"maxItems": settings.max_hidden_layers,
                              "items": {"type": "integer", "minimum": 1,
                                        "maximum": settings.max_width},
                              "default": defaults["hidden_layers"]}}


def with_server_bounds(document: dict, settings: Settings) -> dict:
    """An OpenAPI document with this server's bounds in RunConfig's fields (in place)."""
    fields = document["components"]["schemas"]["RunConfig"]["properties"]
    for field, keywords in server_bounds(settings).items():
        fields[field].update(keywords)
    return document
