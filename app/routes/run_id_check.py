"""Check a run id without training its run: what the run routes would say of it,
answered 200 with the verdict.

The page asks here before it opens a run named by an id from outside (a link's ?run=, a
pasted id, ?compare=), so that an id naming no run comes back as an answer to show rather
than a failed request (which a browser logs as an error in its console).
"""

from fastapi import APIRouter, Depends, HTTPException

from app.deps import RunIdPath, SettingsDep, config_of, known_query_names, single_query_values
from app.run_ids import encode_run_id
from app.schemas import INVALID, RunIdCheck

router = APIRouter(prefix="/api/run-ids", tags=["runs"],
                   dependencies=[Depends(single_query_values), Depends(known_query_names)])


@router.get("/{run_id}", response_model=RunIdCheck, responses=INVALID)
async def check(run_id: RunIdPath, settings: SettingsDep):
    """Whether the run routes would take this id (they answer 404 for an id this server
    could not have issued: cut short, altered, beyond its limits), without training it."""
    try:
        config = config_of(run_id, settings)
    except HTTPException as exc:
        return {"valid": False, "id": None, "detail": exc.detail, "config": None}
    return {"valid": True, "id": encode_run_id(config), "detail": None, "config": config}
