"""Closed-form optimal ReLU networks on whitened data, X X^T = I_n (docs/theory.md section 9).

With orthonormal rows, {X u : ||u|| <= 1} is the unit ball of R^n, so the two-layer dual constraint
is max(||lambda_+||, ||lambda_-||) <= beta and the problem splits by the sign of y (Ergen & Pilanci,
*Convex Duality of Deep Neural Networks*, 2020): per sign s, with r_s = ||y_s||,

    min_{gamma >= 0} 1/2 (r_s - gamma)^2 + (beta L/2) gamma^(2/L),

two paths with first-layer directions X^T y_s / r_s, and yhat* = gamma_+ y_+/r_+ - gamma_- y_-/r_-.
Two layers: gamma_s = (r_s - beta)_+ and P* = h(r_+) + h(r_-).
"""

from __future__ import annotations

import numpy as np

from .._validation import (
    MAX_DEPTH,
    as_data_matrix,
    as_target_vector,
    check_integer,
    check_positive,
)
from ._one_dim import power_penalty_prox
from ._two_path import ReLUNetworkSolution, closed_form_solution, two_path_layers

__all__ = ["whitened_relu"]


def whitened_relu(X, y, beta, *, depth: int = 2, atol: float = 1e-8) -> ReLUNetworkSolution:
    """The globally optimal bias-free ReLU network of ``depth`` layers on whitened data.

    Parameters
    ----------
    X : array-like, shape (n, d), n <= d, with X X^T = I_n
    y : array-like, shape (n,)
    beta : float
        Weight decay (beta/2) ||W_l||_F^2 on every layer, > 0.
    depth : int, default 2
    atol : float
        Largest accepted entry of |X X^T - I_n|.

    Returns
    -------
    ReLUNetworkSolution
        Width 2 (one path per sign of y; a path is zero when its sign's target is shrunk to 0).

    Raises
    ------
    ValueError
        If X X^T deviates from I_n by more than ``atol`` (the message gives the deviation),
        on shape mismatch, or if beta <= 0.

    Examples
    --------
    >>> import numpy as np
    >>> from dualnet import whitened_relu
    >>> X = np.eye(3)[:2]                      # two orthonormal rows in R^3
    >>> sol = whitened_relu(X, [3.0, -2.0], 1.0)
    >>> np.round(sol.predict(X), 12).tolist()  # (1 - beta/||y_s||)_+ y_s per sign
    [2.0, -1.0]
    >>> round(sol.primal_objective, 12), round(sol.dual_objective, 12)   # h(3) + h(2) = 2.5 + 1.5
    (4.0, 4.0)
    """
    X = as_data_matrix(X)
    n, d = X.shape
    y = as_target_vector(y, n)
    beta = check_positive(beta, "beta")
    depth = check_integer(depth, "depth", minimum=2, maximum=MAX_DEPTH)
    atol = check_positive(atol, "atol")
    if n > d:
        raise ValueError(
            f"whitened_relu assumes X X^T = I_n, impossible with n={n} rows in d={d} dimensions"
        )
    deviation = float(np.max(np.abs(X @ X.T - np.eye(n))))
    if deviation > atol:
        raise ValueError(
            "whitened_relu assumes X X^T = I_n (orthonormal rows); "
            f"max |X X^T - I| = {deviation:.3g} exceeds atol={atol:g}"
        )
    parts = np.stack([np.maximum(y, 0.0), np.maximum(-y, 0.0)], axis=1)  # y_+, y_-
    norms = np.linalg.norm(parts, axis=0)
    gammas = power_penalty_prox(norms, 0.5 * beta * depth, 2.0 / depth)
    directions = X.T @ parts / np.where(norms > 0, norms, 1.0)
    layers = two_path_layers(directions, gammas ** (1.0 / depth), [1.0, -1.0], depth)

    def constraint(lam):
        return max(np.linalg.norm(np.maximum(lam, 0.0)), np.linalg.norm(np.maximum(-lam, 0.0)))

    return closed_form_solution(X, y, beta, depth, layers, constraint)
