"""Tests mirror the engine (issue 16): every engine module over 60 lines has its own
tests/test_<module>.py (test_check_<module>.py for engine/check/), and no test file grows
past 600 lines, where it would again cover several modules."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIN_LINES, MAX_TEST_LINES = 60, 600


def lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_every_engine_module_over_60_lines_has_its_test_file():
    missing = []
    for module in sorted((ROOT / "engine").rglob("*.py")):
        if module.name == "__init__.py" or lines(module) <= MIN_LINES:
            continue
        parts = module.relative_to(ROOT / "engine").with_suffix("").parts
        if not (ROOT / "tests" / f"test_{'_'.join(parts)}.py").exists():
            missing.append("/".join(parts))
    assert missing == []


def test_no_test_file_covers_too_much():
    assert [p.name for p in sorted((ROOT / "tests").glob("test_*.py"))
            if lines(p) > MAX_TEST_LINES] == []


def test_no_test_file_shares_its_name_with_a_browser_tests():
    """tests/ and tests/browser/ are not packages: two test files of one name stop pytest's
    collection of the whole suite ("import file mismatch")."""
    fast = {p.name for p in (ROOT / "tests").glob("test_*.py")}
    browser = {p.name for p in (ROOT / "tests" / "browser").glob("test_*.py")}
    assert fast & browser == set()
