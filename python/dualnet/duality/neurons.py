"""Optimal hidden neurons read off a dual point: the extreme points of the dual constraint set.

For a two-layer ReLU network the dual constraint is, for every activation pattern D_i,

    max_{u in K_i, ||u|| <= 1} |lambda^T D_i X u| <= beta,    K_i = {u : (2 D_i - I) X u >= 0}

(docs/theory.md sections 2 and 7). At the dual optimum lambda* every optimal neuron is a maximiser
of this constraint, the constraint is tight there, and the output weight has the sign of
lambda*^T D_i X u (Ergen & Pilanci, *Convex Duality of Deep Neural Networks*, 2020). Since
max_{u in K, ||u|| <= 1} c^T u = ||Proj_K(c)|| with maximiser Proj_K(c) / ||Proj_K(c)||, each
pattern needs two cone projections (of +c and -c, c = X^T D_i lambda); they come from the compiled
kernel ``_core.project_onto_pattern_cone``, which also returns a certified upper bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_data_matrix, as_target_vector, check_positive

__all__ = ["OptimalNeurons", "optimal_neurons", "pattern_constraints"]


@dataclass(frozen=True)
class OptimalNeurons:
    """Per activation pattern, the maximiser of the dual constraint and its value.

    Attributes
    ----------
    neurons : ndarray, shape (g, P)
        Unit maximiser u_i of |lambda^T D_i X u| over K_i and the unit ball (zero when the
        constraint value is zero). g = d, or d + 1 with a bias (last row).
    signs : ndarray, shape (P,)
        +1 if lambda^T D_i X u_i > 0 at the maximiser, else -1: the sign an output weight on that
        neuron must have at the optimum (sign rule).
    values : ndarray, shape (P,)
        max_{u in K_i, ||u|| <= 1} |lambda^T D_i X u| = ||Proj_{K_i}(+-X^T D_i lambda)||.
    upper_bounds : ndarray, shape (P,)
        Certified upper bounds on ``values`` from the dual of the cone projection.
    tight : ndarray of bool, shape (P,)
        values >= beta (1 - rtol): the patterns whose constraint is tight, where optimal neurons
        can live.
    active_rows : ndarray of bool, shape (n, P)
        Rows k with ((2 D_i - I) X u_i)_k = 0 (to rtol): the faces of the cone K_i on which the
        maximiser lies (with a bias in 1-D, a kink exactly at data point k).
    beta : float
    patterns : Patterns
    """

    neurons: np.ndarray
    signs: np.ndarray
    values: np.ndarray
    upper_bounds: np.ndarray
    tight: np.ndarray
    active_rows: np.ndarray
    beta: float
    patterns: object

    @property
    def feasible(self) -> bool:
        """Whether the dual point is certified feasible: every upper bound <= beta (to rounding)."""
        return bool(np.all(self.upper_bounds <= self.beta * (1.0 + 1e-12)))


def pattern_constraints(Xa, dual, patterns):
    """Cone projections of +-X^T D_i lambda for every pattern (Xa already augmented).

    Returns (best (g, P) unnormalised maximisers Proj_K(s_i c_i), signs (P,), values (P,),
    upper_bounds (P,)).
    """
    from .. import _core

    pattern_set = patterns.pattern_set
    g, P = Xa.shape[1], len(pattern_set)
    best = np.zeros((g, P))
    signs = np.ones(P)
    values = np.zeros(P)
    bounds = np.zeros(P)
    for i in range(P):
        c = Xa.T @ (pattern_set.mask(i) * dual)  # one mask at a time, never the (n, P) masks
        u_plus, bound_plus = _core.project_onto_pattern_cone(Xa, pattern_set, i, c)
        u_minus, bound_minus = _core.project_onto_pattern_cone(Xa, pattern_set, i, -c)
        u_plus, u_minus = np.asarray(u_plus), np.asarray(u_minus)
        plus, minus = float(np.linalg.norm(u_plus)), float(np.linalg.norm(u_minus))
        if minus > plus:
            best[:, i], signs[i], values[i] = u_minus, -1.0, minus
        else:
            best[:, i], values[i] = u_plus, plus
        bounds[i] = max(float(bound_plus), float(bound_minus), values[i])
    return best, signs, values, bounds


def optimal_neurons(X, dual, beta, patterns, *, bias=None, rtol: float = 1e-6) -> OptimalNeurons:
    """The extreme points of the dual constraint set at a dual point, one per pattern.

    Parameters
    ----------
    X : array-like, shape (n, d)
        Data, without the ones column (it is appended when the patterns have a bias).
    dual : array-like, shape (n,)
        A dual point lambda, e.g. ``fit_relu(...).dual`` or the residual y - yhat.
    beta : float
        Regularization strength, > 0.
    patterns : Patterns or bool ndarray, shape (n, P)
        The activation patterns D_i (``dualnet.activation_patterns``).
    bias : bool, optional
        Whether the patterns include a bias; default ``patterns.bias`` (False for masks).
    rtol : float
        Relative tolerance of ``tight`` and ``active_rows``.

    Returns
    -------
    OptimalNeurons

    Examples
    --------
    >>> import numpy as np
    >>> import dualnet
    >>> x = np.array([[-1.0], [0.0], [1.0], [2.0]]); y = np.array([1.0, 0.0, 0.0, 1.0])
    >>> fit = dualnet.fit_relu(x, y, 0.1, bias=True, tol=1e-10)
    >>> ext = dualnet.optimal_neurons(x, fit.dual, 0.1, fit.patterns)
    >>> bool(ext.values.max() <= 0.1 * (1 + 1e-6)), bool(ext.tight.any())
    (True, True)
    """
    from ..patterns import Patterns
    from ..relu import _as_patterns, _augment

    X = as_data_matrix(X)
    n = X.shape[0]
    dual = as_target_vector(dual, n, "dual")
    beta = check_positive(beta, "beta")
    rtol = check_positive(rtol, "rtol")
    if bias is None:
        bias = bool(patterns.bias) if isinstance(patterns, Patterns) else False
    patterns = _as_patterns(patterns, X, bool(bias), None)
    Xa = _augment(X, bool(bias))
    if patterns.pattern_set.gate_dim != Xa.shape[1]:
        raise ValueError(
            f"patterns have gate dimension {patterns.pattern_set.gate_dim} but X "
            f"{'with its ones column ' if bias else ''}has {Xa.shape[1]} columns"
        )
    best, signs, values, bounds = pattern_constraints(Xa, dual, patterns)
    norms = np.where(values > 0, values, 1.0)
    neurons = best / norms
    margins = ((2.0 * patterns.masks - 1.0) * (Xa @ neurons)) if values.size else np.zeros((n, 0))
    scale = np.linalg.norm(Xa, axis=1)[:, None] + np.finfo(float).tiny
    active_rows = (np.abs(margins) <= rtol * scale) & (values > 0)[None, :]
    return OptimalNeurons(
        neurons=neurons,
        signs=signs,
        values=values,
        upper_bounds=bounds,
        tight=values >= beta * (1.0 - rtol),
        active_rows=active_rows,
        beta=beta,
        patterns=patterns,
    )
