"""app.answer_size: a step answer's cells are known from shapes, exactly, before it is
built; beyond the ceiling the route refuses it without building it; big ones take turns."""

from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest
from fastapi import HTTPException

from app.answer_size import BigAnswerSlots, answer_shapes, check_ceiling, step_answer_shapes
from app.bulk_share import BulkShare
from app.routes import steps as steps_routes
from app.serialize import with_tensors
from app.settings import Settings
from engine.boundary import MAX_RESOLUTION
from engine.config import normalize_config
from engine.records import BATCH_AXIS
from engine.run import Run
from tests.test_api import wait_done

CONFIGS = {
    "moons full batch": {"dataset": "moons", "n_samples": 120, "hidden_layers": [5, 4],
                         "steps": 6},
    "spiral mini-batch, last batch short": {
        "dataset": "spiral", "n_samples": 150, "hidden_layers": [6], "batch_size": 32,
        "activations": ["tanh", "softmax"], "steps": 6},
    "sine dropout": {"dataset": "sine", "n_samples": 80, "hidden_layers": [7, 5],
                     "activations": ["tanh", "tanh", "linear"], "keep_prob": 0.8,
                     "steps": 6},
    "iris, no hidden layer": {"dataset": "iris", "hidden_layers": [], "steps": 6,
                              "activations": ["softmax"]},
    # a bug run's answer holds true_grads beside grads
    "moons with a bug": {"dataset": "moons", "n_samples": 120, "hidden_layers": [5, 4],
                         "batch_size": 32, "steps": 6, "bug": "missing_1_over_m"},
}
QUERIES = [  # (layers, fields, max_cells per tensor)
    (None, None, 2**18), (None, None, 7), ([1], None, 2**18), (None, ["W", "dW"], 2**18),
    (None, ["X"], 2**18), (None, ["Y", "A", "D"], 5), ([1], ["A_prev", "update"], 3),
    (None, ["D"], 2**18),
]


def served_cells(obj) -> int:
    """Cells of every tensor in a (tensor-converted) record, counting each occurrence."""
    if isinstance(obj, dict) and "shape" in obj and "data" in obj:
        assert obj["shape"] == list(obj["data"].shape)
        return obj["data"].size
    if isinstance(obj, dict):
        return sum(served_cells(v) for v in obj.values())
    if isinstance(obj, list):
        return sum(served_cells(v) for v in obj if isinstance(v, dict | list))
    return 0


@pytest.fixture(scope="module", params=list(CONFIGS))
def run(request):
    return Run(normalize_config(CONFIGS[request.param])).train()


@pytest.mark.parametrize(("layers", "fields", "max_cells"), QUERIES)
def test_counted_cells_are_the_served_cells(run, layers, fields, max_cells):
    layers = None if layers is None else [l for l in layers if l <= run.L]
    for t in (0, 4, 5):  # step 4 of the spiral run is an epoch's short last batch
        record = with_tensors(run.step_record(t, layers, fields), max_cells)
        shapes, _ = step_answer_shapes(run, t, layers, fields)
        assert check_ceiling(shapes, max_cells, 10**9) == served_cells(record)


@pytest.mark.parametrize(("layers", "fields", "max_cells"), QUERIES)
def test_one_examples_cells_are_counted_whole(run, layers, fields, max_cells):
    """example=i: its columns are served at full size, the rest block-averaged."""
    layers = None if layers is None else [l for l in layers if l <= run.L]
    for t in (0, 4, 5):
        example = int(run.replay(t).forward.indices[-1]) if run.config["batch_size"] else 3
        record = with_tensors(run.step_record(t, layers, fields, example), max_cells, BATCH_AXIS)
        shapes, whole = step_answer_shapes(run, t, layers, fields, example)
        assert all(cols == 1 for _, cols in whole)
        assert check_ceiling(shapes, max_cells, 10**9, whole) == served_cells(record)


PARAMS = ["W", "b", "dW", "db", "update"]
EXAMPLE = ["X", "Z", "A", "D", "dA", "dZ"]


