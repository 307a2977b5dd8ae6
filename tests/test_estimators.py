"""ConvexReLURegressor: scikit-learn conventions (alpha * n = beta) and check_estimator."""

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import dualnet  # noqa: E402
from dualnet import ConvexReLURegressor, column_generation, fit_relu  # noqa: E402
from reference.gradient_descent import network_objective  # noqa: E402


# check_estimator's data have unscaled targets (|y| up to ~100); alpha = 1 and at most 50 patterns
# keep every one of its fits within the solver's default max_iter (a ConvergenceWarning is an
# error in this test suite); beyond 50 patterns the fit prices, and at most three rounds of column
# generation (a deterministic budget, unlike a time budget) keep the whole check quick; tol=1e-4
# because the priced sets of its alpha = 0.01 fits take the solver past max_iter at 1e-6. The
# defaults are exercised below.
CHECKED = [
    ConvexReLURegressor(alpha=1.0, max_patterns=50, n_gates=50, tol=1e-4, random_state=0),
    ConvexReLURegressor(alpha=1.0, model="gated", bias=False, max_patterns=50, n_gates=50,
                        tol=1e-4, random_state=0),
]


@parametrize_with_checks(CHECKED)
def test_sklearn_compatible(estimator, check, monkeypatch):
    monkeypatch.setattr(column_generation, "DEFAULT_MAX_ROUNDS", 3)
    check(estimator)


def _data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = np.maximum(X[:, 0], 0) - 0.5 * np.abs(X[:, 1]) + 0.05 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("model", ["relu", "gated"])
def test_mean_loss_convention_is_fit_relu_with_beta_alpha_n(model):
    X, y = _data()
    n = X.shape[0]
    est = ConvexReLURegressor(alpha=0.05, model=model, tol=1e-8, random_state=0).fit(X, y)
    direct = fit_relu(X, y, 0.05 * n, patterns=est.patterns_, model=model, bias=True, tol=1e-8)
    assert est.objective_ == pytest.approx(direct.primal_objective / n, rel=1e-6)
    np.testing.assert_allclose(est.predict(X), direct.predict(X), atol=1e-6)
    assert est.relative_gap_ <= 1e-8 and est.converged_
    assert est.duality_gap_ == pytest.approx(est.result_.duality_gap / n)
    assert est.n_iter_ == est.result_.n_iter
    if model == "relu":
        # Mean-loss objective of the fitted network, from an independent formula.
        Xa = np.hstack([X, np.ones((n, 1))])
        value = network_objective(Xa, y, 0.05 * n, est.first_layer_, est.second_layer_) / n
        assert value == pytest.approx(est.objective_, rel=1e-8)


def test_score_is_r2_of_the_network():
    X, y = _data(seed=1)
    est = ConvexReLURegressor(alpha=0.1, random_state=0).fit(X, y)
    assert est.patterns_.exact
    residual = est.predict(X) - y
    r2 = 1 - residual @ residual / np.sum((y - y.mean()) ** 2)
    assert est.score(X, y) == pytest.approx(r2)
    assert r2 > 0.2 and est.second_layer_.size > 0  # a non-trivial network


def test_priced_fit_and_polishing_follow_fit_relu():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 3))
    y = np.maximum(X @ rng.standard_normal(3), 0) + 0.1 * rng.standard_normal(40)
    n, alpha = X.shape[0], 0.02
    est = ConvexReLURegressor(alpha=alpha, max_patterns=10, random_state=0).fit(X, y)
    assert not est.patterns_.exact and est.pricing_.certificate == "relative"
    assert est.pricing_.n_rounds >= 1 and est.converged_
    # Polishing a network never returns a worse mean-loss objective than the network's own.
    Xa = np.hstack([X, np.ones((n, 1))])
    U = rng.standard_normal((4, 6))
    a = rng.standard_normal(6)
    seed_objective = network_objective(Xa, y, alpha * n, U, a) / n
    polished = ConvexReLURegressor(alpha=alpha, init=(U, a), tol=1e-8, random_state=0).fit(X, y)
    assert polished.objective_ <= seed_objective * (1 + 1e-8)
    value = network_objective(Xa, y, alpha * n, polished.first_layer_, polished.second_layer_) / n
    assert value == pytest.approx(polished.objective_, rel=1e-8)


def test_convergence_warning_is_caught_by_either_library_filter():
    X, y = _data()
    for category in (SklearnConvergenceWarning, dualnet.ConvergenceWarning):
        with pytest.warns(category, match="max_iter"):
            est = ConvexReLURegressor(alpha=1e-4, tol=1e-15, max_iter=1, random_state=0).fit(X, y)
        assert not est.converged_


def test_bad_parameters_name_the_argument():
    X, y = _data()
    with pytest.raises(ValueError, match="alpha"):
        ConvexReLURegressor(alpha=0.0).fit(X, y)
    with pytest.raises(ValueError, match="model"):
        ConvexReLURegressor(model="tanh").fit(X, y)
    with pytest.raises(ValueError, match="tol"):
        ConvexReLURegressor(tol=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="max_patterns"):
        ConvexReLURegressor(max_patterns=0).fit(X, y)
    with pytest.raises(ValueError, match="n_gates"):
        ConvexReLURegressor(n_gates=0).fit(X, y)
    with pytest.raises(ValueError, match="max_time"):
        ConvexReLURegressor(max_time=0.0).fit(X, y)
    est = ConvexReLURegressor(alpha=0.05, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="3 features"):
        est.predict(np.ones((2, 3)))
