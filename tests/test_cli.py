"""Tests for app.cli: the commands, bad settings, a taken port, --open and --log-level.

The real command runs in a subprocess where what a person sees matters (its output and
exit status); argument handling is checked in-process.
"""

import contextlib
import errno
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from uvicorn.config import LOG_LEVELS

from app import cli
from tests.server_processes import COMMAND, ROOT, free_port, stop_session, wait_healthy


def run_command(args, env=None, timeout=60):
    """The real `backprop-lens args`, from the repository root, to its end."""
    return subprocess.run([*COMMAND, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


@contextlib.contextmanager
def running(args, tmp_path, env=None):
    """(url, process, stdout file, stderr file) of `backprop-lens serve args` on a free port."""
    port = free_port()
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen([*COMMAND, "serve", "--port", str(port), *args], cwd=ROOT,
                                   env={**os.environ, **(env or {})}, stdout=stdout,
                                   stderr=stderr, text=True, start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}", process, out, err
    finally:
        stop_session(process, timeout=15)


@pytest.fixture
def ran(monkeypatch):
    """main() with the command's work replaced by a record of (command, args)."""
    calls = []
    for name, command in cli.COMMANDS.items():
        monkeypatch.setitem(cli.COMMANDS, name, command._replace(
            run=lambda args, name=name: calls.append((name, vars(args)))))
    return calls


# -- the command line ------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "expected"), [
    ([], {"port": 8000, "workers": 1, "open": False, "log_level": "warning"}),
    (["serve"], {"host": "127.0.0.1", "port": 8000}),
    (["--port", "9000"], {"port": 9000}),  # no command means serve
    (["serve", "--open", "--log-level", "info"], {"open": True, "log_level": "info"}),
    (["serve", "--workers", "3", "--host", "0.0.0.0"], {"workers": 3, "host": "0.0.0.0"}),
])
def test_arguments_reach_serve(argv, expected, ran, env_settings):
    env_settings()
    cli.main(argv)
    [(command, args)] = ran
    assert command == "serve"
    assert {k: args[k] for k in expected} == expected


@pytest.mark.parametrize(("argv", "message"), [
    (["train"], "backprop-lens: error: unknown command 'train'; commands: serve"),
    (["serv", "--port", "9000"], "backprop-lens: error: unknown command 'serv'; commands: serve"),
    (["serve", "--log-level", "loud"],
     "backprop-lens serve: error: argument --log-level: invalid choice: 'loud'"),
    (["serve", "--port", "eighty"],
     "backprop-lens serve: error: argument --port: not a whole number: 'eighty'"),
    (["serve", "--port", "70000"],
     "backprop-lens serve: error: argument --port: 70000 is not from 1 to 65535"),
    (["--workers", "0"], "backprop-lens serve: error: argument --workers: 0 is not from 1 to 64"),
])
def test_bad_command_lines_name_the_problem(argv, message, ran, env_settings, capsys):
    env_settings()
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2 and not ran
    assert message in capsys.readouterr().err


def test_help_lists_every_command(capsys, env_settings):
    env_settings()
    with pytest.raises(SystemExit) as stop:
        cli.main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in cli.COMMANDS)


@pytest.mark.parametrize("level", list(LOG_LEVELS))
def test_every_uvicorn_log_level_is_accepted(level, env_settings):
    env_settings()
    assert cli.parser().parse_args(["serve", "--log-level", level]).log_level == level


# -- bad BPL_* settings: one line that names the variable -------------------------------------

@pytest.mark.parametrize(("variables", "argv", "lines"), [
    ({"BPL_PORT": "abc"}, ["--help"],
     ["BPL_PORT='abc': input should be a valid integer, unable to parse string as an integer"]),
    ({"BPL_PORT": "abc"}, ["serve"],
     ["BPL_PORT='abc': input should be a valid integer, unable to parse string as an integer"]),
    ({"BPL_PORT": "70000"}, [], ["BPL_PORT='70000': input should be less than or equal to 65535"]),
    ({"BPL_WORKERS": "0", "BPL_GZIP_LEVEL": "12"}, ["serve", "--port", "9000"],
     ["BPL_WORKERS='0': input should be greater than or equal to 1",
      "BPL_GZIP_LEVEL='12': input should be less than or equal to 9"]),
])
def test_a_bad_setting_is_one_line_naming_the_variable(variables, argv, lines, ran,
                                                        env_settings, capsys):
    env_settings(**variables)
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2 and not ran
    assert capsys.readouterr().err.splitlines() == [f"backprop-lens: error: {line}"
                                                    for line in lines]


