"""One step's full record, narrowed by query, and its gradient check.

A finished run's step answers are kept as JSON bytes (app.answers), so repeated fetches,
such as a class opening the same steps, skip the replay and the serialization.
"""

from typing import Annotated

import anyio
from fastapi import APIRouter, HTTPException, Path, Query, Response

from app.answers import AnswerCache
from app.deps import AnswersDep, RunDep, RunRef, SettingsDep
from app.routes.number_lists import parse_numbers
from app.runs import FINISHED, public_status, wait_finished
from app.schemas import Gradcheck, StepRecord
from app.serialize import dumps, with_tensors
from engine.records import FIELDS

router = APIRouter(prefix="/api/runs/{run_id}/steps", tags=["steps"])

ERRORS = {404: {"description": "Run or step not found"},
          409: {"description": "Step not computed yet"},
          422: {"description": "Bad query parameter; `detail` names it"}}
LayersQuery = Annotated[str | None, Query(description="Layer numbers, e.g. 1,3")]
FieldsQuery = Annotated[str | None, Query(description=f"Tensor names ({', '.join(FIELDS)}), "
                                                      "e.g. Z,dW")]
CellsQuery = Annotated[int | None, Query(ge=1, description="Block-average each tensor to "
                                                           "at most this many cells")]
# a string, so that any t that names no step (-1, 1.5, abc) is CONTRACT's 404, not a 422
StepPath = Annotated[str, Path(description="Step number, from 0 to num_steps - 1")]
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


def check_step(ref: RunRef, text: str) -> int:
    """The step that the path's t names. 404 for anything but a step the run will have
    (a non-negative integer in range); 409 for one still to be computed."""
    run, steps = ref.run, ref.config["steps"]
    finished = public_status(run) in FINISHED  # status first, as in run_info
    last = run.num_steps if finished else steps
    digits = text.isascii() and text.isdigit() and len(text) <= MAX_STEP_DIGITS
    t = int(text) if digits else -1
    if not 0 <= t < last:
        raise HTTPException(404, f"Step not found: t must be an integer from 0 to "
                                 f"{last - 1}, got {text[:60]!r}")
    if t >= run.num_steps:
        raise HTTPException(409, f"Step not computed yet: {run.num_steps} of {steps} steps "
                                 "are done; poll the run or follow its events")
    return t


def step_json(ref: RunRef, t: int, layers, fields, max_cells: int) -> bytes:
    record = ref.run.step_record(t, layers, fields)
    return dumps({"run_id": ref.id, **with_tensors(record, max_cells)})


async def cached_step_json(answers: AnswerCache, ref: RunRef, t: int, layers, fields,
                           max_cells: int, final: bool) -> bytes:
    """step_json from the answer cache; `final` (the run had finished) lets it be kept."""
    key = (ref.id, t, None if layers is None else tuple(layers),
           None if fields is None else tuple(sorted(fields)), max_cells)
    body = answers.get(key)
    if body is None:
        body = await anyio.to_thread.run_sync(step_json, ref, t, layers, fields, max_cells)
        if final:
            answers.put(key, body)
    return body


@router.get("/{t}", response_model=StepRecord, responses=ERRORS)
async def step(ref: RunDep, t: StepPath, settings: SettingsDep, answers: AnswersDep,
               layers: LayersQuery = None, fields: FieldsQuery = None,
               max_cells: CellsQuery = None):
    """Step t: θ_t, its caches, gradients and the update applied. Tensors are full size
    up to the server's limit (max_tensor_cells in /api/options), else block-averaged."""
    numbers = parse_layers(layers, len(ref.config["activations"]))
    names = parse_fields(fields)
    await wait_finished(ref.run, settings.sync_seconds)
    # read before the record is made: a run still training may yet diverge and truncate it
    final = public_status(ref.run) in FINISHED
    step_t = check_step(ref, t)
    cells = min(max_cells or settings.max_tensor_cells, settings.max_tensor_cells)
    body = await cached_step_json(answers, ref, step_t, numbers, names, cells, final)
    return Response(body, media_type="application/json")


@router.get("/{t}/gradcheck", response_model=Gradcheck, responses=ERRORS)
async def gradcheck(ref: RunDep, t: StepPath, settings: SettingsDep):
    """Numerical against analytic gradients at step t, per layer (sampled parameters)."""
    await wait_finished(ref.run, settings.sync_seconds)
    return await anyio.to_thread.run_sync(ref.run.gradcheck, check_step(ref, t))
