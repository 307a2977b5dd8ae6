"""Property tests of the duality toolkit over random shapes and regularization strengths."""

import dualnet
import numpy as np
import pytest
from dualnet.duality._one_dim import power_penalty_objective, power_penalty_prox
from hypothesis import given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=40, deadline=None)

seeds = st.integers(0, 2**32 - 1)
log_scales = st.floats(-3.0, 1.5)


def _problem(seed, n, d, K=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.3, 3.0)
    y = rng.standard_normal(n if K is None else (n, K))
    return X, y


@SETTINGS
@given(r=st.floats(0.0, 10.0), c=st.floats(1e-3, 5.0), L=st.integers(2, 6))
def test_power_penalty_prox_beats_a_dense_grid(r, c, L):
    q = 2.0 / L
    g = float(power_penalty_prox(np.array([r]), c, q)[0])
    grid = np.linspace(0.0, r, 20001)
    best = power_penalty_objective(grid, r, c, q).min()
    assert 0.0 <= g <= r
    assert power_penalty_objective(g, r, c, q) <= best + 1e-12 * max(1.0, r * r)


@SETTINGS
@given(seed=seeds, n=st.integers(1, 12), d=st.integers(1, 8), scale=log_scales)
def test_two_layer_scalar_zero_gap_and_feasible_dual(seed, n, d, scale):
    X, y = _problem(seed, n, d)
    beta = 10.0**scale * max(np.linalg.norm(X.T @ y), 1e-3)
    sol = dualnet.deep_linear(X, y, beta)
    assert abs(sol.duality_gap) <= 1e-9 * max(sol.primal_objective, 1e-12)
    assert np.linalg.norm(X.T @ sol.dual) <= beta * (1 + 1e-12)
    np.testing.assert_allclose(sol.layers[0] @ sol.layers[1], sol.reduced, atol=1e-10)


@SETTINGS
@given(seed=seeds, n=st.integers(1, 10), d=st.integers(1, 5), K=st.integers(1, 4), scale=log_scales)
def test_two_layer_vector_certified_gap(seed, n, d, K, scale):
    X, Y = _problem(seed, n, d, K)
    beta = 10.0**scale * max(np.linalg.norm(X.T @ Y, 2), 1e-3)
    sol = dualnet.deep_linear(X, Y, beta, tol=1e-9)
    assert sol.converged
    assert -1e-9 <= sol.duality_gap <= 1e-8 * max(sol.primal_objective, 1e-12)
    assert np.linalg.norm(X.T @ sol.dual, 2) <= beta * (1 + 1e-9)


@SETTINGS
@given(
    seed=seeds, n=st.integers(2, 10), d=st.integers(1, 6), depth=st.integers(3, 5), scale=log_scales
)
def test_deep_scalar_is_the_best_point_of_the_ridge_path(seed, n, d, depth, scale):
    X, y = _problem(seed, n, d)
    beta = 10.0**scale * max(np.linalg.norm(X.T @ y), 1e-3)
    sol = dualnet.deep_linear(X, y, beta, depth=depth)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    rhos = np.geomspace(1e-6, 1e6, 4001) * (s[0] ** 2 + 1e-12)
    W = (Vt.T @ ((s * (U.T @ y))[:, None] / (s[:, None] ** 2 + rhos[None, :]))).T
    path = 0.5 * np.sum((W @ X.T - y) ** 2, axis=1) + 0.5 * beta * depth * np.linalg.norm(
        W, axis=1
    ) ** (2 / depth)
    assert sol.primal_objective <= min(path.min(), 0.5 * y @ y) * (1 + 1e-10) + 1e-12
    norms = [np.sum(W**2) for W in sol.layers]
    np.testing.assert_allclose(norms, norms[0], rtol=1e-9, atol=1e-300)


@SETTINGS
@given(
    seed=seeds,
    n=st.integers(1, 6),
    extra=st.integers(0, 4),
    depth=st.integers(2, 4),
    scale=log_scales,
)
def test_whitened_zero_gap_and_balance(seed, n, extra, depth, scale):
    rng = np.random.default_rng(seed)
    d = n + extra
    X = np.linalg.qr(rng.standard_normal((d, n)))[0].T
    y = rng.standard_normal(n)
    beta = 10.0**scale * max(np.linalg.norm(y), 1e-3)
    sol = dualnet.whitened_relu(X, y, beta, depth=depth)
    norms = [np.sum(W**2) for W in sol.layers]
    np.testing.assert_allclose(norms, norms[0], rtol=1e-9, atol=1e-300)
    if depth == 2:
        assert abs(sol.duality_gap) <= 1e-10 * max(sol.primal_objective, 1e-12)
        lam = sol.dual
        assert max(
            np.linalg.norm(np.maximum(lam, 0)), np.linalg.norm(np.maximum(-lam, 0))
        ) <= beta * (1 + 1e-12)


