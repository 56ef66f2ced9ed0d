"""Tests for `backprop-lens check` (app.cli's check command), and for the server never
running a visitor's code: no route imports engine.check."""

import ast
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from app import cli
from tests.server_processes import COMMAND, ROOT

SOLUTIONS = ROOT / "tests" / "check_solutions"


@pytest.fixture
def checked(monkeypatch):
    """main() with check's work replaced by a record of its arguments."""
    calls = []
    monkeypatch.setitem(cli.COMMANDS, "check", cli.COMMANDS["check"]._replace(
        run=lambda args: calls.append(vars(args))))
    return calls


@pytest.mark.parametrize(("argv", "expected"), [
    (["check", "mine.py"], {"path": "mine.py", "json": False, "url": "http://127.0.0.1:8000",
                            "time_limit": 10.0, "memory_limit": 1024.0}),
    (["check", "nb.ipynb", "--json", "--url", "http://lens:9000", "--time-limit", "2.5",
      "--memory-limit", "300"], {"json": True, "url": "http://lens:9000", "time_limit": 2.5,
                                 "memory_limit": 300.0}),
])
def test_check_arguments(argv, expected, checked, env_settings):
    env_settings()
    cli.main(argv)
    [args] = checked
    assert {k: args[k] for k in expected} == expected


def test_the_link_follows_the_servers_port(checked, env_settings):
    env_settings(BPL_PORT="9123")
    cli.main(["check", "mine.py"])
    assert checked[0]["url"] == "http://127.0.0.1:9123"


@pytest.mark.parametrize(("argv", "message"), [
    (["check"], "the following arguments are required: path"),
    (["check", "x.py", "--time-limit", "0"], "argument --time-limit: 0 is not from 0.01 to 3600"),
    (["check", "x.py", "--time-limit", "-1"], "argument --time-limit: -1 is not from 0.01 to "
                                              "3600"),
    (["check", "x.py", "--time-limit", "inf"], "argument --time-limit: inf is not from 0.01 to "
                                               "3600"),
    (["check", "x.py", "--time-limit", "1e300"], "argument --time-limit: 1e+300 is not from "
                                                 "0.01 to 3600"),
    (["check", "x.py", "--time-limit", "nan"], "argument --time-limit: nan is not from 0.01 to "
                                               "3600"),
    (["check", "x.py", "--memory-limit", "lots"], "argument --memory-limit: not a number: 'lots'"),
    (["check", "x.py", "--memory-limit", "1e15"], "argument --memory-limit: 1e+15 is not from "
                                                  "1 to 1048576"),
    (["check", "x.py", "--memory-limit", "inf"], "argument --memory-limit: inf is not from 1 to "
                                                 "1048576"),
    (["check", "x.py", "--memory-limit", "0"], "argument --memory-limit: 0 is not from 1 to "
                                               "1048576"),
])
def test_bad_check_command_lines(argv, message, checked, env_settings, capsys):
    env_settings()
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2 and not checked
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("name", "content", "message"), [
    ("notes.ipynb", "these are not JSON", "notes.ipynb is not a notebook I can read: it is not "
                                          "JSON"),
    ("odd.ipynb", '{"worksheets": [1]}', "odd.ipynb is not a notebook I can read: its "
                                         "worksheets are not a list of sheets with cells"),
    ("broken.py", "def f(:\n", "broken.py is not Python that parses: line 1"),
    ("deep.py", "x = " + "1+" * 200000 + "1\n", "deep.py is not Python that parses: it is "
                                                "nested too deeply for Python's parser"),
    ("missing.py", None, "missing.py: no such file"),
])
@pytest.mark.parametrize("as_json", [False, True])
def test_a_file_that_cannot_be_read_exits_2(tmp_path, name, content, message, as_json,
                                           env_settings, capsys):
    env_settings()
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(SystemExit) as stop:
        cli.main(["check", str(path), *(["--json"] if as_json else [])])
    assert stop.value.code == 2
    out, err = capsys.readouterr()
    assert err.startswith("backprop-lens check: error: ") and message in err
    if as_json:
        answer = json.loads(out)
        assert (answer["passed"], answer["functions"], answer["first_failure"]) == (False, [], None)
        assert message in answer["error"]
    else:
        assert out == ""


