"""deep_linear against cvxpy, local search on the non-convex network, and the oracles O1-O9."""

import pickle

import dualnet
import numpy as np
import pytest
from dualnet.duality.certify import certify_linear
from reference.accurate_cvxpy import solve_accurately
from reference.deep_networks import deep_objective, train_deep_network

cp = pytest.importorskip("cvxpy")


def _data(n=20, d=5, K=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n if K is None else (n, K))
    return X, y


def _group_norm_cvxpy(X, y, beta):
    w = cp.Variable(X.shape[1])
    primal = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(X @ w - y) + beta * cp.norm(w, 2)))
    solve_accurately(primal)
    lam = cp.Variable(X.shape[0])
    dual = cp.Problem(
        cp.Maximize(lam @ y - 0.5 * cp.sum_squares(lam)), [cp.norm(X.T @ lam, 2) <= beta]
    )
    solve_accurately(dual)
    return primal.value, w.value, dual.value, lam.value


def _nuclear_cvxpy(X, Y, beta):
    W = cp.Variable((X.shape[1], Y.shape[1]))
    primal = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(X @ W - Y) + beta * cp.normNuc(W)))
    solve_accurately(primal)
    Lam = cp.Variable(Y.shape)
    dual = cp.Problem(
        cp.Maximize(cp.sum(cp.multiply(Lam, Y)) - 0.5 * cp.sum_squares(Lam)),
        [cp.sigma_max(X.T @ Lam) <= beta],
    )
    solve_accurately(dual)
    return primal.value, W.value, dual.value, Lam.value


def _reduced_deep(X, y, beta, depth, w):
    return 0.5 * np.sum((X @ w - y) ** 2) + 0.5 * beta * depth * np.linalg.norm(w) ** (2 / depth)


# --- two layers, scalar output (section 3) ----------------------------------------------------


@pytest.mark.parametrize("beta", [0.05, 0.7, 3.0])
def test_two_layer_scalar_matches_cvxpy_primal_and_dual(beta):
    X, y = _data()
    sol = dualnet.deep_linear(X, y, beta)
    p, w, dval, lam = _group_norm_cvxpy(X, y, beta)
    assert sol.primal_objective == pytest.approx(p, rel=1e-7)
    assert sol.dual_objective == pytest.approx(dval, rel=1e-7)
    np.testing.assert_allclose(sol.reduced, w, atol=1e-6)
    np.testing.assert_allclose(sol.dual, lam, atol=1e-5)
    assert abs(sol.duality_gap) <= 1e-10 * sol.primal_objective  # O2
    assert sol.exact and sol.converged


def test_two_layer_scalar_structure_and_dual_relations():
    X, y = _data(seed=1)
    beta = 0.9
    sol = dualnet.deep_linear(X, y, beta, width=4)
    W1, w2 = sol.layers
    assert W1.shape == (5, 4) and w2.shape == (4,)
    w = sol.reduced
    np.testing.assert_allclose(W1 @ w2, w, atol=1e-12)
    np.testing.assert_allclose(sol.dual, y - X @ w, atol=1e-12)  # O3
    g = X.T @ sol.dual
    assert np.linalg.norm(g) == pytest.approx(beta, rel=1e-9)  # O4: tight constraint
    np.testing.assert_allclose(g, beta * w / np.linalg.norm(w), atol=1e-9)
    assert np.linalg.matrix_rank(W1, tol=1e-10) == 1  # O5: rank one
    unit = g / np.linalg.norm(g)
    for j in range(4):  # O5: every active neuron parallel to X^T lambda*
        col = W1[:, j]
        assert abs(col @ unit) == pytest.approx(np.linalg.norm(col), rel=1e-9)
        assert abs(w2[j]) == pytest.approx(np.linalg.norm(col), rel=1e-9)  # O1: balance
    assert sol.primal_objective == pytest.approx(deep_objective(X, y, beta, sol.layers), rel=1e-12)


def test_zero_solution_threshold_is_norm_of_xty():  # O6: w* = 0 iff ||X^T y|| <= beta
    X, y = _data(seed=2)
    threshold = np.linalg.norm(X.T @ y)
    below = dualnet.deep_linear(X, y, threshold * (1 + 1e-9))
    above = dualnet.deep_linear(X, y, threshold * (1 - 1e-3))
    assert np.all(below.reduced == 0) and all(np.all(W == 0) for W in below.layers)
    assert below.primal_objective == pytest.approx(0.5 * y @ y)
    assert np.linalg.norm(above.reduced) > 0


