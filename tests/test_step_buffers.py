"""engine.step_buffers: the buffers a run's training steps write into (a row of tensors each,
laid out by RowLayout, a group of rows taken in turns, and a row of its own for an epoch's
narrower last batch), their outputs and the θ rows; a run allocates them for its training
and drops them after (engine.run)."""

import itertools

import numpy as np
import pytest

from engine import step_buffers
from engine.config import normalize_config
from engine.layout import ParamLayout
from engine.run import Run
from engine.step_buffers import RowLayout, StepBuffers, group_size

LAYOUT = ParamLayout([3, 5, 4, 2])


def _steps(buffers, count, theta):
    """Slots of `count` consecutive steps, each writing θ_{t+1} = θ_t + 1 as a step would."""
    slots = []
    for k in range(count):
        slot = buffers.slot(k % buffers.chunk, theta)
        theta = np.add(slot.theta, 1.0, out=slot.buffers.theta)
        slots.append(slot)
    return slots


def _assert_writes_into(slot, row, m):
    """slot's Z, A, dZ and dA are views of row, shaped for batches of m; a hidden A has its
    ones row below."""
    for l, (Z, A) in enumerate(slot.buffers.out, start=1):
        n = LAYOUT.dims[l]
        assert np.shares_memory(Z, row) and Z.shape == (n, m)
        assert np.shares_memory(A, row) and A.shape == (n + (l < LAYOUT.L), m)
        assert Z.flags.c_contiguous and A.flags.c_contiguous  # as BLAS writes them
        if l < LAYOUT.L:
            assert np.all(A[-1] == 1.0)  # the ones, as fast_step.forward takes A
    grads = slot.buffers.grads
    assert [dZ.shape for dZ in grads.dZ] == [(n, m) for n in LAYOUT.dims[1:]]
    assert all(np.shares_memory(dZ, row) for dZ in grads.dZ)
    assert all(np.shares_memory(dA, row) for dA in grads.dA[:-1])
    assert grads.dA[-1] is None  # dA[L] is fused with the loss: not computed


@pytest.mark.parametrize("keep_thetas", [True, False])
def test_a_slot_writes_into_its_groups_row(keep_thetas, monkeypatch):
    """Slot k's Z, A, dZ and dA are in row k % group, its dθ in θ row k (or k % 2); the
    views of θ_t and θ_{t+1} are of their rows."""
    row_bytes = 8 * RowLayout(LAYOUT.dims, 6, False).size
    monkeypatch.setattr(step_buffers, "GROUP_BYTES", 3 * row_bytes)
    buffers = StepBuffers(LAYOUT, 7, (6,), keep_thetas, output_dA=False)
    assert buffers.group == 3 and buffers.rows.shape == (3, buffers.row_layout.size)
    assert buffers.last_row is None
    for k, slot in enumerate(_steps(buffers, 7, np.zeros(LAYOUT.size))):
        _assert_writes_into(slot, buffers.rows[k % 3], 6)
        g = slot.buffers.g
        assert np.shares_memory(g, buffers.vectors[k if keep_thetas else k % 2])
        assert all(np.shares_memory(view, g) for view in slot.buffers.grads.params.values())
        for theta, params in ((slot.theta, slot.params),
                              (slot.buffers.theta, slot.buffers.params)):
            assert all(np.shares_memory(view, theta) for view in params.values())


def test_an_epochs_narrower_last_batch_writes_its_own_row():
    """widths (6, 4): a last batch of 4 writes the last row, laid out for 4, and takes the
    θ rows of its place in the chunk as the others do."""
    buffers = StepBuffers(LAYOUT, 5, (6, 4), True, output_dA=False)
    assert buffers.last_layout.m == 4 and buffers.last_row.shape == (1, buffers.last_layout.size)
    theta = np.zeros(LAYOUT.size)
    for k in range(5):
        slot = buffers.slot(k, theta, last=k == 3)
        if k == 3:
            _assert_writes_into(slot, buffers.last_row, 4)
            assert not np.shares_memory(slot.buffers.out[0][0], buffers.rows)
        else:
            _assert_writes_into(slot, buffers.rows[k % buffers.group], 6)
        assert np.shares_memory(slot.theta, buffers.vectors[k, 0]) and np.all(slot.theta == k)
        theta = np.add(slot.theta, 1.0, out=slot.buffers.theta)


