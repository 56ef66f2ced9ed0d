"""Admission through the HTTP API (app.admission): the client cookie, the per-client and
per-address caps (429 with Retry-After), cross-site requests, retraining an evicted run,
cancellation of runs nobody asks about, and the queue position in the run info."""

import time
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient

import app.events
import app.run_cache
from app.admission import COOKIE, TOKEN, Admission, AdmissionError, Client
from app.config_limits import check_config
from app.lessons import built_in_lessons
from app.run_ids import canonical_json, encode_run_id
from app.settings import Settings
from engine.config import CHOICES, normalize_config
from tests.conftest import strict_json


class HeldRun:
    """Stands in for engine.run.Run: a run of more than QUICK_STEPS steps trains until it
    is stopped (it stays in flight), a shorter one is done at once."""

    QUICK_STEPS = 10
    built: ClassVar[list] = []

    def __init__(self, config):
        self.config, self.status, self.num_steps, self.diverged = config, "pending", 0, None
        self.ended, self.waiting = False, []  # Run.when_trained's
        type(self).built.append(self)

    def train(self, should_stop=None):
        self.status = "running"
        if self.config["steps"] > self.QUICK_STEPS:
            while not should_stop():
                time.sleep(0.002)
            self.status = "stopped"
        else:
            self.num_steps, self.status = self.config["steps"], "done"
        self.ended = True
        for callback in self.waiting:
            callback()
        return self

    def when_trained(self, callback):
        if self.ended:
            callback()
        else:
            self.waiting.append(callback)

    def nbytes(self):
        return 100

    def peak_nbytes(self):
        return 100


def heavy(seed=0):
    return {"dataset": "digits", "hidden_layers": [64], "steps": 500, "seed": seed}


def quick(seed=0):
    return {"dataset": "moons", "steps": 5, "seed": seed}


def run_id(config):
    return encode_run_id(check_config(config, Settings()))


def key(config):
    return canonical_json(check_config(config, Settings()))


@pytest.fixture
def held(monkeypatch, make_client):
    """make_client for an app whose runs are HeldRuns; POSTs answer at once."""
    monkeypatch.setattr(app.run_cache, "Run", HeldRun)
    HeldRun.built = []

    def make(**settings):
        return make_client(**{"sync_seconds": 0, **settings})

    return make


def another(client, address="testclient"):
    """A second browser (its own cookie jar) on the same app, from `address`."""
    other = TestClient(client.app, client=(address, 50000))
    other.get("/healthz")  # takes its cookie
    return other


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


# -- the client cookie ------------------------------------------------------------------

def test_an_answer_gives_a_client_without_a_token_a_random_http_only_one(held):
    client = held()
    first = client.get("/healthz")
    cookie = first.headers["set-cookie"]
    token = cookie.split(";")[0].removeprefix(f"{COOKIE}=")
    assert TOKEN.fullmatch(token)
    assert {"HttpOnly", "SameSite=Lax", "Path=/"} <= {p.strip() for p in cookie.split(";")}
    assert "set-cookie" not in client.get("/healthz").headers  # it holds one now
    assert another(client).cookies[COOKIE] != token


def test_a_malformed_token_is_replaced(held):
    client = held()
    client.cookies.set(COOKIE, "not-a-token")
    answer = client.get("/healthz")
    assert answer.headers["set-cookie"].startswith(f"{COOKIE}=")


# -- the caps -----------------------------------------------------------------------------

# every way a run can be asked to train: a POST, or a GET of an id this process lacks
ROUTES = ["POST", "", "/summary", "/events", "/steps/0", "/steps/0/gradcheck",
          "/steps/0/boundary", "/histograms"]


def ask(client, route, config):
    if route == "POST":
        return client.post("/api/runs", json=config)
    return client.get(f"/api/runs/{run_id(config)}{route}")


@pytest.mark.parametrize("route", ROUTES)
def test_beyond_the_client_cap_a_run_to_train_answers_429(held, route):
    client = held(max_runs_per_client=2)
    client.get("/healthz")
    for seed in (1, 2):
        assert client.post("/api/runs", json=heavy(seed)).status_code == 202
    refused = ask(client, route, heavy(3))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    detail = refused.json()["detail"]
    assert detail.startswith("max_runs_per_client: this client already has 2 runs queued "
                             "or training") and "(max_runs_per_client = 2)" in detail
    assert key(heavy(3)) not in client.app.state.run_cache  # nothing was queued
    assert client.app.state.run_cache.admission.refused["max_runs_per_client"] == 1


