"""whitened_relu and rank_one_relu against local search on the ReLU network and O1, O4, O10-O12."""

import dualnet
import numpy as np
import pytest
from reference.deep_networks import deep_objective, train_deep_network


def _huber(r, beta):  # section 9: h(r)
    return 0.5 * r * r if r <= beta else beta * r - 0.5 * beta * beta


def _whitened(n=6, d=9, seed=0):
    rng = np.random.default_rng(seed)
    X = np.linalg.qr(rng.standard_normal((d, n)))[0].T  # orthonormal rows
    return X, rng.standard_normal(n)


def _check_two_layer_dual_structure(X, sol, beta):
    """O1 balance, O4 tight constraint and sign rule at every active neuron, and feasibility."""
    lam = sol.dual
    for u, a in zip(sol.first_layer.T, sol.second_layer):
        if np.linalg.norm(u) < 1e-12:
            continue
        assert abs(a) == pytest.approx(np.linalg.norm(u), rel=1e-10)
        value = lam @ np.maximum(X @ u, 0) / np.linalg.norm(u)
        assert abs(value) == pytest.approx(beta, rel=1e-9)
        assert np.sign(value) == np.sign(a)
    # feasibility against many random neurons (a necessary condition, independent of the formula)
    U = np.random.default_rng(1).standard_normal((X.shape[1], 4000))
    U /= np.linalg.norm(U, axis=0)
    assert np.max(np.abs(lam @ np.maximum(X @ U, 0))) <= beta * (1 + 1e-12)


# --- whitened data (section 9) ----------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.2, 0.9, 5.0])
def test_whitened_two_layer_closed_form(beta):  # O10
    X, y = _whitened()
    sol = dualnet.whitened_relu(X, y, beta)
    yp, ym = np.maximum(y, 0), np.maximum(-y, 0)
    rp, rm = np.linalg.norm(yp), np.linalg.norm(ym)
    expected = max(0, 1 - beta / rp) * yp - max(0, 1 - beta / rm) * ym
    np.testing.assert_allclose(sol.predict(X), expected, atol=1e-12)
    assert sol.primal_objective == pytest.approx(_huber(rp, beta) + _huber(rm, beta), rel=1e-12)
    assert abs(sol.duality_gap) <= 1e-12 * sol.primal_objective  # O2
    np.testing.assert_allclose(sol.dual, y - expected, atol=1e-12)  # O3
    assert sol.primal_objective == pytest.approx(
        deep_objective(X, y, beta, sol.layers, relu=True), rel=1e-12
    )
    _check_two_layer_dual_structure(X, sol, beta)


def test_whitened_two_layer_local_search_never_beats_it():
    X, y = _whitened(n=5, d=7, seed=2)
    beta = 0.4
    sol = dualnet.whitened_relu(X, y, beta)
    local = train_deep_network(X, y, beta, [6], relu=True, n_starts=6)
    assert local.objective >= sol.primal_objective - 1e-9
    assert local.objective == pytest.approx(sol.primal_objective, rel=1e-5)


@pytest.mark.parametrize("depth, beta", [(3, 0.3), (3, 0.5), (4, 0.1)])
def test_whitened_deep_closed_form(depth, beta):  # O11
    # seed 4: both signs well above threshold, where local search reliably finds the optimum
    X, y = _whitened(n=5, d=7, seed=4)
    sol = dualnet.whitened_relu(X, y, beta, depth=depth)
    assert sol.dual_objective is None and sol.dual_note
    assert np.count_nonzero(sol.layers[-1]) == 2  # both paths active: a non-trivial instance
    gammas = []
    for part in (np.maximum(y, 0), np.maximum(-y, 0)):  # per sign, a dense grid as brute force
        r = np.linalg.norm(part)
        grid = np.linspace(0, r, 400001)
        f = 0.5 * (r - grid) ** 2 + 0.5 * beta * depth * grid ** (2 / depth)
        gammas.append(grid[np.argmin(f)])
    expected_obj = sum(
        0.5 * (np.linalg.norm(p) - g) ** 2 + 0.5 * beta * depth * g ** (2 / depth)
        for p, g in zip((np.maximum(y, 0), np.maximum(-y, 0)), gammas)
    )
    assert sol.primal_objective == pytest.approx(expected_obj, rel=1e-8)
    assert sol.primal_objective == pytest.approx(
        deep_objective(X, y, beta, sol.layers, relu=True), rel=1e-12
    )
    active = sorted((g ** (1 / depth) for g in gammas if g > 0), reverse=True)
    for W in sol.layers:  # every layer's singular values are gamma_s^(1/L)
        s = np.linalg.svd(W if W.ndim == 2 else W[None, :], compute_uv=False)
        np.testing.assert_allclose(
            s[: len(active)] if W.ndim == 2 else s[:1],
            active if W.ndim == 2 else [np.linalg.norm(active)],
            atol=2e-5,
        )
    local = train_deep_network(X, y, beta, [6] * (depth - 1), relu=True, n_starts=8, init_scale=2.0)
    assert local.objective >= sol.primal_objective - 1e-9
    assert local.objective == pytest.approx(sol.primal_objective, rel=1e-5)


