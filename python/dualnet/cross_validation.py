"""Cross-validated choice of the weight decay along a warm-started regularization path."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import check_cv
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import (
    as_real_array,
    check_choice,
    check_positive,
    check_positive_integer,
    check_random_state,
)
from .estimators import ConvexReLURegressor
from .patterns import activation_patterns
from .relu import _MODELS, fit_relu_path

__all__ = ["ConvexReLURegressorCV"]

_REFIT_ATTRIBUTES = ("result_", "first_layer_", "second_layer_", "objective_", "duality_gap_",
                     "relative_gap_", "converged_", "n_iter_", "patterns_")


def _fold_path(X, y, train, test, alphas, options, seed):
    """Fit the path on the training rows; return the held-out mean squared error per alpha."""
    patterns = activation_patterns(X[train], bias=options["bias"], method="auto",
                                   max_patterns=options["max_patterns"],
                                   n_gates=options["n_gates"], random_state=seed)
    path = fit_relu_path(X[train], y[train], alphas * train.size, patterns=patterns,
                         model=options["model"], bias=options["bias"], tol=options["tol"],
                         max_iter=options["max_iter"])
    return np.array([np.mean((fit.predict(X[test]) - y[test]) ** 2) for fit in path])


class ConvexReLURegressorCV(RegressorMixin, BaseEstimator):
    """:class:`dualnet.ConvexReLURegressor` with ``alpha`` chosen by cross-validation.

    For every fold, the whole grid of ``alphas`` is solved as one regularization path on the
    training rows (decreasing alphas, each solve warm-started from the previous one, every solve
    certified), and scored by the mean squared error on the held-out rows. ``alpha_`` minimises
    the mean over folds; the network is then refitted on all rows with that alpha. Conventions as
    scikit-learn's ``LassoCV``: mean loss, ``beta = alpha * n_samples`` of the rows fitted.

    Parameters
    ----------
    alphas : int or array-like of shape (n_alphas,), default=10
        Either a number of values, geometrically spaced from ``alpha_max`` (the smallest alpha at
        which the network is empty on all rows) down to ``eps * alpha_max``, or the values
        themselves (sorted decreasingly for the path).
    eps : float, default=1e-2
        Ratio of the smallest to the largest generated alpha (used when ``alphas`` is an int).
    cv : int, cross-validation generator or iterable, default=5
        As scikit-learn's ``cv`` (an int k: ``KFold(k)``).
    model, bias, max_patterns, n_gates, tol, max_iter, random_state, verbose
        As in :class:`dualnet.ConvexReLURegressor`; each fold computes the patterns of its own
        training rows (sampled ones seeded from ``random_state``).
    n_jobs : int or None, default=None
        Folds solved in parallel: None uses the active joblib backend (serial unless configured,
        for instance a Dask cluster through ``joblib.parallel_backend("dask")``); an int uses that
        many threads (the solver releases the GIL).

    Attributes
    ----------
    alpha_ : float
        The chosen alpha.
    alphas_ : ndarray of shape (n_alphas,)
        The grid, decreasing.
    mse_path_ : ndarray of shape (n_alphas, n_folds)
        Held-out mean squared error of each alpha on each fold.
    cv_results_ : dict of ndarrays
        ``"alphas"``, ``"mean_test_mse"``, ``"std_test_mse"``, ``"rank_test_mse"`` and
        ``"split{k}_test_mse"``, one entry per alpha (scikit-learn's ``cv_results_`` layout).
    first_layer_, second_layer_, objective_, duality_gap_, relative_gap_, converged_, n_iter_,
    patterns_, result_, n_features_in_
        Of the refit on all rows at ``alpha_``, as in :class:`dualnet.ConvexReLURegressor`.
    """

    def __init__(
        self, alphas=10, *, eps=1e-2, cv=5, model="relu", bias=True, max_patterns=None,
        n_gates=None, tol=1e-6, max_iter=None, random_state=None, n_jobs=None, verbose=False,
    ):
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.model = model
        self.bias = bias
        self.max_patterns = max_patterns
        self.n_gates = n_gates
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(self, X, y):
        """Choose alpha by cross-validation and refit on all rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        from joblib import Parallel, delayed

        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        check_choice(self.model, "model", _MODELS)
        max_patterns = check_positive_integer(self.max_patterns, "max_patterns", allow_none=True)
        n_gates = check_positive_integer(self.n_gates, "n_gates", allow_none=True)
        tol = check_positive(self.tol, "tol")
        full_patterns = activation_patterns(
            X, bias=bool(self.bias), method="auto", max_patterns=max_patterns, n_gates=n_gates,
            random_state=self.random_state,
        )
        rng = check_random_state(self.random_state)
        alphas = self._alpha_grid(X, y, full_patterns)
        splits = list(check_cv(self.cv).split(X, y))
        options = {"bias": bool(self.bias), "model": self.model, "max_patterns": max_patterns,
                   "n_gates": n_gates, "tol": tol, "max_iter": self.max_iter}
        seeds = [int(rng.integers(2**31 - 1)) for _ in splits]
        if self.n_jobs is None:
            parallel = Parallel()
        else:
            parallel = Parallel(n_jobs=self.n_jobs, backend="threading")
        columns = parallel(delayed(_fold_path)(X, y, train, test, alphas, options, seed)
                           for (train, test), seed in zip(splits, seeds))
        mse = np.column_stack(columns)
        mean = mse.mean(axis=1)
        best = int(np.argmin(mean))
        self.alphas_ = alphas
        self.mse_path_ = mse
        self.alpha_ = float(alphas[best])
        order = np.argsort(mean, kind="stable")
        rank = np.empty(alphas.size, dtype=int)
        rank[order] = np.arange(1, alphas.size + 1)
        self.cv_results_ = {"alphas": alphas, "mean_test_mse": mean,
                            "std_test_mse": mse.std(axis=1), "rank_test_mse": rank}
        for k in range(mse.shape[1]):
            self.cv_results_[f"split{k}_test_mse"] = mse[:, k]

        # The refit is the plain estimator at alpha_ (its patterns are computed by the same call
        # as full_patterns, so with a seeded random_state they are the same set).
        refit = ConvexReLURegressor(
            self.alpha_, model=self.model, bias=self.bias, max_patterns=max_patterns,
            n_gates=n_gates, tol=tol, max_iter=self.max_iter, random_state=self.random_state,
            verbose=self.verbose,
        ).fit(X, y)
        for name in _REFIT_ATTRIBUTES:
            setattr(self, name, getattr(refit, name))
        return self

    def _alpha_grid(self, X, y, patterns):
        if isinstance(self.alphas, (int, np.integer)) and not isinstance(self.alphas, bool):
            k = check_positive_integer(self.alphas, "alphas")
            eps = check_positive(self.eps, "eps")
            if eps >= 1:
                raise ValueError(f"eps must be < 1, got {self.eps!r}")
            from .relu import beta_max

            top = beta_max(X, y, patterns=patterns, model=self.model, bias=bool(self.bias))
            if top == 0:
                raise ValueError("y is zero on every pattern (alpha_max = 0): no grid to generate")
            return np.geomspace(top / X.shape[0], eps * top / X.shape[0], k)
        grid = as_real_array(self.alphas, "alphas")
        if grid.ndim != 1 or grid.size == 0:
            raise ValueError(f"alphas must be a non-empty 1-D sequence, got shape {grid.shape}")
        for value in grid:
            check_positive(float(value), "alphas")
        grid = np.sort(grid)[::-1]
        if np.any(np.diff(grid) == 0):
            raise ValueError("alphas must not repeat a value")
        return np.ascontiguousarray(grid)

    def predict(self, X):
        """Network output for new data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.result_.predict(X)
