"""deploy/nginx.conf: round robin over the replicas, limits per learner rather than per
address, 429s passed through, and no replayed POST.

The structure is read from the file with a small parser of nginx's syntax. Where an nginx
binary is installed (`apt-get install nginx-light`), the config is also tested with
`nginx -t` and run in front of two stub replicas; without one, those tests skip.
"""

import json
import re
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.admission import COOKIE, TOKEN
from tests.server_processes import free_port

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = (ROOT / "deploy" / "nginx.conf").read_text()
PORT = 8000
EVENTS, SUMMARY = "/api/runs/r1Gw1DysMQAA/events", "/api/runs/r1Gw1DysMQAA/summary"
TOKENS = re.compile(r"""#[^\n]*|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[{};]|[^\s{};'"#]+""")


def parse(text: str) -> list[tuple]:
    """nginx's syntax as [(directive, [arguments], [children] or None)], quotes removed."""
    outer, current, words = [], [], []
    for token in TOKENS.findall(text):
        if token.startswith("#"):
            continue
        if token in (";", "{"):
            children = [] if token == "{" else None
            current.append((words[0], words[1:], children))
            if children is not None:
                outer.append(current)
                current = children
            words = []
        elif token == "}":
            current = outer.pop()
        else:
            words.append(token[1:-1] if token[0] in "'\"" else token)
    assert not outer and not words, "unbalanced braces or a directive without ;"
    return current


def find(block: list[tuple], name: str) -> list[tuple]:
    return [entry for entry in block if entry[0] == name]


def arguments(block: list[tuple], name: str) -> list[list[str]]:
    return [args for _, args, _ in find(block, name)]


HTTP = find(parse(NGINX_CONF), "http")[0][2]
SERVER = find(HTTP, "server")[0][2]
LOCATIONS = {" ".join(args): children for _, args, children in find(SERVER, "location")}


def location_of(path: str) -> list[tuple]:
    """The location nginx picks for a path: a matching regex, else the longest prefix."""
    for where, body in LOCATIONS.items():
        if where.startswith("~ ") and re.search(where[2:], path):
            return body
    prefixes = [where for where in LOCATIONS if path.startswith(where)]
    return LOCATIONS[max(prefixes, key=len)]


def rate(text: str) -> float:
    """'100r/s' -> 100; '60r/m' -> 1."""
    number, unit = re.fullmatch(r"(\d+)r/([sm])", text).groups()
    return int(number) / (60 if unit == "m" else 1)


def zones(directive: str) -> dict[str, list[str]]:
    """{zone name: [key, other arguments]} of the limit_*_zone directives."""
    found = {}
    for key, *rest in arguments(HTTP, directive):
        name = next(a for a in rest if a.startswith("zone=")).split("=")[1].split(":")[0]
        found[name] = [key, *rest]
    return found


# -- structure --------------------------------------------------------------------------------

def test_round_robin_over_the_app_service():
    upstreams = {args[0]: children for _, args, children in find(HTTP, "upstream")}
    assert list(upstreams) == ["backprop_lens"]
    upstream = upstreams["backprop_lens"]
    assert [args[0] for args in arguments(upstream, "server")] == [f"app:{PORT}"]
    # round robin: no hash, ip_hash, least_conn or sticky
    assert {entry[0] for entry in upstream} <= {"server", "keepalive", "keepalive_timeout",
                                                 "zone"}
    passes = {args[0] for body in LOCATIONS.values() for args in arguments(body, "proxy_pass")}
    assert passes == {"http://backprop_lens"}


def test_nginx_closes_an_idle_app_connection_before_the_app_does():
    """Else a request sent just as uvicorn closes it is reset, and a POST, which nginx never
    replays, answers 502 (2 of 40 did)."""
    upstream = next(children for _, args, children in find(HTTP, "upstream"))
    [[timeout]] = arguments(upstream, "keepalive_timeout")
    assert timeout.endswith("s") and float(timeout[:-1]) < uvicorn.Config("x").timeout_keep_alive


def test_events_stream_unbuffered_and_json_is_left_to_the_app():
    events = location_of(EVENTS)
    assert ["off"] in arguments(events, "proxy_buffering")
    assert ["off"] in arguments(events, "gzip")
    assert location_of(SUMMARY) is not events
    assert "application/json" not in arguments(HTTP, "gzip_types")[0]


