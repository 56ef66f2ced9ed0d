"""Bad input of every kind answers 4xx with a `detail` that names the field; never 500."""

import gzip

import pytest

from app.run_ids import encode_legacy_run_id, encode_run_id
from engine.config import normalize_config
from tests.conftest import SMALL

J = {"content-type": "application/json"}
BIG = b'{"seed": 1, "noise": 0.1' + b", " * 40000 + b"}"
LONG = b"1" + b"0" * 4999  # 5,000 digits: past Python's int-max-str-digits limit

# (json body, detail starts with) for POST /api/runs; all answer 422
BAD_CONFIGS = [
    ({"learning_rate": -1}, "learning_rate:"),
    ({"learning_rate": 0}, "learning_rate:"),
    ({"learning_rate": 10.5}, "learning_rate:"),
    ({"learning_rate": "fast"}, "learning_rate:"),
    ({"steps": 0}, "steps:"),
    ({"steps": 2001}, "steps:"),
    ({"steps": 2.5}, "steps:"),
    ({"steps": True}, "steps:"),
    ({"steps": "5"}, "steps:"),
    ({"hidden_layers": [4.5]}, "hidden_layers.0:"),
    ({"batch_size": 0.0}, "batch_size:"),
    ({"n_samples": 19}, "n_samples:"),
    ({"n_samples": 2001}, "n_samples:"),
    ({"seed": -1}, "seed:"),
    ({"seed": 2**32}, "seed:"),
    ({"keep_prob": 0}, "keep_prob:"),
    ({"l2": 11}, "l2:"),
    ({"test_fraction": 0.9}, "test_fraction:"),
    ({"noise": "loud"}, "noise:"),
    ({"dataset": "mnist"}, "dataset:"),
    ({"optimizer": "sgd"}, "optimizer:"),
    ({"init": "random"}, "init:"),
    ({"loss": "hinge"}, "loss:"),
    ({"activations": ["relu", "swish", "sigmoid"]}, "activations.1:"),
    ({"colour": "red"}, "colour:"),
    ({"activations": ["relu", "sigmoid"]}, "activations:"),  # 2 for 3 layers
    ({"activations": ["relu"] * 4}, "activations:"),
    ({"activations": ["softmax", "relu", "sigmoid"]}, "activations:"),
    ({"hidden_layers": [8] * 7}, "hidden_layers:"),
    ({"hidden_layers": [0]}, "hidden_layers.0:"),
    ({"hidden_layers": [8, 129]}, "hidden_layers.1:"),  # the server's max_width (check_config)
    ({"hidden_layers": "8,8"}, "hidden_layers:"),
    ({"batch_size": 0}, "batch_size:"),
    ({"batch_size": 321}, "batch_size:"),  # 400 samples leave 320 for training
    ({"dataset": "sine", "loss": "binary_cross_entropy"}, "loss:"),
    ({"dataset": "moons", "loss": "categorical_cross_entropy"}, "loss:"),
    ({"beta1": 1.5}, "beta1:"),
    ({"epsilon": 0}, "epsilon:"),
]


@pytest.mark.parametrize(("body", "field"), BAD_CONFIGS, ids=[f for _, f in BAD_CONFIGS])
def test_bad_config_is_422_naming_the_field(client, body, field):
    response = client.post("/api/runs", json={**SMALL, **body})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail.startswith(field), detail


def test_whole_numbers_written_as_floats_are_integers(client):
    """JSON has one number type: 5.0 is the integer 5 (as in JSON Schema), and names the
    same run as 5."""
    body = {"steps": 5.0, "seed": 3.0, "hidden_layers": [4.0, 3.0], "batch_size": 16.0,
            "n_samples": 100.0}
    response = client.post("/api/runs", json={**SMALL, **body})
    assert response.status_code in (201, 202)
    as_ints = client.post("/api/runs", json={**SMALL, **{k: (list(map(int, v)) if isinstance(
        v, list) else int(v)) for k, v in body.items()}})
    assert response.json()["id"] == as_ints.json()["id"]
    config = response.json()["config"]
    assert config["steps"] == 5 and isinstance(config["steps"], int)
    assert config["hidden_layers"] == [4, 3] and config["batch_size"] == 16


