"""Convex losses, their Fenchel conjugates, and dual-feasible points (docs/theory.md section 6).

Every loss is a sum over samples (no 1/n). For a model whose dual constraint is
max_theta |lambda^T phi_theta(X)| <= beta (section 2), weak duality gives

    P(theta) >= D(lambda) = -L*(-lambda)   for every feasible lambda in the conjugate's domain,

and at an optimum lambda* = -grad L(yhat*). :func:`feasible_dual_point` turns -grad L(yhat) of any
model into a certified dual-feasible point by dividing it by s = max(1, constraint / beta); the
dual domains below all contain 0 and are convex, so the rescaled point stays in the domain.
The hinge loss is not differentiable on its margin set y_i yhat_i = 1, where the dual optimum is
fixed by the model's stationarity condition instead; given it, the certificate is tight there too.

=========================  =====================================  ===========================
loss                       dual objective -L*(-lambda)            dual domain
=========================  =====================================  ===========================
squared 1/2||z - y||^2     lambda^T y - 1/2||lambda||^2           everything
hinge (1 - y z)_+          sum p_i, p = y * lambda                0 <= p_i <= 1
logistic log(1+e^(-y z))   -sum p log p + (1-p) log(1-p)          0 <= p_i <= 1
cross-entropy (one-hot Y)  -sum q log q, Q = Y - Lambda           rows of Q in the simplex
=========================  =====================================  ===========================

Examples
--------
>>> import numpy as np
>>> from dualnet.duality.losses import get_loss
>>> loss = get_loss("logistic")
>>> y = np.array([1.0, -1.0])
>>> yhat = np.array([0.5, 0.5])
>>> lam = -loss.gradient(yhat, y)          # lambda = y * sigmoid(-y yhat)
>>> bool(loss.domain_violation(lam, y) == 0.0)
True
>>> bool(loss.value(yhat, y) >= loss.dual_objective(lam, y))   # Fenchel-Young
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._validation import as_real_array, check_positive

__all__ = [
    "CrossEntropyLoss",
    "DualPoint",
    "HingeLoss",
    "LogisticLoss",
    "Loss",
    "SquaredLoss",
    "feasible_dual_point",
    "get_loss",
]

# Points this far outside a dual domain (in the domain's own units) are still accepted, clipped.
_DOMAIN_TOL = 1e-9


def _xlogx(p):
    """p log p with 0 log 0 = 0 (elementwise, p >= 0)."""
    p = np.asarray(p, dtype=np.float64)
    safe = np.where(p > 0, p, 1.0)
    return np.where(p > 0, p * np.log(safe), 0.0)


def _as_pair(yhat, y):
    yhat = np.asarray(yhat, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if yhat.shape != y.shape:
        raise ValueError(f"yhat has shape {yhat.shape} but y has shape {y.shape}")
    return yhat, y


@dataclass(frozen=True)
class Loss:
    """A convex loss L(yhat, y) summed over samples, with conjugate and dual objective.

    Subclasses define ``value``, ``gradient``, ``conjugate`` and ``domain_violation``;
    ``dual_objective(lam, y) = -conjugate(-lam, y)``.
    """

    name = "loss"

    def check_targets(self, y) -> np.ndarray:
        """Return y as float64, raising ValueError if it is not a valid target for this loss."""
        return np.asarray(y, dtype=np.float64)

    def value(self, yhat, y) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def gradient(self, yhat, y) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def conjugate(self, s, y) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def domain_violation(self, lam, y) -> float:
        """How far lam lies outside the dual domain (0 inside); the squared loss has none."""
        return 0.0

    def dual_objective(self, lam, y) -> float:
        """-L*(-lam): the dual objective at lam (-inf outside the dual domain)."""
        return -self.conjugate(-np.asarray(lam, dtype=np.float64), y)

    def optimal_dual(self, yhat, y) -> np.ndarray:
        """lambda = -grad L(yhat): the dual optimum when yhat is the primal optimum."""
        return -self.gradient(yhat, y)


@dataclass(frozen=True)
class SquaredLoss(Loss):
    """L(yhat, y) = 1/2 ||yhat - y||^2 (any shape, summed); L*(s) = s^T y + 1/2 ||s||^2."""

    name = "squared"

    def value(self, yhat, y) -> float:
        yhat, y = _as_pair(yhat, y)
        return float(0.5 * np.sum((yhat - y) ** 2))

    def gradient(self, yhat, y) -> np.ndarray:
        yhat, y = _as_pair(yhat, y)
        return yhat - y

    def conjugate(self, s, y) -> float:
        s, y = _as_pair(s, y)
        return float(np.sum(s * y) + 0.5 * np.sum(s * s))


def _check_signs(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if not np.all((y == 1.0) | (y == -1.0)):
        raise ValueError("targets must be -1 or +1 for the hinge and logistic losses")
    return y


@dataclass(frozen=True)
class HingeLoss(Loss):
    """L(z, y) = sum (1 - y_i z_i)_+ with y_i in {-1, +1}; dual sum p_i, p = y lam in [0, 1]."""

    name = "hinge"

    def check_targets(self, y) -> np.ndarray:
        return _check_signs(y)

    def value(self, yhat, y) -> float:
        yhat, y = _as_pair(yhat, y)
        return float(np.sum(np.maximum(1.0 - y * yhat, 0.0)))

    def gradient(self, yhat, y) -> np.ndarray:
        """A subgradient: -y_i where the margin y_i z_i < 1, else 0."""
        yhat, y = _as_pair(yhat, y)
        return np.where(y * yhat < 1.0, -y, 0.0)

    def domain_violation(self, lam, y) -> float:
        p = np.asarray(lam, dtype=np.float64) * _check_signs(y)
        return float(max(np.max(-p, initial=0.0), np.max(p - 1.0, initial=0.0)))

    def conjugate(self, s, y) -> float:
        s, y = _as_pair(s, y)
        y = _check_signs(y)
        if self.domain_violation(-s, y) > _DOMAIN_TOL:
            return np.inf
        return float(-np.sum(np.clip(-s * y, 0.0, 1.0)))


@dataclass(frozen=True)
class LogisticLoss(Loss):
    """L(z, y) = sum log(1 + exp(-y_i z_i)), y_i in {-1, +1}; dual = binary entropy of p = y lam."""

    name = "logistic"

    def check_targets(self, y) -> np.ndarray:
        return _check_signs(y)

    def value(self, yhat, y) -> float:
        yhat, y = _as_pair(yhat, y)
        return float(np.sum(np.logaddexp(0.0, -y * yhat)))

    def gradient(self, yhat, y) -> np.ndarray:
        """-y_i sigmoid(-y_i z_i), evaluated without overflow."""
        yhat, y = _as_pair(yhat, y)
        return -y * np.exp(-np.logaddexp(0.0, y * yhat))

    def domain_violation(self, lam, y) -> float:
        return HingeLoss().domain_violation(lam, y)

    def conjugate(self, s, y) -> float:
        s, y = _as_pair(s, y)
        y = _check_signs(y)
        if self.domain_violation(-s, y) > _DOMAIN_TOL:
            return np.inf
        q = np.clip(-s * y, 0.0, 1.0)
        return float(np.sum(_xlogx(q) + _xlogx(1.0 - q)))


@dataclass(frozen=True)
class CrossEntropyLoss(Loss):
    """Softmax cross-entropy, L(Z, Y) = sum_i [logsumexp(Z_i) - Y_i^T Z_i], Y one-hot (n, K).

    L*(S) = sum q log q with Q = S + Y, rows of Q in the probability simplex.
    """

    name = "cross_entropy"

    def check_targets(self, y) -> np.ndarray:
        Y = np.asarray(y, dtype=np.float64)
        if Y.ndim != 2 or not np.all((Y == 0.0) | (Y == 1.0)) or not np.all(Y.sum(axis=1) == 1.0):
            raise ValueError(
                "cross-entropy targets must be one-hot rows, shape (n_samples, n_classes)"
            )
        return Y

    def value(self, yhat, y) -> float:
        Z, Y = _as_pair(yhat, y)
        top = Z.max(axis=1, keepdims=True)
        lse = top[:, 0] + np.log(np.sum(np.exp(Z - top), axis=1))
        return float(np.sum(lse - np.sum(Y * Z, axis=1)))

    def gradient(self, yhat, y) -> np.ndarray:
        """softmax(Z) - Y."""
        Z, Y = _as_pair(yhat, y)
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True) - Y

    def domain_violation(self, lam, y) -> float:
        Q = self.check_targets(y) - np.asarray(lam, dtype=np.float64)
        return float(max(np.max(-Q, initial=0.0), np.max(np.abs(Q.sum(axis=1) - 1.0), initial=0.0)))

    def conjugate(self, s, y) -> float:
        S, Y = _as_pair(s, y)
        if self.domain_violation(-S, Y) > _DOMAIN_TOL:
            return np.inf
        Q = np.clip(S + Y, 0.0, 1.0)
        return float(np.sum(_xlogx(Q)))


_LOSSES = {cls.name: cls for cls in (SquaredLoss, HingeLoss, LogisticLoss, CrossEntropyLoss)}


def get_loss(loss) -> Loss:
    """The loss object for a name ("squared", "hinge", "logistic", "cross_entropy") or a Loss."""
    if isinstance(loss, Loss):
        return loss
    try:
        return _LOSSES[loss]()
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(_LOSSES)}") from None


@dataclass(frozen=True)
class DualPoint:
    """A certified dual-feasible point and its dual objective.

    Attributes
    ----------
    dual : ndarray, shape of y
        lambda = -grad L(yhat) / scale.
    scale : float
        s = max(1, constraint_value / beta) >= 1.
    constraint_value : float
        The dual constraint's value at -grad L(yhat) (before rescaling).
    dual_objective : float
        -L*(-dual), a lower bound on the optimal primal objective.
    """

    dual: np.ndarray
    scale: float
    constraint_value: float
    dual_objective: float


def feasible_dual_point(
    loss,
    yhat,
    y,
    beta: float,
    constraint: Callable[[np.ndarray], float],
    *,
    stationarity=None,
    margin_tol: float = 1e-7,
) -> DualPoint:
    """Rescale lambda = -grad L(yhat) into the dual feasible set (docs/theory.md section 6).

    For the hinge loss -grad L is not unique on the margin set M = {i : y_i yhat_i = 1}: there
    p_i = y_i lambda_i may be anything in [0, 1], and the dual optimum needs the right values.
    Outside M (beyond ``margin_tol``) p_i is 1 (margin < 1) or 0 (margin > 1). On M the candidates
    are p = 0, p = 1 and, given ``stationarity``, the least-squares solution of the optimality
    condition A^T lambda = b, clipped to [0, 1]; each is rescaled into the feasible set and the
    best certified one is returned. At an optimal yhat with the model's stationarity condition
    (e.g. A = X, b = beta w*/||w*|| for min_w L(Xw, y) + beta ||w||) the gap closes.

    Parameters
    ----------
    loss : str or Loss
    yhat, y : ndarray, shape (n,) or (n, K)
        Predictions of any model and the targets.
    beta : float
        Regularization strength, > 0.
    constraint : callable
        lambda -> max_theta |lambda^T phi_theta(X)|, the (positively homogeneous) dual constraint
        function of the model class; an upper bound on it also gives a feasible point.
    stationarity : (A, b), optional
        Hinge loss only: A (n, k) and b (k,) with A^T lambda* = b at the optimum, e.g. the
        active features phi_j(X) as columns and b_j = beta sign(a_j) (section 2).
    margin_tol : float
        Hinge loss only: |1 - y_i yhat_i| <= margin_tol puts sample i on the margin set.

    Returns
    -------
    DualPoint

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(2); y = np.array([3.0, 0.0])
    >>> point = feasible_dual_point("squared", np.zeros(2), y, 1.0,
    ...                             lambda lam: np.linalg.norm(X.T @ lam))
    >>> point.scale, float(point.dual[0]), point.dual_objective
    (3.0, 1.0, 2.5)

    The hinge loss on the margin: min_w sum (1 - x_i w)_+ + 2|w| at x = (1, 2, 2), y = 1 has
    w* = 1/2 with x_2 w* = x_3 w* = 1 and P* = 3/2; the dual needs p_2 + p_3 = 1/2.

    >>> x = np.array([[1.0], [2.0], [2.0]]); y = np.ones(3); w = np.array([0.5])
    >>> def norm(lam):
    ...     return abs(x[:, 0] @ lam)
    >>> weak = feasible_dual_point("hinge", x @ w, y, 2.0, norm)
    >>> tight = feasible_dual_point("hinge", x @ w, y, 2.0, norm, stationarity=(x, [2.0]))
    >>> round(weak.dual_objective, 12), round(tight.dual_objective, 12), np.round(tight.dual, 12)
    (1.2, 1.5, array([1.  , 0.25, 0.25]))
    """
    loss = get_loss(loss)
    yhat, y = _checked_pair(loss, yhat, y)
    beta = check_positive(beta, "beta")
    lam = loss.optimal_dual(yhat, y)
    candidates = [lam]
    if isinstance(loss, HingeLoss):
        candidates = _hinge_candidates(lam, yhat, y, stationarity, margin_tol)
    best = None
    for lam in candidates:
        value = float(constraint(lam))
        scale = max(1.0, value / beta)
        point = DualPoint(lam / scale, scale, value, loss.dual_objective(lam / scale, y))
        if best is None or point.dual_objective > best.dual_objective:
            best = point
    return best


def _checked_pair(loss, yhat, y):
    """yhat and y as finite float arrays of one shape, y valid for the loss; errors name them."""
    yhat = as_real_array(yhat, "yhat")
    y = as_real_array(y, "y")
    if yhat.shape != y.shape:
        raise ValueError(f"yhat has shape {yhat.shape} but y has shape {y.shape}")
    for name, arr in (("yhat", yhat), ("y", y)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinity")
    try:
        y = loss.check_targets(y)
    except ValueError as exc:
        raise ValueError(f"y: {exc}") from None
    return yhat, y


def _hinge_candidates(lam, yhat, y, stationarity, margin_tol):
    """Dual candidates of the hinge loss differing on the margin set (see feasible_dual_point)."""
    yhat, y = _as_pair(yhat, y)
    margin = np.abs(1.0 - y * yhat) <= check_positive(margin_tol, "margin_tol")
    if not np.any(margin):
        return [lam]
    outside = np.where(margin, 0.0, lam)
    candidates = [outside, np.where(margin, y, lam)]
    if stationarity is not None:
        A, b = (np.asarray(part, dtype=np.float64) for part in stationarity)
        if A.ndim != 2 or A.shape[0] != y.size or b.shape != (A.shape[1],):
            raise ValueError(
                f"stationarity needs A of shape (n, k) with n={y.size} and b of shape (k,); "
                f"got A {A.shape} and b {b.shape}"
            )
        # A_M^T lambda_M = b - A^T lambda_outside, least squares, then p_M clipped into [0, 1]
        solution = np.linalg.lstsq(A[margin].T, b - A.T @ outside, rcond=None)[0]
        p = np.clip(y[margin] * solution, 0.0, 1.0)
        solved = outside.copy()
        solved[margin] = y[margin] * p
        candidates.append(solved)
    return candidates