def test_a_learner_is_the_apps_cookie_else_not_counted():
    """A classroom behind one NAT is many learners: the key is the app's own cookie, when
    it has the app's format; without one only the address ceiling counts."""
    maps = {tuple(args): children for _, args, children in find(HTTP, "map")}
    learner = maps[f"$cookie_{COOKIE}", "$learner"]
    assert dict((entry[0], entry[1][0]) for entry in learner) == {
        f"~^{TOKEN.pattern}$": f"$cookie_{COOKIE}", "default": ""}


@pytest.mark.parametrize("directive", ["limit_req_zone", "limit_conn_zone"])
def test_one_zone_per_learner_and_one_per_address(directive):
    keys = {name: args[0] for name, args in zones(directive).items()}
    assert sorted(keys.values()) == ["$binary_remote_addr", "$learner"]


def test_the_address_ceiling_is_well_above_a_learners():
    by_key = {args[0]: rate(next(a for a in args if a.startswith("rate="))[5:])
              for args in zones("limit_req_zone").values()}
    assert by_key["$binary_remote_addr"] >= 10 * by_key["$learner"]
    conns = {zones("limit_conn_zone")[zone][0]: int(n)
             for zone, n in arguments(SERVER, "limit_conn")}
    assert conns["$binary_remote_addr"] >= 10 * conns["$learner"]
    assert conns["$learner"] >= 6  # a browser's connections per host


@pytest.mark.parametrize("path", ["/api/runs", SUMMARY, EVENTS, "/api/options"])
def test_every_api_request_is_rate_limited_per_learner_and_per_address(path):
    limited = {a.split("=")[1] for args in arguments(location_of(path), "limit_req")
               for a in args if a.startswith("zone=")}
    assert limited == set(zones("limit_req_zone"))


def test_nginx_refuses_with_429_and_passes_the_apps_429_untouched():
    assert arguments(HTTP, "limit_req_status") == [["429"]]
    assert arguments(HTTP, "limit_conn_status") == [["429"]]
    # the app's 429s (and every other status) reach the client as the app wrote them
    everywhere = [HTTP, SERVER, *LOCATIONS.values()]
    assert all(["on"] not in arguments(block, "proxy_intercept_errors") for block in everywhere)
    target = dict((args[0], args[1]) for args in arguments(SERVER, "error_page"))["429"]
    refusal = LOCATIONS[target]
    code, body = arguments(refusal, "return")[0]
    assert code == "429" and "detail" in json.loads(body)
    assert ["Retry-After", "1", "always"] in arguments(refusal, "add_header")


def test_a_post_is_never_replayed_on_another_replica():
    retried = arguments(SERVER, "proxy_next_upstream")[0]
    assert "non_idempotent" not in retried and "error" in retried


def test_the_apps_busy_503_is_not_counted_against_its_replica():
    """nginx counts each status of proxy_next_upstream as a failure of the replica:
    with http_503 there, a few of the app's back-pressure 503s took every replica out."""
    assert "http_503" not in arguments(SERVER, "proxy_next_upstream")[0]


@pytest.mark.parametrize(("status", "retry"), [("413", False), ("502", True), ("504", True)])
def test_nginxs_own_errors_are_json_with_a_detail(status, retry):
    target = dict((args[0], args[1]) for args in arguments(SERVER, "error_page"))[status]
    code, body = arguments(LOCATIONS[target], "return")[0]
    assert code == status and json.loads(body)["detail"]
    assert (["Retry-After", "1", "always"] in arguments(LOCATIONS[target], "add_header")) == retry


def test_the_app_learns_the_clients_address_not_a_header_the_client_sent():
    headers = dict((args[0], args[1]) for args in arguments(SERVER, "proxy_set_header"))
    assert headers["X-Forwarded-For"] == "$remote_addr"


# -- the real thing, where nginx is installed -----------------------------------------------

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()),
                                      None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="no nginx binary (apt-get install "
                                                       "nginx-light)")


def local_conf(folder: Path, port: int, upstreams: list[int]) -> Path:
    """deploy/nginx.conf listening on 127.0.0.1:port, in front of local replicas (with the
    shipped server's max_fails and fail_timeout)."""
    text = re.sub(r"server app:\d+([^;]*);", lambda shipped: "".join(
        f"server 127.0.0.1:{p}{shipped[1]};\n" for p in upstreams), NGINX_CONF)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{port};")
    text = text.replace("pid /tmp/nginx.pid;", f"pid {folder}/nginx.pid;")
    text = text.replace("access_log /dev/stdout;", "access_log off;")
    path = folder / "nginx.conf"
    path.write_text(text)
    return path


@needs_nginx
def test_nginx_accepts_the_config(tmp_path):
    conf = local_conf(tmp_path, free_port(), [free_port()])
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf),
                             "-g", f"error_log {tmp_path}/error.log;"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


