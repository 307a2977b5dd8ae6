"""Fuzzing pattern enumeration on degenerate data: repeated, sign-flipped, zero and scaled rows,
constant and duplicate columns, tiny and huge magnitudes, any memory layout.

Oracles: every pattern agrees with its gate (X g_i > 0 exactly on the active nonzero rows, zero
rows always active); patterns are distinct; an exact set has count_patterns(X) patterns, and on
tiny data exactly the sign vectors a linear program finds feasible (tests/reference); a sampled
set is a subset of the exact set.
"""

import numpy as np
import pytest
from fuzz_strategies import _apply_layout, examples
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference.brute_force_patterns import brute_force_patterns

import dualnet


@st.composite
def degenerate_data(draw, max_rows=9, max_cols=3, scales=(1.0, 1.0, 1e-150, 1e-8, 1e8, 1e150)):
    n = draw(st.integers(1, max_rows))
    d = draw(st.integers(1, max_cols))
    # Small integers make exact ties (parallel rows, rows through a common line) common.
    X = draw(hnp.arrays(np.float64, (n, d), elements=st.integers(-3, 3).map(float)))
    for _ in range(draw(st.integers(0, 3))):
        edit = draw(st.sampled_from(["repeat", "flip", "scale", "zero", "col_dup", "col_const"]))
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        if edit == "repeat":
            X[i] = X[j]
        elif edit == "flip":
            X[i] = -X[j]
        elif edit == "scale":
            X[i] = draw(st.sampled_from([0.5, 7.0, 1e-6])) * X[j]
        elif edit == "zero":
            X[i] = 0
        elif edit == "col_dup" and d >= 2:
            X[:, 1] = X[:, 0]
        elif edit == "col_const":
            X[:, 0] = draw(st.sampled_from([0.0, 1.0, -2.0]))
    X = X * draw(st.sampled_from(scales))
    layout = draw(st.sampled_from(["C", "F", "strided", "reversed", "readonly", "unaligned"]))
    return _apply_layout(draw, X, layout), draw(st.booleans())


def _exact(X, bias):
    """Exact patterns, or None where X is refused as degenerate beyond the enumeration's
    tolerance (hyperplanes nearly but not exactly coinciding: a ValueError naming X)."""
    try:
        return dualnet.activation_patterns(X, bias=bias, method="exact")
    except ValueError as exc:
        assert str(exc).startswith("X is degenerate beyond the relative tolerance"), exc
        return None


def _augmented(X, bias):
    X = np.asarray(X, dtype=np.float64)
    return np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X


def _check_consistent(patterns, Xa):
    masks, gates = patterns.masks, patterns.gates
    assert masks.shape == (Xa.shape[0], len(patterns)) and gates.shape == (Xa.shape[1], len(patterns))
    nonzero = np.any(Xa != 0, axis=1)
    assert np.all(masks[~nonzero]), "zero rows must be active in every pattern"
    margins = Xa[nonzero] @ gates
    np.testing.assert_array_equal(margins > 0, masks[nonzero])
    assert np.all(margins != 0), "gates must be strictly inside their cells"
    assert len({m.tobytes() for m in masks.T}) == len(patterns), "patterns must be distinct"


@examples(0.5)
@given(data=degenerate_data())
def test_exact_patterns_are_consistent_and_counted(data):
    X, bias = data
    patterns = _exact(X, bias)
    if patterns is None:
        return
    Xa = _augmented(X, bias)
    _check_consistent(patterns, Xa)
    assert patterns.exact and patterns.method == "exact"
    assert len(patterns) == dualnet.count_patterns(X, bias=bias) == patterns.exact_count


@examples(0.2)
@given(data=degenerate_data(max_rows=6, max_cols=3, scales=(1.0,)))
def test_exact_patterns_match_brute_force(data):
    # Unscaled: with a bias column, scaling X makes cells thinner than the reference's margin.
    X, bias = data
    patterns = dualnet.activation_patterns(X, bias=bias, method="exact")
    found = {tuple(m) for m in patterns.masks.T}
    assert found == brute_force_patterns(np.asarray(X, dtype=np.float64), bias=bias)


