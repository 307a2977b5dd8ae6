"""Fuzzing the compiled pattern store (_core.PatternSet) and the memory guard.

Contract: round trips are exact (masks, gates, counts, memory), anything else is TypeError or
ValueError (MemoryError over the budget) — never a crash, which the sanitizer build would report.
"""

import numpy as np
import pytest
from fuzz_strategies import array_cases
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dualnet import _core


@st.composite
def mask_and_gates(draw):
    n = draw(st.integers(1, 200))  # across word boundaries: 63, 64, 65, 128, ...
    p = draw(st.integers(0, 12))
    g = draw(st.integers(0, 4))
    masks = draw(hnp.arrays(np.bool_, (n, p)))
    gates = draw(hnp.arrays(np.float64, (g, p)))  # any float: NaN marks an unknown gate
    return masks, gates


@given(data=mask_and_gates())
def test_from_masks_round_trip(data):
    masks, gates = data
    s = _core.PatternSet.from_masks(masks, gates)
    n, p = masks.shape
    assert len(s) == p and s.n_rows == n and s.gate_dim == gates.shape[0]
    np.testing.assert_array_equal(s.masks(), masks)
    np.testing.assert_array_equal(s.gates(), gates)  # NaN where NaN, bit-exact elsewhere
    np.testing.assert_array_equal(s.counts(), masks.sum(axis=0))
    assert s.memory_bytes == p * (-(-n // 64)) * 8 + p * gates.shape[0] * 8


@given(masks=array_cases(max_dims=3, max_side=5), gates=array_cases(max_dims=3, max_side=5))
def test_from_masks_any_input(masks, gates):
    try:
        s = _core.PatternSet.from_masks(masks.value, gates.value)
    except (TypeError, ValueError):
        return
    # Accepted: the inputs were what the store needs, and it holds exactly their values. Arrays
    # must already be bool (no float -> bool casts); nested lists convert element by element.
    m = np.asarray(masks.value)
    if isinstance(masks.value, np.ndarray):
        assert m.dtype == np.bool_
    assert m.ndim == 2 and m.shape[0] > 0
    gf = np.asarray(gates.value)
    assert gf.ndim == 2 and gf.shape[1] == m.shape[1]
    np.testing.assert_array_equal(s.masks(), m.astype(bool))
    np.testing.assert_array_equal(s.gates(), gf.astype(np.float64))


@given(required=st.integers(0, 2**64 - 1), budget=st.integers(0, 2**64 - 1), what=st.text())
def test_check_memory_budget(required, budget, what):
    if required <= budget:
        _core.check_memory_budget(required, what, budget)
    else:
        with pytest.raises(MemoryError) as info:
            _core.check_memory_budget(required, what, budget)
        assert str(info.value).startswith(what + " needs about ")
        assert str(required) in str(info.value) or required == 2**64 - 1


@given(value=st.one_of(st.integers(max_value=-1), st.integers(min_value=2**64), st.floats(),
                       st.none(), st.text()))
def test_check_memory_budget_refuses_non_sizes(value):
    with pytest.raises(TypeError):
        _core.check_memory_budget(value, "x", 10)


# Regressions: defects the fuzz suite found.


def test_regression_unaligned_gates_are_refused_not_read():
    buffer = np.zeros(8 * 4 + 1, dtype=np.uint8)
    gates = np.frombuffer(buffer.data, dtype=np.float64, count=4, offset=1).reshape(1, 4)
    with pytest.raises(ValueError, match="gates is not aligned"):
        _core.PatternSet.from_masks(np.zeros((3, 4), bool), gates)


def test_regression_zero_rows_are_refused_before_looping():
    masks = np.zeros((0, 10**15), dtype=bool)  # no memory, but 10^15 patterns to loop over
    with pytest.raises(ValueError, match="masks has no rows"):
        _core.PatternSet.from_masks(masks, np.zeros((0, 10**15)))


def test_regression_memory_error_message_survives_nul():
    with pytest.raises(MemoryError, match="a\x00b needs about 2 B"):
        _core.check_memory_budget(2, "a\x00b", 1)