def test_whitened_closed_form():  # O6 whitened case: w* = (1 - beta/||X^T y||)_+ X^T y
    rng = np.random.default_rng(3)
    X = np.linalg.qr(rng.standard_normal((15, 4)))[0]
    y = rng.standard_normal(15)
    g = X.T @ y
    for beta in [0.3 * np.linalg.norm(g), 1.2 * np.linalg.norm(g)]:
        sol = dualnet.deep_linear(X, y, beta)
        np.testing.assert_allclose(
            sol.reduced, max(0.0, 1 - beta / np.linalg.norm(g)) * g, atol=1e-12
        )


def test_rank_deficient_and_wide_data():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((6, 3)) @ rng.standard_normal((3, 9))  # n < d, rank 3
    y = rng.standard_normal(6)
    sol = dualnet.deep_linear(X, y, 0.4)
    p, _w, _dval, _ = _group_norm_cvxpy(X, y, 0.4)
    assert sol.primal_objective == pytest.approx(p, rel=1e-7)
    assert abs(sol.duality_gap) <= 1e-9 * sol.primal_objective


def test_two_layer_scalar_local_search_never_beats_it():
    X, y = _data(n=12, d=3, seed=5)
    beta = 0.8
    sol = dualnet.deep_linear(X, y, beta)
    local = train_deep_network(X, y, beta, [3], n_starts=4)
    assert local.objective >= sol.primal_objective - 1e-9
    assert local.objective == pytest.approx(sol.primal_objective, rel=1e-6)


# --- deep, formulation A (section 4) ----------------------------------------------------------


@pytest.mark.parametrize("depth, beta", [(3, 0.3), (3, 2.0), (4, 0.5), (5, 1.0)])
def test_deep_weight_decay_structure_and_local_search(depth, beta):
    X, y = _data(n=12, d=4, seed=depth)
    sol = dualnet.deep_linear(X, y, beta, depth=depth, width=2)
    assert sol.dual_objective is None and sol.dual_note
    w = sol.reduced
    assert sol.primal_objective == pytest.approx(
        _reduced_deep(X, y, beta, depth, w), rel=1e-12
    )  # O7
    assert sol.primal_objective == pytest.approx(deep_objective(X, y, beta, sol.layers), rel=1e-12)
    norms = [np.sum(W**2) for W in sol.layers]
    np.testing.assert_allclose(norms, norms[0], rtol=1e-10)  # O1: balanced
    top = np.linalg.norm(w) ** (1 / depth)
    mats = [W if W.ndim == 2 else W[:, None] for W in sol.layers]
    for W in mats:  # O5: rank one, sigma_1 = ||w*||^(1/L)
        s = np.linalg.svd(W, compute_uv=False)
        assert s[0] == pytest.approx(top, rel=1e-10)
        assert np.all(s[1:] <= 1e-10)
    for A, B in zip(mats[:-1], mats[1:]):  # right singular vector of W_l = left one of W_l+1
        right = np.linalg.svd(A)[2][0]
        left = np.linalg.svd(B)[0][:, 0]
        assert abs(right @ left) == pytest.approx(1.0, abs=1e-9)
    local = train_deep_network(X, y, beta, [2] * (depth - 1), n_starts=6)
    assert local.objective >= sol.primal_objective - 1e-9
    assert local.objective == pytest.approx(sol.primal_objective, rel=1e-5)


@pytest.mark.parametrize("depth", [3, 4])
def test_deep_weight_decay_beats_dense_ridge_path_and_zero(depth):
    # Every minimiser of the reduced problem is 0 or a ridge point: a dense scan is a brute force.
    X, y = _data(n=10, d=6, seed=11)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    for beta in [0.1, 1.0, 3.0, 6.0]:
        sol = dualnet.deep_linear(X, y, beta, depth=depth)
        rhos = np.geomspace(1e-8, 1e8, 20001)
        W = (Vt.T @ ((s * (U.T @ y))[:, None] / (s[:, None] ** 2 + rhos[None, :]))).T
        values = 0.5 * np.sum((W @ X.T - y) ** 2, axis=1) + 0.5 * beta * depth * np.linalg.norm(
            W, axis=1
        ) ** (2 / depth)
        brute = min(values.min(), 0.5 * y @ y)
        assert sol.primal_objective <= brute + 1e-12 * brute
        assert sol.primal_objective == pytest.approx(brute, rel=1e-6)


