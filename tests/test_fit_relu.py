"""fit_relu, beta_max and fit_relu_path against cvxpy+Clarabel, gradient descent and the dual."""

import dataclasses
import itertools
import pickle
import zlib

import numpy as np
import pytest

import dualnet
from dualnet import ConvergenceWarning, Patterns, beta_max, fit_relu, fit_relu_path
from reference.convex_programs import convex_objective, solve_gated, solve_relu
from reference.gradient_descent import network_objective, train_relu_network
from reference.planar_patterns import planar_patterns

scipy_optimize = pytest.importorskip("scipy.optimize")
pytest.importorskip("cvxpy")

TOL = 1e-9  # solver tolerance in the accuracy tests, so a 1e-6 comparison has room


def _augment(X, bias):
    return np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X


def _problem(case):
    """Tiny problems with complete pattern sets: (X, y, bias, masks, gates)."""
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    if case == "1d-bias":
        X = rng.standard_normal((9, 1))
        y = np.sin(2 * X[:, 0]) + 0.1 * rng.standard_normal(9)
        bias = True
    elif case == "2d":
        X = rng.standard_normal((10, 2))
        y = X[:, 0] * X[:, 1] + 0.1 * rng.standard_normal(10)
        bias = False
    elif case == "degenerate":  # duplicate and sign-flipped rows, a zero row before the bias
        X = rng.standard_normal((6, 1))
        X = np.vstack([X, X[:2], -X[3:4], np.zeros((1, 1))])
        y = rng.standard_normal(X.shape[0])
        bias = True
    elif case == "2d-degenerate":  # zero rows of X itself (no bias), repeats, sign flips
        X = rng.standard_normal((5, 2))
        X = np.vstack([X, np.zeros((2, 2)), X[1], -2 * X[2]])
        y = rng.standard_normal(X.shape[0])
        bias = False
    elif case == "n<d":  # independent rows: every sign vector s is a pattern with gate X^+ s
        X = rng.standard_normal((3, 5))
        y = np.array([1.0, -2.0, 0.5])
        signs = np.array(list(itertools.product([-1.0, 1.0], repeat=3))).T
        return X, y, False, signs > 0, np.linalg.pinv(X) @ signs
    elif case == "n<d-bias":
        X = rng.standard_normal((3, 4))
        y = np.array([0.3, -1.0, 2.0])
        signs = np.array(list(itertools.product([-1.0, 1.0], repeat=3))).T
        return X, y, True, signs > 0, np.linalg.pinv(_augment(X, True)) @ signs
    else:
        raise ValueError(case)
    masks, gates = planar_patterns(_augment(X, bias))
    return X, y, bias, masks, gates


CASES = ["1d-bias", "2d", "degenerate", "2d-degenerate", "n<d", "n<d-bias"]


def _fit(case, model, beta_fraction=0.2, tol=TOL):
    X, y, bias, masks, gates = _problem(case)
    patterns = Patterns.from_masks(masks, gates, bias=bias)
    beta = beta_fraction * beta_max(X, y, patterns=patterns, model=model, bias=bias)
    fit = fit_relu(X, y, beta, patterns=patterns, model=model, bias=bias, tol=tol)
    return X, y, bias, masks, gates, beta, fit


def _cone_bound(A, c):
    """max over {u : A u >= 0, ||u|| <= 1} of c^T u = min_{mu >= 0} ||c + A^T mu|| (NNLS)."""
    return scipy_optimize.nnls(A.T, -c)[1]


def _block_dual_norms(Xa, masks, dual, model):
    norms = []
    for i in range(masks.shape[1]):
        c = Xa.T @ (masks[:, i] * dual)
        if model == "gated":
            norms.append(np.linalg.norm(c))
        else:
            A = np.where(masks[:, i], 1.0, -1.0)[:, None] * Xa
            norms.append(max(_cone_bound(A, c), _cone_bound(A, -c)))
    return np.array(norms)


@pytest.mark.parametrize("model", ["relu", "gated"])
@pytest.mark.parametrize("case", CASES)
def test_objective_matches_cvxpy(case, model):
    X, y, bias, masks, gates, beta, fit = _fit(case, model)
    reference = (solve_relu if model == "relu" else solve_gated)(_augment(X, bias), y, masks, beta)
    assert fit.primal_objective == pytest.approx(reference.objective, rel=1e-6)
    assert fit.dual_objective <= reference.objective * (1 + 1e-8)
    assert fit.converged and fit.status == "converged"


