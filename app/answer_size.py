"""The size of a step answer, known from shapes before it is built, and a bound on how
many big answers a process builds at once.

One full-size step of the biggest runs is ~100 MB of JSON and takes ~300 MiB of memory
while it is built; a few such requests at once would get a small container killed. So a
request over the ceiling is refused before any array is touched, and big answers under it
take turns.
"""

import time
from contextlib import asynccontextmanager

import anyio
from fastapi import HTTPException

from app.bulk_share import BulkShare
from app.serialize import block_factors
from engine.batches import batch_size_at
from engine.records import BATCH_AXIS
from engine.run import Run


def shown_cells(shape: tuple[int, int], max_cells: int) -> int:
    """Cells of a tensor of this shape once block-averaged to at most max_cells."""
    (R, C), (fr, fc) = shape, block_factors(shape, max_cells)
    return -(-R // fr) * -(-C // fc)


def layer_shapes(dims: list[int], m: int, l: int, dropout: bool,
                 true_grads: bool = False) -> dict[str, list[tuple]]:
    """Shapes of layer l's tensors by field name; update is ΔW and Δb, D only with dropout;
    each gradient twice with true_grads (a bug run's grads and true_grads)."""
    n, n_prev = dims[l], dims[l - 1]
    batch, weights, bias = (n, m), (n, n_prev), (n, 1)
    copies = 2 if true_grads else 1
    return {"A_prev": [(n_prev, m)], "W": [weights], "b": [bias], "Z": [batch],
            "A": [batch], "D": [batch] if dropout else [], "dA": [batch] * copies,
            "dZ": [batch] * copies, "dW": [weights] * copies, "db": [bias] * copies,
            "update": [weights, bias]}


def named_shapes(dims: list[int], m: int, keep_prob: float, layers,
                 fields, true_grads: bool = False) -> list[tuple[str, tuple]]:
    """(field, shape) of every tensor in a step answer for this query (as engine.records
    builds it). dims: [n_x, n_1, ..., n_L]; m: the step's batch size; dropout acts on
    hidden layers; true_grads: the run's config names a bug."""
    L = len(dims) - 1
    wanted = set(fields) if fields is not None else None
    named = [(name, shape) for name, shape in (("X", (dims[0], m)), ("Y", (dims[L], m)))
             if wanted is None or name in wanted]
    for l in range(1, L + 1) if layers is None else layers:
        for name, group in layer_shapes(dims, m, l, keep_prob < 1 and l < L,
                                        true_grads).items():
            if wanted is None or name in wanted:
                named += [(name, shape) for shape in group]
    return named


def answer_shapes(dims: list[int], m: int, keep_prob: float, layers, fields,
                  true_grads: bool = False) -> list[tuple]:
    """Shape of every tensor in a step answer for this query (see named_shapes)."""
    return [shape for _, shape in named_shapes(dims, m, keep_prob, layers, fields, true_grads)]


def step_answer_shapes(run: Run, t: int, layers, fields,
                       example=None) -> tuple[list[tuple], list[tuple]]:
    """(shapes that max_cells block-averages, shapes served whole) of step t's answer:
    with an example, its columns (n, 1) are whole and the rest as usual."""
    true_grads = run.config.get("bug") is not None
    if example is None:
        m = batch_size_at(t, run.data.X_train.shape[1], run.config["batch_size"])
        return answer_shapes(run.dims, m, run.config["keep_prob"], layers, fields,
                             true_grads), []
    named = named_shapes(run.dims, 1, run.config["keep_prob"], layers, fields, true_grads)
    return ([shape for name, shape in named if name not in BATCH_AXIS],
            [shape for name, shape in named if name in BATCH_AXIS])


def check_ceiling(shapes: list[tuple], max_cells: int, ceiling: int, whole=()) -> int:
    """The answer's cells: shapes block-averaged to max_cells, and those in `whole` at full
    size. A 422 naming max_cells, layers and fields beyond the ceiling."""
    fixed = sum(rows * cols for rows, cols in whole)
    cells = fixed + sum(shown_cells(shape, max_cells) for shape in shapes)
    if cells <= ceiling:
        return cells
    fit = (ceiling - fixed) // max(len(shapes), 1)
    hint = f"; max_cells={fit} fits" if fit >= 1 else ""
    raise HTTPException(422, f"max_cells, layers, fields: this answer would hold {cells} "
                             f"cells, over this server's ceiling of {ceiling} cells an "
                             "answer; ask for fewer layers (layers=1,3), fewer tensors "
                             f"(fields=Z,dW) or smaller ones (max_cells=N){hint}")


class BigAnswerSlots:
    """At most `slots` big answers built at once in this process; more wait up to
    wait_seconds for a turn, then answer 503 with Retry-After. With `bulk`, a big answer
    is bulk work (app.bulk_share): while the process answers requests, its turn starts
    once the bulk work before it is paid for, and its CPU is charged.

    The count is only touched on the event loop, with no await between the test and the
    decrement, so it needs no lock; waiting polls.
    """

    def __init__(self, slots: int, wait_seconds: float, bulk: BulkShare | None = None):
        self.free, self.wait_seconds, self.bulk = slots, wait_seconds, bulk

    async def build(self, make, *args):
        """make(*args) on a worker thread, in turn."""
        async with self.turn():
            if self.bulk is None:
                return await anyio.to_thread.run_sync(make, *args)
            due = self.bulk.due()
            await anyio.sleep(due)
            self.bulk.waited(due)
            return await anyio.to_thread.run_sync(self._charged, make, *args)

    def _charged(self, make, *args):
        start = time.thread_time()
        try:
            return make(*args)
        finally:
            self.bulk.charge(time.thread_time() - start)

    @asynccontextmanager
    async def turn(self):
        deadline, pause = time.monotonic() + self.wait_seconds, 0.005
        while self.free <= 0:
            if time.monotonic() >= deadline:
                raise HTTPException(503, "server: busy building other large answers; try "
                                         "again shortly", headers={"retry-after": "1"})
            await anyio.sleep(pause)
            pause = min(pause * 2, 0.1)
        self.free -= 1
        try:
            yield
        finally:
            self.free += 1
