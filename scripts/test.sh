#!/usr/bin/env bash
# Set up and run the whole test suite: Python packages in .venv, Debian's
# Chromium for the browser tests and nginx for deploy/nginx.conf's, then ruff and
# pytest. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=""
[ -x /usr/bin/chromium ] || PACKAGES="chromium fonts-dejavu-core"
[ -x /usr/sbin/nginx ] || PACKAGES="$PACKAGES nginx-light"
if [ -n "$PACKAGES" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086 # a list of package names
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $PACKAGES >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# the versions of constraints.txt (scripts/lock.sh refreshes it), so every run tests the same
.venv/bin/python -m pip install -q -c constraints.txt -e '.[test]'

.venv/bin/ruff check .
# one worker per core (pytest-xdist); a test file's tests stay on one worker, so its
# module-wide fixtures (a trained run, a checked file, a server) are made once
.venv/bin/python -m pytest -q -p no:cacheprovider -n auto --dist loadfile "$@"
