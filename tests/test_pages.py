"""Tests for app.pages: the page, its files, and Plotly.js gzipped once with long caching."""

import gzip
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import plotly
import pytest
from fastapi.testclient import TestClient

from app import pages
from app.main import create_app
from tests.page_assets import page_assets

# read here, not through app.pages: the file the plotly package ships
PLOTLY_FILE = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
GZIP = {"accept-encoding": "gzip, deflate, br"}
IDENTITY = {"accept-encoding": "identity"}


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app())


def raw_get(client, path, headers):
    """(response, body exactly as sent): httpx would gunzip it on the way."""
    with client.stream("GET", path, headers=headers) as answer:
        return answer, b"".join(answer.iter_raw())


@pytest.mark.parametrize(("header", "gzip_ok"), [
    ("gzip", True),
    ("gzip, deflate, br", True),
    ("br;q=1.0, GZIP;q=0.5", True),
    ("*", True),
    ("deflate, *;q=0.1", True),
    ("", False),
    ("identity", False),
    ("br, deflate", False),
    ("gzip;q=0", False),
    ("gzip; q=0.000, *", False),  # naming gzip with q=0 refuses it, whatever * says
    ("*;q=0", False),
    ("gzip;q=zero", False),
])
def test_accepts_gzip(header, gzip_ok):
    assert pages.accepts_gzip(header) is gzip_ok


def test_plotly_goes_gzipped_to_a_browser_that_accepts_gzip(client):
    answer, body = raw_get(client, "/vendor/plotly.min.js", GZIP)
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["vary"] == "Accept-Encoding"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["content-type"].startswith("text/javascript")
    assert int(answer.headers["content-length"]) == len(body) < len(PLOTLY_FILE) // 3
    assert gzip.decompress(body) == PLOTLY_FILE


@pytest.mark.parametrize("headers", [IDENTITY, {"accept-encoding": "gzip;q=0, br"}])
def test_plotly_goes_plain_to_a_client_that_does_not_accept_gzip(client, headers):
    answer, body = raw_get(client, "/vendor/plotly.min.js", headers)
    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers
    assert answer.headers["vary"] == "Accept-Encoding"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert body == PLOTLY_FILE


def test_plotly_is_compressed_once_not_per_request(client, monkeypatch):
    """Not once per request, and not once per request that comes before the first is done
    (30 learners at a fresh process had made 30 compressions at once)."""
    calls, compress = [], gzip.compress

    def slow_compress(*args, **kw):
        calls.append(1)
        time.sleep(0.2)
        return compress(*args, **kw)

    monkeypatch.setattr(pages.gzip, "compress", slow_compress)
    pages._plotly_js.cache_clear()
    with ThreadPoolExecutor(4) as pool:
        bodies = set(pool.map(lambda _: raw_get(client, "/vendor/plotly.min.js", GZIP)[1],
                              range(4)))
    assert len(calls) == 1 and len(bodies) == 1


def test_plotly_etags_name_each_encoding_and_answer_304(client):
    tags = {}
    for name, headers in (("gzip", GZIP), ("plain", IDENTITY)):
        answer, _ = raw_get(client, "/vendor/plotly.min.js", headers)
        tags[name] = answer.headers["etag"]
        again = client.get("/vendor/plotly.min.js",
                           headers={**headers, "if-none-match": f'"other", W/{tags[name]}'})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == tags[name]
        assert again.headers["cache-control"] == pages.LONG_CACHE
    assert tags["gzip"] != tags["plain"]
    stale = client.get("/vendor/plotly.min.js", headers={**GZIP, "if-none-match": '"old"'})
    assert stale.status_code == 200


def test_head_of_plotly_has_the_headers_and_no_body(client):
    answer = client.head("/vendor/plotly.min.js", headers=GZIP)
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["content-encoding"] == "gzip"


def fetch_text(client):
    def fetch(path):
        answer = client.get(path)
        assert answer.status_code == 200, path
        return answer.text
    return fetch


def test_the_page_names_its_files_and_they_all_load(client):
    assets = page_assets(fetch_text(client))
    # the page, Plotly, the stylesheet and main.js with the modules it imports
    assert f"/vendor/plotly.min.js?v={plotly.__version__}" in assets
    assert {"/static/css/lens.css", "/static/js/main.js", "/static/js/state.js"} <= set(assets)
    assert sum(path.startswith("/static/js/views/") for path in assets) >= 6


def test_every_file_of_the_page_over_1_kb_goes_gzipped(client):
    """The page's own scripts and styles through app.middleware's Gzip (each is between
    1 KB and 256 KB), Plotly through app.pages."""
    for path in page_assets(fetch_text(client)):
        answer, body = raw_get(client, path, GZIP)
        if len(body) >= 1000 or answer.headers.get("content-encoding"):
            assert answer.headers.get("content-encoding") == "gzip", path