def test_whitened_rejects_non_whitened_data():
    X, y = _whitened()
    with pytest.raises(ValueError, match=r"X X\^T = I_n .*max \|X X\^T - I\| = 0\.1"):
        dualnet.whitened_relu(1.05 * X, y, 1.0)  # (1.05^2 - 1) = 0.1025
    with pytest.raises(ValueError, match="n=9 rows in d=6"):
        dualnet.whitened_relu(X.T, np.ones(9), 1.0)
    with pytest.raises(ValueError, match="beta"):
        dualnet.whitened_relu(X, y, -1.0)
    with pytest.raises(ValueError, match="rows"):
        dualnet.whitened_relu(X, y[:-1], 1.0)
    assert dualnet.whitened_relu(X + 1e-10, y, 1.0, atol=1e-8).depth == 2  # within tolerance


# --- rank-one data (section 8) ----------------------------------------------------------------


def _rank_one(n=8, d=4, seed=0, signs="both"):
    rng = np.random.default_rng(seed)
    c = rng.standard_normal(n)
    if signs == "positive":
        c = np.abs(c)
    a = rng.standard_normal(d)
    # "same": c of both signs, y of one sign on both half-lines (one merged path when L >= 3)
    shape = np.abs(c) if signs == "same" else c
    return c, a, np.outer(c, a), 1.5 * shape + 0.5 * rng.standard_normal(n)


@pytest.mark.parametrize("beta", [0.1, 1.0, 4.0])
def test_rank_one_two_layer_closed_form(beta):  # O12
    c, a, X, y = _rank_one()
    sol = dualnet.rank_one_relu(X, y, beta)
    na = np.linalg.norm(a)
    expected = np.zeros_like(y)
    penalty = 0.0
    for cs in (np.maximum(c, 0), np.maximum(-c, 0)):
        z = na * cs @ y
        alpha = np.sign(z) * max(abs(z) - beta, 0) / (na**2 * cs @ cs)
        expected += na * alpha * cs
        penalty += beta * abs(alpha)
    np.testing.assert_allclose(sol.predict(X), expected, atol=1e-12)
    assert sol.primal_objective == pytest.approx(
        0.5 * np.sum((expected - y) ** 2) + penalty, rel=1e-12
    )
    assert abs(sol.duality_gap) <= 1e-12 * sol.primal_objective
    _check_two_layer_dual_structure(X, sol, beta)
    for u in sol.first_layer.T:  # optimal neurons are +-a/||a||
        if np.linalg.norm(u) > 0:
            assert abs(u @ a) == pytest.approx(np.linalg.norm(u) * na, rel=1e-12)


def test_rank_one_is_invariant_to_the_factorisation():
    c, a, X, y = _rank_one(seed=3)
    sol = dualnet.rank_one_relu(X, y, 0.7)
    again = dualnet.rank_one_relu(np.outer(-3.0 * c, -a / 3.0), y, 0.7)
    assert again.primal_objective == pytest.approx(sol.primal_objective, rel=1e-12)


@pytest.mark.parametrize(
    "depth, beta, signs",
    [
        (2, 0.5, "both"),
        (3, 0.5, "positive"),
        (4, 2.0, "positive"),
        (3, 0.5, "both"),
        (3, 0.5, "same"),
        (4, 0.3, "both"),
        (4, 0.3, "same"),
        (5, 0.5, "both"),
    ],
)
def test_rank_one_local_search_never_beats_it(depth, beta, signs):
    _c, _a, X, y = _rank_one(n=7, d=3, seed=depth, signs=signs)
    sol = dualnet.rank_one_relu(X, y, beta, depth=depth)
    assert sol.primal_objective < 0.5 * y @ y - 0.1  # a non-zero network
    assert sol.primal_objective == pytest.approx(
        deep_objective(X, y, beta, sol.layers, relu=True), rel=1e-12
    )
    local = train_deep_network(X, y, beta, [3] * (depth - 1), relu=True, n_starts=6)
    assert local.objective >= sol.primal_objective - 1e-9
    assert local.objective == pytest.approx(sol.primal_objective, rel=2e-5)


def _rank_one_outputs(c, a, sol):
    """z_+- = g(+-a/||a||): the network's value on the two half-lines."""
    unit = a / np.linalg.norm(a)
    return np.array([sol.predict(unit[None, :])[0], sol.predict(-unit[None, :])[0]])


def _least_weight_decay(z, depth):  # R_L(z), docs/theory.md section 8
    q = 2 / depth
    if z[0] * z[1] >= 0:
        return depth / 2 * (abs(z[0]) + abs(z[1])) ** q
    return depth / 2 * (abs(z[0]) ** q + abs(z[1]) ** q)