def run_check(*args):
    return subprocess.run([*COMMAND, "check", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=180, env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def test_the_real_command_passes_the_course_notebook():
    done = run_check(SOLUTIONS / "solution.ipynb")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "All 10 of your course functions give the course's results. Well done!" in done.stdout
    assert "skipped `from testCases import *`" in done.stdout


def test_the_real_command_names_a_mistake_in_json(tmp_path):
    mine = tmp_path / "mine.py"
    mine.write_text((SOLUTIONS / "solution.py").read_text().replace(
        "np.sum(dZ, axis=1, keepdims=True)", "np.sum(dZ, axis=1)"))
    done = run_check(mine, "--json", "--url", "http://lens:9000")
    assert done.returncode == 1, done.stderr
    answer = json.loads(done.stdout)
    assert answer["passed"] is False
    assert {k: answer["first_failure"][k] for k in ("function", "what")} == {
        "function": "linear_backward", "what": "db"}
    assert "keepdims" in answer["first_failure"]["hint"]
    assert answer["lens"] == "http://lens:9000/?it=0&phase=backward-1&layer=1"


def test_a_memory_limit_too_small_for_the_check_exits_3():
    done = run_check(SOLUTIONS / "solution.py", "--memory-limit", "1")
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr.startswith("backprop-lens check: error: memory limit too small for "
                                  "NumPy: at least ")


@pytest.mark.parametrize(("name", "args", "status", "said"), [
    ("none.py", ["--json"], 2, "backprop-lens check: error: none.py: no such file\n"),
    ("solution.py", [], 0, ""),
])
def test_a_reader_that_goes_away_is_no_error(name, args, status, said):
    """`backprop-lens check x.py | head`: the pipe closes before the report comes."""
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "wb") as gone:
        done = subprocess.run([*COMMAND, "check", name, *args], stdout=gone,
                              stderr=subprocess.PIPE, text=True, cwd=SOLUTIONS, timeout=180)
    assert (done.returncode, done.stderr) == (status, said)


class Terminal:
    """A stderr that says it is a terminal (or not), and keeps what is written."""

    def __init__(self, tty):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_a_terminal_sees_which_function_is_checked_and_a_pipe_sees_nothing():
    terminal, pipe = Terminal(True), Terminal(False)
    for stream in (terminal, pipe):
        status = cli.CheckStatus(stream, 2.5)
        status.show("relu")
        status.show("L_model_backward")
        status.clear()
    assert terminal.text == ("\r\033[Kchecking relu… (stopped after 2.5 s)"
                             "\r\033[Kchecking L_model_backward… (stopped after 2.5 s)\r\033[K")
    assert pipe.text == ""


def test_ctrl_c_stops_the_check_in_one_line(tmp_path):
    """A loop that never ends, checked with a long limit: Ctrl+C (SIGINT) ends the command
    with 130 and one line, not a traceback, and leaves no child process behind."""
    mine = tmp_path / "mine.py"
    mine.write_text("def relu(Z):\n    while True:\n        pass\n")
    # a pytest-xdist worker ignores SIGINT, and a child inherits that: the command gets
    # SIGINT's default back, as from a shell
    command = subprocess.Popen([*COMMAND, "check", str(mine), "--time-limit", "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=ROOT, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    children = []
    try:
        deadline = time.monotonic() + 60
        while not children and time.monotonic() < deadline:  # the child checks relu
            time.sleep(0.2)
            children = subprocess.run(["pgrep", "-P", str(command.pid)], capture_output=True,
                                      text=True).stdout.split()
        assert children, "the checker's child did not start"
        time.sleep(0.5)
        command.send_signal(signal.SIGINT)
        _, err = command.communicate(timeout=30)
    finally:
        command.kill()
    assert command.returncode == cli.INTERRUPTED, err
    assert err.strip().endswith("backprop-lens check: interrupted") and "Traceback" not in err
    time.sleep(0.5)
    alive = [pid for pid in children if os.path.exists(f"/proc/{pid}")]
    assert alive == []


# -- the server never runs a visitor's code --------------------------------------------------


@pytest.mark.parametrize("path", [p for p in sorted((ROOT / "app").rglob("*.py"))
                                  if p.name != "cli.py"], ids=lambda p: p.name)
def test_no_module_of_the_server_imports_the_checker(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            names = {a.name for a in node.names}
        else:
            continue
        assert not any(n == "engine.check" or n.startswith("engine.check.") for n in names)


def test_serving_loads_no_checker():
    code = ("import sys; from app.main import create_app; from app.settings import Settings; "
            "create_app(Settings()); import app.cli; "
            "assert not [m for m in sys.modules if m.split('.')[:2] == ['engine', 'check']]")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
