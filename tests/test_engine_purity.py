"""The engine is pure (STYLE habit 1): every module under engine/ imports NumPy, the standard
library, the engine itself, and the few packages named in ALLOWED, for their reason; and
nothing of the web layer is loaded when the engine is imported."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENGINE_FILES = sorted((REPO / "engine").glob("**/*.py"))
ALLOWED = {
    "numpy": "the maths: every tensor is a NumPy array",
    "engine": "the engine's own modules",
    "sklearn": "engine.datasets: the toy and real datasets (moons, circles, digits, iris, ...)",
    "threadpoolctl": "engine.threads: BLAS on one thread, so that replays are bit-identical",
}
WEB = {"app", "fastapi", "starlette", "uvicorn", "jinja2", "plotly", "pydantic",
       "pydantic_settings", "orjson", "httpx", "prometheus_client"}


def imported_roots(source: str, filename: str = "<module>") -> set[str]:
    """Top-level package of every import statement in a module's source, nested ones and
    importlib.import_module("...") included; relative imports are the engine's own."""
    roots = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            roots |= {arg.value.split(".")[0] for arg in node.args
                      if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return roots


def not_allowed(roots: set[str]) -> set[str]:
    """The roots that are neither the standard library nor ALLOWED."""
    return {root for root in roots if root not in sys.stdlib_module_names} - set(ALLOWED)


def test_engine_files_exist():
    assert len(ENGINE_FILES) >= 15


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: str(p.relative_to(REPO / "engine")))
def test_the_engine_imports_only_what_the_allow_list_names(path):
    assert not_allowed(imported_roots(path.read_text(), str(path))) == set()


def test_every_allowed_package_is_used_so_its_reason_holds():
    used = set().union(*(imported_roots(path.read_text()) for path in ENGINE_FILES))
    assert set(ALLOWED) <= used


@pytest.mark.parametrize(("source", "caught"), [
    ("import fastapi", {"fastapi"}),
    ("from pydantic import BaseModel", {"pydantic"}),
    ("import app.settings", {"app"}),
    ("def f():\n    import torch", {"torch"}),  # nested imports count
    ("import importlib\nimportlib.import_module('pandas.core')", {"pandas"}),
    ("import numpy as np\nimport json\nfrom engine.config import LIMITS", set()),
    ("from . import work_estimate\nfrom .config import LIMITS", set()),
])
def test_the_check_catches_a_module_that_imports_anything_else(source, caught):
    assert not_allowed(imported_roots(source)) == caught


def test_importing_the_engine_loads_no_web_package():
    """Packages that the allowed ones import may load; the web layer may not."""
    modules = sorted(".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
                     for p in ENGINE_FILES)
    code = (f"import sys, engine, {', '.join(modules)}; "
            f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(WEB)!r}); "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