@pytest.mark.parametrize(("chunk", "row_size", "group"), [
    (32, 1000, 32), (32, 2**20 // 8 // 5, 5), (32, 2**20, 1), (4, 10, 4),
])
def test_a_group_is_what_fits_group_bytes(chunk, row_size, group):
    assert group_size(chunk, row_size) == group


@pytest.mark.parametrize("output_dA", [True, False])
def test_the_tensors_of_a_row_do_not_overlap(output_dA):
    """Every tensor of a step has its own segment of the row, in RowLayout's order, and the
    segments fill the row."""
    layout = RowLayout(LAYOUT.dims, 6, output_dA)
    ends = np.append(layout.starts[1:], layout.size)
    sizes = dict(zip(layout.segment, ends - layout.starts, strict=True))
    L = LAYOUT.L
    expected = {**{("Z", l): n * 6 for l, n in enumerate(LAYOUT.dims[1:], 1)},
                **{("A", l): n * 6 for l, n in enumerate(LAYOUT.dims[1:], 1)},
                **{("ones", l): 6 for l in range(1, L)},
                **{("dZ", l): n * 6 for l, n in enumerate(LAYOUT.dims[1:], 1)},
                **{("dA", l): n * 6 for l, n in enumerate(LAYOUT.dims[1:], 1)
                   if l < L or output_dA}}
    assert sizes == expected
    # every Z first, then each A above its ones, then each layer's dZ and dA
    assert list(layout.segment) == [
        *[("Z", l) for l in (1, 2, 3)], ("A", 1), ("ones", 1), ("A", 2), ("ones", 2), ("A", 3),
        ("dZ", 1), ("dA", 1), ("dZ", 2), ("dA", 2), ("dZ", 3), *[("dA", 3)] * output_dA]
    assert layout.a_end == layout.start("dZ", 1)


def test_the_theta_rows_hold_a_chunks_steps_in_order():
    """θ row k is step k's θ_t and row k + 1 its θ_{t+1}: the StepVectors of a chunk are
    views of the rows. The chunk's first θ_t is copied in; the others are there already."""
    buffers = StepBuffers(LAYOUT, 4, (6,), True, output_dA=True)
    first = np.full(LAYOUT.size, 7.0)
    slots = _steps(buffers, 4, first)
    assert slots[0].theta is not first and np.all(slots[0].theta == 7.0)
    assert all(np.shares_memory(slot.theta, buffers.vectors[k, 0])
               for k, slot in enumerate(slots))
    # step k's θ_t is the very array step k - 1 wrote θ_{t+1} into: nothing to copy
    assert all(later.theta is now.buffers.theta and later.params is now.buffers.params
               for now, later in itertools.pairwise(slots))
    vectors = buffers.vectors_of(3)
    assert vectors.thetas[:, 0].tolist() == [7.0, 8.0, 9.0]
    assert vectors.new_thetas[:, 0].tolist() == [8.0, 9.0, 10.0]
    assert np.shares_memory(vectors.grads, buffers.vectors[:, 1]) and vectors.steps is None
    # θ_t and dθ side by side: one reduction reads both
    assert vectors.pairs.shape == (3, 2, LAYOUT.size)
    assert np.shares_memory(vectors.pairs, vectors.thetas)
    # the next chunk starts from the last θ_{t+1}, in the last row: copied to row 0
    slot = buffers.slot(0, slots[-1].buffers.theta)
    assert np.shares_memory(slot.theta, buffers.vectors[0, 0]) and np.all(slot.theta == 11.0)


def test_two_theta_rows_taken_in_turns_keep_each_steps_theta():
    """Without keep_thetas, a step reads θ_t from one row and writes θ_{t+1} into the other,
    also across chunks of an odd size."""
    buffers = StepBuffers(LAYOUT, 3, (6,), False, output_dA=True)
    assert buffers.vectors.shape == (2, 2, LAYOUT.size)
    theta = np.zeros(LAYOUT.size)
    for k in range(7):
        slot = buffers.slot(k % 3, theta)
        assert np.all(slot.theta == k) and not np.shares_memory(slot.theta, slot.buffers.theta)
        theta = np.add(slot.theta, 1.0, out=slot.buffers.theta)


def test_a_tensor_of_rows():
    """RowLayout.tensor: a (T, n, m) view of one tensor in T rows, with or without the row of
    ones below a hidden A."""
    layout = RowLayout(LAYOUT.dims, 6, True)
    rows = np.zeros((4, layout.size))
    rows[:, layout.start("ones", 1):layout.start("ones", 1) + 6] = 1.0
    for l in range(1, LAYOUT.L + 1):
        layout.tensor(rows, "A", l)[:] = -1.0 - l
    for l in range(1, LAYOUT.L + 1):
        A = layout.tensor(rows[:3], "A", l)
        assert A.shape == (3, LAYOUT.dims[l], 6) and np.unique(A).tolist() == [-1.0 - l]
        assert np.shares_memory(A, rows)
    with_ones = layout.tensor(rows[:3], "A", 1, 1)
    assert with_ones.shape == (3, 6, 6) and np.all(with_ones[:, -1] == 1.0)


@pytest.mark.parametrize("keep_thetas", [True, False])
@pytest.mark.parametrize("widths", [(9,), (9, 4)])
def test_planned_bytes_are_the_buffers_bytes(keep_thetas, widths):
    buffers = StepBuffers(LAYOUT, 7, widths, keep_thetas, output_dA=False)
    assert StepBuffers.planned_nbytes(LAYOUT, 7, widths, keep_thetas, False) == buffers.nbytes
    last = 0 if buffers.last_row is None else buffers.last_row.nbytes
    assert buffers.nbytes == (buffers.rows.nbytes + last + buffers.outputs.nbytes
                              + buffers.vectors.nbytes)


def test_a_run_owns_its_buffers_while_it_trains():
    run = Run(normalize_config({"dataset": "moons", "hidden_layers": [5], "steps": 40}))
    seen = []
    reductions = []
    run.train(progress=lambda *_: (seen.append(run._buffers),
                                   reductions.append(run._series._reductions)))
    assert run.chunk > 1 and seen and all(isinstance(b, StepBuffers) for b in seen)
    assert all(r is not None for r in reductions)
    # what only training needs goes with it: the buffers, and the series' reductions
    assert run._buffers is None and run._series._reductions is None


def test_an_epochs_narrower_last_batch_joins_the_chunk():
    """80 examples in batches of 30: the third step of each epoch, of 20, writes the last
    row, laid out for 20, and its chunk goes on: the run's one set of buffers."""
    run = Run(normalize_config({"dataset": "moons", "n_samples": 100, "test_fraction": 0.2,
                                "hidden_layers": [5], "batch_size": 30, "steps": 6}))
    seen = []
    run.train(on_step=lambda t, result: seen.append(
        (run._buffers, result.forward.caches[0][1], run._series.queued)))
    buffers = seen[0][0]
    assert all(b is buffers for b, _, _ in seen) and buffers.last_layout.m == 20
    for t, (_, Z1, queued) in enumerate(seen):
        assert queued == t  # queued before this step: one chunk of 6
        assert np.shares_memory(Z1, buffers.last_row if t % 3 == 2 else buffers.rows)
