"""Lessons (CONTRACT §7): curated runs with a view and words, read from JSON files.

The built-in lessons are app/lessons/*.json, shipped in the wheel; a teacher's own lessons
are the *.json files of the folder that the setting `lessons_dir` names, served after
them. Each folder is read in file-name order (the files' number prefixes set it). A lesson
file holds a (possibly partial) run config; loading normalizes it with the engine, computes
the run ids, and checks every view against the run's layers and steps (docs/lessons.md).

A bad built-in lesson is a bug of ours: loading raises, and the app does not start. A bad
file of a teacher's is skipped, with a warning that names the file and the field, so that
one typo does not take the whole class's server down.
"""

import logging
import re
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from app.config_limits import check_config
from app.run_ids import encode_run_id
from app.schemas import RunConfig
from app.settings import Settings
from engine.config import ConfigError, normalize_config

log = logging.getLogger("app.lessons")
BUILT_IN = files("app") / "lessons"
PHASE = re.compile(r"^(?:(forward|backward)-([1-9][0-9]?)|cost|update)$")


def text(limit: int):
    """A plain one-line text of 1 to `limit` characters (no control characters: the page
    shows it as it is, escaped)."""
    return Annotated[str, StringConstraints(min_length=1, max_length=limit,
                                            pattern=r"^[^\x00-\x1f\x7f]+$")]


class View(BaseModel):
    """Where the page looks: an iteration, a phase key (static/js/phases.js) and a layer."""

    model_config = ConfigDict(extra="forbid", strict=True)
    it: int = Field(ge=0, description="The iteration (0-based step), below the run's steps.")
    phase: str = Field(pattern=PHASE.pattern, description="forward-l, cost, backward-l or "
                                                          "update, l a layer of the run.")
    layer: int = Field(ge=1, description="The selected layer, 1 to L.")


class PartialView(BaseModel):
    """A tour stop's view in a file: what changes from the lesson's own view."""

    model_config = ConfigDict(extra="forbid", strict=True)
    it: int | None = Field(None, ge=0)
    phase: str | None = Field(None, pattern=PHASE.pattern)
    layer: int | None = Field(None, ge=1)