def test_deep_weight_decay_stationarity():
    # X^T (y - X w*) = beta ||w*||^(2/L - 2) w*: the residual is the stationarity multiplier.
    X, y = _data(seed=7)
    depth, beta = 3, 0.3
    sol = dualnet.deep_linear(X, y, beta, depth=depth)
    w = sol.reduced
    np.testing.assert_allclose(
        X.T @ sol.dual, beta * np.linalg.norm(w) ** (2 / depth - 2) * w, atol=1e-9
    )


# --- deep, formulation B ----------------------------------------------------------------------


@pytest.mark.parametrize("depth, t, beta", [(3, 1.0, 0.5), (3, 0.7, 0.2), (4, 1.3, 1.0)])
def test_deep_constrained_matches_cvxpy_and_local_search(depth, t, beta):
    X, y = _data(n=12, d=4, seed=20 + depth)
    sol = dualnet.deep_linear(X, y, beta, depth=depth, formulation="constrained", t=t, width=2)
    p, _w, dval, _lam = _group_norm_cvxpy(X, y, beta / t ** (depth - 2))
    assert sol.primal_objective == pytest.approx(p, rel=1e-7)
    assert sol.dual_objective == pytest.approx(dval, rel=1e-7)
    assert abs(sol.duality_gap) <= 1e-10 * sol.primal_objective  # O2 for formulation B
    assert np.linalg.norm(X.T @ sol.dual) <= beta / t ** (depth - 2) * (1 + 1e-12)
    for W in sol.layers[: depth - 2]:  # the constraints are tight
        assert np.linalg.norm(W) == pytest.approx(t, rel=1e-12)
    penalized = [depth - 2, depth - 1]
    assert sol.primal_objective == pytest.approx(
        deep_objective(X, y, beta, sol.layers, penalized=penalized), rel=1e-12
    )
    local = train_deep_network(
        X, y, beta, [2] * (depth - 1), sphere_layers=range(depth - 2), t=t, n_starts=5
    )
    assert local.objective >= sol.primal_objective - 1e-9
    assert local.objective == pytest.approx(sol.primal_objective, rel=1e-5)


# --- deep, formulation B, vector outputs ---------------------------------------------------------


def _quasi_norm_objective_grid(X, Y, beta_b, depth, radius, points=801):
    """Brute force of min_W 1/2||XW - Y||^2 + beta_b ||W||_{S_{2/L}} for X^T X = s^2 I, K = 2.

    With isotropic X the optimum shares the singular vectors of X^T Y (von Neumann), so a grid
    over its two singular values is exhaustive.
    """
    s2 = float(np.linalg.norm(X[:, 0]) ** 2)
    c = np.linalg.svd(X.T @ Y / s2, compute_uv=False)
    g = np.linspace(0, radius, points)
    A, B = np.meshgrid(g, g, indexing="ij")
    q = 2 / depth
    f = 0.5 * s2 * ((A - c[0]) ** 2 + (B - c[1]) ** 2) + beta_b * (A**q + B**q) ** (1 / q)
    const = 0.5 * (np.sum(Y**2) - s2 * np.sum(c**2))
    return float(f.min() + const)


