"""ConvexReLURegressorCV: the held-out errors of the warm-started path equal cold solves'."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

import dualnet  # noqa: E402
from dualnet import ConvexReLURegressor, ConvexReLURegressorCV  # noqa: E402


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    y = np.maximum(X @ [1.5, -1.0] + 0.3, 0) - np.maximum(X @ [-0.5, 1.0], 0)
    return X, y + 0.1 * rng.standard_normal(n)


def test_cv_errors_match_cold_solves_and_the_choice_minimises_them():
    X, y = _data()
    est = ConvexReLURegressorCV(alphas=4, eps=0.01, cv=3, tol=1e-9, random_state=0).fit(X, y)
    assert est.alphas_.shape == (4,) and np.all(np.diff(est.alphas_) < 0)
    assert est.mse_path_.shape == (4, 3)
    from sklearn.model_selection import KFold

    for k, (train, test) in enumerate(KFold(3).split(X)):
        patterns = dualnet.activation_patterns(X[train], bias=True, method="exact")
        for a, alpha in enumerate(est.alphas_):
            fit = dualnet.fit_relu(X[train], y[train], alpha * train.size, patterns=patterns,
                                   bias=True, tol=1e-9)
            mse = np.mean((fit.predict(X[test]) - y[test]) ** 2)
            assert est.mse_path_[a, k] == pytest.approx(mse, rel=1e-4, abs=1e-10)
    mean = est.mse_path_.mean(axis=1)
    assert est.alpha_ == est.alphas_[np.argmin(mean)]
    np.testing.assert_allclose(est.cv_results_["mean_test_mse"], mean)
    assert est.cv_results_["rank_test_mse"][np.argmin(mean)] == 1
    np.testing.assert_allclose(est.cv_results_["split2_test_mse"], est.mse_path_[:, 2])
    # The largest alpha of the generated grid gives the empty network on all rows.
    assert dualnet.fit_relu(X, y, est.alphas_[0] * X.shape[0] * 1.0001, bias=True).width == 0
    # The refit is the plain estimator at alpha_.
    plain = ConvexReLURegressor(alpha=est.alpha_, tol=1e-9).fit(X, y)
    np.testing.assert_allclose(est.predict(X), plain.predict(X), atol=1e-5)
    assert est.relative_gap_ <= 1e-9


def test_given_alphas_threads_and_clone():
    from sklearn.base import clone

    X, y = _data(seed=1)
    est = ConvexReLURegressorCV(alphas=[0.01, 0.1, 0.03], cv=3, model="gated", n_jobs=2,
                                max_patterns=30, n_gates=30, random_state=0, tol=1e-5)
    est.fit(X, y)
    np.testing.assert_array_equal(est.alphas_, [0.1, 0.03, 0.01])
    serial = clone(est).set_params(n_jobs=None).fit(X, y)
    np.testing.assert_array_equal(serial.mse_path_, est.mse_path_)
    assert serial.alpha_ == est.alpha_
    assert est.predict(X).shape == (X.shape[0],)
    with pytest.raises(ValueError, match="alphas"):
        ConvexReLURegressorCV(alphas=[1.0, -1.0]).fit(X, y)
    with pytest.raises(ValueError, match="eps"):
        ConvexReLURegressorCV(eps=2.0).fit(X, y)