class TourStop(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    view: View
    say: text(400)


class FileTourStop(TourStop):
    view: PartialView


class Comparison(BaseModel):
    """The run shown beside the lesson's own."""

    model_config = ConfigDict(extra="forbid", strict=True)
    config: RunConfig = Field(description="The complete, normalized config.")
    run_id: str
    label: text(40) = Field(description='Names this run beside the lesson\'s: "correct code".')


class FileComparison(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    config: dict = Field(description="The fields that differ from the lesson's config.")
    label: text(40)


class LessonText(BaseModel):
    """The fields that a lesson file and a served lesson share."""

    model_config = ConfigDict(extra="forbid", strict=True)
    id: str = Field(pattern=r"^[a-z0-9-]{1,40}$", description="A slug: ?lesson=<id>.")
    title: text(80)
    summary: text(300)
    look_for: list[text(160)] = Field(min_length=2, max_length=4)
    question: text(300) = Field(description="One closing question.")


class LessonFile(LessonText):
    """A lesson as a file writes it (docs/lessons.md)."""

    config: dict = Field(description="A run config; defaults fill what it leaves out.")
    view: View
    tour: list[FileTourStop] = Field(min_length=1, max_length=8)
    compare: FileComparison | None = None
    label: text(40) = "this run"


class Lesson(LessonText):
    """A lesson as GET /api/lessons serves it; all text is plain text."""

    config: RunConfig = Field(description="The complete, normalized config.")
    run_id: str
    view: View
    tour: list[TourStop]
    compare: Comparison | None
    label: text(40) = Field(description="Names the lesson's own run in a comparison.")


class LessonError(ValueError):
    """A lesson file that cannot be served; `field` names what is wrong in it."""

    def __init__(self, source, field, message):
        super().__init__(f"lesson {source}: {field}: {message}")
        self.source, self.field = source, field


def _parsed(raw: bytes, source: str) -> LessonFile:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise LessonError(source, "json", f"not valid JSON ({err})") from err
    try:
        return LessonFile.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(map(str, first["loc"])) or "lesson"
        raise LessonError(source, field, first["msg"]) from err


def _normalized(raw: dict, field: str, source: str) -> dict:
    try:
        return normalize_config(raw)
    except ConfigError as err:
        raise LessonError(source, f"{field}.{err.field}", str(err)) from err


def _checked_view(view: dict, config: dict, field: str, source: str) -> dict:
    """A view of this run: `it` below its steps, a phase and a layer of its L layers."""
    L, steps = len(config["hidden_layers"]) + 1, config["steps"]
    if view["it"] >= steps:
        raise LessonError(source, f"{field}.it", f"must be below the run's {steps} steps, "
                                                 f"got {view['it']}")
    kind, l = PHASE.match(view["phase"]).groups()
    if kind and not 1 <= int(l) <= L:
        raise LessonError(source, f"{field}.phase", f"this run has layers 1 to {L}, got "
                                                    f"{view['phase']}")
    if view["layer"] > L:
        raise LessonError(source, f"{field}.layer", f"this run has layers 1 to {L}, got "
                                                    f"{view['layer']}")
    return view


def _tour(lesson: LessonFile, view: dict, config: dict, source: str) -> list[dict]:
    """The tour's stops, each view completed from the lesson's own view."""
    return [{"view": _checked_view({**view, **stop.view.model_dump(exclude_none=True)},
                                   config, f"tour.{i}.view", source), "say": stop.say}
            for i, stop in enumerate(lesson.tour)]


def _comparison(lesson: LessonFile, source: str) -> dict | None:
    """The compared run: the lesson's config with the comparison's fields changed."""
    if lesson.compare is None:
        return None
    config = _normalized({**lesson.config, **lesson.compare.config}, "compare.config", source)
    return {"config": config, "run_id": encode_run_id(config), "label": lesson.compare.label}


def read_lesson(raw: bytes, source: str) -> dict:
    """The lesson as served (Lesson's fields) from a file's bytes, or LessonError."""
    lesson = _parsed(raw, source)
    config = _normalized(lesson.config, "config", source)
    view = _checked_view(lesson.view.model_dump(), config, "view", source)
    return {**lesson.model_dump(include=set(LessonText.model_fields)),
            "config": config, "run_id": encode_run_id(config), "view": view,
            "tour": _tour(lesson, view, config, source),
            "compare": _comparison(lesson, source), "label": lesson.label}


def lesson_files(folder) -> list:
    """The *.json files of a folder (a Path or the package's Traversable), by name."""
    return sorted((f for f in folder.iterdir() if f.name.endswith(".json") and f.is_file()),
                  key=lambda f: f.name)


def built_in_lessons() -> list[dict]:
    """The lessons that ship with the app; a bad one raises LessonError."""
    lessons, ids = [], set()
    for file in lesson_files(BUILT_IN):
        lesson = read_lesson(file.read_bytes(), f"app/lessons/{file.name}")
        if lesson["id"] in ids:
            raise LessonError(file.name, "id", f"{lesson['id']!r} is already taken")
        lessons.append(lesson)
        ids.add(lesson["id"])
    return lessons


def teachers_lessons(folder: Path, taken: set[str]) -> list[dict]:
    """The lessons of a teacher's folder; a bad file is skipped with a warning."""
    lessons = []
    for path in lesson_files(folder):
        try:
            lesson = read_lesson(path.read_bytes(), str(path))
            if lesson["id"] in taken:
                raise LessonError(path, "id", f"{lesson['id']!r} is already taken by another "
                                              "lesson")
        except (LessonError, OSError) as err:
            log.warning("lesson skipped: %s", err)
            continue
        lessons.append(lesson)
        taken = taken | {lesson["id"]}
    return lessons


def servable(lesson: dict, settings: Settings) -> bool:
    """Whether this server's limits admit the lesson's runs; if not, a warning says why."""
    configs = [("config", lesson["config"])]
    if lesson["compare"]:
        configs.append(("compare.config", lesson["compare"]["config"]))
    for field, config in configs:
        try:
            check_config(config, settings)
        except ConfigError as err:
            log.warning("lesson %s left out: %s.%s is over this server's limits: %s",
                        lesson["id"], field, err.field, err)
            return False
    return True


def load_lessons(settings: Settings) -> list[dict]:
    """The built-in lessons, then the teacher's (settings.lessons_dir), that this server's
    limits admit."""
    lessons = built_in_lessons()
    if settings.lessons_dir is not None:
        lessons += teachers_lessons(settings.lessons_dir, {lesson["id"] for lesson in lessons})
    return [lesson for lesson in lessons if servable(lesson, settings)]
