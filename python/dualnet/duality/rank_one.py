"""Closed-form optimal ReLU networks on rank-one data X = c a^T (docs/theory.md section 8).

(c a^T u)_+ = c_+ (a^T u)_+ + c_- (-a^T u)_+, so a bias-free ReLU network sees the data only through
the two features c_+ and c_- (disjoint supports), reached by the first-layer directions +-a/||a||
(Ergen & Pilanci, *Convex Duality of Deep Neural Networks*, 2020; *Convex Geometry and Duality of
Over-parameterized Neural Networks*, JMLR 2021). The two-layer problem is a Lasso on those two
orthogonal features:

    alpha_+- = ST(||a|| c_+-^T y, beta) / (||a||^2 ||c_+-||^2),
    yhat* = ||a|| (alpha_+ c_+ + alpha_- c_-),

with dual constraint ||a|| max(|lambda^T c_+|, |lambda^T c_-|) <= beta.

Deeper networks with c of one sign (say c >= 0) output f(a) c / ||a||-scaled: a network with
f(e) = z for a unit e costs at least (L/2)|z|^(2/L) (ReLU is 1-Lipschitz, then AM-GM on the layer
norms), reached by a width-one chain, so the problem is the scalar
min_gamma 1/2 (gamma - c^T y/||c||)^2 + (beta L/2) (|gamma| / (||a|| ||c||))^(2/L), solved exactly.
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
from ._one_dim import power_penalty_prox
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
        For depth >= 3 the entries of c must share one sign (all rows of X positive multiples of
        one vector, up to one global sign).
    rtol : float
        Largest accepted sigma_2(X) / sigma_1(X), and largest accepted share
        min(||c_+||, ||c_-||) / ||c|| of the minority sign for depth >= 3.

    Returns
    -------
    ReLUNetworkSolution
        Width 2: the paths along a/||a|| (feature c_+) and -a/||a|| (feature c_-).

    Raises
    ------
    ValueError
        If X is not rank one within ``rtol`` (the message gives sigma_2/sigma_1), if depth >= 3
        and c has both signs, on shape mismatch, or if beta <= 0.

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
    features = np.stack([np.maximum(c, 0.0), np.maximum(-c, 0.0)], axis=1)  # c_+, c_-
    feature_norms = np.linalg.norm(features, axis=0)
    if depth >= 3 and s[0] > 0.0:
        minority = float(feature_norms.min() / np.linalg.norm(c))
        if minority > rtol:
            raise ValueError(
                "rank_one_relu with depth >= 3 assumes c of one sign in X = c a^T; the minority "
                f"sign carries {minority:.3g} of ||c|| (rtol={rtol:g})"
            )
    safe = np.where(feature_norms > 0, feature_norms, 1.0)
    unit_features = features / safe
    correlations = unit_features.T @ y  # signed c_s^T y / ||c_s||
    gains = np.linalg.norm(a) * feature_norms  # ||a|| ||c_s||: output of a unit path on c_s
    q = 2.0 / depth
    gammas = np.zeros(2)
    for k in range(2):
        if gains[k] > 0:
            weight = 0.5 * beta * depth * gains[k] ** (-q)
            gammas[k] = np.sign(correlations[k]) * power_penalty_prox(
                np.abs(correlations[k]), weight, q
            )
    taus = (np.abs(gammas) / np.where(gains > 0, gains, 1.0)) ** (1.0 / depth)
    directions = np.stack([a, -a], axis=1)
    signs = np.where(gammas < 0, -1.0, 1.0)
    layers = two_path_layers(directions, taus, signs, depth)
    norm_a = float(np.linalg.norm(a))

    def constraint(lam):
        return norm_a * float(np.max(np.abs(features.T @ lam)))

    return closed_form_solution(X, y, beta, depth, layers, constraint)
