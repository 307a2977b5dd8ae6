"""scikit-learn estimators on top of the certified solvers (the only module importing sklearn)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import check_choice, check_positive, check_positive_integer
from .exceptions import ConvergenceWarning
from .patterns import activation_patterns
from .relu import _MODELS, _fit_relu

__all__ = ["ConvexReLURegressor", "EstimatorConvergenceWarning"]


class EstimatorConvergenceWarning(ConvergenceWarning, _SklearnConvergenceWarning):
    """Non-convergence of an estimator: caught by filters on either library's warning class."""


class ConvexReLURegressor(RegressorMixin, BaseEstimator):
    """Two-layer ReLU network regression trained to a certified global optimum.

    Minimises scikit-learn's mean-loss form of the weight-decay problem

        1/(2 n) ||sum_j (X u_j)_+ a_j - y||^2 + alpha/2 sum_j (||u_j||^2 + a_j^2)

    which is the summed-loss problem of :func:`dualnet.fit_relu` divided by n, with
    ``beta = alpha * n_samples``. The network is found by solving the equivalent convex program
    over activation patterns (Pilanci & Ergen, ICML 2020) and certified by a duality gap.

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
        Passed to :func:`dualnet.activation_patterns` (method ``"auto"``): the largest pattern
        set enumerated exactly; beyond it the patterns are sampled. The certificate is global
        only when the pattern set is exact (``patterns_.exact``).
    n_gates : int or None, default=None
        Passed to :func:`dualnet.activation_patterns`: the number of random gates drawn when the
        patterns are sampled.
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
    patterns_ : dualnet.Patterns
        The activation patterns used.
    result_ : dualnet.ReLUFit
        The full result of :func:`dualnet.fit_relu` (summed-loss convention).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when X has feature names that are all strings.
    """

    def __init__(
        self, alpha=1e-3, *, model="relu", bias=True, max_patterns=None, n_gates=None, tol=1e-6,
        max_iter=None, random_state=None, verbose=False,
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
        try:
            X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        except OverflowError:  # a Python int beyond float range, which numpy cannot convert
            raise ValueError("X and y must hold numbers within the float64 range") from None
        alpha = check_positive(self.alpha, "alpha")
        check_choice(self.model, "model", _MODELS)
        max_patterns = check_positive_integer(self.max_patterns, "max_patterns", allow_none=True)
        n_gates = check_positive_integer(self.n_gates, "n_gates", allow_none=True)
        n = X.shape[0]
        patterns = activation_patterns(
            X, bias=bool(self.bias), method="auto", max_patterns=max_patterns, n_gates=n_gates,
            random_state=self.random_state,
        )
        result = _fit_relu(
            X, y, alpha * n, patterns=patterns, model=self.model, bias=bool(self.bias),
            tol=self.tol, max_iter=self.max_iter, random_state=self.random_state,
            verbose=self.verbose, warning=EstimatorConvergenceWarning, beta_name="alpha",
        )
        self.result_ = result
        self.first_layer_ = result.first_layer
        self.second_layer_ = result.second_layer
        self.objective_ = result.primal_objective / n
        self.duality_gap_ = result.duality_gap / n
        self.relative_gap_ = result.relative_gap
        self.converged_ = result.converged
        self.n_iter_ = result.n_iter
        self.patterns_ = result.patterns
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
