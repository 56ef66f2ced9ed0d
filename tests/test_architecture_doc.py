"""docs/architecture.md names real files and functions: every module path it mentions exists,
each function a hop names is defined in its file, and the step request's path has at most
6 hops."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text()
TREE_ROOTS = {"engine/": "engine", "app/": "app", "static/js/": "static/js"}


def named_paths():
    """Paths written in full (`app/routes/steps.py`), and the file names of the package
    pictures, resolved against the package they are listed under."""
    full = set(re.findall(r"\b((?:app|engine|static/js|tests|bench)/[\w/]+\.(?:py|js))\b", DOC))
    picture = DOC.split("## The packages")[1].split("## A step request")[0]
    listed, package = set(), None
    for line in picture.splitlines():
        if line.strip() in TREE_ROOTS:
            package = TREE_ROOTS[line.strip()]
            continue
        for name in re.findall(r"\b([a-z_]+\.(?:py|js))\b", line):
            if package and not name.startswith(("views/",)):
                listed.add(f"{package}/{name}")
    return full | listed


def test_every_file_the_page_names_exists():
    missing = sorted(p for p in named_paths() if not (ROOT / p).exists()
                     and not (ROOT / p.replace(".py", "")).is_dir())
    assert len(named_paths()) > 40
    assert missing == []


def test_the_step_request_takes_at_most_six_hops():
    section = DOC.split("## A step request")[1].split("## ")[0]
    hops = re.findall(r"^(\d+)\. ", section, flags=re.MULTILINE)
    assert 1 <= len(hops) <= 6


def hop_functions():
    """(file, name) for each function the hops name right after its file: `file` `name`,
    a method as `Class.method`."""
    section = DOC.split("## A step request")[1].split("## ")[0]
    pattern = r"`((?:app|engine|static/js)/[\w/]+\.(?:py|js))`\*{0,2}\s+`([\w.]+)`"
    return re.findall(pattern, " ".join(section.split()))


def defines(source: str, name: str) -> bool:
    *owner, function = name.split(".")
    if owner and not re.search(rf"^class {owner[0]}\b", source, flags=re.MULTILINE):
        return False
    return re.search(rf"^\s*(?:export )?(?:async )?(?:def|function) {function}\(", source,
                     flags=re.MULTILINE) is not None


def test_every_function_a_hop_names_is_defined_in_its_file():
    named = hop_functions()
    assert len(named) >= 8
    assert [(path, name) for path, name in named
            if not defines((ROOT / path).read_text(), name)] == []
