"""Check a run config without training it: the same validation and limits as
POST /api/runs, answered 200 with the verdict.

A form asks here first, so that a setting the server refuses comes back as an answer to
show rather than a failed request (which a browser logs as an error in its console).
"""

from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException  # FastAPI's own 400 is starlette's

from app.config_limits import check_config
from app.deps import SettingsDep, known_query_names, single_query_values
from app.errors import unparsable_body, validation_answer
from app.json_body import JSONBodyRoute
from app.schemas import INVALID, ConfigCheck, RunConfig, error
from app.serialize import JSONBytes
from engine.config import ConfigError


class VerdictRoute(JSONBodyRoute):
    """A route whose body's validation errors are its answer: 200, {"valid": false, ...},
    as is a body that json.loads could not parse (FastAPI's 400)."""

    def get_route_handler(self):
        handle = super().get_route_handler()

        async def handle_verdict(request):
            try:
                return await handle(request)
            except RequestValidationError as exc:
                if any(error["loc"][0] != "body" for error in exc.errors()):
                    raise  # the request's own query, not the config: a 422
                return JSONBytes({"valid": False, **validation_answer(exc), "config": None})
            except HTTPException as exc:
                if exc.status_code != 400:  # 413, 415: not a config at all
                    raise
                return JSONBytes({"valid": False, "detail": unparsable_body(exc), "errors": [],
                                  "config": None})

        return handle_verdict


router = APIRouter(prefix="/api/configs", tags=["runs"], route_class=VerdictRoute,
                   dependencies=[Depends(single_query_values), Depends(known_query_names)])


# (422: a query parameter given twice or not taken; a refused config is a 200 verdict)
@router.post("/check", response_model=ConfigCheck,
             responses={**INVALID, 413: error("Body larger than this server's limit"),
                        415: error("Body not sent as application/json")})
async def check(body: RunConfig, settings: SettingsDep):
    """Whether POST /api/runs would take this config: valid, with the normalized config,
    or not, with the detail its 422 would give (the field and the limit)."""
    try:
        config = check_config(body.model_dump(exclude_unset=True), settings)
    except ConfigError as exc:
        return {"valid": False, "detail": str(exc), "errors": [], "config": None}
    return {"valid": True, "detail": None, "errors": [], "config": config}

