"""engine.step_buffers: the chunk buffers a run's training steps write into (a row of
tensors each, laid out by RowLayout), and the θ rows; a run allocates them for its training
and drops them after (engine.run)."""

import numpy as np
import pytest

from engine.config import normalize_config
from engine.layout import ParamLayout
from engine.run import Run
from engine.step_buffers import RowLayout, StepBuffers

LAYOUT = ParamLayout([3, 5, 4, 2])


def _steps(buffers, count, theta):
    """Slots of `count` consecutive steps, each writing θ_{t+1} = θ_t + 1 as a step would."""
    slots = []
    for k in range(count):
        slot = buffers.slot(k % buffers.chunk, theta)
        theta = np.add(slot.theta, 1.0, out=slot.buffers.theta)
        slots.append(slot)
    return slots


@pytest.mark.parametrize("keep_thetas", [True, False])
def test_a_slot_writes_into_its_rows(keep_thetas):
    """Slot k's Z, A, dZ, dA and dθ are in row k of the chunk buffers, its views are of
    those rows, and a hidden A has its ones row below."""
    buffers = StepBuffers(LAYOUT, 4, 6, keep_thetas, output_dA=False)
    for k, slot in enumerate(_steps(buffers, 4, np.zeros(LAYOUT.size))):
        row = buffers.tensors[k]
        for l, (Z, A) in enumerate(slot.buffers.out, start=1):
            n = LAYOUT.dims[l]
            assert np.shares_memory(Z, row) and Z.shape == (n, 6)
            assert np.shares_memory(A, row) and A.shape == (n + (l < LAYOUT.L), 6)
            assert Z.flags.c_contiguous and A.flags.c_contiguous  # as BLAS writes them
            if l < LAYOUT.L:
                assert np.all(A[-1] == 1.0)  # the ones, as fast_step.forward takes A
        grads = slot.buffers.grads
        assert [dZ.shape for dZ in grads.dZ] == [(n, 6) for n in LAYOUT.dims[1:]]
        assert all(np.shares_memory(dZ, row) for dZ in grads.dZ)
        assert all(np.shares_memory(dA, row) for dA in grads.dA[:-1])
        assert grads.dA[-1] is None  # dA[L] is fused with the loss: not computed
        g = slot.buffers.g
        assert np.shares_memory(g, buffers.vectors[k if keep_thetas else k % 2])
        assert all(np.shares_memory(view, g) for view in grads.params.values())
        for theta, params in ((slot.theta, slot.params),
                              (slot.buffers.theta, slot.buffers.params)):
            assert all(np.shares_memory(view, theta) for view in params.values())


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
    buffers = StepBuffers(LAYOUT, 4, 6, True, output_dA=True)
    first = np.full(LAYOUT.size, 7.0)
    slots = _steps(buffers, 4, first)
    assert slots[0].theta is not first and np.all(slots[0].theta == 7.0)
    assert all(np.shares_memory(slot.theta, buffers.vectors[k, 0])
               for k, slot in enumerate(slots))
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
    buffers = StepBuffers(LAYOUT, 3, 6, False, output_dA=True)
    assert buffers.vectors.shape == (2, 2, LAYOUT.size)
    theta = np.zeros(LAYOUT.size)
    for k in range(7):
        slot = buffers.slot(k % 3, theta)
        assert np.all(slot.theta == k) and not np.shares_memory(slot.theta, slot.buffers.theta)
        theta = np.add(slot.theta, 1.0, out=slot.buffers.theta)


def test_a_tensor_of_the_chunks_first_steps():
    """RowLayout.tensor: a (T, n, m) view of one tensor in the first T rows, with or without
    the row of ones below a hidden A."""
    buffers = StepBuffers(LAYOUT, 4, 6, True, output_dA=True)
    rows = buffers.row_layout
    for l in range(1, LAYOUT.L + 1):
        rows.tensor(buffers.tensors, "A", l)[:] = -1.0 - l
    for l in range(1, LAYOUT.L + 1):
        A = rows.tensor(buffers.tensors[:3], "A", l)
        assert A.shape == (3, LAYOUT.dims[l], 6) and np.unique(A).tolist() == [-1.0 - l]
        assert np.shares_memory(A, buffers.tensors)
    with_ones = rows.tensor(buffers.tensors[:3], "A", 1, 1)
    assert with_ones.shape == (3, 6, 6) and np.all(with_ones[:, -1] == 1.0)


@pytest.mark.parametrize("keep_thetas", [True, False])
def test_planned_bytes_are_the_buffers_bytes(keep_thetas):
    buffers = StepBuffers(LAYOUT, 7, 9, keep_thetas, output_dA=False)
    assert StepBuffers.planned_nbytes(LAYOUT, 7, 9, keep_thetas, False) == buffers.nbytes
    assert buffers.nbytes == buffers.tensors.nbytes + buffers.vectors.nbytes


def test_a_run_owns_its_buffers_while_it_trains():
    run = Run(normalize_config({"dataset": "moons", "hidden_layers": [5], "steps": 40}))
    seen = []
    run.train(progress=lambda *_: seen.extend(run._buffers.values()))
    assert run.chunk > 1 and seen and all(isinstance(b, StepBuffers) for b in seen)
    assert run._buffers == {}


def test_an_epochs_narrower_last_batch_has_buffers_of_its_width():
    """80 examples in batches of 30: two steps of 30 share a chunk's buffers, and the
    third, of 20, writes into one step's buffers of its own width."""
    run = Run(normalize_config({"dataset": "moons", "n_samples": 100, "test_fraction": 0.2,
                                "hidden_layers": [5], "batch_size": 30, "steps": 6}))
    widths = []
    run.train(on_step=lambda t, result: widths.append(
        {m: (b.chunk, b.row_layout.m) for m, b in run._buffers.items()}))
    assert widths[-1] == {30: (run.chunk, 30), 20: (1, 20)}
