"""Input checks shared by every public function: validate and convert once, name the argument."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "all_finite",
    "as_data_matrix",
    "as_pattern_masks",
    "as_real_array",
    "as_target_vector",
    "check_choice",
    "MAX_DEPTH",
    "check_integer",
    "check_positive",
    "check_positive_integer",
    "check_random_state",
    "check_same_rows",
]


def _as_real_array(a, name: str) -> np.ndarray:
    if isinstance(a, np.ma.MaskedArray):  # np.asarray would silently unmask the hidden entries
        raise TypeError(f"{name} is a masked array: fill or drop its masked entries first")
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be array-like of real numbers: {exc}") from None
    if arr.dtype == bool:
        return arr.astype(np.float64)
    # By kind, not np.issubdtype: numpy files timedelta64 under signedinteger, and NaT would
    # become a finite -9.2e18.
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr


def as_real_array(a, name: str) -> np.ndarray:
    """Return a as a float64 array of any shape, refusing what is not real numbers (TypeError
    naming the argument) instead of letting numpy fail with a message that does not."""
    return _as_core_array(_as_real_array(a, name))


def as_data_matrix(X, name: str = "X", *, allow_empty_columns: bool = False) -> np.ndarray:
    """Return X as a C-contiguous float64 array of shape (n, d), checked finite and non-empty."""
    arr = _as_real_array(X, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D with shape (n_samples, n_features), got shape {arr.shape}")
    n, d = arr.shape
    if n == 0:
        raise ValueError(f"{name} has no rows (shape {arr.shape})")
    if d == 0 and not allow_empty_columns:
        raise ValueError(f"{name} has no columns (shape {arr.shape})")
    arr = _as_core_array(arr)
    if not all_finite(arr):
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def all_finite(arr: np.ndarray, rows: int = 65536) -> bool:
    """Whether every entry of the float array is finite, without a boolean array of its size.

    A finite sum proves it (NaN and infinity propagate through a sum); only when the sum is not
    finite (a non-finite entry, or an overflow of finite ones) are the rows checked, in chunks.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(arr.sum()):
            return True
    return all(bool(np.isfinite(arr[k:k + rows]).all()) for k in range(0, arr.shape[0], rows))


def _as_core_array(arr: np.ndarray) -> np.ndarray:
    # C-contiguous native float64, and aligned: numpy passes unaligned views (odd byte offsets
    # into buffers) through ascontiguousarray unchanged, and the core must not read doubles there.
    return np.require(arr, dtype=np.float64, requirements=["C", "A"])


def as_target_vector(y, n_rows: int, name: str = "y") -> np.ndarray:
    """Return y as a contiguous float64 vector of length n_rows, checked finite."""
    arr = _as_real_array(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D with shape (n_samples,), got shape {arr.shape}")
    check_same_rows(n_rows, arr.shape[0], name)
    arr = _as_core_array(arr)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def check_same_rows(n_rows: int, n_other: int, name: str) -> None:
    if n_other != n_rows:
        raise ValueError(f"X has {n_rows} rows but {name} has {n_other}")


def check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    """Return value as a float, requiring a finite real > 0 (or >= 0 with allow_zero)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    try:
        v = float(value)
    except OverflowError:  # an int beyond float range (whose repr may itself be refused)
        raise ValueError(f"{name} must be finite, got an integer beyond the float range") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return v


def check_random_state(random_state) -> np.random.Generator:
    """A numpy Generator from None, an int seed or a Generator; never touches global state."""
    if isinstance(random_state, (bool, np.bool_)):  # an int to Python, but never meant as a seed
        raise TypeError("random_state must be None, an int or a numpy Generator, got bool")
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {random_state}")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    raise TypeError(
        f"random_state must be None, an int or a numpy Generator, got {type(random_state).__name__}"
    )


def check_integer(value, name: str, *, minimum: int, maximum: int | None = None) -> int:
    """Return value as an int, requiring an integer (not a bool) in [minimum, maximum]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


#: Deepest network the closed forms build: each layer is stored, and powers 1/depth of the
#: singular values underflow to 1 long before (a depth beyond float range overflowed).
MAX_DEPTH = 10_000


def check_positive_integer(value, name: str, *, allow_none: bool = False):
    """Return value as an int >= 1 (or None when allow_none)."""
    if value is None and allow_none:
        return None
    return check_integer(value, name, minimum=1)


def check_choice(value, name: str, choices) -> str:
    """Return value if it is one of choices, else raise a ValueError listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def as_pattern_masks(masks, n_rows: int, name: str = "patterns") -> np.ndarray:
    """Return activation masks as a bool array of shape (n_rows, P) with P >= 1."""
    arr = np.asarray(masks)
    if arr.dtype != bool:
        raise TypeError(f"{name} must be a Patterns object or a bool array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, n_patterns), got shape {arr.shape}"
        )
    check_same_rows(n_rows, arr.shape[0], name)
    if arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: it holds no activation pattern")
    return arr
