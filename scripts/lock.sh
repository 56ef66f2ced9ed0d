#!/usr/bin/env bash
# Refresh constraints.txt: the exact version of every package that `pip install '.[test]'`
# resolves to today on Python 3.11, the runtime and test dependencies and theirs, read from
# pyproject.toml as it is now. scripts/test.sh (CI) and the Dockerfile install with
# `-c constraints.txt`, so every install gets these versions until this is run again.
# Then run ./scripts/test.sh and commit constraints.txt with the change that needed it.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "scripts/lock.sh: constraints.txt is for Python 3.11; set PYTHON=python3.11" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# a fresh venv: the resolution depends on nothing installed here
"$PYTHON" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --upgrade pip
# resolve without installing: pip reports what it would install
"$tmp/venv/bin/python" -m pip install -q --dry-run --ignore-installed \
    --report "$tmp/report.json" '.[test]'

"$tmp/venv/bin/python" - "$tmp/report.json" > "$tmp/constraints.txt" <<'EOF'
import json
import re
import sys

report = json.load(open(sys.argv[1]))
pins = sorted(
    (re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower(), item["metadata"]["version"])
    for item in report["install"] if not item.get("is_direct"))  # the project itself
print("# Exact versions of every runtime and test dependency, for Python 3.11.")
print("# Made by scripts/lock.sh from pyproject.toml; refresh it with that script.")
print("# Installs use it as constraints: pip install -c constraints.txt -e '.[test]'")
for name, version in pins:
    print(f"{name}=={version}")
EOF
mv "$tmp/constraints.txt" constraints.txt
echo "constraints.txt: $(grep -c '==' constraints.txt) packages pinned"
