"""Forward passes and weight decay of plain deep networks given as lists of weight matrices.

A network with layers (W_1, ..., W_L) maps X (n, d) to X W_1 ... W_L (linear) or to
(...((X W_1)_+ W_2)_+ ...)_+ W_L (ReLU after every layer but the last, no biases).
"""

from __future__ import annotations

import numpy as np

__all__ = ["linear_forward", "relu_forward", "squared_frobenius"]


def linear_forward(X: np.ndarray, layers) -> np.ndarray:
    out = X
    for W in layers:
        out = out @ W
    return out


def relu_forward(X: np.ndarray, layers) -> np.ndarray:
    out = X
    for W in layers[:-1]:
        out = np.maximum(out @ W, 0.0)
    return out @ layers[-1]


def squared_frobenius(layers) -> float:
    """sum_l ||W_l||_F^2."""
    return float(sum(np.sum(np.asarray(W) ** 2) for W in layers))