@SETTINGS
@given(seed=seeds, n=st.integers(1, 8), d=st.integers(1, 5), scale=log_scales)
def test_rank_one_zero_gap(seed, n, d, scale):
    rng = np.random.default_rng(seed)
    c, a = rng.standard_normal(n), rng.standard_normal(d)
    X = np.outer(c, a)
    y = rng.standard_normal(n)
    beta = 10.0**scale * max(np.linalg.norm(X.T @ y), 1e-3)
    sol = dualnet.rank_one_relu(X, y, beta)
    assert abs(sol.duality_gap) <= 1e-10 * max(sol.primal_objective, 1e-12)


@SETTINGS
@given(beta=st.one_of(st.floats(max_value=0.0), st.just(float("nan")), st.just(float("inf"))))
def test_non_positive_beta_is_rejected_everywhere(beta):
    X = np.eye(2)
    for fn in (dualnet.deep_linear, dualnet.whitened_relu, dualnet.rank_one_relu):
        with pytest.raises(ValueError, match="beta"):
            fn(
                X if fn is not dualnet.rank_one_relu else np.outer([1.0, 2.0], [1.0, 0.0]),
                [1.0, -1.0],
                beta,
            )


def _two_signed_rank_one(seed, n, d):
    rng = np.random.default_rng(seed)
    c = rng.standard_normal(n) * rng.uniform(0.3, 3.0)
    a = rng.standard_normal(d)
    y = rng.standard_normal(n) + rng.choice([-1.0, 1.0]) * rng.choice([c, np.abs(c)])
    return np.outer(c, a), y


@SETTINGS
@given(
    seed=seeds, n=st.integers(2, 10), d=st.integers(1, 5), depth=st.integers(3, 6), scale=log_scales
)
def test_rank_one_deep_never_loses_to_its_candidates(seed, n, d, depth, scale):
    """The deep rank-one optimum: its layers reproduce its objective, and it is no worse than the
    zero network, the separate two-path optimum, or a perturbation of its half-line outputs."""
    X, y = _two_signed_rank_one(seed, n, d)
    beta = 10.0**scale
    sol = dualnet.rank_one_relu(X, y, beta, depth=depth)
    out = sol.predict(X)
    norms = [float(np.sum(W**2)) for W in sol.layers]
    assert sol.primal_objective == pytest.approx(
        0.5 * np.sum((out - y) ** 2) + 0.5 * beta * sum(norms), rel=1e-12, abs=1e-12
    )
    np.testing.assert_allclose(norms, norms[0], rtol=1e-9, atol=1e-300)  # balanced layers
    assert sol.primal_objective <= 0.5 * y @ y * (1 + 1e-12)
    # moving the outputs z_+- along the half-lines never helps (R_L from docs/theory.md s. 8)
    vt = np.linalg.svd(X, full_matrices=False)[2]
    unit = vt[0]
    z = np.array([sol.predict(unit[None])[0], sol.predict(-unit[None])[0]])
    c = X @ unit
    cp_, cm = np.maximum(c, 0), np.maximum(-c, 0)
    q = 2 / depth

    def reduced(zz):
        fit = zz[0] * cp_ + zz[1] * cm
        same = zz[0] * zz[1] >= 0
        pen = (abs(zz[0]) + abs(zz[1])) ** q if same else abs(zz[0]) ** q + abs(zz[1]) ** q
        return 0.5 * np.sum((fit - y) ** 2) + beta * depth / 2 * pen

    assert reduced(z) == pytest.approx(sol.primal_objective, rel=1e-9, abs=1e-12)
    rng = np.random.default_rng(seed)
    for step in rng.standard_normal((20, 2)) * 0.05 * (1 + np.abs(z).max()):
        assert reduced(z) <= reduced(z + step) + 1e-12 * max(1.0, sol.primal_objective)


@settings(max_examples=15, deadline=None)
@given(
    c=st.lists(st.floats(0.0, 5.0), min_size=1, max_size=3),
    lam=st.floats(1e-3, 5.0),
    L=st.integers(3, 6),
)
def test_quasi_norm_prox_beats_random_points(c, lam, L):
    from dualnet.duality._one_dim import quasi_norm_prox

    c = np.array(c)
    q = 2.0 / L
    s = quasi_norm_prox(c, lam, q)

    def f(points):
        penalty = np.sum(points**q, axis=-1) ** (1 / q)
        return 0.5 * np.sum((points - c) ** 2, axis=-1) + lam * penalty

    rng = np.random.default_rng(0)
    points = rng.uniform(0, 1, (4000, c.size)) * c
    points[:1000] *= rng.integers(0, 2, (1000, c.size))  # sparse candidates
    assert np.all(s >= 0) and np.all(s <= c + 1e-12)
    assert f(s) <= f(points).min() + 1e-10 * max(1.0, float(c @ c))