def test_a_client_without_the_cookie_is_told_that_its_address_is_the_client(held):
    """A script without cookies shares one client's cap with every other at its address:
    the refusal says so (it said "this client", which a script could not place)."""
    client = held(max_runs_per_client=2)
    for seed in (1, 2):
        client.cookies.clear()
        assert client.post("/api/runs", json=heavy(seed)).status_code == 202
    client.cookies.clear()
    refused = client.post("/api/runs", json=heavy(3))
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith(
        "max_runs_per_client: this client (without a bpl_client cookie, its address) already "
        "has 2 runs queued or training")


def test_runs_held_already_are_served_beyond_the_cap(held):
    client = held(max_runs_per_client=1)
    client.get("/healthz")
    info = client.post("/api/runs", json=heavy()).json()
    again = another(client).get(f"/api/runs/{info['id']}")  # not new work: no admission
    assert again.status_code == 200 and again.json()["status"] == "running"
    assert client.post("/api/runs", json=heavy()).status_code == 202


def test_each_cookie_is_a_client_and_the_address_a_coarse_ceiling(held):
    first = held(max_runs_per_client=1, max_runs_per_address=2)
    first.get("/healthz")
    second, third = another(first), another(first)
    elsewhere = another(first, address="10.0.0.9")
    assert first.post("/api/runs", json=heavy(1)).status_code == 202
    assert first.post("/api/runs", json=heavy(2)).status_code == 429
    assert second.post("/api/runs", json=heavy(2)).status_code == 202  # same address
    refused = third.post("/api/runs", json=heavy(3))
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("max_runs_per_address: this address already "
                                               "has 2 runs")
    assert elsewhere.post("/api/runs", json=heavy(3)).status_code == 202


def test_without_a_cookie_the_address_is_the_client(held):
    client = held(max_runs_per_client=1)
    answers = []
    for seed in (1, 2):
        client.cookies.clear()
        answers.append(client.post("/api/runs", json=heavy(seed)))
    assert [a.status_code for a in answers] == [202, 429]
    assert answers[1].json()["detail"].startswith("max_runs_per_client: this client")


def test_a_get_that_would_retrain_an_evicted_run_is_admitted(held):
    client = held(max_runs_per_client=1, cache_bytes=0)
    client.get("/healthz")
    evicted = client.post("/api/runs", json=quick(1)).json()
    wait_for(lambda: client.get(f"/api/runs/{evicted['id']}").json()["status"] == "done")
    newest = client.post("/api/runs", json=quick(2)).json()  # the older finished one goes
    wait_for(lambda: client.get(f"/api/runs/{newest['id']}").json()["status"] == "done")
    assert key(quick(1)) not in client.app.state.run_cache
    assert client.post("/api/runs", json=heavy()).status_code == 202  # the one in flight
    refused = client.get(f"/api/runs/{evicted['id']}")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("max_runs_per_client")


# -- cross-site requests ------------------------------------------------------------------

CROSS_SITE = {"sec-fetch-site": "cross-site"}


@pytest.mark.parametrize("route", ROUTES)
def test_a_cross_site_request_does_not_start_training(held, route):
    client = held()
    client.headers.update(CROSS_SITE)
    refused = ask(client, route, heavy())
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("Sec-Fetch-Site: cross-site: another site's "
                                               "page cannot start training")
    assert HeldRun.built == [] and len(client.app.state.run_cache) == 0
    assert client.app.state.run_cache.admission.refused["cross_site"] == 1


def test_a_cross_site_request_reads_a_run_held_already(held):
    client = held(sync_seconds=5)
    info = client.post("/api/runs", json=quick()).json()
    assert info["status"] == "done"
    for site in ("cross-site", "same-origin", "none"):
        answer = client.get(f"/api/runs/{info['id']}", headers={"sec-fetch-site": site})
        assert answer.status_code == 200 and answer.json() == info


