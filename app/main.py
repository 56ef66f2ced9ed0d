"""Assembles the app: settings, middleware, routers, error handlers and the page."""

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__, api_docs, pages
from app.admission import Admission, ClientCookie
from app.answer_size import BigAnswerSlots
from app.bulk_share import BulkShare, ServingClock, ServingTime
from app.errors import add_error_handlers
from app.lessons import load_lessons
from app.memory import tune_malloc
from app.metrics import CountAnswers, Metrics, exported
from app.middleware import (
    GZIP_MIN_BYTES,
    AccessLog,
    BodyLimit,
    Gzip,
    HeadAsGet,
    SecurityHeaders,
)
from app.routes import (
    boundary,
    config_check,
    examples,
    exports,
    lessons,
    meta,
    run_id_check,
    runs,
    steps,
    units,
)
from app.run_cache import RunCache
from app.serialize import JSONBytes
from app.settings import Settings, get_settings
from app.sliced_body import SLICE_BYTES, SlicedBody
from app.step_answer_cache import AnswerCache
from app.stop_signals import on_stop_signal
from engine.threads import single_blas_thread


def configure_logging():
    """Access lines are already JSON: print them bare, once, whoever runs the app."""
    logger = logging.getLogger("app")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


@asynccontextmanager
async def lifespan(app: FastAPI):
    # pinned once per worker, for the whole process: runs are then bit-identical everywhere
    single_blas_thread(app.state.settings.blas_threads)
    tune_malloc()  # so is the allocator: freed arrays go back to the system (app.memory)
    # a stop signal stops training at once, so that event streams end with their error
    # event before uvicorn's graceful wait cuts them
    with on_stop_signal(app.state.run_cache.close):
        async with exported(app):
            yield
    app.state.run_cache.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging()
    # /docs is app.api_docs (vendored Swagger UI); FastAPI's pages need a CDN and inline
    # scripts, which the CSP blocks, and ReDoc a blob: worker
    # no redirect for a trailing slash: its Location echoed the request's Host header
    # (Host: evil.example -> http://evil.example/api/options); /api/options/ is a 404
    app = FastAPI(title="Backprop Lens", version=__version__, lifespan=lifespan,
                  default_response_class=JSONBytes, docs_url=None, redoc_url=None,
                  redirect_slashes=False,
                  description="Every cache and gradient of a small network, step by step. "
                              "Reference: docs/api.md in the source repository.")
    app.state.settings = settings
    # heavy training and big answers pace themselves while requests come (app.bulk_share)
    app.state.serving = ServingTime()
    app.state.bulk = BulkShare(settings.bulk_cores, app.state.serving)
    app.state.run_cache = RunCache(settings.cache_bytes, settings.max_queued_runs,
                                   settings.train_threads, Admission.from_settings(settings),
                                   app.state.bulk)
    app.state.answer_cache = AnswerCache(settings.answer_cache_bytes)
    app.state.lessons = load_lessons(settings)  # a bad built-in lesson stops the app here
    app.state.big_answers = BigAnswerSlots(settings.big_answers_at_once,
                                           settings.big_answer_wait_seconds, app.state.bulk)
    # gradient checks take turns of their own, as many at once: a flood of them holds that
    # many checks' memory, and a learner's check does not wait behind big steps being built.
    # not bulk work: a learner waits for it at a click, and it takes half a second at most
    app.state.gradient_checks = BigAnswerSlots(settings.big_answers_at_once,
                                               settings.big_answer_wait_seconds)
    # added innermost first: headers and the access log see every answer, 413s included
    app.add_middleware(Gzip, min_bytes=GZIP_MIN_BYTES, max_bytes=settings.gzip_max_bytes,
                       level=settings.gzip_level)
    app.add_middleware(SlicedBody, slice_bytes=SLICE_BYTES, budget_bytes=settings.sending_bytes,
                       stall_seconds=settings.send_stall_seconds)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, seconds=settings.body_seconds)
    app.add_middleware(SecurityHeaders, settings=settings)
    app.add_middleware(ClientCookie)  # the page's anonymous client token (app.admission)
    app.add_middleware(HeadAsGet)  # inside the log: it logs HEAD as HEAD
    app.add_middleware(AccessLog)
    app.add_middleware(ServingClock, serving=app.state.serving)
    app.state.metrics = Metrics()
    app.add_middleware(CountAnswers, metrics=app.state.metrics)  # outermost: bytes as sent
    add_error_handlers(app)
    api_docs.document_settings(app, settings)
    for router in (meta.router, runs.router, config_check.router, run_id_check.router,
                   steps.router, boundary.router, units.router, examples.router,
                   exports.router, lessons.router, pages.router, api_docs.router):
        app.include_router(router)
    pages.mount_static(app)
    return app


app = create_app()
