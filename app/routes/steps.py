"""One step's full record, narrowed by query and sent at full or display precision
(digits, encoding: app.serialize's forms), its gradient check, and the classes it predicts.

An answer's size is counted from shapes before it is built (app.answer_size): beyond the
ceiling it is refused, and big ones take turns. A finished run's step answers are kept as
JSON bytes (app.step_answer_cache), so repeated fetches, such as a class opening the same steps,
skip the replay and the serialization.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response

from app.answer_size import check_ceiling, step_answer_shapes
from app.deps import (
    AnswerCacheDep,
    BigAnswersDep,
    GradientChecksDep,
    RunDep,
    RunRef,
    SettingsDep,
    single_query_values,
)
from app.record_schemas import Gradcheck, Predictions, StepRecord
from app.routes.number_lists import PlainInt, parse_numbers
from app.run_cache import FINISHED, public_status, wait_finished
from app.schemas import BUSY, INVALID, NOT_FOUND, error
from app.serialize import FULL, MAX_DIGITS, Form, cost_per_cell, dumps, with_tensors
from app.step_answer_cache import AnswerCache
from engine.batches import batch_indices, example_column
from engine.records import BATCH_AXIS, FIELDS
from engine.scores import predicted_classes

router = APIRouter(prefix="/api/runs/{run_id}/steps", tags=["steps"],
                   dependencies=[Depends(single_query_values)], responses=INVALID)

ERRORS = {**NOT_FOUND, 404: error("Run or step not found"),
          409: error("Step not computed yet")}
LayersQuery = Annotated[str | None, Query(description="Layer numbers, e.g. 1,3",
                                          examples=["1"])]
FieldsQuery = Annotated[str | None, Query(description=f"Tensor names ({', '.join(FIELDS)}), "
                                                      "e.g. Z,dW", examples=["W,dW"])]
CellsQuery = Annotated[PlainInt | None, Query(ge=1, description="Block-average each tensor to "
                                                           "at most this many cells",
                                         examples=[64])]
ExampleQuery = Annotated[PlainInt | None, Query(ge=0, description="Keep only this training "
                                           "example (one of batch.indices) of every tensor "
                                           "with the batch axis, at full size: (n, 1)",
                                           examples=[0])]
DigitsQuery = Annotated[PlainInt | None, Query(
    ge=1, le=MAX_DIGITS, description="Round every number of every tensor to this many "
    "significant digits (default: full precision)", examples=[4])]
EncodingQuery = Annotated[Literal["json", "u8", "u8delta"], Query(
    description="json: rows of numbers (default); u8: each tensor as a byte per cell on "
    "its own range, {shape, lo, hi, bytes}; u8delta: the same with each row of bytes as "
    "its difference from the row above (docs/api.md, Lean answers)")]
# a string, so that any t that names no step (-1, 1.5, abc) is a 404, not a 422
StepPath = Annotated[str, Path(description="Step number, from 0 to num_steps - 1",
                               examples=["0"])]
MAX_STEP_DIGITS = 12


def parse_layers(text: str | None, L: int) -> list[int] | None:
    """'1,3' -> [1, 3]; None means every layer."""
    if text is None:
        return None
    return parse_numbers(text, "layers", "layer", "1,3", 1, L, "this network")


def parse_fields(text: str | None) -> set[str] | None:
    """'Z,dW' -> {'Z', 'dW'}; None means every tensor."""
    if text is None:
        return None
    names = set(text.split(","))
    unknown = sorted(names - set(FIELDS))
    if unknown:
        raise HTTPException(422, f"fields: unknown name {unknown[0][:60]!r}; choose from "
                                 f"{', '.join(FIELDS)}")
    return names


def step_number(text: str) -> int:
    """The path's t as a step number, or -1 for anything but a plain non-negative integer."""
    digits = text.isascii() and text.isdigit() and len(text) <= MAX_STEP_DIGITS
    return int(text) if digits else -1


def check_step(ref: RunRef, text: str) -> int:
    """The step that the path's t names. 404 for anything but a step the run will have
    (a non-negative integer in range); 409 for one still to be computed."""
    run, steps = ref.run, ref.config["steps"]
    finished = public_status(run) in FINISHED  # status first, as in run_info
    last = run.num_steps if finished else steps
    t = step_number(text)
    if not 0 <= t < last:
        raise HTTPException(404, f"Step not found: t must be an integer from 0 to "
                                 f"{last - 1}, got {text[:60]!r}")
    if t >= run.num_steps:
        raise HTTPException(409, f"Step not computed yet: {run.num_steps} of {steps} steps "
                                 "are done; poll the run or follow its events")
    return t


async def ready_step(ref: RunRef, text: str, seconds: float) -> tuple[int, bool]:
    """The step that t names, and whether the run had finished (read before the step is
    checked: a run still training may yet diverge and truncate its record past the steps
    it has published). A t that no run of this config has is a 404 at once; a step that
    training has published is answered at once; for one still to come, the run is waited
    for up to `seconds` (a small run finishes meanwhile, and its step is answered)."""
    t = step_number(text)
    if not 0 <= t < ref.config["steps"]:
        check_step(ref, text)  # raises the 404: waiting would not change it
    if t >= ref.run.num_steps:
        await wait_finished(ref.run, seconds)
    final = public_status(ref.run) in FINISHED
    return check_step(ref, text), final