@pytest.mark.parametrize("depth, t, beta", [(3, 1.0, 0.3), (3, 0.8, 0.1), (4, 1.2, 0.3)])
def test_deep_constrained_vector_isotropic(depth, t, beta):
    rng = np.random.default_rng(40 + depth)
    X = 1.5 * np.linalg.qr(rng.standard_normal((12, 4)))[0]  # X^T X = 2.25 I
    Y = rng.standard_normal((12, 2))
    sol = dualnet.deep_linear(X, Y, beta, depth=depth, formulation="constrained", t=t)
    beta_b = beta / t ** (depth - 2)
    assert sol.exact and sol.converged
    sig = np.linalg.svd(sol.reduced, compute_uv=False)
    assert sig[1] > 1e-3  # rank two: the regime where the dual has a gap
    # the reduced objective, brute force over the two singular values
    brute = _quasi_norm_objective_grid(X, Y, beta_b, depth, radius=1.1 * sig[0])
    assert sol.primal_objective <= brute + 1e-10
    assert sol.primal_objective == pytest.approx(brute, rel=1e-5)
    # the network: tight constraints, weight decay on the last two layers, product = reduced
    for W in sol.layers[: depth - 2]:
        assert np.linalg.norm(W) == pytest.approx(t, rel=1e-12)
    product = sol.layers[0]
    for W in sol.layers[1:]:
        product = product @ W
    np.testing.assert_allclose(product, sol.reduced, atol=1e-12)
    penalized = [depth - 2, depth - 1]
    assert sol.primal_objective == pytest.approx(
        deep_objective(X, Y, beta, sol.layers, penalized=penalized), rel=1e-12
    )
    # the dual: the nuclear-norm program with beta t^(2-L), a strict lower bound here
    p, _W, dval, _Lam = _nuclear_cvxpy(X, Y, beta_b)
    assert sol.dual_objective == pytest.approx(dval, rel=1e-7)
    assert sol.duality_gap > 1e-3 * sol.primal_objective and "lower bound" in sol.dual_note
    assert np.linalg.norm(X.T @ sol.dual, 2) <= beta_b * (1 + 1e-12)
    local = train_deep_network(
        X, Y, beta, [3] * (depth - 1), sphere_layers=range(depth - 2), t=t, n_starts=6
    )
    assert local.objective >= sol.primal_objective - 1e-9
    assert local.objective == pytest.approx(sol.primal_objective, rel=1e-5)


@pytest.mark.parametrize("beta, certified", [(0.3, False), (2.5, True)])
def test_deep_constrained_vector_general_data(beta, certified):
    X, Y = _data(n=12, d=4, K=2, seed=12)
    sol = dualnet.deep_linear(X, Y, beta, depth=3, formulation="constrained", tol=1e-9)
    _p, _W, dval, _Lam = _nuclear_cvxpy(X, Y, beta)
    assert sol.dual_objective == pytest.approx(dval, rel=1e-6)
    assert sol.duality_gap >= -1e-9 * sol.primal_objective  # weak duality
    local = train_deep_network(X, Y, beta, [3, 3], sphere_layers=[0], n_starts=4)
    # a stationary point as good as local search on the network
    assert sol.primal_objective <= local.objective + 1e-7 * local.objective
    assert sol.exact == certified
    if certified:  # the gap closed: a certified global optimum, of rank one
        assert sol.duality_gap <= 1e-8 * sol.primal_objective
        assert np.linalg.matrix_rank(sol.reduced, tol=1e-8) == 1
        assert local.objective >= sol.primal_objective - 1e-9


def test_quasi_norm_prox_against_a_grid():
    from dualnet.duality._one_dim import quasi_norm_prox

    rng = np.random.default_rng(3)
    g = np.linspace(0, 3, 1201)
    A, B = np.meshgrid(g, g, indexing="ij")
    for _ in range(25):
        c = rng.uniform(0, 3, 2)
        lam = float(rng.uniform(0.01, 2))
        q = float(rng.choice([2 / 3, 0.5, 0.4]))
        s = quasi_norm_prox(c, lam, q)
        f = 0.5 * np.sum((s - c) ** 2) + lam * np.sum(s**q) ** (1 / q)
        grid = 0.5 * ((A - c[0]) ** 2 + (B - c[1]) ** 2) + lam * (A**q + B**q) ** (1 / q)
        assert f <= grid.min() + 1e-12
        assert f == pytest.approx(grid.min(), abs=1e-5)


# --- vector outputs (section 5) ---------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.5, 3.0])
def test_two_layer_vector_matches_cvxpy_nuclear_norm(beta):
    X, Y = _data(n=15, d=4, K=3, seed=8)
    sol = dualnet.deep_linear(X, Y, beta, tol=1e-12)
    p, W, dval, _Lam = _nuclear_cvxpy(X, Y, beta)
    assert sol.converged
    assert sol.primal_objective == pytest.approx(p, rel=1e-6)
    assert sol.dual_objective == pytest.approx(dval, rel=1e-6)
    np.testing.assert_allclose(sol.reduced, W, atol=1e-4)
    assert sol.duality_gap <= 1e-10 * sol.primal_objective + 1e-12
    assert np.linalg.norm(X.T @ sol.dual, 2) <= beta * (1 + 1e-12)


