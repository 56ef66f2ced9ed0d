"""Create a run, and read its info, its per-step summary and its progress events."""

import time
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import StreamingResponse

from app.admission import Client
from app.config_limits import check_config
from app.deps import (
    ClientDep,
    RunDep,
    RunRef,
    RunsDep,
    SettingsDep,
    obtain,
    single_query_values,
)
from app.json_body import JSONBodyRoute
from app.record_schemas import Histograms, Summary
from app.routes.number_lists import parse_numbers
from app.run_cache import FINISHED, RunCache, public_status, wait_finished
from app.run_ids import canonical_json, encode_run_id
from app.schemas import ADMISSION, INVALID, NOT_FOUND, RunConfig, RunInfo, error
from app.serialize import dumps

router = APIRouter(prefix="/api/runs", tags=["runs"], route_class=JSONBodyRoute,
                   dependencies=[Depends(single_query_values)], responses=INVALID)

MAX_HISTOGRAM_STEPS = 50  # steps a request may name: each is replayed
# training steps a request may recompute: 50 steps at checkpoints take 50, far from them
# each step takes up to a checkpoint interval (34 steps for the biggest runs)
MAX_HISTOGRAM_REPLAYS = 200
StepsQuery = Annotated[str | None, Query(description="Step numbers, e.g. 0,137 (at most 50); "
                                                     "default: up to 50 evenly spread steps",
                                         examples=["0,1"])]
EVENT_INTERVAL = 0.25  # seconds between progress checks of an event stream
HEARTBEAT = 15.0  # seconds; a comment line keeps proxies from closing a quiet stream


def run_info(ref: RunRef, queue_position: int | None = None) -> dict:
    """The run info (docs/api.md), read without a lock while training runs on another
    thread. queue_position: runs that train before this waiting one (None: not waiting)."""
    run = ref.run
    # status first: the engine assigns num_steps and diverged before the status, so once
    # "done" or "diverged" is read here, the fields read after it are already final.
    # progress is derived from what was read, not from run.progress, which reads the
    # status again and could disagree with it.
    status = public_status(run)
    num_steps, diverged = run.num_steps, run.diverged
    progress = 1.0 if status in FINISHED else min(num_steps / ref.config["steps"], 1.0)
    return {"id": ref.id, "config": ref.config, "status": status, "progress": progress,
            "num_steps": num_steps, "diverged": diverged, "queue_position": queue_position}


@router.post("", response_model=RunInfo, status_code=201,
             responses={**ADMISSION,
                        202: {"model": RunInfo, "description": "Accepted, still training"},
                        413: error("Body larger than this server's limit"),
                        415: error("Body not sent as application/json")})
async def create_run(body: RunConfig, response: Response, runs: RunsDep,
                     settings: SettingsDep, client: ClientDep):
    """Train a run. 201 once complete; 202 (status "running") if it takes longer than
    about a second: then poll GET /api/runs/{id} or follow its events. 429 beyond this
    client's runs in flight."""
    config = check_config(body.model_dump(exclude_unset=True), settings)
    ref = RunRef(encode_run_id(config), config, await obtain(runs, config, client))
    if not await wait_finished(ref.run, settings.sync_seconds):
        response.status_code = 202
    return run_info(ref, runs.queue_position(ref.run))


@router.get("/{run_id}", response_model=RunInfo, responses=NOT_FOUND)
async def get_run(ref: RunDep, runs: RunsDep):
    """The run's status, progress and place in the queue; starts training it here if
    this process lacks it."""
    return run_info(ref, runs.queue_position(ref.run))


@router.get("/{run_id}/summary", response_model=Summary, responses=NOT_FOUND)
async def summary(ref: RunDep, settings: SettingsDep):
    """Per-step series of the steps recorded so far (waiting up to about a second
    for a run that this process is still training)."""
    await wait_finished(ref.run, settings.sync_seconds)
    body = await anyio.to_thread.run_sync(lambda: dumps(ref.run.summary()))
    return Response(body, media_type="application/json")


