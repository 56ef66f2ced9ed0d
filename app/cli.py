"""The `backprop-lens` command: `serve` (the default) starts the web app; `check` checks a
learner's own course functions (CONTRACT §8)."""

import argparse
import contextlib
import errno
import json
import os
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable
from typing import NamedTuple

import uvicorn
from pydantic import ValidationError
from uvicorn.config import LOG_LEVELS
from uvicorn.supervisors import Multiprocess

from app import __version__
from app.metrics import serving_metrics
from app.settings import Settings, get_settings

PROG = "backprop-lens"
USAGE_ERROR = 2  # argparse's exit status for a bad command line; a bad BPL_* setting too
STARTUP_FAILURE = 3  # uvicorn's, when the app cannot start
# on SIGTERM uvicorn waits for open answers before the app's shutdown; an event stream
# lasts until its run finishes (minutes, for a big one), so streams still open after this
# are cut (EventSource clients reconnect) and training stops
GRACEFUL_SHUTDOWN_SECONDS = 5


def settings_or_exit() -> Settings:
    """This process's settings; a bad BPL_* variable ends the command with one line each."""
    try:
        return get_settings()
    except ValidationError as err:
        for error in err.errors():
            name = f"{Settings.model_config['env_prefix']}{error['loc'][0]}".upper()
            message = error["msg"][0].lower() + error["msg"][1:]
            print(f"{PROG}: error: {name}={error['input']!r}: {message}", file=sys.stderr)
        sys.exit(USAGE_ERROR)


# -- serve ---------------------------------------------------------------------------------

def int_setting(name: str) -> Callable[[str], int]:
    """An argparse type: an integer in the range app/settings.py gives BPL_<NAME>."""
    metadata = Settings.model_fields[name].metadata
    low = next(m.ge for m in metadata if hasattr(m, "ge"))
    high = next(m.le for m in metadata if hasattr(m, "le"))

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not from {low} to {high}")
        return value
    return parse


def serve_arguments(p: argparse.ArgumentParser, settings: Settings):
    p.add_argument("--host", default=settings.host, help="address to listen on "
                   "(default %(default)s: this machine only)")
    p.add_argument("--port", type=int_setting("port"), default=settings.port,
                   help="default %(default)s")
    p.add_argument("--workers", type=int_setting("workers"), default=settings.workers,
                   help="server processes (default %(default)s)")
    p.add_argument("--open", action="store_true",
                   help="open the page in a web browser once the server is up")
    p.add_argument("--log-level", choices=list(LOG_LEVELS), default="warning",
                   help="uvicorn's log level (default %(default)s); the access log is the "
                        "app's own, one JSON line per request")


class PortUnavailableError(Exception):
    """The address cannot be listened on; the message says why, for a person."""


