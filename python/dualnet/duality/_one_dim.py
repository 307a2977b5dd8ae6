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
    "quasi_norm_prox",
]

_BISECTION_STEPS = 200
_NEWTON_STEPS = 60  # monotone Newton: converges quadratically once near the root
_ZOOM_STEPS, _ZOOM_POINTS = 8, 49  # 48^8: a bracket of ratio 1.15 shrinks below 1e-13


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


def _root_of_branch(c, b, q, larger: bool):
    """Root of k(s) = s^(1-q) (c - s) = b on one side of its peak (c > 0, 0 < b <= k(peak)).

    k is concave on (0, c), so Newton's method started on the far side of the root (at c for the
    larger root; at (b/c)^(1/(1-q)) <= the smaller root, where k <= c s^(1-q) <= b) moves
    monotonically towards it and never leaves its side of the peak.
    """
    c, b = np.broadcast_arrays(np.asarray(c, dtype=np.float64), np.asarray(b, dtype=np.float64))
    peak = (1.0 - q) * c / (2.0 - q)
    if larger:
        s = c.copy()
    else:
        s = np.minimum((b / c) ** (1.0 / (1.0 - q)), peak)
    for _ in range(_NEWTON_STEPS):
        with np.errstate(divide="ignore", invalid="ignore"):
            value = s ** (1.0 - q) * (c - s) - b
            slope = (1.0 - q) * s ** (-q) * (c - s) - s ** (1.0 - q)
            step = np.where(slope != 0, value / slope, 0.0)
        s_new = np.clip(s - step, *((peak, c) if larger else (0.0, peak)))
        done = np.max(np.abs(s_new - s) - 1e-15 * c, initial=0.0) <= 0.0
        s = s_new
        if done:
            break
    return s


def quasi_norm_prox(c, lam: float, q: float, grid: int = 241) -> np.ndarray:
    """Global minimiser over s >= 0 of 1/2||s - c||^2 + lam ||s||_q, ||s||_q = (sum s_j^q)^(1/q).

    c >= 0, 0 < q <= 1; q = 1 is the l1 prox. For q < 1 the penalty is a non-convex quasi-norm.
    A minimiser keeps the order of c, so its support is the k largest entries for some k. With
    N = ||s||_q and b = lam N^(1-q), every s_j > 0 solves k(s) = s^(1-q) (c_j - s) = b, on the
    larger side of k's peak or the smaller one; the Hessian on the support is
    I - lam (1-q) N^(1-q) diag(s^(q-2)) + (rank one, positive), so at a local minimiser at most
    one coordinate sits on the smaller side. For each support and each such choice the
    consistency b = lam ||s(b)||_q^(1-q) is a 1-D equation in b; a log grid of b finds its roots
    (two roots closer than a grid step would be a near-tangency whose objective values agree to
    second order) and nested grids refine them. The best of those, s = 0 and s = c is returned.
    """
    c = np.asarray(c, dtype=np.float64)
    if np.any(c < 0):
        raise ValueError("quasi_norm_prox needs c >= 0")
    if q == 1.0:
        return np.maximum(c - lam, 0.0)
    order = np.argsort(-c)
    sorted_c = c[order]

    def objective(s):
        return 0.5 * float(np.sum((s - sorted_c) ** 2)) + lam * float(np.sum(s**q)) ** (1.0 / q)

    best, best_f = np.zeros_like(c), objective(np.zeros_like(c))
    if objective(sorted_c) < best_f:  # lam below the underflow level of every root: s = c
        best, best_f = sorted_c.copy(), objective(sorted_c)
    for k in range(1, c.size + 1):
        top = sorted_c[:k]
        if top[-1] <= 0.0:
            break
        peak = (1.0 - q) * top / (2.0 - q)
        b_max = float(np.min(peak ** (1.0 - q) * (top - peak)))
        # every root b = lam ||s||_q^(1-q) <= lam ||top||_q^(1-q) (s <= top): cover 12 decades below
        b_low = min(b_max, lam * float(np.sum(top**q)) ** ((1.0 - q) / q)) * 1e-12
        if not b_max > np.finfo(float).tiny:
            continue  # entries at the underflow level: s = 0 on them is exact to rounding
        bs = np.geomspace(max(b_low, np.finfo(float).tiny), b_max, grid)
        for small in [None, *range(k)]:

            def support(b, small=small):
                b = np.asarray(b, dtype=np.float64)[..., None]
                s = _root_of_branch(top, b, q, larger=True)
                if small is not None:
                    s[..., small] = _root_of_branch(top[small], b[..., 0], q, larger=False)
                return s

            def excess(b):
                s = support(b)
                return lam * np.sum(s**q, axis=-1) ** ((1.0 - q) / q) - np.asarray(b)

            values = excess(bs)
            idx = np.flatnonzero(np.sign(values[:-1]) * np.sign(values[1:]) < 0)
            if idx.size == 0:
                continue
            lo, hi, sign_lo = bs[idx], bs[idx + 1], np.sign(values[idx])
            for _ in range(_ZOOM_STEPS):  # all brackets at once: a finer grid inside each
                points = np.exp(np.linspace(np.log(lo), np.log(hi), _ZOOM_POINTS, axis=-1))
                signs = np.sign(excess(points))
                first = np.argmax(signs != sign_lo[:, None], axis=1)  # >= 1: the ends differ
                rows = np.arange(lo.size)
                lo, hi = points[rows, first - 1], points[rows, first]
            for b in 0.5 * (lo + hi):
                s = np.zeros_like(c)
                s[:k] = support(b)
                f = objective(s)
                if f < best_f:
                    best, best_f = s, f
    out = np.zeros_like(c)
    out[order] = best
    return out
