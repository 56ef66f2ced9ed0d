"""Query parameters that list numbers, like `layers=1,3` and `steps=0,137`."""

from fastapi import HTTPException


def parse_numbers(text: str, name: str, noun: str, example: str, low: int, high: int,
                  owner: str, most: int | None = None) -> list[int]:
    """'3,1,3' -> [1, 3], each within [low, high]; otherwise a 422 whose detail names
    `name`.  noun: what one number is ("layer"); owner: what has them ("this network");
    most: how many distinct numbers a request may list."""
    try:
        numbers = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise HTTPException(422, f"{name}: give {noun} numbers separated by commas, like "
                                 f"{example}; got {text[:60]!r}") from None
    if most is not None and len(numbers) > most:
        raise HTTPException(422, f"{name}: at most {most} {noun}s a request, got {len(numbers)}")
    if not all(low <= n <= high for n in numbers):
        raise HTTPException(422, f"{name}: {owner} has {noun}s {low} to {high}, "
                                 f"got {text[:60]!r}")
    return numbers
