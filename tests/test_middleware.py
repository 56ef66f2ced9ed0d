"""Every answer's headers, the access log and gzip."""

import gzip
import logging

import orjson
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import SMALL

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


def test_access_log_is_one_json_line_per_request(client):
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = logging.getLogger("app.access")
    logger.addHandler(handler)
    try:
        client.get("/healthz")
        client.get("/api/runs/r1AAAA?max_cells=3")
    finally:
        logger.removeHandler(handler)
    entries = [orjson.loads(line) for line in lines]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == \
        [("GET", "/healthz", 200), ("GET", "/api/runs/r1AAAA", 404)]
    assert all(isinstance(e["ms"], float) and e["ms"] >= 0 for e in entries)


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
