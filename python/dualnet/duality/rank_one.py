"""Closed-form optimal ReLU networks on rank-one data X = c a^T (docs/theory.md section 8).

(c a^T u)_+ = c_+ (a^T u)_+ + c_- (-a^T u)_+, so a bias-free ReLU network sees the data only through
the two features c_+ and c_- (disjoint supports), reached by the first-layer directions +-a/||a||
(Ergen & Pilanci, *Convex Duality of Deep Neural Networks*, 2020; *Convex Geometry and Duality of
Over-parameterized Neural Networks*, JMLR 2021). The two-layer problem is a Lasso on those two
orthogonal features:

    alpha_+- = ST(||a|| c_+-^T y, beta) / (||a||^2 ||c_+-||^2),
    yhat* = ||a|| (alpha_+ c_+ + alpha_- c_-),

with dual constraint ||a|| max(|lambda^T c_+|, |lambda^T c_-|) <= beta.

Deeper networks (L >= 3, derived; docs/theory.md section 8). Only r = W_1^T a matters in the first
layer (W_1 = a r^T is cheapest), and the network's output is c_+ z_+ + c_- z_- with z_+- = g(+-a),
g the network as a function on R^d. After the first layer the two inputs +-a become r_+ and r_-,
orthogonal rows, so layers 2..L solve a whitened problem (section 9) on two rows scaled by
||r_+-||. Minimising over those norms gives the least weight decay R_L(z) of a network with
g(a) = z_+, g(-a) = z_-:

    R_L(z) = (L/2) (|z_+| + |z_-|)^(2/L)          if z_+ z_- >= 0 (one path after the split),
    R_L(z) = (L/2) (|z_+|^(2/L) + |z_-|^(2/L))    if z_+ z_- < 0  (two parallel paths).

For z_+ z_- >= 0 it is also a direct lower bound: for p, q >= 0 and any row w,
(w.p)_+ + (w.q)_+ <= ||w|| ||p + q||, so |z_+ + z_-| <= prod_l ||W_l||_F, then AM-GM.
With k_s = ||c_s||^2 and m_s = c_s^T y / k_s the problem is the two-variable

    min_z sum_s 1/2 k_s (z_s - m_s)^2 + beta R_L(z),

solved exactly: per sign (the prox of the power penalty) on the opposite-sign region; on the
same-sign region along the total S = |z_+| + |z_-|, a 1-D problem over the two pieces where the
loss is one quadratic in S. Same-sign optima have rank-one layers (one path carrying both
outputs); opposite-sign optima have rank-two hidden layers (two paths), the first layer always
rank one.
"""

from __future__ import annotations

import numpy as np

from .._validation import (
    MAX_DEPTH,
    as_data_matrix,
    as_target_vector,
    check_integer,
    check_positive,
)
from ._one_dim import power_penalty_interval_min, power_penalty_prox
from ._two_path import ReLUNetworkSolution, closed_form_solution, two_path_layers

__all__ = ["rank_one_relu"]


def rank_one_relu(X, y, beta, *, depth: int = 2, rtol: float = 1e-8) -> ReLUNetworkSolution:
    """The globally optimal bias-free ReLU network of ``depth`` layers on rank-one data X = c a^T.

    Parameters
    ----------
    X : array-like, shape (n, d), rank one (X = c a^T)
    y : array-like, shape (n,)
    beta : float
        Weight decay (beta/2) ||W_l||_F^2 on every layer, > 0.
    depth : int, default 2
        Number of weight layers; c may have both signs at every depth.
    rtol : float
        Largest accepted sigma_2(X) / sigma_1(X).

    Returns
    -------
    ReLUNetworkSolution
        Width 2. Two layers, or outputs z_+- = g(+-a/||a||) of opposite signs: the paths along
        a/||a|| (feature c_+) and -a/||a|| (feature c_-). Depth >= 3 with outputs of one sign:
        one path with rank-one layers carrying both. Depth >= 3 reports no dual objective
        (``dual_note`` says why); ``dual`` is then the residual y - f(X).

    Raises
    ------
    ValueError
        If X is not rank one within ``rtol`` (the message gives sigma_2/sigma_1), on shape
        mismatch, or if beta <= 0.

    Examples
    --------
    >>> import numpy as np
    >>> from dualnet import rank_one_relu
    >>> c = np.array([1.0, 2.0, -1.0]); a = np.array([0.6, 0.8])   # ||a|| = 1
    >>> sol = rank_one_relu(np.outer(c, a), [1.0, 3.0, 2.0], 1.0)
    >>> np.round(sol.predict(np.outer(c, a)), 12).tolist()   # ST(7, 1)/5 c_+, ST(2, 1)/1 c_-
    [1.2, 2.4, 1.0]
    >>> bool(abs(sol.duality_gap) < 1e-12)
    True
    >>> deep = rank_one_relu(np.outer(c, a), [1.0, 3.0, -2.0], 0.1, depth=3)
    >>> [int(np.linalg.matrix_rank(W)) for W in deep.layers[:-1]]  # opposite signs: two paths
    [1, 2]
    """
    X = as_data_matrix(X)
    n, d = X.shape
    y = as_target_vector(y, n)
    beta = check_positive(beta, "beta")
    depth = check_integer(depth, "depth", minimum=2, maximum=MAX_DEPTH)
    rtol = check_positive(rtol, "rtol")
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    if s[0] == 0.0:
        c, a = np.zeros(n), np.zeros(d)
    else:
        ratio = float(s[1] / s[0]) if s.size > 1 else 0.0
        if ratio > rtol:
            raise ValueError(
                "rank_one_relu assumes rank-one data X = c a^T; "
                f"sigma_2/sigma_1 = {ratio:.3g} exceeds rtol={rtol:g}"
            )
        c, a = U[:, 0] * s[0], Vt[0]  # ||a|| = 1
        # entries at rounding level are zero rows of X, not a second sign of c
        c = np.where(np.abs(c) <= 16 * np.finfo(float).eps * np.max(np.abs(c)), 0.0, c)
    features = np.stack([np.maximum(c, 0.0), np.maximum(-c, 0.0)], axis=1)  # c_+, c_-
    k = np.sum(features**2, axis=0)
    m = np.where(k > 0, features.T @ y / np.where(k > 0, k, 1.0), 0.0)
    z = _optimal_outputs(k, m, beta, depth)
    if depth >= 3 and z[0] * z[1] > 0:
        layers = _one_path_layers(a, z, depth)
    else:
        taus = np.abs(z) ** (1.0 / depth)
        signs = np.where(z < 0, -1.0, 1.0)
        layers = two_path_layers(np.stack([a, -a], axis=1), taus, signs, depth)

    def constraint(lam):  # two layers: ||a|| max_s |lambda^T c_s|, with ||a|| = 1
        return float(np.max(np.abs(features.T @ lam)))

    return closed_form_solution(X, y, beta, depth, layers, constraint)