def test_cross_site_requests_do_not_keep_a_run_from_being_cancelled(held):
    client = held(idle_cancel_seconds=1.0)
    info = client.post("/api/runs", json=heavy()).json()
    deadline = time.monotonic() + 10
    # another site's page asks every 10 ms: served while held, refused once cancelled
    while (asked := client.get(f"/api/runs/{info['id']}", headers=CROSS_SITE)).status_code \
            == 200:
        assert time.monotonic() < deadline, "still held: cross-site requests kept it"
        time.sleep(0.01)
    assert asked.status_code == 403
    assert client.app.state.run_cache.counts()["cancelled"] == 1


# -- cancellation -------------------------------------------------------------------------

def test_a_run_nobody_asks_about_is_cancelled_and_a_later_request_queues_it(held):
    client = held(idle_cancel_seconds=0.1)
    info = client.post("/api/runs", json=heavy()).json()
    run_cache = client.app.state.run_cache
    wait_for(lambda: run_cache.counts()["cancelled"] == 1)
    wait_for(lambda: key(heavy()) not in run_cache)
    assert HeldRun.built[0].status == "stopped"
    again = client.get(f"/api/runs/{info['id']}")
    assert again.status_code == 200 and again.json()["status"] == "running"
    assert len(HeldRun.built) == 2 and key(heavy()) in run_cache
    wait_for(lambda: HeldRun.built[1].status != "pending")  # queued again, and trains


# -- the queue position and the counters --------------------------------------------------

def test_a_waiting_run_tells_its_queue_position_until_it_trains(held):
    first = held(train_threads=1)
    first.get("/healthz")
    second, third = another(first), another(first)
    busy = first.post("/api/runs", json=heavy(1)).json()
    wait_for(lambda: HeldRun.built[0].status == "running")
    assert first.get(f"/api/runs/{busy['id']}").json()["queue_position"] is None
    waiting = [c.post("/api/runs", json=heavy(seed)).json()
               for c, seed in ((second, 2), (third, 3))]
    assert [w["queue_position"] for w in waiting] == [0, 1]
    assert third.get(f"/api/runs/{waiting[1]['id']}").json()["queue_position"] == 1
    assert first.app.state.run_cache.counts() == {"queued": 2, "training": 1, "cached": 0,
                                             "cancelled": 0, "dropped": 0}


def test_the_event_stream_carries_the_queue_position(held, monkeypatch):
    monkeypatch.setattr(app.events, "EVENT_INTERVAL", 0.005)
    client = held(train_threads=1, fast_lane_flops=0, idle_cancel_seconds=0.5)
    client.post("/api/runs", json=heavy())  # trains until cancelled: nobody asks about it
    wait_for(lambda: HeldRun.built[0].status == "running")
    waiting = another(client).post("/api/runs", json=quick()).json()
    assert waiting["queue_position"] == 0
    text = client.get(f"/api/runs/{waiting['id']}/events").text  # asks every 5 ms
    events = [block.split("\n") for block in text.strip().split("\n\n")]
    events = [(lines[0].removeprefix("event: "), strict_json(lines[1].removeprefix("data: ")))
              for lines in events if lines[0].startswith("event: ")]
    assert (events[0][0], events[0][1]["queue_position"]) == ("progress", 0)
    assert (events[-1][0], events[-1][1]["queue_position"]) == ("done", None)
    assert HeldRun.built[0].status == "stopped"


def test_the_run_info_of_a_finished_run_has_no_queue_position(client, small_run):
    info = strict_json(client.get(f"/api/runs/{small_run['id']}").text)
    assert info["queue_position"] is None and info["status"] == "done"


# -- the real engine ----------------------------------------------------------------------

