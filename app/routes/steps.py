"""One step's full record, narrowed by query, and its gradient check."""

from typing import Annotated

import anyio
from fastapi import APIRouter, HTTPException, Query, Response

from app.deps import RunDep, RunRef, SettingsDep
from app.runs import FINISHED, public_status
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


def parse_layers(text: str | None, L: int) -> list[int] | None:
    """'1,3' -> [1, 3]; None means every layer."""
    if text is None:
        return None
    try:
        numbers = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise HTTPException(422, f"layers: give layer numbers separated by commas, like "
                                 f"1,3; got {text[:60]!r}") from None
    if not all(1 <= n <= L for n in numbers):
        raise HTTPException(422, f"layers: this network has layers 1 to {L}, got {text[:60]!r}")
    return numbers


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


def check_step(ref: RunRef, t: int):
    """404 for a step the run will never have; 409 for one still to be computed."""
    run, steps = ref.run, ref.config["steps"]
    finished = public_status(run) in FINISHED
    last = run.num_steps if finished else steps
    if not 0 <= t < last:
        raise HTTPException(404, f"Step not found: t must be from 0 to {last - 1}, got {t}")
    if t >= run.num_steps:
        raise HTTPException(409, f"Step not computed yet: {run.num_steps} of {steps} steps "
                                 "are done; poll the run or follow its events")


def step_json(ref: RunRef, t: int, layers, fields, max_cells: int) -> bytes:
    record = ref.run.step_record(t, layers, fields)
    return dumps({"run_id": ref.id, **with_tensors(record, max_cells)})


@router.get("/{t}", response_model=StepRecord, responses=ERRORS)
async def step(ref: RunDep, t: int, settings: SettingsDep, layers: LayersQuery = None,
               fields: FieldsQuery = None, max_cells: CellsQuery = None):
    """Step t: θ_t, its caches, gradients and the update applied. Tensors are full size
    up to the server's limit (max_tensor_cells in /api/options), else block-averaged."""
    numbers = parse_layers(layers, len(ref.config["activations"]))
    names = parse_fields(fields)
    check_step(ref, t)
    cells = min(max_cells or settings.max_tensor_cells, settings.max_tensor_cells)
    body = await anyio.to_thread.run_sync(step_json, ref, t, numbers, names, cells)
    return Response(body, media_type="application/json")


@router.get("/{t}/gradcheck", response_model=Gradcheck, responses=ERRORS)
async def gradcheck(ref: RunDep, t: int):
    """Numerical against analytic gradients at step t, per layer (sampled parameters)."""
    check_step(ref, t)
    return await anyio.to_thread.run_sync(ref.run.gradcheck, t)
