"""What each hidden unit has learned (engine.unit_maps): A[l] of θ_t over a coarse grid of
the input plane, one map of bytes per unit, sent as base64 for the page's thumbnails.

Budget per step change: 8 units at the default 24 × 24 are 4,608 bytes, 6,144 characters of
base64, an answer under engine.unit_maps.UNITS_BUDGET_BYTES (7,000 bytes) before gzip and
about 3 KB gzipped.
"""

import base64
import math
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from app.deps import AnswerCacheDep, RunDep, RunRef, SettingsDep, single_query_values
from app.record_schemas import UnitMaps
from app.routes.number_lists import PlainInt, parse_numbers
from app.routes.steps import ERRORS, StepPath, ready_step
from app.schemas import INVALID
from app.serialize import dumps
from engine.unit_maps import (
    DEFAULT_RESOLUTION,
    LEVELS,
    MAX_RESOLUTION,
    MAX_UNITS,
    MIN_RESOLUTION,
    NON_FINITE,
    check_request,
    unit_maps,
)

router = APIRouter(prefix="/api/runs/{run_id}/steps", tags=["steps"],
                   dependencies=[Depends(single_query_values)], responses=INVALID)

LayerQuery = Annotated[PlainInt, Query(ge=1, description="A hidden layer, 1 to L - 1",
                                  examples=[1])]
UnitsQuery = Annotated[str | None, Query(
    description=f"Units of the layer (0-based rows of A[l]), at most {MAX_UNITS}, e.g. "
                f"0,3,5; default: its first {MAX_UNITS}", examples=["0,3,5"])]
ResolutionQuery = Annotated[PlainInt, Query(ge=MIN_RESOLUTION, le=MAX_RESOLUTION,
                                       description="Grid points along each axis")]


def checked_units(ref: RunRef, layer: int, units: str | None, resolution: int):
    """The units asked for (None: the first MAX_UNITS), once the run's data, the layer and
    the list suit unit maps; else a 422 whose detail names the field and its limit."""
    try:
        check_request(ref.run.data.info, len(ref.config["activations"]), layer, None,
                      resolution)
    except ValueError as err:
        raise HTTPException(422, str(err)) from err
    if units is None:
        return None
    width = ref.config["hidden_layers"][layer - 1]
    return parse_numbers(units, "units", "unit", "0,3,5", 0, width - 1, f"layer {layer}",
                         most=MAX_UNITS)


def check_cells(units: int, resolution: int, ceiling: int):
    """A 422 naming resolution for an answer over the server's ceiling of cells."""
    if units * resolution**2 > ceiling:
        raise HTTPException(422, f"resolution: this answer would hold {units * resolution**2} "
                                 f"cells, over this server's ceiling of {ceiling} cells an "
                                 "answer; ask for a lower resolution or fewer units")


def finite_or_none(x) -> float | None:
    return float(x) if math.isfinite(x) else None


def units_json(ref: RunRef, t: int, layer: int, units, resolution: int) -> bytes:
    maps = unit_maps(ref.run, t, layer, units, resolution)
    maps["units"] = [{"unit": u["unit"], "lo": finite_or_none(u["lo"]),
                      "hi": finite_or_none(u["hi"]),
                      "bytes": base64.b64encode(u["codes"].tobytes()).decode("ascii")}
                     for u in maps["units"]]
    return dumps({**maps, "levels": LEVELS, "non_finite": NON_FINITE})


@router.get("/{t}/units", response_model=UnitMaps, responses=ERRORS)
async def step_units(ref: RunDep, t: StepPath, settings: SettingsDep,
                     answer_cache: AnswerCacheDep, layer: LayerQuery = 1, units: UnitsQuery = None,
                     resolution: ResolutionQuery = DEFAULT_RESOLUTION):
    """What each hidden unit of layer l has learned at step t: its A over a grid of the
    input plane (2-D data), for at most 8 units, one byte a point (docs/api.md)."""
    picked = checked_units(ref, layer, units, resolution)
    width = ref.config["hidden_layers"][layer - 1]
    check_cells(len(picked) if picked else min(width, MAX_UNITS), resolution,
                settings.max_answer_cells)
    step_t, final = await ready_step(ref, t, settings.sync_seconds)
    key = ("units", ref.id, step_t, layer, None if picked is None else tuple(picked), resolution)
    body = await answer_cache.answer(key, final, units_json, ref, step_t, layer, picked,
                                     resolution)
    return Response(body, media_type="application/json")
