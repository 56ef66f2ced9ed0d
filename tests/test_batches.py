"""Tests for engine.batches: which examples step t uses, from (seed, epoch) alone, cut as the
course's random_mini_batches cuts them."""

import numpy as np
import pytest

from engine.batches import (
    batch_columns,
    batch_indices,
    batch_size_at,
    dropout_rng,
    epoch_permutation,
    example_column,
    steps_per_epoch,
)


@pytest.mark.parametrize(("m", "batch_size", "steps"), [
    (1438, 64, 23), (1438, 1438, 1), (1438, 2000, 1), (100, 1, 100), (100, 30, 4), (7, 3, 3),
])
def test_an_epoch_has_a_step_per_batch_the_last_holding_the_rest(m, batch_size, steps):
    assert steps_per_epoch(m, batch_size) == steps
    sizes = [batch_size_at(t, m, batch_size) for t in range(steps)]
    assert sum(sizes) == m and sizes[:-1] == [min(batch_size, m)] * (steps - 1)
    assert batch_size_at(steps, m, batch_size) == sizes[0]  # the next epoch starts again


@pytest.mark.parametrize(("t", "epoch", "start", "stop"), [
    (0, 0, 0, 30), (3, 0, 90, 120), (4, 1, 0, 30), (7, 1, 90, 120), (9, 2, 30, 60),
])
def test_step_t_takes_consecutive_positions_of_its_epochs_order(t, epoch, start, stop):
    # 100 examples in batches of 30: 4 steps an epoch, the last one of 10
    got_epoch, columns = batch_columns(t, 100, 30)
    assert got_epoch == epoch
    assert list(range(100))[columns] == list(range(start, min(stop, 100)))
    got_epoch, indices = batch_indices(5, t, 100, 30)
    assert got_epoch == epoch
    np.testing.assert_array_equal(indices, epoch_permutation(5, epoch, 100)[start:stop])


def test_each_epoch_partitions_the_training_set_in_a_new_order():
    m, batch_size = 101, 16
    per_epoch = steps_per_epoch(m, batch_size)
    orders = []
    for epoch in range(3):
        seen = [batch_indices(0, epoch * per_epoch + k, m, batch_size)[1]
                for k in range(per_epoch)]
        assert sorted(np.concatenate(seen).tolist()) == list(range(m))
        orders.append(np.concatenate(seen))
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])


@pytest.mark.parametrize("batch_size", [None, 100, 500])
def test_full_batch_training_takes_every_example_and_counts_epochs_by_step(batch_size):
    assert batch_indices(0, 7, 100, batch_size) == (7, None)
    assert batch_size_at(7, 100, batch_size) == 100


def test_orders_and_masks_follow_the_seed_alone():
    a = epoch_permutation(3, 2, 50)
    np.testing.assert_array_equal(a, np.random.default_rng([3, 2, 2]).permutation(50))
    assert not a.flags.writeable  # cached and shared: nobody may shuffle it in place
    assert not np.array_equal(a, epoch_permutation(4, 2, 50))
    assert not np.array_equal(a, epoch_permutation(3, 3, 50))
    np.testing.assert_array_equal(dropout_rng(3, 9).random(5), dropout_rng(3, 9).random(5))
    assert not np.array_equal(dropout_rng(3, 9).random(5), dropout_rng(3, 10).random(5))


@pytest.mark.parametrize(("indices", "m", "i", "column"), [
    (None, 10, 0, 0), (None, 10, 9, 9), (np.array([7, 3, 5]), 3, 5, 2),
    (np.array([7, 3, 5]), 3, 7, 0),
])
def test_an_example_is_found_in_its_batch(indices, m, i, column):
    assert example_column(indices, m, i) == column


@pytest.mark.parametrize(("indices", "m", "i"), [
    (None, 10, 10), (None, 10, -1), (np.array([7, 3, 5]), 3, 4),
])
def test_an_example_outside_the_batch_is_named_in_the_error(indices, m, i):
    with pytest.raises(ValueError, match=f"training example {i} is not in this step's batch"):
        example_column(indices, m, i)