class Replica(BaseHTTPRequestHandler):
    """A stub replica: /api/refuse answers the app's own 429, /api/busy its 503 (busy with
    large answers); /api/drop closes the connection unanswered; anything else is 200.
    Every request is noted."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out apart: no 40 ms delayed ACK

    def handle_any(self):
        self.server.seen.append((self.command, self.path))
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        if self.path == "/api/drop":
            self.close_connection = True
            return
        status, body = {"/api/refuse": (429, b'{"detail": "app: max_runs_per_client"}'),
                        "/api/busy": (503, b'{"detail": "server: busy"}')}.get(
            self.path, (200, b"{}"))
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        if status != 200:
            self.send_header("retry-after", "7")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = handle_any  # http.server's names

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    """(url of nginx, [the stub replicas]) for the module's tests."""
    folder = tmp_path_factory.mktemp("nginx")
    replicas = [ThreadingHTTPServer(("127.0.0.1", 0), Replica) for _ in range(2)]
    for replica in replicas:
        replica.seen = []
        threading.Thread(target=replica.serve_forever, daemon=True).start()
    port = free_port()
    conf = local_conf(folder, port, [r.server_address[1] for r in replicas])
    process = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(conf), "-g",
                                f"daemon off; error_log {folder}/error.log;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    yield url, replicas
    process.terminate()
    process.wait(timeout=10)
    for replica in replicas:
        replica.shutdown()


def learner(name: str) -> dict[str, str]:
    return {COOKIE: (name * 22)[:22]}


@needs_nginx
def test_a_flooding_learner_gets_nginxs_429_and_a_classmate_does_not(proxy):
    url, _ = proxy
    with httpx.Client(base_url=url, cookies=learner("a")) as flooder:
        answers = []
        deadline = time.monotonic() + 30  # at 100 requests/s allowed, 429 comes in seconds
        while time.monotonic() < deadline and (not answers or answers[-1].status_code == 200):
            answers.append(flooder.get("/api/options"))
    refused = answers[-1]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["detail"].startswith("rate limit")
    assert len(answers) > 300  # the burst went through first
    # the same address, another learner: a class behind one NAT is not one client
    with httpx.Client(base_url=url, cookies=learner("b")) as classmate:
        assert classmate.get("/api/options").status_code == 200


@needs_nginx
def test_the_apps_429_reaches_the_client_untouched(proxy):
    url, _ = proxy
    answer = httpx.get(f"{url}/api/refuse", cookies=learner("c"))
    assert answer.status_code == 429
    assert answer.json() == {"detail": "app: max_runs_per_client"}
    assert answer.headers["retry-after"] == "7"


@pytest.mark.parametrize(("method", "tries"), [("GET", 2), ("POST", 1)])
@needs_nginx
def test_only_idempotent_requests_go_to_the_next_replica(proxy, method, tries):
    url, replicas = proxy
    for replica in replicas:
        replica.seen.clear()
    answer = httpx.request(method, f"{url}/api/drop", cookies=learner("d"), content=b"{}")
    assert answer.status_code == 502
    assert answer.json()["detail"].startswith("proxy: no replica")
    assert answer.headers["retry-after"] == "1"  # the page waits it out and asks again
    seen = [entry for replica in replicas for entry in replica.seen]
    assert seen == [(method, "/api/drop")] * tries


@needs_nginx
def test_the_apps_busy_503s_pass_through_and_leave_every_replica_serving(proxy):
    """Each busy 503 reaches the client as the app wrote it, from one replica; twenty of them
    (max_fails is 3) leave both replicas in the round."""
    url, replicas = proxy
    for replica in replicas:
        replica.seen.clear()
    with httpx.Client(base_url=url, cookies=learner("e")) as client:
        for _ in range(20):
            answer = client.get("/api/busy")
            assert answer.status_code == 503 and answer.json() == {"detail": "server: busy"}
            assert answer.headers["retry-after"] == "7"
        assert [client.get("/api/options").status_code for _ in range(4)] == [200] * 4
    assert sum(len(replica.seen) for replica in replicas) == 24
    assert all(replica.seen for replica in replicas)


@needs_nginx
def test_a_body_over_the_proxys_limit_is_refused_as_json(proxy):
    url, _ = proxy
    answer = httpx.post(f"{url}/api/runs", cookies=learner("f"), content=b"x" * 2_000_000)
    assert answer.status_code == 413
    assert answer.json()["detail"].startswith("body: larger than the proxy limit")
