"""Errors as JSON with a `detail` that names the field; never a stack trace."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from app.json_body import MAX_INTEGER_DIGITS, LongInteger
from app.middleware import security_headers
from app.run_cache import TrainingFailedError
from app.serialize import JSONBytes
from engine.config import ConfigError, shown

log = logging.getLogger("app.errors")

MAX_ECHO = 60  # characters of a rejected value quoted back in a detail
MAX_LISTED = 20  # validation errors an answer lists


def _cut(text: str) -> str:
    """text, or its first MAX_ECHO characters and "…"."""
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…"


def _loc(loc) -> list:
    """An error's loc with long names cut: an unknown field of 60 KB is not sent back whole."""
    return [_cut(p) if isinstance(p, str) else p for p in loc]


def field_name(loc) -> str:
    """'hidden_layers.2' for loc ('body', 'hidden_layers', 2); 'max_cells' for a query."""
    if loc[0] == "body" and (len(loc) == 1 or isinstance(loc[1], int)):
        return "body"  # the body itself; a JSON decode error's loc is ('body', position)
    return ".".join(str(p) for p in _loc(loc[1:])) or str(loc[0])


def _echo(value) -> str:
    return _cut(shown(value))


def describe(error: dict) -> str:
    """One pydantic error as 'field: message, got value'."""
    msg = error["msg"]
    if isinstance(error.get("input"), LongInteger):
        return (f"{field_name(error['loc'])}: an integer of {error['input'].digits} digits; "
                f"no field takes more than {MAX_INTEGER_DIGITS}")
    if error["type"] == "missing" and tuple(error["loc"]) == ("body",):
        # every field has a default: {} is a whole config
        return "body: missing; send a JSON object of settings, {} for every default"
    if error["type"] == "extra_forbidden":
        msg = "unknown field"
        if error["loc"][1:] == ("",):  # {"": 1}: a field of no name, not the body
            return f'body: unknown field "" (a key of no name), got {_echo(error["input"])}'
    elif error["type"] == "value_error":  # a validator's own words, without "Value error, "
        msg = str(error.get("ctx", {}).get("error", msg))
    elif error["type"] == "json_invalid":
        msg = f"invalid JSON ({error.get('ctx', {}).get('error', 'decode error')})"
    text = f"{field_name(error['loc'])}: {msg[:1].lower()}{msg[1:]}"
    if "input" in error and error["type"] not in ("missing", "json_invalid"):
        text += f", got {_echo(error['input'])}"
    return text


def validation_answer(exc: RequestValidationError) -> dict:
    """{"detail": the errors in words, "errors": the list, as FastAPI gives it}; at most
    MAX_LISTED of them, and how many more, so that 3,000 unknown parameters do not make
    an answer of most of a megabyte."""
    errors = exc.errors()
    shown = errors[:MAX_LISTED]
    listed = [{"loc": _loc(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in shown]
    detail = "; ".join(describe(e) for e in shown)
    if len(errors) > MAX_LISTED:
        detail += f"; and {len(errors) - MAX_LISTED} more errors"
    return {"detail": detail, "errors": listed}


async def validation_error(request: Request, exc: RequestValidationError):
    return JSONBytes(validation_answer(exc), status_code=422)


def unparsable_body(exc: HTTPException) -> str:
    """The detail of FastAPI's 400: only it answers one here, when json.loads failed on the
    body (nested too deeply, bytes that are not UTF-8, ...)."""
    cause = type(exc.__cause__).__name__ if exc.__cause__ else "unreadable"
    if isinstance(exc.__cause__, UnicodeDecodeError):  # JSON is UTF-8 (RFC 8259)
        return "body: could not be parsed as JSON: its bytes are not UTF-8 text"
    return f"body: could not be parsed as JSON ({cause})"


async def http_error(request: Request, exc: HTTPException):
    if exc.status_code == 400:
        return JSONBytes({"detail": unparsable_body(exc)}, status_code=422)
    return JSONBytes({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def config_error(request: Request, exc: ConfigError):
    return JSONBytes({"detail": str(exc)}, status_code=422)


async def training_failed(request: Request, exc: TrainingFailedError):
    # the engine's traceback went to the log from the training thread; the answer only says
    # that training failed (a 500: the fault is the server's, and the next request retries)
    return JSONBytes({"detail": TrainingFailedError.detail}, status_code=500)


async def internal_error(request: Request, exc: Exception):
    # the traceback goes to the log only; this answer leaves starlette's outermost
    # middleware, outside ours, so it carries the security headers itself
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONBytes({"detail": "Internal error"}, status_code=500,
                     headers=security_headers(request.app.state.settings))


def add_error_handlers(app: FastAPI):
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(ConfigError, config_error)
    app.add_exception_handler(TrainingFailedError, training_failed)
    app.add_exception_handler(Exception, internal_error)