def the_pages_requests(m, L):
    """(layers, fields, max_cells, examples) of what static/js/step_frame.js asks for one
    frame: the parameters (alone, or with one example's column, example=i: 1 column), the
    selected layer's activations at 2048 cells (L's are the widest), and the output."""
    full = 2**18
    return [(None, PARAMS, full, m), (None, EXAMPLE + PARAMS, full, 1),
            ([L], ["A_prev", "Z", "A", "D", "dA", "dZ"], 2048, m), ([L], ["A", "X", "Y"], full, m)]


@pytest.mark.parametrize(("dims", "m"), [
    ([2, *[128] * 6, 1], 2000),  # 2,000 moons, test_fraction 0: the biggest batch
    ([64, *[128] * 6, 10], 1438),  # digits
    ([30, *[128] * 6, 1], 569),  # breast_cancer
])
def test_every_request_of_the_page_fits_the_default_ceiling(dims, m):
    ceiling = Settings().max_answer_cells
    for layers, fields, cells, columns in the_pages_requests(m, len(dims) - 1):
        check_ceiling(answer_shapes(dims, columns, 0.5, layers, fields), cells, ceiling)
    whole = answer_shapes(dims, m, 0.5, None, None)
    with pytest.raises(HTTPException):
        check_ceiling(whole, 2**18, ceiling)
    # the boundary at the route's largest resolution: a class and a probability a point
    assert ceiling >= 2 * MAX_RESOLUTION**2


# the case: one full-size step of this is 96-122 MB of JSON
BIG = {"dataset": "moons", "n_samples": 2000, "hidden_layers": [128] * 6, "steps": 5}


@pytest.fixture(scope="module")
def big_run(client):
    info = client.post("/api/runs", json=BIG).json()
    # five steps train within the POST's wait on a quiet machine, not always on a busy one
    info = wait_done(client, info["id"], seconds=120)
    assert info["status"] == "done"
    return info


def test_an_answer_over_the_ceiling_is_refused_unbuilt(client, big_run, monkeypatch):
    def refuse(*args):
        raise AssertionError("the answer was built")

    monkeypatch.setattr(steps_routes, "step_json", refuse)
    response = client.get(f"/api/runs/{big_run['id']}/steps/4")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("max_cells, layers, fields: this answer would hold ")
    # every tensor at full size: 6 hidden layers of 128 and 1,600 training examples
    shapes = answer_shapes([2, *[128] * 6, 1], 1600, 1.0, None, None)
    cells = sum(rows * cols for rows, cols in shapes)
    assert cells > 6_000_000
    assert f"would hold {cells} cells, over this server's ceiling of 2097152 cells" in detail
    for word in ("layers=", "fields=", "max_cells="):
        assert word in detail


@pytest.mark.parametrize("query", [
    "?fields=W,b,dW,db,update", "?layers=3&fields=A_prev,Z,A,D,dA,dZ&max_cells=2048",
    "?layers=7&fields=A,X,Y", "?layers=1,2", "?max_cells=24000",
])
def test_a_narrowed_request_is_served(client, big_run, query):
    response = client.get(f"/api/runs/{big_run['id']}/steps/4{query}")
    assert response.status_code == 200
    assert response.json()["step"] == 4


def test_the_ceiling_is_a_setting(make_client):
    small = make_client(max_answer_cells=100)
    run_id = small.post("/api/runs", json={"dataset": "moons", "n_samples": 100,
                                           "hidden_layers": [4], "steps": 3}).json()["id"]
    assert small.get(f"/api/runs/{run_id}/steps/1").status_code == 422
    assert small.get(f"/api/runs/{run_id}/steps/1?fields=W").status_code == 200
    assert small.get(f"/api/runs/{run_id}/steps/1?max_cells=4").status_code == 200


def test_big_answers_beyond_the_slots_answer_503(make_client):
    busy = make_client(big_answer_cells=10, big_answers_at_once=1,
                       big_answer_wait_seconds=0.05)
    run_id = busy.post("/api/runs", json={"dataset": "moons", "n_samples": 100,
                                          "hidden_layers": [4], "steps": 3}).json()["id"]
    busy.app.state.big_answers.free = 0  # another big answer is being built
    response = busy.get(f"/api/runs/{run_id}/steps/1")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["detail"].startswith("server: busy")
    assert busy.get(f"/api/runs/{run_id}/steps/1?fields=b").status_code == 200  # small
    busy.app.state.big_answers.free = 1
    assert busy.get(f"/api/runs/{run_id}/steps/1").status_code == 200


