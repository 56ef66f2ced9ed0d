"""Query parameters of numbers: one (`max_cells=64`), or a list (`layers=1,3`).

Python's int() and pydantic's read "1_000", " 5", "+5", "2.0" and Arabic-Indic digits as
numbers too; a query here takes plain ASCII digits only, one rule for every number."""

import re
from typing import Annotated

from fastapi import HTTPException
from pydantic import BeforeValidator

PLAIN_INTEGER = re.compile(r"-?[0-9]+")


def plain_digits(value):
    """A query's text as pydantic then reads it, if it is plain digits."""
    if isinstance(value, str) and not PLAIN_INTEGER.fullmatch(value):
        raise ValueError("input should be a valid integer, in plain digits like 64")
    return value


# an int query parameter: Annotated[PlainInt | None, Query(...)]
PlainInt = Annotated[int, BeforeValidator(plain_digits)]


def parse_numbers(text: str, name: str, noun: str, example: str, low: int, high: int,
                  owner: str, most: int | None = None) -> list[int]:
    """'3,1,3' -> [1, 3], each within [low, high]; otherwise a 422 whose detail names
    `name`.  noun: what one number is ("layer"); owner: what has them ("this network");
    most: how many distinct numbers a request may list."""
    try:
        numbers = sorted({int(plain_digits(part)) for part in text.split(",")})
    except ValueError:
        raise HTTPException(422, f"{name}: give {noun} numbers separated by commas, like "
                                 f"{example}; got {text[:60]!r}") from None
    if most is not None and len(numbers) > most:
        raise HTTPException(422, f"{name}: at most {most} {noun}s a request, got {len(numbers)}")
    if not all(low <= n <= high for n in numbers):
        raise HTTPException(422, f"{name}: {owner} has {noun}s {low} to {high}, "
                                 f"got {text[:60]!r}")
    return numbers
