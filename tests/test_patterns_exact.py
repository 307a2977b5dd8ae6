"""Exact enumeration of activation patterns against an LP brute force and Cover's formula."""

import math
import pathlib
import sys

import numpy as np
import pytest

import dualnet

sys.path.insert(0, str(pathlib.Path(__file__).parent / "reference"))
from brute_force_patterns import brute_force_patterns  # noqa: E402


def _cover(n, r):
    return 2 * sum(math.comb(n - 1, k) for k in range(r))


def _mask_set(patterns):
    return {tuple(bool(b) for b in col) for col in patterns.masks.T}


def _check_gates(X, patterns):
    """Every gate strictly interior and consistent with its mask (zero rows always active)."""
    Xa = np.hstack([X, np.ones((X.shape[0], 1))]) if patterns.bias else X
    gates = patterns.gates
    assert gates.shape == (Xa.shape[1], len(patterns))
    scores = Xa @ gates
    masks = patterns.masks
    zero = np.linalg.norm(Xa, axis=1) == 0
    scale = np.linalg.norm(Xa, axis=1)[:, None] * np.linalg.norm(gates, axis=0)[None, :]
    assert np.all(masks[zero])
    assert np.all(np.abs(scores[~zero]) > 1e-13 * scale[~zero])
    np.testing.assert_array_equal(scores[~zero] > 0, masks[~zero])


def _instances():
    rng = np.random.default_rng(3)
    base = rng.standard_normal((5, 3))
    line = np.cross([1.0, 2.0, 3.0], rng.standard_normal((4, 3)))  # 4 planes through one line
    from sklearn.datasets import load_iris

    iris = load_iris().data
    pick = np.random.default_rng(7).choice(150, 9, replace=False)
    return {
        "general-d2": rng.standard_normal((7, 2)),
        "general-d3": rng.standard_normal((8, 3)),
        "general-d4": rng.standard_normal((7, 4)),
        "duplicated-rows": np.vstack([base, base[:2], 2.5 * base[3:4]]),
        "sign-flipped-rows": np.vstack([base, -base[:2], -0.5 * base[4:5]]),
        "zero-rows": np.vstack([base[:3], np.zeros((2, 3)), base[3:]]),
        "rank-deficient": rng.standard_normal((7, 2)) @ rng.standard_normal((2, 4)),
        "planes-through-a-line": np.vstack([line, rng.standard_normal((3, 3))]),
        "integer-ties": rng.integers(-2, 3, (9, 3)).astype(float),
        "integer-ties-d4": rng.integers(-1, 2, (9, 4)).astype(float),
        "iris-centred": iris[pick, :3] - iris[:, :3].mean(axis=0),
        "iris-raw": iris[pick],
        "iris-duplicates": iris[[0, 4, 7, 17, 27, 28, 39, 40, 49]],
        "n-less-than-d": rng.standard_normal((3, 6)),
        "one-feature": rng.standard_normal((5, 1)),
        "all-zero": np.zeros((3, 2)),
    }


INSTANCES = _instances()


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_exact_equals_brute_force(name, bias):
    X = INSTANCES[name]
    expected = brute_force_patterns(X, bias=bias)
    patterns = dualnet.activation_patterns(X, bias=bias, method="exact")
    assert patterns.exact and patterns.method == "exact"
    assert len(patterns) == len(_mask_set(patterns)), "masks are not distinct"
    assert _mask_set(patterns) == expected
    assert patterns.exact_count == len(expected)
    assert dualnet.count_patterns(X, bias=bias) == len(expected)
    _check_gates(X, patterns)


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_counts_equal_cover_in_general_position(d):
    rng = np.random.default_rng(d)
    for n in (d + 1, 2 * d + 3, 12):
        X = rng.standard_normal((n, d))
        expected = _cover(n, d)
        assert dualnet.count_patterns(X) == expected
        patterns = dualnet.activation_patterns(X, method="exact")
        assert len(patterns) == expected
        _check_gates(X, patterns)


@pytest.mark.parametrize("n_d_count", [(6, 2, 12), (7, 3, 44), (8, 3, 58)])
def test_counts_quoted_in_theory(n_d_count):
    n, d, count = n_d_count
    X = np.random.default_rng(0).standard_normal((n, d))
    assert dualnet.count_patterns(X) == count
    assert len(dualnet.activation_patterns(X, method="exact")) == count


def test_one_feature_with_bias_has_2n_patterns():
    x = np.random.default_rng(1).standard_normal((40, 1))
    assert dualnet.count_patterns(x, bias=True) == 80
    patterns = dualnet.activation_patterns(x, bias=True, method="exact")
    assert len(patterns) == 80
    _check_gates(x, patterns)
    # Thresholds at the data points: the patterns are the 2n half-lines {x > c} and {x < c}.
    order = np.argsort(x[:, 0])
    for mask in patterns.masks.T:
        sorted_mask = mask[order]
        assert np.all(np.diff(sorted_mask.astype(int)) >= 0) or np.all(np.diff(sorted_mask.astype(int)) <= 0)


def test_all_zero_pattern_is_included_when_it_is_a_cell():
    # Rows in an open half-space: g = -e_1 deactivates every row, so the all-zero pattern is a cell.
    X = np.random.default_rng(2).standard_normal((10, 3))
    X[:, 0] = np.abs(X[:, 0]) + 0.1
    masks = dualnet.activation_patterns(X, method="exact").masks
    assert np.sum(~masks.any(axis=0)) == 1 and np.sum(masks.all(axis=0)) == 1
    # Centred data around the origin in every direction has neither.
    Y = np.vstack([np.eye(3), -np.eye(3)])
    masks = dualnet.activation_patterns(Y, method="exact").masks
    assert not np.any(~masks.any(axis=0)) and not np.any(masks.all(axis=0))


def test_iris_count_within_cover_bound_and_random_gates_covered():
    # On iris (ties, repeated rows) a naive ray enumeration invents patterns above Cover's bound.
    from sklearn.datasets import load_iris

    X = load_iris().data[:, :3]
    X = X - X.mean(axis=0)
    patterns = dualnet.activation_patterns(X, method="exact")
    distinct_rows = len({tuple(r / np.linalg.norm(r)) for r in np.round(X, 12)})
    assert len(patterns) <= _cover(distinct_rows, 3)
    assert dualnet.count_patterns(X) == len(patterns)
    _check_gates(X, patterns)
    exact = {m.tobytes() for m in patterns.masks.T}
    G = np.random.default_rng(0).standard_normal((3, 5000))
    assert all(m.tobytes() in exact for m in (X @ G > 0).T)


def test_count_patterns_in_degenerate_larger_case_matches_enumeration():
    rng = np.random.default_rng(5)
    X = rng.integers(-3, 4, (60, 3)).astype(float)
    patterns = dualnet.activation_patterns(X, method="exact")
    assert dualnet.count_patterns(X) == len(patterns) < _cover(60, 3)
    _check_gates(X, patterns)
