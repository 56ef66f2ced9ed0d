"""app.deps: a run id read against this server's settings, a run obtained from the run cache
(admitted if it has to train), and a query parameter given once."""

import threading
from types import SimpleNamespace

import anyio
import pytest
from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError

from app.admission import AdmissionError, Client
from app.deps import config_of, obtain, single_query_values
from app.run_ids import canonical_json, encode_legacy_run_id, encode_run_id
from app.settings import Settings
from engine.config import normalize_config
from tests.event_loops import run_async

CONFIG = normalize_config({"steps": 30})


def altered(run_id: str) -> str:
    """The id with its 10th character changed."""
    return run_id[:10] + ("B" if run_id[10] != "B" else "C") + run_id[11:]


def test_an_id_names_its_normalized_config():
    assert config_of(encode_run_id(CONFIG), Settings()) == CONFIG
    assert config_of(encode_legacy_run_id(CONFIG), Settings()) == CONFIG


@pytest.mark.parametrize(("run_id", "settings"), [
    (altered(encode_run_id(CONFIG)), Settings()),  # the checksum fails
    ("r2", Settings()),
    (encode_run_id(CONFIG), Settings(max_steps=20)),  # beyond this server's limits
    (encode_run_id({**CONFIG, "activations": None}), Settings()),  # not normalized
], ids=["altered", "empty", "over_limits", "not_normalized"])
def test_an_id_this_server_could_not_have_issued_is_404(run_id, settings):
    with pytest.raises(HTTPException) as error:
        config_of(run_id, settings)
    assert (error.value.status_code, error.value.detail) == (404, "Run not found")


class Cache:
    """A run cache that holds `held` (or nothing) and builds a new run, or refuses it."""

    def __init__(self, held=None, refusal=None):
        self.held, self.refusal, self.peeks, self.built = held, refusal, [], []
        self.build_threads = anyio.CapacityLimiter(1)

    def peek(self, key, asked=True):
        self.peeks.append((key, asked))
        return self.held

    def get(self, key, config, client=None):
        if self.refusal is not None:
            raise self.refusal
        self.built.append((key, client))
        return SimpleNamespace(config=config)


CROSS_SITE = Client(None, "203.0.113.7", cross_site=True)


@pytest.mark.parametrize(("client", "asked"), [(None, True), (Client("t" * 22, "a"), True),
                                               (CROSS_SITE, False)])
def test_a_held_run_is_returned_and_counts_as_asked_unless_cross_site(client, asked):
    held = object()
    cache = Cache(held)
    assert run_async(obtain, cache, CONFIG, client) is held
    assert cache.peeks == [(canonical_json(CONFIG), asked)] and cache.built == []


def test_a_run_not_held_is_built_for_its_client():
    cache, client = Cache(), Client("t" * 22, "a")
    run = run_async(obtain, cache, CONFIG, client)
    assert run.config == CONFIG and cache.built == [(canonical_json(CONFIG), client)]


def test_a_run_is_built_even_while_other_work_fills_the_shared_worker_threads():
    release = threading.Event()

    async def build_beside_busy_threads():
        shared = anyio.to_thread.current_default_thread_limiter()
        shared.total_tokens = 2
        async with anyio.create_task_group() as group:
            for _ in range(2):  # slow answers hold every shared thread
                group.start_soon(anyio.to_thread.run_sync, release.wait, 10)
            await anyio.sleep(0.05)
            with anyio.fail_after(5):
                run = await obtain(Cache(), CONFIG, Client("t" * 22, "a"))
            release.set()
        return run

    assert run_async(build_beside_busy_threads).config == CONFIG


def test_a_refused_run_is_the_refusal_as_an_http_answer():
    refusal = AdmissionError(429, "max_runs_per_client", "max_runs_per_client: too many", 7)
    with pytest.raises(HTTPException) as error:
        run_async(obtain, Cache(refusal=refusal), CONFIG, Client("t" * 22, "a"))
    assert error.value.status_code == 429
    assert error.value.detail == "max_runs_per_client: too many"
    assert error.value.headers == {"Retry-After": "7"}


def request_with(query: str):
    """A request with this query string and no route (which names the parameters the
    route takes: tests/test_bad_inputs.py asks the app's own routes)."""
    return Request({"type": "http", "query_string": query.encode(), "headers": []})


@pytest.mark.parametrize(("query", "repeated"), [
    ("layers=1&layers=3", ["layers"]), ("layers=1,3&fields=Z", []), ("", []),
    ("a=1&b=2&a=3&b=4", ["a", "b"])])
def test_a_query_parameter_given_twice_is_422_naming_it(query, repeated):
    if not repeated:
        assert run_async(single_query_values, request_with(query)) is None
        return
    with pytest.raises(RequestValidationError) as error:
        run_async(single_query_values, request_with(query))
    assert [e["loc"] for e in error.value.errors()] == [("query", name) for name in repeated]
    assert all("given 2 times" in e["msg"] for e in error.value.errors())
