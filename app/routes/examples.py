"""One training example as the data had it, before standardizing: a digit as the 8 × 8
picture it was written as (engine.datasets.example_image), where the step record's X holds
each pixel standardized over the training set. The dataset is enough: the run need not have
trained a step."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response

from app.deps import RunDep, RunRef
from app.record_schemas import ExampleImage
from app.schemas import INVALID, NOT_FOUND, error
from app.serialize import dumps
from engine.datasets import example_image, image_shape

router = APIRouter(prefix="/api/runs/{run_id}/examples", tags=["runs"], responses=INVALID)

ERRORS = {**NOT_FOUND, 404: error("Run or example not found")}
MAX_INDEX_DIGITS = 12
# a string, so that any i that names no example (-1, 1.5, abc) is a 404, not a 422
IndexPath = Annotated[str, Path(description="A training example, from 0 to m_train - 1 (as "
                                            "in a step's batch.indices)", examples=["0"])]


def check_index(ref: RunRef, text: str) -> int:
    """The training example the path's i names; 404 for anything but an integer from 0 to
    m_train - 1."""
    m = ref.run.data.X_train.shape[1]
    digits = text.isascii() and text.isdigit() and len(text) <= MAX_INDEX_DIGITS
    i = int(text) if digits else -1
    if not 0 <= i < m:
        raise HTTPException(404, f"Example not found: i must be a training example, an "
                                 f"integer from 0 to {m - 1}, got {text[:60]!r}")
    return i


@router.get("/{i}", response_model=ExampleImage, responses=ERRORS)
async def example(ref: RunDep, i: IndexPath):
    """Training example i as a picture of whole grey levels, before standardizing: image
    data only (digits), else a 422 naming dataset."""
    try:
        shape = image_shape(ref.run.data.info.name)
    except ValueError as err:
        raise HTTPException(422, str(err)) from err
    index = check_index(ref, i)
    pixels = example_image(ref.run.data, index)
    return Response(dumps({"index": index, "image_shape": [shape.rows, shape.cols],
                           "pixels": pixels.tolist(), "levels": list(shape.levels)}),
                    media_type="application/json")
