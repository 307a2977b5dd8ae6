"""Fuzzing the shared input checks (dualnet._validation) that every public function relies on.

Contract: a correct result, or TypeError/ValueError naming the argument; the input never modified.
The expected outcome comes from numpy's reading of the value (tests/fuzz_strategies.py).
"""

import numbers

import numpy as np
import pytest
from fuzz_strategies import array_cases, scalar_values
from hypothesis import given
from hypothesis import strategies as st

from dualnet import _validation as v


def _check_core_ready(out: np.ndarray):
    """What the core may assume of an array it receives: float64, native, C order, aligned."""
    assert out.dtype == np.float64 and out.dtype.isnative
    assert out.flags.c_contiguous and out.flags.aligned


@given(case=array_cases(), allow_empty_columns=st.booleans())
def test_as_data_matrix(case, allow_empty_columns):
    before = case.snapshot()
    try:
        out = v.as_data_matrix(case.value, "X_in", allow_empty_columns=allow_empty_columns)
    except (TypeError, ValueError) as exc:
        assert "X_in" in str(exc)
        assert not case.valid_matrix(allow_empty_columns), f"rejected a valid matrix: {exc}"
    else:
        assert case.valid_matrix(allow_empty_columns)
        _check_core_ready(out)
        np.testing.assert_array_equal(out, case.as_float())
    assert case.unchanged(before)


@given(case=array_cases(max_dims=3), n_rows=st.integers(1, 7))
def test_as_target_vector(case, n_rows):
    before = case.snapshot()
    ref = case.reference
    vector_like = ref is not None and (ref.ndim == 1 or (ref.ndim == 2 and ref.shape[1] == 1))
    valid = case.finite and vector_like and ref.shape[0] == n_rows
    try:
        out = v.as_target_vector(case.value, n_rows, "y_in")
    except (TypeError, ValueError) as exc:
        assert "y_in" in str(exc)
        assert not valid, f"rejected a valid target: {exc}"
    else:
        assert valid
        _check_core_ready(out)
        np.testing.assert_array_equal(out, case.as_float().reshape(-1))
    assert case.unchanged(before)


def _real_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


@given(value=scalar_values(), allow_zero=st.booleans())
def test_check_positive(value, allow_zero):
    try:
        out = v.check_positive(value, "beta_in", allow_zero=allow_zero)
    except (TypeError, ValueError) as exc:
        assert "beta_in" in str(exc)
        if _real_number(value):
            try:
                f = float(value)
            except OverflowError:
                return
            assert not (np.isfinite(f) and (f > 0 or (allow_zero and f == 0))), exc
    else:
        assert _real_number(value)
        assert type(out) is float and out == float(value) and np.isfinite(out)
        assert out > 0 or (allow_zero and out == 0)


def _draws(gen):
    return gen.integers(0, 2**62, size=4).tolist()


@given(seed=st.one_of(st.none(), st.integers(-5, 2**130), st.booleans(), st.floats(),
                      st.text(max_size=3), st.sampled_from([np.int64(3), np.uint8(7)])))
def test_check_random_state_seeds(seed):
    valid = seed is None or (
        isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0
    )
    try:
        gen = v.check_random_state(seed)
    except (TypeError, ValueError) as exc:
        assert "random_state" in str(exc)
        assert not valid
        return
    assert valid and isinstance(gen, np.random.Generator)
    if seed is not None:  # a seed fixes the stream: same draws every time, as numpy's own
        assert _draws(v.check_random_state(seed)) == _draws(gen)
        assert _draws(np.random.default_rng(int(seed))) == _draws(v.check_random_state(seed))


def test_check_random_state_objects():
    gen = np.random.default_rng(5)
    assert v.check_random_state(gen) is gen  # the caller's generator, used in place
    seq = np.random.SeedSequence(11)
    assert _draws(v.check_random_state(seq)) == _draws(np.random.default_rng(np.random.SeedSequence(11)))
    a = v.check_random_state(np.random.RandomState(3))
    b = v.check_random_state(np.random.RandomState(3))
    assert _draws(a) == _draws(b)


@given(n=st.integers(0, 10), m=st.integers(0, 10))
def test_check_same_rows(n, m):
    if n == m:
        v.check_same_rows(n, m, "y_in")
    else:
        with pytest.raises(ValueError, match=f"X has {n} rows but y_in has {m}"):
            v.check_same_rows(n, m, "y_in")


# Regressions: defects the fuzz suite found.


def test_regression_unaligned_input_is_copied_aligned():
    buffer = np.zeros(8 * 6 + 1, dtype=np.uint8)
    X = np.frombuffer(buffer.data, dtype=np.float64, count=6, offset=1).reshape(3, 2)
    assert not X.flags.aligned
    out = v.as_data_matrix(X)
    assert out.flags.aligned
    assert v.as_target_vector(X[:, 0], 3).flags.aligned


def test_regression_huge_int_beta_is_a_value_error():
    with pytest.raises(ValueError, match="beta"):
        v.check_positive(10**400, "beta")
    with pytest.raises(ValueError, match="beta"):
        v.check_positive(10**5000, "beta")  # even its repr is refused by Python


def test_regression_masked_array_is_refused():
    X = np.ma.masked_array([[1.0, np.nan]], mask=[[False, True]])
    with pytest.raises(TypeError, match="X is a masked array"):
        v.as_data_matrix(X)


def test_regression_bool_random_state_is_refused():
    with pytest.raises(TypeError, match="random_state"):
        v.check_random_state(True)


def test_regression_timedeltas_are_not_numbers():
    with pytest.raises(TypeError, match="y must hold real numbers"):
        v.as_target_vector(np.array(["NaT", 5], dtype="timedelta64[s]"), 2)
