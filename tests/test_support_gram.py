"""The Gram matrix of a support's design (dualnet/support_gram.hpp), by row signatures and by
chunked rank updates, against A^T A and A^T y formed in numpy."""

import numpy as np
import pytest

from dualnet import _core


def _support(n, g, k, seed=0, X=None):
    rng = np.random.default_rng(seed)
    if X is None:
        X = rng.standard_normal((n, g))
    gates = rng.standard_normal((g, k))
    masks = np.ascontiguousarray(X @ gates >= 0)
    signs = [float(s) for s in rng.choice([-1.0, 1.0], size=k)]
    y = rng.standard_normal(len(X))
    return X, masks, _core.PatternSet.from_masks(masks, gates), signs, y


def _numpy_gram(X, masks, signs, y):
    A = np.hstack([s * masks[:, [b]] * X for b, s in enumerate(signs)])
    return A.T @ A, A.T @ y


def _assert_matches(X, masks, signs, y, gram, c):
    gram_ref, c_ref = _numpy_gram(X, masks, signs, y)
    assert gram.shape == gram_ref.shape and c.shape == c_ref.shape
    np.testing.assert_allclose(gram, gram_ref, rtol=0, atol=1e-12 * np.abs(gram_ref).max())
    np.testing.assert_allclose(c, c_ref, rtol=0, atol=1e-12 * np.abs(c_ref).max())
    np.testing.assert_array_equal(gram, gram.T)


@pytest.mark.parametrize("n, g, k", [(500, 4, 6), (3000, 20, 10), (257, 3, 1), (64, 7, 5)])
def test_both_ways_match_numpy(n, g, k):
    X, masks, patterns, signs, y = _support(n, g, k)
    grouped = _core.support_gram(X, patterns, signs, y, method="grouped")
    chunked = _core.support_gram(X, patterns, signs, y, method="chunked")
    assert grouped[2] and not chunked[2]
    for gram, c, _ in (grouped, chunked):
        _assert_matches(X, masks, signs, y, gram, c)


def test_auto_groups_few_blocks_on_many_rows_and_not_tiny_problems():
    X, masks, patterns, signs, y = _support(20000, 20, 10)
    gram, c, grouped = _core.support_gram(X, patterns, signs, y)
    assert grouped  # at most 1,024 signatures for 20,000 rows
    _assert_matches(X, masks, signs, y, gram, c)
    X, masks, patterns, signs, y = _support(2000, 5, 3)
    assert not _core.support_gram(X, patterns, signs, y)[2]  # rank updates are cheaper there


def test_degenerate_rows_duplicates_zeros_and_rows_in_no_block():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 6))
    X[100:150] = X[0]  # 51 copies of one row
    X[200:220] = 0.0  # zero rows: active in every pattern (X g >= 0), contribute nothing
    X, masks, patterns, signs, y = _support(0, 6, 8, seed=4, X=X)
    masks[250:, :] = False  # rows in no support block
    patterns = _core.PatternSet.from_masks(np.ascontiguousarray(masks), np.zeros((6, 8)))
    for method in ("grouped", "chunked", "auto"):
        gram, c, _ = _core.support_gram(X, patterns, signs, y, method=method)
        _assert_matches(X, masks, signs, y, gram, c)


def test_falls_back_to_rank_updates_beyond_the_cap_or_64_blocks():
    # 20 random blocks on 5,000 rows of R^20: nearly every row has its own signature, more than
    # the accumulators' cap of 2^18 scalars (1,139 signatures of 230 sums each).
    X, masks, patterns, signs, y = _support(5000, 20, 20)
    gram, c, grouped = _core.support_gram(X, patterns, signs, y, method="grouped")
    assert not grouped
    _assert_matches(X, masks, signs, y, gram, c)
    X, masks, patterns, signs, y = _support(400, 3, 70)  # signatures take one word: k <= 64
    gram, c, grouped = _core.support_gram(X, patterns, signs, y, method="grouped")
    assert not grouped
    _assert_matches(X, masks, signs, y, gram, c)


def test_empty_support_and_bad_arguments():
    X, masks, patterns, signs, y = _support(100, 4, 3)
    empty = _core.PatternSet.from_masks(np.zeros((100, 0), dtype=bool), np.zeros((4, 0)))
    gram, c, _ = _core.support_gram(X, empty, [], y)
    assert gram.shape == (0, 0) and c.shape == (0,)
    with pytest.raises(ValueError, match="2 signs for 3 patterns"):
        _core.support_gram(X, patterns, signs[:2], y)
    with pytest.raises(ValueError, match="y has 99 entries"):
        _core.support_gram(X, patterns, signs, y[:99])
    with pytest.raises(ValueError, match="method must be"):
        _core.support_gram(X, patterns, signs, y, method="dense")
