"""Full-batch gradient descent on the non-convex two-layer ReLU network with weight decay.

    f(U, a) = 1/2||(X U)_+ a - y||^2 + beta/2 (||U||_F^2 + ||a||^2),   U (g, m), a (m,)

X already holds the ones column when a bias is used. Every start is a local search, so the best
objective over several random starts is an upper bound on the global optimum p*: a certified
solver must never be beaten by it. Gradient steps use Armijo backtracking, so each run decreases f
monotonically whatever the scale of the data. float64 throughout, numpy only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["GradientDescentResult", "network_objective", "train_relu_network"]


class GradientDescentResult(NamedTuple):
    """Best objective over the starts, its weights, and every start's final objective."""

    objective: float
    first_layer: np.ndarray
    second_layer: np.ndarray
    objectives: np.ndarray


def network_objective(X, y, beta, U, a) -> float:
    """f(U, a), written out independently of the library under test."""
    residual = np.maximum(X @ U, 0.0) @ a - y
    return float(0.5 * residual @ residual + 0.5 * beta * (np.sum(U * U) + a @ a))


def _gradient(X, y, beta, U, a):
    Z = X @ U
    H = np.maximum(Z, 0.0)
    residual = H @ a - y
    grad_a = H.T @ residual + beta * a
    grad_U = X.T @ (np.outer(residual, a) * (Z > 0)) + beta * U
    return grad_U, grad_a


def _descend(X, y, beta, U, a, max_iter, rtol):
    f = network_objective(X, y, beta, U, a)
    step = 1.0
    for _ in range(max_iter):
        gU, ga = _gradient(X, y, beta, U, a)
        sq = float(np.sum(gU * gU) + ga @ ga)
        if sq <= (rtol * max(f, 1e-300)) ** 2:
            break
        while True:  # Armijo backtracking: accept once f drops by half the linear prediction
            U_new, a_new = U - step * gU, a - step * ga
            f_new = network_objective(X, y, beta, U_new, a_new)
            if f_new <= f - 0.5 * step * sq or step < 1e-20:
                break
            step *= 0.5
        if f - f_new <= rtol * 1e-3 * max(f, 1e-300):
            U, a, f = U_new, a_new, min(f, f_new)
            break
        U, a, f = U_new, a_new, f_new
        step *= 2.0  # let the step grow back after a successful one
    return f, U, a


def train_relu_network(
    X, y, beta, width, *, n_starts=5, max_iter=20000, rtol=1e-10, init_scale=1.0, random_state=0
) -> GradientDescentResult:
    """Best of n_starts gradient-descent runs from Gaussian initialisations of the given width."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    rng = np.random.default_rng(random_state)
    best = None
    objectives = []
    for _ in range(n_starts):
        U = init_scale * rng.standard_normal((X.shape[1], width)) / np.sqrt(X.shape[1])
        a = init_scale * rng.standard_normal(width) / np.sqrt(width)
        f, U, a = _descend(X, y, beta, U, a, max_iter, rtol)
        objectives.append(f)
        if best is None or f < best[0]:
            best = (f, U, a)
    return GradientDescentResult(best[0], best[1], best[2], np.asarray(objectives))
