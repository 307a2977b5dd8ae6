"""The Newton polish's two-level preconditioner (dualnet/deflated_preconditioner.hpp) against its
formula in numpy, its positive definiteness with an approximate coarse product, and its effect
on conjugate gradients for a Hessian of overlapping pattern blocks."""

import numpy as np
import pytest

from dualnet import _core


def _overlapping_blocks(n=400, g=5, k=12, seed=0, curvature=20.0):
    # The gated polish's Hessian A^T A + curvature on k blocks D_b X of random half-space
    # patterns, its exact block-diagonal inverse, the coarse space E (identity in every block)
    # and the solver's approximation of H E (each block's Gram times its mean row coverage).
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, g))
    masks = X @ rng.standard_normal((g, k)) >= 0
    A = np.hstack([masks[:, [b]] * X for b in range(k)])
    H = A.T @ A + curvature * np.eye(g * k)
    block_inverse = np.zeros_like(H)
    for b in range(k):
        part = slice(b * g, (b + 1) * g)
        block_inverse[part, part] = np.linalg.inv(H[part, part])
    coarse = np.tile(np.eye(g), (k, 1))
    coverage = (masks.T.astype(float) @ masks.astype(float)).sum(axis=1) / masks.sum(axis=0)
    approximate = np.vstack(
        [coverage[b] * (X.T @ (masks[:, [b]] * X)) + curvature * np.eye(g) for b in range(k)]
    )
    return H, block_inverse, coarse, approximate


def _formula(block_inverse, coarse, hessian_coarse):
    small = coarse.T @ hessian_coarse
    C = np.linalg.inv(0.5 * (small + small.T))
    F = np.eye(len(block_inverse)) - hessian_coarse @ C @ coarse.T
    return coarse @ C @ coarse.T + F.T @ block_inverse @ F


def _pcg_iterations(H, apply, tol=1e-8):
    b = np.random.default_rng(1).standard_normal(len(H))
    x, r = np.zeros_like(b), b.copy()
    z = apply(r)
    p, rz = z.copy(), r @ z
    for iteration in range(1, 10 * len(H)):
        hp = H @ p
        alpha = rz / (p @ hp)
        x += alpha * p
        r -= alpha * hp
        if np.linalg.norm(r) <= tol * np.linalg.norm(b):
            assert np.linalg.norm(H @ x - b) <= 2 * tol * np.linalg.norm(b)
            return iteration
        z = apply(r)
        rz, previous = r @ z, rz
        p = z + (rz / previous) * p
    raise AssertionError("conjugate gradients did not converge")


@pytest.mark.parametrize("exact", [True, False])
def test_preconditioner_matches_formula_and_is_positive_definite(exact):
    H, block_inverse, coarse, approximate = _overlapping_blocks()
    hessian_coarse = H @ coarse if exact else approximate
    identity = np.eye(len(H))
    P, active = _core.deflated_preconditioner(block_inverse, coarse, hessian_coarse, identity)
    assert active
    np.testing.assert_allclose(P, _formula(block_inverse, coarse, hessian_coarse), atol=1e-10)
    np.testing.assert_allclose(P, P.T, atol=1e-10)
    assert np.linalg.eigvalsh(0.5 * (P + P.T)).min() > 0
    if exact:
        # With the exact H E, P H is the identity on the coarse space: P H E = E.
        np.testing.assert_allclose(P @ H @ coarse, coarse, atol=1e-8)


def test_preconditioner_cuts_conjugate_gradient_iterations():
    # The coarse directions (the same weights in every block) carry Hessian eigenvalues about
    # k / 2 times the rest; block Jacobi leaves them, the deflation removes them (here 25
    # iterations to a residual of 1e-2 against 17; the solver's Newton systems stop there).
    H, block_inverse, coarse, approximate = _overlapping_blocks(n=2000, g=10, k=20, curvature=50.0)

    def deflated(r):
        applied, _ = _core.deflated_preconditioner(block_inverse, coarse, approximate, r[:, None])
        return applied[:, 0]

    jacobi = _pcg_iterations(H, lambda r: block_inverse @ r, tol=1e-2)
    two_level = _pcg_iterations(H, deflated, tol=1e-2)
    assert two_level < 0.8 * jacobi, (two_level, jacobi)


def test_indefinite_coarse_matrix_falls_back_to_the_block_preconditioner():
    H, block_inverse, coarse, _ = _overlapping_blocks()
    x = np.random.default_rng(2).standard_normal((len(H), 3))
    P_x, active = _core.deflated_preconditioner(block_inverse, coarse, -coarse, x)
    assert not active
    np.testing.assert_allclose(P_x, block_inverse @ x, atol=1e-12)


def test_shape_mismatch_names_the_shapes():
    H, block_inverse, coarse, approximate = _overlapping_blocks()
    with pytest.raises(ValueError, match=r"coarse \(60, 5\).*x \(59, 1\)"):
        _core.deflated_preconditioner(block_inverse, coarse, approximate, np.ones((59, 1)))
