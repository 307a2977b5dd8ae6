"""Brute-force activation patterns by linear programming, independent of dualnet's enumeration.

A sign vector s over the nonzero rows of X is a pattern (an open cell of the arrangement) exactly
when the linear program

    maximise t  subject to  s_k x_k^T g / ||x_k|| >= t  (nonzero rows k),  -1 <= g <= 1,  t <= 1

has an optimum t* > 0. Sign vectors are grown one row at a time and a prefix whose program is
infeasible is abandoned, so the cost is about (number of cells) * n linear programs. Zero rows are
always active (1[0 >= 0] = 1). For tiny instances only (n up to about 12).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

# Cells thinner than this (in the normalised program) count as empty: far below the cells of the
# test instances and far above the solver's own accuracy.
STRICT_MARGIN = 1e-7


def _margin(rows: np.ndarray, signs: np.ndarray) -> float:
    """Optimal t of the program above for the given rows (unit) and signs."""
    k, d = rows.shape
    # Variables (g_1..g_d, t); maximise t <=> minimise -t.
    c = np.zeros(d + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-(signs[:, None] * rows), np.ones((k, 1))])  # t - s_k a_k^T g <= 0
    b_ub = np.zeros(k)
    bounds = [(-1.0, 1.0)] * d + [(None, 1.0)]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    return -res.fun


def brute_force_patterns(X, *, bias: bool = False) -> set[tuple[bool, ...]]:
    """Every activation pattern of X (or [X, 1] with bias) as a set of bool tuples of length n."""
    X = np.asarray(X, dtype=np.float64)
    if bias:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
    norms = np.linalg.norm(X, axis=1)
    nonzero = np.flatnonzero(norms > 0)
    unit = X[nonzero] / norms[nonzero, None]

    found: list[np.ndarray] = []

    def grow(signs: list[float]) -> None:
        depth = len(signs)
        if depth and _margin(unit[:depth], np.array(signs)) <= STRICT_MARGIN:
            return
        if depth == len(nonzero):
            found.append(np.array(signs) > 0)
            return
        grow(signs + [1.0])
        grow(signs + [-1.0])

    grow([])
    patterns = set()
    for bits in found:
        mask = np.ones(X.shape[0], dtype=bool)
        mask[nonzero] = bits
        patterns.add(tuple(bool(b) for b in mask))
    return patterns