def least_weight_decay(z, depth: int) -> float:
    """R_L(z): the least (1/2) sum_l ||W_l||_F^2 of a bias-free ReLU network with g(a) = z[0],
    g(-a) = z[1] for a unit vector a (module docstring)."""
    q = 2.0 / depth
    if z[0] * z[1] >= 0:
        return 0.5 * depth * float(np.abs(z[0]) + np.abs(z[1])) ** q
    return 0.5 * depth * float(np.abs(z[0]) ** q + np.abs(z[1]) ** q)


def _objective(z, k, m, beta, depth):
    return 0.5 * float(np.sum(k * (z - m) ** 2)) + beta * least_weight_decay(z, depth)


def _optimal_outputs(k, m, beta, depth):
    """argmin_z sum_s 1/2 k_s (z_s - m_s)^2 + beta R_L(z): best of every region's exact optimum."""
    q = 2.0 / depth
    separate = np.zeros(2)  # per half-line, the optimum on the opposite-sign region
    for s in range(2):
        if k[s] > 0:
            weight = 0.5 * beta * depth / k[s]
            separate[s] = np.sign(m[s]) * power_penalty_prox(abs(m[s]), weight, q)
    candidates = [np.zeros(2), separate]
    if np.all(k > 0):
        for sign in (1.0, -1.0):
            candidates.extend(sign * z for z in _same_sign_candidates(k, sign * m, beta, depth))
    values = [_objective(z, k, m, beta, depth) for z in candidates]
    return candidates[int(np.argmin(values))]


def _same_sign_candidates(k, m, beta, depth):
    """Minimisers over z >= 0 on each piece of the total S = z_+ + z_-.

    For fixed S the loss is minimised on {z >= 0, sum z = S} by z_s = m_s + (S - M) / (K k_s)
    (M = m_+ + m_-, K = 1/k_+ + 1/k_-) once both are >= 0, i.e. S >= b = max_s b_s with
    b_s = M - K k_s m_s; below b the coordinate with the larger b_s stays at 0. On each piece
    the objective is A/2 (S - S0)^2 + beta (L/2) S^(2/L) up to a constant.
    """
    q = 2.0 / depth
    M, K = m[0] + m[1], 1.0 / k[0] + 1.0 / k[1]
    b_s = M - K * k * m
    low = int(np.argmax(b_s))  # the coordinate held at 0 for S < b
    other = 1 - low
    b = max(float(b_s[low]), 0.0)
    out = []
    if b > 0:
        S = power_penalty_interval_min(m[other], 0.5 * beta * depth / k[other], q, 0.0, b)
        z = np.zeros(2)
        z[other] = S
        out.append(z)
    S = power_penalty_interval_min(M, 0.5 * beta * depth * K, q, b, np.inf)
    out.append(np.maximum(m + (S - M) / (K * k), 0.0))
    return out


def _one_path_layers(a, z, depth):
    """Width-2 network with rank-one layers realising g(a) = z_+, g(-a) = z_- of one sign.

    W_1 = tau a (u_+, -u_-) splits +-a into two channels; W_2 = tau u u^T merges them,
    W_l = tau u u^T, w_L = sign tau u, with S = |z_+| + |z_-|, tau = S^(1/L),
    u = (|z_+|, |z_-|)^(1/2) / S^(1/2): every layer has ||W_l||_F = tau and
    (1/2) sum ||W_l||^2 = (L/2) S^(2/L) = R_L(z).
    """
    total = float(np.abs(z).sum())
    tau = total ** (1.0 / depth)
    u = np.sqrt(np.abs(z) / total)
    sign = float(np.sign(z[0]))
    first = tau * np.outer(a, [u[0], -u[1]])
    middle = [tau * np.outer(u, u) for _ in range(depth - 2)]
    return [first] + middle + [sign * tau * u]
