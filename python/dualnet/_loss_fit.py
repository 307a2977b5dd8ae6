"""fit_relu under classification losses: logistic, hinge and softmax cross-entropy.

The convex programs of docs/theory.md section 7 with the loss of section 6 in place of the
squared loss. The compiled core solves them and certifies each result by a dual point built from
-grad L at the fit (rescaled into the dual feasible set and the conjugate's domain); the dual
objective reported here is recomputed from the conjugates of :mod:`dualnet.duality.losses`.
"""

from __future__ import annotations

import numpy as np

from . import _core
from ._network import cone_decomposition_of_patterns
from ._validation import (
    as_data_matrix,
    as_real_array,
    as_target_vector,
    check_choice,
    check_positive,
    check_positive_integer,
)
from .duality.losses import get_loss
from .exceptions import ConvergenceWarning

__all__ = ["fit_loss"]

LOSSES = ("squared", "logistic", "hinge", "cross_entropy")
HINGE_MAX_ITER = 10000  # the hinge's default outer iterations (Newton steps and multiplier moves)


def _as_one_hot(Y, n_rows: int) -> np.ndarray:
    Y = as_real_array(Y, "y")
    if Y.ndim != 2 or Y.shape[0] != n_rows:
        raise ValueError(
            f"y must be one-hot targets of shape (n_samples, n_classes) = ({n_rows}, K) for "
            f"loss='cross_entropy', got shape {Y.shape}"
        )
    if not np.all(np.isfinite(Y)):
        raise ValueError("y contains NaN or infinity")
    if Y.shape[1] < 2:
        raise ValueError(f"y must have at least 2 classes (columns), got {Y.shape[1]}")
    if not np.all((Y == 0.0) | (Y == 1.0)) or not np.all(Y.sum(axis=1) == 1.0):
        raise ValueError("y must be one-hot: every row holds a single 1 and zeros elsewhere")
    return np.ascontiguousarray(Y, dtype=np.float64)


def _as_signs(y, n_rows: int, loss: str) -> np.ndarray:
    y = as_target_vector(y, n_rows, "y")
    if not np.all((y == 1.0) | (y == -1.0)):
        raise ValueError(f"y must hold -1 and +1 only for loss={loss!r}")
    return y


def _neurons_of_matrix_blocks(X, patterns, V):
    """Network of the gated nuclear-norm blocks V (g, P, K).

    Each block's SVD V_i = sum_r s_r p_r q_r^T gives rank-one terms (s_r p_r) q_r^T; the gated
    weight s_r p_r is split into cone blocks v - w (cone decomposition with the pattern's gate),
    so (X v)_+ - (X w)_+ = D_i X s_r p_r on the training rows, and each cone block c becomes the
    neuron c / sqrt(||c||) with output weights +-sqrt(||c||) q_r.
    """
    g, P, K = V.shape
    columns, outputs, patterns_of = [], [], []
    for i in range(P):
        block = V[:, i, :]
        if not np.any(block):
            continue
        left, values, right = np.linalg.svd(block, full_matrices=False)
        for r in np.flatnonzero(values > values[0] * 1e-13):
            columns.append(values[r] * left[:, r])
            outputs.append(right[r])
            patterns_of.append(i)
    if not columns:
        return np.zeros((g, 0)), np.zeros((0, K))
    columns = np.array(columns).T
    index = np.array(patterns_of)
    try:
        v_cone, w_cone = cone_decomposition_of_patterns(X, patterns.pattern_set, index, columns)
    except ValueError as exc:
        raise ValueError(
            "patterns: model='gated' needs a strictly interior gate for every pattern "
            f"whose block leaves its cone ({exc})"
        ) from None
    first, second = [], []
    for cone_blocks, sign in ((v_cone, 1.0), (w_cone, -1.0)):
        for j in range(cone_blocks.shape[1]):
            norm = np.linalg.norm(cone_blocks[:, j])
            if norm == 0:
                continue
            first.append(cone_blocks[:, j] / np.sqrt(norm))
            second.append(sign * np.sqrt(norm) * outputs[j])
    return np.array(first).T, np.array(second)


