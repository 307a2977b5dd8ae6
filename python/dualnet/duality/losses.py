"""Convex losses, their Fenchel conjugates, and dual-feasible points (docs/theory.md section 6).

Every loss is a sum over samples (no 1/n). For a model whose dual constraint is
max_theta |lambda^T phi_theta(X)| <= beta (section 2), weak duality gives

    P(theta) >= D(lambda) = -L*(-lambda)   for every feasible lambda in the conjugate's domain,

and at an optimum lambda* = -grad L(yhat*). :func:`feasible_dual_point` turns -grad L(yhat) of any
model into a certified dual-feasible point by dividing it by s = max(1, constraint / beta); the
dual domains below all contain 0 and are convex, so the rescaled point stays in the domain.

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

from .._validation import check_positive

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
    loss, yhat, y, beta: float, constraint: Callable[[np.ndarray], float]
) -> DualPoint:
    """Rescale lambda = -grad L(yhat) into the dual feasible set (docs/theory.md section 6).

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
    """
    loss = get_loss(loss)
    beta = check_positive(beta, "beta")
    lam = loss.optimal_dual(yhat, y)
    value = float(constraint(lam))
    scale = max(1.0, value / beta)
    lam = lam / scale
    return DualPoint(lam, scale, value, loss.dual_objective(lam, y))