def listening_socket(host: str, port: int, stall_seconds: float) -> socket.socket:
    """A socket bound to host:port (as uvicorn binds it), before anything is announced.

    Its connections carry TCP_USER_TIMEOUT (Linux): one whose client has acknowledged none
    of what was sent for stall_seconds, a client that reads nothing, is dropped by the
    kernel, with its buffers and file descriptor (uvicorn would wait for it forever;
    app.sliced_body stops sending it at the same stall)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "TCP_USER_TIMEOUT"):  # accepted connections inherit it
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, round(stall_seconds * 1000))
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            message = f"port {port} is already in use on {host}; choose another with --port"
        elif err.errno == errno.EACCES:
            message = f"port {port} on {host} needs privileges; choose one above 1023"
        else:
            message = f"cannot listen on {host}:{port}: {err.strerror or err}"
        raise PortUnavailableError(message) from err
    sock.set_inheritable(True)  # uvicorn's worker processes accept on it
    return sock


# a browser cannot open "every address": it goes to this machine's own
LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def page_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def announcer(host: str, port: int, open_browser: bool) -> Callable[[], None]:
    """What to do once the server is up: say where, and open the page if asked."""
    def announce():
        print(f"Backprop Lens running at {page_url(host, port)} (Ctrl+C to stop)", flush=True)
        if open_browser:
            url = page_url(LOOPBACK.get(host, host), port)
            # in a thread: a console browser (lynx, w3m) would block until it is closed
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    return announce


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, which announces itself once the app has started."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]):
        super().__init__(config)
        self.announce = announce

    async def startup(self, sockets=None):
        await super().startup(sockets)
        if self.started:
            self.announce()


def serve(args: argparse.Namespace):
    try:
        sock = listening_socket(args.host, args.port, get_settings().send_stall_seconds)
    except PortUnavailableError as err:
        sys.exit(f"{PROG}: error: {err}")
    listening = sock.getsockname()[1]
    announce = announcer(args.host, listening, args.open)
    # an import string, so that every worker process builds its own app
    config = uvicorn.Config("app.main:app", host=args.host, port=args.port,
                            workers=args.workers, access_log=False, log_level=args.log_level,
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
                            forwarded_allow_ips=get_settings().forwarded_allow_ips)
    # before any worker starts: the workers write their metrics where this names
    port = get_settings().metrics_port
    if port and port == listening:  # both would bind it (SO_REUSEADDR), then uvicorn fails
        metrics_port_error(port, f"the page's own port (--port {listening}); choose another")
    with contextlib.ExitStack() as metrics:
        try:
            metrics.enter_context(serving_metrics(args.host, port))
        except OSError as err:
            metrics_port_error(port, f"cannot listen on {args.host}:{port}: {err.strerror or err}")
        run_server(config, sock, announce, args.workers)


def metrics_port_error(port: int, reason: str):
    """A bad BPL_* setting: one line, exit status 2."""
    print(f"{PROG}: error: BPL_METRICS_PORT={port}: {reason}", file=sys.stderr)
    sys.exit(USAGE_ERROR)


def run_server(config: uvicorn.Config, sock: socket.socket, announce, workers: int):
    if workers > 1:
        # the workers accept on this socket; until the first one is up the kernel queues
        # the connections, so the address is announced as soon as it listens
        sock.listen(config.backlog)
        announce()
        Multiprocess(config, sockets=[sock]).run()
        return
    server = AnnouncingServer(config, announce)
    # uvicorn raises Ctrl+C's KeyboardInterrupt again after its graceful shutdown
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


# -- check ---------------------------------------------------------------------------------

UNREADABLE = 2  # §8: the file cannot be read
CHECK_FAILURE = 3  # the check itself could not run (its child process did not start)
INTERRUPTED = 130  # Ctrl+C, as a shell reports a command it interrupted


def limit(field: str) -> Callable[[str], float]:
    """An argparse type: a number in the sane range of that field of engine.check.Limits."""
    def parse(text: str) -> float:
        # imported here: building the parser for `serve` never loads the checker
        from engine.check.sandbox import limit_error

        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if error := limit_error(field, value):
            raise argparse.ArgumentTypeError(error)
        return value
    return parse


def check_arguments(p: argparse.ArgumentParser, settings: Settings):
    p.add_argument("path", help="your .py file or Jupyter .ipynb notebook")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--url", default=page_url(LOOPBACK.get(settings.host, settings.host),
                                             settings.port).rstrip("/"),
                   help="the lens the report links to (default %(default)s)")
    p.add_argument("--time-limit", type=limit("seconds"), default=10.0, metavar="SECONDS",
                   help="for each function of yours (default %(default)s, at most an hour)")
    p.add_argument("--memory-limit", type=limit("memory_mb"), default=1024.0, metavar="MB",
                   help="memory your code may take, on Linux (default %(default)s)")


def check(args: argparse.Namespace):
    # imported here: serving never loads the checker, and no route can run a visitor's code
    from engine.check import CheckerError, Limits, UnreadableFileError, check_file

    limits = Limits(seconds=args.time_limit, memory_mb=args.memory_limit)
    status = CheckStatus(sys.stderr, args.time_limit)
    try:
        report = check_file(args.path, url=args.url, limits=limits, on_start=status.show)
    except KeyboardInterrupt:
        status.clear()
        print(f"{PROG} check: interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED)
    except (UnreadableFileError, CheckerError) as err:
        status.clear()
        if args.json:
            print_quietly(json.dumps({"passed": False, "functions": [], "first_failure": None,
                                      "error": str(err)}, indent=2))
        print(f"{PROG} check: error: {err}", file=sys.stderr)
        sys.exit(UNREADABLE if isinstance(err, UnreadableFileError) else CHECK_FAILURE)
    status.clear()
    # the hints write the course's maths (dZ A_prevᵀ, √n): a console that cannot show a
    # character gets a replacement, not a traceback; JSON stays ASCII (\u escapes)
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="replace")
    print_quietly(json.dumps(report.to_json(), indent=2) if args.json else str(report))
    sys.exit(report.exit_status)


class CheckStatus:
    """One line on a terminal's stderr saying which function is being checked, so that a
    slow one (up to its time limit each) does not look like a hang; nothing where stderr
    is not a terminal (a pipe, a file, a notebook's !command)."""

    def __init__(self, stream, seconds: float):
        self.stream, self.seconds = stream, seconds
        self.shown = stream.isatty()

    def show(self, name: str):
        if self.shown:
            self.stream.write(f"\r\033[Kchecking {name}… (stopped after {self.seconds:g} s)")
            self.stream.flush()

    def clear(self):
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def print_quietly(text: str):
    """Print to stdout; a reader that has gone (`check x.py --json | head`) is no error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


# -- the commands --------------------------------------------------------------------------

class Command(NamedTuple):
    help: str
    arguments: Callable[[argparse.ArgumentParser, Settings], None]
    run: Callable[[argparse.Namespace], None]


COMMANDS = {
    "serve": Command("start the web app (the default command)", serve_arguments, serve),
    "check": Command("check your own course functions against the engine's", check_arguments,
                     check),
}


def parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    # BPL_HOST, BPL_PORT and BPL_WORKERS set the defaults
    settings = get_settings() if settings is None else settings
    p = argparse.ArgumentParser(prog=PROG,
                                description="See backpropagation, step by step, in the browser.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = p.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    for name, command in COMMANDS.items():
        command.arguments(commands.add_parser(name, help=command.help), settings)
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    p = parser(settings_or_exit())
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        p.error(f"unknown command {argv[0]!r}; commands: {', '.join(COMMANDS)}")
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help", "--version"):
        argv = ["serve", *argv]  # `backprop-lens --port 9000` means serve
    args = p.parse_args(argv)
    COMMANDS[args.command].run(args)
