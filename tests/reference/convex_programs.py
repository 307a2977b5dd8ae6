"""cvxpy + Clarabel formulations of the two convex programs of a two-layer ReLU network.

Both programs use the representation of the solver: blocks v, w of shape (g, P) (g = number of
columns of X, which already holds the ones column when a bias is used), predictions
yhat = sum_i D_i X (v_i - w_i) and objective 1/2||yhat - y||^2 + beta * sum_i (||v_i|| + ||w_i||).

- gated program (group lasso over the blocks D_i X): w == 0;
- ReLU program (Pilanci & Ergen, ICML 2020): v_i, w_i in K_i = {u : (2 D_i - I) X u >= 0}.

These are slow interior-point references for tiny instances, used as accuracy oracles.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

__all__ = [
    "ReferenceSolution",
    "convex_objective",
    "cross_entropy_objective",
    "loss_objective",
    "loss_value",
    "solve_gated",
    "solve_gated_cross_entropy",
    "solve_gated_loss",
    "solve_relu",
    "solve_relu_loss",
]

# Clarabel tolerances tight enough that its objective is a 1e-8-relative reference.
_CLARABEL_SETTINGS = dict(
    tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10, tol_ktratio=1e-8, max_iter=500
)


class ReferenceSolution(NamedTuple):
    """Optimal value and blocks v, w (g, P) of a convex program (unpacks as objective, v, w)."""

    objective: float
    v: np.ndarray
    w: np.ndarray


def _check(X, y, masks, beta):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    if X.ndim != 2 or y.shape != (X.shape[0],) or masks.ndim != 2 or masks.shape[0] != X.shape[0]:
        raise ValueError(f"shapes X {X.shape}, y {y.shape}, masks {masks.shape} do not match")
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    return X, y, masks


def convex_objective(X, y, masks, beta, v, w=None) -> float:
    """1/2||sum_i D_i X (v_i - w_i) - y||^2 + beta sum_i (||v_i|| + ||w_i||), in numpy."""
    X, y, masks = _check(X, y, masks, beta)
    w = np.zeros_like(v) if w is None else w
    yhat = np.sum(masks * (X @ (v - w)), axis=1)
    norms = np.linalg.norm(v, axis=0).sum() + np.linalg.norm(w, axis=0).sum()
    return float(0.5 * np.sum((yhat - y) ** 2) + beta * norms)


def _solve(problem):
    import cvxpy as cp

    with warnings.catch_warnings():
        # Tight tolerances stall on degenerate optima (e.g. the zero solution) where Clarabel
        # ends "almost solved"; its point is still accurate to far below the 1e-6 used in tests.
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        problem.solve(solver=cp.CLARABEL, **_CLARABEL_SETTINGS)
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise RuntimeError(f"Clarabel did not solve the reference program: {problem.status}")


def solve_gated(X, y, masks, beta) -> ReferenceSolution:
    """Gated program: min 1/2||sum_i D_i X u_i - y||^2 + beta sum_i ||u_i||; returns w = 0."""
    return solve_gated_loss(X, y, masks, beta, loss="squared")


def solve_relu(X, y, masks, beta) -> ReferenceSolution:
    """Exact ReLU program: the gated objective over v_i - w_i with v_i, w_i in the cone K_i."""
    return solve_relu_loss(X, y, masks, beta, loss="squared")


# --- classification losses (docs/theory.md, section 6), summed over samples ---------------------

_LOSS_NAMES = ("logistic", "hinge", "squared")


def _loss_expression(loss, yhat, y):
    import cvxpy as cp

    if loss == "logistic":
        return cp.sum(cp.logistic(-cp.multiply(y, yhat)))
    if loss == "hinge":
        return cp.sum(cp.pos(1 - cp.multiply(y, yhat)))
    if loss == "squared":
        return 0.5 * cp.sum_squares(yhat - y)
    raise ValueError(f"loss must be one of {_LOSS_NAMES}, got {loss!r}")


def loss_value(loss, yhat, y) -> float:
    """The summed loss in numpy: logistic, hinge, squared (y in {-1, +1} for the first two)."""
    yhat = np.asarray(yhat, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if loss == "logistic":
        return float(np.sum(np.logaddexp(0.0, -y * yhat)))
    if loss == "hinge":
        return float(np.sum(np.maximum(0.0, 1.0 - y * yhat)))
    if loss == "squared":
        return float(0.5 * np.sum((yhat - y) ** 2))
    raise ValueError(f"loss must be one of {_LOSS_NAMES}, got {loss!r}")


def loss_objective(X, y, masks, beta, v, w=None, *, loss) -> float:
    """L(sum_i D_i X (v_i - w_i), y) + beta sum_i (||v_i|| + ||w_i||), in numpy."""
    X, y, masks = _check(X, y, masks, beta)
    w = np.zeros_like(v) if w is None else w
    yhat = np.sum(masks * (X @ (v - w)), axis=1)
    norms = np.linalg.norm(v, axis=0).sum() + np.linalg.norm(w, axis=0).sum()
    return loss_value(loss, yhat, y) + beta * float(norms)


def solve_gated_loss(X, y, masks, beta, *, loss) -> ReferenceSolution:
    """Gated program under a loss: min L(sum_i D_i X u_i, y) + beta sum_i ||u_i||; w = 0."""
    import cvxpy as cp

    X, y, masks = _check(X, y, masks, beta)
    V = cp.Variable((X.shape[1], masks.shape[1]))
    yhat = cp.sum(cp.multiply(masks.astype(float), X @ V), axis=1)
    penalty = cp.sum(cp.norm(V, 2, axis=0))
    _solve(cp.Problem(cp.Minimize(_loss_expression(loss, yhat, y) + beta * penalty)))
    v = np.asarray(V.value)
    return ReferenceSolution(loss_objective(X, y, masks, beta, v, loss=loss), v, np.zeros_like(v))


def solve_relu_loss(X, y, masks, beta, *, loss) -> ReferenceSolution:
    """Exact ReLU program under a loss (cone constraints on v_i, w_i as in solve_relu)."""
    import cvxpy as cp

    X, y, masks = _check(X, y, masks, beta)
    g, P = X.shape[1], masks.shape[1]
    D = masks.astype(float)
    signs = 2.0 * D - 1.0
    V = cp.Variable((g, P))
    W = cp.Variable((g, P))
    yhat = cp.sum(cp.multiply(D, X @ (V - W)), axis=1)
    norms = cp.sum(cp.norm(V, 2, axis=0)) + cp.sum(cp.norm(W, 2, axis=0))
    constraints = [cp.multiply(signs, X @ V) >= 0, cp.multiply(signs, X @ W) >= 0]
    _solve(cp.Problem(cp.Minimize(_loss_expression(loss, yhat, y) + beta * norms), constraints))
    v, w = np.asarray(V.value), np.asarray(W.value)
    return ReferenceSolution(loss_objective(X, y, masks, beta, v, w, loss=loss), v, w)


def cross_entropy_objective(X, Y, masks, beta, V) -> float:
    """sum_k [logsumexp(Z_k) - Y_k^T Z_k] + beta sum_i ||V_i||_*, Z = sum_i D_i X V_i (numpy).

    V has shape (g, P, K): V[:, i, :] is the block of pattern i.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    Z = np.einsum("np,ng,gpk->nk", masks.astype(float), X, V)
    top = Z.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(Z - top).sum(axis=1))
    nuclear = sum(np.linalg.svd(V[:, i, :], compute_uv=False).sum() for i in range(V.shape[1]))
    return float(np.sum(lse - np.sum(Y * Z, axis=1)) + beta * nuclear)


def solve_gated_cross_entropy(X, Y, masks, beta) -> tuple[float, np.ndarray]:
    """Gated program with vector outputs (Sahiner et al., ICLR 2021): softmax cross-entropy on
    one-hot Y (n, K) plus beta sum_i ||V_i||_*; returns (objective, V of shape (g, P, K))."""
    import cvxpy as cp

    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    g, P, K = X.shape[1], masks.shape[1], Y.shape[1]
    blocks = [cp.Variable((g, K)) for _ in range(P)]
    Z = sum(cp.multiply(np.repeat(masks[:, [i]].astype(float), K, axis=1), X @ blocks[i])
            for i in range(P))
    loss = cp.sum(cp.log_sum_exp(Z, axis=1)) - cp.sum(cp.multiply(Y, Z))
    penalty = sum(cp.normNuc(b) for b in blocks)
    _solve(cp.Problem(cp.Minimize(loss + beta * penalty)))
    V = np.stack([np.asarray(b.value) for b in blocks], axis=1)
    return cross_entropy_objective(X, Y, masks, beta, V), V
