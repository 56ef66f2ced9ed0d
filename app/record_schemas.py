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

from engine.histograms import HISTOGRAM_TENSORS
from engine.stats import LAYER_STATS

Series = list[float | None]  # one entry per recorded step; null: not measured or not finite


class Tensor(TypedDict):
    """A matrix as rows; non-finite values are null."""

    shape: Annotated[list[int], Field(min_length=2, max_length=2, description="[rows, cols]")]
    data: Annotated[list[list[float | None]], Field(description="Rows; null: not finite.")]
    downsampled_from: NotRequired[Annotated[list[int], Field(
        min_length=2, max_length=2, description="Present when block-averaged to max_cells.")]]


class ByteTensor(TypedDict):
    """A matrix as a byte per cell, sent when asked for with encoding=u8 or u8delta: byte
    k < 255 is lo (1 - k/254) + hi k/254, within (hi - lo)/508 of the value; byte 255 is
    not finite."""

    shape: Annotated[list[int], Field(min_length=2, max_length=2, description="[rows, cols]")]
    lo: Annotated[float | None, Field(description="The least finite value; null if none.")]
    hi: Annotated[float | None, Field(description="The greatest finite value; null if none.")]
    bytes: Annotated[str, Field(description="Base64 of rows·cols bytes, row after row.")]
    delta: NotRequired[Annotated[bool, Field(
        description="encoding=u8delta: each row after the first holds (k - k_above) mod "
                    "255, where a non-finite cell above counts as 0; 255 stays not finite.")]]
    downsampled_from: NotRequired[Annotated[list[int], Field(
        min_length=2, max_length=2, description="Present when block-averaged to max_cells.")]]


AnyTensor = Tensor | ByteTensor  # rows of numbers, or bytes with encoding=u8


class Batch(TypedDict):
    X: NotRequired[AnyTensor]
    Y: NotRequired[AnyTensor]
    indices: list[int]


class LinearCache(TypedDict, total=False):
    A_prev: AnyTensor
    W: AnyTensor
    b: AnyTensor


class ActivationCache(TypedDict, total=False):
    Z: AnyTensor


class Grads(TypedDict, total=False):
    dA: AnyTensor
    dZ: AnyTensor
    dW: AnyTensor
    db: AnyTensor


class Update(TypedDict):
    W: Annotated[AnyTensor, Field(description="W_{t+1} - W_t")]
    b: Annotated[AnyTensor, Field(description="b_{t+1} - b_t")]


class LayerRecord(TypedDict):
    l: int
    activation: str
    linear_cache: LinearCache
    activation_cache: ActivationCache
    A: NotRequired[AnyTensor]
    D: NotRequired[Annotated[AnyTensor | None, Field(description="Dropout mask; null "
                                                                 "without dropout.")]]
    grads: Grads
    true_grads: NotRequired[Annotated[Grads, Field(
        description="A run whose config names a bug: the correct gradients at the same θ, "
                    "narrowed as grads.")]]
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
    The accuracies are null for regression, which has batch_r2, train_r2 and test_r2
    instead."""

    steps: Annotated[int, Field(description="Steps recorded: the length of every series.")]
    cost: Series
    epoch: list[int]
    batch_accuracy: Annotated[Series | None, Field(
        description="Every step's accuracy on its own batch, from the output the step "
                    "computed (with dropout's masks, if any).")]
    train_accuracy: Annotated[Series | None, Field(
        description="θ_t's accuracy on the whole training set, at the steps evaluated "
                    "(evaluated_every); null at the others.")]
    test_accuracy: Annotated[Series | None, Field(
        description="θ_t's accuracy on the test set, at the steps evaluated; null at the "
                    "others, and at every step without a test set.")]
    evaluated_every: Annotated[int, Field(
        description="k: the whole training and test sets are scored at every k-th step and "
                    "at the last one; 1 for full-batch runs (every step).", ge=1)]
    batch_r2: NotRequired[Series]
    train_r2: NotRequired[Series]
    test_r2: NotRequired[Series]
    X_max_abs: Annotated[Series, Field(description="max |X| of each step's batch: with the "
                                                   "layers' ranges, a colour scale's range.")]
    layers: list[SummaryLayer]


class Scores(TypedDict):
    """θ_t's scores on the whole training and test sets at some steps: the summary's where
    training scored them (evaluated_every), θ_t replayed at the others. The accuracies
    are null for regression, which has train_r2 and test_r2 instead."""

    steps: Annotated[list[int], Field(description="The steps scored, ascending.")]
    train_accuracy: Annotated[Series | None, Field(
        description="θ_t's accuracy on the whole training set, one entry per step.")]
    test_accuracy: Annotated[Series | None, Field(
        description="θ_t's accuracy on the test set; its entries are null without a "
                    "test set.")]
    train_r2: NotRequired[Series]
    test_r2: NotRequired[Series]


# per tensor: its counts per bin, one list per step; and, where the engine gives them,
# the exact [min, max] of its finite entries per step ([null, null] when there are none)
# and their exact percentiles at `percentiles` (nulls when there are none)
# and how many of its entries are not finite (left out of the others), per step
_EXACT = [f"{name}_{kind}" for kind in ("range", "percentiles") for name in HISTOGRAM_TENSORS]
HistogramLayer = TypedDict("HistogramLayer", {
    "l": int, **{name: list[list[int]] for name in HISTOGRAM_TENSORS},
    **{key: NotRequired[list[list[float | None]]] for key in _EXACT},
    **{f"{name}_non_finite": NotRequired[list[int]] for name in HISTOGRAM_TENSORS}})


class Histograms(TypedDict):
    """Counts over fixed bins: (-inf, edges[0]), [edges[0], edges[1]), ..., [edges[-1], inf);
    and the percentiles (in %) at which each tensor's `{name}_percentiles` are taken."""

    steps: list[int]
    edges: list[float]
    percentiles: NotRequired[list[float]]
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
    output: NotRequired[Annotated[AnyTensor, Field(
        description="(R, R), row i at y[i], column j at x[j]: P(y=1) for classification, "
                    "the predicted class for multiclass (always rows of numbers); (1, R), "
                    "the prediction at x[j], for regression. Null where not finite.")]]
    probability: NotRequired[Annotated[AnyTensor, Field(
        description="Multiclass only: the predicted class's output (R, R).")]]