@pytest.mark.parametrize("model", ["relu", "gated"])
@pytest.mark.parametrize("case", CASES)
def test_gap_is_certified_and_recomputable(case, model):
    X, y, bias, masks, gates, beta, fit = _fit(case, model, tol=1e-6)
    Xa = _augment(X, bias)
    assert fit.relative_gap <= 1e-6
    # Primal and dual objectives recomputed from the returned points.
    primal = convex_objective(Xa, y, masks, beta, fit.v, fit.w)
    dual = fit.dual @ y - 0.5 * fit.dual @ fit.dual
    assert fit.primal_objective == pytest.approx(primal, rel=1e-10)
    assert fit.dual_objective == pytest.approx(dual, rel=1e-10, abs=1e-12)
    assert fit.duality_gap == pytest.approx(primal - dual, rel=1e-6, abs=1e-12)
    assert fit.relative_gap == pytest.approx((primal - dual) / primal, rel=1e-6, abs=1e-12)
    # The dual point is feasible, checked directly.
    assert np.max(_block_dual_norms(Xa, masks, fit.dual, model)) <= beta * (1 + 1e-9)
    # The primal point is cone-feasible to the stated tolerance.
    if model == "relu":
        signs = np.where(masks, 1.0, -1.0)
        worst = max(-np.min(signs * (Xa @ fit.v)), -np.min(signs * (Xa @ fit.w)), 0.0)
        assert worst <= fit.max_cone_violation * (1 + 1e-9) + 1e-15
        assert fit.max_cone_violation <= 1e-8 * max(1.0, np.abs(Xa).max() * np.abs(fit.v).max())
    else:
        assert fit.max_cone_violation == 0.0 and not np.any(fit.w)


@pytest.mark.parametrize("case", CASES)
def test_network_objective_equals_primal_objective(case):
    X, y, bias, masks, gates, beta, fit = _fit(case, "relu")
    Xa = _augment(X, bias)
    m = np.count_nonzero(np.linalg.norm(fit.v, axis=0)) + np.count_nonzero(
        np.linalg.norm(fit.w, axis=0)
    )
    assert fit.first_layer.shape == (Xa.shape[1], m) and fit.second_layer.shape == (m,)
    assert fit.width == m > 0
    value = network_objective(Xa, y, beta, fit.first_layer, fit.second_layer)
    assert value == pytest.approx(fit.primal_objective, rel=1e-8)
    np.testing.assert_allclose(
        fit.predict(X), np.sum(masks * (Xa @ (fit.v - fit.w)), axis=1), atol=1e-8
    )


@pytest.mark.parametrize("case", CASES)
def test_gated_network_by_cone_decomposition(case):
    X, y, bias, masks, gates, beta, fit = _fit(case, "gated")
    Xa = _augment(X, bias)
    np.testing.assert_array_equal(fit.gated_weights, fit.v)
    np.testing.assert_allclose(fit.gates, gates)
    gated_predictions = np.sum(masks * (Xa @ fit.gated_weights), axis=1)
    np.testing.assert_allclose(fit.predict(X), gated_predictions, atol=1e-8)
    # Same predictions, larger norm: its weight-decay objective is at least the gated optimum.
    value = network_objective(Xa, y, beta, fit.first_layer, fit.second_layer)
    assert value >= fit.primal_objective * (1 - 1e-9)


@pytest.mark.parametrize("case", CASES)
def test_gated_optimum_at_most_relu_optimum(case):
    relu = _fit(case, "relu")[-1]
    X, y, bias, masks, gates = _problem(case)
    gated = fit_relu(X, y, relu.beta, patterns=Patterns.from_masks(masks, gates, bias=bias),
                     model="gated", bias=bias, tol=TOL)
    assert gated.primal_objective <= relu.primal_objective * (1 + 1e-8)
    assert gated.gates is not None and relu.gates is None and relu.gated_weights is None


@pytest.mark.parametrize("case", ["1d-bias", "2d"])
def test_gradient_descent_never_beats_the_certificate(case):
    X, y, bias, masks, gates, beta, fit = _fit(case, "relu", beta_fraction=0.05, tol=1e-8)
    Xa = _augment(X, bias)
    gd = train_relu_network(Xa, y, beta, width=max(fit.width, 6), n_starts=5, random_state=1)
    # The dual objective is a certified lower bound on every network's objective.
    assert np.all(gd.objectives >= fit.dual_objective * (1 - 1e-10))
    assert network_objective(Xa, y, beta, fit.first_layer, fit.second_layer) <= gd.objective * (
        1 + 1e-6
    )


def test_default_patterns_come_from_activation_patterns():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((8, 1))
    y = rng.standard_normal(8)
    fit = fit_relu(X, y, 0.1, bias=True, tol=TOL, random_state=0)
    expected = dualnet.activation_patterns(X, bias=True, method="auto", random_state=0)
    np.testing.assert_array_equal(fit.patterns.masks, expected.masks)
    reference = solve_relu(_augment(X, True), y, expected.masks, 0.1)
    assert fit.primal_objective == pytest.approx(reference.objective, rel=1e-6)


