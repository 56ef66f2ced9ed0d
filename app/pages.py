"""The page: the HTML shell, its static files and Plotly.js from the installed packages.

templates/ and static/ are package data of `app` (app/templates and app/static), found
with importlib.resources: from the checkout, an editable install and a wheel alike. Paths
are fixed; no part of a request picks a file outside them.
"""

import gzip
import hashlib
import re
import threading
from functools import cache
from importlib import resources
from typing import NamedTuple

import plotly
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import Headers
from starlette.responses import FileResponse

from app.middleware import COMPRESSIBLE, GZIP_MIN_BYTES, accepts_gzip, send_detail

PACKAGE = resources.files("app")
TEMPLATES_DIR = PACKAGE / "templates"
STATIC_DIR = PACKAGE / "static"
PLOTLY_JS = resources.files("plotly") / "package_data" / "plotly.min.js"
# a year: the file changes only with the installed plotly package, whose version is in the URL
LONG_CACHE = "public, max-age=31536000, immutable"

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)


class Encoded(NamedTuple):
    """One representation of a file: its bytes, its ETag and its Content-Encoding."""

    body: bytes
    etag: str
    encoding: str | None


# one first read at a time: 30 learners opening the page of a fresh process had made 30
# compressions of 4.8 MB at once (first loads took 14-17 s)
_PLOTLY_READ = threading.Lock()


def plotly_js(encoding: str | None = None) -> Encoded:
    """The minified Plotly.js bundle of the python `plotly` package, read (and gzipped,
    4.8 MB to 1.5 MB) once per process rather than per request."""
    with _PLOTLY_READ:
        return _plotly_js(encoding)


@cache
def _plotly_js(encoding: str | None) -> Encoded:
    if encoding is None:
        raw = PLOTLY_JS.read_bytes()
        return Encoded(raw, f'"{hashlib.sha256(raw).hexdigest()[:32]}"', None)
    plain = _plotly_js(None)
    # mtime=0: every process sends the same bytes under the same ETag
    body = gzip.compress(plain.body, compresslevel=9, mtime=0)
    return Encoded(body, f'{plain.etag[:-1]}-gzip"', "gzip")


def etag_matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match holds this ETag (weakly compared, as for GET) or `*`."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


@router.get("/", response_class=HTMLResponse)
def index(request: Request):
    """The visualizer; all state lives in the query string and is read by the JS."""
    return templates.TemplateResponse(
        request, "index.html", {"plotly_version": plotly.__version__})


@router.api_route("/vendor/plotly.min.js", methods=["GET", "HEAD"])
def plotly_bundle(request: Request):
    """Plotly.js, gzipped for every client that accepts it, and cached by the browser."""
    bundle = plotly_js("gzip" if accepts_gzip(request.headers.get("accept-encoding", ""))
                       else None)
    headers = {"Cache-Control": LONG_CACHE, "ETag": bundle.etag, "Vary": "Accept-Encoding"}
    if etag_matches(request.headers.get("if-none-match", ""), bundle.etag):
        return Response(status_code=304, headers=headers)
    if bundle.encoding:
        headers["Content-Encoding"] = bundle.encoding
    return Response(bundle.body, media_type="text/javascript", headers=headers)


# files this big go out gzipped, compressed once per process: above the Gzip middleware's
# per-answer ceiling (256 KB), which would otherwise send them as they are (Swagger UI's
# 1.7 MB bundle); and every text file that the middleware would compress, so that its
# gzipped bytes have an ETag of their own (RFC 9110 §8.8.3), and 304s for it
PRECOMPRESS_BYTES = 128 * 1024


def precompressed(size: int, media_type: str) -> bool:
    return size >= PRECOMPRESS_BYTES or (
        size >= GZIP_MIN_BYTES and media_type.split(";")[0].strip().encode() in COMPRESSIBLE)


@cache
def gzipped_file(path: str, mtime_ns: int) -> bytes:
    """A static file's bytes, gzipped once; the mtime in the key retires a changed file."""
    with open(path, "rb") as f:
        return gzip.compress(f.read(), compresslevel=9, mtime=0)


# a byte range set (RFC 9110 §14.1.2): first-last, first- or -suffix, comma separated;
# positions of at most 18 digits (an exabyte): Python's int() refuses 4,300 and more
BYTE_RANGES = re.compile(r"\s*bytes\s*=\s*(\d{0,18}-\d{0,18})(\s*,\s*\d{0,18}-\d{0,18})*\s*",
                         re.IGNORECASE)


def understood_range(value: str) -> bool:
    """Whether a Range header is a byte range set whose ranges each start before they end."""
    if not BYTE_RANGES.fullmatch(value):
        return False
    ranges = [part.strip().split("-") for part in value.split("=", 1)[1].split(",")]
    return all((first or last) and (not first or not last or int(first) <= int(last))
               for first, last in ranges)


def json_416(send):
    """A send that gives Starlette's 416 (a range past the file's end: an empty text/plain
    answer) the JSON detail every other error has, keeping its Content-Range."""
    unsatisfied = False

    async def sending(message):
        nonlocal unsatisfied
        if message["type"] == "http.response.start" and message["status"] == 416:
            unsatisfied = True
            size = dict(message["headers"]).get(b"content-range", b"").split(b"/")[-1].decode()
            kept = [(k, v) for k, v in message["headers"]
                    if k not in (b"content-type", b"content-length")]
            await send_detail(send, 416, f"Range: not satisfiable; the file has {size} bytes",
                              kept)
            return
        if not unsatisfied:
            await send(message)

    return sending


class CompressedStaticFiles(StaticFiles):
    """StaticFiles that sends its big files gzipped to clients that accept gzip, and the
    whole file where a Range header is not one it understands (RFC 9110 §14.2: a server
    ignores those), where Starlette would answer a plain-text 400."""

    async def __call__(self, scope, receive, send):
        headers = Headers(scope=scope)
        if "range" in headers and not understood_range(headers["range"]):
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"range"]}
        await super().__call__(scope, receive, json_416(send))

    def file_response(self, full_path, stat_result, scope, status_code=200):
        response = super().file_response(full_path, stat_result, scope, status_code)
        request = Headers(scope=scope)
        if (not isinstance(response, FileResponse) or response.status_code != 200
                or not precompressed(stat_result.st_size, response.media_type or "")
                or not accepts_gzip(request.get("accept-encoding", ""))):
            return response
        # a strong ETag names one encoding: the gzipped bytes get their own
        etag = response.headers["etag"][:-1] + '-gzip"'
        headers = {"ETag": etag, "Vary": "Accept-Encoding",
                   "Last-Modified": response.headers["last-modified"]}
        if etag_matches(request.get("if-none-match", ""), etag):
            return Response(status_code=304, headers=headers)
        return Response(gzipped_file(str(full_path), stat_result.st_mtime_ns),
                        media_type=response.media_type,
                        headers={**headers, "Content-Encoding": "gzip"})


def mount_static(app):
    """Serve static/ (the page's JS, CSS and vendored files) at /static."""
    app.mount("/static", CompressedStaticFiles(directory=STATIC_DIR), name="static")