def test_two_layer_vector_structure():  # O9 and alignment with X^T Lambda*
    X, Y = _data(n=15, d=5, K=3, seed=9)
    beta = 2.0
    sol = dualnet.deep_linear(X, Y, beta, tol=1e-13)
    W1, W2 = sol.layers
    Wstar = sol.reduced
    np.testing.assert_allclose(W1 @ W2, Wstar, atol=1e-12)
    s = np.linalg.svd(Wstar, compute_uv=False)
    rank = int(np.sum(s > 1e-8 * s[0]))
    assert W1.shape == (5, rank) and W2.shape == (rank, 3) and rank <= 3
    np.testing.assert_allclose(np.linalg.svd(W1, compute_uv=False), np.sqrt(s[:rank]), rtol=1e-9)
    np.testing.assert_allclose(np.linalg.svd(W2, compute_uv=False), np.sqrt(s[:rank]), rtol=1e-9)
    U, _, Vt = np.linalg.svd(Wstar)
    G = X.T @ sol.dual  # = beta U_r V_r^T on the active singular pairs
    np.testing.assert_allclose(G @ Vt[:rank].T, beta * U[:, :rank], atol=1e-6)
    local = train_deep_network(X, Y, beta, [3], n_starts=4)
    assert local.objective >= sol.primal_objective - 1e-8
    assert local.objective == pytest.approx(sol.primal_objective, rel=1e-6)


def test_nuclear_norm_whitened_closed_form():  # O8: W* = U (S - beta)_+ V^T of X^T Y
    rng = np.random.default_rng(10)
    X = np.linalg.qr(rng.standard_normal((12, 5)))[0]
    Y = rng.standard_normal((12, 3))
    U, s, Vt = np.linalg.svd(X.T @ Y, full_matrices=False)
    beta = float(s[1])  # keeps one singular value
    sol = dualnet.deep_linear(X, Y, beta)
    np.testing.assert_allclose(sol.reduced, (U * np.maximum(s - beta, 0)) @ Vt, atol=1e-12)
    assert sol.n_iter == 1 and sol.converged


@pytest.mark.parametrize("depth", [3, 4])
def test_deep_vector_isotropic_is_exact_per_singular_value(depth):  # O7 Schatten-2/L
    rng = np.random.default_rng(30 + depth)
    X = 2.0 * np.linalg.qr(rng.standard_normal((10, 4)))[0]  # X^T X = 4 I
    Y = rng.standard_normal((10, 3))
    beta = 1.5
    sol = dualnet.deep_linear(X, Y, beta, depth=depth)
    assert sol.exact and sol.dual_objective is None
    sig = np.linalg.svd(sol.reduced, compute_uv=False)
    active = sig[sig > 1e-10]
    for W in sol.layers:  # every layer has singular values sigma_k(W*)^(1/L)
        s = np.linalg.svd(W, compute_uv=False)
        np.testing.assert_allclose(s[: active.size], active ** (1 / depth), rtol=1e-9)
    # per singular value of X^T Y / 4: min_g 2 (g - r)^2 + (beta L/2) g^(2/L) by a dense grid
    r = np.linalg.svd(X.T @ Y / 4, compute_uv=False)
    grid = np.linspace(0, r[0] * 1.01, 200001)
    for k, rk in enumerate(r):
        f = 2 * (grid - rk) ** 2 + 0.5 * beta * depth * grid ** (2 / depth)
        assert (sig[k] if k < sig.size else 0.0) == pytest.approx(grid[np.argmin(f)], abs=2e-5)
    local = train_deep_network(X, Y, beta, [3] * (depth - 1), n_starts=6)
    assert local.objective >= sol.primal_objective - 1e-9
    assert local.objective == pytest.approx(sol.primal_objective, rel=1e-5)


def test_deep_vector_general_data_is_flagged_not_exact():
    X, Y = _data(n=12, d=4, K=3, seed=12)
    sol = dualnet.deep_linear(X, Y, 1.0, depth=3)
    assert not sol.exact and sol.dual_objective is None and "vector" in sol.dual_note
    local = train_deep_network(X, Y, 1.0, [3, 3], n_starts=4)
    # a stationary point of the reduced problem, as good as local search on the network
    assert sol.primal_objective <= local.objective + 1e-6 * local.objective


