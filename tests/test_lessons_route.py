"""GET /api/lessons and GET /api/lessons/{id}: the lessons as app.lessons loaded them, a
teacher's folder after the built-in ones, the errors, and the OpenAPI schema; a lesson's
run ids open its runs."""

import json

import pytest
from jsonschema import Draft202012Validator

from app.lessons import built_in_lessons
from tests.conftest import strict_json

BUILT_IN = built_in_lessons()


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.text
    return strict_json(response.text)


def test_the_list_is_the_built_in_lessons_as_loaded(client):
    assert get(client, "/api/lessons") == json.loads(json.dumps(BUILT_IN))


@pytest.mark.parametrize("lesson_id", ["caches", "bug-missing-1-over-m"])
def test_one_lesson_is_the_lesson_of_the_list(client, lesson_id):
    [expected] = [lesson for lesson in get(client, "/api/lessons") if lesson["id"] == lesson_id]
    assert get(client, f"/api/lessons/{lesson_id}") == expected


@pytest.mark.parametrize(("lesson_id", "status", "detail"), [
    ("no-such-lesson", 404, "lesson_id: no lesson 'no-such-lesson' on this server; "
                            "GET /api/lessons lists them"),
    ("Caches", 422, "lesson_id"),
    ("x" * 41, 422, "lesson_id"),
])
def test_an_unknown_or_malformed_id_names_lesson_id(client, lesson_id, status, detail):
    answer = get(client, f"/api/lessons/{lesson_id}", status)
    assert answer["detail"].startswith(detail)


def test_a_teachers_lessons_are_served_after_the_built_in_ones(make_client, tmp_path):
    lesson = {"id": "my-xor", "title": "XOR", "summary": "Two units suffice.",
              "config": {"dataset": "xor", "hidden_layers": [2], "steps": 50},
              "view": {"it": 49, "phase": "forward-1", "layer": 1},
              "look_for": ["a", "b"], "tour": [{"view": {}, "say": "Here."}],
              "question": "Why two?"}
    (tmp_path / "xor.json").write_text(json.dumps(lesson))
    (tmp_path / "broken.json").write_text("{")
    client = make_client(lessons_dir=tmp_path)
    ids = [lesson["id"] for lesson in get(client, "/api/lessons")]
    assert ids == [lesson["id"] for lesson in BUILT_IN] + ["my-xor"]
    assert get(client, "/api/lessons/my-xor")["config"]["hidden_layers"] == [2]


def test_a_lessons_run_id_opens_its_run(client):
    lesson = get(client, "/api/lessons/bug-wrong-update-sign")
    for config, run_id in [(lesson["config"], lesson["run_id"]),
                           (lesson["compare"]["config"], lesson["compare"]["run_id"])]:
        response = client.post("/api/runs", json=config)
        assert response.status_code == 201, response.text
        assert response.json()["id"] == run_id
        assert get(client, f"/api/runs/{run_id}")["bug_active"] is (config["bug"] is not None)


def test_the_answers_match_the_openapi_schema(client):
    document = client.get("/openapi.json").json()
    ok = document["paths"]["/api/lessons"]["get"]["responses"]["200"]
    listed = ok["content"]["application/json"]["schema"]
    assert listed["type"] == "array"
    assert listed["items"] == {"$ref": "#/components/schemas/Lesson"}
    validator = Draft202012Validator({**document, "$ref": "#/components/schemas/Lesson"})
    for lesson in get(client, "/api/lessons"):
        validator.validate(lesson)
