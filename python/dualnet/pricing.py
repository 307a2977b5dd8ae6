"""Pricing: activation patterns whose dual constraint a dual point violates (column generation).

Over a restricted pattern set the convex program's dual point lambda is feasible for the patterns
in the set only. A pattern D outside it with

    gated: ||X^T D lambda|| > beta,    ReLU: max_{u in K_D, ||u|| <= 1} |lambda^T D X u| > beta

violates the dual constraint of the full program (theory notes, sections 2 and 7), so adding it
lowers the optimum; when no pattern does, lambda is feasible for the full program and the
restricted solution is globally optimal. The ReLU value of a pattern is the largest
|lambda^T (X u)_+| over unit u in its closed cell, so pricing maximises that piecewise-linear
function on the sphere. The search is local (exact maximisation would enumerate the cells). The
default (``method="ascent"``) is Riemannian gradient ascent of +-lambda^T (X u)_+ on the unit
sphere from many starts at once, with a decaying step, recording every cell passed whose gate
already attains a violation; ``method="climb"`` hill-climbs over cells, moving to the cell of the
gradient direction or across a wall of the cone touched by the cell's own maximiser (a
single-row flip). Finding no violation is therefore evidence, not a proof, of global
optimality; a found violation is always real (each comes with a witness direction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _core
from ._validation import (
    as_data_matrix,
    as_target_vector,
    check_choice,
    check_integer,
    check_positive,
    check_random_state,
)
from .patterns import Patterns
from .relu import _augment, _frozen_array

__all__ = ["PricingResult", "price_patterns"]

_MODELS = ("relu", "gated")
_METHODS = ("ascent", "climb")


@dataclass(frozen=True, eq=False, repr=False)
class PricingResult:
    """Patterns found by :func:`price_patterns`, by decreasing dual constraint value.

    Attributes
    ----------
    patterns : Patterns
        The new violating patterns (none of them in the set that was priced against), each with
        a strictly interior gate; ``method="priced"``.
    values : ndarray of shape (k,)
        Their dual constraint values, all > ``beta * (1 + tol)``, decreasing.
    witnesses : ndarray of shape (g, k)
        Column j is a unit direction w in the closed cell of pattern j attaining ``values[j]``:
        ``|dual @ (X w)_+|`` for the ReLU model, ``dual @ (D_j X w)`` = ``||X^T D_j dual||`` for
        the gated model.
    max_value : float
        Largest dual constraint value found among patterns outside the priced set (0 if none was
        reached), violating or not.
    beta : float
    model : {"relu", "gated"}
    n_starts : int
        Starts searched (each for both signs of the dual).
    n_evaluated : int
        Cells evaluated, inside the priced set or not: distinct cells for ``"climb"``, gates
        visited (steps times starts times signs) for ``"ascent"``.
    n_near : int
        Violating patterns skipped because they lie within ``min_distance`` rows of a pattern
        of the priced set or of a returned one (0 when ``min_distance`` is 0).
    """

    patterns: Patterns
    values: np.ndarray
    witnesses: np.ndarray
    max_value: float
    beta: float
    model: str
    n_starts: int
    n_evaluated: int
    n_near: int = 0

    @property
    def max_violation(self) -> float:
        """Relative violation ``max_value / beta - 1`` of the worst pattern found (0 if none)."""
        return max(0.0, self.max_value / self.beta - 1.0)

    def __len__(self) -> int:
        return len(self.patterns)

    def __repr__(self) -> str:
        return (
            f"PricingResult(model={self.model!r}, n_new={len(self)}, beta={self.beta:.6g}, "
            f"max_value={self.max_value:.6g}, max_violation={self.max_violation:.3g}, "
            f"n_starts={self.n_starts}, n_evaluated={self.n_evaluated}, n_near={self.n_near})"
        )


def price_patterns(
    X, dual, beta, patterns=None, *, model="relu", bias=False, n_starts=None, n_random=64,
    max_steps=32, max_new=None, tol=1e-6, random_state=None, method=None, step=0.5,
    min_distance=0,
) -> PricingResult:
    """Search activation patterns outside ``patterns`` whose dual constraint ``dual`` violates.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data, without the ones column (appended here when ``bias``).
    dual : array-like of shape (n_samples,)
        Dual point lambda, e.g. ``fit_relu(...).dual``.
    beta : float
        Regularization strength, > 0 (the dual constraints are ``value <= beta``).
    patterns : Patterns or None
        The patterns already in the program; None prices against the empty set.
    model : {"relu", "gated"}, default="relu"
        Cone-aware values max(||Proj_K(c)||, ||Proj_K(-c)||), c = X^T D lambda (``"relu"``), or
        ||c|| (``"gated"``).
    bias : bool, default=False
        Whether the patterns are those of [X, 1] (must match ``patterns.bias``).
    n_starts : int or None
        Starts searched, drawn (seeded) from the pool of the current gates, the data rows and
        ``n_random`` random directions; None searches the whole pool.
    n_random : int, default=64
        Random Gaussian start directions in the pool.
    max_steps : int, default=32
        Ascent steps per start, or moves per climb.
    max_new : int or None
        Return at most this many patterns (the largest values); None returns all found.
    tol : float, default=1e-6
        A pattern is returned when its value exceeds ``beta * (1 + tol)``.
    random_state : None, int or numpy Generator
        Seeds the random starts: a fixed value gives identical results.
    method : {None, "ascent", "climb"}, default=None
        ``"ascent"`` (the default for ``model="relu"``): batched gradient ascent of
        +-lambda^T (X u)_+ on the sphere, two matrix products per step for all starts; the
        ``max_new`` patterns of largest attained value are returned with their exact values
        (by projection). ``"climb"`` (the default for ``model="gated"``, whose value
        ||X^T D lambda|| is not the function the ascent climbs): hill climbing over cells, one
        value (for ReLU, one cone projection) per cell evaluated.
    step : float, default=0.5
        First step angle of the ascent in radians, decaying to 0 over ``max_steps`` (cosine
        schedule); ignored by ``"climb"``.
    min_distance : int, default=0
        Taken by decreasing value, a violating pattern within this many rows (Hamming
        distance) of a pattern of ``patterns`` or of a pattern already returned is skipped
        (counted in ``n_near``): its block D X nearly repeats that pattern's. 0 skips none.
        ``max_value`` covers the skipped patterns too.

    Returns
    -------
    PricingResult
    """
    X = as_data_matrix(X, "X")
    n = X.shape[0]
    dual = as_target_vector(dual, n, "dual")
    beta = check_positive(beta, "beta")
    tol = check_positive(tol, "tol", allow_zero=True)
    check_choice(model, "model", _MODELS)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    bias = bool(bias)
    Xa = _augment(X, bias)
    if patterns is None:
        pattern_set = _core.PatternSet.from_masks(
            np.zeros((n, 0), dtype=bool), np.zeros((Xa.shape[1], 0))
        )
    elif isinstance(patterns, Patterns):
        if patterns.bias != bias:
            raise ValueError(
                f"patterns were computed with bias={patterns.bias} but bias={bias} was given"
            )
        pattern_set = patterns.pattern_set
        if pattern_set.n_rows != n:
            raise ValueError(f"X has {n} rows but patterns has {pattern_set.n_rows}")
    else:
        raise TypeError(f"patterns must be a Patterns or None, got {type(patterns).__name__}")
    if method is None:
        method = "ascent" if model == "relu" else "climb"
    check_choice(method, "method", _METHODS)
    step = check_positive(step, "step")
    n_starts = -1 if n_starts is None else check_integer(n_starts, "n_starts", minimum=0)
    n_random = check_integer(n_random, "n_random", minimum=0)
    max_steps = check_integer(max_steps, "max_steps", minimum=0)
    max_new = -1 if max_new is None else check_integer(max_new, "max_new", minimum=0)
    min_distance = check_integer(min_distance, "min_distance", minimum=0)
    seed = int(check_random_state(random_state).integers(0, 2**63))
    found, values, witnesses, max_value, searched, evaluated, near = _core.price_patterns(
        Xa, dual, beta, pattern_set, relu=(model == "relu"), n_starts=n_starts,
        n_random=n_random, max_steps=max_steps, tol=tol, max_new=max_new, seed=seed,
        method=method, step=step, min_distance=min_distance,
    )
    return PricingResult(
        patterns=Patterns(found, exact=False, bias=bias, method="priced"),
        values=_frozen_array(values),
        witnesses=_frozen_array(witnesses),
        max_value=float(max_value),
        beta=beta,
        model=model,
        n_starts=int(searched),
        n_evaluated=int(evaluated),
        n_near=int(near),
    )
