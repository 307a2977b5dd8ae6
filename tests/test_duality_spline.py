"""spline_1d: exact over the threshold patterns (cvxpy, local search), kink structure, O16."""

import dualnet
import numpy as np
import pytest
from dualnet import _core
from dualnet.duality.spline import threshold_patterns

if not hasattr(_core, "project_onto_pattern_cone"):
    pytest.skip("needs the compiled convex solver", allow_module_level=True)

from reference.convex_programs import solve_relu
from reference.deep_networks import deep_objective, train_deep_network
from reference.gradient_descent import train_relu_network


def deep_predict(X, layers):
    out = X
    for W in layers[:-1]:
        out = np.maximum(out @ W, 0.0)
    return out @ layers[-1]


def _data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2, 2, n))
    return x, np.sin(2 * x) + 0.1 * rng.standard_normal(n)


def test_threshold_patterns_are_every_pattern_of_scalar_data_with_bias():  # O13: 1-D gives 2n
    rng = np.random.default_rng(1)
    x = np.round(rng.uniform(-2, 2, 9), 1)  # with ties
    masks, gates = threshold_patterns(x)
    distinct = np.unique(x).size
    assert masks.shape == (9, 2 * distinct - 1)  # 2n patterns minus the empty one
    np.testing.assert_array_equal((np.outer(x, gates[0]) + gates[1]) > 0, masks)
    assert np.all(np.abs(np.outer(x, gates[0]) + gates[1]) > 0)  # strictly interior gates
    W = rng.standard_normal(200000)
    thresholds = rng.uniform(x.min() - 0.5, x.max() + 0.5, W.size)
    sampled = (np.outer(x, W) - W * thresholds) >= 0
    found = {m.tobytes() for m in sampled.T if m.any()}
    assert found == {m.tobytes() for m in masks.T}


@pytest.mark.parametrize("beta", [0.5, 0.05])
def test_spline_matches_cvxpy_and_local_search(beta):
    x, y = _data()
    s = dualnet.spline_1d(x, y, beta, tol=1e-9)
    masks, _ = threshold_patterns(x)
    reference = solve_relu(np.c_[x, np.ones_like(x)], y, masks, beta)
    assert s.converged
    assert s.primal_objective == pytest.approx(reference.objective, rel=1e-6)
    assert s.duality_gap <= 1e-9 * s.primal_objective
    Xa = np.c_[x, np.ones_like(x)]
    residual = np.maximum(Xa @ s.first_layer, 0) @ s.second_layer - y
    network = 0.5 * residual @ residual + 0.5 * beta * (
        np.sum(s.first_layer**2) + s.second_layer @ s.second_layer
    )
    assert network == pytest.approx(s.primal_objective, rel=1e-8)
    local = train_relu_network(Xa, y, beta, width=8, n_starts=4)
    assert local.objective >= s.primal_objective - 1e-9


def test_knots_values_and_slopes_describe_predict():
    x, y = _data(seed=2)
    s = dualnet.spline_1d(x, y, 0.1, max_iter=100_000)
    grid = np.linspace(x.min() - 1, x.max() + 1, 501)
    edges = np.concatenate([[-np.inf], s.knots])
    piece = np.searchsorted(s.knots, grid)
    anchor = np.where(piece > 0, s.knot_values[np.maximum(piece - 1, 0)], s.knot_values[0])
    start = np.where(piece > 0, edges[piece], s.knots[0])
    spline = anchor + s.slopes[piece] * (grid - start)
    np.testing.assert_allclose(spline, s.predict(grid), atol=1e-5)  # merged knots: solver accuracy
    np.testing.assert_allclose(s.predict(x[:, None]), s.predict(x))


def test_every_kink_is_at_a_data_point_or_at_its_dual_stationary_point():
    # Extreme-point structure with a penalized bias: the kink t of an active neuron maximizes
    # sum_i lambda_i (s (x_i - t))_+ / sqrt(1 + t^2) on its gap, so t is a data point or -B/A.
    x, y = _data(n=10, seed=3)
    beta = 0.03
    s = dualnet.spline_1d(x, y, beta, tol=1e-9)
    w, b = s.first_layer
    span = np.ptp(x)
    size = np.hypot(w, b) * np.abs(s.second_layer)
    for wj, bj in zip(w[size > 1e-3 * size.max()], b[size > 1e-3 * size.max()]):
        if abs(wj) < 1e-9:
            continue
        t = -bj / wj
        if np.min(np.abs(x - t)) <= 1e-6 * span:
            continue
        covered = x > t if wj > 0 else x < t
        A, B = s.dual[covered] @ x[covered], s.dual[covered].sum()
        assert np.min(np.abs(x - t)) > 1e-2 * span  # a genuinely interior kink
        assert t == pytest.approx(-B / A, abs=1e-3 * span)


