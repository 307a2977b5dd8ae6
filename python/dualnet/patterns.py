"""Activation patterns of a two-layer ReLU network: the cells of a central hyperplane arrangement.

A pattern is the diagonal of D = diag(1[X g >= 0]) for some gate g; the distinct patterns are the
open cells of the arrangement of hyperplanes {g : x_k^T g = 0} (Pilanci & Ergen, *Neural Networks
are Convex Regularizers*, ICML 2020). Rows in general position give Cover's (1965) count
2 * sum_{k<r} C(n - 1, k) with r = rank X; degenerate data (repeated, opposite or zero rows, many
hyperplanes through one line) has fewer (Zaslavsky 1975). The exact convex training program needs
every pattern; a sampled set gives a restriction of it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from . import _core
from ._validation import as_data_matrix, check_choice, check_random_state

__all__ = ["Patterns", "activation_patterns", "count_patterns"]

#: Largest pattern set that ``method="auto"`` enumerates exactly, and the default limit of
#: ``method="exact"``.
DEFAULT_MAX_PATTERNS = 100_000
#: Gates drawn by ``method="sample"`` (and by ``"auto"`` when it samples) unless n_gates is given.
DEFAULT_N_GATES = 1_000
# Counting visits C(m, r - 1) subsets of the m hyperplanes at O(m r) each; beyond this many
# operations count_patterns refuses rather than running for minutes.
_COUNT_WORK_LIMIT = 2e10
# Work that sampling spends at most on finding the exact count it reports.
_SAMPLE_COUNT_WORK_LIMIT = 2e7
# Bytes per cell of the counting hash table (two hashes, an index and table slack).
_COUNT_BYTES_PER_CELL = 48

_METHODS = ("auto", "exact", "sample")


@dataclass(frozen=True, eq=False)
class Patterns:
    """A set of distinct activation patterns of X, each with a strictly interior gate.

    Attributes
    ----------
    pattern_set : dualnet._core.PatternSet
        Bit-packed storage: n * P / 8 bytes of masks plus the gates (gate_dim = g).
    exact : bool
        True when the set is provably every pattern of X.
    bias : bool
        Whether the patterns are those of the augmented data [X, 1].
    method : str
        ``"exact"`` (enumerated), ``"sample"`` (random gates) or ``"given"`` (:meth:`from_masks`).
    n_draws : int or None
        Gates drawn by the sampler; None unless ``method == "sample"``.
    exact_count : int or None
        The number of patterns of X when it is known: always for ``"exact"``; for ``"sample"``
        when it is cheap to establish (rank at most 2, or general position checked, or a
        degenerate arrangement counted, within about 2e7 operations).
    """

    pattern_set: _core.PatternSet = field(repr=False)
    exact: bool
    bias: bool
    method: str
    n_draws: int | None = None
    exact_count: int | None = None

    @property
    def masks(self) -> np.ndarray:
        """Bool array (n, P): column i is the diagonal of D_i (materialised on each access)."""
        return self.pattern_set.masks()

    @property
    def gates(self) -> np.ndarray:
        """Float array (g, P): gate i lies strictly inside cell i; with bias the last row is the
        bias weight."""
        return self.pattern_set.gates()

    @property
    def n_samples(self) -> int:
        return self.pattern_set.n_rows

    def __len__(self) -> int:
        return len(self.pattern_set)

    def __repr__(self) -> str:
        extra = f", n_draws={self.n_draws}" if self.n_draws is not None else ""
        return (
            f"Patterns(P={len(self)}, n_samples={self.n_samples}, gate_dim="
            f"{self.pattern_set.gate_dim}, method={self.method!r}, exact={self.exact}, "
            f"exact_count={self.exact_count}, bias={self.bias}{extra})"
        )

    def __reduce__(self):
        # The bitsets pickle as they are stored (n P / 8 bytes), never as dense masks.
        return (Patterns, (self.pattern_set, self.exact, self.bias, self.method, self.n_draws,
                           self.exact_count))

    @classmethod
    def from_masks(cls, masks, gates=None, *, bias=False, n_features=None) -> Patterns:
        """Build a pattern set from user masks.

        Parameters
        ----------
        masks : array-like of bool, shape (n, P)
            Column i is the diagonal of D_i.
        gates : array-like of float, shape (g, P), optional
            A gate per pattern (g = d, or d + 1 with ``bias``). If omitted the gates are NaN: such
            patterns can be solved over but have no gate to recover a network from.
        bias : bool, default False
            Whether the masks are patterns of the augmented data [X, 1].
        n_features : int, optional
            d, required when ``gates`` is omitted (it fixes the gate length g).

        Returns
        -------
        Patterns
            With ``method="given"`` and ``exact=False``.
        """
        bias = _check_bool(bias, "bias")
        m = np.asarray(masks)
        if m.ndim != 2:
            raise ValueError(f"masks must be 2-D with shape (n_samples, n_patterns), got shape {m.shape}")
        if m.dtype != bool:
            if not np.issubdtype(m.dtype, np.integer) or not np.all((m == 0) | (m == 1)):
                raise TypeError(f"masks must be boolean (or 0/1 integers), got dtype {m.dtype}")
            m = m.astype(bool)
        if m.shape[0] == 0:
            raise ValueError(f"masks has no rows (shape {m.shape})")
        if gates is None:
            if n_features is None:
                raise TypeError("from_masks needs gates or n_features (the gate length)")
            if isinstance(n_features, bool) or not isinstance(n_features, numbers.Integral) or n_features < 1:
                raise ValueError(f"n_features must be a positive integer, got {n_features!r}")
            g = np.full((int(n_features) + int(bias), m.shape[1]), np.nan)
        else:
            g = np.asarray(gates)
            if not (np.issubdtype(g.dtype, np.floating) or np.issubdtype(g.dtype, np.integer)):
                raise TypeError(f"gates must hold real numbers, got dtype {g.dtype}")
            g = np.asarray(g, dtype=np.float64)
            if g.ndim != 2 or g.shape[1] != m.shape[1]:
                raise ValueError(
                    f"gates must have shape (g, {m.shape[1]}) to match masks {m.shape}, got {g.shape}"
                )
            if n_features is not None and g.shape[0] != n_features + int(bias):
                raise ValueError(f"gates has {g.shape[0]} rows but n_features={n_features}, bias={bias}")
        pattern_set = _core.PatternSet.from_masks(np.ascontiguousarray(m), np.ascontiguousarray(g))
        return cls(pattern_set, exact=False, bias=bias, method="given")


def activation_patterns(
    X, *, bias=False, method="auto", n_gates=None, max_patterns=None, random_state=None
) -> Patterns:
    """Activation patterns D_i = diag(1[X g_i >= 0]) of X, each with a strictly interior gate.

    Parameters
    ----------
    X : array-like, shape (n, d)
        Data; finite reals.
    bias : bool, default False
        Use the augmented data [X, 1] (a hidden-layer bias); gates then have d + 1 entries.
    method : {"auto", "exact", "sample"}, default "auto"
        ``"exact"``: every cell of the arrangement (including the all-zero pattern when it is a
        cell), so ``len(result) == count_patterns(X, bias=bias)``; raises ValueError if there are
        more than ``max_patterns``. ``"sample"``: the distinct patterns of ``n_gates`` seeded
        random gates, half Gaussian and half vertex gates (the null vector of r - 1 random rows
        moved into an adjacent cell), which reach small cells. ``"auto"``: exact when Cover's
        count for the deduplicated rows (an upper bound for degenerate data, exact for rank <= 2)
        is at most ``max_patterns``, else sample; the result's ``method`` says which.
    n_gates : int, optional
        Gates drawn when sampling (default ``DEFAULT_N_GATES`` = 1000).
    max_patterns : int, optional
        Largest exact set (default ``DEFAULT_MAX_PATTERNS`` = 100000).
    random_state : None, int or numpy.random.Generator
        Seeds the sampler: a fixed value gives identical patterns and gates.

    Returns
    -------
    Patterns
        ``masks`` (n, P), ``gates`` (g, P), ``exact``, ``method``, ``n_draws``, ``exact_count``.

    Raises
    ------
    MemoryError
        Before enumerating or sampling, when the patterns ``max_patterns`` or ``n_gates`` allow
        cannot fit in the memory budget (half of physical memory, or the environment variable
        ``DUALNET_MEMORY_BUDGET`` in bytes); the message gives the estimate.

    Notes
    -----
    On every nonzero row, ``X @ gates`` is nonzero and positive exactly where ``masks`` is true
    (zero rows are always active). Exact enumeration walks the extreme rays of the arrangement and,
    at rays where three or more hyperplanes meet, enumerates the local arrangement one dimension
    down; it is exact on degenerate data up to a relative tolerance of about 1e-11 (hyperplanes
    closer than that are one hyperplane), measured after scaling each column by a power of two
    (exact, and cell-preserving), so that the decisions do not depend on the features' units.
    """
    Xa, bias = _augmented(X, bias)
    method = check_choice(method, "method", _METHODS)  # also safe for arrays and unhashables
    max_patterns = DEFAULT_MAX_PATTERNS if max_patterns is None else _check_count(max_patterns, "max_patterns")
    n_gates = DEFAULT_N_GATES if n_gates is None else _check_count(n_gates, "n_gates")
    rng = check_random_state(random_state)
    n, g = Xa.shape
    bytes_per_pattern = 8 * (-(-n // 64)) + 8 * g

    m, r = _core.arrangement_size(Xa)
    bound = _cover_count(m, r)
    chosen = method if method != "auto" else ("exact" if bound <= max_patterns else "sample")

    if chosen == "exact":
        if r <= 2 and bound > max_patterns:
            raise ValueError(
                f"X has exactly {bound} activation patterns, more than max_patterns={max_patterns}; "
                "raise max_patterns or use method='sample'"
            )
        _check_memory(min(bound, max_patterns) * bytes_per_pattern, "max_patterns", max_patterns)
        pattern_set = _core.enumerate_patterns(Xa, max_patterns)
        if pattern_set is None:
            raise ValueError(
                f"X has more than max_patterns={max_patterns} activation patterns (Cover's bound "
                f"for its {m} distinct hyperplanes in rank {r}: {bound}); raise max_patterns or "
                "use method='sample'"
            )
        return Patterns(pattern_set, exact=True, bias=bias, method="exact", exact_count=len(pattern_set))

    _check_memory(n_gates * bytes_per_pattern, "n_gates", n_gates)
    seed = int(rng.integers(0, 2**63))
    pattern_set, n_draws, _ = _core.sample_patterns(Xa, n_gates, seed)
    try:  # the exact count, when it is cheap to establish, says what the sample covers
        exact_count = _exact_count(Xa, m, r, _SAMPLE_COUNT_WORK_LIMIT)
    except ValueError:
        exact_count = None
    return Patterns(
        pattern_set,
        exact=exact_count is not None and len(pattern_set) == exact_count,
        bias=bias,
        method="sample",
        n_draws=int(n_draws),
        exact_count=exact_count,
    )


def count_patterns(X, *, bias=False) -> int:
    """The exact number of activation patterns of X (cells of its hyperplane arrangement).

    Parameters
    ----------
    X : array-like, shape (n, d)
    bias : bool, default False
        Count the patterns of [X, 1].

    Returns
    -------
    int
        Cover's count 2 * sum_{k<r} C(m - 1, k) for the m distinct nonzero rows (up to sign) of
        rank r when they are in general position (always for r <= 2; checked for r >= 3);
        otherwise the number of cells found by exact enumeration, storing 16 bytes per cell.

    Raises
    ------
    ValueError
        When the general-position check or the enumeration would exceed the work or memory
        budget; the message gives the estimate.
    """
    Xa, _ = _augmented(X, bias)
    m, r = _core.arrangement_size(Xa)
    return _exact_count(Xa, m, r, _COUNT_WORK_LIMIT)


def _exact_count(Xa, m: int, r: int, work_limit: float) -> int:
    """The number of cells of Xa's arrangement (m hyperplanes, rank r); ValueError beyond budget."""
    bound = _cover_count(m, r)
    if r <= 2:
        return bound
    max_subsets = work_limit / (m * r)
    budget = _core.default_memory_budget()
    max_cells = budget // _COUNT_BYTES_PER_CELL
    try:
        m_counted, _, general, n_cells = _core.count_patterns(Xa, max_subsets, max_cells)
    except ValueError as exc:
        raise ValueError(
            f"X has {m} distinct hyperplanes in rank {r}: establishing general position (where "
            f"Cover's count {bound} holds) visits {math.comb(m, r - 1)} subsets, more than the "
            f"work budget ({exc})"
        ) from None
    if m_counted is None:
        raise ValueError(
            f"X has more than {max_cells} activation patterns (Cover's bound: {bound}): more than "
            f"the memory budget of {budget} bytes allows to count exactly"
        )
    return bound if general else int(n_cells)


def _cover_count(m: int, r: int) -> int:
    """Cover's count of cells of m hyperplanes in general position in R^r (1 when r = 0)."""
    if r == 0:
        return 1
    return 2 * sum(math.comb(m - 1, k) for k in range(r))


def _augmented(X, bias):
    X = as_data_matrix(X)
    bias = _check_bool(bias, "bias")
    if bias:
        X = np.ascontiguousarray(np.hstack([X, np.ones((X.shape[0], 1))]))
    return X, bias


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def _check_count(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def _check_memory(needed: int, name: str, value: int) -> None:
    # The core's budget (memory_budget.hpp), so that every part of dualnet refuses alike.
    _core.check_memory_budget(min(needed, 2**64 - 1), f"pattern storage for {name}={value}")
