"""docs/architecture.md names real files: every module path it mentions exists, and the
step request's path has at most 6 hops."""

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
