"""Every answer's headers, the access log and gzip."""

import gzip
import logging
import time

import anyio
import orjson
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import SMALL
from tests.event_loops import run_async

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; frame-ancestors 'self'")


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("GET", "/healthz", None, 200),
    ("GET", "/api/options", None, 200),
    ("POST", "/api/runs", SMALL, 201),
    ("POST", "/api/runs", {"steps": -1}, 422),
    ("POST", "/api/runs", {"seed": "x" * 70000}, 413),
    ("GET", "/api/runs/r1AAAA", None, 404),
    ("DELETE", "/healthz", None, 405),
    ("GET", "/openapi.json", None, 200),
    ("GET", "/docs", None, 200),
])
def test_security_headers_on_every_answer(client, method, path, body, status):
    response = client.request(method, path, json=body)
    assert response.status_code == status
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "access-control-allow-origin" not in response.headers  # CORS stays off


def test_frame_ancestors_setting(make_client):
    response = make_client(frame_ancestors="'none'").get("/healthz")
    assert response.headers["content-security-policy"].endswith("frame-ancestors 'none'")


def access_lines(client, *urls):
    """The access log's entries for GETs of these urls."""
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = logging.getLogger("app.access")
    logger.addHandler(handler)
    try:
        for url in urls:
            client.get(url)
    finally:
        logger.removeHandler(handler)
    return [orjson.loads(line) for line in lines]


def test_access_log_is_one_json_line_per_request(client):
    entries = access_lines(client, "/healthz", "/api/runs/r1AAAA?max_cells=3")
    assert [(e["method"], e["path"], e["status"]) for e in entries] == \
        [("GET", "/healthz", 200), ("GET", "/api/runs/r1AAAA", 404)]
    assert all(isinstance(e["ms"], float) and e["ms"] >= 0 for e in entries)
    # who sent what: the address, and the query (cut)
    assert [e["query"] for e in entries] == ["", "max_cells=3"]
    assert {e["client"] for e in entries} == {"testclient"}


def test_an_access_lines_query_is_cut(client):
    [entry] = access_lines(client, "/healthz?" + "x" * 5000)
    assert entry["query"] == "x" * 200


def test_middle_sized_answers_are_gzipped(client, small_run):
    raw = client.get(f"/api/runs/{small_run['id']}/summary",
                     headers={"accept-encoding": "identity"})
    packed = client.get(f"/api/runs/{small_run['id']}/summary",
                        headers={"accept-encoding": "gzip"}, )
    assert "content-encoding" not in raw.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(raw.content)
    assert packed.content == raw.content  # httpx decoded it


@pytest.mark.parametrize("header", ["gzip;q=0", "gzip;q=0, deflate", "identity", "br"])
def test_answers_go_plain_to_a_client_that_refuses_gzip(client, small_run, header):
    answer = client.get(f"/api/runs/{small_run['id']}/summary",
                        headers={"accept-encoding": header})
    assert answer.status_code == 200 and "content-encoding" not in answer.headers


def test_gzip_bytes_are_the_same_every_time(client, small_run):
    def fetch():
        with client.stream("GET", f"/api/runs/{small_run['id']}/summary",
                           headers={"accept-encoding": "gzip"}) as response:
            return b"".join(response.iter_raw())

    first = fetch()
    assert first == fetch()
    assert gzip.decompress(first).startswith(b"{")


def test_big_step_records_and_tiny_answers_are_not_gzipped(client):
    run = client.post("/api/runs", json={"dataset": "digits", "hidden_layers": [32, 16],
                                         "steps": 2}).json()
    step = client.get(f"/api/runs/{run['id']}/steps/1", headers={"accept-encoding": "gzip"})
    assert len(step.content) > 256 * 1024 and "content-encoding" not in step.headers
    health = client.get("/healthz", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in health.headers


def test_an_unexpected_error_is_a_bare_500_with_headers():
    app = create_app()

    @app.get("/boom")
    async def boom():
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal error"}
    assert response.headers["content-security-policy"] == CSP


@pytest.mark.parametrize("path", ["/healthz", "/", "/api/options", "/api/lessons", "RUN",
                                  "RUN/summary", "RUN/steps/0", "/static/css/lens.css"])
def test_head_answers_as_get_without_a_body(client, small_run, path):
    path = path.replace("RUN", f"/api/runs/{small_run['id']}")
    got, head = client.get(path), client.head(path)
    assert (got.status_code, head.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-security-policy"] == CSP


def test_head_on_progress_events_stays_405(client, small_run):
    # a stream that lasts while the run trains has no headers-only answer
    response = client.head(f"/api/runs/{small_run['id']}/events")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


def post_scope():
    """The ASGI scope of a POST /api/runs whose body of 100 bytes comes in parts."""
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": "/api/runs", "raw_path": b"/api/runs",
            "root_path": "", "query_string": b"", "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
            "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                        (b"content-length", b"100")]}


def test_an_upload_given_up_halfway_is_logged_and_counted_as_499_not_500(make_client):
    client = make_client()
    app, lines, sent = client.app, [], []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(orjson.loads(record.getMessage()))
    messages = iter([{"type": "http.request", "body": b'{"steps":', "more_body": True},
                     {"type": "http.disconnect"}])

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)

    scope = post_scope()
    logger = logging.getLogger("app.access")
    logger.addHandler(handler)
    try:
        run_async(app, scope, receive, send)
    finally:
        logger.removeHandler(handler)
    assert sent == []  # nobody to answer
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [("POST", "/api/runs", 499)]
    exposition = app.state.metrics.exposition(app.state).decode()
    # the body limit gave up before routing: no route template to name
    assert 'backprop_lens_responses_total{route="unmatched",status="499"} 1.0' in exposition
    assert 'status="500"' not in exposition


def test_a_body_that_does_not_arrive_in_time_is_408(make_client):
    """A client that sent part of a body and then nothing held 64 KiB and a connection for
    as long as it liked (3,000 such took 185 MB)."""
    app, sent = make_client(body_seconds=0.2).app, []
    first = True

    async def receive():
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b'{"steps":', "more_body": True}
        await anyio.sleep(60)  # the rest never comes

    async def send(message):
        sent.append(message)

    scope = post_scope()
    started = time.monotonic()
    run_async(app, scope, receive, send)
    assert time.monotonic() - started < 10
    assert sent[0]["status"] == 408
    assert orjson.loads(sent[1]["body"]) == {"detail": "body: not received within this "
                                                       "server's 0.2 s"}


def test_a_head_answer_is_counted_under_its_route(make_client):
    client = make_client()
    assert client.head("/healthz").status_code == 200
    exposition = client.app.state.metrics.exposition(client.app.state).decode()
    assert 'backprop_lens_responses_total{route="/healthz",status="200"} 1.0' in exposition
    assert 'route="unmatched"' not in exposition
