"""Many certified solves at once: a list of :func:`dualnet.fit_relu` problems run through joblib.

Each solve runs in the compiled core with the GIL released, so threads use every core without
copies of the data; the active joblib backend (``joblib.parallel_config`` or
``joblib.parallel_backend``) can instead send the batch to a cluster, for instance a Dask
``distributed`` cluster with ``with joblib.parallel_backend("dask"):``.
"""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Mapping

import numpy as np

from ._validation import (
    as_data_matrix,
    as_real_array,
    as_target_vector,
    check_positive,
    check_random_state,
    check_same_rows,
)
from .relu import fit_relu

__all__ = ["fit_relu_batch", "problems_over_betas", "problems_over_folds", "problems_over_targets"]

_REQUIRED = ("X", "y", "beta")


def _fit_relu_keywords() -> frozenset:
    return frozenset(inspect.signature(fit_relu).parameters)


def _check_problems(problems, shared: dict) -> list:
    """Every problem merged with ``shared``, checked for keys before any solve starts."""
    allowed = _fit_relu_keywords()
    for key in shared:
        if key not in allowed:
            raise TypeError(f"fit_relu_batch got an unexpected shared keyword {key!r}")
    try:
        problems = list(problems)
    except TypeError:
        raise TypeError(
            f"problems must be an iterable of dicts, got {type(problems).__name__}"
        ) from None
    merged = []
    for index, problem in enumerate(problems):
        if not isinstance(problem, Mapping):
            raise TypeError(
                f"problems[{index}] must be a dict of fit_relu arguments, "
                f"got {type(problem).__name__}"
            )
        for key in problem:
            if not isinstance(key, str) or key not in allowed:
                raise TypeError(f"problems[{index}] has an unknown key {key!r} (not a fit_relu "
                                "argument)")
            if key in shared:
                raise ValueError(f"problems[{index}] sets {key!r}, which is also given as a shared "
                                 "keyword: give it in one place")
        kwargs = {**shared, **problem}
        for key in _REQUIRED:
            if key not in kwargs:
                raise ValueError(f"problems[{index}] has no {key!r} (neither in the problem nor "
                                 "shared)")
        merged.append(kwargs)
    return merged


def _solve_one(index: int, kwargs: dict):
    """One fit_relu call; an argument error names the problem's index (and, from fit_relu, the
    key)."""
    try:
        return index, fit_relu(**kwargs)
    except (ValueError, TypeError, MemoryError) as exc:
        raise type(exc)(f"problems[{index}]: {exc}") from exc


