"""Check my code: a learner's own course functions, checked against engine.course.

From a shell, `backprop-lens check solution.ipynb` runs `check_file` (the learner's code
runs in a child process, with a time limit and a memory limit). From the learner's own
notebook, `check_functions(globals())` checks the functions defined there, in that
process. Both return a Report (CONTRACT §8): a mapping of §8's object that prints as
text and shows as a table in Jupyter. docs/check-my-code.md is the learner's guide.

The parts: course_functions (the functions, their order and words), source (reading the
file), cases (the inputs), observe and compare (calling a function, and what differs),
forward_mistakes, backward_mistakes and mistakes (the classic mistakes, recognised by
running them), verdict (one function checked alone), child, child_events and sandbox
(the child process, its events and its limits), report and lens (the report, its
renderings and its link to the lens).
"""

from engine.check.report import DEFAULT_URL, Report
from engine.check.sandbox import CheckerError, Limits, check_programs
from engine.check.source import UnreadableFileError, read_program
from engine.check.verdict import check_namespace, learner_functions

__all__ = ["DEFAULT_URL", "CheckerError", "Limits", "Report", "UnreadableFileError",
           "check_file", "check_files", "check_functions"]


def check_functions(namespace, url: str = DEFAULT_URL) -> Report:
    """Check the course functions defined in a namespace, e.g. check_functions(globals())
    in the learner's notebook. Runs here, without a child process or limits."""
    return Report(check_namespace(namespace), defined=sorted(learner_functions(namespace)),
                  url=url)


def check_files(paths, url: str = DEFAULT_URL, limits: Limits | None = None,
                on_start=None) -> list[Report]:
    """Check several files with one child process; UnreadableFileError for a bad one.
    on_start(name): told as each function's check starts."""
    programs = [read_program(path) for path in paths]
    checked_programs = check_programs(programs, limits, on_start)
    return [Report(checked.results, program.notes + checked.notes, checked.defined,
                   program.label, url)
            for program, checked in zip(programs, checked_programs, strict=True)]


def check_file(path, url: str = DEFAULT_URL, limits: Limits | None = None,
               on_start=None) -> Report:
    """Check a .py file or an .ipynb notebook (CONTRACT §8); on_start as check_files."""
    return check_files([path], url, limits, on_start)[0]
