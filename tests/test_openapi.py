"""/openapi.json gives every answer its real schema, served answers match it, and /docs
renders it from local files only."""

import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from app.settings import Settings
from engine.histograms import HISTOGRAM_TENSORS
from engine.records import FIELDS
from engine.stats import LAYER_STATS
from tests.conftest import DIVERGENT, SMALL
from tests.test_steps_route import DIVERGED_SPIRAL as DIVERGENT_CLASSIFIER

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def openapi(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def resolve(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def json_schema(document, response):
    return resolve(document, response["content"]["application/json"]["schema"])


def test_every_2xx_json_answer_is_an_object_with_properties(openapi):
    seen = []
    for name, operation in operations(openapi):
        for status, response in operation["responses"].items():
            if status.startswith("2") and "application/json" in response.get("content", {}):
                schema = json_schema(openapi, response)
                if schema.get("type") == "array":  # a list (of lessons): of such objects
                    schema = resolve(openapi, schema["items"])
                assert schema.get("type") == "object" and schema.get("properties"), \
                    f"{name} {status}: {schema}"
                seen.append(f"{name} {status}")
    assert len(seen) == 18  # healthz, options, POST 201 and 202, the config and id checks, run,
    # summary, histograms, scores, step, gradcheck, boundary, units, predictions, examples, the
    # lessons and one lesson; the events stream is text/event-stream


def test_every_operation_with_parameters_documents_the_422_the_app_sends(openapi):
    for name, operation in operations(openapi):
        if not operation.get("parameters") and "requestBody" not in operation:
            continue
        schema = json_schema(openapi, operation["responses"]["422"])
        assert set(schema["properties"]) == {"detail", "errors"}, name
        assert schema["required"] == ["detail"]
        assert schema["properties"]["detail"]["type"] == "string"
    assert "HTTPValidationError" not in openapi["components"]["schemas"]


def test_every_error_status_documents_its_detail(openapi):
    for name, operation in operations(openapi):
        for status, response in operation["responses"].items():
            if status[0] in "345":
                schema = json_schema(openapi, response)
                assert schema["properties"]["detail"]["type"] == "string", f"{name} {status}"


def test_the_post_documents_its_415_and_413(openapi):
    responses = openapi["paths"]["/api/runs"]["post"]["responses"]
    assert {"201", "202", "413", "415", "422"} <= set(responses)


def test_per_layer_series_come_from_the_engine_tables(openapi):
    schemas = openapi["components"]["schemas"]
    assert set(schemas["SummaryLayer"]["properties"]) == {"l", "activation", *LAYER_STATS}
    assert set(schemas["HistogramLayer"]["required"]) == {"l", *HISTOGRAM_TENSORS}


def validator(openapi, name):
    return Draft202012Validator({**openapi, "$ref": f"#/components/schemas/{name}"})


RUNS = {
    "classification": SMALL,
    "regression with dropout and mini-batches": {
        "dataset": "sine", "n_samples": 60, "hidden_layers": [4, 3], "keep_prob": 0.7,
        "batch_size": 16, "steps": 8},
    "diverged": DIVERGENT,
}
# (path after the run's id, component schema)
ANSWERS = [
    ("", "RunInfo"), ("/summary", "Summary"), ("/histograms", "Histograms"),
    ("/histograms?steps=0,1", "Histograms"), ("/steps/{last}", "StepRecord"),
    ("/steps/0?layers=1&fields=Z,dW", "StepRecord"), ("/steps/{last}?fields=X", "StepRecord"),
    ("/steps/1?max_cells=3", "StepRecord"), ("/steps/{last}/gradcheck", "Gradcheck"),
    ("/steps/1?example={example}&max_cells=2", "StepRecord"),
    ("/steps/{last}/boundary?resolution=7", "Boundary"),
    ("/steps/{last}?encoding=u8", "StepRecord"), ("/steps/1?digits=3&max_cells=3", "StepRecord"),
    ("/steps/{last}/boundary?resolution=7&digits=3&encoding=u8", "Boundary"),
]


@pytest.mark.parametrize("config", RUNS.values(), ids=list(RUNS))
def test_served_answers_match_their_schemas(client, openapi, config):
    info = client.post("/api/runs", json=config).json()
    assert validator(openapi, "RunInfo").is_valid(info)
    for path, name in ANSWERS:
        example = client.get(f"/api/runs/{info['id']}/steps/1?fields=Y").json()["batch"]
        path = path.format(last=info["num_steps"] - 1, example=example["indices"][-1])
        url = f"/api/runs/{info['id']}{path}"
        response = client.get(url)
        assert response.status_code == 200, url
        errors = [e.message[:200] for e in validator(openapi, name).iter_errors(response.json())]
        assert errors == [], url


@pytest.mark.parametrize("dataset", ["spiral", "iris"])
def test_boundary_answers_of_every_kind_match_their_schema(client, openapi, dataset):
    info = client.post("/api/runs", json={"dataset": dataset, "hidden_layers": [3],
                                          "steps": 2}).json()
    for form in ("", "&digits=2&encoding=u8"):
        answer = client.get(f"/api/runs/{info['id']}/steps/1/boundary?resolution=5{form}").json()
        assert list(validator(openapi, "Boundary").iter_errors(answer)) == []


@pytest.mark.parametrize("config", [SMALL, DIVERGENT_CLASSIFIER], ids=["binary", "diverged"])
def test_predictions_match_their_schema(client, openapi, config):
    info = client.post("/api/runs", json=config).json()
    answer = client.get(f"/api/runs/{info['id']}/steps/{info['num_steps'] - 1}/predictions")
    assert list(validator(openapi, "Predictions").iter_errors(answer.json())) == []


@pytest.mark.parametrize("step_route", ["/api/runs/{run_id}/steps/{t}",
                                        "/api/runs/{run_id}/steps/{t}/boundary"])
def test_the_step_routes_document_their_parameters(openapi, step_route):
    names = {p["name"] for p in openapi["paths"][step_route]["get"]["parameters"]}
    expected = {"layers", "fields", "max_cells", "example"} if step_route.endswith("{t}") \
        else {"resolution"}
    assert names == {"run_id", "t", "digits", "encoding", *expected}


@pytest.mark.parametrize(("url", "name"), [("/healthz", "Health"), ("/api/options", "Options")])
def test_meta_answers_match_their_schemas(client, openapi, url, name):
    assert list(validator(openapi, name).iter_errors(client.get(url).json())) == []


@pytest.mark.parametrize(("method", "url", "body", "status"), [
    ("POST", "/api/runs", {"steps": -1}, 422), ("GET", "/api/runs/r2AAAA", None, 404),
    ("GET", "/api/runs/r2AAAA/steps/0?layers=1&layers=2", None, 422),
])
def test_error_answers_match_their_schemas(client, openapi, method, url, body, status):
    response = client.request(method, url, json=body)
    assert response.status_code == status
    name = "ValidationErrorBody" if status == 422 else "ErrorBody"
    assert list(validator(openapi, name).iter_errors(response.json())) == []


def test_docs_page_loads_only_local_files(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script>" not in page and "<style>" not in page  # nothing inline: the CSP
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(source.startswith("/") and not source.startswith("//")
                           for source in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert 'data-openapi-url="/openapi.json"' in page


def test_redoc_is_not_served(client):
    assert client.get("/redoc").status_code == 404


def documented_routes():
    """{"GET /api/runs/{id}": {"200", "308", ...}} from the route table of docs/api.md."""
    rows = re.findall(r"^\| `(\w+ [^`]+)` \|.*\| ([\d, ]+) \|$",
                      (DOCS / "api.md").read_text(), flags=re.MULTILINE)
    return {route: set(statuses.replace(" ", "").split(",")) for route, statuses in rows}


def test_docs_api_md_lists_every_route_and_status(openapi):
    served = {name.replace("{run_id}", "{id}"): set(operation["responses"])
              for name, operation in operations(openapi)}
    assert documented_routes() == served


def test_docs_api_md_names_every_field_and_answer_setting():
    text = (DOCS / "api.md").read_text()
    for name in FIELDS:
        assert f"`{name}`" in text, name
    for setting in ("max_answer_cells", "big_answer_cells", "big_answers_at_once",
                    "big_answer_wait_seconds", "max_tensor_cells", "max_body_bytes"):
        assert f"BPL_{setting.upper()}" in text, setting
        assert f"`BPL_{setting.upper()}`" in (DOCS / "server.md").read_text(), setting
    assert f"{Settings().max_answer_cells:,}" in text
