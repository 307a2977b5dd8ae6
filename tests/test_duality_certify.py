"""optimal_neurons (O4, O14, O18) and certify / certify_linear against cvxpy and deep_linear."""

import warnings

import dualnet
import numpy as np
import pytest
from dualnet import _core
from hypothesis import given, settings
from hypothesis import strategies as st

if not hasattr(_core, "project_onto_pattern_cone"):
    pytest.skip("needs the compiled convex solver", allow_module_level=True)

from reference.convex_programs import solve_gated, solve_relu
from reference.gradient_descent import train_relu_network

cp = pytest.importorskip("cvxpy")


def _data(n=9, d=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


def _cone_maximum(X, mask, c):
    """max c^T u over (2D - I) X u >= 0, ||u|| <= 1, by cvxpy (independent of the C++ kernel)."""
    u = cp.Variable(X.shape[1])
    problem = cp.Problem(
        cp.Maximize(c @ u), [cp.multiply(2.0 * mask - 1.0, X @ u) >= 0, cp.norm(u, 2) <= 1]
    )
    problem.solve(solver="CLARABEL")
    return problem.value


# --- optimal_neurons --------------------------------------------------------------------------


def test_optimal_neurons_at_the_dual_optimum():  # O4, O14, O18
    X, y = _data()
    beta = 0.6
    fit = dualnet.fit_relu(X, y, beta, tol=1e-9)
    ext = dualnet.optimal_neurons(X, fit.dual, beta, fit.patterns)
    assert np.all(ext.values <= beta * (1 + 1e-9))
    assert np.all(ext.upper_bounds >= ext.values)
    rescaled = fit.dual * min(1.0, beta / ext.upper_bounds.max())
    assert dualnet.optimal_neurons(X, rescaled, beta, fit.patterns).feasible
    masks = fit.patterns.masks
    for u, a in zip(fit.first_layer.T, fit.second_layer):
        pattern = np.flatnonzero(np.all(masks == (X @ u >= 0)[:, None], axis=0))
        assert pattern.size == 1  # O14: every neuron's pattern is in the set (cone feasible)
        i = pattern[0]
        assert ext.tight[i]  # O4: tight constraint, neuron = the extreme point, sign rule
        assert abs(ext.neurons[:, i] @ u) == pytest.approx(np.linalg.norm(u), rel=1e-5)
        assert np.sign(a) == ext.signs[i]
    # O18: the number of active neurons is at most the number of tight patterns' blocks
    assert fit.first_layer.shape[1] <= 2 * np.count_nonzero(ext.tight)
    for i in range(0, masks.shape[1], 3):  # values against cvxpy on a third of the patterns
        c = X.T @ (masks[:, i] * fit.dual)
        expected = max(_cone_maximum(X, masks[:, i], c), _cone_maximum(X, masks[:, i], -c))
        assert ext.values[i] == pytest.approx(expected, abs=1e-6)


def test_optimal_neurons_bad_input():
    X, y = _data()
    patterns = dualnet.activation_patterns(X)
    with pytest.raises(ValueError, match="rows"):
        dualnet.optimal_neurons(X, y[:-1], 1.0, patterns)
    with pytest.raises(ValueError, match="beta"):
        dualnet.optimal_neurons(X, y, -1.0, patterns)
    with pytest.raises(ValueError, match="bias"):
        dualnet.optimal_neurons(X, y, 1.0, patterns, bias=True)


# --- certify ----------------------------------------------------------------------------------


def test_certify_an_optimal_network_and_a_random_one():
    X, y = _data(seed=1)
    beta = 0.5
    patterns = dualnet.activation_patterns(X)
    optimum = solve_relu(X, y, patterns.masks, beta).objective
    fit = dualnet.fit_relu(X, y, beta, patterns=patterns, tol=1e-9)
    cert = dualnet.certify(X, y, beta, fit.first_layer, fit.second_layer, patterns=patterns)
    assert cert.exact
    assert cert.lower_bound <= optimum + 1e-8 <= cert.primal_objective + 2e-8
    # the network's own residual is a slightly worse dual point than the solver's: 1e-5, not tol
    assert cert.relative_gap <= 1e-5
    rng = np.random.default_rng(2)
    U, a = rng.standard_normal((2, 5)), rng.standard_normal(5)
    rand = dualnet.certify(X, y, beta, U, a)
    residual = np.maximum(X @ U, 0) @ a - y
    assert rand.primal_objective == pytest.approx(
        0.5 * residual @ residual + 0.5 * beta * (np.sum(U * U) + a @ a)
    )
    assert rand.lower_bound <= optimum + 1e-9 < rand.primal_objective
    assert rand.duality_gap > 0.1


def test_certify_local_search_and_bias():
    X, y = _data(n=8, seed=3)
    beta = 0.3
    Xa = np.c_[X, np.ones(len(X))]
    patterns = dualnet.activation_patterns(X, bias=True)
    optimum = solve_relu(Xa, y, patterns.masks, beta).objective
    local = train_relu_network(Xa, y, beta, width=6, n_starts=3)
    cert = dualnet.certify(X, y, beta, local.first_layer, local.second_layer, bias=True)
    assert cert.primal_objective == pytest.approx(local.objective, rel=1e-10)
    assert cert.lower_bound <= optimum + 1e-8 <= cert.primal_objective + 1e-8
    with pytest.raises(ValueError, match="rows"):
        dualnet.certify(X, y, beta, local.first_layer[:-1], local.second_layer, bias=True)


def test_certify_relative_to_a_pattern_subset_is_not_exact():
    X, y = _data(seed=4)
    beta = 0.4
    patterns = dualnet.activation_patterns(X)
    subset = patterns.masks[:, ::2]
    fit = dualnet.fit_relu(X, y, beta, patterns=subset, tol=1e-9)
    cert = dualnet.certify(X, y, beta, fit.first_layer, fit.second_layer, patterns=subset)
    assert not cert.exact
    restricted = solve_relu(X, y, subset, beta).objective
    assert cert.lower_bound <= restricted + 1e-8


def test_certify_an_sklearn_mlp():
    # The output bias o becomes a neuron (0, .., 0, sqrt|o|) with weight sign(o) sqrt|o|.
    from sklearn.neural_network import MLPRegressor

    X, y = _data(n=12, seed=5)
    beta = 0.2
    mlp = MLPRegressor(
        hidden_layer_sizes=(6,), solver="lbfgs", alpha=beta / len(y), max_iter=5000, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(X, y)
    o = mlp.intercepts_[1][0]
    U = np.c_[np.vstack([mlp.coefs_[0], mlp.intercepts_[0]]), [0.0, 0.0, np.sqrt(abs(o))]]
    a = np.r_[mlp.coefs_[1][:, 0], np.sign(o) * np.sqrt(abs(o))]
    np.testing.assert_allclose(np.maximum(np.c_[X, np.ones(12)] @ U, 0) @ a, mlp.predict(X))
    cert = dualnet.certify(X, y, beta, U, a, bias=True)
    optimum = solve_relu(
        np.c_[X, np.ones(12)], y, dualnet.activation_patterns(X, bias=True).masks, beta
    )
    assert cert.lower_bound <= optimum.objective + 1e-8 <= cert.primal_objective + 1e-8


def test_gated_optimum_is_below_the_relu_optimum():  # O15
    X, y = _data(seed=6)
    patterns = dualnet.activation_patterns(X)
    for beta in [0.3, 2.0]:
        gated = solve_gated(X, y, patterns.masks, beta).objective
        fit = dualnet.fit_relu(X, y, beta, patterns=patterns, tol=1e-8)
        gated_fit = dualnet.fit_relu(X, y, beta, patterns=patterns, model="gated", tol=1e-8)
        assert gated_fit.primal_objective == pytest.approx(gated, rel=1e-6)
        assert gated <= fit.dual_objective + 1e-8 <= fit.primal_objective + 2e-8


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 8),
    d=st.integers(1, 3),
    width=st.integers(1, 4),
    bias=st.booleans(),
    log_beta=st.floats(-1.5, 1.0),
)
def test_certified_bound_is_below_every_network_and_feasible(seed, n, d, width, bias, log_beta):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    beta = 10.0**log_beta
    g = d + int(bias)
    U, a = rng.standard_normal((g, width)), rng.standard_normal(width)
    cert = dualnet.certify(X, y, beta, U, a, bias=bias)
    assert cert.lower_bound <= cert.primal_objective + 1e-12
    with warnings.catch_warnings():  # only its objective, an upper bound on p*, is used
        warnings.simplefilter("ignore", dualnet.ConvergenceWarning)
        fit = dualnet.fit_relu(X, y, beta, bias=bias, patterns=cert.patterns)
    assert cert.lower_bound <= fit.primal_objective + 1e-9
    # feasibility against many random neurons, independent of the cone kernel
    Xa = np.c_[X, np.ones(n)] if bias else X
    V = rng.standard_normal((g, 20000))
    V /= np.linalg.norm(V, axis=0)
    assert np.max(np.abs(cert.dual @ np.maximum(Xa @ V, 0))) <= beta * (1 + 1e-9)
