"""engine.step_buffers: the chunk buffers a run's training steps write into, and the θ
rows; a run allocates them for its training and drops them after (engine.run)."""

import numpy as np
import pytest

from engine.config import normalize_config
from engine.layout import ParamLayout
from engine.run import Run
from engine.step_buffers import StepBuffers

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
    """Slot k's Z, A and dθ are row k of the chunk buffers (one dθ row for all, without
    keep_thetas), its views are of those rows, and a hidden A has its ones row below."""
    buffers = StepBuffers(LAYOUT, 4, 6, keep_thetas)
    for k, slot in enumerate(_steps(buffers, 4, np.zeros(LAYOUT.size))):
        for l, (Z, A) in enumerate(slot.buffers.out):
            assert np.shares_memory(Z, buffers.Z[l][k]) and Z.shape == (LAYOUT.dims[l + 1], 6)
            assert np.shares_memory(A, buffers.A[l][k])
        for A in buffers.A[:-1]:
            assert np.all(A[k, -1] == 1.0)  # the ones, as fast_step.forward takes A
        g = slot.buffers.g
        assert np.shares_memory(g, buffers.G[k if keep_thetas else 0])
        assert all(np.shares_memory(view, g) for view in slot.buffers.grads.values())
        for theta, params in ((slot.theta, slot.params),
                              (slot.buffers.theta, slot.buffers.params)):
            assert all(np.shares_memory(view, theta) for view in params.values())


def test_the_theta_rows_hold_a_chunks_steps_in_order():
    """θ row k is step k's θ_t and row k + 1 its θ_{t+1}: the StepVectors of a chunk are
    views of the rows. The chunk's first θ_t is copied in; the others are there already."""
    buffers = StepBuffers(LAYOUT, 4, 6, True)
    first = np.full(LAYOUT.size, 7.0)
    slots = _steps(buffers, 4, first)
    assert slots[0].theta is not first and np.all(slots[0].theta == 7.0)
    assert all(np.shares_memory(slot.theta, buffers.Theta[k]) for k, slot in enumerate(slots))
    vectors = buffers.vectors(3)
    assert vectors.thetas[:, 0].tolist() == [7.0, 8.0, 9.0]
    assert vectors.new_thetas[:, 0].tolist() == [8.0, 9.0, 10.0]
    assert np.shares_memory(vectors.grads, buffers.G) and vectors.steps is None
    # the next chunk starts from the last θ_{t+1}, in the last row: copied to row 0
    slot = buffers.slot(0, slots[-1].buffers.theta)
    assert np.shares_memory(slot.theta, buffers.Theta[0]) and np.all(slot.theta == 11.0)


def test_two_theta_rows_taken_in_turns_keep_each_steps_theta():
    """Without keep_thetas, a step reads θ_t from one row and writes θ_{t+1} into the other,
    also across chunks of an odd size."""
    buffers = StepBuffers(LAYOUT, 3, 6, False)
    assert buffers.Theta.shape == (2, LAYOUT.size)
    theta = np.zeros(LAYOUT.size)
    for k in range(7):
        slot = buffers.slot(k % 3, theta)
        assert np.all(slot.theta == k) and not np.shares_memory(slot.theta, slot.buffers.theta)
        theta = np.add(slot.theta, 1.0, out=slot.buffers.theta)


def test_outputs_are_the_chunks_first_steps_without_the_ones():
    buffers = StepBuffers(LAYOUT, 4, 6, True)
    for l, A in enumerate(buffers.A):
        A[:, :LAYOUT.dims[l + 1]] = -1.0 - l
    Zs, As = buffers.outputs(3)
    assert [Z.shape for Z in Zs] == [(3, n, 6) for n in LAYOUT.dims[1:]]
    assert [A.shape for A in As] == [Z.shape for Z in Zs]
    assert [np.unique(A).tolist() for A in As] == [[-1.0], [-2.0], [-3.0]]


@pytest.mark.parametrize("keep_thetas", [True, False])
def test_planned_bytes_are_the_buffers_bytes(keep_thetas):
    buffers = StepBuffers(LAYOUT, 7, 9, keep_thetas)
    assert StepBuffers.planned_nbytes(LAYOUT, 7, 9, keep_thetas) == buffers.nbytes
    assert buffers.nbytes == sum(a.nbytes for a in (*buffers.Z, *buffers.A, buffers.G,
                                                    buffers.Theta))


def test_a_run_owns_its_buffers_while_it_trains():
    run = Run(normalize_config({"dataset": "moons", "hidden_layers": [5], "steps": 40}))
    seen = []
    run.train(progress=lambda *_: seen.append(run._buffers))
    assert run.chunk > 1 and seen and all(isinstance(b, StepBuffers) for b in seen)
    assert run._buffers is None