# (raw body, headers, status, detail starts with)
BAD_BODIES = [
    (None, {}, 422, "body:"),
    (b"", J, 422, "body:"),
    (b"{not json", J, 422, "body:"),
    (b"[1, 2]", J, 422, "body:"),
    (b"null", J, 422, "body:"),
    (b'"moons"', J, 422, "body:"),
    (b"[" * 50000, J, 422, "body:"),
    (b"[" * 20000 + b"]" * 20000, J, 422, "body:"),  # nested too deep for the parser
    # integers too long for any field: the detail names where they stand
    (b'{"steps": ' + LONG + b"}", J, 422, "steps: an integer of 5000 digits"),
    (b'{"seed": -' + LONG + b"}", J, 422, "seed: an integer of 5000 digits"),
    (b'{"hidden_layers": [8, ' + LONG + b"]}", J, 422, "hidden_layers.1: an integer of 5000"),
    (b'{"dataset": ' + LONG + b"}", J, 422, "dataset: an integer of 5000 digits"),
    (b'{"colour": ' + LONG + b"}", J, 422, "colour: an integer of 5000 digits"),
    (LONG, J, 422, "body: an integer of 5000 digits"),
    (b"[" + LONG + b"]", J, 422, "body:"),
    # a key given twice: json keeps the last value without a word; refused, naming it
    (b'{"steps": 5, "steps": 6}', J, 422,
     "steps: given more than once; give each field once, got [5, 6]"),
    (b'{"hidden_layers": [8], "seed": 1, "hidden_layers": [4]}', J, 422, "hidden_layers: given"),
    (b'{"learning_rate": NaN}', J, 422, "learning_rate:"),
    (b'{"learning_rate": Infinity}', J, 422, "learning_rate:"),
    (b"\xff\xfe\x00", J, 422, "body:"),
    # a key of no name is a field, not the body
    (b'{"": 1}', J, 422, 'body: unknown field "" (a key of no name), got 1'),
    # JSON only: another content type is 415, whatever the bytes hold
    (b'{"steps": 5}', {"content-type": "text/plain"}, 415,
     "body: content type 'text/plain' is not accepted; send application/json"),
    (b"steps=5", {"content-type": "application/x-www-form-urlencoded"}, 415, "body: content"),
    (b'--x\r\nContent-Disposition: form-data; name="steps"\r\n\r\n5\r\n--x--\r\n',
     {"content-type": "multipart/form-data; boundary=x"}, 415, "body: content"),
    (b'{"steps": 5}', {"content-type": ""}, 415, "body: no content type; send application/json"),
    (b'{"steps": 5}', {"content-type": "application/jsonx"}, 415, "body: content"),
    # compressed, or not UTF-8: said so, not "could not be parsed (UnicodeDecodeError)"
    (gzip.compress(b'{"steps": 5}', mtime=0), {**J, "content-encoding": "gzip"}, 415,
     "body: content encoding 'gzip' is not accepted; send the JSON as it is"),
    ('{"dataset": "moons", "seed": 1, "x": "é"}'.encode("latin-1"),
     {"content-type": "application/json; charset=latin-1"}, 422,
     "body: could not be parsed as JSON: its bytes are not UTF-8 text"),
    (BIG, J, 413, "body:"),
]


@pytest.mark.parametrize(("raw", "headers", "status", "field"), BAD_BODIES,
                         ids=[f"{status}-{(raw or b'')[:24]!r}"
                              for raw, _, status, _ in BAD_BODIES])
def test_bad_body(client, raw, headers, status, field):
    response = client.post("/api/runs", content=raw, headers=headers)
    assert response.status_code == status
    assert response.json()["detail"].startswith(field)


@pytest.mark.parametrize("encoding", ["", "identity", "Identity "])
def test_a_body_sent_as_it_is_is_accepted_whatever_its_encoding_header_says(client, encoding):
    response = client.post("/api/runs", content=b'{"dataset": "moons", "n_samples": 100, '
                           b'"hidden_layers": [4, 3], "steps": 20}',
                           headers={**J, "content-encoding": encoding})
    assert response.status_code in (201, 202), response.text


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "Application/JSON",
    "application/merge-patch+json"])
def test_json_content_types_are_accepted(client, content_type):
    response = client.post("/api/runs", content=b'{"dataset": "moons", "n_samples": 100, '
                           b'"hidden_layers": [4, 3], "steps": 20}',
                           headers={"content-type": content_type})
    assert response.status_code == 201


def test_chunked_body_over_the_limit_is_413(client):
    def chunks():
        for _ in range(100):
            yield b" " * 1024

    response = client.post("/api/runs", content=chunks(), headers=J)
    assert response.status_code == 413
    assert response.json()["detail"].startswith("body:")