@pytest.mark.parametrize("query", ["?steps=1,2", ""])
def test_histograms_replays_take_turns_with_the_big_answers(make_client, query):
    """Each replayed step holds a big step's tensors: 16 requests at once for the biggest
    run's steps took one worker from 0.7 to 1.3 GB. They take turns, and are kept."""
    busy = make_client(big_answers_at_once=1, big_answer_wait_seconds=0.05)
    run_id = busy.post("/api/runs", json={"dataset": "moons", "n_samples": 100,
                                          "hidden_layers": [4], "steps": 3}).json()["id"]
    busy.app.state.big_answers.free = 0  # another big answer is being built
    response = busy.get(f"/api/runs/{run_id}/histograms{query}")
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    busy.app.state.big_answers.free = 1
    answer = busy.get(f"/api/runs/{run_id}/histograms{query}")
    assert answer.status_code == 200
    busy.app.state.big_answers.free = 0
    assert busy.get(f"/api/runs/{run_id}/histograms{query}").json() == answer.json()


def test_an_answer_of_13_to_16_digits_counts_as_bigger(make_client):
    """digits=16 builds a cell 3 to 6 times as slowly as digits=6: such an answer takes its
    turn among the big ones at an eighth of the cells, so that a client cannot keep the
    workers busy with many mid-sized ones."""
    busy = make_client(big_answer_cells=1000, big_answers_at_once=1,
                       big_answer_wait_seconds=0.05)
    run_id = busy.post("/api/runs", json={"dataset": "moons", "n_samples": 100,
                                          "hidden_layers": [4], "steps": 3}).json()["id"]
    busy.app.state.big_answers.free = 0  # another big answer is being built
    url = f"/api/runs/{run_id}/steps/1?fields=Z"  # 5 x 80 cells
    assert busy.get(f"{url}&digits=6").status_code == 200
    assert busy.get(f"{url}&digits=12").status_code == 200
    for digits in (13, 16):
        assert busy.get(f"{url}&digits={digits}").status_code == 503
    assert busy.get(f"{url}&digits=17").status_code == 200  # the values themselves
    busy.app.state.big_answers.free = 1
    assert busy.get(f"{url}&digits=16").status_code == 200


def test_slots_let_a_waiting_answer_through_once_one_is_free():
    slots = BigAnswerSlots(1, wait_seconds=5)
    order = []

    async def build(name, seconds):
        async with slots.turn():
            order.append(f"{name} starts")
            await anyio.sleep(seconds)
            order.append(f"{name} ends")

    async def main():
        async with anyio.create_task_group() as group:
            group.start_soon(build, "first", 0.05)
            await anyio.sleep(0.01)
            group.start_soon(build, "second", 0)

    # on a thread of its own: a browser test's Playwright (sync API) may have left an event
    # loop running on this worker's main thread, and anyio.run refuses to nest
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, main).result()
    assert order == ["first starts", "first ends", "second starts", "second ends"]
    assert slots.free == 1


def test_a_big_answer_waits_for_the_bulk_work_before_it_and_is_charged():
    clock = [0.0]
    bulk = BulkShare(1.0, serving=type("Busy", (), {"share": lambda self: 1.0})(),
                     clock=lambda: clock[0])
    bulk.charge(0.05)  # a heavy step just took 50 ms of CPU: the next piece waits 50 ms
    slots = BigAnswerSlots(1, wait_seconds=5, bulk=bulk)

    def make(n):
        total = 0
        for k in range(200_000):  # some CPU to charge
            total += k % n
        return total

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(anyio.run, slots.build, make, 7).result() == make(7)
    assert bulk.paused == pytest.approx(0.05)
    assert bulk.due() > 0.05  # its own CPU time, on top of the unpaid 50 ms
    assert slots.free == 1
