"""Network helpers: exact map-back (theory section 7, O14) and cone decomposition."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualnet._network import (
    cone_decomposition,
    map_back,
    relu_network_objective,
    relu_network_predict,
)
from reference.convex_programs import convex_objective
from reference.gradient_descent import network_objective
from reference.planar_patterns import planar_patterns


def _planar_problem(seed, n=8):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    Z = np.column_stack([x, np.ones(n)])
    y = np.cos(3 * x) + 0.1 * rng.standard_normal(n)
    masks, gates = planar_patterns(Z)
    return rng, Z, y, masks, gates


def _cone_feasible_blocks(rng, Z, masks, gates):
    # Nonnegative multiples of an interior gate, plus a perturbation small enough to stay inside.
    P = masks.shape[1]
    signs = np.where(masks, 1.0, -1.0)
    blocks = []
    for _ in range(2):
        b = gates * rng.exponential(size=P) * (rng.random(P) < 0.6)
        for i in range(P):
            slack = np.min(signs[:, i] * (Z @ b[:, i]))
            step = rng.standard_normal(2)
            step *= 0.5 * slack / (np.linalg.norm(Z, axis=1).max() * np.linalg.norm(step))
            b[:, i] += step
        assert np.all(signs * (Z @ b) >= 0)
        blocks.append(b)
    return blocks


def test_objective_matches_independent_formula():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((7, 3)), rng.standard_normal(7)
    U, a = rng.standard_normal((3, 5)), rng.standard_normal(5)
    assert relu_network_objective(X, y, 0.3, U, a) == pytest.approx(
        network_objective(X, y, 0.3, U, a), rel=1e-14
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_map_back_is_exact_on_cone_feasible_blocks(seed):
    rng, Z, y, masks, gates = _planar_problem(seed)
    v, w = _cone_feasible_blocks(rng, Z, masks, gates)
    first, second = map_back(v, w)
    n_nonzero = np.count_nonzero(np.linalg.norm(v, axis=0)) + np.count_nonzero(
        np.linalg.norm(w, axis=0)
    )
    assert first.shape == (2, n_nonzero) and second.shape == (n_nonzero,)
    np.testing.assert_allclose(np.abs(second), np.linalg.norm(first, axis=0), rtol=1e-14)
    np.testing.assert_allclose(
        relu_network_predict(Z, first, second), np.sum(masks * (Z @ (v - w)), axis=1), atol=1e-12
    )
    for beta in [0.01, 1.0]:
        assert relu_network_objective(Z, y, beta, first, second) == pytest.approx(
            convex_objective(Z, y, masks, beta, v, w), rel=1e-12
        )


def test_map_back_needs_cone_feasibility():
    # A block outside its cone changes the network output: exactness is a property of K_i.
    rng, Z, y, masks, gates = _planar_problem(4)
    v = np.zeros_like(gates)
    v[:, 0] = -gates[:, 0]
    first, second = map_back(v)
    assert not np.allclose(relu_network_predict(Z, first, second), np.sum(masks * (Z @ v), axis=1))


def test_map_back_of_zero_is_the_empty_network():
    first, second = map_back(np.zeros((3, 4)), np.zeros((3, 4)))
    assert first.shape == (3, 0) and second.shape == (0,)
    with pytest.raises(ValueError, match="w has shape"):
        map_back(np.zeros((3, 4)), np.zeros((3, 5)))


@pytest.mark.parametrize("seed", [5, 6])
def test_cone_decomposition_keeps_predictions_and_is_cone_feasible(seed):
    rng, Z, y, masks, gates = _planar_problem(seed)
    u = rng.standard_normal(gates.shape) * (rng.random(gates.shape[1]) < 0.7)
    v, w = cone_decomposition(Z, masks, gates, u)
    np.testing.assert_allclose(v - w, u, atol=1e-12)
    signs = np.where(masks, 1.0, -1.0)
    scale = np.abs(Z).max() * (np.abs(v).max() + 1)
    assert np.min(signs * (Z @ v)) >= -1e-12 * scale
    assert np.min(signs * (Z @ w)) >= -1e-12 * scale
    gated = np.sum(masks * (Z @ u), axis=1)
    first, second = map_back(v, w)
    np.testing.assert_allclose(relu_network_predict(Z, first, second), gated, atol=1e-10)
    # Same predictions, larger norm.
    norms_u = np.linalg.norm(u, axis=0)
    norms_vw = np.linalg.norm(v, axis=0) + np.linalg.norm(w, axis=0)
    assert np.all(norms_vw >= norms_u - 1e-12)
    assert np.any(norms_vw > norms_u * (1 + 1e-6))


def test_cone_decomposition_keeps_feasible_blocks_and_handles_degenerate_rows():
    rng, Z, y, masks, gates = _planar_problem(7)
    Z = np.vstack([Z, np.zeros(2), Z[0]])  # a zero row and a duplicate row
    masks, gates = planar_patterns(Z)
    u = 2.0 * gates
    u[:, 1] = -gates[:, 1]
    v, w = cone_decomposition(Z, masks, gates, u)
    np.testing.assert_array_equal(np.delete(v, 1, axis=1), np.delete(u, 1, axis=1))
    np.testing.assert_array_equal(w[:, 1], gates[:, 1])
    assert not np.any(np.delete(w, 1, axis=1)) and not np.any(v[:, 1])


def test_cone_decomposition_rejects_unknown_or_boundary_gates():
    rng, Z, y, masks, gates = _planar_problem(8)
    u = rng.standard_normal(gates.shape)
    signs = np.where(masks, 1.0, -1.0)
    i = next(i for i in range(u.shape[1]) if np.ptp(np.sign(signs[:, i] * (Z @ u[:, i]))) > 0)
    bad = gates.copy()
    bad[:, i] = np.nan
    with pytest.raises(ValueError, match=rf"gates\[:, {i}\]"):
        cone_decomposition(Z, masks, bad, u)
    bad[:, i] = -gates[:, i]  # inside the opposite cell
    with pytest.raises(ValueError, match="not strictly inside"):
        cone_decomposition(Z, masks, bad, u)
    with pytest.raises(ValueError, match="gates must have shape"):
        cone_decomposition(Z, masks, gates[:, :-1], u)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 12),
    n_repeats=st.integers(0, 3),
    scale=st.floats(1e-3, 1e3),
)
def test_cone_decomposition_property(seed, n, n_repeats, scale):
    rng = np.random.default_rng(seed)
    Z = scale * rng.standard_normal((n, 2))
    Z = np.vstack([Z, Z[rng.integers(0, n, n_repeats)] * rng.choice([-1.0, 1.0], (n_repeats, 1))])
    masks, gates = planar_patterns(Z)
    u = rng.standard_normal(gates.shape) / scale
    v, w = cone_decomposition(Z, masks, gates, u)
    signs = np.where(masks, 1.0, -1.0)
    size = scale * (np.abs(v).max() + np.abs(w).max())
    assert np.min(signs * (Z @ v)) >= -1e-12 * size
    assert np.min(signs * (Z @ w)) >= -1e-12 * size
    first, second = map_back(v, w)
    np.testing.assert_allclose(
        relu_network_predict(Z, first, second),
        np.sum(masks * (Z @ u), axis=1),
        atol=1e-9 * max(1.0, size),
    )