DEFAULT = normalize_config({})
BAD_IDS = [
    "x", "r1", "r1AAAA", "r1!!!", "r2Gw1DysMQAA", "r1" + "A" * 3000, "r1Gw1DysMQAA" + "AAAA",
    encode_run_id({"a": 1}),  # well-formed, but not a config
    encode_run_id({**DEFAULT, "activations": None}),  # a config, but not normalized
    encode_run_id({**DEFAULT, "steps": 5000}),  # beyond this server's limits
    encode_run_id({**DEFAULT, "learning_rate": -1.0}),
    encode_legacy_run_id({"a": 1}),  # the same, in the earlier r1 format
    encode_legacy_run_id({**DEFAULT, "activations": None}),
    encode_legacy_run_id({**DEFAULT, "steps": 5000}),
    "r1Gw1DysMQAB",  # an alias of the default run's r1 id (base64 padding bits)
    "r2" + encode_run_id(DEFAULT)[2:-1] + "x",  # its r2 id, altered
]


@pytest.mark.parametrize("run_id", BAD_IDS)
@pytest.mark.parametrize("path", ["", "/summary", "/steps/0"])
def test_bad_run_id_is_404(client, run_id, path):
    response = client.get(f"/api/runs/{run_id}{path}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Run not found"}


# (path after the run, status, detail starts with); SMALL has 20 steps and 3 layers
BAD_STEP_QUERIES = [
    ("/steps/20", 404, "Step not found"),
    ("/steps/-1", 404, "Step not found"),
    ("/steps/99999999999999999999", 404, "Step not found"),
    ("/steps/x", 404, "Step not found"),
    ("/steps/abc", 404, "Step not found"),
    ("/steps/1.5", 404, "Step not found"),
    ("/steps/1e1", 404, "Step not found"),
    ("/steps/+1", 404, "Step not found"),
    ("/steps/%201", 404, "Step not found"),
    ("/steps/%D9%A1", 404, "Step not found"),  # an Arabic-Indic one: a digit, not ASCII
    ("/steps/" + "9" * 5000, 404, "Step not found"),
    ("/steps/20/gradcheck", 404, "Step not found"),
    ("/steps/-1/gradcheck", 404, "Step not found"),
    ("/steps/abc/gradcheck", 404, "Step not found"),
    ("/steps/1.5/gradcheck", 404, "Step not found"),
    ("/steps/1?layers=0", 422, "layers:"),
    ("/steps/1?layers=4", 422, "layers:"),
    ("/steps/1?layers=one", 422, "layers:"),
    ("/steps/1?layers=", 422, "layers:"),
    ("/steps/1?layers=1,,2", 422, "layers:"),
    ("/steps/1?fields=Q", 422, "fields:"),
    ("/steps/1?fields=Z,", 422, "fields:"),
    ("/steps/1?fields=z", 422, "fields:"),
    ("/steps/1?max_cells=0", 422, "max_cells:"),
    ("/steps/1?max_cells=-5", 422, "max_cells:"),
    ("/steps/1?max_cells=many", 422, "max_cells:"),
    ("/steps/1?max_cells=1e3", 422, "max_cells:"),
    # one rule for a number: plain ASCII digits ("1_000", " 5", "2.0", "٣" are not)
    ("/steps/1?max_cells=1_000", 422, "max_cells: input should be a valid integer, in plain"),
    ("/steps/1?max_cells=2.0", 422, "max_cells: input should be a valid integer, in plain"),
    ("/steps/1?max_cells=%205", 422, "max_cells: input should be a valid integer, in plain"),
    ("/steps/1?example=%D9%A3", 422, "example: input should be a valid integer, in plain"),
    ("/steps/1/boundary?resolution=2_0", 422, "resolution: input should be a valid integer, in"),
    ("/steps/1?layers=%D9%A3", 422, "layers: give layer numbers separated by commas"),
    ("/steps/1?layers=1,%203", 422, "layers: give layer numbers separated by commas"),
    # a parameter given twice: 422, not the last one silently kept
    ("/steps/1?layers=1&layers=3", 422, "layers: given 2 times; give it once"),
    ("/steps/1?fields=Z&fields=dW", 422, "fields: given 2 times"),
    ("/steps/1?max_cells=1&max_cells=2", 422, "max_cells: given 2 times"),
    ("/steps/1?max_cells=1&layers=1&max_cells=2&max_cells=3", 422, "max_cells: given 3 times"),
    ("/steps/1/gradcheck?x=1&x=1", 422, "x: given 2 times"),
    ("/steps/1/gradcheck?x=1", 422, "x: unknown query parameter; this route takes no "),
    # a parameter the route does not take: 422, not silently ignored (a misspelt fields
    # would send the whole step)
    ("/steps/1?feilds=Z", 422, "feilds: unknown query parameter; this route takes digits, "
                               "encoding, example, fields, layers, max_cells"),
    ("/steps/1/boundary?resolution=10&res=3", 422, "res: unknown query parameter"),
    ("/scores?step=1", 422, "step: unknown query parameter; this route takes steps"),
    ("/histograms?steps=1&steps=2", 422, "steps: given 2 times"),
    ("/scores?steps=1&steps=2", 422, "steps: given 2 times"),
    ("/scores?steps=1,x", 422, "steps:"),
    ("/scores?steps=" + ",".join(map(str, range(51))), 422, "steps: at most 50"),
    ("/summary?steps=1&steps=2", 422, "steps: given 2 times"),
    ("/summary?steps=1", 422, "steps: unknown query parameter"),
    ("?layers=1&layers=1", 422, "layers: given 2 times"),
]


