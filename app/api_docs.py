"""/docs: Swagger UI on the app's OpenAPI document, from vendored files only.

FastAPI's own /docs loads Swagger UI from a CDN and starts it with an inline script; the
app's Content-Security-Policy (script-src 'self') blocks both, and offline the CDN fails
anyway. This page loads static/vendor/swagger-ui and a start-up script file. ReDoc is
not served: it needs a blob: worker that the CSP forbids (docs/api.md).
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.pages import templates

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request):
    return templates.TemplateResponse(request, "api_docs.html", {
        "title": request.app.title, "openapi_url": request.app.openapi_url})
