"""Models of a run's data: summary, histograms, step record and gradient check.

They document /openapi.json. The summary, histogram and step routes send bytes that
app.serialize made (never validated here, which keeps big answers fast), so these models
must say exactly what those bytes hold: nulls for non-finite values, and keys that a
narrowed request leaves out as not required (TypedDict keys, NotRequired). Per-layer
statistics and histogram tensors come from the engine's own tables.
"""

from typing import Annotated, Literal, NotRequired

from pydantic import BaseModel, Field, create_model
from typing_extensions import TypedDict

from engine.stats import HISTOGRAM_TENSORS, LAYER_STATS

Series = list[float | None]  # one entry per recorded step; null: not measured or not finite


class Tensor(TypedDict):
    """A matrix as rows; non-finite values are null."""

    shape: Annotated[list[int], Field(min_length=2, max_length=2, description="[rows, cols]")]
    data: Annotated[list[list[float | None]], Field(description="Rows; null: not finite.")]
    downsampled_from: NotRequired[Annotated[list[int], Field(
        min_length=2, max_length=2, description="Present when block-averaged to max_cells.")]]


class Batch(TypedDict):
    X: NotRequired[Tensor]
    Y: NotRequired[Tensor]
    indices: list[int]


class LinearCache(TypedDict, total=False):
    A_prev: Tensor
    W: Tensor
    b: Tensor


class ActivationCache(TypedDict, total=False):
    Z: Tensor


class Grads(TypedDict, total=False):
    dA: Tensor
    dZ: Tensor
    dW: Tensor
    db: Tensor


class Update(TypedDict):
    W: Annotated[Tensor, Field(description="W_{t+1} - W_t")]
    b: Annotated[Tensor, Field(description="b_{t+1} - b_t")]


class LayerRecord(TypedDict):
    l: int
    activation: str
    linear_cache: LinearCache
    activation_cache: ActivationCache
    A: NotRequired[Tensor]
    D: NotRequired[Annotated[Tensor | None, Field(description="Dropout mask; null without "
                                                              "dropout.")]]
    grads: Grads
    update: NotRequired[Update]


class StepRecord(TypedDict):
    """Step t: θ_t, the caches, the gradients and the applied update. A tensor that the
    `layers`/`fields` query leaves out is absent; `batch` is present unless `fields`
    names neither X nor Y."""

    run_id: str
    step: int
    epoch: int
    cost: float | None
    batch: NotRequired[Batch]
    layers: list[LayerRecord]


SummaryLayer = create_model(
    "SummaryLayer", __doc__="One layer's statistics, one series each (engine.stats).",
    l=(int, ...), activation=(str, ...), **{name: (Series, ...) for name in LAYER_STATS})


class Summary(TypedDict):
    """Series with one entry per recorded step; null where not measured or non-finite.
    The accuracies are null for regression, which has train_r2 and test_r2 instead."""

    steps: Annotated[int, Field(description="Steps recorded: the length of every series.")]
    cost: Series
    epoch: list[int]
    train_accuracy: Series | None
    test_accuracy: Series | None
    train_r2: NotRequired[Series]
    test_r2: NotRequired[Series]
    X_max_abs: Annotated[Series, Field(description="max |X| of each step's batch: with the "
                                                   "layers' ranges, a colour scale's range.")]
    layers: list[SummaryLayer]


# per tensor: its counts per bin, one list per step; and, where the engine gives them,
# the exact [min, max] of its finite entries per step ([null, null] when there are none)
HistogramLayer = TypedDict("HistogramLayer", {
    "l": int, **{name: list[list[int]] for name in HISTOGRAM_TENSORS},
    **{f"{name}_range": NotRequired[list[list[float | None]]] for name in HISTOGRAM_TENSORS}})


class Histograms(TypedDict):
    """Counts over fixed bins: (-inf, edges[0]), [edges[0], edges[1]), ..., [edges[-1], inf)."""

    steps: list[int]
    edges: list[float]
    layers: list[HistogramLayer]


class Boundary(TypedDict):
    """The model θ_t over a grid that spans the run's data, padded by 12 % (engine.boundary).
    kind "none" (more than 2 features) has no grid."""

    step: int
    kind: Literal["classification", "multiclass", "regression", "none"]
    x: NotRequired[Annotated[list[float], Field(description="The grid's first feature, "
                                                            "ascending.")]]
    y: NotRequired[Annotated[list[float], Field(description="The second feature, ascending "
                                                            "(2-D data only).")]]
    output: NotRequired[Annotated[Tensor, Field(
        description="(R, R), row i at y[i], column j at x[j]: P(y=1) for classification, "
                    "the predicted class for multiclass; (1, R), the prediction at x[j], for "
                    "regression. Null where not finite.")]]
    probability: NotRequired[Annotated[Tensor, Field(
        description="Multiclass only: the predicted class's output (R, R).")]]


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
