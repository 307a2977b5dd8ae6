"""scikit-learn classifier on top of the certified solvers under classification losses."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._loss_fit import LOSSES
from ._validation import check_choice
from .estimators import EstimatorConvergenceWarning, _validated_fit_arguments
from .patterns import activation_patterns
from .relu import _fit_relu

__all__ = ["ConvexReLUClassifier"]

_CLASSIFIER_LOSSES = tuple(loss for loss in LOSSES if loss != "squared")


def _sigmoid(t):
    return np.exp(-np.logaddexp(0.0, -t))


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


class ConvexReLUClassifier(ClassifierMixin, BaseEstimator):
    """Two-layer ReLU network classifier trained to a certified global optimum.

    Minimises scikit-learn's mean-loss form of the weight-decay problem

        1/n sum_k L(f(x_k), y_k) + alpha/2 sum_j (||u_j||^2 + ||a_j||^2),  f(x) = sum_j (x^T u_j)_+ a_j

    which is the summed-loss problem of :func:`dualnet.fit_relu` (``loss=...``) divided by n, with
    ``beta = alpha * n_samples``, solved through its convex program over activation patterns and
    certified by a duality gap (docs/theory.md, sections 6 and 7).

    Labels of any type are accepted; ``classes_`` holds them sorted. With two classes the network
    has one output (positive means ``classes_[1]``). With K > 2 classes:

    - ``loss="cross_entropy"``, ``model="gated"``: one network with K outputs, the exact
      vector-output program with one nuclear norm per pattern;
    - ``loss="cross_entropy"``, ``model="relu"``, and ``loss="logistic"`` or ``"hinge"`` with
      either model: one-vs-rest, one binary program per class (their objectives summed).

    Parameters
    ----------
    alpha : float, default=1e-3
        Weight-decay strength in the mean-loss convention (``alpha * n_samples = beta``).
    loss : {"logistic", "hinge", "cross_entropy"}, default="logistic"
        Summed over samples. ``"hinge"`` has no probabilities (no ``predict_proba``).
    model : {"relu", "gated"}, default="relu"
        ``"relu"``: the exact program. ``"gated"``: the gated-ReLU relaxation; the fitted network
        is then its cone decomposition (same outputs on the training data, larger norm).
    bias : bool, default=True
        Give every hidden neuron a bias (regularized like the other weights).
    max_patterns : int or None, default=None
        Passed to :func:`dualnet.activation_patterns` (method ``"auto"``): the largest pattern
        set enumerated exactly; beyond it the patterns are sampled, and the certificate is then
        relative to the sampled set.
    n_gates : int or None, default=None
        Passed to :func:`dualnet.activation_patterns`: random gates drawn when sampling.
    tol : float, default=1e-6
        Target certified relative duality gap.
    max_iter : int or None, default=None
        Solver iteration limit (None: the solver's default). Reaching it emits an
        ``EstimatorConvergenceWarning`` (a subclass of both :class:`dualnet.ConvergenceWarning`
        and ``sklearn.exceptions.ConvergenceWarning``).
    random_state : None, int or numpy Generator
        Seeds the pattern sampler when the patterns are sampled.
    verbose : bool, default=False

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    results_ : list of dualnet.ReLUFit
        One fit (binary or multi-output), or one per class for one-vs-rest.
    objective_ : float
        Mean-loss objective of the convex program(s) at the solution (summed objective / n).
    duality_gap_ : float
        Certified duality gap, same scale as ``objective_``.
    relative_gap_ : float
        Certified relative gap of the whole problem.
    converged_ : bool
    n_iter_ : int
        Largest iteration count of the fits.
    patterns_ : dualnet.Patterns
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when X has feature names that are all strings.

    Examples
    --------
    >>> import numpy as np
    >>> from dualnet import ConvexReLUClassifier
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    >>> clf = ConvexReLUClassifier(alpha=0.01).fit(X, ["a", "a", "b", "b"])
    >>> clf.classes_.tolist()
    ['a', 'b']
    >>> clf.predict(X).tolist()
    ['a', 'a', 'b', 'b']
    >>> bool(clf.relative_gap_ <= 1e-6)
    True
    """

    def __init__(
        self, alpha=1e-3, *, loss="logistic", model="relu", bias=True, max_patterns=None,
        n_gates=None, tol=1e-6, max_iter=None, random_state=None, verbose=False,
    ):
        self.alpha = alpha
        self.loss = loss
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
            Class labels of any type (at least two classes, no NaN).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For a single class, NaN labels, continuous (non-class) targets, or a bad parameter.
        """
        X, y, alpha, max_patterns, n_gates = _validated_fit_arguments(self, X, y, y_numeric=False)
        check_choice(self.loss, "loss", _CLASSIFIER_LOSSES)
        check_classification_targets(y)
        classes, labels = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"y has a single class ({classes[0]!r}): a classifier needs at least two (one class)"
            )
        n = X.shape[0]
        patterns = activation_patterns(
            X, bias=bool(self.bias), method="auto", max_patterns=max_patterns, n_gates=n_gates,
            random_state=self.random_state,
        )
        K = classes.size
        if self.loss == "cross_entropy" or K == 2:
            targets = [np.eye(K)[labels] if self.loss == "cross_entropy" else 2.0 * labels - 1.0]
        else:  # one-vs-rest
            targets = [np.where(labels == k, 1.0, -1.0) for k in range(K)]
        self.results_ = [
            _fit_relu(
                X, target, alpha * n, patterns=patterns, model=self.model, bias=bool(self.bias),
                tol=self.tol, max_iter=self.max_iter, random_state=self.random_state,
                verbose=self.verbose, warning=EstimatorConvergenceWarning, beta_name="alpha",
                loss=self.loss,
            )
            for target in targets
        ]
        self.classes_ = classes
        primal = sum(r.primal_objective for r in self.results_)
        gap = sum(r.duality_gap for r in self.results_)
        self.objective_ = primal / n
        self.duality_gap_ = gap / n
        self.relative_gap_ = gap / max(primal, np.finfo(float).tiny)
        self.converged_ = all(r.converged for r in self.results_)
        self.n_iter_ = max(r.n_iter for r in self.results_)
        self.patterns_ = patterns
        return self

    def _outputs(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        if len(self.results_) == 1:
            return self.results_[0].predict(X)
        return np.column_stack([r.predict(X) for r in self.results_])

    def decision_function(self, X):
        """Network outputs: the score of ``classes_[1]`` with two classes, else one per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            Two classes: f(x) (logit of ``classes_[1]``; with ``loss="cross_entropy"`` the
            difference of the two logits). More: the logits (cross-entropy) or the one-vs-rest
            scores.
        """
        scores = self._outputs(X)
        if scores.ndim == 2 and self.classes_.size == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def _has_probabilities(self):
        return self.loss in ("logistic", "cross_entropy")

    @available_if(_has_probabilities)
    def predict_proba(self, X):
        """Class probabilities (``loss="logistic"`` or ``"cross_entropy"``).

        Two classes: sigmoid of the decision function. Cross-entropy, gated, K > 2: softmax of
        the logits. One-vs-rest: each class's sigmoid, normalised to sum to one.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            positive = _sigmoid(scores)
            return np.column_stack([1.0 - positive, positive])
        if self.loss == "cross_entropy" and self.model == "gated":
            return _softmax(scores)
        probabilities = _sigmoid(scores)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    @available_if(_has_probabilities)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))