def test_single_output_matrix_is_the_scalar_problem():
    X, y = _data(seed=13)
    a = dualnet.deep_linear(X, y, 0.4, depth=3)
    b = dualnet.deep_linear(X, y[:, None], 0.4, depth=3)
    np.testing.assert_allclose(b.reduced[:, 0], a.reduced, atol=1e-12)
    assert b.layers[-1].shape == (1, 1) and b.exact


# --- certify_linear: certificates for given linear networks ---------------------------------------------------------------------------


@pytest.mark.parametrize("K", [None, 3])
def test_certify_linear_two_layer(K):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((10, 4))
    Y = rng.standard_normal(10 if K is None else (10, K))
    beta = 0.8
    best = dualnet.deep_linear(X, Y, beta, tol=1e-12)
    cert = certify_linear(X, Y, beta, best.layers)
    assert abs(cert.duality_gap) <= 1e-9 * cert.primal_objective
    shapes = [(4, 3), (3,) if K is None else (3, K)]
    rand = certify_linear(X, Y, beta, [rng.standard_normal(s) for s in shapes])
    assert rand.lower_bound <= best.primal_objective + 1e-9 < rand.primal_objective


def test_certify_linear_deep():
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((10, 3)), rng.standard_normal(10)
    best = dualnet.deep_linear(X, y, 0.4, depth=3, formulation="constrained", t=0.9)
    layers = [rng.standard_normal((3, 2)), rng.standard_normal((2, 2)), rng.standard_normal(2)]
    layers[0] *= 0.9 / np.linalg.norm(layers[0])
    cert = certify_linear(X, y, 0.4, layers, formulation="constrained", t=0.9)
    assert cert.lower_bound <= best.primal_objective + 1e-9 < cert.primal_objective
    with pytest.raises(ValueError, match="needs"):
        certify_linear(X, y, 0.4, [2 * layers[0], *layers[1:]], formulation="constrained", t=0.9)
    weight_decay = certify_linear(X, y, 0.4, layers)
    assert weight_decay.lower_bound == pytest.approx(
        dualnet.deep_linear(X, y, 0.4, depth=3).primal_objective
    )
    with pytest.raises(ValueError, match="shape"):
        certify_linear(X, y[:, None], 0.4, layers)


# --- input checks -----------------------------------------------------------------------------


def test_bad_input_raises():
    X, y = _data()
    with pytest.raises(ValueError, match="rows"):
        dualnet.deep_linear(X, y[:-1], 1.0)
    with pytest.raises(ValueError, match="beta"):
        dualnet.deep_linear(X, y, 0.0)
    with pytest.raises(ValueError, match="beta"):
        dualnet.deep_linear(X, y, -1.0)
    with pytest.raises(ValueError, match="depth"):
        dualnet.deep_linear(X, y, 1.0, depth=1)
    with pytest.raises(ValueError, match="formulation"):
        dualnet.deep_linear(X, y, 1.0, formulation="other")
    with pytest.raises(ValueError, match="t must"):
        dualnet.deep_linear(X, y, 1.0, depth=3, formulation="constrained", t=0.0)
    Y = _data(K=3)[1]
    with pytest.raises(ValueError, match="width=1 is below rank"):
        dualnet.deep_linear(X, Y, 0.01, width=1)
    sol = dualnet.deep_linear(X, y, 1.0)
    with pytest.raises(ValueError, match="columns"):
        sol.predict(X[:, :3])
    with pytest.raises(AttributeError):
        sol.primal_objective = 0.0  # frozen


def test_iteration_cap_warns_and_reports():
    X, Y = _data(K=3, seed=15)
    with pytest.warns(dualnet.ConvergenceWarning, match="max_iter=2"):
        sol = dualnet.deep_linear(X, Y, 0.5, tol=1e-14, max_iter=2)
    assert not sol.converged and not sol.exact
    assert sol.duality_gap >= 0  # still a certified (loose) gap


def test_results_pickle():
    X, y = _data()
    sol = dualnet.deep_linear(X, y, 0.5, depth=3)
    again = pickle.loads(pickle.dumps(sol))
    assert again.primal_objective == sol.primal_objective and again.dual_note == sol.dual_note
    np.testing.assert_array_equal(again.layers[0], sol.layers[0])


def test_predict_matches_layers():
    X, Y = _data(K=2, seed=14)
    sol = dualnet.deep_linear(X, Y, 0.5, depth=3)
    np.testing.assert_allclose(sol.predict(X), X @ sol.reduced, atol=1e-10)
