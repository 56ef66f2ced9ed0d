"""The page: the HTML shell, its static files and Plotly.js from the installed package.

Paths are fixed relative to the repository; no part of a request picks a file.
"""

from functools import lru_cache
from pathlib import Path

import plotly
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
# a year: the file changes only with the installed plotly package, whose version is in the URL
LONG_CACHE = "public, max-age=31536000, immutable"

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)


@lru_cache(maxsize=1)
def plotly_js() -> bytes:
    """The minified Plotly.js bundle shipped inside the python `plotly` package."""
    return PLOTLY_JS.read_bytes()


@router.get("/", response_class=HTMLResponse)
def index(request: Request):
    """The visualizer; all state lives in the query string and is read by the JS."""
    return templates.TemplateResponse(
        request, "index.html", {"plotly_version": plotly.__version__})


@router.api_route("/vendor/plotly.min.js", methods=["GET", "HEAD"])
def plotly_bundle():
    """Plotly.js, read once from the installed package and cached by the browser."""
    return Response(plotly_js(), media_type="text/javascript",
                    headers={"Cache-Control": LONG_CACHE})


def mount_static(app):
    """Serve static/ (the page's JS, CSS and vendored files) at /static."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
