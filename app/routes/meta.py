"""Health and the choices a client needs to build a run config."""

from fastapi import APIRouter, Depends

from app import __version__
from app.config_limits import check_config, engine_limits
from app.deps import SettingsDep, known_query_names
from app.schemas import INVALID, Health, Options
from engine.config import ConfigError
from engine.options import options as engine_options

router = APIRouter(tags=["meta"])


@router.get("/healthz", response_model=Health)
async def healthz():
    return {"status": "ok", "version": __version__}


# (not /healthz: a monitor may add a cache-busting ?ts=, and the server is up all the same)
@router.get("/api/options", response_model=Options, dependencies=[Depends(known_query_names)],
            responses=INVALID)
async def options(settings: SettingsDep):
    """Datasets, activations, losses, inits, optimizers, their limits (this server's
    effective ones) and a complete default config."""
    server = {"compute_budget": settings.compute_budget,
              "max_tensor_cells": settings.max_tensor_cells,
              "max_answer_cells": settings.max_answer_cells,
              "max_body_bytes": settings.max_body_bytes,
              "sync_seconds": settings.sync_seconds}
    choices = engine_options(**engine_limits(settings))
    for dataset in choices["datasets"]:
        dataset["default_config"] = served_default({"dataset": dataset["name"]},
                                                   dataset["default_config"], settings)
    choices["default_config"] = served_default({}, choices["default_config"], settings)
    return {**choices, "server": server}


def served_default(raw: dict, default: dict, settings) -> dict:
    """A default config as this server runs it: within its compute budget too, in fewer
    steps (check_config); the engine's where not one step fits, which a POST then refuses
    with the reason."""
    try:
        return check_config(raw, settings)
    except ConfigError:
        return default
