"""Forward passes and weight decay of plain deep networks given as lists of weight matrices.

A network with layers (W_1, ..., W_L) maps X (n, d) to X W_1 ... W_L (linear) or to
(...((X W_1)_+ W_2)_+ ...)_+ W_L (ReLU after every layer but the last, no biases).
"""

from __future__ import annotations

import numpy as np

from .._validation import as_data_matrix

__all__ = ["NetworkResult", "linear_forward", "relu_forward", "squared_frobenius"]


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


class NetworkResult:
    """Shared behaviour of result dataclasses holding ``layers`` and primal/dual objectives.

    Subclasses set ``_relu`` (class attribute, not a field) to choose the forward pass.
    """

    _relu = False

    @property
    def duality_gap(self):
        """primal_objective - dual_objective, or None without a dual objective."""
        if self.dual_objective is None:
            return None
        return self.primal_objective - self.dual_objective

    def predict(self, X) -> np.ndarray:
        """The network's output on X (n, d): shape (n,) or (n, K)."""
        X = as_data_matrix(X)
        expected = self.layers[0].shape[0]
        if X.shape[1] != expected:
            raise ValueError(f"X has {X.shape[1]} columns but the network expects {expected}")
        return (relu_forward if self._relu else linear_forward)(X, self.layers)
