"""scikit-learn estimators on top of the certified solvers (the only module importing sklearn)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import check_choice, check_positive, check_positive_integer
from .exceptions import ConvergenceWarning
from .relu import _MODELS, _fit_relu

__all__ = ["ConvexReLURegressor", "EstimatorConvergenceWarning"]


class EstimatorConvergenceWarning(ConvergenceWarning, _SklearnConvergenceWarning):
    """Non-convergence of an estimator: caught by filters on either library's warning class."""


def _validated_fit_arguments(estimator, X, y, *, y_numeric):
    """The checks every estimator's ``fit`` starts with: ``validate_data`` (float64 X; y numeric
    for regressors) and the shared hyperparameters.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    alpha : float
    max_patterns, n_gates : int or None
    """
    try:
        X, y = validate_data(estimator, X, y, dtype=np.float64, y_numeric=y_numeric)
    except OverflowError:  # a Python int beyond float range, which numpy cannot convert
        what = "X and y" if y_numeric else "X"
        raise ValueError(f"{what} must hold numbers within the float64 range") from None
    alpha = check_positive(estimator.alpha, "alpha")
    check_choice(estimator.model, "model", _MODELS)
    max_patterns = check_positive_integer(estimator.max_patterns, "max_patterns", allow_none=True)
    n_gates = check_positive_integer(estimator.n_gates, "n_gates", allow_none=True)
    return X, y, alpha, max_patterns, n_gates


class ConvexReLURegressor(RegressorMixin, BaseEstimator):
    """Two-layer ReLU network regression trained to a certified global optimum.

    Minimises scikit-learn's mean-loss form of the weight-decay problem

        1/(2 n) ||sum_j (X u_j)_+ a_j - y||^2 + alpha/2 sum_j (||u_j||^2 + a_j^2)

    which is the summed-loss problem of :func:`dualnet.fit_relu` divided by n, with
    ``beta = alpha * n_samples``. The network is found by solving the equivalent convex program
    over activation patterns (Pilanci & Ergen, ICML 2020) and certified by a duality gap. As in
    :func:`dualnet.fit_relu` with ``patterns="auto"``: the exact pattern set when it is
    affordable (global certificate), else column generation from a seed set (a short Adam run's
    patterns and a few random gates, or those of ``init``), certified relative to the final set.

    Parameters
    ----------
    alpha : float, default=1e-3
        Weight-decay strength in the mean-loss convention (``alpha * n_samples = beta``).
    model : {"relu", "gated"}, default="relu"
        ``"relu"``: the exact program. ``"gated"``: the gated-ReLU relaxation; the fitted network
        is then its cone decomposition (same predictions on the training data, larger norm).
    bias : bool, default=True
        Give every hidden neuron a bias (a ones column is appended to X). The bias is regularized
        like the other weights.
    max_patterns : int or None, default=None
        The largest pattern set enumerated exactly (Cover's bound on the count is compared with
        it; None: ``dualnet.patterns.DEFAULT_MAX_PATTERNS``); beyond it the set is grown by
        pricing. The certificate is global only when the pattern set is exact
        (``patterns_.exact``).
    n_gates : int or None, default=None
        Random gates of the seed set of column generation (None: 100).
    init : None, array-like, pair, PyTorch or scikit-learn network, default=None
        A trained network to polish (see :func:`dualnet.fit_relu`): its patterns seed the set and
        the result is never worse than it (in the mean-loss objective above, up to ``tol``).
    max_time : float or None, default=None
        Time budget in seconds of column generation (None: 60).
    tol : float, default=1e-6
        Target certified relative duality gap.
    max_iter : int or None, default=None
        Solver iteration limit (None: the solver's default). Reaching it emits an
        :class:`EstimatorConvergenceWarning`, a subclass of both
        :class:`dualnet.ConvergenceWarning` and ``sklearn.exceptions.ConvergenceWarning``.
    random_state : None, int or numpy Generator
        Seeds the pattern sampler when the patterns are sampled.
    verbose : bool, default=False

    Attributes
    ----------
    first_layer_ : ndarray of shape (n_features (+ 1 with bias), m)
        Hidden weights; the last row holds the biases when ``bias=True``.
    second_layer_ : ndarray of shape (m,)
        Output weights.
    objective_ : float
        Mean-loss objective of the convex program at the solution (summed objective / n).
    duality_gap_ : float
        Certified duality gap, in the same mean-loss scale as ``objective_``.
    relative_gap_ : float
        Certified relative gap (scale-free).
    converged_ : bool
    n_iter_ : int
        Solver iterations summed over every solve.
    patterns_ : dualnet.Patterns
        The activation patterns used.
    pricing_ : dualnet.column_generation.ColumnGeneration
        What column generation did (``certificate`` "global" when the set is exact).
    result_ : dualnet.ReLUFit
        The full result of :func:`dualnet.fit_relu` (summed-loss convention).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when X has feature names that are all strings.
    """

    def __init__(
        self, alpha=1e-3, *, model="relu", bias=True, max_patterns=None, n_gates=None, tol=1e-6,
        max_iter=None, random_state=None, verbose=False, init=None, max_time=None,
    ):
        self.alpha = alpha
        self.model = model
        self.bias = bias
        self.max_patterns = max_patterns
        self.n_gates = n_gates
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose
        self.init = init
        self.max_time = max_time

    def fit(self, X, y):
        """Fit the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        X, y, alpha, max_patterns, n_gates = _validated_fit_arguments(self, X, y, y_numeric=True)
        n = X.shape[0]
        result = _fit_relu(
            X, y, alpha * n, patterns="auto", model=self.model, bias=bool(self.bias),
            tol=self.tol, max_iter=self.max_iter, random_state=self.random_state,
            verbose=self.verbose, warning=EstimatorConvergenceWarning, beta_name="alpha",
            init=self.init, max_time=self.max_time,
            seed_options={"max_patterns": max_patterns, "n_gates": n_gates},
        )
        self.result_ = result
        self.first_layer_ = result.first_layer
        self.second_layer_ = result.second_layer
        self.objective_ = result.primal_objective / n
        self.duality_gap_ = result.duality_gap / n
        self.relative_gap_ = result.relative_gap
        self.converged_ = result.converged
        self.n_iter_ = result.pricing.n_solver_iter  # over every solve of column generation
        self.patterns_ = result.patterns
        self.pricing_ = result.pricing
        return self

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
