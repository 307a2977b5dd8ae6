"""Globally optimal deep linear networks and their convex duals (docs/theory.md sections 3-5).

Ergen & Pilanci, *Convex Duality of Deep Neural Networks* (2020) / *Revealing the Structure of Deep
Neural Networks via Convex Duality* (ICML 2021): weight decay on a deep linear network is a
(quasi-)norm penalty on the end-to-end map, and the optimal layers are low rank, balanced and
aligned. :func:`deep_linear` solves the reduced problem exactly and builds every layer from it.

Networks: X (n, d) -> X W_1 ... W_L, layers of shapes (d, m), (m, m), ..., (m,) for a scalar
output y (n,), or (m, K) for vector outputs Y (n, K). Loss 1/2||. - y||^2 (a sum).

Formulations (``formulation``):

- ``"weight_decay"`` (A): (beta/2) sum_l ||W_l||_F^2 on every layer. Depth 2 is the group-norm
  program min_w 1/2||Xw - y||^2 + beta ||w|| (scalar) or the nuclear-norm program
  min_W 1/2||XW - Y||^2 + beta ||W||_* (vector), both with zero duality gap. For depth L >= 3 the
  penalty becomes (beta L/2) ||w||^(2/L), or the Schatten-2/L quasi-norm sum_k sigma_k(W)^(2/L):
  non-convex, solved exactly along the ridge path (scalar) or per singular value (vector, exact when
  the non-zero singular values of X are equal).
- ``"constrained"`` (B, depth >= 3): ||W_l||_F <= t on layers 1..L-2 and weight decay on the last
  two. Scalar output: min_w 1/2||Xw - y||^2 + beta t^(2-L) ||w||, with zero duality gap. Vector
  output (derived): the least cost of W = W_1 ... W_L is beta t^(2-L) min prod_l ||W_l||_F =
  beta t^(2-L) ||W||_{S_{2/L}} with ||W||_{S_p} = (sum_k sigma_k(W)^p)^(1/p) (the balanced
  factorisation has prod_l ||W_l||_F = (sum_k sigma_k^(2/L))^(L/2)), so the reduced problem is
  min_W 1/2||XW - Y||^2 + beta t^(2-L) ||W||_{S_{2/L}}, non-convex. Its Lagrangian dual (the
  paper's, constraint ||X^T Lambda||_2 <= beta t^(2-L)) is the nuclear-norm program with weight
  beta t^(2-L): a lower bound, equal to the optimum iff some optimum has rank <= 1 (Wang, Ergen &
  Pilanci, ICLR 2023: a non-zero gap in general).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._validation import (
    as_data_matrix,
    as_target_vector,
    MAX_DEPTH,
    check_integer,
    check_positive,
    check_same_rows,
)
from ..exceptions import ConvergenceWarning
from ._forward import NetworkResult, linear_forward, squared_frobenius
from ._one_dim import increasing_root, power_penalty_prox, quasi_norm_prox
from .losses import feasible_dual_point

__all__ = ["DeepLinearSolution", "deep_linear"]

_FORMULATIONS = ("weight_decay", "constrained")
_NO_DUAL_DEEP = (
    "weight decay on L >= 3 layers gives the non-convex penalty (beta L/2) ||w||^(2/L) on the "
    "end-to-end map, whose Fenchel dual is trivial; formulation='constrained' has a zero-gap dual"
)
_GAP_VECTOR_B = (
    "formulation B with vector outputs: dual_objective is the optimum of its Lagrangian dual (the "
    "nuclear-norm program with weight beta t^(2-L)), a certified lower bound; the gap is zero iff "
    "an optimal end-to-end map has rank <= 1 and positive otherwise (Wang, Ergen & Pilanci, 2023)"
)
_NO_DUAL_VECTOR = (
    "deep linear networks with vector outputs have a non-zero duality gap in general "
    "(Wang, Ergen & Pilanci, ICLR 2023); no dual objective is reported"
)


@dataclass(frozen=True)
class DeepLinearSolution(NetworkResult):
    """A globally optimal deep linear network and its dual certificate.

    Attributes
    ----------
    layers : tuple of ndarray
        Shapes (d, m), (m, m), ..., (m,) for scalar outputs or (m, K) for vector outputs.
    reduced : ndarray, shape (d,) or (d, K)
        The end-to-end map W_1 ... W_L (the solution of the reduced problem).
    primal_objective : float
        The network's regularized objective, evaluated from ``layers``.
    dual_objective : float or None
        Dual objective at ``dual`` where strong duality holds, else None (see ``dual_note``).
    dual : ndarray, shape (n,) or (n, K)
        lambda: the certified dual-feasible point when ``dual_objective`` is given, else the
        residual y - X w* (the multiplier of the stationarity condition).
    dual_note : str
        Why ``dual_objective`` is None, or, where the gap may be positive (formulation B with
        vector outputs), what ``dual_objective`` bounds; empty otherwise.
    exact : bool
        True when the network is a certified global optimum (to ``tol`` for iterative solves).
    converged : bool
        Whether the iterative solver (vector outputs) met ``tol``; True for closed forms.
        When False a ``dualnet.ConvergenceWarning`` was emitted.
    n_iter : int
        Iterations of the iterative solver (0 for closed forms and root finding).
    depth, formulation, beta, t
        The problem that was solved.
    """

    layers: tuple[np.ndarray, ...]
    reduced: np.ndarray
    primal_objective: float
    dual_objective: float | None
    dual: np.ndarray
    dual_note: str
    exact: bool
    converged: bool
    n_iter: int
    depth: int
    formulation: str
    beta: float
    t: float


def deep_linear(
    X,
    y,
    beta,
    *,
    depth: int = 2,
    width: int | None = None,
    formulation: str = "weight_decay",
    t: float = 1.0,
    tol: float = 1e-10,
    max_iter: int = 100_000,
) -> DeepLinearSolution:
    """The globally optimal linear network of ``depth`` layers, with its dual.

    Parameters
    ----------
    X : array-like, shape (n, d)
    y : array-like, shape (n,) or (n, K)
        Scalar or vector targets.
    beta : float
        Weight-decay strength, > 0 (penalty (beta/2) ||W_l||_F^2 per penalized layer).
    depth : int, default 2
        Number of layers L >= 2.
    width : int, optional
        Hidden width m. Default: 1 for scalar outputs, rank W* for vector outputs (m >= rank W*
        is required for the optimum to be representable).
    formulation : {"weight_decay", "constrained"}
        A: weight decay on every layer; B: ||W_l||_F <= t on layers 1..L-2 (depth >= 3) and
        weight decay on the last two. Both coincide at depth 2.
    t : float, default 1.0
        Frobenius bound of formulation B.
    tol : float
        Relative duality gap at which the nuclear-norm solver stops (vector outputs), and the
        relative step at which the Schatten-2/L iterations (A and B) stop.
    max_iter : int
        Iteration cap of those solvers.

    Returns
    -------
    DeepLinearSolution

    Raises
    ------
    ValueError
        On shape mismatch, beta <= 0, t <= 0, or width < rank W*.

    Examples
    --------
    >>> import numpy as np
    >>> from dualnet import deep_linear
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((20, 5)); y = rng.standard_normal(20)
    >>> sol = deep_linear(X, y, 0.7)
    >>> bool(abs(sol.duality_gap) < 1e-9)
    True
    >>> deep = deep_linear(X, y, 0.3, depth=3)
    >>> norms = [float(np.sum(W ** 2)) for W in deep.layers]   # balanced layers
    >>> bool(np.ptp(norms) < 1e-12), [W.shape for W in deep.layers]
    (True, [(5, 1), (1, 1), (1,)])
    >>> Q = np.linalg.qr(rng.standard_normal((20, 5)))[0]   # X^T X = I: exact for vector outputs
    >>> B = deep_linear(Q, rng.standard_normal((20, 2)), 0.5, depth=3, formulation="constrained")
    >>> B.exact, bool(B.duality_gap >= 0), round(float(np.linalg.norm(B.layers[0])), 12)  # t = 1
    (True, True, 1.0)
    """
    X = as_data_matrix(X)
    n = X.shape[0]
    Y = np.asarray(y)
    vector = Y.ndim == 2
    if vector:
        check_same_rows(n, Y.shape[0], "y")
        Y = as_data_matrix(Y, "y")
    else:
        Y = as_target_vector(Y, n)
    beta = check_positive(beta, "beta")
    depth = check_integer(depth, "depth", minimum=2, maximum=MAX_DEPTH)
    t = check_positive(t, "t")
    tol = check_positive(tol, "tol")
    max_iter = check_integer(max_iter, "max_iter", minimum=1)
    if width is not None:
        width = check_integer(width, "width", minimum=1)
    if formulation not in _FORMULATIONS:
        raise ValueError(f"formulation must be one of {_FORMULATIONS}, got {formulation!r}")
    constrained = formulation == "constrained" and depth >= 3
    # Weight on ||w|| of the convex (group-norm) programs: depth 2, and B with t^(L-2) folded in.
    beta_convex = beta / t ** (depth - 2) if constrained else beta

    svd = _thin_svd(X)
    converged, n_iter, exact = True, 0, True
    if not vector:
        if depth == 2 or constrained:
            w = _group_norm_solution(svd, Y, beta_convex)
        else:
            w = _deep_scalar_solution(svd, Y, beta, depth)
        layers = _scalar_layers(w, depth, width or 1, constrained, t)
    elif constrained:
        W, converged, n_iter, exact = _constrained_vector_solution(
            X, svd, Y, beta_convex, depth, tol, max_iter
        )
        layers = _constrained_matrix_layers(W, depth, width, t)
        w = W
    else:
        if Y.shape[1] == 1 and depth >= 3:  # a single output is the scalar problem
            W = _deep_scalar_solution(svd, Y[:, 0], beta, depth)[:, None]
        elif depth == 2:
            W, converged, n_iter = _nuclear_norm_solution(X, svd, Y, beta, tol, max_iter)
            exact = converged
        else:
            W, converged, n_iter, exact = _schatten_solution(X, svd, Y, beta, depth, tol, max_iter)
        layers = _matrix_layers(W, depth, width)
        w = W

    yhat = linear_forward(X, layers)
    penalized = layers[-2:] if constrained else layers
    primal = 0.5 * float(np.sum((yhat - Y) ** 2)) + 0.5 * beta * squared_frobenius(penalized)
    if depth == 2 or constrained:
        if vector:
            norm = lambda lam: np.linalg.norm(X.T @ lam, 2)
        else:
            norm = lambda lam: np.linalg.norm(X.T @ lam)
        note = ""
        dual_yhat = yhat
        if vector and constrained:  # the dual optimum comes from the convex relaxation
            W_convex, ok, _ = _nuclear_norm_solution(X, svd, Y, beta_convex, tol, max_iter)
            dual_yhat, note = X @ W_convex, _GAP_VECTOR_B
            converged = converged and ok
        point = feasible_dual_point("squared", dual_yhat, Y, beta_convex, norm)
        dual, dual_objective = point.dual, point.dual_objective
        if vector and constrained and not exact:  # a closed gap certifies a global optimum
            exact = primal - dual_objective <= 10 * tol * max(primal, np.finfo(float).tiny)
    else:
        dual, dual_objective = Y - yhat, None
        note = _NO_DUAL_VECTOR if (vector and Y.shape[1] > 1) else _NO_DUAL_DEEP
    if not converged:
        warnings.warn(
            f"deep_linear stopped after {n_iter} iterations (max_iter={max_iter}) before reaching "
            f"tol={tol:g} (a beta below the rounding level of X^T (y - yhat) cannot be certified "
            "to tol); the network is returned with its certified objectives",
            ConvergenceWarning,
            stacklevel=2,
        )
    return DeepLinearSolution(
        layers=tuple(layers),
        reduced=w,
        primal_objective=primal,
        dual_objective=dual_objective,
        dual=dual,
        dual_note=note,
        exact=exact,
        converged=converged,
        n_iter=n_iter,
        depth=depth,
        formulation=formulation,
        beta=beta,
        t=t,
    )


# --- reduced problems ------------------------------------------------------------------------


@dataclass(frozen=True)
class _SVD:
    U: np.ndarray  # (n, r), non-zero singular directions only
    s: np.ndarray  # (r,)
    Vt: np.ndarray  # (r, d)


def _thin_svd(X) -> _SVD:
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = s > (s[0] if s.size else 0.0) * max(X.shape) * np.finfo(float).eps
    return _SVD(U[:, keep], s[keep], Vt[keep])


def _ridge(svd: _SVD, g: np.ndarray, rho: float) -> np.ndarray:
    """Ridge solution (X^T X + rho I)^{-1} X^T y in the basis Vt, given g = S U^T y."""
    return g / (svd.s**2 + rho)


def _group_norm_solution(svd: _SVD, y, beta) -> np.ndarray:
    """argmin_w 1/2||Xw - y||^2 + beta ||w|| (section 3): 0 or the ridge point, rho||w|| = beta."""
    d = svd.Vt.shape[1]
    g = svd.s * (svd.U.T @ y)
    norm_g = float(np.linalg.norm(g))
    if norm_g <= beta:
        return np.zeros(d)
    # rho ||w(rho)|| increases from 0 to ||X^T y||; brackets from ||w(rho)|| <= ||w(0)|| and
    # ||w(rho)|| >= ||g|| / (s_max^2 + rho).
    lo = beta / float(np.linalg.norm(g / svd.s**2))
    hi = beta * svd.s[0] ** 2 / (norm_g - beta)
    rho = increasing_root(lambda r: r * np.linalg.norm(_ridge(svd, g, r)) - beta, lo, hi)
    return svd.Vt.T @ _ridge(svd, g, rho)


def _deep_scalar_solution(svd: _SVD, y, beta, depth, grid: int = 4001) -> np.ndarray:
    """argmin_w 1/2||Xw - y||^2 + (beta L/2) ||w||^(2/L), L >= 3 (section 4, formulation A).

    Every minimiser is 0 or a ridge point w(rho) with rho = beta ||w||^(2/L - 2). Along the ridge
    path the objective's derivative in rho has the sign of h(rho) - beta, h(rho) = rho ||w(rho)||^p,
    p = 2 - 2/L, so local minima along the path are the upward crossings of beta by h. All of them
    lie in [beta / ||w(0)||^p, (||X^T y||^p / beta)^(1/(p-1))]; a log grid of that interval finds
    every crossing (two crossings closer than one grid step would be a near-tangency whose two
    objective values agree to second order), bisection refines each, and the best of those and
    w = 0 is returned.
    """
    d = svd.Vt.shape[1]
    g = svd.s * (svd.U.T @ y)
    norm_g = float(np.linalg.norm(g))
    if norm_g == 0.0:
        return np.zeros(d)
    p = 2.0 - 2.0 / depth
    # Work in logs: for a tiny beta the bounds leave the float range. Beyond
    # rho = s_max^2 / (p - 1), d log h / d log rho = 1 - p avg_k rho / (s_k^2 + rho) < 0, so no
    # upward crossing lies there and the upper end is capped at twice that.
    log_lo = np.log(beta) - p * np.log(float(np.linalg.norm(g / svd.s**2)))
    log_hi = min(
        (p * np.log(norm_g) - np.log(beta)) / (p - 1.0),
        np.log(2.0 * svd.s[0] ** 2 / (p - 1.0)),
    )
    log_lo = max(log_lo, np.log(np.finfo(float).tiny))
    best_w, best_f = np.zeros(d), 0.5 * float(y @ y)
    if log_lo >= log_hi:
        return best_w
    lo, hi = float(np.exp(log_lo)), float(np.exp(log_hi))

    def h(rho):
        return rho * float(np.linalg.norm(_ridge(svd, g, rho))) ** p - beta

    def objective(coords):
        fit = svd.U @ (svd.s * coords)
        return 0.5 * float(np.sum((fit - y) ** 2)) + 0.5 * beta * depth * float(
            np.linalg.norm(coords)
        ) ** (2.0 / depth)

    rhos = np.geomspace(lo, hi, grid)
    coords = g[None, :] / (svd.s[None, :] ** 2 + rhos[:, None])
    values = rhos * np.linalg.norm(coords, axis=1) ** p - beta
    roots = [increasing_root(h, rhos[k], rhos[k + 1])
             for k in np.flatnonzero((values[:-1] <= 0.0) & (values[1:] > 0.0))]
    if values[0] > 0.0:  # beta below float resolution at the floor: the crossing is below lo
        roots.append(lo)
    for rho in roots:
        c = _ridge(svd, g, rho)
        f = objective(c)
        if f < best_f:
            best_f, best_w = f, svd.Vt.T @ c
    return best_w


def _svt(A, threshold):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return (U * np.maximum(s - threshold, 0.0)) @ Vt


def _nuclear_norm_solution(X, svd: _SVD, Y, beta, tol, max_iter):
    """argmin_W 1/2||XW - Y||_F^2 + beta ||W||_* by accelerated proximal gradient (section 5).

    Works on W = V Z in the row space of X (the null-space part only adds penalty): the gradient
    step is S(SZ - C), C = U^T Y, the prox singular-value thresholding, FISTA with adaptive
    restart (O'Donoghue & Candes 2015). Stops on the certified relative duality gap, with
    Lambda = Y - XW rescaled into ||X^T Lambda||_2 <= beta. When X^T X = c I on its row space the
    first step is the exact closed form W* = U (S - beta)_+ V^T of X^T Y.
    """
    d, K = X.shape[1], Y.shape[1]
    if svd.s.size == 0:
        return np.zeros((d, K)), True, 0
    S, C = svd.s[:, None], svd.U.T @ Y
    step = 1.0 / svd.s[0] ** 2
    const = 0.5 * float(np.sum(Y * Y) - np.sum(C * C))
    Z = np.zeros_like(C)
    V, momentum = Z.copy(), 1.0
    converged = False
    it = still = 0
    for it in range(1, max_iter + 1):
        Z_new = _svt(V - step * S * (S * V - C), step * beta)
        momentum_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * momentum**2))
        if np.sum((V - Z_new) * (Z_new - Z)) > 0.0:  # restart when the momentum points uphill
            momentum_new, V = 1.0, Z_new
        else:
            V = Z_new + (momentum - 1.0) / momentum_new * (Z_new - Z)
        moved = float(np.linalg.norm(Z_new - Z))
        Z, momentum = Z_new, momentum_new
        # Two steps in a row at rounding level: a fixed point. With beta below the rounding
        # level of X^T Lambda no float certificate can reach tol; stop instead of spinning.
        still = still + 1 if moved <= 4 * np.finfo(float).eps * float(np.linalg.norm(Z)) else 0
        if it % 10 == 1 or it == max_iter or still >= 2:
            R = C - S * Z  # residual in range(U); the rest of Y - XW is constant
            primal = (
                0.5 * float(np.sum(R * R))
                + const
                + beta * float(np.sum(np.linalg.svd(Z, compute_uv=False)))
            )
            scale = max(1.0, float(np.linalg.norm(S * R, 2)) / beta)
            # Lambda = (U R + (I - U U^T) Y) / scale; dual objective <Lambda, Y> - ||Lambda||^2/2.
            inner = float(np.sum(R * C)) + 2.0 * const
            sq = float(np.sum(R * R)) + 2.0 * const
            dual = (inner - 0.5 * sq / scale) / scale  # scale**2 may overflow for a tiny beta
            if primal - dual <= tol * max(primal, np.finfo(float).tiny):
                converged = True
                break
            if still >= 2:
                break
    return svd.Vt.T @ Z, converged, it


def _schatten_solution(X, svd: _SVD, Y, beta, depth, tol, max_iter):
    """Schatten-2/L reduction of deep weight decay, vector outputs (section 5).

    min_W 1/2||XW - Y||_F^2 + (beta L/2) sum_k sigma_k(W)^(2/L). The prox of the penalty acts on
    singular values one by one (von Neumann's trace inequality), each the exact non-convex scalar
    problem of :func:`power_penalty_prox`. When the non-zero singular values of X are equal the
    problem separates in the singular directions of X^T Y and one step is the global optimum.
    Otherwise the proximal-gradient iteration (monotone, step 1/sigma_max(X)^2) returns the better
    of two stationary points (from 0 and from the nuclear-norm solution), not certified global.
    """
    d, K = X.shape[1], Y.shape[1]
    if svd.s.size == 0:
        return np.zeros((d, K)), True, 0, True
    S, C = svd.s[:, None], svd.U.T @ Y
    step = 1.0 / svd.s[0] ** 2
    weight, q = 0.5 * beta * depth, 2.0 / depth

    def prox(A):
        U, s, Vt = np.linalg.svd(A, full_matrices=False)
        return (U * power_penalty_prox(s, step * weight, q)) @ Vt

    def objective(Z):
        sig = np.linalg.svd(Z, compute_uv=False)
        return 0.5 * float(np.sum((S * Z - C) ** 2)) + weight * float(np.sum(sig**q))

    isotropic = bool(svd.s[-1] >= svd.s[0] * (1.0 - 1e-12))
    starts = [np.zeros_like(C)]
    if not isotropic:
        W2, _, _ = _nuclear_norm_solution(X, svd, Y, beta, tol, max_iter)
        starts.append(svd.Vt @ W2)
    best, best_f, total, converged = None, np.inf, 0, True
    for Z in starts:
        ok = False
        for _ in range(1 if isotropic else max_iter):
            Z_new = prox(Z - step * S * (S * Z - C))
            total += 1
            moved = float(np.linalg.norm(Z_new - Z))
            Z = Z_new
            if moved <= tol * max(1.0, float(np.linalg.norm(Z))):
                ok = True
                break
        converged = converged and (ok or isotropic)
        f = objective(Z)
        if f < best_f:
            best, best_f = Z, f
    return svd.Vt.T @ best, converged, total, isotropic


def _constrained_vector_solution(X, svd: _SVD, Y, weight, depth, tol, max_iter):
    """argmin_W 1/2||XW - Y||_F^2 + weight ||W||_{S_{2/L}}: formulation B, vector outputs.

    The quasi-norm is unitarily invariant, so its prox acts on the singular values jointly
    (von Neumann's trace inequality) through :func:`quasi_norm_prox`. When the non-zero singular
    values of X are equal, one prox step of the data's least-squares map is the global optimum.
    Otherwise monotone accelerated proximal gradient (step 1/sigma_max(X)^2; a plain step, which
    cannot increase f, whenever the accelerated one would) runs from 0 and from the nuclear-norm
    solution (optimal when it has rank <= 1), and the better stationary point is returned, not
    certified global unless the duality gap closes.
    """
    d, K = X.shape[1], Y.shape[1]
    if svd.s.size == 0:
        return np.zeros((d, K)), True, 0, True
    S, C = svd.s[:, None], svd.U.T @ Y
    step = 1.0 / svd.s[0] ** 2
    q = 2.0 / depth

    def prox(A):
        U, sig, Vt = np.linalg.svd(A, full_matrices=False)
        return (U * quasi_norm_prox(sig, step * weight, q)) @ Vt

    def objective(Z):
        sig = np.linalg.svd(Z, compute_uv=False)
        return 0.5 * float(np.sum((S * Z - C) ** 2)) + weight * float(np.sum(sig**q)) ** (1 / q)

    isotropic = bool(svd.s[-1] >= svd.s[0] * (1.0 - 1e-12))
    if isotropic:
        return svd.Vt.T @ prox(C / svd.s[0]), True, 1, True
    W_convex, _, _ = _nuclear_norm_solution(X, svd, Y, weight, tol, max_iter)
    best, best_f, total, converged = None, np.inf, 0, True
    for Z in (np.zeros_like(C), svd.Vt @ W_convex):
        # accelerated steps, restarted with a plain (descent) step whenever f would increase
        ok, f, V, momentum = False, objective(Z), Z, 1.0
        while total < max_iter and not ok:
            Z_new = prox(V - step * S * (S * V - C))
            f_new = objective(Z_new)
            if f_new > f and momentum > 1.0:
                V, momentum = Z, 1.0
                continue
            total += 1
            momentum_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * momentum**2))
            moved = float(np.linalg.norm(Z_new - Z))
            V = Z_new + (momentum - 1.0) / momentum_new * (Z_new - Z)
            Z, f, momentum = Z_new, f_new, momentum_new
            ok = moved <= tol * max(1.0, float(np.linalg.norm(Z)))
        converged = converged and ok
        if f < best_f:
            best, best_f = Z, f
    return svd.Vt.T @ best, converged, total, False


# --- layers from the reduced solution ---------------------------------------------------------


def _scalar_layers(w, depth, width, constrained, t):
    """Rank-one, aligned layers of a scalar-output network whose product is w (section 4).

    A: W_1 = tau u v^T, W_l = tau v v^T, w_L = tau v, tau = ||w||^(1/L) (all norms equal).
    B: W_1 = t u v^T, W_l = t v v^T (l <= L-2), W_(L-1) = sqrt(r) v v^T, w_L = sqrt(r) v with
    r = ||w|| / t^(L-2). v = 1/sqrt(m) (every neuron active and parallel).
    """
    d = w.shape[0]
    v = np.full(width, 1.0 / np.sqrt(width))
    norm = float(np.linalg.norm(w))
    if norm == 0.0:
        return [np.zeros((d, width))] + [np.zeros((width, width))] * (depth - 2) + [np.zeros(width)]
    u = w / norm
    if constrained:
        head = [t * np.outer(u, v)] + [t * np.outer(v, v) for _ in range(depth - 3)]
        root = np.sqrt(norm / t ** (depth - 2))
        return head + [root * np.outer(v, v), root * v]
    tau = norm ** (1.0 / depth)
    return [tau * np.outer(u, v)] + [tau * np.outer(v, v) for _ in range(depth - 2)] + [tau * v]


def _matrix_layers(W, depth, width):
    """Layers with equal singular values sigma_k(W)^(1/L) whose product is W (section 5)."""
    U, sig, Vt = np.linalg.svd(W, full_matrices=False)
    rank = int(np.sum(sig > (sig[0] if sig.size else 0.0) * max(W.shape) * np.finfo(float).eps))
    if width is None:
        width = max(rank, 1)
    elif width < rank:
        raise ValueError(
            f"width={width} is below rank W* = {rank}: the optimum is not representable; "
            f"use width >= {rank}"
        )
    root = sig[:rank] ** (1.0 / depth)
    Q = np.eye(width)[:, :rank]  # orthonormal columns linking consecutive layers
    first = (U[:, :rank] * root) @ Q.T
    middle = (Q * root) @ Q.T
    last = (Q * root) @ Vt[:rank]
    return [first] + [middle.copy() for _ in range(depth - 2)] + [last]


def _constrained_matrix_layers(W, depth, width, t):
    """Formulation B layers: the balanced factorisation of W with ||W_l||_F = t on layers 1..L-2.

    The balanced layers all have ||W_l||_F^2 = sum_k sigma_k(W)^(2/L) =: s2; the first L-2 are
    scaled to norm t and the last two by (sqrt(s2)/t)^((L-2)/2), so their weight decay is
    beta t^(2-L) s2^(L/2) = beta t^(2-L) ||W||_{S_{2/L}} (module docstring).
    """
    layers = _matrix_layers(W, depth, width)
    s2 = float(np.sum(layers[0] ** 2))
    if s2 == 0.0:
        return layers
    head = [W_l * (t / np.sqrt(s2)) for W_l in layers[: depth - 2]]
    tail_scale = (np.sqrt(s2) / t) ** ((depth - 2) / 2)
    return head + [W_l * tail_scale for W_l in layers[depth - 2 :]]