class _Progress:
    """A one-line text progress report on stderr (redrawn in place on a terminal)."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled, self.done = total, enabled, 0
        self.start = time.perf_counter()
        self.stream = sys.stderr
        self.interactive = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_printed = -1

    def step(self) -> None:
        self.done += 1
        if not self.enabled:
            return
        # Off a terminal (logs), at most about 20 lines per batch.
        if not self.interactive and self.done != self.total and self.total > 20 and (
            self.done * 20 // self.total == self.last_printed * 20 // self.total
        ):
            return
        self.last_printed = self.done
        elapsed = time.perf_counter() - self.start
        width = 30
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (width - filled)
        eta = elapsed / self.done * (self.total - self.done)
        line = (f"fit_relu_batch [{bar}] {self.done}/{self.total} solves, {elapsed:.1f} s elapsed, "
                f"about {eta:.1f} s left")
        end = "" if self.interactive and self.done < self.total else "\n"
        self.stream.write(("\r" if self.interactive else "") + line + end)
        self.stream.flush()


def fit_relu_batch(problems, *, n_jobs=None, progress=False, **shared) -> list:
    """Solve many :func:`fit_relu` problems, in parallel, returning their results in order.

    Parameters
    ----------
    problems : iterable of dict
        Each a dict of :func:`fit_relu` keyword arguments (``X``, ``y``, ``beta``, and optionally
        ``patterns``, ``model``, ``bias``, ``tol``, ...). The helpers
        :func:`problems_over_targets`, :func:`problems_over_betas` and
        :func:`problems_over_folds` build the common batches.
    n_jobs : int or None, default=None
        None: run on the active joblib backend, as configured by the caller
        (``with joblib.parallel_backend("dask"):`` runs the batch on the Dask cluster of the
        current ``distributed.Client``; without a configured backend the batch runs serially).
        An int: that many threads (-1 for one per core) of joblib's threading backend; each solve
        releases the GIL in the compiled core, so threads share the data without copies.
    progress : bool, default=False
        Print a text progress bar of the batch to stderr.
    **shared
        :func:`fit_relu` keyword arguments applied to every problem (a key may be given either
        here or in the problems, not both).

    Returns
    -------
    list of ReLUFit
        ``results[k]`` solves ``problems[k]``. Each solve is the same computation in every
        backend, so results do not depend on ``n_jobs`` or on the backend.

    Raises
    ------
    TypeError, ValueError
        Before any solve, if a problem is not a dict, has a key that is not a :func:`fit_relu`
        argument, repeats a shared key or misses ``X``, ``y`` or ``beta``; during the batch, the
        error of the first failing problem, its message starting with ``problems[k]:`` and naming
        the argument.

    Notes
    -----
    Give problems that sample their patterns a ``random_state`` (or pass computed ``patterns``):
    otherwise each run draws other patterns and the results differ from run to run. Problems on
    one X can share one :class:`dualnet.Patterns` (it is read-only), as the helpers do.
    """
    kwargs = _check_problems(problems, shared)
    if n_jobs is not None:
        if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, (int, np.integer)) or \
                n_jobs == 0 or n_jobs < -1:
            raise ValueError(f"n_jobs must be None, -1 or a positive integer, got {n_jobs!r}")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__}")
    if not kwargs:
        return []
    from joblib import Parallel, cpu_count, delayed

    if n_jobs is None:
        parallel = Parallel(return_as="generator_unordered")
    else:
        # Never more threads than problems (joblib would start them all).
        threads = min(cpu_count() if n_jobs == -1 else int(n_jobs), len(kwargs))
        parallel = Parallel(n_jobs=threads, backend="threading", return_as="generator_unordered")
    results = [None] * len(kwargs)
    report = _Progress(len(kwargs), bool(progress))
    for index, fit in parallel(delayed(_solve_one)(k, problem) for k, problem in enumerate(kwargs)):
        results[index] = fit
        report.step()
    return results


def _check_bias(bias) -> bool:
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    return bool(bias)


def _positive_values(values, name: str, size=None) -> np.ndarray:
    """A 1-D float array of positive finite values (a scalar broadcast to ``size``)."""
    arr = as_real_array(values, name)
    if size is not None and arr.ndim == 0:
        arr = np.full(size, float(arr))
    if arr.ndim != 1 or arr.size == 0 or (size is not None and arr.size != size):
        expected = f"({size},)" if size is not None else "(k,) with k >= 1"
        raise ValueError(f"{name} must be a scalar or have shape {expected}, got shape "
                         f"{arr.shape}")
    for value in arr:
        check_positive(float(value), name)
    return arr


def _shared_patterns(X, patterns, bias, random_state, max_patterns, n_gates):
    """One pattern set for every problem on X (computed here unless given)."""
    from .relu import _as_patterns

    if patterns is None:
        from .patterns import activation_patterns

        return activation_patterns(X, bias=bias, method="auto", max_patterns=max_patterns,
                                   n_gates=n_gates, random_state=random_state)
    return _as_patterns(patterns, X, bias, random_state)


def problems_over_targets(X, Y, beta, *, patterns=None, bias=False, random_state=None,
                          max_patterns=None, n_gates=None) -> list:
    """Problems of one X with many targets (the columns of Y), sharing one pattern set.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples, n_targets)
    beta : float or array-like of shape (n_targets,)
        One weight-decay strength for all targets, or one per target.
    patterns : None or Patterns
        Computed once from X when None (``activation_patterns(X, bias=bias, method="auto",
        max_patterns=max_patterns, n_gates=n_gates, random_state=random_state)``).
    bias : bool, default=False
    random_state, max_patterns, n_gates
        Passed to :func:`dualnet.activation_patterns` when ``patterns`` is None.

    Returns
    -------
    list of dict
        ``{"X", "y", "beta", "patterns", "bias"}`` per target, for :func:`fit_relu_batch`.
    """
    X = as_data_matrix(X, "X")
    Y = as_real_array(Y, "Y")
    if Y.ndim != 2 or Y.shape[1] == 0:
        raise ValueError(f"Y must be 2-D with shape (n_samples, n_targets), got shape {Y.shape}")
    check_same_rows(X.shape[0], Y.shape[0], "Y")
    if not np.all(np.isfinite(Y)):
        raise ValueError("Y contains NaN or infinity")
    betas = _positive_values(beta, "beta", Y.shape[1])
    bias = _check_bias(bias)
    shared = _shared_patterns(X, patterns, bias, random_state, max_patterns, n_gates)
    return [{"X": X, "y": np.ascontiguousarray(Y[:, k]), "beta": float(betas[k]),
             "patterns": shared, "bias": bias} for k in range(Y.shape[1])]


def problems_over_betas(X, y, betas, *, patterns=None, bias=False, random_state=None,
                        max_patterns=None, n_gates=None) -> list:
    """Problems of one data set at many regularization strengths, sharing one pattern set.

    Independent cold solves (parallel); :func:`dualnet.fit_relu_path` solves a decreasing
    sequence with warm starts instead (serial). Parameters as in :func:`problems_over_targets`,
    with ``y`` of shape (n_samples,) and ``betas`` of shape (k,).

    Returns
    -------
    list of dict
        One problem per beta, in the order given.
    """
    X = as_data_matrix(X, "X")
    y = as_target_vector(y, X.shape[0], "y")
    betas = _positive_values(betas, "betas")
    bias = _check_bias(bias)
    shared = _shared_patterns(X, patterns, bias, random_state, max_patterns, n_gates)
    return [{"X": X, "y": y, "beta": float(b), "patterns": shared, "bias": bias} for b in betas]


def problems_over_folds(X, y, beta, *, cv=5, bias=False, random_state=None, max_patterns=None,
                        n_gates=None) -> tuple:
    """Problems fitting the training part of each cross-validation fold.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    beta : float
        Weight-decay strength of every fold's fit (summed loss: the training rows' count changes
        from fold to fold, so the mean-loss strength ``beta / n_train`` does too).
    cv : int or iterable of (train, test) index arrays, default=5
        An int k gives contiguous, unshuffled k-fold splits (scikit-learn's ``KFold(k)``).
    bias : bool, default=False
    random_state : None, int or numpy Generator
        Seeds each fold's pattern sampler (one seed per fold, drawn from it).
    max_patterns, n_gates
        Passed to :func:`dualnet.activation_patterns` for each fold's training rows.

    Returns
    -------
    problems : list of dict
        One problem per fold (its training rows, with the fold's own pattern set).
    splits : list of (train, test) index arrays
        To score each fit on its held-out rows.
    """
    from .patterns import activation_patterns

    X = as_data_matrix(X, "X")
    y = as_target_vector(y, X.shape[0], "y")
    beta = check_positive(beta, "beta")
    bias = _check_bias(bias)
    n = X.shape[0]
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, (bool, np.bool_)):
        if cv < 2 or cv > n:
            raise ValueError(f"cv must be between 2 and n_samples={n}, got {cv}")
        from sklearn.model_selection import KFold

        splits = list(KFold(int(cv)).split(X))
    else:
        splits = _check_splits(cv, n)
    rng = check_random_state(random_state)
    problems = []
    for train, _ in splits:
        seed = int(rng.integers(2**31 - 1))
        patterns = activation_patterns(X[train], bias=bias, method="auto",
                                       max_patterns=max_patterns, n_gates=n_gates,
                                       random_state=seed)
        problems.append({"X": X[train], "y": y[train], "beta": beta, "patterns": patterns,
                         "bias": bias})
    return problems, splits


def _check_splits(cv, n: int) -> list:
    """(train, test) pairs of row indices in [0, n), each part non-empty."""
    message = "cv must be an int >= 2 or an iterable of (train, test) arrays of row indices"
    if isinstance(cv, (str, bytes, Mapping)) or isinstance(cv, (bool, np.bool_)):
        raise TypeError(f"{message}, got {type(cv).__name__}")
    try:
        pairs = [tuple(pair) for pair in cv]
    except TypeError:
        raise TypeError(f"{message}, got {type(cv).__name__}") from None
    splits = []
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"{message}: an entry has {len(pair)} parts")
        parts = []
        for part in pair:
            idx = np.asarray(part)
            if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
                raise ValueError(f"{message}: got an entry of dtype {idx.dtype} and shape "
                                 f"{idx.shape}")
            if idx.min() < 0 or idx.max() >= n:
                raise ValueError(f"{message}: an index is outside [0, {n})")
            parts.append(idx.astype(np.intp))
        splits.append(tuple(parts))
    if not splits:
        raise ValueError(f"{message}: got no split")
    return splits
