"""Tests for engine.check itself: check_functions(globals()) in a learner's notebook, and
check_file on a file that cannot be read."""

from pathlib import Path

import pytest

from engine.check import UnreadableFileError, check_file, check_functions
from engine.check.course_functions import NAMES

SOLUTION = (Path(__file__).resolve().parent / "check_solutions" / "solution.py").read_text()


def notebook_globals(source):
    """The globals of a notebook whose cells ran this source."""
    namespace = {"__name__": "__main__"}
    exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def test_check_functions_checks_a_notebooks_globals():
    report = check_functions(notebook_globals(SOLUTION))
    assert report["passed"] is True and report.exit_status == 0
    assert {f["status"] for f in report["functions"]} == {"pass"}
    assert "All 14 of your course functions give the course's results." in str(report)


def test_in_a_notebook_the_report_is_a_table_with_the_first_failures_hint():
    source = SOLUTION.replace("    cache = (A, W, b)", "    cache = (Z, W, b)")
    report = check_functions(notebook_globals(source), url="http://lens:8000")
    page = report._repr_html_()
    assert page.count("<tr>") == 15  # a header and one row per function
    assert "<td><code>linear_forward</code></td><td>FAIL</td>" in page
    assert "linear_cache should be (A_prev, W, b); yours holds Z." in page
    assert 'href="http://lens:8000/?it=0&amp;phase=forward-1&amp;layer=1"' in page
    assert report["first_failure"]["what"] == "cache[0]"


def test_check_file_on_a_file_that_cannot_be_read_raises_before_running_anything(tmp_path):
    path = tmp_path / "notes.ipynb"
    path.write_text("these are not JSON")
    with pytest.raises(UnreadableFileError, match=r"notes\.ipynb is not a notebook I can read"):
        check_file(path)


def test_check_file_tells_as_each_function_starts(tmp_path):
    """on_start hears every defined course function once, in the course's order, before
    its verdict: what a terminal shows while a slow one runs."""
    path = tmp_path / "mine.py"
    path.write_text(SOLUTION)
    started = []
    report = check_file(path, on_start=started.append)
    assert report["passed"] is True
    assert started == [name for name in NAMES if name in {f["name"] for f in report["functions"]
                                                           if f["status"] != "missing"}]
