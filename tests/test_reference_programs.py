"""The test references themselves, against closed forms (theory sections 3, 7, 9) and each other."""

import itertools

import numpy as np
import pytest

from reference.convex_programs import convex_objective, solve_gated, solve_relu
from reference.gradient_descent import network_objective, train_relu_network
from reference.planar_patterns import planar_patterns

pytest.importorskip("cvxpy")


def _huber_like(r, beta):
    # Section 9: h(r) = r^2/2 if r <= beta else beta r - beta^2/2.
    return 0.5 * r * r if r <= beta else beta * r - 0.5 * beta * beta


def test_planar_patterns_count_and_coverage():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((9, 2))
    masks, gates = planar_patterns(Z)
    assert masks.shape == (9, 18)  # Cover: 2 (C(8, 0) + C(8, 1)) = 2n
    assert len({m.tobytes() for m in masks.T}) == 18
    sampled = Z @ rng.standard_normal((2, 20000)) >= 0
    assert {m.tobytes() for m in sampled.T} == {m.tobytes() for m in masks.T}
    # Degenerate rows: a duplicate, a sign flip and a zero row add no line.
    Zd = np.vstack([Z[:4], Z[0], -Z[1], np.zeros(2)])
    masks_d, _ = planar_patterns(Zd)
    assert masks_d.shape[1] == 8


def test_gated_reference_matches_group_lasso_closed_form():
    # One all-ones pattern and orthonormal columns: w* = (1 - beta/||X^T y||)_+ X^T y (section 3).
    rng = np.random.default_rng(1)
    X, _ = np.linalg.qr(rng.standard_normal((8, 3)))
    y = rng.standard_normal(8)
    beta = 0.3 * np.linalg.norm(X.T @ y)
    objective, v, w = solve_gated(X, y, np.ones((8, 1), bool), beta)
    expected = (1 - beta / np.linalg.norm(X.T @ y)) * (X.T @ y)
    np.testing.assert_allclose(v[:, 0], expected, atol=1e-7)
    at_closed_form = convex_objective(X, y, np.ones((8, 1)), beta, expected[:, None])
    assert objective == pytest.approx(at_closed_form, rel=1e-9)
    assert not np.any(w)


def test_relu_reference_matches_whitened_closed_form():
    # n <= d, X X^T = I: every sign vector is a pattern, P* = h(||y_+||) + h(||y_-||) (section 9).
    rng = np.random.default_rng(2)
    Q, _ = np.linalg.qr(rng.standard_normal((5, 3)))
    X = Q.T  # (3, 5) with orthonormal rows
    y = np.array([1.5, -0.7, 0.4])
    masks = np.array(list(itertools.product([False, True], repeat=3))).T
    for beta in [0.2, 0.8, 2.0]:
        objective, v, w = solve_relu(X, y, masks, beta)
        expected = _huber_like(np.linalg.norm(np.maximum(y, 0)), beta) + _huber_like(
            np.linalg.norm(np.maximum(-y, 0)), beta
        )
        assert objective == pytest.approx(expected, rel=1e-7, abs=1e-9)
        signs = (2 * masks - 1)
        assert np.min(signs * (X @ v)) > -1e-8 and np.min(signs * (X @ w)) > -1e-8


def test_gated_at_most_relu_and_equal_as_beta_vanishes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(7)
    Z = np.column_stack([x, np.ones(7)])
    y = rng.standard_normal(7)
    masks, _ = planar_patterns(Z)
    for beta in [0.05, 0.5, 2.0]:
        gated = solve_gated(Z, y, masks, beta).objective
        relu = solve_relu(Z, y, masks, beta).objective
        assert gated <= relu * (1 + 1e-8)
    # beta -> 0: both tend to the least-squares value over the expanded design [D_1 Z, ..., D_P Z].
    design = np.hstack([masks[:, [i]] * Z for i in range(masks.shape[1])])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    least_squares = 0.5 * np.sum((design @ coef - y) ** 2)
    gated = solve_gated(Z, y, masks, 1e-5).objective
    relu = solve_relu(Z, y, masks, 1e-5).objective
    assert least_squares <= gated <= relu < least_squares + 1e-3


def test_gradient_descent_never_beats_the_convex_optimum_with_complete_patterns():
    rng = np.random.default_rng(4)
    x = rng.standard_normal(6)
    Z = np.column_stack([x, np.ones(6)])
    y = np.sin(2 * x) + 0.1 * rng.standard_normal(6)
    beta = 0.1
    masks, _ = planar_patterns(Z)
    optimum = solve_relu(Z, y, masks, beta).objective
    gd = train_relu_network(Z, y, beta, width=8, n_starts=6, random_state=0)
    assert np.all(gd.objectives >= optimum * (1 - 1e-7))
    assert gd.objective == pytest.approx(
        network_objective(Z, y, beta, gd.first_layer, gd.second_layer)
    )
    # The oracle has teeth: a program restricted to two patterns is beaten by gradient descent.
    restricted = solve_relu(Z, y, masks[:, :2], beta).objective
    assert gd.objective < restricted


def test_gradient_descent_decreases_the_objective_from_its_start():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((10, 3))
    y = rng.standard_normal(10)
    gd = train_relu_network(X, y, 0.2, width=4, n_starts=1, random_state=1)
    start = np.random.default_rng(1)
    U0 = start.standard_normal((3, 4)) / np.sqrt(3)
    a0 = start.standard_normal(4) / 2
    assert gd.objective < network_objective(X, y, 0.2, U0, a0)
