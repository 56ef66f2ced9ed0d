"""Dependencies as named Annotated aliases: settings, the caches, a run by id."""

from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Request

from app.answers import AnswerCache
from app.configs import check_config
from app.run_ids import RunIdError, canonical_json, decode_run_id
from app.runs import RunCache
from app.settings import Settings
from engine.config import ConfigError
from engine.run import Run


# async, though they only read app.state: FastAPI runs a plain `def` dependency on a
# worker thread, a hop that cost ~0.1 ms each, several per request (of ~1 ms in all)
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_runs(request: Request) -> RunCache:
    return request.app.state.runs


async def get_answers(request: Request) -> AnswerCache:
    return request.app.state.answers


SettingsDep = Annotated[Settings, Depends(get_settings)]
RunsDep = Annotated[RunCache, Depends(get_runs)]
AnswersDep = Annotated[AnswerCache, Depends(get_answers)]


@dataclass(frozen=True)
class RunRef:
    """A run as a request names it: its id, normalized config and this process's Run."""

    id: str
    config: dict
    run: Run


async def obtain(runs: RunCache, config: dict) -> Run:
    """The Run of a normalized config: from the cache, or built (off the loop) and queued."""
    key = canonical_json(config)
    return runs.peek(key) or await anyio.to_thread.run_sync(runs.get, key, config)


async def run_from_id(run_id: str, runs: RunsDep, settings: SettingsDep) -> RunRef:
    """The run an id names; 404 for an id this server could not have issued."""
    try:
        decoded = decode_run_id(run_id)
        config = check_config(decoded, settings)  # in field order, like a POST's answer
        if config != decoded:
            raise RunIdError("run id config is not normalized")
    except (RunIdError, ConfigError) as err:
        raise HTTPException(status_code=404, detail="Run not found") from err
    return RunRef(run_id, config, await obtain(runs, config))


RunDep = Annotated[RunRef, Depends(run_from_id)]
