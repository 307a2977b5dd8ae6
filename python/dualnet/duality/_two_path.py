"""Deep ReLU networks made of two parallel rank-one paths, and the result type of closed forms.

Whitened and rank-one data (docs/theory.md sections 8-9) have optimal networks with two paths,
one per sign: W_1 = [tau_1 e_1, tau_2 e_2] (d, 2), W_l = diag(tau) (2, 2), w_L = sign * tau (2,),
with unit first-layer directions e_k. On inputs where path k's pre-activation is non-negative the
hidden units stay non-negative, so each path acts linearly with gain tau_k^L.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._forward import NetworkResult, relu_forward, squared_frobenius
from .losses import feasible_dual_point

__all__ = ["ReLUNetworkSolution", "closed_form_solution", "two_path_layers"]


def two_path_layers(directions, taus, signs, depth: int):
    """Layers of the two-path network; directions (d, 2) unit columns, taus >= 0, signs +-1."""
    taus = np.asarray(taus, dtype=np.float64)
    first = np.asarray(directions, dtype=np.float64) * taus
    middle = [np.diag(taus) for _ in range(depth - 2)]
    return [first] + middle + [np.asarray(signs, dtype=np.float64) * taus]


@dataclass(frozen=True)
class ReLUNetworkSolution(NetworkResult):
    """An optimal bias-free ReLU network from a closed form, with its dual certificate.

    Attributes
    ----------
    layers : tuple of ndarray
        (d, m), (m, m), ..., (m,): ReLU after every layer but the last.
    primal_objective : float
        1/2||f(X) - y||^2 + (beta/2) sum_l ||W_l||_F^2, evaluated from ``layers``.
    dual_objective : float or None
        Dual objective at ``dual`` (two layers), else None (see ``dual_note``).
    dual : ndarray, shape (n,)
        The certified dual-feasible point when ``dual_objective`` is given, else the residual.
    dual_note : str
        Why ``dual_objective`` is None; empty otherwise.
    depth : int
    beta : float
    """

    layers: tuple[np.ndarray, ...]
    primal_objective: float
    dual_objective: float | None
    dual: np.ndarray
    dual_note: str
    depth: int
    beta: float

    _relu = True

    @property
    def first_layer(self) -> np.ndarray:
        """W_1, shape (d, m)."""
        return self.layers[0]

    @property
    def second_layer(self) -> np.ndarray:
        """The output weights of a two-layer network, shape (m,)."""
        if self.depth != 2:
            raise AttributeError("second_layer is defined for two-layer networks; use layers")
        return self.layers[1]


_NO_DUAL_DEEP = (
    "weight decay on L >= 3 layers is a non-convex penalty on the network's output, whose Fenchel "
    "dual is trivial; the closed form is exact (per-path scalar problems solved globally) but no "
    "dual objective is reported"
)


def closed_form_solution(X, y, beta, depth, layers, constraint) -> ReLUNetworkSolution:
    """Evaluate the network built by a closed form and attach its dual (two layers)."""
    yhat = relu_forward(X, layers)
    primal = 0.5 * float(np.sum((yhat - y) ** 2)) + 0.5 * beta * squared_frobenius(layers)
    if depth == 2:
        point = feasible_dual_point("squared", yhat, y, beta, constraint)
        dual, dual_objective, note = point.dual, point.dual_objective, ""
    else:
        dual, dual_objective, note = y - yhat, None, _NO_DUAL_DEEP
    return ReLUNetworkSolution(tuple(layers), primal, dual_objective, dual, note, depth, beta)
