"""The `backprop-lens` command: `serve` (the default) starts the web app."""

import argparse
import sys

import uvicorn

from app import __version__
from app.settings import get_settings

COMMANDS = ("serve",)
# on SIGTERM uvicorn waits for open answers before the app's shutdown; an event stream
# lasts until its run finishes (minutes, for a big one), so streams still open after this
# are cut (EventSource clients reconnect) and training stops
GRACEFUL_SHUTDOWN_SECONDS = 5


def parser() -> argparse.ArgumentParser:
    settings = get_settings()  # BPL_HOST, BPL_PORT and BPL_WORKERS set the defaults
    p = argparse.ArgumentParser(prog="backprop-lens",
                                description="See backpropagation, step by step, in the browser.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = p.add_subparsers(dest="command", metavar="{serve}")
    serve = commands.add_parser("serve", help="start the web app (the default command)")
    serve.add_argument("--host", default=settings.host, help="address to listen on "
                       "(default %(default)s: this machine only)")
    serve.add_argument("--port", type=int, default=settings.port, help="default %(default)s")
    serve.add_argument("--workers", type=int, default=settings.workers,
                       help="server processes (default %(default)s)")
    return p


def serve(host: str, port: int, workers: int):
    print(f"Backprop Lens running at http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    # an import string, so that every worker process builds its own app
    uvicorn.run("app.main:app", host=host, port=port, workers=workers, access_log=False,
                log_level="warning", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help", "--version"):
        argv = ["serve", *argv]  # `backprop-lens --port 9000` means serve
    args = parser().parse_args(argv)
    serve(args.host, args.port, args.workers)