@pytest.mark.parametrize("depth", [3, 4, 6])
@pytest.mark.parametrize("signs", ["both", "same"])
def test_rank_one_deep_identities(depth, signs):  # O1, O5, O12 for L >= 3
    c, a, X, y = _rank_one(n=9, d=4, seed=10 + depth, signs=signs)
    beta = 0.4
    sol = dualnet.rank_one_relu(X, y, beta, depth=depth)
    assert sol.dual_objective is None and sol.dual_note
    z = _rank_one_outputs(c, a, sol)
    assert np.all(z != 0)  # both half-lines active: a non-trivial instance
    cp, cm = np.maximum(c, 0), np.maximum(-c, 0)
    scale = np.linalg.norm(a)
    # the output lies in span{c_+, c_-}: yhat = ||a|| (z_+ c_+ + z_- c_-)
    np.testing.assert_allclose(sol.predict(X), scale * (z[0] * cp + z[1] * cm), atol=1e-12)
    # weight decay equals R_L(z) and every layer carries the same ||W_l||_F^2 (balance)
    norms = [float(np.sum(W**2)) for W in sol.layers]
    np.testing.assert_allclose(norms, norms[0], rtol=1e-10)
    assert 0.5 * sum(norms) == pytest.approx(_least_weight_decay(z, depth), rel=1e-10)
    # rank: first layer one; hidden layers one with outputs of one sign, two otherwise
    hidden = 1 if z[0] * z[1] > 0 else 2
    assert np.linalg.matrix_rank(sol.layers[0], tol=1e-10) == 1
    for W in sol.layers[1:-1]:
        assert np.linalg.matrix_rank(W, tol=1e-10) == hidden
    assert (signs == "both") == (z[0] * z[1] < 0)
    # stationarity of the reduced problem: lambda^T (||a|| c_s) = beta dR_L/dz_s (lambda = y - yhat)
    lam = y - sol.predict(X)
    q = 2 / depth
    if z[0] * z[1] > 0:
        grad = np.sign(z) * depth / 2 * q * np.abs(z).sum() ** (q - 1)
    else:
        grad = np.sign(z) * depth / 2 * q * np.abs(z) ** (q - 1)
    np.testing.assert_allclose(scale * np.array([lam @ cp, lam @ cm]), beta * grad, rtol=1e-7)


def test_rank_one_reduced_problem_against_a_grid():
    """min_z 1/2||y - ||a|| (z_+ c_+ + z_- c_-)||^2 + beta R_L(z), solved on a grid."""
    rng = np.random.default_rng(5)
    grid = np.linspace(-4, 4, 1601)
    Zp, Zm = np.meshgrid(grid, grid, indexing="ij")
    for trial in range(12):
        depth = int(rng.integers(3, 7))
        c = rng.standard_normal(6)
        a = rng.standard_normal(2)
        y = rng.standard_normal(6) + rng.choice([-1.0, 1.0]) * 1.5 * rng.choice([c, np.abs(c)])
        beta = float(rng.uniform(0.05, 1.5))
        sol = dualnet.rank_one_relu(np.outer(c, a), y, beta, depth=depth)
        cp, cm, na = np.maximum(c, 0), np.maximum(-c, 0), np.linalg.norm(a)
        # expand the loss as a quadratic in (z_+, z_-)
        kp, km = na**2 * cp @ cp, na**2 * cm @ cm
        bp, bm = na * cp @ y, na * cm @ y
        q = 2 / depth
        same = Zp * Zm >= 0
        penalty = np.where(
            same,
            (np.abs(Zp) + np.abs(Zm)) ** q,
            np.abs(Zp) ** q + np.abs(Zm) ** q,
        )
        f = 0.5 * y @ y - bp * Zp - bm * Zm + 0.5 * (kp * Zp**2 + km * Zm**2)
        f = f + beta * depth / 2 * penalty
        assert sol.primal_objective <= f.min() + 1e-10, trial
        assert sol.primal_objective == pytest.approx(f.min(), abs=1e-4), trial


def test_rank_one_rejects_bad_data():
    c, a, X, y = _rank_one()
    noisy = X + 1e-3 * np.random.default_rng(0).standard_normal(X.shape)
    with pytest.raises(ValueError, match=r"rank-one data X = c a\^T; sigma_2/sigma_1 = "):
        dualnet.rank_one_relu(noisy, y, 1.0)
    with pytest.raises(ValueError, match="beta"):
        dualnet.rank_one_relu(X, y, 0.0)
    zero = dualnet.rank_one_relu(np.zeros((4, 2)), np.ones(4), 1.0)
    assert zero.primal_objective == pytest.approx(2.0)
    with pytest.raises(AttributeError, match="two-layer"):
        _ = dualnet.rank_one_relu(np.outer(np.abs(c), a), y, 1.0, depth=3).second_layer