def fit_loss(X, y, beta, *, loss, patterns, model, bias, tol, max_iter, random_state, verbose,
             warning=ConvergenceWarning, beta_name="beta", v0=None, w0=None, multipliers=None):
    """fit_relu for loss in {"logistic", "hinge", "cross_entropy"} (see :func:`dualnet.fit_relu`).

    Methods (all in the compiled core, GIL released, interruptible):

    - logistic and hinge, both programs: proximal Newton steps (Lee, Sun & Saunders, SIAM J.
      Optim. 2014). At the current prediction the loss's quadratic model with curvature h > 0
      turns the step into the squared-loss program on diag(sqrt h) X, with the same patterns and
      cones, solved by the squared-loss solver from the current blocks; a backtracking line
      search on the objective keeps the iterates monotone.
    - hinge: an augmented Lagrangian method in the margins (Rockafellar, Math. Oper. Res.
      1976). The steps minimise the hinge's envelope with step mu at multipliers q in [0, 1], a
      piecewise quadratic below the hinge; q moves to the envelope's p = clip(q + (1 - y yhat)
      / mu, 0, 1) whenever the envelope problem's own gap is below a tenth of the hinge's (mu
      starts at 1 and shrinks to 0.03 while the gap does not halve between moves). Objective, gap
      and dual point are those of the true hinge: the envelope's gradient gives p = y * lambda
      in [0, 1]; on the margin set p also comes from the stationarity of the nonzero blocks
      (least squares, clipped into [0, 1]). ``multipliers`` (shape (n,)), if given, start q
      (y * dual of an earlier solve on the same samples, for example). Newton steps and
      multiplier moves both count as iterations; ``max_iter=None`` allows 10000 of them (500 for
      the other losses).
    - binary losses: every subproblem's own certified dual point, mapped back by sqrt(h), is a
      further candidate (one Newton step ahead of -grad L); the best certified point is kept.
    - cross_entropy, ``model="gated"``: the exact vector-output program (Sahiner et al., ICLR
      2021) min CE(sum_i D_i X V_i, Y) + beta sum_i ||V_i||_* by block coordinate proximal
      gradient with singular-value shrinkage, accelerated by Anderson extrapolation.
    - cross_entropy, ``model="relu"``: one-vs-rest, K logistic ReLU programs on the targets
      2 Y[:, k] - 1; objectives, gaps and duals are their sums (columns for the dual).

    Certificate: lambda = -grad L(yhat) divided by max(1, max_i B_i / beta), B_i an upper bound of
    pattern i's dual norm (Euclidean, spectral for matrices, cone bound for ReLU), so the point is
    dual feasible and inside the conjugate's domain; dual objective -L*(-lambda).
    """
    check_choice(loss, "loss", LOSSES)
    from .relu import (
        _MODELS,
        ReLUFit,
        _as_patterns,
        _augment,
        _frozen_array,
        _network_of_blocks,
        _warn_if_not_converged,
    )

    X = as_data_matrix(X, "X")
    if loss == "cross_entropy":
        y = _as_one_hot(y, X.shape[0])
    else:
        y = _as_signs(y, X.shape[0], loss)
    check_choice(model, "model", _MODELS)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    bias = bool(bias)
    patterns = _as_patterns(patterns, X, bias, random_state)
    Xa = _augment(X, bias)
    beta = check_positive(beta, beta_name)
    tol = check_positive(tol, "tol")
    max_iter = check_positive_integer(max_iter, "max_iter", allow_none=True)
    if max_iter is None and loss == "hinge":
        # Its multiplier moves count as outer iterations too: many cheap ones.
        max_iter = HINGE_MAX_ITER
    options = {} if max_iter is None else {"max_iter": max_iter}
    g, P = Xa.shape[1], len(patterns)
    relu = model == "relu"

    if loss != "cross_entropy":
        solution = _core.solve_binary_loss(Xa, y, patterns.pattern_set, beta, loss=loss,
                                           relu=relu, tol=tol, verbose=bool(verbose), v0=v0,
                                           w0=w0, multipliers=multipliers, **options)
        v, w = _frozen_array(solution.v), _frozen_array(solution.w)
        dual = np.array(solution.dual)[:, 0]
        primal = float(solution.primal_objective)
        dual_objective = get_loss(loss).dual_objective(dual, y)
        first, second, extras = _network_of_blocks(Xa, patterns, model, v, w)
        converged, n_iter, status = bool(solution.converged), int(solution.n_iter), solution.status
        cone_violation = float(solution.max_cone_violation)
    elif not relu:
        K = y.shape[1]
        solution = _core.solve_cross_entropy_gated(Xa, y, patterns.pattern_set, beta, tol=tol,
                                                   verbose=bool(verbose), **options)
        V = np.array(solution.v).reshape(g, P, K)
        v, w = _frozen_array(V), _frozen_array(np.zeros_like(V))
        dual = np.array(solution.dual)
        primal = float(solution.primal_objective)
        dual_objective = get_loss("cross_entropy").dual_objective(dual, y)
        first, second = _neurons_of_matrix_blocks(Xa, patterns, V)
        extras = {"gates": _frozen_array(patterns.gates), "gated_weights": v}
        converged, n_iter, status = bool(solution.converged), int(solution.n_iter), solution.status
        cone_violation = 0.0
    else:
        K = y.shape[1]
        V, W = np.zeros((g, P, K)), np.zeros((g, P, K))
        dual = np.zeros((X.shape[0], K))
        primal = dual_objective = 0.0
        first, second = [], []
        converged, n_iter, cone_violation = True, 0, 0.0
        statuses = set()
        logistic = get_loss("logistic")
        for k in range(K):
            signs = np.ascontiguousarray(2.0 * y[:, k] - 1.0)
            solution = _core.solve_binary_loss(Xa, signs, patterns.pattern_set, beta,
                                               loss="logistic", relu=True, tol=tol,
                                               verbose=bool(verbose), **options)
            V[:, :, k], W[:, :, k] = solution.v, solution.w
            dual[:, k] = np.array(solution.dual)[:, 0]
            primal += float(solution.primal_objective)
            dual_objective += logistic.dual_objective(dual[:, k], signs)
            layer, output = _network_of_blocks(Xa, patterns, model, V[:, :, k], W[:, :, k])[:2]
            first.append(layer)
            one_hot = np.zeros((output.shape[0], K))
            one_hot[:, k] = output
            second.append(one_hot)
            converged = converged and bool(solution.converged)
            statuses.add(str(solution.status))
            n_iter = max(n_iter, int(solution.n_iter))
            cone_violation = max(cone_violation, float(solution.max_cone_violation))
        first, second = np.hstack(first), np.vstack(second)
        v, w = _frozen_array(V), _frozen_array(W)
        # A class that ran out of iterations outranks one that stalled (more iterations help).
        status = next(s for s in ("max_iter", "stalled", "converged") if s in statuses)
        extras = {}
    gap = primal - dual_objective
    fit = ReLUFit(
        primal_objective=primal,
        dual_objective=float(dual_objective),
        duality_gap=float(gap),
        relative_gap=float(gap / max(primal, np.finfo(float).tiny)),
        converged=converged,
        n_iter=n_iter,
        status=str(status),
        dual=_frozen_array(dual),
        first_layer=_frozen_array(first),
        second_layer=_frozen_array(second),
        v=v,
        w=w,
        patterns=patterns,
        model=model,
        bias=bias,
        beta=float(beta),
        max_cone_violation=cone_violation,
        loss=loss,
        **extras,
    )
    _warn_if_not_converged(fit, f"the {model} program with loss={loss!r}", tol, warning, 4)
    return fit
