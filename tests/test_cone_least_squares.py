"""The least-squares solve of the cone projection and the block updates, argmin_z ||A_R z - rhs||
over the signed rows a_k = (2 [D_i]_kk - 1) x_k, against numpy's lstsq: independent columns
(the unpivoted QR, in fixed-capacity storage up to 64 features and on the heap beyond), and
duplicated, collinear or zero rows and more rows than features (the rank-revealing fallbacks)."""

import numpy as np
import pytest
from scipy.optimize import nnls

from dualnet import _core


def _cone(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    gates = rng.standard_normal((d, 2))
    masks = X @ gates >= 0
    return X, masks, _core.PatternSet.from_masks(masks, gates), rng


def _columns(X, masks, index, rows):
    signs = np.where(masks[rows, index], 1.0, -1.0)
    return (signs[:, None] * X[rows]).T


@pytest.mark.parametrize("d", [1, 3, 10, 64, 65, 80])
def test_independent_rows_give_the_least_squares_solution(d):
    X, masks, patterns, rng = _cone(2 * d + 5, d, seed=d)
    for m in sorted({1, max(1, d // 2), d}):
        rows = [int(k) for k in rng.choice(X.shape[0], size=m, replace=False)]
        rhs = rng.standard_normal(d)
        a = _columns(X, masks, 0, rows)
        expected = np.linalg.lstsq(a, rhs, rcond=None)[0]
        z = _core.cone_rows_least_squares(X, patterns, 0, rows, rhs)
        np.testing.assert_allclose(z, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())
        both = _core.cone_rows_least_squares(X, patterns, 0, rows, rhs, minimum_norm=True)
        np.testing.assert_allclose(both, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


def _degenerate(d, seed):
    """Rows with duplicates, a negated copy, a scaled copy, a combination and a zero row."""
    X, masks, patterns, rng = _cone(12, d, seed)
    X[3] = X[1]  # duplicate
    X[4] = -2.5 * X[1]  # collinear, other direction
    X[5] = X[0] + 1e-13 * X[2]  # collinear to round-off
    X[6] = 0.3 * X[0] - 1.7 * X[2]  # in the span of two others
    X[7] = 0.0  # zero row
    masks = X @ rng.standard_normal((d, 2)) >= 0
    return X, masks, _core.PatternSet.from_masks(masks, np.zeros((d, 2))), rng


@pytest.mark.parametrize("d", [3, 6, 70])
@pytest.mark.parametrize(
    "rows", [[1, 3], [1, 4, 2], [0, 5], [0, 2, 6], [7], [2, 7, 0], [0, 1, 2, 3, 4, 5, 6, 7, 8]]
)
def test_dependent_rows_fall_back_to_a_rank_revealing_solve(d, rows):
    X, masks, patterns, rng = _degenerate(d, seed=d + len(rows))
    for index in range(2):
        a = _columns(X, masks, index, rows)
        rhs = rng.standard_normal(d)
        # Basic solution: any least-squares solution has the least-squares residual.
        z = _core.cone_rows_least_squares(X, patterns, index, rows, rhs)
        assert z.shape == (len(rows),) and np.all(np.isfinite(z))
        best = np.linalg.lstsq(a, rhs, rcond=None)[0]
        scale = np.linalg.norm(rhs) + np.linalg.norm(a) * np.linalg.norm(best)
        assert np.linalg.norm(a @ z - rhs) <= np.linalg.norm(a @ best - rhs) + 1e-9 * scale
        # Minimum-norm solution: also a least-squares solution; pinv(A_R) rhs where the numerical
        # rank is clear-cut (no singular value between 1e-14 and 1e-6 of the largest).
        w = _core.cone_rows_least_squares(X, patterns, index, rows, rhs, minimum_norm=True)
        assert np.linalg.norm(a @ w - rhs) <= np.linalg.norm(a @ best - rhs) + 1e-9 * scale
        s = np.linalg.svd(a, compute_uv=False)
        if np.all((s > 1e-6 * s[0]) | (s < 1e-14 * s[0])):
            expected = np.linalg.pinv(a, rcond=1e-10) @ rhs
            np.testing.assert_allclose(w, expected, atol=1e-9 * (np.linalg.norm(expected) + 1))
            assert np.linalg.norm(w) <= np.linalg.norm(z) * (1 + 1e-9) + 1e-12


@pytest.mark.parametrize("seed", range(4))
def test_projection_with_dependent_rows_matches_nnls(seed):
    """Duplicated and collinear rows on the cone's faces: the projection and its bound agree with
    scipy's NNLS on min_{mu >= 0} ||c + A^T mu|| (Moreau: Proj_K(c) = c + A^T mu*)."""
    rng = np.random.default_rng(50 + seed)
    d = 4
    base = rng.standard_normal((6, d))
    X = np.vstack([base, base[:3], 2.0 * base[:2], base[0] + base[1], -base[2]])
    X = X[rng.permutation(len(X))]
    masks = X @ rng.standard_normal((d, 3)) >= 0
    masks[:, 2] = True
    patterns = _core.PatternSet.from_masks(masks, np.zeros((d, 3)))
    for index in range(3):
        a = _columns(X, masks, index, np.arange(len(X)))  # (d, n)
        for _ in range(5):
            c = rng.standard_normal(d)
            mu, _ = nnls(a, -c)
            expected = c + a @ mu
            u, bound = _core.project_onto_pattern_cone(X, patterns, index, c)
            np.testing.assert_allclose(u, expected, atol=1e-9 * np.linalg.norm(c))
            assert bound >= np.linalg.norm(expected) - 1e-9 * np.linalg.norm(c)
            assert bound == pytest.approx(np.linalg.norm(u), rel=1e-12, abs=1e-15)


def test_least_squares_names_bad_arguments():
    X, masks, patterns, _ = _cone(10, 3, 0)
    with pytest.raises(ValueError, match="rhs has 2"):
        _core.cone_rows_least_squares(X, patterns, 0, [1], np.ones(2))
    with pytest.raises(ValueError, match="row 10"):
        _core.cone_rows_least_squares(X, patterns, 0, [10], np.ones(3))
    assert _core.cone_rows_least_squares(X, patterns, 0, [], np.ones(3)).shape == (0,)


@pytest.mark.parametrize("d", [2, 8, 20])
def test_projection_matches_nnls_with_large_passive_sets(d):
    """Many rows and features: Lawson-Hanson's passive set grows to many rows and loses rows in
    the middle (the factor is kept up to the first changed row); the projection is scipy's."""
    rng = np.random.default_rng(d)
    n = 10 * d + 20
    X = rng.standard_normal((n, d))
    masks = X @ rng.standard_normal((d, 4)) >= 0
    masks[:, 3] = rng.random(n) < 0.5  # not a hyperplane pattern: small cones, big passive sets
    patterns = _core.PatternSet.from_masks(masks, np.zeros((d, 4)))
    for index in range(4):
        a = _columns(X, masks, index, np.arange(n))
        for _ in range(6):
            c = rng.standard_normal(d)
            mu, _ = nnls(a, -c, maxiter=50 * n)
            expected = c + a @ mu
            u, bound = _core.project_onto_pattern_cone(X, patterns, index, c)
            np.testing.assert_allclose(u, expected, atol=1e-8 * np.linalg.norm(c))
            assert bound == pytest.approx(np.linalg.norm(u), rel=1e-12, abs=1e-15)


def test_projection_ends_on_rows_whose_squares_are_subnormal():
    # Rows near 1e-154 square to subnormals: a row could re-enter the passive set right after
    # leaving it, with no scan in between, and the projection used to loop forever on such a cone
    # (here: a solve's rescaled rows with no curvature). It now stops after a bounded number of
    # steps with a certificate ||c + A^T mu|| from nonnegative multipliers. Run in a child process
    # so that a regression fails instead of hanging.
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import numpy as np
        from dualnet import _core
        rng = np.random.default_rng(0)
        X = np.hstack([rng.standard_normal((14, 2)), np.ones((14, 1))])
        gates = rng.standard_normal((3, 40))
        masks = X @ gates >= 0
        patterns = _core.PatternSet.from_masks(masks, gates)
        X[1:] *= 1.5e-154  # the cones stay the same: only the rows' lengths change
        for i in range(masks.shape[1]):
            for _ in range(20):
                c = rng.standard_normal(3)
                u, bound = _core.project_onto_pattern_cone(X, patterns, i, c)
                assert np.all(np.isfinite(u)) and np.isfinite(bound) and bound >= 0
        print("done")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("done")
