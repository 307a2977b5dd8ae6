"""The optimal two-layer ReLU network on scalar inputs, as a linear spline (docs/theory.md s. 10).

With a bias, a neuron (w x + b)_+ on data x_1 < ... < x_n can only switch on for x >= t or for
x <= t, so its activation pattern on the data is one of the 2n threshold patterns
{x >= x_k} (k = 1..n), {x <= x_k} (k = 1..n-1) and the empty one: the pattern set is complete and
the convex program of Pilanci & Ergen (ICML 2020) over those patterns is exact. The optimal network
is a continuous piecewise-linear function f with f(x_i) -> y_i as beta -> 0.

Where the kinks lie depends on whether the bias is penalized. Here it is (the convention of
``fit_relu(..., bias=True)``): a ramp with slope change s at kink t costs beta |s| sqrt(1 + t^2),
so on each gap between consecutive inputs a neuron's kink sits either at a data point or at the
interior maximiser t = -B/A of its dual constraint (A = sum lambda_i x_i, B = sum lambda_i over
the inputs it covers). Kinks at data points only, and straight segments between consecutive points
as beta -> 0, are the results for unpenalized biases (Savarese et al., COLT 2019; Ergen & Pilanci,
JMLR 2021). Example: x = (-2, -1, 1, 2), y = |x| gives one kink near 0, not at +-1.
``Spline1D.knot_offsets`` reports how far each kink is from the nearest input.

Deeper networks are not covered: docs/theory.md gives no exact finite program or closed form for
depth >= 3 on 1-D data, and weight decay on L layers is a different regulariser, so the two-layer
spline is not the deep optimum in general (the bias-free case is rank-one data, section 8, where
the optimal outputs change with depth). Realising the two-layer spline with L layers only gives an
upper bound: on 8 noisy points, local search on the 3-layer network finds an objective 6% below
that of the cheapest realisation we know (the test suite measures it), so ``spline_1d`` refuses depth != 2 rather than
return a network it cannot certify.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_real_array, as_target_vector, check_integer, check_positive

__all__ = ["Spline1D", "spline_1d", "threshold_patterns"]


def threshold_patterns(x):
    """The 2n - 1 non-empty threshold patterns of scalar data and a strictly interior gate each.

    Parameters
    ----------
    x : ndarray, shape (n,)

    Returns
    -------
    masks : ndarray of bool, shape (n, P)
        Columns 1[x >= x_(k)] for each distinct value x_(k), then 1[x <= x_(k)] for every
        distinct value but the largest (which would repeat the all-ones pattern).
    gates : ndarray, shape (2, P)
        (w, b) with w x_i + b != 0 for every i, inducing the pattern: thresholds half way
        between consecutive distinct values (one unit beyond the data for the all-ones pattern).
    """
    values = np.unique(x)
    mids = np.concatenate([[values[0] - 1.0], 0.5 * (values[:-1] + values[1:])])
    up = np.stack([np.ones_like(mids), -mids])  # w = 1, threshold mids[k]: x >= values[k]
    down = np.stack([-np.ones(values.size - 1), mids[1:]])  # w = -1: x <= values[k]
    gates = np.concatenate([up, down], axis=1)
    masks = (np.outer(x, gates[0]) + gates[1]) > 0
    return masks, gates


@dataclass(frozen=True)
class Spline1D:
    """An optimal two-layer ReLU network on scalar inputs and its function as a linear spline.

    Attributes
    ----------
    knots : ndarray, shape (K,)
        Sorted kink locations -b_j / w_j of the active neurons (merged when they coincide; only
        kinks where the slope changes).
    knot_values : ndarray, shape (K,)
        f(knots).
    slopes : ndarray, shape (K + 1,)
        Slope of f on (-inf, knots[0]], between consecutive knots, and on [knots[-1], inf).
    knot_offsets : ndarray, shape (K,)
        Distance from each knot to the nearest training input (with the penalized bias a kink
        may lie between inputs or outside their range; see the module notes).
    first_layer : ndarray, shape (2, m)
        Hidden weights (row 0) and biases (row 1).
    second_layer : ndarray, shape (m,)
    primal_objective, dual_objective, duality_gap : float
        Of the exact convex program (equal to the network's weight-decay objective).
    dual : ndarray, shape (n,)
        The certified dual-feasible point.
    converged : bool
    beta : float
    fit : ReLUFit
        The underlying ``dualnet.fit_relu`` result.
    """

    knots: np.ndarray
    knot_values: np.ndarray
    slopes: np.ndarray
    knot_offsets: np.ndarray
    first_layer: np.ndarray
    second_layer: np.ndarray
    primal_objective: float
    dual_objective: float
    duality_gap: float
    dual: np.ndarray
    converged: bool
    beta: float
    fit: object

    def predict(self, x) -> np.ndarray:
        """f(x) = sum_j (w_j x + b_j)_+ a_j, shape (n,) for x of shape (n,) or (n, 1)."""
        x = _as_inputs(x, "x")
        return _network(x, self.first_layer, self.second_layer)


def _as_inputs(x, name):
    arr = as_real_array(x, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D array of scalar inputs, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def _network(x, first_layer, second_layer):
    return np.maximum(np.outer(x, first_layer[0]) + first_layer[1], 0.0) @ second_layer


def _spline_pieces(x, first_layer, second_layer):
    """Knots where the slope changes, their values, and the slopes of the pieces."""
    w, b = first_layer
    span = float(np.ptp(x)) + float(np.max(np.abs(x))) + np.finfo(float).tiny
    kinks = np.sort(-b[w != 0] / w[w != 0])
    merged = []
    for k in kinks:  # one knot for kinks closer than 1e-6 of the data scale (solver accuracy)
        if not merged or k - merged[-1] > 1e-6 * span:
            merged.append(k)
    knots = np.array(merged)

    # one point inside each linear piece: left of the first knot, between knots, right of the last
    if knots.size:
        points = np.concatenate(
            [[knots[0] - 1.0], 0.5 * (knots[:-1] + knots[1:]), [knots[-1] + 1.0]]
        )
    else:
        points = np.zeros(1)
    slopes = ((np.outer(points, w) + b) > 0) @ (w * second_layer)
    scale = max(float(np.max(np.abs(slopes))), np.finfo(float).tiny)
    keep = (
        np.abs(np.diff(slopes)) > 1e-6 * scale
    )  # slope changes at solver-noise level are no kinks
    if not np.all(keep):
        knots = knots[keep]
        slopes = np.concatenate([slopes[:1], slopes[1:][keep]])
    return knots, _network(knots, first_layer, second_layer), slopes


def spline_1d(x, y, beta, *, depth: int = 2, tol: float = 1e-8, max_iter=None) -> Spline1D:
    """The globally optimal two-layer ReLU network (with biases) on scalar inputs, as a spline.

    Solves the exact convex program over the 2n threshold patterns with ``dualnet.fit_relu``.

    Parameters
    ----------
    x : array-like, shape (n,) or (n, 1)
        Scalar inputs (ties allowed).
    y : array-like, shape (n,)
    beta : float
        Weight decay beta/2 on hidden weights, hidden biases and output weights, > 0.
    depth : int, default 2
        Must be 2: only two layers have an exact finite convex program (module notes).
    tol : float
        Relative duality gap at which the solver stops.
    max_iter : int, optional
        Solver iteration cap.

    Returns
    -------
    Spline1D

    Raises
    ------
    ValueError
        On shape mismatch, beta <= 0, or depth != 2.

    Examples
    --------
    >>> import numpy as np
    >>> import dualnet
    >>> x = np.array([0.0, 1.0, 2.0, 3.0]); y = np.array([0.0, 1.0, 0.0, 1.0])
    >>> s = dualnet.spline_1d(x, y, 1e-3)
    >>> np.round(s.knots, 1)                         # kinks at 1 and 2, and one left of the data
    array([-0.5,  1. ,  2. ])
    >>> np.round(s.predict([0.5, 1.5, 2.5]), 2)      # here the linear interpolant as beta -> 0
    array([0.5, 0.5, 0.5])
    """
    from ..patterns import Patterns
    from ..relu import fit_relu

    x = _as_inputs(x, "x")
    y = as_target_vector(y, x.size)
    beta = check_positive(beta, "beta")
    depth = check_integer(depth, "depth", minimum=2)
    if depth != 2:
        raise ValueError(
            "spline_1d is exact for depth=2 only (a finite convex program over threshold "
            f"patterns); got depth={depth}: for depth >= 3 no exact program is known and the "
            "two-layer spline is not the deep optimum in general"
        )
    masks, gates = threshold_patterns(x)
    patterns = Patterns.from_masks(masks, gates, bias=True)
    fit = fit_relu(x[:, None], y, beta, patterns=patterns, bias=True, tol=tol, max_iter=max_iter)
    first = np.asarray(fit.first_layer, dtype=np.float64)
    second = np.asarray(fit.second_layer, dtype=np.float64)
    knots, values, slopes = _spline_pieces(x, first, second)
    offsets = np.min(np.abs(knots[:, None] - x[None, :]), axis=1) if knots.size else np.zeros(0)
    return Spline1D(
        knots=knots,
        knot_values=values,
        slopes=slopes,
        knot_offsets=offsets,
        first_layer=first,
        second_layer=second,
        primal_objective=float(fit.primal_objective),
        dual_objective=float(fit.dual_objective),
        duality_gap=float(fit.duality_gap),
        dual=np.asarray(fit.dual),
        converged=bool(fit.converged),
        beta=beta,
        fit=fit,
    )
