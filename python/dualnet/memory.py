"""Memory a solve needs, estimated before anything is allocated (the core's memory guard,
``memory_budget.hpp``, applied to the whole request: data copies, patterns and solver storage).

Nothing in a solve grows like n * P floats: X (n x g), the bit-packed patterns (P * n / 8 bytes),
about ten vectors of length n, and storage of size g x P. A request that cannot fit fails with a
MemoryError stating the estimate and the budget, before the first allocation it covers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _core
from ._validation import check_choice, check_integer

__all__ = ["MemoryEstimate", "estimate_memory"]

# Float64 vectors of length n a solve holds at its peak (an upper bound of what it measures).
# Gated: the residual, the best dual point, the extrapolated dual point, the last residual of the
# extrapolation window and its float32 differences (at most 4 vectors' worth): 8; the Newton
# polish's residuals and products (at most 4) replace the differences. Two more cover the
# returned dual point and its copy next to the cone decomposition of the map-back.
# ReLU adds the inverse row norms (1); the cone kernels read X in row blocks of 4096 (ratio
# tests, projection scans), not in length-n products, and the cone bound caches keep row
# indices only (g x 2P integers, within the solver storage below).
_WORK_VECTORS = {"gated": 10, "relu": 11}
# The Newton polish builds the row signatures' sums of the gated Gram matrix
# (support_gram.hpp) or the row chunks of the ReLU reduced design (256 x m) in at most 2e6
# entries, and at most max(2^18, n g / 8) of them (convex_solver.cpp); the reduced Gram matrix,
# its Newton system and factor have at most 400^2 entries each (their branch is taken when
# m <= 400).
_POLISH_ENTRIES = 2_000_000
_POLISH_SMALL_ENTRIES = 262_144
_GRAM_SIDE = 400
_GRAM_MATRICES = 3
# All-blocks gradient pass: partial sums of up to 16 row tasks (block_products.hpp).
_GRADIENT_PARTIALS = 16


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a :func:`dualnet.fit_relu` solve allocates, by kind.

    Attributes
    ----------
    data_bytes : int
        The float64, C-contiguous copy of X the core reads (0 when X is used in place), with its
        ones column when ``bias``.
    pattern_bytes : int
        Bit-packed masks (P * ceil(n / 64) * 8) and gates (g * P * 8).
    work_bytes : int
        The solver's vectors of length n.
    solver_bytes : int
        Storage of size g x P: blocks, block gradients, Gram matrices and eigen-decompositions of
        the visited blocks (all of them, at worst), the Newton polish's per-block matrices, the
        result's blocks.
    budget_bytes : int
        The memory budget (``DUALNET_MEMORY_BUDGET`` or half of physical memory).
    """

    data_bytes: int
    pattern_bytes: int
    work_bytes: int
    solver_bytes: int
    budget_bytes: int

    @property
    def total_bytes(self) -> int:
        """Sum of every part."""
        return self.data_bytes + self.pattern_bytes + self.work_bytes + self.solver_bytes

    @property
    def fits(self) -> bool:
        """Whether the total is within the budget."""
        return self.total_bytes <= self.budget_bytes


def _needs_copy(dtype, c_contiguous: bool, bias: bool) -> bool:
    return bias or np.dtype(dtype) != np.float64 or not c_contiguous


def estimate_memory(n_samples, n_features, n_patterns, *, model="relu", bias=False,
                    dtype=np.float64, c_contiguous=True) -> MemoryEstimate:
    """Estimate the memory of a :func:`dualnet.fit_relu` solve before running it.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of X (without the ones column).
    n_patterns : int
        P, the number of activation patterns (0 if they are to be computed: the pattern
        computation checks its own storage).
    model : {"relu", "gated"}, default="relu"
    bias : bool, default=False
    dtype : numpy dtype, default=float64
        dtype of X; any other than float64 (float32, say) is converted exactly to a float64 copy,
        so the certificate holds for the data as given.
    c_contiguous : bool, default=True
        Whether X is C-contiguous (otherwise it is copied).

    Returns
    -------
    MemoryEstimate
    """
    n = check_integer(n_samples, "n_samples", minimum=0)
    d = check_integer(n_features, "n_features", minimum=0)
    p = check_integer(n_patterns, "n_patterns", minimum=0)
    check_choice(model, "model", ("relu", "gated"))
    for name, flag in (("bias", bias), ("c_contiguous", c_contiguous)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool, got {type(flag).__name__}")
    try:
        dtype = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be a numpy dtype: {exc}") from None
    g = d + int(bool(bias))
    data = n * g * 8 if _needs_copy(dtype, c_contiguous, bool(bias)) else 0
    words = -(-n // 64)
    patterns = p * words * 8 + p * g * 8
    blocks = (2 if model == "relu" else 1) * p
    polish = min(_POLISH_ENTRIES, max(_POLISH_SMALL_ENTRIES, n * g // 8), n * g * blocks)
    polish += _GRAM_MATRICES * min(_GRAM_SIDE, g * blocks) ** 2
    work = _WORK_VECTORS[model] * n * 8 + polish * 8
    # Blocks, block gradients and bounds; result v, w; one Gram matrix, eigenvectors and
    # eigenvalues per visited pattern; the gradient pass's partial sums; the conjugate-gradient
    # polish's four g x g matrices per support block (convex_solver.cpp).
    solver = 8 * (g * blocks * 4 + 3 * g * p + p * (2 * g * g + g + 1)
                  + _GRADIENT_PARTIALS * g * p + blocks * 4 * g * g)
    return MemoryEstimate(data_bytes=data, pattern_bytes=patterns, work_bytes=work,
                          solver_bytes=solver, budget_bytes=int(_core.default_memory_budget()))


def check_fit_memory(X, n_patterns: int, model: str, bias: bool) -> None:
    """Raise MemoryError, with the estimate, if a fit on X cannot fit in the memory budget.

    X is inspected, not converted: this runs before the copy it accounts for.
    """
    shape = getattr(X, "shape", None)
    if shape is None:
        return  # lists and the like: validation reports the shape, conversion allocates anyway
    flags = getattr(X, "flags", None)
    contiguous = bool(getattr(flags, "c_contiguous", False))
    if not isinstance(model, str) or model not in ("relu", "gated") or \
            not isinstance(bias, (bool, np.bool_)):
        return  # validation names the argument
    try:
        n, d = (int(v) for v in shape)
        dtype = np.dtype(getattr(X, "dtype", np.float64))
    except (TypeError, ValueError):
        return  # not a 2-D array: validation reports it
    estimate = estimate_memory(n, d, n_patterns, model=model, bias=bool(bias), dtype=dtype,
                               c_contiguous=contiguous)
    what = (f"a {model} solve on X of shape {tuple(shape)} with {n_patterns} patterns "
            f"(data copy {estimate.data_bytes} B, patterns {estimate.pattern_bytes} B, "
            f"work vectors {estimate.work_bytes} B, solver {estimate.solver_bytes} B)")
    _core.check_memory_budget(min(estimate.total_bytes, 2**64 - 1), what, estimate.budget_bytes)
