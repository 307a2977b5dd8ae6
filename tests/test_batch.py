"""fit_relu_batch: serial, threaded and Dask runs give the same certified solves, in order."""

import numpy as np
import pytest

import dualnet
from dualnet import fit_relu, fit_relu_batch


def _data(seed=0, n=40, d=3, targets=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    hidden = rng.standard_normal((d, 4))
    Y = np.maximum(X @ hidden, 0) @ rng.standard_normal((4, targets))
    Y += 0.1 * rng.standard_normal(Y.shape)
    return X, Y


@pytest.fixture(scope="module")
def problems():
    X, Y = _data()
    patterns = dualnet.activation_patterns(X, method="exact")
    out = []
    for k, model in enumerate(["relu", "gated", "relu", "gated"]):
        y = Y[:, k % Y.shape[1]]
        top = dualnet.beta_max(X, y, patterns=patterns, model=model)
        out.append({"X": X, "y": y, "beta": (0.05 + 0.1 * k) * top, "patterns": patterns,
                    "model": model})
    return out


def _assert_same(a, b):
    assert len(a) == len(b)
    for fa, fb in zip(a, b):
        assert fa.model == fb.model and fa.beta == fb.beta
        np.testing.assert_allclose(fa.v, fb.v, rtol=0, atol=1e-12)
        np.testing.assert_allclose(fa.w, fb.w, rtol=0, atol=1e-12)
        assert abs(fa.primal_objective - fb.primal_objective) <= 1e-12 * fa.primal_objective
        assert abs(fa.dual_objective - fb.dual_objective) <= 1e-12 * abs(fa.primal_objective)


def test_serial_batch_is_each_fit_relu_in_order_and_certified(problems):
    results = fit_relu_batch(problems, tol=1e-8)
    direct = [fit_relu(**p, tol=1e-8) for p in problems]
    _assert_same(results, direct)
    for fit, problem in zip(results, problems):
        assert fit.model == problem["model"] and fit.beta == problem["beta"]
        assert fit.converged and fit.relative_gap <= 1e-8
        # The certificate is checked, not trusted: weak duality on the returned dual point.
        theta = fit.dual
        assert fit.dual_objective == pytest.approx(
            problem["y"] @ theta - 0.5 * theta @ theta, rel=1e-10)


def test_threads_match_serial(problems):
    serial = fit_relu_batch(problems, n_jobs=1)
    threaded = fit_relu_batch(problems, n_jobs=2)
    _assert_same(serial, threaded)


def test_dask_local_cluster_matches_serial(problems):
    distributed = pytest.importorskip("distributed")
    joblib = pytest.importorskip("joblib")
    serial = fit_relu_batch(problems)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  host="127.0.0.1", protocol="tcp", dashboard_address=None) \
            as cluster, distributed.Client(cluster) as client:
        with joblib.parallel_backend("dask"), distributed.get_task_stream(client) as stream:
            on_dask = fit_relu_batch(problems)
        # The solves ran as tasks on the cluster's workers.
        assert len(stream.data) >= 1
    _assert_same(serial, on_dask)


def test_solve_parameters_do_not_change_results(problems):
    one = fit_relu_batch(problems[:2], n_threads=1)
    two = fit_relu_batch(problems[:2], n_threads=2)
    _assert_same(one, two)


def test_problems_name_index_and_key(problems):
    with pytest.raises(TypeError, match=r"problems\[1\] has an unknown key 'alpha'"):
        fit_relu_batch([problems[0], {**problems[1], "alpha": 1.0}])
    with pytest.raises(ValueError, match=r"problems\[0\] has no 'beta'"):
        fit_relu_batch([{k: v for k, v in problems[0].items() if k != "beta"}])
    with pytest.raises(ValueError, match=r"problems\[0\] sets 'model'.*shared"):
        fit_relu_batch(problems[:1], model="gated")
    with pytest.raises(TypeError, match=r"problems\[0\] must be a dict"):
        fit_relu_batch([(1, 2)])
    with pytest.raises(TypeError, match="unexpected shared keyword 'alpha'"):
        fit_relu_batch(problems, alpha=1.0)
    bad = [problems[0], {**problems[1], "beta": -1.0}]
    for n_jobs in (None, 2):
        with pytest.raises(ValueError, match=r"problems\[1\]: beta must be finite and > 0"):
            fit_relu_batch(bad, n_jobs=n_jobs)
    with pytest.raises(ValueError, match="n_jobs"):
        fit_relu_batch(problems, n_jobs=0)
    assert fit_relu_batch([]) == []


def test_progress_reports_every_solve_on_stderr(problems, capsys):
    fit_relu_batch(problems[:3], progress=True)
    err = capsys.readouterr().err
    assert "3/3 solves" in err and "1/3 solves" in err
    fit_relu_batch(problems[:3])
    assert capsys.readouterr().err == ""


def test_helpers_build_the_common_batches():
    X, Y = _data(1)
    small = {"max_patterns": 60, "n_gates": 60, "random_state": 0}  # sampled: quick solves
    batch = dualnet.problems_over_targets(X, Y, 2.0, **small)
    assert len(batch) == Y.shape[1]
    assert all(p["patterns"] is batch[0]["patterns"] for p in batch)
    np.testing.assert_array_equal(batch[2]["y"], Y[:, 2])
    fits = fit_relu_batch(batch, n_jobs=2, model="gated")
    np.testing.assert_allclose(fits[1].v, fit_relu(X, Y[:, 1], 2.0, patterns=batch[0]["patterns"],
                                                   model="gated").v, atol=1e-12)

    top = dualnet.beta_max(X, Y[:, 0], bias=True, model="gated")
    betas = [0.5 * top, 0.2 * top, 0.1 * top]
    batch = dualnet.problems_over_betas(X, Y[:, 0], betas, bias=True, **small)
    assert [p["beta"] for p in batch] == betas and all(p["bias"] for p in batch)
    objectives = [f.primal_objective for f in fit_relu_batch(batch, model="gated")]
    assert objectives[0] > objectives[1] > objectives[2]  # less regularization, lower optimum

    batch, splits = dualnet.problems_over_folds(X, Y[:, 0], 1.0, cv=4, **small)
    assert len(batch) == len(splits) == 4
    covered = np.sort(np.concatenate([test for _, test in splits]))
    np.testing.assert_array_equal(covered, np.arange(X.shape[0]))
    for problem, (train, test) in zip(batch, splits):
        assert np.intersect1d(train, test).size == 0
        np.testing.assert_array_equal(problem["X"], X[train])
        assert problem["patterns"].n_samples == train.size
