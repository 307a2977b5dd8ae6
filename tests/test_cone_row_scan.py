"""The cone projection's row scan (2 D_i - I) X u: equal to numpy's signed product for every row
length the vectorised kernel handles (and beyond, where the fallback runs), the same bits for every
row-block size."""

import numpy as np
import pytest

from dualnet import _core


def _problem(n, d, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    gates = rng.standard_normal((d, p))
    masks = X @ gates >= 0
    masks[:, 0] = True  # every row inside
    masks[:, 1] = False  # every row outside
    masks[: n // 3, 2] = ~masks[: n // 3, 2]  # a pattern the gates do not produce
    u, v = rng.standard_normal(d), rng.standard_normal(d)
    return X, masks, _core.PatternSet.from_masks(masks, gates), u, v


def _expected(X, masks, index, u):
    signs = np.where(masks[:, index], 1.0, -1.0)
    return signs * (X @ u), np.abs(X) @ np.abs(u) + 1e-300


# Row lengths 1-9 and 20 cover every lane count of the last group of four; 31-33 the largest
# vectorised length and the first one past it.
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 31, 32, 33])
@pytest.mark.parametrize("n", [1, 3, 4, 5, 131, 4101])
def test_row_products_equal_numpy_signed_product(n, d):
    X, masks, patterns, u, v = _problem(n, d, 4, seed=n + d)
    for index in range(4):
        expected_u, scale_u = _expected(X, masks, index, u)
        expected_v, scale_v = _expected(X, masks, index, v)
        au, none = _core.cone_row_products(X, patterns, index, u)
        assert none is None
        assert au.shape == (n,)
        assert np.all(np.abs(au - expected_u) <= 1e-14 * scale_u)
        au2, av = _core.cone_row_products(X, patterns, index, u, v)
        np.testing.assert_array_equal(au2, au)  # the two-vector scan gives the same bits for u
        assert np.all(np.abs(av - expected_v) <= 1e-14 * scale_v)


@pytest.mark.parametrize("d", [3, 8, 20, 33])
def test_row_products_do_not_depend_on_the_row_blocks(d):
    X, _, patterns, u, v = _problem(9001, d, 3, seed=d)
    for index in range(3):
        au, av = _core.cone_row_products(X, patterns, index, u, v)
        for block_rows in (64, 128, 4096):
            bu, bv = _core.cone_row_products(X, patterns, index, u, v, block_rows=block_rows)
            np.testing.assert_array_equal(bu, au)
            np.testing.assert_array_equal(bv, av)


def test_row_products_name_bad_arguments():
    X, _, patterns, u, v = _problem(100, 3, 3)
    with pytest.raises(ValueError, match="u has 2 entries but X has 3 columns"):
        _core.cone_row_products(X, patterns, 0, u[:2])
    with pytest.raises(ValueError, match="d has 4 entries but X has 3 columns"):
        _core.cone_row_products(X, patterns, 0, u, np.ones(4))
    with pytest.raises(ValueError, match="index 3 is out of range for 3 patterns"):
        _core.cone_row_products(X, patterns, 3, u)
    with pytest.raises(ValueError, match="block_rows must be a nonnegative multiple of 64"):
        _core.cone_row_products(X, patterns, 0, u, block_rows=100)
    with pytest.raises(ValueError, match="patterns has"):
        _core.cone_row_products(X[:50], patterns, 0, u)


def _scan_inputs(n, seed):
    rng = np.random.default_rng(seed)
    au = rng.standard_normal(n)
    ad = rng.standard_normal(n)
    inverse = rng.uniform(0.1, 2.0, n)
    # Edge values: signed zeros, NaN, zero rows (inverse norm 0), and exact ties of the tests.
    special = rng.choice(n, size=min(n, 12), replace=False)
    for j, k in enumerate(special):
        kind = j % 6
        if kind == 0:
            au[k] = -0.0
        elif kind == 1:
            au[k] = np.nan
        elif kind == 2:
            ad[k] = np.nan
        elif kind == 3:
            inverse[k] = 0.0
        elif kind == 4:
            ad[k], au[k] = -2.0, 1.0  # max(0, au) == t * -ad at t = 0.5
        else:
            au[k], inverse[k] = -0.25, 1.0  # -au * inverse == floor at floor = 0.25
    return au, ad, inverse


@pytest.mark.parametrize("n", [1, 3, 4, 5, 63, 64, 65, 200, 1001])
@pytest.mark.parametrize("floor, moving, t", [(0.25, -1e-12, 0.5), (-1.0, -0.3, 1.0),
                                              (0.0, 0.0, 0.0)])
def test_scan_tests_equal_numpy(n, floor, moving, t):
    au, ad, inverse = _scan_inputs(n, seed=n)
    above, crossed, worst = _core.cone_scan_tests(au, ad, inverse, floor=floor, moving=moving, t=t)
    with np.errstate(invalid="ignore"):
        expected_above = -au * inverse > floor
        # std::max(0, a) is 0 for a NaN; np.fmax(a, 0) is the same.
        expected_crossed = (ad * inverse < moving) & (np.fmax(au, 0.0) <= t * -ad)
        violations = -au * inverse
    np.testing.assert_array_equal(above, expected_above)
    np.testing.assert_array_equal(crossed, expected_crossed)
    assert worst == max(floor, np.nanmax(np.append(violations, floor)))


def test_scan_tests_name_bad_arguments():
    with pytest.raises(ValueError, match="one length, got 3, 2 and 3"):
        _core.cone_scan_tests(np.ones(3), np.ones(2), np.ones(3), floor=0.0, moving=0.0, t=1.0)
