"""Hypothesis strategies for the fuzz suites: what a user can pass where dualnet expects arrays or
numbers, together with what a correct function must do with it.

Arrays vary in shape (0 and 1 rows or columns included), dtype (floating, integer, bool, complex,
object, strings, datetimes), values (NaN, infinities, huge and subnormal magnitudes, duplicate and
constant columns, duplicate and zero rows) and memory layout (C and Fortran order, strided and
reversed views, read-only, zero-stride broadcasts, unaligned and byte-swapped buffers, nested lists,
masked arrays). The expected outcome is computed from numpy's own view of the value, independently
of dualnet's validation code.
"""

from __future__ import annotations

import dataclasses
import decimal
import fractions

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

REAL_DTYPES = [
    np.float64, np.float32, np.float16, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64,
]
OTHER_DTYPES = [np.complex128, np.complex64, np.dtype("U3"), np.dtype("S3"),
                np.dtype("datetime64[s]"), np.dtype("timedelta64[s]")]

LAYOUTS = ["C", "F", "strided", "reversed", "readonly", "broadcast", "unaligned", "byteswapped",
           "list", "masked", "object"]


def examples(fraction: float) -> settings:
    """Settings with a share of the active profile's examples (tests/conftest.py), for tests whose
    examples are expensive (solves): the CI corpus stays quick, the long run scales with it."""
    return settings(max_examples=max(5, int(settings.default.max_examples * fraction)))


@dataclasses.dataclass
class ArrayCase:
    """A value to pass, and numpy's reading of it (None where numpy itself cannot read it)."""

    value: object
    layout: str
    reference: np.ndarray | None

    @property
    def is_real(self) -> bool:
        """numpy reads it as bool, integer or floating numbers (and it is not a masked array)."""
        if self.layout == "masked" or self.reference is None:
            return False
        kind = self.reference.dtype.kind
        return kind in "biuf"

    def as_float(self) -> np.ndarray:
        return self.reference.astype(np.float64)

    @property
    def finite(self) -> bool:
        return self.is_real and bool(np.all(np.isfinite(self.as_float())))

    def valid_matrix(self, allow_empty_columns=False) -> bool:
        if not self.finite or self.reference.ndim != 2:
            return False
        n, d = self.reference.shape
        return n > 0 and (d > 0 or allow_empty_columns)

    def snapshot(self):
        """A copy of the value's contents, to check that a function did not modify its input."""
        if isinstance(self.value, np.ndarray):
            return self.value.copy()
        return repr(self.value)

    def unchanged(self, snapshot) -> bool:
        if isinstance(self.value, np.ndarray):  # bit for bit (NaN payloads, object identities)
            return (snapshot.dtype == self.value.dtype and snapshot.shape == self.value.shape
                    and snapshot.tobytes() == self.value.tobytes())
        return snapshot == repr(self.value)


def _elements(dtype, allow_nonfinite):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return st.floats(width=8 * dtype.itemsize, allow_nan=allow_nonfinite,
                         allow_infinity=allow_nonfinite, allow_subnormal=True)
    return None  # hypothesis' defaults: the full integer range, all booleans, any string


@st.composite
def magnitudes(draw):
    """A scale spanning float64: subnormal to near overflow, and plain values most of the time."""
    return draw(st.sampled_from([1.0, 1.0, 1.0, 1e-300, 1e-310, 1e-8, 1e8, 1e150, 1e300]))


def _structure(draw, a: np.ndarray) -> np.ndarray:
    """Duplicate or constant columns, duplicate or zero rows: the degenerate data of real life."""
    if a.ndim != 2 or a.size == 0:
        return a
    a = a.copy()
    n, d = a.shape
    edit = draw(st.sampled_from(["none", "none", "dup_col", "const_col", "dup_row", "zero_row"]))
    if edit == "dup_col" and d >= 2:
        a[:, draw(st.integers(1, d - 1))] = a[:, 0]
    elif edit == "const_col":
        a[:, draw(st.integers(0, d - 1))] = a[0, 0]
    elif edit == "dup_row" and n >= 2:
        a[draw(st.integers(1, n - 1))] = a[0]
    elif edit == "zero_row" and a.dtype.kind in "biufc":
        a[draw(st.integers(0, n - 1))] = 0
    return a


