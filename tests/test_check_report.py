"""Tests for engine.check.report: §8's object, the exit status, the text, the HTML table and
the link to the lens."""

import json

import pytest

from engine.check import report as report_module
from engine.check.course_functions import NAMES
from engine.check.report import Report, lens_link
from engine.check.verdict import Failure, FunctionResult


def failure(function="linear_backward", what="db", layer=None, mistake=None,
            hint="db has shape (n, 1)."):
    return Failure(function, what, "an array (3, 1): [[1], [2], [3]]", "an array (3,): [1, 2, 3]",
                   hint, "the course's test case", "shape", None, mistake, layer)


def results(**statuses):
    """One result per course function: pass unless named; a fail carries a Failure."""
    out = []
    for name in NAMES:
        status = statuses.get(name, "pass")
        out.append(FunctionResult(name, status, f"{name} is {status}",
                                  failure(name) if status in ("fail", "error") else None))
    return out


@pytest.mark.parametrize(("statuses", "passed", "exit_status"), [
    ({}, True, 0),
    ({"relu": "missing", "sigmoid": "missing"}, True, 0),  # missing is not a failure
    ({"linear_backward": "fail"}, False, 1),
    ({"relu": "error"}, False, 1),
    ({name: "missing" for name in NAMES}, False, 1),  # a file that defines none of them
])
def test_passed_and_the_exit_status(statuses, passed, exit_status):
    report = Report(results(**statuses))
    assert report["passed"] is passed and report.exit_status == exit_status


def test_the_json_is_section_8s_object():
    report = Report(results(compute_cost="fail", update_parameters="error"), notes=["a note"])
    data = json.loads(json.dumps(report.to_json()))
    assert {"passed", "functions", "first_failure"} <= set(data)
    assert set(data) - {"passed", "functions", "first_failure"} == {"notes", "lens"}
    assert [f["name"] for f in data["functions"]] == list(NAMES)
    assert all(set(f) == {"name", "status", "detail"} for f in data["functions"])
    assert {"function", "what", "expected", "got", "hint"} <= set(data["first_failure"])
    assert data["first_failure"]["function"] == "compute_cost"  # the first in §8's order
    assert dict(report) == report.to_json() and report["notes"] == ["a note"]


def test_a_file_that_defines_none_names_its_misspellings():
    report = Report(results(**{name: "missing" for name in NAMES}),
                    defined=["L_model_foward", "helper"])
    first = report["first_failure"]
    assert first["function"] is None and first["what"] == "the file"
    assert first["hint"] == "Rename L_model_foward to L_model_forward."
    row = next(f for f in report["functions"] if f["name"] == "L_model_forward")
    assert row["detail"] == ("not defined; you defined L_model_foward, a letter or two away: "
                             "a misspelling?")


@pytest.mark.parametrize(("function", "layer", "url"), [
    ("linear_activation_backward", None, "/?it=0&phase=backward-2&layer=2"),
    ("L_model_backward", 1, "/?it=0&phase=backward-1&layer=1"),
    ("L_model_backward", 5, "/?it=0&phase=backward-3&layer=3"),  # deeper than the page's run
    ("L_model_forward", 2, "/?it=0&phase=forward-2&layer=2"),
    ("initialize_parameters_deep", None, "/?init=course&it=0&phase=forward-1&layer=1"),
    ("compute_cost", None, "/?it=0&phase=cost&layer=3"),
    ("update_parameters", 2, "/?it=0&phase=update&layer=2"),
    ("relu_backward", None, "/?it=0&phase=backward-2&layer=2"),
    (None, None, "/"),
])
def test_the_link_opens_the_view_of_the_failure(function, layer, url):
    found = failure(function, layer=layer) if function else None
    assert lens_link("http://127.0.0.1:8000", found) == "http://127.0.0.1:8000" + url
    assert lens_link("http://host:9000/", found) == "http://host:9000" + url


def test_the_link_names_the_lesson_and_bug_once_lessons_exist(monkeypatch):
    monkeypatch.setitem(report_module.LESSONS, "dW_without_1_over_m",
                        {"lesson": "missing-1-over-m", "bug": "missing_1_over_m"})
    link = lens_link("http://x", failure(mistake="dW_without_1_over_m"))
    assert link == ("http://x/?it=0&phase=backward-2&layer=2&lesson=missing-1-over-m"
                    "&bug=missing_1_over_m")


def test_the_text_says_what_to_fix_first():
    text = str(Report(results(linear_backward="fail"), notes=["skipped `import x`"],
                      source="mine.py"))
    assert text.startswith("Checked mine.py against the course's functions")
    assert "  linear_backward             FAIL     linear_backward is fail\n" in text
    assert "13 of your 14 course functions give the course's results; 1 does not yet." in text
    assert ("Start with linear_backward: db differs, in the course's test case.\n"
            "  expected: an array (3, 1): [[1], [2], [3]]\n"
            "  got:      an array (3,): [1, 2, 3]\n"
            "  hint:     db has shape (n, 1).") in text
    assert text.endswith("http://127.0.0.1:8000/?it=0&phase=backward-2&layer=2\n\nNotes:\n"
                         "  - skipped `import x`")
    assert repr(Report(results())) == str(Report(results()))


def test_the_html_table_is_escaped():
    rows = results(relu="fail")
    rows[1] = rows[1]._replace(detail="<script>alert(1)</script>",
                               failure=failure("relu", hint="use <b> & \"quotes\""))
    page = Report(rows, url="http://x/?a=<1>")._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "use &lt;b&gt; &amp; &quot;quotes&quot;" in page
    assert page.count("<tr>") == len(NAMES) + 1
    assert 'href="http://x/?a=&lt;1&gt;/?it=0&amp;phase=forward-1&amp;layer=1"' in page