def test_penalized_bias_puts_a_kink_between_data_points():
    # y = |x| on x = +-1, +-2: one kink near 0 costs less than kinks at +-1 plus a constant.
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    s = dualnet.spline_1d(x, np.abs(x), 0.01, tol=1e-9)
    assert s.knots.size == 2 and np.all(np.abs(s.knots) < 0.05)
    assert np.min(s.knot_offsets) > 0.9


def test_interpolation_as_beta_goes_to_zero():  # O16
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.5])
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    errors = []
    betas = [1e-2, 3e-3, 1e-3]
    for beta in betas:
        s = dualnet.spline_1d(x, y, beta, tol=1e-9, max_iter=100_000)
        assert s.converged
        errors.append(np.max(np.abs(s.predict(x) - y)))
    assert errors[0] > errors[1] > errors[2]
    assert max(e / b for e, b in zip(errors, betas)) < 20  # the fit error shrinks like beta
    inside = s.knots[(s.knots > x[0]) & (s.knots < x[-1])]
    np.testing.assert_allclose(
        inside, x[1:-1], atol=1e-4
    )  # here the in-range kinks are data points
    mids = 0.5 * (x[:-1] + x[1:])
    np.testing.assert_allclose(s.predict(mids), np.interp(mids, x, y), atol=5e-3)


def _three_layer_realisation(s):
    """The two-layer spline as a 3-layer network (bias in the first layer): neurons grouped by
    the sign of their output weight, each group one balanced path after the first layer, of
    weight decay (3/2) P^(2/3) with P = sum_j |a_j| ||u_j|| over the group."""
    depth = 3
    U, a = s.first_layer, s.second_layer
    p = np.abs(a) * np.linalg.norm(U, axis=0)
    groups = [(a > 0) & (p > 0), (a < 0) & (p > 0)]
    first = np.zeros((2, 2 * U.shape[1]))
    blocks, last = [], []
    for g, group in enumerate(groups):
        total = p[group].sum()
        tau = total ** (1 / depth)
        share = np.where(group, np.sqrt(p / total if total > 0 else 0 * p), 0.0)
        first[:, g * U.shape[1] : (g + 1) * U.shape[1]] = tau * share * U / np.where(
            p > 0, np.linalg.norm(U, axis=0), 1.0
        )
        block = np.zeros((2 * U.shape[1], 2))
        block[g * U.shape[1] : (g + 1) * U.shape[1], g] = tau * share
        blocks.append(block)
        last.append((1.0 if g == 0 else -1.0) * tau)
    return [first, blocks[0] + blocks[1], np.array(last)], p, groups


def test_deep_1d_is_refused_because_local_search_beats_the_realised_spline():
    """Why spline_1d refuses depth 3: the two-layer optimum, realised with 3 layers, is beaten."""
    x, y = _data()
    beta, depth = 0.05, 3
    s = dualnet.spline_1d(x, y, beta, tol=1e-10)
    layers, p, groups = _three_layer_realisation(s)
    X = np.c_[x, np.ones_like(x)]
    np.testing.assert_allclose(deep_predict(X, layers), s.predict(x), atol=1e-10)
    cost = sum(depth / 2 * p[g].sum() ** (2 / depth) for g in groups)
    realised = 0.5 * np.sum((s.predict(x) - y) ** 2) + beta * cost
    assert deep_objective(X, y, beta, layers, relu=True) == pytest.approx(realised, rel=1e-9)
    local = train_deep_network(X, y, beta, [8, 8], relu=True, n_starts=3)
    assert local.objective < realised - 0.01  # measured: 0.342 against 0.365


def test_spline_bad_input():
    x, y = _data()
    with pytest.raises(ValueError, match="depth=2"):
        dualnet.spline_1d(x, y, 0.1, depth=3)
    with pytest.raises(ValueError, match="beta"):
        dualnet.spline_1d(x, y, 0.0)
    with pytest.raises(ValueError, match="rows"):
        dualnet.spline_1d(x, y[:-1], 0.1)
    with pytest.raises(ValueError, match="scalar inputs"):
        dualnet.spline_1d(np.c_[x, x], y, 0.1)
