"""Request bodies: JSON only (415 otherwise), integers too long for any field named, and
no key given twice.

FastAPI hands a body of any other content type to validation as bytes, which answers a
422 about "a valid dictionary"; Python's json refuses an integer of more than 4,300
digits with a ValueError that names no field; and it keeps the last of two values of one
key without a word (`{"steps": 5, "steps": 6}` trained 6 steps), where a query parameter
given twice is refused. All three answers are replaced here.
"""

import json

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

ACCEPTED = "application/json"
# no field takes an integer of more than 10 digits (seed < 2³²); past this many digits an
# integer is not converted at all (conversion time grows with the square of the digits)
MAX_INTEGER_DIGITS = 100


class LongInteger:
    """An integer literal too long for any field: validation refuses it where it stands,
    so the error names its field (`steps`, `hidden_layers.0`, or `body` itself)."""

    def __init__(self, digits: int):
        self.digits = digits

    def __repr__(self):
        return f"<an integer of {self.digits} digits>"


def parse_integer(text: str):
    digits = len(text.lstrip("-"))
    return LongInteger(digits) if digits > MAX_INTEGER_DIGITS else int(text)


class JSONObject(dict):
    """A JSON object, and the first key its text gives more than once with each value it
    gives (`duplicate`: (key, [values]), or None)."""

    duplicate: tuple | None = None


def object_pairs(pairs):
    obj = JSONObject(pairs)
    if len(obj) < len(pairs):
        seen: set = set()
        key = next(key for key, _ in pairs if key in seen or seen.add(key))
        obj.duplicate = (key, [value for k, value in pairs if k == key])
    return obj


def first_duplicate(value, path=("body",), depth=0):
    """(location, values) of the first key given twice in a parsed body, or None."""
    if depth > 20:  # config bodies are flat; a deep one is refused by validation anyway
        return None
    if isinstance(value, JSONObject):
        if value.duplicate:
            return (*path, value.duplicate[0]), value.duplicate[1]
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = first_duplicate(item, (*path, key), depth + 1)
        if found:
            return found
    return None


def is_json(content_type: str | None) -> bool:
    """application/json or application/<anything>+json, parameters (charset) aside."""
    media = (content_type or "").split(";")[0].strip().lower()
    return media == ACCEPTED or (media.startswith("application/") and media.endswith("+json"))


class JSONBodyRequest(Request):
    async def json(self):
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_int=parse_integer,
                                    object_pairs_hook=object_pairs)
        return self._json


async def check_body(request: JSONBodyRequest):
    """415 for a body that is not JSON, or is compressed; a 422 naming `body` for one long
    integer alone.
    (Validation would read that integer as an object to take fields from, and find none.)
    Other parse errors are left to FastAPI, which reports them."""
    content_type = request.headers.get("content-type")
    if not await request.body():
        return
    if not is_json(content_type):
        given = f"content type {content_type[:60]!r} is not accepted" if content_type \
            else "no content type"
        raise HTTPException(415, f"body: {given}; send {ACCEPTED}")
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity"):  # the bytes would read as broken UTF-8
        raise HTTPException(415, f"body: content encoding {encoding[:30]!r} is not accepted; "
                                 "send the JSON as it is")
    try:
        value = await request.json()
    except (ValueError, RecursionError):
        return
    if isinstance(value, LongInteger):
        raise RequestValidationError([{"type": "int_too_long", "loc": ("body",),
                                       "msg": "Integer too long", "input": value}])
    duplicate = first_duplicate(value)
    if duplicate:
        where, values = duplicate
        raise RequestValidationError([{
            "type": "duplicate_key", "loc": where, "input": values[:5],
            "msg": "given more than once; give each field once"}])


class JSONBodyRoute(APIRoute):
    """A route whose body, if any, must be JSON; its integers are read as above."""

    def get_route_handler(self):
        handle = super().get_route_handler()
        if self.body_field is None:
            return handle

        async def handle_json(request: Request):
            request = JSONBodyRequest(request.scope, request.receive)
            await check_body(request)
            return await handle(request)

        return handle_json
