"""Tests for engine.check.report: §8's object, the exit status, the text, the HTML table and
the link to the lens."""

import json

import pytest

from engine.check.course_functions import NAMES
from engine.check.outcomes import Failure, FunctionResult
from engine.check.report import Report


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


def test_the_report_links_to_the_lens_view_of_its_first_failure():
    report = Report(results(compute_cost="fail"), url="http://lens:9000/")
    assert report["lens"] == "http://lens:9000/?it=0&phase=cost&layer=3"
    assert Report(results(), url="http://lens:9000")["lens"] == "http://lens:9000/"


@pytest.mark.parametrize(("statuses", "defined", "summary"), [
    ({}, (), "All 14 of your course functions give the course's results. Well done!"),
    ({name: "missing" for name in NAMES if name != "relu"}, (),
     "Your course function gives the course's results. Well done!"),
    ({**{name: "missing" for name in NAMES if name != "relu"}, "relu": "fail"}, (),
     "Your course function does not give the course's results yet."),
    ({"relu": "fail", "sigmoid": "missing"}, (),
     "12 of your 13 course functions give the course's results; 1 does not yet."),
    ({"relu": "fail", "sigmoid": "error"}, (),
     "12 of your 14 course functions give the course's results; 2 do not yet."),
    ({"L_model_forward": "missing"}, ("L_model_foward",),
     "All 13 of your course functions give the course's results; 1 probable misspelling: "
     "L_model_foward → L_model_forward (rename it to have it checked)."),
    ({"relu": "missing", "sigmoid": "missing", "compute_cost": "fail"}, ("sigmoidd", "rellu"),
     "11 of your 12 course functions give the course's results; 1 does not yet; 2 probable "
     "misspellings: sigmoidd → sigmoid, rellu → relu (rename them to have them checked)."),
    ({name: "missing" for name in NAMES}, (),
     "None of the course's functions is defined, so there is nothing to check."),
])
def test_the_summary_line(statuses, defined, summary):
    report = Report(results(**statuses), defined=defined)
    assert report.summary() == summary
    assert f"\n{summary}\n" in str(report)


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
    assert text.endswith("http://127.0.0.1:8000/?it=0&phase=backward-1&layer=1\n\nNotes:\n"
                         "  - skipped `import x`")
    assert repr(Report(results())) == str(Report(results()))


@pytest.mark.parametrize(("got", "line"), [
    ("raised ValueError: not yet", "Start with linear_backward: it raised ValueError: not yet."),
    ("its definition raised NameError: name 'rate' is not defined",
     "Start with linear_backward: its definition raised NameError: name 'rate' is not "
     "defined."),  # not "it its definition"
])
def test_an_error_is_told_as_a_sentence(got, line):
    result = FunctionResult("linear_backward", "error", got,
                            Failure("linear_backward", "the call", "a result", got, None, None,
                                    "error"))
    others = {name: FunctionResult(name, "missing", "not defined") for name in NAMES}
    report = Report([others[n] if n != "linear_backward" else result for n in NAMES])
    assert f"\n{line}\n" in str(report)


def test_the_html_table_is_escaped():
    rows = results(relu="fail")
    rows[1] = rows[1]._replace(detail="<script>alert(1)</script>",
                               failure=failure("relu", hint="use <b> & \"quotes\""))
    page = Report(rows, url="http://x/?a=<1>")._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "use &lt;b&gt; &amp; &quot;quotes&quot;" in page
    assert page.count("<tr>") == len(NAMES) + 1
    assert 'href="http://x/?a=&lt;1&gt;/?it=0&amp;phase=forward-1&amp;layer=1"' in page