SWAGGER = "/static/vendor/swagger-ui/swagger-ui-bundle.js"


def test_big_static_files_go_gzipped_compressed_once(client, monkeypatch):
    """Swagger UI's 1.7 MB bundle is over the Gzip middleware's per-answer ceiling: it is
    compressed once per process instead, and sent plain to a client that refuses gzip."""
    file = (pages.STATIC_DIR / "vendor" / "swagger-ui" / "swagger-ui-bundle.js").read_bytes()
    assert len(file) > pages.PRECOMPRESS_BYTES
    calls, compress = [], gzip.compress
    monkeypatch.setattr(pages.gzip, "compress",
                        lambda *args, **kw: calls.append(1) or compress(*args, **kw))
    pages.gzipped_file.cache_clear()
    answers = [raw_get(client, SWAGGER, GZIP) for _ in range(3)]
    assert len(calls) == 1
    for answer, body in answers:
        assert answer.headers["content-encoding"] == "gzip"
        assert answer.headers["vary"] == "Accept-Encoding"
        assert gzip.decompress(body) == file and len(body) < len(file) // 2
    plain, body = raw_get(client, SWAGGER, {"accept-encoding": "gzip;q=0"})
    assert "content-encoding" not in plain.headers and body == file
    assert plain.headers["etag"] != answers[0][0].headers["etag"]


@pytest.mark.parametrize("path", [SWAGGER, "/static/css/lens.css", "/static/js/main.js"])
def test_a_gzipped_static_file_answers_304_to_its_own_etag(client, path):
    """A strong ETag names one encoding (RFC 9110 §8.8.3): the page's own scripts and
    styles, which the Gzip middleware compressed, had the plain file's tag for their
    gzipped bytes. Each encoding has its own, and each answers 304 to it."""
    answer, _ = raw_get(client, path, GZIP)
    plain, _ = raw_get(client, path, {"accept-encoding": "identity"})
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    for headers, tag in ((GZIP, answer.headers["etag"]),
                         ({"accept-encoding": "identity"}, plain.headers["etag"])):
        again = client.get(path, headers={**headers, "if-none-match": tag})
        assert again.status_code == 304 and again.content == b"", (path, headers)
    # a client that holds the plain bytes may keep them; the gzipped tag is not the plain's
    assert client.get(path, headers={"accept-encoding": "identity",
                                     "if-none-match": answer.headers["etag"]}).status_code == 200


@pytest.mark.parametrize("name", ["static", "templates"])
def test_page_files_are_package_data_of_app(name):
    """app/static and app/templates: where the wheel puts them, and (as links to the top
    folders) where the checkout and an editable install find them."""
    folder = Path(pages.PACKAGE / name)
    assert folder.is_dir()
    assert folder.resolve() == Path(__file__).resolve().parents[1] / name


SMALL_FILE = "/static/css/lens.css"  # under PRECOMPRESS_BYTES: Starlette's own ranges


@pytest.mark.parametrize("header", [
    "bytes=10-5", "bytes=abc", "items=0-1", "bytes=", "bytes=-", "bytes=0-1,", "bytes 0-1",
    f"bytes=0-{'9' * 5000}", f"bytes={'9' * 5000}-", f"bytes=-{'9' * 5000}"],
    ids=lambda header: header[:16])
def test_a_range_header_it_does_not_understand_gets_the_whole_file(client, header):
    whole = client.get(SMALL_FILE, headers=IDENTITY)
    answer = client.get(SMALL_FILE, headers={**IDENTITY, "range": header})
    assert answer.status_code == 200
    assert answer.content == whole.content and len(whole.content) > 100


@pytest.mark.parametrize(("header", "part"), [
    ("bytes=0-9", slice(0, 10)), ("bytes=5-", slice(5, None)), ("bytes=-4", slice(-4, None)),
    ("BYTES = 3-3", slice(3, 4))])
def test_a_byte_range_still_gets_its_part(client, header, part):
    whole = client.get(SMALL_FILE, headers=IDENTITY).content
    answer = client.get(SMALL_FILE, headers={**IDENTITY, "range": header})
    assert answer.status_code == 206 and answer.content == whole[part]


@pytest.mark.parametrize("header", ["bytes=99999999-", "bytes=-0"])
def test_a_range_past_the_end_is_not_satisfiable_and_says_so_in_json(client, header):
    answer = client.get(SMALL_FILE, headers={**IDENTITY, "range": header})
    assert answer.status_code == 416
    size = len(client.get(SMALL_FILE, headers=IDENTITY).content)
    assert answer.headers["content-range"] == f"bytes */{size}"
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"detail": f"Range: not satisfiable; the file has {size} bytes"}