def _unaligned(a: np.ndarray) -> np.ndarray:
    buffer = np.zeros(a.nbytes + 1, dtype=np.uint8)
    view = np.frombuffer(buffer.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    view[...] = a
    return view


def _apply_layout(draw, a: np.ndarray, layout: str):
    if a.ndim == 0 and layout in ("strided", "reversed", "broadcast"):
        return a
    if layout == "C":
        return np.ascontiguousarray(a)
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "strided":
        steps = tuple(draw(st.integers(2, 3)) for _ in range(a.ndim))
        big = np.zeros(tuple(s * k for s, k in zip(a.shape, steps)), dtype=a.dtype)
        view = big[tuple(slice(None, None, k) for k in steps)]
        view[...] = a
        return view
    if layout == "reversed":
        flipped = a[tuple(slice(None, None, -1) for _ in range(a.ndim))].copy()
        return flipped[tuple(slice(None, None, -1) for _ in range(a.ndim))]
    if layout == "readonly":
        a = a.copy()
        a.setflags(write=False)
        return a
    if layout == "broadcast":  # zero strides along the first axis: every row the same
        if a.ndim == 0 or a.shape[0] == 0:
            return a
        return np.broadcast_to(a[:1], a.shape)
    if layout == "unaligned":
        return _unaligned(a) if a.dtype.itemsize > 1 and a.dtype.kind != "O" else a
    if layout == "byteswapped":
        if a.dtype.itemsize > 1 and a.dtype.kind in "iufc":
            return a.astype(a.dtype.newbyteorder())
        return a
    if layout == "list":
        return a.tolist()
    if layout == "masked":
        mask = np.zeros(a.shape, dtype=bool)
        if a.size:
            mask.flat[0] = True
        return np.ma.masked_array(a, mask=mask)
    if layout == "object":
        return a.astype(object)
    raise AssertionError(layout)


def _reference(value, layout):
    if layout == "masked":
        return np.asarray(value.data)
    try:
        return np.asarray(value)
    except ValueError:  # ragged nested lists
        return None


@st.composite
def array_cases(draw, *, min_dims=0, max_dims=3, max_side=6, real_only=False, finite=False,
                layouts=LAYOUTS, shape=None, dtypes=None):
    """An ArrayCase: any dtype, shape, values and layout (restricted by the keyword arguments)."""
    if dtypes is None:
        # Weighted toward what is valid somewhere (float64/float32), so that the rare layouts of
        # valid data are reached often enough; every other dtype still appears.
        common = [np.float64] * 6 + [np.float32] * 2
        pool = common + REAL_DTYPES + [np.bool_] + ([] if real_only else OTHER_DTYPES)
        dtype = np.dtype(draw(st.sampled_from(pool)))
    else:
        dtype = np.dtype(draw(st.sampled_from(dtypes)))
    if shape is None:
        ndims = [k for k in [2, 2, 2, 2, 1, 0, 3] if min_dims <= k <= max_dims]
        ndim = draw(st.sampled_from(ndims))
        shape = tuple(draw(st.integers(0, max_side) if draw(st.integers(0, 4)) == 0
                           else st.integers(1, max_side)) for _ in range(ndim))
    allow_nonfinite = not finite and draw(st.integers(0, 3)) == 0
    a = draw(hnp.arrays(dtype, shape, elements=_elements(dtype, allow_nonfinite)))
    if dtype.kind == "f" and a.size and draw(st.booleans()):
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            scaled = (a.astype(np.float64) * draw(magnitudes())).astype(dtype)
        if finite:
            scaled[~np.isfinite(scaled)] = 0
        a = scaled
    a = _structure(draw, a)
    layout = draw(st.sampled_from(layouts))
    if real_only and layout in ("object", "masked"):
        layout = "C"
    value = _apply_layout(draw, a, layout)
    return ArrayCase(value, layout, _reference(value, layout))


@st.composite
def real_matrices(draw, *, min_rows=1, max_rows=8, min_cols=1, max_cols=4, scale=False):
    """Finite float64 (n, d) matrices in any memory layout, as the numerical functions need."""
    n = draw(st.integers(min_rows, max_rows))
    d = draw(st.integers(min_cols, max_cols))
    a = draw(hnp.arrays(np.float64, (n, d), elements=st.floats(-10, 10, allow_subnormal=False)))
    if scale:
        a = a * draw(st.sampled_from([1.0, 1e-8, 1e8]))
    a = _structure(draw, a)
    layout = draw(st.sampled_from(["C", "F", "strided", "reversed", "readonly", "unaligned",
                                   "byteswapped"]))
    return _apply_layout(draw, a, layout)


def scalar_values():
    """Anything a user might pass as a number: reals of every kind, and things that are not."""
    return st.one_of(
        st.floats(),  # NaN, infinities, subnormals, huge
        st.integers(),
        st.integers(min_value=10**300, max_value=10**400),  # beyond float range
        st.booleans(),
        st.sampled_from([np.float32(0.5), np.float16(2.0), np.int8(-3), np.uint64(2**64 - 1),
                         np.longdouble("1e4000"), np.longdouble(3), np.float64("nan"),
                         np.bool_(True), np.complex128(1 + 0j), np.array(2.0), np.array([1.0]),
                         fractions.Fraction(1, 3), decimal.Decimal("0.5"), "1.0", None, [1.0],
                         np.datetime64(1, "s")]),
    )
