"""Which training examples step t uses, derived from (seed, epoch) alone.

A replay of any step therefore needs no saved random state.
"""

from functools import lru_cache

import numpy as np

# separate random streams per purpose, keyed off the config seed
SHUFFLE_STREAM, DROPOUT_STREAM = 2, 3


def is_full_batch(m, batch_size):
    """Whether every step trains on all m training examples: no batch size, or one as big
    as the set (a config names that None; a benchmark's own smaller data may not)."""
    return batch_size is None or batch_size >= m


def steps_per_epoch(m, batch_size):
    """ceil(m / batch_size): the last mini-batch holds the remainder, as the course."""
    return -(-m // batch_size)


@lru_cache(maxsize=256)
def epoch_permutation(seed, epoch, m):
    """The shuffled order of the m training examples in one epoch (read-only: cached)."""
    order = np.random.default_rng([seed, SHUFFLE_STREAM, epoch]).permutation(m)
    order.flags.writeable = False
    return order


def batch_columns(t, m, batch_size):
    """(epoch, columns) of step t in mini-batch training: its batch is the columns (a
    slice) of its epoch's shuffled order, as the course's random_mini_batches cuts them."""
    epoch, k = divmod(t, steps_per_epoch(m, batch_size))
    return epoch, slice(k * batch_size, (k + 1) * batch_size)


def batch_indices(seed, t, m, batch_size):
    """(epoch, indices) of step t; indices is None for full-batch training."""
    if is_full_batch(m, batch_size):
        return t, None
    epoch, columns = batch_columns(t, m, batch_size)
    return epoch, epoch_permutation(seed, epoch, m)[columns]


def batch_size_at(t, m, batch_size):
    """Examples in step t's batch: batch_size, m, or an epoch's remainder."""
    if is_full_batch(m, batch_size):
        return m
    k = t % steps_per_epoch(m, batch_size)
    return min(batch_size, m - k * batch_size)


def dropout_rng(seed, t):
    """The generator of step t's dropout masks."""
    return np.random.default_rng([seed, DROPOUT_STREAM, t])


def example_column(indices, m, i):
    """The column of a batch that holds training example i.  indices: the batch's examples
    (batch_indices; None: the whole training set, in order), m: the batch's width."""
    if indices is None:
        if 0 <= i < m:
            return i
    else:
        hits = np.flatnonzero(indices == i)
        if hits.size:
            return int(hits[0])
    shown = str(i) if len(str(i)) <= 20 else f"{str(i)[:20]}…"
    raise ValueError(f"example: training example {shown} is not in this step's batch; "
                     "choose one of its batch.indices")
