"""Call the page's pure ES modules (static/js) from a test, with Node.js: each call's
arguments and result travel as JSON. Tests that use it skip where Node is not installed."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

STATIC_JS = Path(__file__).resolve().parent.parent / "static" / "js"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")

# reads {"module", "calls": [[function, ...arguments]]} on stdin, prints the results
RUNNER = """
let text = "";
for await (const chunk of process.stdin) text += chunk;
const {module, calls} = JSON.parse(text);
const exports = await import(module);
const plain = (v) => (v instanceof Set ? [...v].sort() : v);
console.log(JSON.stringify(calls.map(([name, ...args]) => plain(exports[name](...args)))));
"""


def call_js(module, calls, root=STATIC_JS):
    """[f(*args) for [f, *args] in calls], f exported by root/module; a Set comes back as a
    sorted list."""
    answer = subprocess.run([NODE, "--input-type=module", "-e", RUNNER], check=True, text=True,
                            input=json.dumps({"module": (Path(root) / module).as_uri(),
                                              "calls": calls}),
                            capture_output=True, timeout=30)
    return json.loads(answer.stdout)