def check_example(ref: RunRef, t: int, example: int | None) -> int | None:
    """The example, if step t's batch holds it (batch.indices); else a 422 naming example."""
    if example is None:
        return None
    m, cfg = ref.run.data.X_train.shape[1], ref.config
    _, indices = batch_indices(cfg["seed"], t, m, cfg["batch_size"])
    try:
        example_column(indices, m, example)
    except ValueError as err:
        raise HTTPException(422, f"{err} (step {t})") from err
    return example


def step_json(ref: RunRef, t: int, layers, fields, max_cells: int, example=None,
              form: Form = FULL) -> bytes:
    record = ref.run.step_record(t, layers, fields, example)
    whole = () if example is None else BATCH_AXIS  # one example's columns stay full size
    return dumps({"run_id": ref.id, **with_tensors(record, max_cells, whole, form)})


async def cached_step_json(answer_cache: AnswerCache, ref: RunRef, t: int, layers, fields,
                           max_cells: int, final: bool, big, example=None,
                           form: Form = FULL) -> bytes:
    """step_json from the answer cache; `final` (the run had finished) lets it be kept.
    big: None, or the slots a big answer takes its turn from."""
    key = (ref.id, t, None if layers is None else tuple(layers),
           None if fields is None else tuple(sorted(fields)), max_cells, example, form)
    return await answer_cache.answer(key, final, step_json, ref, t, layers, fields, max_cells,
                                     example, form, big=big)


@router.get("/{t}", response_model=StepRecord, responses={**ERRORS, **BUSY})
async def step(ref: RunDep, t: StepPath, settings: SettingsDep, answer_cache: AnswerCacheDep,
               big_answers: BigAnswersDep, layers: LayersQuery = None,
               fields: FieldsQuery = None, max_cells: CellsQuery = None,
               example: ExampleQuery = None, digits: DigitsQuery = None,
               encoding: EncodingQuery = "json"):
    """Step t: θ_t, its caches, gradients and the update applied. Tensors are full size
    up to the server's limit (max_tensor_cells in /api/options), else block-averaged; an
    answer over max_answer_cells cells in all is a 422. example=i keeps one example;
    digits and encoding ask for display precision."""
    numbers = parse_layers(layers, len(ref.config["activations"]))
    names = parse_fields(fields)
    step_t, final = await ready_step(ref, t, settings.sync_seconds)
    example = check_example(ref, step_t, example)
    per_tensor = min(max_cells or settings.max_tensor_cells, settings.max_tensor_cells)
    shapes, whole = step_answer_shapes(ref.run, step_t, numbers, names, example)
    cells = check_ceiling(shapes, per_tensor, settings.max_answer_cells, whole)
    form = Form(digits, encoding)
    big = big_answers if cells * cost_per_cell(form) > settings.big_answer_cells else None
    body = await cached_step_json(answer_cache, ref, step_t, numbers, names, per_tensor, final,
                                  big, example, form)
    return Response(body, media_type="application/json")


def gradcheck_json(ref: RunRef, t: int) -> bytes:
    return dumps(ref.run.gradcheck(t))


@router.get("/{t}/gradcheck", response_model=Gradcheck, responses={**ERRORS, **BUSY})
async def gradcheck(ref: RunDep, t: StepPath, settings: SettingsDep,
                    answer_cache: AnswerCacheDep, checks: GradientChecksDep):
    """Numerical against analytic gradients at step t, per layer (sampled parameters).
    Each check evaluates the cost thousands of times: checks take turns (503 with
    Retry-After when too many wait), and a finished run's is kept."""
    step_t, final = await ready_step(ref, t, settings.sync_seconds)
    body = await answer_cache.answer(("gradcheck", ref.id, step_t), final, gradcheck_json, ref,
                                     step_t, big=checks)
    return Response(body, media_type="application/json")


def predictions_json(ref: RunRef, t: int) -> bytes:
    L = len(ref.config["activations"])
    AL = ref.run.step_record(t, [L], {"A"})["layers"][0]["A"]
    return dumps({"step": t, "classes": predicted_classes(AL)})


@router.get("/{t}/predictions", response_model=Predictions, responses=ERRORS)
async def predictions(ref: RunDep, t: StepPath, settings: SettingsDep,
                      answer_cache: AnswerCacheDep):
    """The class the network predicts for each example of step t's batch, in the order of
    batch.indices: what a confusion matrix counts, in a few bytes an example instead of
    the output A's n_y numbers. Classification only."""
    step_t, final = await ready_step(ref, t, settings.sync_seconds)
    if ref.run.data.info.task == "regression":
        raise HTTPException(422, f"dataset: {ref.config['dataset']} is a regression; only "
                                 "classification has predicted classes")
    key = ("predictions", ref.id, step_t)
    body = await answer_cache.answer(key, final, predictions_json, ref, step_t)
    return Response(body, media_type="application/json")
