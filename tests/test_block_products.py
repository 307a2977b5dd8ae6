"""The all-blocks gradient pass X^T D_i r: equal to numpy's masked product, the same bits for every
thread count."""

import numpy as np
import pytest

import dualnet
from dualnet import _core


def _problem(n, d, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    gates = rng.standard_normal((d, p))
    masks = X @ gates >= 0
    masks[:, 0] = True  # a full pattern: every word of it is all ones
    masks[: n // 2, p - 1] = False  # a pattern with long inactive and active runs
    r = rng.standard_normal(n)
    return X, masks, _core.PatternSet.from_masks(masks, gates), r


@pytest.mark.parametrize("n, d, p", [(1, 1, 1), (63, 3, 2), (200, 4, 7), (9000, 5, 40),
                                     (8300, 3, 300)])
def test_block_gradients_equal_numpy_masked_product(n, d, p):
    X, masks, patterns, r = _problem(n, d, p)
    expected = X.T @ (masks * r[:, None])
    scale = np.abs(X).T @ np.abs(r[:, None] * masks) + 1e-300
    got = _core.block_gradients(X, patterns, r)
    assert got.shape == (d, p)
    assert np.all(np.abs(got - expected) <= 1e-13 * scale)


def test_block_gradients_do_not_depend_on_the_thread_count():
    # 20000 rows are cut into several row tasks (and more than one wave for 2 or 3 threads).
    X, _, patterns, r = _problem(20000, 6, 270, seed=1)
    reference = _core.block_gradients(X, patterns, r, n_threads=1)
    for threads in (2, 3, 7, 0):
        np.testing.assert_array_equal(_core.block_gradients(X, patterns, r, n_threads=threads),
                                      reference)


def test_block_gradients_name_bad_arguments():
    X, _, patterns, r = _problem(100, 3, 4)
    with pytest.raises(ValueError, match="n_threads must be >= 0"):
        _core.block_gradients(X, patterns, r, n_threads=-1)
    with pytest.raises(ValueError, match="r has 99 entries but X has 100 rows"):
        _core.block_gradients(X, patterns, r[:99])
    with pytest.raises(ValueError, match="patterns has"):
        _core.block_gradients(X[:50], patterns, r[:50])
    assert _core.default_thread_count() >= 1


@pytest.mark.parametrize("model", ["gated", "relu"])
@pytest.mark.parametrize("n", [5000, 40000])
def test_solves_do_not_depend_on_the_thread_count(model, n):
    # From 32,768 rows the sweeps split each block update between two threads (n = 40000).
    rng = np.random.default_rng(3)
    X = rng.standard_normal((n, 3))
    y = np.maximum(X @ rng.standard_normal(3), 0) + 0.1 * rng.standard_normal(n)
    patterns = dualnet.activation_patterns(X, method="sample", n_gates=30, random_state=0)
    beta = 0.1 * dualnet.beta_max(X, y, patterns=patterns, model=model)
    one = dualnet.fit_relu(X, y, beta, patterns=patterns, model=model, n_threads=1, tol=1e-5)
    two = dualnet.fit_relu(X, y, beta, patterns=patterns, model=model, n_threads=2, tol=1e-5)
    np.testing.assert_array_equal(one.v, two.v)
    np.testing.assert_array_equal(one.w, two.w)
    assert one.dual_objective == two.dual_objective
    assert one.converged and one.relative_gap <= 1e-5
    with pytest.raises(ValueError, match="n_threads must be >= 1"):
        dualnet.fit_relu(X, y, beta, patterns=patterns, n_threads=0)


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 7, 8, 9, 20, 31, 32, 33])
def test_block_products_of_every_width_match_numpy(d):
    # Every row width the single-block products handle (vectorised kernels cover d <= 32 with a
    # masked last group of four; d = 33 takes the generic path), on n = 1000 rows (the last word
    # of each mask is partial) and patterns of every density: the primal objective a solve
    # reports is computed from the residual the block predictions build, and its blocks from the
    # block gradients; both are checked against numpy's masked products.
    rng = np.random.default_rng(d)
    n, p = 1000, 12
    X = rng.standard_normal((n, d))
    masks = rng.random((n, p)) < np.linspace(0.02, 1.0, p)
    masks[:, -1] = True
    masks[0, :] = True  # no empty pattern
    patterns = _core.PatternSet.from_masks(masks, rng.standard_normal((d, p)))
    y = (masks[:, :3] * (X @ rng.standard_normal((d, 3)))).sum(axis=1) + rng.standard_normal(n)
    beta = 0.05 * float(np.max(np.linalg.norm(X.T @ (masks * y[:, None]), axis=0)))
    solution = _core.solve_convex(X, y, patterns, beta, relu=False, tol=1e-8)
    v = np.asarray(solution.v)
    residual = y - (masks * (X @ v)).sum(axis=1)
    objective = 0.5 * residual @ residual + beta * np.linalg.norm(v, axis=0).sum()
    assert solution.n_active > 0
    assert abs(solution.primal_objective - objective) <= 1e-12 * objective
    # Optimality of every nonzero block: X^T D_i r = beta v_i / ||v_i|| (to the certified gap).
    gradients = X.T @ (masks * residual[:, None])
    for i in np.flatnonzero(np.linalg.norm(v, axis=0) > 0):
        unit = v[:, i] / np.linalg.norm(v[:, i])
        assert np.linalg.norm(gradients[:, i] - beta * unit) <= 1e-3 * beta


