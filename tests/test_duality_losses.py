"""Loss conjugates and dual points (O17): the Fenchel definition and cvxpy primal/dual pairs."""

import numpy as np
import pytest
from dualnet.duality.losses import (
    CrossEntropyLoss,
    HingeLoss,
    LogisticLoss,
    SquaredLoss,
    feasible_dual_point,
    get_loss,
)
from reference.accurate_cvxpy import solve_accurately
from scipy.optimize import minimize, minimize_scalar

cp = pytest.importorskip("cvxpy")


def _scalar_sup(s, y, loss_one):
    """sup_z s z - loss_one(z, y) by bounded 1-D maximisation (the Fenchel definition)."""
    res = minimize_scalar(
        lambda z: -(s * z - loss_one(z, y)),
        bounds=(-60, 60),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return -res.fun


def _signs(n, seed):
    return np.where(np.random.default_rng(seed).random(n) < 0.5, -1.0, 1.0)


@pytest.mark.parametrize(
    "loss, loss_one",
    [
        (SquaredLoss(), lambda z, y: 0.5 * (z - y) ** 2),
        (HingeLoss(), lambda z, y: max(1 - y * z, 0.0)),
        (LogisticLoss(), lambda z, y: np.logaddexp(0.0, -y * z)),
    ],
)
def test_scalar_conjugates_match_the_fenchel_definition(loss, loss_one):
    rng = np.random.default_rng(0)
    y = _signs(6, 1)
    p = rng.uniform(0.02, 0.98, 6)  # inside every dual domain
    s = -p * y
    numeric = sum(_scalar_sup(si, yi, loss_one) for si, yi in zip(s, y))
    assert loss.conjugate(s, y) == pytest.approx(numeric, abs=1e-6)


def test_cross_entropy_conjugate_matches_the_fenchel_definition():
    rng = np.random.default_rng(2)
    Y = np.eye(3)[rng.integers(0, 3, 4)]
    Q = rng.dirichlet(np.ones(3), size=4)
    S = Q - Y  # Q = S + Y in the simplex
    loss = CrossEntropyLoss()
    numeric = 0.0
    for s, yk in zip(S, Y):
        res = minimize(
            lambda z, s=s, yk=yk: -(s @ z - (np.log(np.sum(np.exp(z))) - yk @ z)),
            np.zeros(3),
            method="BFGS",
            options={"gtol": 1e-12},
        )
        numeric -= res.fun
    assert loss.conjugate(S, Y) == pytest.approx(numeric, abs=1e-7)


@pytest.mark.parametrize("name", ["hinge", "logistic", "cross_entropy"])
def test_outside_the_dual_domain_the_dual_objective_is_minus_infinity(name):
    loss = get_loss(name)
    if name == "cross_entropy":
        Y = np.eye(2)
        assert loss.dual_objective(np.array([[1.5, -1.5], [0.0, 0.0]]), Y) == -np.inf
        assert loss.domain_violation(np.array([[1.5, -1.5], [0.0, 0.0]]), Y) == pytest.approx(0.5)
    else:
        y = np.array([1.0, -1.0])
        assert loss.dual_objective(np.array([1.2, -0.5]), y) == -np.inf
        assert loss.dual_objective(np.array([-0.1, -0.5]), y) == -np.inf


@pytest.mark.parametrize("name", ["squared", "logistic", "cross_entropy"])
def test_fenchel_young_equality_at_the_gradient(name):
    # L(z) + L*(s) >= s^T z, with equality iff s = grad L(z): -L*(-lam) = L(z) - lam^T z there.
    loss = get_loss(name)
    rng = np.random.default_rng(3)
    if name == "cross_entropy":
        y = np.eye(3)[rng.integers(0, 3, 5)]
        z = rng.standard_normal((5, 3))
    else:
        y = _signs(5, 4)
        z = rng.standard_normal(5)
    lam = loss.optimal_dual(z, y)
    assert loss.dual_objective(lam, y) == pytest.approx(
        loss.value(z, y) + np.sum(lam * z), rel=1e-12
    )
    other = lam * 0.5
    assert loss.dual_objective(other, y) <= loss.value(z, y) + np.sum(other * z) + 1e-12


def _cvxpy_loss(name, Z, y):
    if name == "squared":
        return 0.5 * cp.sum_squares(Z - y)
    if name == "hinge":
        return cp.sum(cp.pos(1 - cp.multiply(y, Z)))
    if name == "logistic":
        return cp.sum(cp.logistic(-cp.multiply(y, Z)))
    return cp.sum(cp.log_sum_exp(Z, axis=1)) - cp.sum(cp.multiply(y, Z))


def _cvxpy_dual(name, lam, y):
    # written from the table of section 6, independently of the module under test
    if name == "squared":
        return lam @ y - 0.5 * cp.sum_squares(lam), []
    p = cp.multiply(y, lam)
    if name == "hinge":
        return cp.sum(p), [p >= 0, p <= 1]
    if name == "logistic":
        return cp.sum(cp.entr(p) + cp.entr(1 - p)), []
    Q = y - lam
    return cp.sum(cp.entr(Q)), [cp.sum(Q, axis=1) == 1]


@pytest.mark.parametrize("name", ["squared", "hinge", "logistic", "cross_entropy"])
def test_norm_regularized_linear_model_has_zero_gap(name):  # O17 and O2 for every loss
    # min_W L(XW, y) + beta ||W||_F: the two-layer linear network with this loss (section 3).
    rng = np.random.default_rng(5)
    n, d = 14, 3
    X = rng.standard_normal((n, d))
    if name == "cross_entropy":
        y = np.eye(3)[rng.integers(0, 3, n)]
        W = cp.Variable((d, 3))
        lam = cp.Variable((n, 3))
    else:
        y = _signs(n, 6) if name != "squared" else rng.standard_normal(n)
        W = cp.Variable(d)
        lam = cp.Variable(n)
    beta = 1.5
    primal = cp.Problem(
        cp.Minimize(_cvxpy_loss(name, X @ W, y) + beta * cp.norm(cp.vec(W, order="F"), 2))
    )
    p_star = solve_accurately(primal)
    objective, domain = _cvxpy_dual(name, lam, y)
    dual = cp.Problem(
        cp.Maximize(objective), domain + [cp.norm(cp.vec(X.T @ lam, order="F"), 2) <= beta]
    )
    d_star = solve_accurately(dual)
    assert p_star == pytest.approx(d_star, rel=1e-6, abs=1e-7)
    loss = get_loss(name)
    assert loss.dual_objective(lam.value, y) == pytest.approx(d_star, rel=1e-6, abs=1e-7)
    yhat = X @ W.value
    # hinge: the margin set needs the stationarity condition X^T lambda* = beta w*/||w*||
    w_flat = W.value.ravel(order="F")
    stationarity = (X, beta * W.value / np.linalg.norm(w_flat)) if name == "hinge" else None
    point = feasible_dual_point(
        loss,
        yhat,
        y,
        beta,
        lambda L: np.linalg.norm(X.T @ L),
        stationarity=stationarity,
        margin_tol=1e-6,
    )
    assert point.scale >= 1.0
    assert np.linalg.norm(X.T @ point.dual) <= beta * (1 + 1e-12)
    assert loss.domain_violation(point.dual, y) <= 1e-12
    primal_value = loss.value(yhat, y) + beta * np.linalg.norm(w_flat)
    assert point.dual_objective <= p_star + 1e-7  # weak duality
    # strong duality at the optimum (O3 analogue): the gap closes, the dual point is cvxpy's
    assert primal_value - point.dual_objective <= 1e-5 * max(1.0, p_star)
    np.testing.assert_allclose(point.dual, lam.value, atol=1e-4)


@pytest.mark.parametrize("beta", [0.3, 1.0, 3.0])
def test_hinge_certificate_is_tight_for_the_gated_two_layer_program(beta):
    """min_u sum (1 - y_i sum_k (D_k X u_k)_i)_+ + beta sum_k ||u_k|| (gated ReLU, section 7) by
    cvxpy; the hinge dual point from the active blocks' stationarity closes the gap."""
    rng = np.random.default_rng(int(10 * beta))
    n, d, P = 16, 3, 8
    X = rng.standard_normal((n, d))
    score = np.maximum(X @ rng.standard_normal(d), 0) - 0.3 + 0.3 * rng.standard_normal(n)
    y = np.where(score > 0, 1.0, -1.0)
    gates = rng.standard_normal((d, P))
    D = (X @ gates >= 0).astype(float)
    U = cp.Variable((d, P))
    fit = cp.sum(cp.multiply(D, X @ U), axis=1)
    primal = cp.Problem(
        cp.Minimize(
            cp.sum(cp.pos(1 - cp.multiply(y, fit))) + beta * cp.sum(cp.norm(U, 2, axis=0))
        )
    )
    p_star = solve_accurately(primal)
    lam = cp.Variable(n)
    p = cp.multiply(y, lam)
    dual = cp.Problem(
        cp.Maximize(cp.sum(p)),
        [p >= 0, p <= 1] + [cp.norm(X.T @ cp.multiply(D[:, k], lam), 2) <= beta for k in range(P)],
    )
    d_star = solve_accurately(dual)
    assert p_star == pytest.approx(d_star, rel=1e-6, abs=1e-7)
    Uv = U.value
    norms = np.linalg.norm(Uv, axis=0)
    active = norms > 1e-6 * max(norms.max(), 1e-300)
    assert active.any()
    yhat = np.sum(D * (X @ Uv), axis=1)

    def constraint(L):
        return max(np.linalg.norm(X.T @ (D[:, k] * L)) for k in range(P))

    A = np.concatenate([D[:, [k]] * X for k in np.flatnonzero(active)], axis=1)
    b = np.concatenate([beta * Uv[:, k] / norms[k] for k in np.flatnonzero(active)])
    loss = get_loss("hinge")
    weak = feasible_dual_point(loss, yhat, y, beta, constraint, margin_tol=1e-6)
    tight = feasible_dual_point(
        loss, yhat, y, beta, constraint, stationarity=(A, b), margin_tol=1e-6
    )
    primal_value = loss.value(yhat, y) + beta * norms.sum()
    assert tight.dual_objective <= p_star + 1e-7  # certified: weak duality
    assert primal_value - tight.dual_objective <= 1e-5 * max(1.0, p_star)
    assert tight.dual_objective >= weak.dual_objective
    assert primal_value - weak.dual_objective > 0.5  # without stationarity: far from tight
    assert constraint(tight.dual) <= beta * (1 + 1e-12)
    assert loss.domain_violation(tight.dual, y) <= 1e-12


def test_dual_point_rescaling_and_errors():
    y = np.array([1.0, -1.0, 1.0])
    yhat = np.array([-2.0, 3.0, 0.5])
    for name in ("hinge", "logistic"):
        point = feasible_dual_point(name, yhat, y, 0.1, lambda lam: np.sum(np.abs(lam)))
        assert point.scale == pytest.approx(point.constraint_value / 0.1)
        assert np.sum(np.abs(point.dual)) == pytest.approx(0.1)
        assert get_loss(name).domain_violation(point.dual, y) == 0.0
    with pytest.raises(ValueError, match="beta"):
        feasible_dual_point("squared", yhat, y, 0.0, np.linalg.norm)
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("huber")
    with pytest.raises(ValueError, match="-1 or \\+1"):
        HingeLoss().check_targets([0.0, 1.0])
    with pytest.raises(ValueError, match="one-hot"):
        CrossEntropyLoss().check_targets(np.ones((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        SquaredLoss().value(np.zeros(2), np.zeros(3))