@router.get("/{run_id}/histograms", response_model=Histograms, responses={
    **NOT_FOUND, 409: error("Run still training")})
async def histograms(ref: RunDep, steps: StepsQuery = None):
    """Value histograms per layer: at up to 50 evenly spread steps (computed once, on
    first request), or at the steps named, each replayed on demand."""
    if public_status(ref.run) not in FINISHED:
        raise HTTPException(409, "histograms: the run is still training; poll the run or "
                                 "follow its events")
    numbers = parse_steps(steps, ref.run.num_steps)
    replays = 0 if numbers is None else ref.run.replays_for(numbers)
    if replays > MAX_HISTOGRAM_REPLAYS:
        every = ref.run.interval
        raise HTTPException(422, f"steps: these steps recompute {replays} training steps, at "
                                 f"most {MAX_HISTOGRAM_REPLAYS} a request; this run keeps a "
                                 f"checkpoint every {every} steps, and a multiple of {every} "
                                 f"recomputes only itself")
    body = await anyio.to_thread.run_sync(lambda: dumps(ref.run.histograms(steps=numbers)))
    return Response(body, media_type="application/json")


def parse_steps(text: str | None, num_steps: int) -> list[int] | None:
    """'0,137' -> [0, 137]; None means the evenly spread default."""
    if text is None:
        return None
    return parse_numbers(text, "steps", "step", "0,137", 0, num_steps - 1, "this run",
                         most=MAX_HISTOGRAM_STEPS)


def sse(event: str, data: dict) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + dumps(data) + b"\n\n"


def sse_error(detail: str) -> bytes:
    return sse("error", {"detail": detail})


async def current_run(runs: RunCache, config: dict, run, client: Client | None = None):
    """`run`, unless the cache let it go before it finished (dropped from the queue, or
    cancelled): then the cache's run of its config, admitted, built and queued again if
    need be. A failed run stays: its stream ends with an error."""
    if run.status in (*FINISHED, "failed") or runs.peek(canonical_json(config)) is run:
        return run
    return await obtain(runs, config, client)


async def progress_events(ref: RunRef, runs: RunCache, client: Client | None = None):
    """"progress" events while training, then one "done" or "diverged" event; or one
    "error" event if training stops here first or is not admitted again (the client may
    reconnect)."""
    last, quiet_since = None, time.monotonic()
    while True:
        if runs.closing:  # queued runs were cancelled and the running ones stopped
            yield sse_error("server: shutting down; reconnect to follow the run")
            return
        # checked on every round, or a dropped run would stay "pending" for ever; asking
        # keeps it from being cancelled as left alone
        try:
            run = await current_run(runs, ref.config, ref.run, client)
        except HTTPException as refused:
            yield sse_error(refused.detail)
            return
        ref = RunRef(ref.id, ref.config, run)
        try:
            info = run_info(ref, runs.queue_position(run))
        except RuntimeError:  # public_status: training failed (the status is read once)
            yield sse_error("training failed; see the server log")
            return
        if info["status"] in FINISHED:
            yield sse(info["status"], info)
            return
        if (info["num_steps"], info["queue_position"]) != last:
            last, quiet_since = (info["num_steps"], info["queue_position"]), time.monotonic()
            yield sse("progress", info)
        elif time.monotonic() - quiet_since > HEARTBEAT:
            quiet_since = time.monotonic()
            yield b": still training\n\n"
        await anyio.sleep(EVENT_INTERVAL)


@router.get("/{run_id}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "Server-Sent Events: progress, then done or "
                                            "diverged; each data line is the run info. An "
                                            "error event ({detail}) ends the stream if "
                                            "this process stops first."},
                       **NOT_FOUND})
async def events(ref: RunDep, runs: RunsDep, client: ClientDep):
    return StreamingResponse(progress_events(ref, runs, client), media_type="text/event-stream",
                             headers={"cache-control": "no-cache"})
