"""Recompute served tensors with PyTorch autograd and print the worst relative error.

An independent check of the engine against another framework, outside the test suite
(which must not depend on PyTorch). In an environment with this project's packages and
torch installed: python scripts/verify_against_torch.py
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.config import normalize_config
from engine.run import Run
from engine.threads import single_blas_thread

ACTIVATIONS = {
    "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "linear": lambda z: z, "softmax": lambda z: torch.softmax(z, dim=0),
}
CONFIGS = [
    {"steps": 30},
    {"dataset": "spiral", "hidden_layers": [16, 8],
     "activations": ["tanh", "leaky_relu", "softmax"], "steps": 30, "optimizer": "adam",
     "learning_rate": 0.01, "l2": 0.5},
    {"dataset": "digits", "hidden_layers": [32, 16], "steps": 20, "keep_prob": 0.8,
     "batch_size": 64, "optimizer": "momentum"},
    {"dataset": "sine", "hidden_layers": [16, 16], "activations": ["tanh", "sigmoid", "linear"],
     "steps": 30, "optimizer": "rmsprop", "learning_rate": 0.01},
    {"dataset": "iris", "hidden_layers": [5], "loss": "mse", "activations": ["relu", "softmax"],
     "steps": 20},
    {"dataset": "breast_cancer", "hidden_layers": [20, 7, 5], "init": "course", "steps": 20,
     "keep_prob": 0.7},
    # a classic mistake (issue 17): its true_grads are the autograd gradients at its θ
    {"hidden_layers": [8, 8], "activations": ["tanh", "sigmoid", "sigmoid"], "steps": 30,
     "bug": "activation_cache_holds_A"},
    {"dataset": "spiral", "hidden_layers": [16, 8], "steps": 30, "keep_prob": 0.8, "l2": 0.3,
     "optimizer": "adam", "learning_rate": 0.01, "bug": "missing_1_over_m"},
]


def cost(name, A, Y):
    """the mean losses of docs/engine-interface.md."""
    m = Y.shape[1]
    if name == "binary_cross_entropy":
        return -(Y * torch.log(A) + (1 - Y) * torch.log(1 - A)).sum() / m
    if name == "categorical_cross_entropy":
        return -(Y * torch.log(A)).sum() / m
    return ((A - Y) ** 2).sum() / (2 * m)


def relative(served, reference):
    served, reference = np.asarray(served), np.asarray(reference)
    return float(np.max(np.abs(served - reference)) / (np.max(np.abs(reference)) + 1e-300))


def autograd_errors(cfg, record):
    """Relative error of each served tensor against torch's forward and autograd (a bug
    run's true_grads: its grads are the mistaken code's by design)."""
    Y = torch.tensor(record["batch"]["Y"])
    m, A, tensors = Y.shape[1], torch.tensor(record["batch"]["X"]), []
    for layer in record["layers"]:
        W = torch.tensor(layer["linear_cache"]["W"], requires_grad=True)
        b = torch.tensor(layer["linear_cache"]["b"], requires_grad=True)
        Z = W @ A + b
        A = ACTIVATIONS[layer["activation"]](Z)
        if layer["D"] is not None:
            A = A * torch.tensor(layer["D"]) / cfg["keep_prob"]
        Z.retain_grad()
        A.retain_grad()
        tensors.append((W, b, Z, A))
    J = cost(cfg["loss"], A, Y) + cfg["l2"] / (2 * m) * sum((W**2).sum() for W, *_ in tensors)
    J.backward()
    errors = {"cost": abs(J.item() - record["cost"]) / abs(J.item())}
    for l, (layer, (W, b, Z, A)) in enumerate(zip(record["layers"], tensors, strict=True), 1):
        g = layer.get("true_grads") or layer["grads"]
        errors |= {f"Z{l}": relative(layer["activation_cache"]["Z"], Z.detach()),
                   f"A{l}": relative(layer["A"], A.detach()),
                   f"dW{l}": relative(g["dW"], W.grad), f"db{l}": relative(g["db"], b.grad),
                   f"dZ{l}": relative(g["dZ"], m * Z.grad), f"dA{l}": relative(g["dA"], m * A.grad)}
    return errors


def main():
    single_blas_thread()
    torch.set_default_dtype(torch.float64)
    for raw in CONFIGS:
        cfg = normalize_config(raw)
        run = Run(cfg).train()
        for t in (0, 7, cfg["steps"] - 1):
            name, worst = max(autograd_errors(cfg, run.step_record(t)).items(),
                              key=lambda item: item[1])
            print(f"{raw}\n  step {t}: worst relative error {worst:.1e} ({name})")


if __name__ == "__main__":
    main()