@pytest.mark.parametrize("d", [1, 3, 4, 5, 8, 20, 32, 33])
def test_block_update_then_next_gradient_matches_numpy(d):
    # The solver's sweeps add one block's prediction to the residual and take the next block's
    # gradient in one walk over the rows; both must equal the separate numpy products, for every
    # width the vectorised kernels handle (and d = 33, the generic path), partial last words, and
    # patterns of every density, including the same pattern twice.
    rng = np.random.default_rng(100 + d)
    n, p = 1000, 6
    X = rng.standard_normal((n, d))
    masks = rng.random((n, p)) < np.array([0.01, 0.3, 0.5, 0.9, 1.0, 0.5])
    patterns = _core.PatternSet.from_masks(masks, rng.standard_normal((d, p)))
    r = rng.standard_normal(n)
    u = rng.standard_normal(d)
    for i, nxt in [(0, 1), (2, 3), (3, 2), (4, 0), (5, 5), (1, 4)]:
        updated, gradient = _core.block_prediction_then_gradient(X, patterns, i, u, -0.7, r, nxt)
        expected_r = r - 0.7 * masks[:, i] * (X @ u)
        np.testing.assert_allclose(updated, expected_r, rtol=0, atol=1e-12)
        expected_gradient = X.T @ (masks[:, nxt] * expected_r)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=0,
                                   atol=1e-12 * np.abs(X).sum(axis=0).max() * np.abs(r).max())
    # A range of words (the sweeps' halves on a helper thread): the rows outside it are left
    # alone, and the two halves' gradients add up to the whole one.
    words = -(-n // 64)
    for i, nxt in [(1, 2), (3, 3), (4, 0)]:
        first_r, first = _core.block_prediction_then_gradient(X, patterns, i, u, -0.7, r, nxt,
                                                              word1=words // 2)
        both_r, second = _core.block_prediction_then_gradient(X, patterns, i, u, -0.7, first_r,
                                                              nxt, word0=words // 2)
        expected_r = r - 0.7 * masks[:, i] * (X @ u)
        split = 64 * (words // 2)
        np.testing.assert_array_equal(first_r[split:], r[split:])
        np.testing.assert_allclose(both_r, expected_r, rtol=0, atol=1e-12)
        scale = 1e-12 * np.abs(X).sum(axis=0).max() * np.abs(r).max()
        first_expected = X[:split].T @ (masks[:split, nxt] * expected_r[:split])
        np.testing.assert_allclose(first, first_expected, rtol=0, atol=scale)
        np.testing.assert_allclose(first + second, X.T @ (masks[:, nxt] * expected_r), rtol=0,
                                   atol=scale)
    with pytest.raises(ValueError, match=r"the words \[word0, word1\) = \[3, 2\)"):
        _core.block_prediction_then_gradient(X, patterns, 0, u, 1.0, r, 1, word0=3, word1=2)
    with pytest.raises(ValueError, match=r"next must be in \[0, 6\), got 6"):
        _core.block_prediction_then_gradient(X, patterns, 0, u, 1.0, r, 6)
    with pytest.raises(ValueError, match=rf"u has {d + 1} entries but X has {d} columns"):
        _core.block_prediction_then_gradient(X, patterns, 0, np.ones(d + 1), 1.0, r, 1)
