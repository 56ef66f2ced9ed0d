"""The page's ES modules link: every name a module imports is exported by the module it
names. A missing export is a SyntaxError at load time that blanks the whole page, and only
a browser test would otherwise catch it."""

import re

import pytest

from tests.node_runner import STATIC_JS

SOURCES = sorted(STATIC_JS.rglob("*.js"))
NAMED_IMPORT = re.compile(r"""^import\s*\{([^}]*)\}\s*from\s*["']([^"']+)["']""", re.M)
DECLARED = re.compile(r"^export\s+(?:async\s+)?(?:function\*?|class)\s+([\w$]+)", re.M)
# export const TOP = 0.84, BOTTOM = 0.06: each name of the line
BOUND = re.compile(r"^export\s+(?:const|let)\s+(.*)$", re.M)
BOUND_NAME = re.compile(r"(?:^|,)\s*([\w$]+)\s*=(?!=)")
LISTED = re.compile(r"^export\s*\{([^}]*)\}", re.M)


def exported(path):
    text = path.read_text(encoding="utf-8")
    listed = [name.split(" as ")[-1].strip() for group in LISTED.findall(text)
              for name in group.split(",")]
    bound = [name for line in BOUND.findall(text) for name in BOUND_NAME.findall(line)]
    return set(DECLARED.findall(text)) | set(bound) | set(listed)


def named_imports(path):
    """(the module it names, the name) for each name imported by path"""
    text = path.read_text(encoding="utf-8")
    return [((path.parent / module).resolve(), name.split(" as ")[0].strip())
            for names, module in NAMED_IMPORT.findall(text)
            for name in names.split(",") if name.strip()]


def test_the_scan_finds_the_imports_and_exports():
    phases = STATIC_JS / "phases.js"
    assert {"phaseList", "EVERY"} <= exported(phases)
    assert {"TOP", "BOTTOM"} <= exported(STATIC_JS / "views" / "network_scene.js")
    assert (phases, "phaseList") in named_imports(STATIC_JS / "quiz.js")


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(STATIC_JS)) for p in SOURCES])
def test_every_imported_name_is_exported(path):
    missing = [f"{name} from {module.relative_to(STATIC_JS)}"
               for module, name in named_imports(path)
               if not module.exists() or name not in exported(module)]
    assert missing == []
