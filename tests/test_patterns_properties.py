"""Property tests: exact pattern sets on arbitrary small (often degenerate) integer data."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dualnet

# Small integer entries make ties, repeated and opposite rows, zero rows and low rank common.
data = st.integers(1, 9).flatmap(
    lambda n: st.integers(1, 4).flatmap(
        lambda d: arrays(np.float64, (n, d), elements=st.integers(-2, 2).map(float))
    )
)


@settings(max_examples=60, deadline=None)
@given(X=data, bias=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_exact_patterns_are_distinct_interior_and_cover_random_gates(X, bias, seed):
    patterns = dualnet.activation_patterns(X, bias=bias, method="exact")
    Xa = np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X
    masks, gates = patterns.masks, patterns.gates
    keys = {m.tobytes() for m in masks.T}
    assert len(keys) == len(patterns) == dualnet.count_patterns(X, bias=bias)
    # Gates strictly interior and consistent with their masks; zero rows always active.
    scores = Xa @ gates
    nonzero = np.linalg.norm(Xa, axis=1) > 0
    assert np.all(np.abs(scores[nonzero]) > 0)
    np.testing.assert_array_equal(scores[nonzero] > 0, masks[nonzero])
    assert np.all(masks[~nonzero])
    # The pattern of any gate in an open cell is in the set.
    G = np.random.default_rng(seed).standard_normal((Xa.shape[1], 200))
    S = Xa @ G
    open_cell = np.all((np.abs(S) > 1e-9) | ~nonzero[:, None], axis=0)
    for column in (S >= 0)[:, open_cell].T:
        assert column.tobytes() in keys


@settings(max_examples=30, deadline=None)
@given(X=data, seed=st.integers(0, 2**32 - 1))
def test_sampled_patterns_are_a_subset_of_the_exact_set(X, seed):
    exact = {m.tobytes() for m in dualnet.activation_patterns(X, method="exact").masks.T}
    sampled = dualnet.activation_patterns(X, method="sample", n_gates=64, random_state=seed)
    keys = [m.tobytes() for m in sampled.masks.T]
    assert len(set(keys)) == len(keys) and set(keys) <= exact


small_data = st.integers(1, 7).flatmap(
    lambda n: st.integers(1, 4).flatmap(
        lambda d: arrays(np.float64, (n, d), elements=st.integers(-2, 2).map(float))
    )
)


@settings(max_examples=25, deadline=None)
@given(X=small_data, bias=st.booleans())
def test_exact_patterns_equal_the_lp_brute_force(X, bias):
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).parent / "reference"))
    from brute_force_patterns import brute_force_patterns

    expected = brute_force_patterns(X, bias=bias)
    patterns = dualnet.activation_patterns(X, bias=bias, method="exact")
    assert {tuple(bool(b) for b in m) for m in patterns.masks.T} == expected
