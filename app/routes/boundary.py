"""The model θ_t over a grid that spans the data: the decision boundary or the fit that
the page draws, computed by the engine (engine.boundary). digits and encoding=u8 send it
at display precision (app.serialize): the page's 60 × 60 picture in ~3 KB, not ~34 KB."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from app.deps import AnswerCacheDep, RunDep, RunRef, SettingsDep, single_query_values
from app.record_schemas import Boundary
from app.routes.number_lists import PlainInt
from app.routes.steps import ERRORS, DigitsQuery, EncodingQuery, StepPath, ready_step
from app.schemas import INVALID
from app.serialize import FULL, Form, dumps, significant, with_tensors
from engine.boundary import (
    DEFAULT_RESOLUTION,
    MAX_RESOLUTION,
    MIN_RESOLUTION,
    boundary,
    boundary_kind,
)

router = APIRouter(prefix="/api/runs/{run_id}/steps", tags=["steps"],
                   dependencies=[Depends(single_query_values)], responses=INVALID)

ResolutionQuery = Annotated[PlainInt, Query(ge=MIN_RESOLUTION, le=MAX_RESOLUTION,
                                       description="Grid points along each axis")]


def check_cells(kind: str, resolution: int, ceiling: int):
    """A 422 naming resolution for an answer over the server's ceiling of cells."""
    grids = {"classification": 1, "multiclass": 2}.get(kind, 0)
    cells = grids * resolution**2 + (resolution if kind == "regression" else 0)
    if cells > ceiling:
        raise HTTPException(422, f"resolution: this answer would hold {cells} cells, over "
                                 f"this server's ceiling of {ceiling} cells an answer; ask "
                                 "for a lower resolution")


def lean_boundary(answer: dict, form: Form) -> dict:
    """The answer in `form`: digits round the grid's axes too; a multiclass map's classes
    are whole numbers, sent as rows of numbers whatever the encoding."""
    if form.digits is not None:
        answer.update({k: significant(answer[k], form.digits).tolist()
                       for k in ("x", "y") if k in answer})
    if answer["kind"] == "multiclass" and form != FULL:
        classes = answer.pop("output")
        answer = {**answer, "output": {"shape": list(classes.shape), "data": classes.tolist()}}
    return with_tensors(answer, form=form)


def boundary_json(ref: RunRef, t: int, resolution: int, form: Form = FULL) -> bytes:
    return dumps(lean_boundary(boundary(ref.run, t, resolution), form))


@router.get("/{t}/boundary", response_model=Boundary, responses=ERRORS)
async def step_boundary(ref: RunDep, t: StepPath, settings: SettingsDep,
                        answer_cache: AnswerCacheDep,
                        resolution: ResolutionQuery = DEFAULT_RESOLUTION,
                        digits: DigitsQuery = None, encoding: EncodingQuery = "json"):
    """The model θ_t over a grid spanning the data: P(y=1) (2-D binary), the predicted class
    and its probability (2-D multiclass), or the fit (1-D regression); kind "none" for data
    with more features. digits and encoding ask for display precision."""
    step_t, final = await ready_step(ref, t, settings.sync_seconds)
    check_cells(boundary_kind(ref.run.data.info), resolution, settings.max_answer_cells)
    form = Form(digits, encoding)
    key = ("boundary", ref.id, step_t, resolution, form)
    body = await answer_cache.answer(key, final, boundary_json, ref, step_t, resolution, form)
    return Response(body, media_type="application/json")
