"""Create a run, and read its info, its per-step summary and its progress events."""

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import StreamingResponse

from app.config_limits import check_config
from app.deps import (
    AnswerCacheDep,
    BigAnswersDep,
    ClientDep,
    RunCacheDep,
    RunDep,
    RunRef,
    SettingsDep,
    known_query_names,
    obtain,
    single_query_values,
)
from app.events import progress_events, run_info
from app.json_body import JSONBodyRoute
from app.record_schemas import Histograms, Scores, Summary
from app.routes.number_lists import parse_numbers
from app.run_cache import FINISHED, public_status, wait_finished
from app.run_ids import encode_run_id
from app.schemas import ADMISSION, BUSY, INVALID, NOT_FOUND, RunConfig, RunInfo, error
from app.serialize import dumps

router = APIRouter(prefix="/api/runs", tags=["runs"], route_class=JSONBodyRoute,
                   dependencies=[Depends(single_query_values)], responses=INVALID)

MAX_HISTOGRAM_STEPS = 50  # steps a request may name: each is replayed
StepsQuery = Annotated[str | None, Query(description="Step numbers, e.g. 0,137 (at most 50); "
                                                     "default: up to 50 evenly spread steps",
                                         examples=["0,1"])]


@router.post("", response_model=RunInfo, status_code=201,
             dependencies=[Depends(known_query_names)],
             responses={**ADMISSION,
                        202: {"model": RunInfo, "description": "Accepted, still training"},
                        413: error("Body larger than this server's limit"),
                        415: error("Body not sent as application/json")})
async def create_run(body: RunConfig, response: Response, run_cache: RunCacheDep,
                     settings: SettingsDep, client: ClientDep):
    """Train a run. 201 once complete; 202 (status "running") if it takes longer than
    about a second: then poll GET /api/runs/{id} or follow its events. 429 beyond this
    client's runs in flight."""
    config = check_config(body.model_dump(exclude_unset=True), settings)
    ref = RunRef(encode_run_id(config), config, await obtain(run_cache, config, client))
    if not await wait_finished(ref.run, settings.sync_seconds):
        response.status_code = 202
    return run_info(ref, run_cache.queue_position(ref.run))


@router.get("/{run_id}", response_model=RunInfo, responses=NOT_FOUND)
async def get_run(ref: RunDep, run_cache: RunCacheDep):
    """The run's status, progress and place in the queue; starts training it here if
    this process lacks it."""
    return run_info(ref, run_cache.queue_position(ref.run))


@router.get("/{run_id}/summary", response_model=Summary, responses=NOT_FOUND)
async def summary(ref: RunDep, settings: SettingsDep):
    """Per-step series of the steps recorded so far (waiting up to about a second
    for a run that this process is still training)."""
    await wait_finished(ref.run, settings.sync_seconds)
    body = await anyio.to_thread.run_sync(lambda: dumps(ref.run.summary()))
    return Response(body, media_type="application/json")


def histograms_json(ref: RunRef, steps: list[int] | None) -> bytes:
    return dumps(ref.run.histograms(steps=steps))


@router.get("/{run_id}/histograms", response_model=Histograms, responses={
    **NOT_FOUND, **BUSY, 409: error("Run still training")})
async def histograms(ref: RunDep, answer_cache: AnswerCacheDep, big_answers: BigAnswersDep,
                     steps: StepsQuery = None):
    """Value histograms per layer: at up to 50 evenly spread steps, or at the steps named,
    each replayed. Replays hold a big step's tensors each, so they take turns with the
    other big answers (503 with Retry-After when too many wait); an answer is kept."""
    numbers = replayed_steps(ref, steps, "histograms")
    key = ("histograms", ref.id, None if numbers is None else tuple(numbers))
    body = await answer_cache.answer(key, True, histograms_json, ref, numbers, big=big_answers)
    return Response(body, media_type="application/json")


def scores_json(ref: RunRef, steps: list[int] | None) -> bytes:
    """The Scores answer: the engine's train and test series under the summary's names."""
    scores, regression = ref.run.scores(steps), ref.run.data.info.task == "regression"
    answer = {"steps": scores["steps"]}
    for name in ("train", "test"):
        answer[f"{name}_accuracy"] = None if regression else scores[name]
        if regression:
            answer[f"{name}_r2"] = scores[name]
    return dumps(answer)


@router.get("/{run_id}/scores", response_model=Scores, responses={
    **NOT_FOUND, 409: error("Run still training")})
async def scores(ref: RunDep, answer_cache: AnswerCacheDep, steps: StepsQuery = None):
    """θ_t's accuracy (R² for regression) on the whole training and test sets, at the
    steps named, or at up to 50 evenly spread steps: the summary's numbers where training
    scored the whole sets (evaluated_every), θ_t replayed at the others."""
    numbers = replayed_steps(ref, steps, "scores", ref.run.unscored)
    key = ("scores", ref.id, None if numbers is None else tuple(numbers))
    body = await answer_cache.answer(key, True, scores_json, ref, numbers)
    return Response(body, media_type="application/json")


def replayed_steps(ref: RunRef, steps: str | None, what: str,
                   replayed=None) -> list[int] | None:
    """The steps a request names for `what` (histograms, scores), None for the default:
    409 while the run trains, 422 naming steps for a bad list or one that recomputes too
    much. replayed(steps): those of them that need a replay, if not all do."""
    if public_status(ref.run) not in FINISHED:
        raise HTTPException(409, f"{what}: the run is still training; poll the run or "
                                 "follow its events")
    numbers = parse_steps(steps, ref.run.num_steps)
    if numbers is not None:
        check_replays(ref.run, numbers if replayed is None else replayed(numbers))
    return numbers


def check_replays(run, numbers: list[int]):
    """422 naming steps if replaying them would recompute more training steps than this
    run's replay budget (engine.run.HISTOGRAM_SECONDS, by engine.work_estimate) allows."""
    replays, most = run.replays_for(numbers), run.max_replays(numbers)
    if replays > most:
        every = run.interval
        raise HTTPException(422, f"steps: these steps recompute {replays} training steps, at "
                                 f"most {most} a request for this run; it keeps a checkpoint "
                                 f"every {every} steps, and a multiple of {every} recomputes "
                                 f"only itself")


def parse_steps(text: str | None, num_steps: int) -> list[int] | None:
    """'0,137' -> [0, 137]; None means the evenly spread default."""
    if text is None:
        return None
    return parse_numbers(text, "steps", "step", "0,137", 0, num_steps - 1, "this run",
                         most=MAX_HISTOGRAM_STEPS)


@router.get("/{run_id}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "Server-Sent Events: progress, then done or "
                                            "diverged; each data line is the run info. An "
                                            "error event ({detail}) ends the stream if "
                                            "this process stops first."},
                       **NOT_FOUND})
async def events(ref: RunDep, run_cache: RunCacheDep, client: ClientDep):
    """Progress events while the run trains, then done or diverged (app.events)."""
    return StreamingResponse(progress_events(ref, run_cache, client),
                             media_type="text/event-stream", headers={"cache-control": "no-cache"})