def test_a_small_run_finishes_while_eight_heavy_ones_from_other_clients_train(make_client):
    client = make_client(sync_seconds=0)
    others = [another(client, address=f"10.0.0.{n}") for n in range(8)]
    big = {"dataset": "digits", "hidden_layers": [128, 128, 128], "steps": 2000}
    ids = [c.post("/api/runs", json={**big, "seed": n}).json()["id"]
           for n, c in enumerate(others)]
    small = client.post("/api/runs", json={"dataset": "moons", "steps": 100}).json()
    deadline = time.monotonic() + 30
    while (info := client.get(f"/api/runs/{small['id']}").json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert info["status"] == "done"
    heavy_info = [client.get(f"/api/runs/{i}").json() for i in ids]
    assert all(h["status"] == "running" for h in heavy_info)  # the small one came first


# -- the rule alone: which left runs make room (Admission.room_for) ----------------------

def job(name, address, asked, streamed=None):
    """A job of client `name` at `address`, last asked about by a request at `asked`
    (seconds), and by its event stream at `streamed` if later."""
    from types import SimpleNamespace
    run = SimpleNamespace(config={"steps": 10}, num_steps=0)  # for the 429's Retry-After
    return SimpleNamespace(client=Client(f"{name:_<22}", address), requested=asked,
                           asked=max(asked, streamed or asked), run=run)


NOW = 100.0
# (jobs in flight, the newcomer, the jobs it cancels: None for a 429 and its reason)
ROOM = {
    "a left run of another client at the address gives way": (
        [job("a", "X", NOW - 10), job("b", "X", NOW - 1)], ("c", "X"), [0]),
    "the least recently asked of them": (
        [job("a", "X", NOW - 6), job("b", "X", NOW - 30)], ("c", "X"), [1]),
    "runs that are watched do not": (
        [job("a", "X", NOW - 1), job("b", "X", NOW - 2)], ("c", "X"), "max_runs_per_address"),
    # an idle event stream costs nothing a second: it keeps its run training, but holds
    # no place at the cap (64 of them had locked an address out for hours)
    "a run only an event stream asks about gives way": (
        [job("a", "X", NOW - 30, streamed=NOW - 0.1), job("b", "X", NOW - 1)], ("c", "X"), [0]),
    "nor left runs at another address": (
        [job("a", "X", NOW - 1), job("b", "X", NOW - 2), job("d", "Y", NOW - 60)], ("c", "X"),
        "max_runs_per_address"),
    "the client's own left run makes room under both caps": (
        [job("c", "X", NOW - 9), job("b", "X", NOW - 30)], ("c", "X"), [0]),
    "under its own cap only its own left runs count": (
        [job("c", "X", NOW - 1), job("b", "X", NOW - 30)], ("c", "X"), "max_runs_per_client"),
}


@pytest.mark.parametrize(("jobs", "newcomer", "cancels"), ROOM.values(), ids=list(ROOM))
def test_room_under_the_caps_is_made_by_left_runs(jobs, newcomer, cancels):
    """Tokens are free to invent: runs nobody watches (none asked about for LEFT_SECONDS)
    must not lock the rest of a classroom behind one NAT out of training."""
    rules = Admission(per_client=1, per_address=2, cost=lambda config: 1e9)
    name, address = newcomer
    who = Client(f"{name:_<22}", address)
    if isinstance(cancels, str):
        with pytest.raises(AdmissionError) as refused:
            rules.room_for(who, jobs, NOW)
        assert refused.value.reason == cancels
    else:
        assert rules.room_for(who, jobs, NOW) == [jobs[k] for k in cancels]


def test_a_clients_left_run_at_this_address_makes_room_under_both_caps():
    """Its own left run elsewhere would make room under its cap only, and one more of the
    address's would have to go too."""
    rules = Admission(per_client=2, per_address=2, cost=lambda config: 1e9)
    jobs = [job("c", "Y", NOW - 30), job("c", "X", NOW - 10), job("b", "X", NOW - 60)]
    assert rules.room_for(Client(f"{'c':_<22}", "X"), jobs, NOW) == [jobs[1]]


def test_the_refusal_names_the_cap_that_still_fails():
    """The client's cap is made room under (its own left run); the address's is not."""
    rules = Admission(per_client=1, per_address=1, cost=lambda config: 1e9)
    jobs = [job("c", "Y", NOW - 30), job("b", "X", NOW - 1)]
    with pytest.raises(AdmissionError) as refused:
        rules.room_for(Client(f"{'c':_<22}", "X"), jobs, NOW)
    assert refused.value.reason == "max_runs_per_address"


def test_every_datasets_default_run_and_every_lesson_takes_the_fast_lane():
    """digits' default run (2.4e9 flops) was heavy under a 2e9 fast lane: two idle event
    streams of long runs from one address held both threads, and a learner's first digits
    run waited 46 to 121 s."""
    admission = Admission.from_settings(Settings())
    defaults = [normalize_config({"dataset": name}) for name in CHOICES["dataset"]]
    lessons = [normalize_config(lesson["config"]) for lesson in built_in_lessons()]
    slow = [c["dataset"] for c in defaults + lessons if not admission.is_fast(c)]
    assert not slow
