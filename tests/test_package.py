"""The package as a stranger installs it: a plain wheel (not editable) in a fresh venv,
started from another folder; what the wheel holds; and the pinned versions.

Building and installing take 15 to 25 s: the wheel is built once, from a copy of the tree
(setuptools' build/ in the tree could hold stale files), and installed once, with the
dependency versions of constraints.txt and without compiling bytecode.
"""

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.page_assets import page_assets
from tests.server_processes import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info",
                                    "__pycache__", ".hypothesis", ".ruff_cache",
                                    ".pytest_cache", ".schemathesis")
# a user's environment: nothing of the checkout on the path
USER_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def run(args, **kw):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                            timeout=600, env=USER_ENV, **kw)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Iterator[Path]:
    """The wheel that `pip install .` builds."""
    work = tmp_path_factory.mktemp("wheel")
    shutil.copytree(ROOT, work / "source", symlinks=True, ignore=NOT_SOURCE)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", work / "dist",
         work / "source"])
    [built] = (work / "dist").glob("backprop_lens-*.whl")
    yield built
    shutil.rmtree(work)


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Iterator[Path]:
    """A fresh venv (no system site-packages) holding the wheel and its dependencies."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    # this environment's pip installs into it, so the venv needs no pip of its own
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q",
         "--no-compile", "-c", ROOT / "constraints.txt", wheel])
    yield venv
    shutil.rmtree(venv)  # a few hundred MB: not left for pytest's last three runs


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """A folder that is not the checkout, to run from."""
    assert ROOT not in tmp_path.parents
    return tmp_path


# -- what the wheel holds ----------------------------------------------------------------------

def wheel_names(wheel) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_holds_every_package(wheel):
    names = wheel_names(wheel)
    packages = {path.parent.relative_to(ROOT).as_posix()
                for top in ("app", "engine") for path in (ROOT / top).rglob("__init__.py")}
    assert "app/routes" in packages
    assert {f"{package}/__init__.py" for package in packages} <= names


@pytest.mark.parametrize("folder", ["static", "templates"])
def test_the_wheel_holds_every_page_file_inside_app(wheel, folder):
    names = wheel_names(wheel)
    files = {f"app/{folder}/{path.relative_to(ROOT / folder).as_posix()}"
             for path in (ROOT / folder).rglob("*") if path.is_file()}
    assert files and files <= names
    # nothing of the repository's layout at the top of site-packages
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"app", "engine"}


def test_the_wheel_holds_every_built_in_lesson(wheel):
    lessons = {f"app/lessons/{path.name}" for path in (ROOT / "app" / "lessons").glob("*.json")}
    assert lessons and lessons <= wheel_names(wheel)


def test_the_wheel_carries_the_mit_license(wheel):
    with zipfile.ZipFile(wheel) as archive:
        info = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        license_text = archive.read(info.replace("METADATA", "licenses/LICENSE")).decode()
        metadata = archive.read(info).decode()
    assert license_text == (ROOT / "LICENSE").read_text()
    assert "Copyright (c) 2026 the Backprop Lens contributors" in license_text
    assert "MIT License" in license_text
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata


# -- the installed program, run from another folder ---------------------------------------------

def test_the_installed_packages_are_the_wheels(venv, elsewhere):
    out = run([venv / "bin" / "python", "-c", "import app, engine; print(app.__file__); "
               "print(engine.__file__)"], cwd=elsewhere).stdout.split()
    assert all(Path(path).is_relative_to(venv) for path in out)
    version = run([venv / "bin" / "python", "-m", "app", "--version"], cwd=elsewhere)
    assert version.stdout.strip() == f"backprop-lens {PYPROJECT['project']['version']}"


def get(url, headers=None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                timeout=30) as answer:
        return answer.status, answer.headers, answer.read()


@pytest.mark.parametrize("command", [["bin/backprop-lens", "serve"],
                                     ["bin/python", "-m", "app", "serve"]])
def test_the_installed_program_serves_the_page_its_files_and_plotly(venv, elsewhere, command):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([str(venv / command[0]), *command[1:], "--port", str(port)],
                               cwd=elsewhere, env=USER_ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_healthy(url, process)

        def fetch(path):
            status, _, body = get(url + path)
            assert status == 200, path
            return body.decode()

        assets = page_assets(fetch) + page_assets(fetch, "/docs")
        assert "/static/js/main.js" in assets and "/static/css/lens.css" in assets
        assert any(path.startswith("/static/vendor/swagger-ui/") for path in assets)
        lessons = json.loads(fetch("/api/lessons"))
        assert len(lessons) == len(list((ROOT / "app" / "lessons").glob("*.json")))
        status, headers, body = get(url + "/vendor/plotly.min.js",
                                    {"Accept-Encoding": "gzip"})
    finally:
        process.terminate()
        process.wait(timeout=15)
    [plotly_js] = venv.glob("lib/python*/site-packages/plotly/package_data/plotly.min.js")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == plotly_js.read_bytes()


# -- pinned versions: constraints.txt ----------------------------------------------------------

def pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    found = [re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", line) for line in lines
             if line and not line.startswith("#")]
    assert all(found), "every line of constraints.txt is name==version"
    return {canonicalize_name(m[1]): m[2] for m in found}


DECLARED = [*PYPROJECT["project"]["dependencies"],
            *(r for extra in PYPROJECT["project"]["optional-dependencies"].values()
              for r in extra)]


@pytest.mark.parametrize("requirement", DECLARED)
def test_every_declared_dependency_is_pinned_within_its_range(requirement):
    """A dependency added to pyproject.toml needs ./scripts/lock.sh run again."""
    req = Requirement(requirement)
    if req.marker and not req.marker.evaluate():
        pytest.skip(f"not for this Python: {req.marker}")
    pinned = pins().get(canonicalize_name(req.name))
    assert pinned, f"{req.name} is not in constraints.txt: run ./scripts/lock.sh"
    assert req.specifier.contains(pinned, prereleases=True), \
        f"{req.name}=={pinned} is outside {req.specifier}: run ./scripts/lock.sh"


def commands_in(path: str) -> str:
    """The commands of a file: a script whole, the README's bash blocks."""
    text = (ROOT / path).read_text()
    return "\n".join(re.findall(r"```bash\n(.*?)```", text, re.S)) if path.endswith(".md") \
        else text


@pytest.mark.parametrize("path", ["README.md", "scripts/test.sh", "Dockerfile"])
def test_every_install_uses_the_constraints(path):
    installs = re.findall(r"pip install ([^&\n]+)", commands_in(path))
    project = [i for i in installs if re.search(r"(^|\s)(-e\s+)?'?\.(\[|'|\s|$)", i)]
    assert project, f"{path} installs the project"
    assert all("-c constraints.txt" in i for i in project), project


def test_the_lock_script_refreshes_from_pyproject():
    script = ROOT / "scripts" / "lock.sh"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert "'.[test]'" in text and "constraints.txt" in text