def test_bool_masks_are_accepted():
    X, y, bias, masks, gates = _problem("2d")
    fit = fit_relu(X, y, 0.2, patterns=masks, bias=bias, tol=TOL)
    reference = solve_relu(X, y, masks, 0.2)
    assert fit.primal_objective == pytest.approx(reference.objective, rel=1e-6)
    np.testing.assert_array_equal(fit.patterns.masks, masks)


def test_beta_max_is_where_the_solution_vanishes():
    X, y, bias, masks, gates = _problem("1d-bias")
    Xa = _augment(X, bias)
    patterns = Patterns.from_masks(masks, gates, bias=bias)
    for model in ["gated", "relu"]:
        top = beta_max(X, y, patterns=patterns, model=model, bias=bias)
        # Independent values: the largest block dual norm of y itself.
        assert top == pytest.approx(np.max(_block_dual_norms(Xa, masks, y, model)), rel=1e-9)
        above = fit_relu(X, y, top * (1 + 1e-6), patterns=patterns, model=model, bias=bias)
        assert above.width == 0 and above.primal_objective == pytest.approx(0.5 * y @ y)
        below = fit_relu(X, y, top * 0.9, patterns=patterns, model=model, bias=bias)
        assert below.width > 0 and below.primal_objective < 0.5 * y @ y
    assert beta_max(X, y, patterns=patterns, model="gated", bias=bias) >= beta_max(
        X, y, patterns=patterns, model="relu", bias=bias
    )


@pytest.mark.parametrize("model", ["relu", "gated"])
def test_path_matches_cold_starts_and_is_monotone(model, monkeypatch):
    X, y, bias, masks, gates = _problem("1d-bias")
    patterns = Patterns.from_masks(masks, gates, bias=bias)
    calls = []
    solve = dualnet._core.solve_convex

    def recording_solve(*args, **kwargs):
        calls.append(kwargs)
        return solve(*args, **kwargs)

    monkeypatch.setattr(dualnet._core, "solve_convex", recording_solve)
    path = fit_relu_path(X, y, 5, min_ratio=0.05, patterns=patterns, model=model, bias=bias,
                         tol=TOL)
    top = beta_max(X, y, patterns=patterns, model=model, bias=bias)
    assert path.beta_max == pytest.approx(top)
    np.testing.assert_allclose(path.betas, np.geomspace(top, 0.05 * top, 5))
    assert path[0].width == 0
    # Warm starts: every solve after the first starts from the previous solution.
    assert calls[0]["v0"] is None
    for previous, kwargs in zip(path.fits, calls[1:]):
        np.testing.assert_array_equal(kwargs["v0"], previous.v)
        np.testing.assert_array_equal(kwargs["w0"], previous.w)
    losses = []
    for fit, beta in zip(path, path.betas):
        assert fit.beta == beta and fit.relative_gap <= TOL
        cold = fit_relu(X, y, beta, patterns=patterns, model=model, bias=bias, tol=TOL)
        assert fit.primal_objective == pytest.approx(cold.primal_objective, rel=1e-6)
        residual = np.sum(masks * (_augment(X, bias) @ (fit.v - fit.w)), axis=1) - y
        losses.append(0.5 * residual @ residual)
    # Less regularization: a lower optimum and a data fit that is no worse.
    assert np.all(np.diff(path.primal_objectives) < 0)
    assert np.all(np.diff(losses) <= 1e-6 * losses[0])
    explicit = fit_relu_path(X, y, path.betas[2:], patterns=patterns, model=model, bias=bias,
                             tol=TOL)
    assert explicit.primal_objectives == pytest.approx(path.primal_objectives[2:], rel=1e-6)
    assert "ReLUPath(" in repr(path)
    clone = pickle.loads(pickle.dumps(path))
    np.testing.assert_array_equal(clone.primal_objectives, path.primal_objectives)


def test_relu_solver_converges_at_small_beta():
    # Nearly collinear blocks (1-D data with bias) at small beta: plain cyclic BCD crawls here.
    X, y, bias, masks, gates = _problem("1d-bias")
    patterns = Patterns.from_masks(masks, gates, bias=bias)
    beta = 0.02 * beta_max(X, y, patterns=patterns, bias=bias)
    fit = fit_relu(X, y, beta, patterns=patterns, bias=bias, tol=1e-8)
    assert fit.converged and fit.relative_gap <= 1e-8
    reference = solve_relu(_augment(X, bias), y, masks, beta)
    assert fit.primal_objective == pytest.approx(reference.objective, rel=1e-6)


