"""ConvexReLUClassifier: scikit-learn conventions, labels, probabilities and check_estimator."""

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from dualnet import ConvexReLUClassifier, fit_relu  # noqa: E402

# check_estimator's data sets are small blobs and iris-like sets; at most 50 patterns keep its
# many fits quick. Every loss and both programs are checked.
CHECKED = [
    ConvexReLUClassifier(alpha=0.1, max_patterns=50, n_gates=50, random_state=0),
    ConvexReLUClassifier(alpha=0.1, loss="hinge", model="gated", max_patterns=50, n_gates=50,
                         random_state=0),
    ConvexReLUClassifier(alpha=0.1, loss="cross_entropy", model="gated", max_patterns=50,
                         n_gates=50, random_state=0),
]


@parametrize_with_checks(CHECKED)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    labels = np.where(X[:, 0] * X[:, 1] > 0, "even", "odd")
    return X, labels


@pytest.mark.parametrize("loss", ["logistic", "hinge"])
def test_binary_is_fit_relu_with_signs_and_beta_alpha_n(loss):
    X, labels = _data()
    tol = 1e-8 if loss == "logistic" else 1e-6
    clf = ConvexReLUClassifier(alpha=0.01, loss=loss, tol=tol).fit(X, labels)
    assert clf.classes_.tolist() == ["even", "odd"]
    y = np.where(labels == "odd", 1.0, -1.0)
    fit = fit_relu(X, y, 0.01 * X.shape[0], bias=True, loss=loss, tol=tol)
    assert clf.objective_ * X.shape[0] == pytest.approx(fit.primal_objective, rel=1e-6)
    np.testing.assert_allclose(clf.decision_function(X), fit.predict(X), atol=1e-3)
    np.testing.assert_array_equal(clf.predict(X), np.where(clf.decision_function(X) > 0, "odd",
                                                           "even"))
    assert 0 <= clf.relative_gap_ <= tol * (1 + 1e-6)


def test_predict_proba_logistic_is_sigmoid_of_decision():
    X, labels = _data()
    clf = ConvexReLUClassifier(alpha=0.01).fit(X, labels)
    proba = clf.predict_proba(X)
    score = clf.decision_function(X)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-score)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))


def test_hinge_has_no_probabilities():
    X, labels = _data()
    clf = ConvexReLUClassifier(alpha=0.01, loss="hinge").fit(X, labels)
    assert not hasattr(clf, "predict_proba")


def _three_classes(n=15, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = np.array([2, 5, 9])[np.argmax(X @ rng.standard_normal((2, 3)), axis=1)]
    y[:3] = [2, 5, 9]
    return X, y


def test_multiclass_cross_entropy_gated_is_softmax_of_the_multi_output_fit():
    X, y = _three_classes()
    clf = ConvexReLUClassifier(alpha=0.02, loss="cross_entropy", model="gated", tol=1e-7)
    clf.fit(X, y)
    assert clf.classes_.tolist() == [2, 5, 9]
    Y = np.eye(3)[np.searchsorted([2, 5, 9], y)]
    fit = fit_relu(X, Y, 0.02 * X.shape[0], bias=True, loss="cross_entropy", model="gated",
                   tol=1e-7)
    assert len(clf.results_) == 1
    Z = fit.predict(X)
    np.testing.assert_allclose(clf.decision_function(X), Z, atol=1e-4)
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(clf.predict_proba(X), E / E.sum(axis=1, keepdims=True), atol=1e-4)
    np.testing.assert_array_equal(clf.predict(X), np.array([2, 5, 9])[np.argmax(Z, axis=1)])


@pytest.mark.parametrize("loss", ["logistic", "hinge", "cross_entropy"])
def test_multiclass_one_vs_rest(loss):
    X, y = _three_classes()
    clf = ConvexReLUClassifier(alpha=0.02, loss=loss, model="relu").fit(X, y)
    scores = clf.decision_function(X)
    assert scores.shape == (X.shape[0], 3)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(scores, axis=1)])
    if loss != "hinge":
        proba = clf.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_array_equal(np.argmax(proba, axis=1), np.argmax(scores, axis=1))
    assert clf.converged_ and clf.relative_gap_ <= 1e-6


@pytest.mark.parametrize(
    "y,message",
    [
        (np.zeros(8), "one class"),
        (np.array([0.0, 1.0, np.nan, 1.0, 0.0, 1.0, 0.0, 1.0]), "NaN"),
        (np.linspace(0.1, 3.3, 8), "continuous|Unknown label type"),
    ],
)
def test_bad_labels_raise(y, message):
    X = np.random.default_rng(0).standard_normal((8, 2))
    with pytest.raises(ValueError, match=message):
        ConvexReLUClassifier().fit(X, y)


def test_bad_loss_raises():
    X, labels = _data()
    with pytest.raises(ValueError, match="loss"):
        ConvexReLUClassifier(loss="squared").fit(X, labels)
