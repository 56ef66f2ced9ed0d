"""Dependencies as named Annotated aliases: settings, the caches, the client, a run by id
(admitted if it has to train), and the rule that a query parameter comes once."""

import json
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, unquote_to_bytes

import anyio
from fastapi import Depends, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError

from app.admission import AdmissionError, Client, client_of
from app.answer_size import BigAnswerSlots
from app.config_limits import check_config
from app.run_cache import RunCache
from app.run_ids import (
    RunIdError,
    canonical_json,
    decode_legacy_run_id,
    decode_run_id,
    encode_run_id,
    is_legacy,
)
from app.settings import Settings
from app.step_answer_cache import AnswerCache
from engine.config import ConfigError, normalize_config, unread_as_defaults
from engine.run import Run


# async, though they only read app.state: FastAPI runs a plain `def` dependency on a
# worker thread, a hop that cost ~0.1 ms each, several per request (of ~1 ms in all)
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_run_cache(request: Request) -> RunCache:
    return request.app.state.run_cache


async def get_answer_cache(request: Request) -> AnswerCache:
    return request.app.state.answer_cache


async def get_big_answers(request: Request) -> BigAnswerSlots:
    return request.app.state.big_answers


async def get_gradient_checks(request: Request) -> BigAnswerSlots:
    return request.app.state.gradient_checks


async def get_client(request: Request) -> Client:
    return client_of(request)


SettingsDep = Annotated[Settings, Depends(get_settings)]
RunCacheDep = Annotated[RunCache, Depends(get_run_cache)]
AnswerCacheDep = Annotated[AnswerCache, Depends(get_answer_cache)]
BigAnswersDep = Annotated[BigAnswerSlots, Depends(get_big_answers)]
GradientChecksDep = Annotated[BigAnswerSlots, Depends(get_gradient_checks)]
ClientDep = Annotated[Client, Depends(get_client)]

# the default run's id: an example in /openapi.json that works on any server
EXAMPLE_RUN_ID = encode_run_id(normalize_config({}))
RunIdPath = Annotated[str, Path(description="A run id, as POST /api/runs gives it",
                                examples=[EXAMPLE_RUN_ID])]


@dataclass(frozen=True)
class RunRef:
    """A run as a request names it: its id, normalized config and this process's Run."""

    id: str
    config: dict
    run: Run


async def obtain(run_cache: RunCache, config: dict, client: Client | None = None) -> Run:
    """The Run of a normalized config: from the cache, or admitted for `client`, built (off
    the loop) and queued; 429 or 403 (with the limit in its detail) if it is not admitted."""
    key = canonical_json(config)
    # another site's page does not keep a run from being cancelled as left alone
    run = run_cache.peek(key, asked=client is None or not client.cross_site)
    if run is not None:
        return run
    try:
        return await anyio.to_thread.run_sync(run_cache.get, key, config, client,
                                              limiter=run_cache.build_threads)
    except AdmissionError as refusal:
        raise refusal.http() from None


def config_of(run_id: str, settings: Settings) -> dict:
    """The normalized config an id names; 404 for an id this server could not have issued."""
    try:
        decoded = (decode_legacy_run_id if is_legacy(run_id) else decode_run_id)(run_id)
        config = check_config(decoded, settings)  # in field order, like a POST's answer
        # the same JSON, not only equal values: an id that spells steps 5 as 5.0 is an alias;
        # but for hyper-parameters that its optimizer does not read, which ids kept before
        # they were normalized away (run_from_id moves those to the run's one id)
        if json.dumps(config, sort_keys=True) != json.dumps(unread_as_defaults(decoded),
                                                            sort_keys=True):
            raise RunIdError("run id config is not normalized")
    except (RunIdError, ConfigError) as err:
        raise HTTPException(status_code=404, detail="Run not found") from err
    return config


# what a path or query as the client sent it keeps (its escapes too); anything else is encoded
URL_SAFE = "%/=&+,;:@?!$'()*~"


def _moved(request: Request, old_id: str, new_id: str) -> HTTPException:
    """308 to the same route and query with the run's current id: an r1 link keeps working,
    and the client learns the one id the run has now. The path and query go as the client
    sent them (raw_path, its escapes kept: /steps/%E2%9C%93), the segment that spells the
    old id (escaped or not) replaced, and any other byte percent-encoded: a header holds
    ASCII only."""
    # the decoded path, encoded again, where a server gives no raw_path or one rewrote it
    for raw in (request.scope.get("raw_path") or b"", quote(request.scope["path"]).encode()):
        segments = raw.split(b"/")
        spelled = [unquote_to_bytes(segment) == old_id.encode() for segment in segments]
        if True in spelled:
            break
    segments[spelled.index(True)] = new_id.encode()
    path = quote(b"/".join(segments), safe=URL_SAFE)
    query = request.scope.get("query_string", b"")
    query = f"?{quote(query, safe=URL_SAFE)}" if query else ""
    return HTTPException(status_code=308, headers={"location": path + query},
                         detail=f"Moved: this run's id is now {new_id}")


async def run_from_id(run_id: RunIdPath, request: Request, run_cache: RunCacheDep,
                      settings: SettingsDep, client: ClientDep) -> RunRef:
    """The run an id names: 404 for an unknown or altered id, 308 for an r1 id (an r2 id
    of a bug run, or one that kept a hyper-parameter its optimizer does not read) to the
    run's one id; one that
    this process does not hold is admitted (429, 403) and queued, as a POST would be."""
    config = config_of(run_id, settings)
    # r1; an r2 id of a bug run (r3 now); an id that kept an unread hyper-parameter
    if is_legacy(run_id) or encode_run_id(config) != run_id:
        raise _moved(request, run_id, encode_run_id(config))
    _check_query_names(request)  # before a run this process lacks is queued to train
    return RunRef(run_id, config, await obtain(run_cache, config, client))


def _query_names(dependant) -> set[str]:
    """The query parameters that a route's dependant (FastAPI's) and its dependencies take."""
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _check_query_names(request: Request):
    """422 for a query parameter that the route does not take: feilds=Z would otherwise
    answer the whole step, as if no fields were given. After the run's 404: an unknown
    run is the first thing to say."""
    route = request.scope.get("route")
    if route is None:
        return
    known = _query_names(route.dependant)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in known]
    if unknown:
        takes = ", ".join(sorted(known)) or "no query parameters"
        raise RequestValidationError([
            {"type": "unknown_parameter", "loc": ("query", name),
             "msg": f"unknown query parameter; this route takes {takes}"}
            for name in unknown])


async def known_query_names(request: Request):
    """The routes without a run (they have no run's 404 to say first) refuse a query
    parameter they do not take, as the run routes do."""
    _check_query_names(request)


RunDep = Annotated[RunRef, Depends(run_from_id)]


async def single_query_values(request: Request):
    """422 for a query parameter given twice (layers=1&layers=3): FastAPI would silently
    keep the last one, and a list belongs in one value (layers=1,3)."""
    counts: dict[str, int] = {}
    for name, _ in request.query_params.multi_items():
        counts[name] = counts.get(name, 0) + 1
    repeated = [(name, n) for name, n in counts.items() if n > 1]
    if repeated:
        raise RequestValidationError([
            {"type": "repeated_parameter", "loc": ("query", name),
             "msg": f"given {n} times; give it once (a list goes in one value, "
                    "separated by commas)"}
            for name, n in repeated])