class Predictions(TypedDict):
    """The class the network predicts for each example of step t's batch."""

    step: int
    classes: Annotated[list[int | None], Field(
        description="In the order of batch.indices: the first largest output (A > 0.5 for "
                    "one output unit); null where the example's output is not finite.")]


class ExampleImage(TypedDict):
    """One training example as the data had it, before standardizing: a picture of whole
    grey levels (engine.datasets.example_image)."""

    index: Annotated[int, Field(description="The training example, as in batch.indices.")]
    image_shape: Annotated[list[int], Field(min_length=2, max_length=2,
                                            description="[rows, cols]: [8, 8] for digits.")]
    pixels: Annotated[list[list[int]], Field(description="Rows from the top, each from the "
                                                         "left: the grey level of a pixel.")]
    levels: Annotated[list[int], Field(min_length=2, max_length=2,
                                       description="[no ink, full ink]: [0, 16] for digits.")]


class UnitMap(TypedDict):
    """One unit's A over the grid, a byte a point: byte k < 255 is lo + (hi - lo) k / 254,
    byte 255 a value that is not finite."""

    unit: Annotated[int, Field(description="The row of A[l], from 0.")]
    lo: Annotated[float | None, Field(description="The least finite value; null if none.")]
    hi: Annotated[float | None, Field(description="The greatest finite value; null if none.")]
    bytes: Annotated[str, Field(description="Base64 of R·R bytes: row i (at the i-th y, "
                                            "ascending) after row i - 1, column j at the "
                                            "j-th x.")]


class UnitMaps(TypedDict):
    """What each hidden unit has learned: A[l] of θ_t, without dropout, over an R × R grid
    that spans the run's 2-D data, padded by 12 % (engine.unit_maps)."""

    step: int
    layer: int
    activation: str
    resolution: Annotated[int, Field(description="R: grid points along each axis.")]
    x: Annotated[list[float], Field(min_length=2, max_length=2,
                                    description="The grid's first and last x₁, evenly spaced.")]
    y: Annotated[list[float], Field(min_length=2, max_length=2,
                                    description="The grid's first and last x₂, evenly spaced.")]
    units: list[UnitMap]
    levels: Annotated[int, Field(description="Bytes 0 to levels carry values (254).")]
    non_finite: Annotated[int, Field(description="The byte of NaN, inf and -inf (255).")]


# why a relative difference is not finite (engine.gradcheck._non_finite)
NonFinite = Annotated[Literal["analytic", "cost", "numerical", "norm"] | None, Field(
    description="Why relative_difference is not finite, or null: analytic (backprop's dW "
    "or db is not finite), cost (backprop's are finite, but J(θ±ε) is not, so there is no "
    "numerical gradient), numerical (finite costs whose difference quotient overflows), "
    "norm (finite entries whose norms overflow).")]


class GradcheckLayer(BaseModel):
    l: int
    relative_difference: float | None = Field(
        description="‖g − g_num‖ / (‖g‖ + ‖g_num‖) over this layer's compared W and b "
                    "entries; null when not finite (non_finite says why), or when every "
                    "checked entry was skipped at a kink, so that nothing was compared.")
    checked: int = Field(description="Entries of W and b evaluated, kinks included.")
    total: int = Field(description="Entries of W and b in the layer.")
    skipped_at_kinks: int = Field(description="Checked entries left out of the comparison "
                                              "because ±ε flipped a ReLU on or off.")
    analytic_norm: float | None = Field(description="‖g‖: the norm of backprop's gradient "
                                                    "over the compared entries.")
    non_finite: NonFinite
    within_noise: bool = Field(description="‖g − g_num‖ over this layer is within the "
                                           "rounding noise of its differences (a layer whose "
                                           "gradients are tiny may be above threshold and "
                                           "still agree); false where not finite.")


class Gradcheck(BaseModel):
    """Centred differences (ε = epsilon) against the analytic gradients at one step."""

    step: int
    epsilon: float
    threshold: float = Field(description="The course's bound: above it, backprop is wrong.")
    layers: list[GradcheckLayer]
    relative_difference: float | None = Field(
        description="Over every compared entry; null when not finite (non_finite says why) "
                    "or when nothing was compared; passed is then false.")
    non_finite: NonFinite
    passed: bool = Field(description="relative_difference below threshold, or the "
                                     "difference within noise_floor; false if not finite.")
    sampled: bool = Field(description="True when some layer checked only a sample of its "
                                      "entries (checked < total).")
    skipped_at_kinks: int = Field(description="Entries left out of the comparison because "
                                              "the ±ε perturbation flipped a ReLU on or off.")
    noise_floor: float | None = Field(
        description="Rounding noise expected in ‖g − g_num‖ with this cost and ε; a "
                    "difference within it passes. Null when the cost is not finite.")
