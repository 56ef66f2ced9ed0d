"""The run info, and its Server-Sent Events: a run followed while it trains.

GET /api/runs/{id}/events streams "progress" events while the run trains, then one "done"
or "diverged" event; or one "error" event if training failed, the server shuts down, or
a run the cache let go is not admitted again (the client may reconnect). Each data line
is the run info (docs/api.md).
"""

import time

import anyio
from fastapi import HTTPException

from app.admission import Client
from app.deps import RunRef, obtain
from app.run_cache import FINISHED, RunCache, TrainingFailedError, public_status
from app.run_ids import canonical_json
from app.serialize import dumps
from engine.mistakes import bug_active

EVENT_INTERVAL = 0.25  # seconds between progress checks of an event stream
HEARTBEAT = 15.0  # seconds; a comment line keeps proxies from closing a quiet stream
SHUTTING_DOWN = "server: shutting down; reconnect to follow the run"
# an event stream's rounds hold no place at a cap (app.admission): a run only a stream
# followed may give way to a newer one, and its stream ends with this
GAVE_WAY = ("this run gave way to a newer one under max_runs_per_client or "
            "max_runs_per_address: no request asked about it for 5 s, and following its events "
            "does not hold its place; ask for the run again (GET /api/runs/{id}) to start it "
            "anew")


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
            "num_steps": num_steps, "diverged": diverged, "bug_active": bug_active(ref.config),
            "queue_position": queue_position}


def sse(event: str, data: dict) -> bytes:
    """One event of the stream: its name and one line of JSON."""
    return b"event: " + event.encode() + b"\ndata: " + dumps(data) + b"\n\n"


def sse_error(detail: str) -> bytes:
    return sse("error", {"detail": detail})


async def current_run(run_cache: RunCache, config: dict, run, client: Client | None = None):
    """`run`, unless the cache let it go before it finished (dropped from the queue, or
    cancelled): then the cache's run of its config, admitted, built and queued again if
    need be. A failed run stays: its stream ends with an error; so does a run that gave
    way to a newer one under a cap (409 GAVE_WAY)."""
    if run.status in (*FINISHED, "failed") or \
            run_cache.peek_streaming(canonical_json(config)) is run:
        return run
    if run_cache.gave_way(run):
        raise HTTPException(409, GAVE_WAY)
    return await obtain(run_cache, config, client)


async def progress_events(ref: RunRef, run_cache: RunCache, client: Client | None = None):
    """The event stream of a run (module docstring), as chunks of bytes."""
    last, quiet_since = None, time.monotonic()
    while True:
        if run_cache.closing:  # queued runs were cancelled and the running ones stopped
            yield sse_error(SHUTTING_DOWN)
            return
        # checked on every round, or a dropped run would stay "pending" for ever; asking
        # keeps it from being cancelled as left alone
        try:
            run = await current_run(run_cache, ref.config, ref.run, client)
            ref = RunRef(ref.id, ref.config, run)
            info = run_info(ref, run_cache.queue_position(run))
        except HTTPException as refused:
            yield sse_error(refused.detail)
            return
        except TrainingFailedError as failed:
            yield sse_error(failed.detail)
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