@examples(0.5)
@given(data=degenerate_data(), n_gates=st.integers(1, 300), seed=st.integers(0, 2**32))
def test_sampled_patterns_are_a_consistent_subset(data, n_gates, seed):
    X, bias = data
    sampled = dualnet.activation_patterns(X, bias=bias, method="sample", n_gates=n_gates,
                                          random_state=seed)
    Xa = _augmented(X, bias)
    _check_consistent(sampled, Xa)
    assert 1 <= len(sampled) <= n_gates and sampled.n_draws == n_gates
    exact = _exact(X, bias)
    if exact is None:
        return
    assert {m.tobytes() for m in sampled.masks.T} <= {m.tobytes() for m in exact.masks.T}
    again = dualnet.activation_patterns(X, bias=bias, method="sample", n_gates=n_gates,
                                        random_state=seed)
    np.testing.assert_array_equal(again.masks, sampled.masks)
    np.testing.assert_array_equal(again.gates, sampled.gates)


@examples(0.5)
@given(data=degenerate_data(max_rows=8))
def test_patterns_round_trip_through_masks(data):
    X, bias = data
    patterns = _exact(X, bias)
    if patterns is None:
        return
    rebuilt = dualnet.Patterns.from_masks(patterns.masks, patterns.gates, bias=bias)
    np.testing.assert_array_equal(rebuilt.masks, patterns.masks)
    np.testing.assert_array_equal(rebuilt.gates, patterns.gates)
    assert len(rebuilt) == len(patterns) and rebuilt.bias == bias


# Regressions: defects the fuzz suite found.


def test_regression_nearly_parallel_hyperplanes_do_not_crash():
    # Rows nearly parallel after the bias column: the refined degenerate ray lay on no hyperplane,
    # and the SVD of its (empty) local arrangement crashed the process.
    X = np.array([[-2e-8, 0], [-3e-8, -3e-8], [-1e-8, -2e-8], [-1e-8, -3e-8], [2e-8, 0], [1e-8, 1e-8]])
    patterns = _exact(X, True)  # a ValueError naming X, or a consistent complete set
    if patterns is not None:
        assert len(patterns) == 32
        _check_consistent(patterns, _augmented(X, True))


def test_regression_count_of_nearly_parallel_hyperplanes():
    # Rows of size 1e-8 beside a bias column: an absolute tolerance on the normalised rows counted
    # 18 cells; columns are now scaled by powers of two first, which leaves the cells unchanged.
    X = np.array([[-2e-8, 0], [-3e-8, -3e-8], [-1e-8, -2e-8], [-1e-8, -3e-8], [2e-8, 0], [1e-8, 1e-8]])
    assert dualnet.count_patterns(X, bias=True) == 32  # Cover's count: 6 rows in general position
    patterns = _exact(X, True)
    assert patterns is not None and len(patterns) == 32
    _check_consistent(patterns, _augmented(X, True))


@pytest.mark.parametrize("seed", range(4))
def test_counts_do_not_depend_on_feature_units(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((9, 3))
    X[3] = X[1] + X[2]  # a degenerate triple: fewer cells than Cover's count
    reference = dualnet.count_patterns(X, bias=True)
    for units in ([1e-9, 1.0, 3e4], [7e5, 2e-7, 1.0], [1e-12, 1e-12, 1e-12]):
        scaled = X * np.array(units)
        assert dualnet.count_patterns(scaled, bias=True) == reference
        patterns = _exact(scaled, True)
        assert patterns is not None and len(patterns) == reference
        _check_consistent(patterns, _augmented(scaled, True))


def test_regression_tiny_degenerate_data_is_a_value_error_or_consistent():
    X = np.array([[0, 0, 0], [0, 0, 0], [0, 1e-8, 0], [0, 0, 1e-8], [0, 0, -1e-8]])
    patterns = _exact(X, True)  # crashed; then a RuntimeError not naming X
    if patterns is not None:
        _check_consistent(patterns, _augmented(X, True))