@pytest.mark.parametrize("argv", [["--help"], ["serve"]])
def test_the_real_command_with_a_bad_setting_prints_no_traceback(argv):
    result = run_command(argv, env={"BPL_PORT": "abc"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "backprop-lens: error: BPL_PORT='abc': input should be a valid integer, unable to "
        "parse string as an integer"]


# -- serve: a taken port, the announcement, --open, --log-level --------------------------------

@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_taken_port_is_said_plainly_and_nothing_is_announced(workers):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_command(["serve", "--port", str(port), "--workers", workers])
    assert result.returncode == 1
    assert result.stdout == ""  # no "running at"
    assert result.stderr == (f"backprop-lens: error: port {port} is already in use on "
                             "127.0.0.1; choose another with --port\n")


def test_an_address_that_is_not_this_machines_is_said_plainly():
    result = run_command(["serve", "--host", "192.0.2.1", "--port", "8000"])
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("backprop-lens: error: cannot listen on 192.0.2.1:8000: ")


BROWSER = '''#!{python}
import sys, urllib.request
# a stand-in browser: it loads the page it was given, as a real one would
with urllib.request.urlopen(sys.argv[1], timeout=30) as page:
    open({record!r}, "w").write(f"{{page.status}} {{sys.argv[1]}}")
'''


@pytest.mark.parametrize("workers", ["1", "2"])
def test_open_loads_the_page_in_the_browser_once_the_server_is_up(workers, tmp_path):
    record = tmp_path / "browser.txt"
    browser = tmp_path / "browser.py"
    browser.write_text(BROWSER.format(python=sys.executable, record=str(record)))
    browser.chmod(0o755)
    with running(["--open", "--workers", workers], tmp_path,
                 env={"BROWSER": str(browser)}) as (url, process, out, _):
        deadline = time.monotonic() + 60
        while not record.exists() and time.monotonic() < deadline:
            assert process.poll() is None, "the server stopped"
            time.sleep(0.1)
        assert record.read_text() == f"200 {url}/"
        assert out.read_text() == f"Backprop Lens running at {url}/ (Ctrl+C to stop)\n"


@pytest.mark.parametrize(("level", "uvicorn_says_startup"), [("warning", False), ("info", True)])
def test_log_level_sets_uvicorns_log_and_keeps_the_apps_access_log(level, uvicorn_says_startup,
                                                                  tmp_path):
    with running(["--log-level", level], tmp_path) as (url, process, out, err):
        wait_healthy(url, process)
        assert httpx.get(f"{url}/healthz").status_code == 200
        assert out.read_text() == f"Backprop Lens running at {url}/ (Ctrl+C to stop)\n"
    log = err.read_text()
    assert ("Application startup complete" in log) == uvicorn_says_startup
    assert '{"method":"GET","path":"/healthz","query":"","status":200' in log
    assert '"GET /healthz HTTP/1.1" 200' not in log  # uvicorn's own access log stays off


class RunAtOnce:
    """threading.Thread that runs its target when started, so a test can see the call."""

    def __init__(self, target, args, daemon):
        self.target, self.args = target, args

    def start(self):
        self.target(*self.args)


@pytest.mark.parametrize(("host", "said", "opened"), [
    ("127.0.0.1", "http://127.0.0.1:8123/", "http://127.0.0.1:8123/"),
    ("0.0.0.0", "http://0.0.0.0:8123/", "http://127.0.0.1:8123/"),
    ("::", "http://[::]:8123/", "http://[::1]:8123/"),
    ("::1", "http://[::1]:8123/", "http://[::1]:8123/"),
])
@pytest.mark.parametrize("open_browser", [True, False])
def test_the_announcement_and_the_page_a_browser_opens(host, said, opened, open_browser,
                                                       monkeypatch, capsys):
    browsed = []
    monkeypatch.setattr(cli.threading, "Thread", RunAtOnce)
    monkeypatch.setattr(cli.webbrowser, "open", browsed.append)
    cli.announcer(host, 8123, open_browser)()
    assert capsys.readouterr().out == f"Backprop Lens running at {said} (Ctrl+C to stop)\n"
    assert browsed == ([opened] if open_browser else [])


def test_the_listening_socket_drops_clients_that_acknowledge_nothing():
    """TCP_USER_TIMEOUT of the stall, which accepted connections inherit: the kernel drops
    a client that reads nothing of an answer (uvicorn would wait for it forever)."""
    if not hasattr(socket, "TCP_USER_TIMEOUT"):
        pytest.skip("no TCP_USER_TIMEOUT on this system")
    with cli.listening_socket("127.0.0.1", 0, stall_seconds=1.5) as sock:
        sock.listen()
        with socket.create_connection(sock.getsockname()):
            accepted, _ = sock.accept()
            with accepted:
                ms = accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT)
                assert ms == 1500
                accepted.settimeout(10)
                with pytest.raises(TimeoutError, match="timed out") as raised:
                    while True:  # the client reads nothing: its window closes
                        accepted.send(b"x" * 65536)
                assert raised.value.errno == errno.ETIMEDOUT, raised.value
