"""The engine is pure (STYLE habit 1): no module under engine/ reaches for the web layer."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENGINE_FILES = sorted((REPO / "engine").glob("**/*.py"))
FORBIDDEN = {"app", "fastapi", "starlette", "uvicorn", "jinja2", "plotly", "pydantic",
             "pydantic_settings", "orjson", "httpx"}


def _imported_roots(path):
    """Top-level package of every import statement in a file, nested ones included."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            roots |= {arg.value.split(".")[0] for arg in node.args
                      if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return roots


def test_engine_files_exist():
    assert len(ENGINE_FILES) >= 15


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: p.name)
def test_no_web_imports(path):
    assert not _imported_roots(path) & FORBIDDEN


def test_importing_the_engine_loads_no_web_package():
    code = ("import sys, engine, engine.run, engine.course, engine.options, engine.gradcheck; "
            f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN)!r}); "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
