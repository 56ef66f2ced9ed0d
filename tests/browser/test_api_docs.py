"""/docs: Swagger UI renders the API offline, under the app's own CSP (the `page` fixture
fails the test on any console error, which a CSP violation is, or outside request)."""

from playwright.sync_api import expect


def test_docs_render_every_operation(page, server):
    page.goto(f"{server}/docs")
    operations = page.locator(".opblock")
    expect(operations.filter(has_text="/api/runs/{run_id}/steps/{t}").first).to_be_visible()
    expect(operations.filter(has_text="/healthz")).to_have_count(1)
    paths = page.request.get(f"{server}/openapi.json").json()["paths"]
    assert operations.count() == sum(len(methods) for methods in paths.values())  # every one
    assert page.locator(".opblock-summary-path", has_text="/api/runs").count() >= 7


def test_docs_try_it_out_calls_the_api(page, server):
    page.goto(f"{server}/docs")
    block = page.locator(".opblock", has_text="/healthz")
    block.locator(".opblock-summary").first.click()
    block.get_by_role("button", name="Try it out").click()
    block.get_by_role("button", name="Execute").click()
    answer = block.locator(".live-responses-table tr:not(.responses-header)")
    expect(answer.locator(".response-col_status")).to_have_text("200")
    expect(answer.locator(".response-col_description")).to_contain_text('"status": "ok"')
