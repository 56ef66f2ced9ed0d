"""The report of a check: CONTRACT §8's object, as JSON, as text, and as an HTML table.

A Report is a read-only mapping of §8's object (report["passed"]), prints as text for a
person, and shows as a table in Jupyter (_repr_html_). It ends with a link to the view
of the lens that shows what differs (engine.check.lens).
"""

import html
from collections.abc import Mapping

from engine.check.course_functions import NAMES, probable_misspellings
from engine.check.lens import lens_link
from engine.check.outcomes import Failure, FunctionResult

DEFAULT_URL = "http://127.0.0.1:8000"
STATUS_WORDS = {"pass": "pass", "fail": "FAIL", "missing": "missing", "error": "ERROR"}


def nothing_defined(defined) -> Failure:
    """§8: a file that defines none of the course functions fails."""
    misspelled = probable_misspellings(defined)
    renames = " ".join(f"Rename {yours} to {ours}." for yours, ours in misspelled)
    hint = renames or "Name your functions as the course does: def linear_forward(A, W, b): ..."
    return Failure(None, "the file",
                   f"at least one of the course's functions: {', '.join(NAMES)}",
                   f"none of them; it defines {', '.join(defined) or 'no functions'}", hint,
                   "reading the file", "missing")


class Report(Mapping):
    """The verdict on each course function, and what to fix first."""

    def __init__(self, results, notes=(), defined=(), source=None, url=DEFAULT_URL):
        self.results: tuple[FunctionResult, ...] = tuple(results)
        self.notes, self.defined, self.source = tuple(notes), tuple(defined), source
        self.misspellings = probable_misspellings(self.defined)
        checked = [r for r in self.results if r.status != "missing"]
        self.passed = bool(checked) and all(r.status == "pass" for r in checked)
        failing = [r for r in checked if r.status != "pass"]
        self.failure = (failing[0].failure if failing else
                        None if checked else nothing_defined(self.defined))
        self.lens = lens_link(url, self.failure)

    @property
    def exit_status(self) -> int:
        """§8: 0 when every defined function passes, 1 otherwise."""
        return 0 if self.passed else 1

    def detail(self, result: FunctionResult) -> str:
        misspelled = [yours for yours, ours in self.misspellings if ours == result.name]
        if result.status == "missing" and misspelled:
            return (f"not defined; you defined {misspelled[0]}, a letter or two away: "
                    "a misspelling?")
        return result.detail

    def to_json(self) -> dict:
        """CONTRACT §8's object; notes, lens, and a few keys of first_failure are extras."""
        failure = None
        if self.failure:
            failure = dict(self.failure._asdict())
        return {"passed": self.passed,
                "functions": [{"name": r.name, "status": r.status, "detail": self.detail(r)}
                              for r in self.results],
                "first_failure": failure, "notes": list(self.notes), "lens": self.lens}

    def __getitem__(self, key):
        return self.to_json()[key]

    def __iter__(self):
        return iter(self.to_json())

    def __len__(self):
        return len(self.to_json())

    def __str__(self):
        return self.text()

    __repr__ = __str__

    def summary(self) -> str:
        """One line: how many of the functions give the course's results, and the names
        that look misspelled (they were not checked)."""
        line = self.count_text()
        if self.misspellings:
            n = len(self.misspellings)
            them = "it" if n == 1 else "them"
            pairs = ", ".join(f"{yours} → {ours}" for yours, ours in self.misspellings)
            line += (f"; {n} probable misspelling{'s' if n > 1 else ''}: {pairs} (rename "
                     f"{them} to have {them} checked)")
        return line + (". Well done!" if self.passed and not self.misspellings else ".")

    def count_text(self) -> str:
        counts = {s: sum(r.status == s for r in self.results) for s in STATUS_WORDS}
        defined = len(self.results) - counts["missing"]
        passing, wrong = counts["pass"], counts["fail"] + counts["error"]
        if not defined:
            return "None of the course's functions is defined, so there is nothing to check"
        if defined == 1:
            return ("Your course function gives the course's results" if self.passed else
                    "Your course function does not give the course's results yet")
        if self.passed:
            return f"All {defined} of your course functions give the course's results"
        return (f"{passing} of your {defined} course functions "
                f"{'gives' if passing == 1 else 'give'} the course's results; {wrong} "
                f"{'does' if wrong == 1 else 'do'} not yet")

    def failure_lines(self) -> list[str]:
        f = self.failure
        if f is None:
            return []
        where = f"{f.what} ({f.means})" if f.means else f.what
        case = f", in {f.case}" if f.case else ""
        if f.function is None:
            first = f"It defines {', '.join(self.defined) or 'no functions'}."
        elif f.differs == "error":
            # "it raised …", or "its definition raised …" as it stands
            subject = "" if f.got.startswith("its ") else "it "
            first = f"Start with {f.function}: {subject}{f.got}{case}."
        else:
            first = f"Start with {f.function}: {where} differs{case}."
        lines = [first, f"  expected: {f.expected}", f"  got:      {f.got}"]
        if f.hint:
            lines.append(f"  hint:     {f.hint}")
        return lines

    def text(self) -> str:
        """The report for a person: each function's verdict, what to fix first, the link."""
        head = f"Checked {self.source}" if self.source else "Checked your functions"
        lines = [f"{head} against the course's functions (engine.course).", ""]
        width = max(map(len, NAMES))
        for r in self.results:
            lines.append(f"  {r.name:<{width}}  {STATUS_WORDS[r.status]:<7}  {self.detail(r)}")
        lines += ["", self.summary(), *self.failure_lines()]
        if self.failure and self.failure.function:
            lines += ["Each function was checked with the course's own versions of the "
                      "functions it calls,", "so each verdict stands on its own."]
        lines += ["", f"See it in the lens (start it with `backprop-lens serve`): {self.lens}"]
        if self.notes:
            lines += ["", "Notes:", *(f"  - {note}" for note in self.notes)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The table Jupyter shows: each function's verdict, then the first failure."""
        e = html.escape
        rows = "".join(f"<tr><td><code>{e(r.name)}</code></td><td>{e(STATUS_WORDS[r.status])}"
                       f"</td><td>{e(self.detail(r))}</td></tr>" for r in self.results)
        parts = [f"<p>{e(self.summary())}</p>",
                 "<table><thead><tr><th>function</th><th>verdict</th><th>detail</th></tr>"
                 f"</thead><tbody>{rows}</tbody></table>"]
        if self.failure_lines():
            parts.append(f"<pre>{e(chr(10).join(self.failure_lines()))}</pre>")
        parts.append(f'<p><a href="{e(self.lens)}" target="_blank">See it in the lens</a></p>')
        return "".join(parts)
