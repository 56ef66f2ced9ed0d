"""The lessons (CONTRACT §7): curated runs with a view and words, loaded at startup
(app.lessons)."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request

from app.deps import known_query_names
from app.lessons import Lesson
from app.schemas import INVALID, error

router = APIRouter(prefix="/api/lessons", tags=["lessons"],
                   dependencies=[Depends(known_query_names)], responses=INVALID)
LessonId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,40}$", description="A lesson's id",
                               examples=["caches"])]


async def get_lessons(request: Request) -> list[dict]:
    return request.app.state.lessons


LessonsDep = Annotated[list[dict], Depends(get_lessons)]


@router.get("", response_model=list[Lesson])
async def list_lessons(lessons: LessonsDep):
    """Every lesson: the built-in ones, then the teacher's own (BPL_LESSONS_DIR). Open one
    in the page with ?lesson=<id>; its run is POST /api/runs with its config."""
    return lessons


@router.get("/{lesson_id}", response_model=Lesson,
            responses={**INVALID, 404: error("No lesson with this id on this server")})
async def get_lesson(lesson_id: LessonId, lessons: LessonsDep):
    """One lesson, as GET /api/lessons lists it."""
    for lesson in lessons:
        if lesson["id"] == lesson_id:
            return lesson
    raise HTTPException(404, f"lesson_id: no lesson {lesson_id!r} on this server; "
                             "GET /api/lessons lists them")
