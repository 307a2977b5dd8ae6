"""Certificates for networks trained anywhere: objective, certified lower bound, gap.

For any two-layer ReLU network (U, a), weak duality gives (docs/theory.md sections 2, 6, 7)

    p* >= D(lambda) = lambda^T y - 1/2 ||lambda||^2

for every lambda with max_{u in K_i, ||u|| <= 1} |lambda^T D_i X u| <= beta over all patterns i.
:func:`certify` starts from the network's residual r = y - yhat (the dual optimum when the
network is optimal), bounds each pattern's constraint from above with the certified cone bound of
``_core.project_onto_pattern_cone``, and scales r by the best t in [0, 1/s] (s = max_i bound_i /
beta), since D(t r) is a concave parabola in t. With a complete pattern set the bound is global;
with a sampled one it holds for the program restricted to those patterns.

:func:`certify_linear` does the same for deep linear networks, whose dual constraint is a norm
of X^T lambda (sections 3-5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import (
    as_data_matrix,
    as_real_array,
    as_target_vector,
    check_positive,
    check_same_rows,
)
from ._forward import linear_forward, squared_frobenius
from .neurons import pattern_constraints

__all__ = ["Certificate", "certify", "certify_linear"]


@dataclass(frozen=True)
class Certificate:
    """How far a given network is from the global optimum, certified.

    Attributes
    ----------
    primal_objective : float
        The network's regularized objective (loss 1/2||.||^2 summed, weight decay beta/2).
    lower_bound : float
        A certified lower bound on the optimal objective (global when ``exact``).
    duality_gap : float
        primal_objective - lower_bound >= 0 (up to rounding): the network is within this of optimal.
    relative_gap : float
        duality_gap / primal_objective.
    dual : ndarray, shape (n,) or (n, K)
        The dual-feasible point whose objective is ``lower_bound``.
    exact : bool
        True when the bound holds for the unrestricted problem (complete pattern set, or a
        linear network); False when it holds relative to the given patterns only.
    scale : float
        s >= 1: the largest certified constraint value of the residual divided by beta.
    patterns : Patterns or None
        The patterns used (ReLU networks).
    """

    primal_objective: float
    lower_bound: float
    duality_gap: float
    relative_gap: float
    dual: np.ndarray
    exact: bool
    scale: float
    patterns: object = None


def _best_multiple(residual, y, scale):
    """argmax over t in [0, 1/scale] of D(t r) = t r^T y - t^2/2 ||r||^2, and D there."""
    rr = float(np.sum(residual * residual))
    ry = float(np.sum(residual * y))
    t = min(1.0 / scale, max(0.0, ry / rr)) if rr > 0 else 0.0
    return t, t * ry - 0.5 * t * t * rr


def _certificate(primal, residual, y, scale, exact, patterns=None):
    t, lower = _best_multiple(residual, y, scale)
    gap = primal - lower
    return Certificate(
        primal_objective=primal,
        lower_bound=lower,
        duality_gap=gap,
        relative_gap=gap / max(primal, np.finfo(float).tiny),
        dual=t * residual,
        exact=exact,
        scale=scale,
        patterns=patterns,
    )


def certify(X, y, beta, first_layer, second_layer=None, *, patterns=None, bias=None
            ) -> Certificate:
    """Certify a two-layer ReLU network (U, a) against the global optimum.

    Parameters
    ----------
    X : array-like, shape (n, d)
    y : array-like, shape (n,)
    beta : float
        Weight decay: objective 1/2||(X U)_+ a - y||^2 + beta/2 (||U||_F^2 + ||a||^2), > 0.
    first_layer : array-like, shape (d, m), or (d + 1, m) with bias (last row: hidden biases);
        or a network: a PyTorch ``nn.Sequential(Linear, ReLU, Linear)``, a fitted scikit-learn
        ``MLPRegressor`` with one ReLU hidden layer or a :class:`dualnet.ReLUFit` (then
        ``second_layer`` is omitted; read by :func:`dualnet.interop.network_weights`)
    second_layer : array-like, shape (m,), or None when ``first_layer`` is a network
    patterns : Patterns or bool ndarray (n, P), optional
        Default: ``dualnet.activation_patterns(X, bias=bias)`` (exact where enumeration is
        feasible). Sampled patterns give a bound relative to those patterns (``exact=False``).
    bias : bool or None
        Whether the hidden neurons have biases (regularized like the weights). None: False for
        arrays, as the network has them for a network. An output bias o fits in with bias=True
        as one more neuron (0, ..., 0, sqrt|o|) with output weight sign(o) sqrt|o| (then
        regularized too). scikit-learn's MLPRegressor with ``alpha`` minimises
        1/n (1/2||.||^2 + alpha/2 ||W||^2) on full batches, so it corresponds to beta = alpha
        (its intercepts are not penalized there).

    Returns
    -------
    Certificate

    Examples
    --------
    >>> import numpy as np
    >>> import dualnet
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((10, 2)); y = rng.standard_normal(10)
    >>> fit = dualnet.fit_relu(X, y, 0.5, tol=1e-10)
    >>> cert = dualnet.certify(X, y, 0.5, fit.first_layer, fit.second_layer)
    >>> cert.exact, bool(cert.relative_gap < 1e-5)
    (True, True)
    >>> random = dualnet.certify(X, y, 0.5, rng.standard_normal((2, 3)), rng.standard_normal(3))
    >>> bool(random.lower_bound <= fit.primal_objective <= random.primal_objective)
    True
    """
    from .._network import relu_network_objective
    from ..relu import _as_patterns, _augment

    X = as_data_matrix(X)
    n = X.shape[0]
    y = as_target_vector(y, n)
    beta = check_positive(beta, "beta")
    if second_layer is None:
        from ..interop import _network_weights

        if isinstance(first_layer, (np.ndarray, list)):
            raise TypeError("second_layer is required when first_layer is an array")
        first_layer, second_layer, bias = _network_weights(first_layer, bias, "first_layer")
        if second_layer.ndim != 1:
            raise ValueError(
                f"the network has {second_layer.shape[1]} outputs; certify handles one output"
            )
    elif bias is None:
        bias = False
    elif not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be a bool or None, got {type(bias).__name__}")
    Xa = _augment(X, bool(bias))
    U = as_data_matrix(first_layer, "first_layer")
    a = np.ascontiguousarray(as_real_array(second_layer, "second_layer"))
    if U.shape[0] != Xa.shape[1]:
        raise ValueError(
            f"first_layer has {U.shape[0]} rows but X has {X.shape[1]} columns"
            + (" (+1 for the bias)" if bias else "")
        )
    if a.shape != (U.shape[1],):
        raise ValueError(
            f"second_layer has shape {a.shape} but first_layer has {U.shape[1]} neurons"
        )
    patterns = _as_patterns(patterns, X, bool(bias), None)
    primal = relu_network_objective(Xa, y, beta, U, a)
    residual = y - np.maximum(Xa @ U, 0.0) @ a
    _, _, _, bounds = pattern_constraints(Xa, residual, patterns)
    scale = max(1.0, float(bounds.max(initial=0.0)) / beta)
    return _certificate(primal, residual, y, scale, bool(patterns.exact), patterns)


def certify_linear(X, y, beta, layers, *, formulation="weight_decay", t=1.0) -> Certificate:
    """Certify a linear network (W_1, ..., W_L) against the global optimum.

    Two layers, or formulation "constrained" (B) with ||W_l||_F <= t on layers 1..L-2: the dual
    constraint ||X^T lambda|| <= beta / t^(L-2) (spectral norm for vector outputs) certifies the
    bound. Formulation "weight_decay" with L >= 3 has no useful dual (docs/theory.md section 4);
    the bound is then the exact optimum computed by :func:`deep_linear` where it is certified
    (scalar outputs, or vector outputs on data with equal singular values).

    Parameters
    ----------
    X : array-like, shape (n, d)
    y : array-like, shape (n,) or (n, K)
    beta : float
    layers : sequence of arrays, shapes (d, m1), (m1, m2), ..., (m_{L-1},) or (m_{L-1}, K)
    formulation : {"weight_decay", "constrained"}
    t : float
        Frobenius bound of formulation B (checked: a network violating it raises ValueError).

    Returns
    -------
    Certificate

    Examples
    --------
    >>> import numpy as np
    >>> from dualnet.duality.certify import certify_linear
    >>> rng = np.random.default_rng(1)
    >>> X = rng.standard_normal((8, 3)); y = rng.standard_normal(8)
    >>> cert = certify_linear(X, y, 0.5, [rng.standard_normal((3, 2)), rng.standard_normal(2)])
    >>> bool(cert.duality_gap >= 0), cert.exact
    (True, True)
    """
    from .linear import deep_linear

    X = as_data_matrix(X)
    n = X.shape[0]
    Y = as_real_array(y, "y")
    if Y.ndim == 2:
        check_same_rows(n, Y.shape[0], "y")
    else:
        Y = as_target_vector(Y, n)
    beta = check_positive(beta, "beta")
    t = check_positive(t, "t")
    if isinstance(layers, np.ndarray) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a sequence of weight arrays, got {type(layers).__name__}")
    layers = [as_real_array(W, f"layers[{i}]") for i, W in enumerate(layers)]
    depth = len(layers)
    if depth < 2:
        raise ValueError(f"layers must hold at least two weight arrays, got {depth}")
    if layers[0].ndim != 2 or layers[0].shape[0] != X.shape[1]:
        raise ValueError(
            f"the first layer must have shape ({X.shape[1]}, m), got {layers[0].shape}"
        )
    try:
        out = linear_forward(X, layers)
    except ValueError as exc:
        raise ValueError(f"layers do not chain: {exc}") from None
    if out.shape != Y.shape:
        raise ValueError(f"the network outputs shape {out.shape} but y has shape {Y.shape}")
    constrained = formulation == "constrained" and depth >= 3
    if formulation not in ("weight_decay", "constrained"):
        raise ValueError(
            f"formulation must be 'weight_decay' or 'constrained', got {formulation!r}"
        )
    if constrained:
        norms = [float(np.linalg.norm(W)) for W in layers[: depth - 2]]
        if max(norms) > t * (1 + 1e-12):
            raise ValueError(
                f"formulation='constrained' needs ||W_l||_F <= t={t:g} on layers 1..L-2; "
                f"the largest is {max(norms):.6g}"
            )
    penalized = layers[-2:] if constrained else layers
    primal = 0.5 * float(np.sum((out - Y) ** 2)) + 0.5 * beta * squared_frobenius(penalized)
    residual = Y - out
    if depth == 2 or constrained:
        bound = beta / t ** (depth - 2) if constrained else beta
        norm = np.linalg.norm(X.T @ residual, 2 if Y.ndim == 2 else None)
        return _certificate(primal, residual, Y, max(1.0, float(norm) / bound), True)
    optimum = deep_linear(X, Y, beta, depth=depth)
    if not optimum.exact:
        raise ValueError(
            "no certified bound for formulation='weight_decay' with depth >= 3 and vector outputs "
            "on data whose non-zero singular values differ (the duality gap is non-zero in general)"
        )
    lower = optimum.primal_objective
    return Certificate(
        primal_objective=primal,
        lower_bound=lower,
        duality_gap=primal - lower,
        relative_gap=(primal - lower) / max(primal, np.finfo(float).tiny),
        dual=optimum.dual,
        exact=True,
        scale=1.0,
    )
