"""One-dimensional subproblems of the duality toolkit, solved exactly.

Two kinds appear (docs/theory.md sections 3, 4, 5 and 9):

- a monotone root on (0, inf), e.g. rho ||w(rho)|| = beta along the ridge path of the group-norm
  program: bisection in log rho between two certified brackets;
- the non-convex scalar prox  argmin_{g >= 0} 1/2 (r - g)^2 + c g^q  with 0 < q <= 1, the per
  singular value / per sign problem of weight decay on L layers (q = 2/L).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "increasing_root",
    "power_penalty_interval_min",
    "power_penalty_objective",
    "power_penalty_prox",
]

_BISECTION_STEPS = 200


def increasing_root(f, lo: float, hi: float) -> float:
    """Root of an increasing function f on [lo, hi] (0 < lo < hi, f(lo) <= 0 <= f(hi)).

    Bisection on log(x) to machine precision; every step keeps the sign bracket, so the answer
    is exact up to rounding whatever the shape of f between the brackets.
    """
    a, b = np.log(lo), np.log(hi)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (a + b)
        if mid in (a, b):
            break
        if f(np.exp(mid)) <= 0.0:
            a = mid
        else:
            b = mid
    return float(np.exp(0.5 * (a + b)))


def power_penalty_objective(g, r, c, q):
    """1/2 (r - g)^2 + c g^q, elementwise."""
    g = np.asarray(g, dtype=np.float64)
    return 0.5 * (r - g) ** 2 + c * g**q


def power_penalty_prox(r, c: float, q: float) -> np.ndarray:
    """Global minimiser over g >= 0 of 1/2 (r - g)^2 + c g^q, elementwise in r >= 0.

    q = 1 is soft thresholding. For 0 < q < 1 the objective is non-convex: its stationary points
    in (0, r) solve k(g) = g^(1-q) (r - g) = c q, and k is log-concave with its peak at
    g_peak = (1 - q) r / (2 - q), so there are at most two; the larger one is the only local
    minimiser inside (0, r) and is compared with g = 0 (always a local minimiser, the penalty
    having infinite slope there). Ties go to g = 0.
    """
    r = np.asarray(r, dtype=np.float64)
    if np.any(r < 0):
        raise ValueError("power_penalty_prox needs r >= 0")
    if q == 1.0:
        return np.maximum(r - c, 0.0)
    out = np.zeros_like(r)
    peak = (1.0 - q) * r / (2.0 - q)
    with np.errstate(divide="ignore", invalid="ignore"):
        k_peak = peak ** (1.0 - q) * (r - peak)
    candidate = (r > 0) & (k_peak >= c * q)
    if not np.any(candidate):
        return out
    rr = r[candidate]
    root = _larger_root(rr, peak[candidate], c, q)
    better = power_penalty_objective(root, rr, c, q) < 0.5 * rr**2
    out[candidate] = np.where(better, root, 0.0)
    return out


def _larger_root(r, peak, c, q):
    """The larger root of g^(1-q) (r - g) = c q on [peak, r], given k(peak) >= c q."""
    lo, hi = peak.copy(), r.copy()  # k(lo) >= c q; k decreasing on [lo, r]; k(hi) = 0 < c q
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        above = mid ** (1.0 - q) * (r - mid) >= c * q
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return 0.5 * (lo + hi)


def power_penalty_interval_min(r: float, c: float, q: float, lo: float, hi: float) -> float:
    """Global minimiser of 1/2 (r - g)^2 + c g^q over g in [lo, hi] (0 <= lo <= hi <= inf).

    The objective is concave then convex on g > 0 (its second derivative 1 + c q (q-1) g^(q-2)
    increases), so its minimum over an interval is at an end or at its only interior local
    minimiser, the larger stationary point (see :func:`power_penalty_prox`).
    """
    candidates = [lo, hi] if np.isfinite(hi) else [lo]
    if q < 1.0 and r > 0:
        peak = (1.0 - q) * r / (2.0 - q)
        if peak ** (1.0 - q) * (r - peak) >= c * q:
            candidates.append(float(_larger_root(np.array([r]), np.array([peak]), c, q)[0]))
    elif q == 1.0:
        candidates.append(max(r - c, 0.0))
    inside = [min(max(g, lo), hi) for g in candidates]
    values = power_penalty_objective(np.array(inside), r, c, q)
    return float(inside[int(np.argmin(values))])
