"""The row-sharded gated solve agrees with the in-memory solver, within the certified gaps."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import dualnet  # noqa: E402


def _problem(bias, n=300, d=3, seed=0, n_gates=40, fraction=0.05):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.maximum(X @ rng.standard_normal(d) + 0.2, 0) + 0.1 * rng.standard_normal(n)
    patterns = dualnet.activation_patterns(X, bias=bias, method="sample", n_gates=n_gates,
                                           random_state=0)
    beta = fraction * dualnet.beta_max(X, y, patterns=patterns, model="gated", bias=bias)
    return X, y, patterns, beta


def _check_agreement(sharded, memory, X, y, patterns, bias, tol):
    assert sharded.converged and sharded.relative_gap <= tol
    # Each objective is within its own certified gap of the optimum, so they agree to the sum.
    assert abs(sharded.primal_objective - memory.primal_objective) <= (
        sharded.duality_gap + memory.duality_gap)
    # Strong convexity in the predictions: 1/2 ||yhat - yhat*||^2 <= gap for either solution.
    Xa = np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X
    yhat_memory = np.sum(patterns.masks * (Xa @ memory.gated_weights), axis=1)
    yhat_sharded = sharded.predict(X)
    bound = 2 * (np.sqrt(2 * sharded.duality_gap) + np.sqrt(2 * memory.duality_gap)) ** 2
    assert np.sum((yhat_sharded - yhat_memory) ** 2) <= bound
    # The masks the workers compute from the gates are the pattern set's masks.
    np.testing.assert_array_equal(Xa @ patterns.gates >= 0, patterns.masks)
    # The objective reported is the objective of the returned blocks.
    penalty = np.sum(np.linalg.norm(sharded.gated_weights, axis=0))
    assert sharded.primal_objective == pytest.approx(
        0.5 * np.sum((y - yhat_sharded) ** 2) + sharded.beta * penalty, rel=1e-10)


@pytest.mark.parametrize("bias", [False, True])
def test_sharded_gated_solve_matches_in_memory(bias):
    X, y, patterns, beta = _problem(bias)
    memory = dualnet.fit_relu(X, y, beta, patterns=patterns, model="gated", bias=bias, tol=1e-9)
    sharded = dualnet.fit_gated_sharded(da.from_array(X, chunks=(100, 2)), y, beta,
                                        patterns.gates, bias=bias, tol=1e-6)
    _check_agreement(sharded, memory, X, y, patterns, bias, 1e-6)
    assert sharded.n_passes >= sharded.n_iter


def test_sharded_solve_on_a_local_cluster():
    distributed = pytest.importorskip("distributed")
    # Few patterns and a strong penalty: about a hundred passes, each a round trip to the workers.
    X, y, patterns, beta = _problem(False, n=200, seed=1, n_gates=15, fraction=0.5)
    memory = dualnet.fit_relu(X, y, beta, patterns=patterns, model="gated", tol=1e-9)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  host="127.0.0.1", protocol="tcp", dashboard_address=None) \
            as cluster, distributed.Client(cluster):
        Xd = da.from_array(X, chunks=(100, 3))
        sharded = dualnet.fit_gated_sharded(Xd, da.from_array(y, chunks=100), beta,
                                            patterns.gates, tol=1e-3, n_power_iter=10)
    _check_agreement(sharded, memory, X, y, patterns, False, 1e-3)


def test_sharded_arguments_are_checked():
    X, y, patterns, beta = _problem(False, n=50)
    Xd = da.from_array(X, chunks=(25, 3))
    with pytest.raises(TypeError, match="dask.array"):
        dualnet.fit_gated_sharded(X, y, beta, patterns.gates)
    with pytest.raises(ValueError, match="gates must have shape"):
        dualnet.fit_gated_sharded(Xd, y, beta, patterns.gates, bias=True)
    with pytest.raises(ValueError, match="but y has"):
        dualnet.fit_gated_sharded(Xd, y[:-1], beta, patterns.gates)
    with pytest.raises(ValueError, match="beta"):
        dualnet.fit_gated_sharded(Xd, y, -1.0, patterns.gates)
