"""A finished run to keep: export.npz for a notebook (app.npz_export) and report.html, one
offline page for a course site (app.report). Both are downloads, built on a worker thread
as big answers are (app.answer_size.BigAnswerSlots: they take turns, and their CPU is paced
while a class is served), and kept in the answer cache like a step answer."""

import gzip
import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from app.deps import (
    AnswerCacheDep,
    BigAnswersDep,
    RunDep,
    RunRef,
    SettingsDep,
    single_query_values,
)
from app.middleware import accepts_gzip
from app.npz_export import export_cells, export_npz
from app.report import MAX_REPORT_STEPS, report_html
from app.routes.number_lists import PlainInt, parse_numbers
from app.routes.runs import check_replays
from app.run_cache import FINISHED, public_status, wait_finished
from app.schemas import BUSY, INVALID, NOT_FOUND, error

router = APIRouter(prefix="/api/runs/{run_id}", tags=["exports"],
                   dependencies=[Depends(single_query_values)], responses=INVALID)

MAX_EXPORT_STEPS = 50  # steps an export may name: each is replayed
ERRORS = {**NOT_FOUND, **BUSY, 409: error("Run still training")}
ExportStepsQuery = Annotated[str | None, Query(
    description=f"Step numbers, e.g. 0,10 (at most {MAX_EXPORT_STEPS}); default: the first "
                "and the last step", examples=["0,1"])]
ReportStepsQuery = Annotated[str | None, Query(
    description=f"Step numbers whose caches the page shows, e.g. 0,10 (at most "
                f"{MAX_REPORT_STEPS}); default: the first and the last step", examples=["0,1"])]
LayerQuery = Annotated[PlainInt, Query(ge=1, description="The layer whose caches the page shows",
                                  examples=[1])]


async def finished_run(ref: RunRef, wait_seconds: float, name: str):
    """409 unless the run has finished: an export (`name`: export.npz, report.html) names
    its last step, and holds the whole summary."""
    await wait_finished(ref.run, wait_seconds)
    if public_status(ref.run) not in FINISHED:
        raise HTTPException(409, f"{name}: the run is still training; poll the run or follow "
                                 "its events, then ask again")


def export_steps(ref: RunRef, text: str | None, most: int) -> list[int]:
    """'0,10' -> [0, 10] within the run; None -> the first and the last step. A 422 naming
    steps for more than `most`, or for more replaying than the run allows."""
    last = ref.run.num_steps - 1
    if text is None:
        return sorted({0, last})
    steps = parse_numbers(text, "steps", "step", "0,10", 0, last, "this run", most=most)
    check_replays(ref.run, steps)
    return steps


def check_export_cells(cells: int, steps: list[int], ceiling: int):
    """The answer ceiling of the step route, for the whole file: a 422 naming steps."""
    if cells <= ceiling:
        return
    fit = ceiling * len(steps) // cells
    held = f"these {len(steps)} steps hold" if len(steps) > 1 else "this step holds"
    advice = f"ask for fewer steps (about {fit} fit)" if fit else (
        "a single step of this run is over it; fetch a step's tensors narrowed by layers "
        "and fields from GET /api/runs/{id}/steps/{t} instead")
    raise HTTPException(422, f"steps: {held} {cells} cells, over this server's ceiling of "
                             f"{ceiling} cells an answer; {advice}")


def default_steps_that_fit(run, steps: list[int], ceiling: int) -> list[int]:
    """The default steps (the first and the last) within the answer ceiling: both, else the
    last alone, else none (the config and the summary: the biggest runs' steps are over the
    ceiling one by one, and the header's download link would fail without a word)."""
    return next((chosen for chosen in (steps, steps[-1:])
                 if export_cells(run, chosen) <= ceiling), [])


def download(body: bytes, ref: RunRef, suffix: str, media_type: str,
             headers: dict | None = None) -> Response:
    # a short name from the id: the id itself is long, and any browser saves this one
    tag = hashlib.sha256(ref.id.encode()).hexdigest()[:10]
    name = f"backprop-lens-{ref.config['dataset']}-{tag}{suffix}"
    return Response(body, media_type=media_type, headers={
        "content-disposition": f'attachment; filename="{name}"', **(headers or {})})


def gzipped_report(*args) -> bytes:
    """report_html, gzipped once (~5 MB to ~1.6 MB, most of it Plotly.js): the kept copy
    is small, and the Gzip middleware leaves answers this big as they are."""
    return gzip.compress(report_html(*args), compresslevel=6, mtime=0)


@router.get("/export.npz", response_class=Response, responses={
    **ERRORS, 200: {"content": {"application/octet-stream": {}},
                    "description": "A NumPy .npz file (docs/api.md, Exports)"}})
async def export(ref: RunDep, settings: SettingsDep, answer_cache: AnswerCacheDep,
                 big_answers: BigAnswersDep, steps: ExportStepsQuery = None):
    """The run for a notebook: np.load gives config.json, the summary's series and every
    tensor of the named steps as step{t}/{name}{l} (A_prev1, Z2, dW1, update_W1, X, Y)."""
    await finished_run(ref, settings.sync_seconds, "export.npz")
    numbers = export_steps(ref, steps, MAX_EXPORT_STEPS)
    if steps is None:  # the page's link names no steps: what fits, not a 422 it cannot show
        numbers = default_steps_that_fit(ref.run, numbers, settings.max_answer_cells)
    else:
        check_export_cells(export_cells(ref.run, numbers), numbers, settings.max_answer_cells)
    # the run has finished (finished_run): its bytes never change, so they are kept
    body = await answer_cache.answer(("export.npz", ref.id, tuple(numbers)), True, export_npz,
                                     ref.run, numbers, big=big_answers)
    return download(body, ref, ".npz", "application/octet-stream")


@router.get("/report.html", response_class=Response, responses={
    **ERRORS, 200: {"content": {"text/html": {}},
                    "description": "One self-contained HTML page (docs/api.md, Exports)"}})
async def report(ref: RunDep, request: Request, settings: SettingsDep,
                 answer_cache: AnswerCacheDep, big_answers: BigAnswersDep,
                 steps: ReportStepsQuery = None, layer: LayerQuery = 1):
    """One offline page: the config, the loss, the gradient flow, the decision boundary or
    fit, and the caches of one layer at the named steps, Plotly inlined."""
    L = len(ref.config["activations"])
    if layer > L:
        raise HTTPException(422, f"layer: this network has layers 1 to {L}, got {layer}")
    await finished_run(ref, settings.sync_seconds, "report.html")
    numbers = export_steps(ref, steps, MAX_REPORT_STEPS)
    body = await answer_cache.answer(("report.html", ref.id, tuple(numbers), layer), True,
                                     gzipped_report, ref.id, ref.run, numbers, layer,
                                     big=big_answers)
    html = "text/html; charset=utf-8"
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        return download(body, ref, ".html", html, {"content-encoding": "gzip",
                                                   "vary": "Accept-Encoding"})
    return download(gzip.decompress(body), ref, ".html", html, {"vary": "Accept-Encoding"})
