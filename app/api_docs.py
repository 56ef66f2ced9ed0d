"""/docs: Swagger UI on the app's OpenAPI document, from vendored files only; and that
document with the bounds of the app's own settings.

FastAPI's own /docs loads Swagger UI from a CDN and starts it with an inline script; the
app's Content-Security-Policy (script-src 'self') blocks both, and offline the CDN fails
anyway. This page loads static/vendor/swagger-ui and a start-up script file. ReDoc is
not served: it needs a blob: worker that the CSP forbids (docs/api.md).
"""

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from app.pages import templates
from app.schemas import with_server_bounds
from app.settings import Settings

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request):
    return templates.TemplateResponse(request, "api_docs.html", {
        "title": request.app.title, "openapi_url": request.app.openapi_url})


def document_settings(app: FastAPI, settings: Settings):
    """Make app.openapi() (hence /openapi.json) give RunConfig the bounds of `settings`:
    the models are shared by every app, the document is built once per app."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            with_server_bounds(build(), settings)
        return app.openapi_schema

    app.openapi = openapi
