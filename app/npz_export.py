"""A run as one .npz file for a notebook: the config, the summary's series and the full
tensors of some steps, under the course's names (docs/api.md, "Exports").

Names inside the file:
- `config.json`: the normalized run config as JSON text, a 0-d string array;
- each series of the summary as a 1-D float array, a step not scored as NaN and a value
  that is not finite as it is (inf, which JSON writes as null): `cost`, `train_accuracy`,
  ...; a layer's series as `layers/{l}/{name}`, e.g. `layers/1/dW_norm`;
- for each step t: `step{t}/X`, `step{t}/Y`, `step{t}/indices` (the batch's examples in the
  training set), `step{t}/cost` (0-d), and per layer l `step{t}/{name}{l}` for A_prev, W,
  b, Z, A, D (with dropout only), dA, dZ, dW, db, update_W, update_b, and with a bug the
  correct gradients true_dA, true_dZ, true_dW, true_db.

Every array is plain float64 or int64, so np.load(..., allow_pickle=False) reads it.
"""

import io
import json

import numpy as np

from app.answer_size import step_answer_shapes
from engine.run import Run

# the record's groups of a layer's tensors, and the prefix of their names in the file
LAYER_GROUPS = (("linear_cache", ""), ("activation_cache", ""), ("grads", ""),
                ("true_grads", "true_"), ("update", "update_"))


def series_arrays(summary: dict) -> dict[str, np.ndarray]:
    """The summary's lists as float arrays (None as NaN); a layer's as layers/{l}/{name}."""
    def floats(values):
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    arrays = {k: floats(v) for k, v in summary.items() if isinstance(v, list) and k != "layers"}
    for layer in summary["layers"]:
        arrays.update({f"layers/{layer['l']}/{k}": floats(v)
                       for k, v in layer.items() if isinstance(v, list)})
    return arrays


def layer_arrays(layer: dict) -> dict[str, np.ndarray]:
    """One layer entry of a step record as {name}{l} arrays: A_prev1, Z1, dW1, update_W1."""
    l = layer["l"]
    tensors = {f"{name}{l}": X for name in ("A", "D") if (X := layer.get(name)) is not None}
    for group, prefix in LAYER_GROUPS:
        tensors.update({f"{prefix}{name}{l}": X for name, X in layer.get(group, {}).items()})
    return tensors


def step_arrays(record: dict) -> dict[str, np.ndarray]:
    """A step record's tensors, named step{t}/{name}."""
    batch, t = record["batch"], record["step"]
    arrays = {"X": batch["X"], "Y": batch["Y"], "cost": np.float64(record["cost"]),
              "indices": np.array(batch["indices"], dtype=np.int64)}
    for layer in record["layers"]:
        arrays.update(layer_arrays(layer))
    return {f"step{t}/{name}": np.asarray(X) for name, X in arrays.items()}


def export_arrays(run: Run, steps: list[int]) -> dict[str, np.ndarray]:
    """Every array of the file, by name (see the module's docstring)."""
    arrays = {"config.json": np.array(json.dumps(run.config))}
    arrays.update(series_arrays(run.summary()))
    for t in steps:
        arrays.update(step_arrays(run.step_record(t)))
    return arrays


def export_npz(run: Run, steps: list[int]) -> bytes:
    """The .npz file's bytes, compressed."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **export_arrays(run, steps))
    return buffer.getvalue()


def export_cells(run: Run, steps: list[int]) -> int:
    """Cells of the steps' tensors in the file, counted from shapes before any is built
    (app.answer_size), a bug run's true gradients included; the series are not counted."""
    total = 0
    for t in steps:
        shapes, _ = step_answer_shapes(run, t, None, None)
        total += sum(rows * cols for rows, cols in shapes)
    return total
