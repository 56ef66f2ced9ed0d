"""Every file the page loads: what its HTML names, and the ES modules they import.

Shared by tests/test_pages.py (the app in-process) and tests/test_package.py (an installed
wheel over HTTP); `fetch(path) -> str` reads an answer in either.
"""

import posixpath
import re
from html.parser import HTMLParser

# `import … from "x"`, `export … from "x"` (also over several lines) and `import "x"`
STATIC_IMPORT = re.compile(
    r"""^\s*(?:(?:import|export)\b[^'";]*?\bfrom|import)\s*['"]([^'"]+)['"]""", re.M)


class _Named(HTMLParser):
    """The paths of a page's scripts, stylesheets and icons."""

    def __init__(self):
        super().__init__()
        self.paths = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.paths.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.paths.append(attrs["href"])


def named_by(html: str) -> list[str]:
    parser = _Named()
    parser.feed(html)
    return parser.paths


def imports_of(path: str, source: str) -> list[str]:
    """The paths a JS module imports statically, resolved against its own path."""
    base = posixpath.dirname(path)
    return [posixpath.normpath(posixpath.join(base, name)) if name.startswith(".") else name
            for name in STATIC_IMPORT.findall(source)]


def page_assets(fetch, page: str = "/") -> list[str]:
    """Paths (query strings kept) of every file the page loads, scripts followed recursively."""
    found, todo = [], named_by(fetch(page))
    while todo:
        path = todo.pop(0)
        if path in found:
            continue
        found.append(path)
        if path.split("?")[0].endswith(".js") and not path.startswith("/vendor/"):
            todo.extend(imports_of(path, fetch(path)))
    return found