def test_non_convergence_warns_and_returns_a_certified_result():
    X, y, bias, masks, gates = _problem("2d")
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        fit = fit_relu(X, y, 0.05, patterns=masks, bias=bias, tol=1e-15, max_iter=1)
    assert not fit.converged and fit.status == "max_iter"
    assert fit.relative_gap > 1e-15
    dual = fit.dual @ y - 0.5 * fit.dual @ fit.dual
    assert fit.dual_objective == pytest.approx(dual, rel=1e-10, abs=1e-12)
    assert np.max(_block_dual_norms(X, masks, fit.dual, "relu")) <= 0.05 * (1 + 1e-9)
    assert issubclass(ConvergenceWarning, UserWarning)


def test_result_is_frozen_pickles_and_prints_readably():
    X, y, bias, masks, gates, beta, fit = _fit("1d-bias", "gated")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.beta = 1.0
    with pytest.raises(ValueError):
        fit.first_layer[0, 0] = 1.0  # read-only arrays
    clone = pickle.loads(pickle.dumps(fit))
    np.testing.assert_array_equal(clone.first_layer, fit.first_layer)
    np.testing.assert_array_equal(clone.predict(X), fit.predict(X))
    np.testing.assert_array_equal(clone.patterns.masks, fit.patterns.masks)
    text = repr(fit)
    assert text.startswith("ReLUFit(model='gated'") and "relative_gap=" in text
    assert len(text) < 400 and "\n" not in text


def test_bad_input_names_the_argument():
    X, y, bias, masks, gates = _problem("2d")
    bad_X = X.copy()
    bad_X[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        fit_relu(bad_X, y, 0.1)
    with pytest.raises(ValueError, match="y has 9"):
        fit_relu(X, y[:-1], 0.1)
    with pytest.raises(ValueError, match="y contains NaN"):
        fit_relu(X, np.full_like(y, np.nan), 0.1)
    for beta in [0.0, -1.0, np.nan]:
        with pytest.raises(ValueError, match="beta"):
            fit_relu(X, y, beta, patterns=masks)
    with pytest.raises(ValueError, match="tol"):
        fit_relu(X, y, 0.1, patterns=masks, tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        fit_relu(X, y, 0.1, patterns=masks, max_iter=0)
    with pytest.raises(ValueError, match="patterns is empty"):
        fit_relu(X, y, 0.1, patterns=np.zeros((10, 0), bool))
    with pytest.raises(ValueError, match="patterns has 9"):
        fit_relu(X, y, 0.1, patterns=masks[:-1])
    with pytest.raises(TypeError, match="patterns"):
        fit_relu(X, y, 0.1, patterns=masks.astype(float))
    with pytest.raises(ValueError, match="model"):
        fit_relu(X, y, 0.1, patterns=masks, model="linear")
    with pytest.raises(ValueError, match="bias=True"):
        fit_relu(X, y, 0.1, patterns=Patterns.from_masks(masks, gates), bias=True)
    with pytest.raises(ValueError, match="betas must be strictly decreasing"):
        fit_relu_path(X, y, [0.1, 0.2], patterns=masks)
    with pytest.raises(ValueError, match="betas"):
        fit_relu_path(X, y, [0.2, -0.1], patterns=masks)
    fit = fit_relu(X, y, 0.1, patterns=masks)
    with pytest.raises(ValueError, match="X has 3 columns but the network was fitted on 2"):
        fit.predict(np.ones((4, 3)))


@pytest.mark.parametrize("scale", [1e-155, 1e-200, 1e155])
@pytest.mark.parametrize("model", ["gated", "relu"])
def test_rows_whose_squares_leave_the_normal_range_are_refused(scale, model):
    # A row of entries near 1e-154 squares to a subnormal: the ReLU cone projection used to loop
    # without end on such a row. Zero rows stay allowed.
    X, y, bias, masks, gates = _problem("2d")
    tiny = X.copy()
    tiny[3] *= scale
    with pytest.raises(ValueError, match="X row 3 has largest entry .* rescale X"):
        fit_relu(tiny, y, 0.1, patterns=masks, model=model)
    zero = X.copy()
    zero[3] = 0.0
    assert fit_relu(zero, y, 0.1, patterns=masks, model="relu").converged


def test_gated_model_with_gateless_masks_needs_gates_for_cone_decomposition():
    X, y, bias, masks, gates = _problem("2d")
    with_gates = fit_relu(X, y, 0.05, patterns=Patterns.from_masks(masks, gates), model="gated")
    signs = np.where(masks, 1.0, -1.0)
    products = signs * (X @ with_gates.gated_weights)
    leaves_cone = np.any(products < 0, axis=0) & np.any(products > 0, axis=0)
    assert np.any(leaves_cone)  # so the decomposition below needs the unknown gates
    with pytest.raises(ValueError, match="patterns: model='gated' needs a strictly interior gate"):
        fit_relu(X, y, 0.05, patterns=masks, model="gated")