@pytest.mark.parametrize(("path", "status", "field"), BAD_STEP_QUERIES,
                         ids=[path[:40] for path, _, _ in BAD_STEP_QUERIES])
def test_bad_step_or_query(client, small_run, path, status, field):
    response = client.get(f"/api/runs/{small_run['id']}{path}")
    assert response.status_code == status
    assert response.json()["detail"].startswith(field)


# the routes without a run refuse a parameter they do not take, as the run routes do
UNKNOWN_PARAMETERS = [("get", "/api/options?debug=1"),
                      ("get", "/api/lessons?x=1"), ("get", "/api/lessons/caches?x=1"),
                      ("post", "/api/runs?debug=1"), ("post", "/api/configs/check?debug=1")]


def test_healthz_takes_a_monitors_cache_busting_parameter(client):
    assert client.get("/healthz?ts=1733450000").json()["status"] == "ok"


@pytest.mark.parametrize(("method", "url"), UNKNOWN_PARAMETERS,
                         ids=[url for _, url in UNKNOWN_PARAMETERS])
def test_a_route_without_a_run_names_a_parameter_it_does_not_take(client, method, url):
    body = {"json": SMALL} if method == "post" else {}
    response = getattr(client, method)(url, **body)
    assert response.status_code == 422, response.text
    name = url.split("?")[1].split("=")[0]
    assert response.json()["detail"] == (f"{name}: unknown query parameter; this route takes "
                                         "no query parameters")


def test_repeated_parameter_is_listed_like_other_validation_errors(client, small_run):
    response = client.get(f"/api/runs/{small_run['id']}/steps/1?layers=1&layers=3")
    assert response.json()["errors"] == [{"loc": ["query", "layers"], "type": "repeated_parameter",
                                          "msg": response.json()["detail"][len("layers: "):]}]


def test_step_not_found_names_the_range(client, small_run):
    response = client.get(f"/api/runs/{small_run['id']}/steps/1.5")
    assert response.json() == {
        "detail": "Step not found: t must be an integer from 0 to 19, got '1.5'"}


def test_leading_zeros_still_name_the_step(client, small_run):
    response = client.get(f"/api/runs/{small_run['id']}/steps/007?fields=W")
    assert response.status_code == 200 and response.json()["step"] == 7


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/nothing", 404), ("DELETE", "/api/runs", 405), ("PUT", "/healthz", 405),
    ("GET", "/static/../pyproject.toml", 404), ("GET", "/static/%2e%2e/app/main.py", 404),
])
def test_unknown_routes_and_methods(client, method, path, status):
    response = client.request(method, path)
    assert response.status_code == status
    assert "detail" in response.json()


def test_an_answer_lists_at_most_twenty_errors_and_counts_the_rest(client, small_run):
    query = "&".join(f"p{k}=1" for k in range(3000))
    response = client.get(f"/api/runs/{small_run['id']}/steps/1?{query}")
    assert response.status_code == 422
    assert len(response.json()["errors"]) == 20
    assert response.json()["detail"].endswith("; and 2980 more errors")
    assert len(response.content) < 20_000
    body = {f"k{k}": 1 for k in range(500)}
    answer = client.post("/api/runs", json=body).json()
    assert len(answer["errors"]) == 20 and answer["detail"].endswith("; and 480 more errors")


@pytest.mark.parametrize("path", ["/api/options/", "/api/lessons/", "/healthz/"])
def test_a_trailing_slash_is_a_404_not_a_redirect_to_the_hosts_name(client, path):
    """The 307 for a trailing slash wrote the request's Host header into its Location."""
    response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.json() == {"detail": "Not Found"}
