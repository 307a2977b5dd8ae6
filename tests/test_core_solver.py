"""The compiled convex solver (_core.solve_convex and friends), checked against independent oracles.

Oracles: the primal objective and the dual objective recomputed in numpy from the returned v, w
and dual point; dual feasibility checked block by block (numpy for the gated dual norm, a cvxpy
second-order cone program for the ReLU cone dual norm); optimal values from cvxpy + Clarabel.
"""

import numpy as np
import pytest

from dualnet import _core
from reference.convex_programs import convex_objective, solve_gated, solve_relu

cp = pytest.importorskip("cvxpy")


def make_problem(n, d, n_patterns, seed, *, bias=False, y_scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if bias:
        X = np.hstack([X, np.ones((n, 1))])
    y = y_scale * rng.standard_normal(n)
    gates = rng.standard_normal((X.shape[1], n_patterns))
    masks = X @ gates >= 0
    return np.ascontiguousarray(X), y, masks, gates


def pattern_set(masks, gates):
    return _core.PatternSet.from_masks(np.ascontiguousarray(masks), np.ascontiguousarray(gates))


def dual_objective(y, theta):
    return theta @ y - 0.5 * theta @ theta


def cone_rows(X, mask):
    return (2.0 * mask - 1.0)[:, None] * X


def cone_dual_norm(X, mask, c):
    """max c^T u over u in the pattern cone with ||u|| <= 1, by Clarabel."""
    u = cp.Variable(X.shape[1])
    problem = cp.Problem(cp.Maximize(c @ u), [cone_rows(X, mask) @ u >= 0, cp.norm(u) <= 1])
    problem.solve(solver=cp.CLARABEL)
    return problem.value


def reference_optimum(X, y, masks, beta, *, relu):
    """The convex program (gated or ReLU) solved by cvxpy + Clarabel."""
    solve = solve_relu if relu else solve_gated
    return solve(X, y, masks, beta).objective


def check_certificate(X, y, masks, beta, sol, *, relu, tol):
    """Gap recomputed from the returned points; dual feasibility checked block by block."""
    primal = convex_objective(X, y, masks, beta, sol.v, sol.w)
    dual = dual_objective(y, sol.dual)
    assert sol.primal_objective == pytest.approx(primal, rel=1e-10, abs=1e-12)
    assert sol.dual_objective == pytest.approx(dual, rel=1e-10, abs=1e-12)
    assert sol.duality_gap == pytest.approx(primal - dual, rel=1e-6, abs=1e-10)
    assert sol.relative_gap <= tol
    gradients = X.T @ (masks * sol.dual[:, None])  # column i: X^T D_i theta
    if not relu:
        assert np.all(sol.w == 0)
        assert np.linalg.norm(gradients, axis=0).max() <= beta * (1 + 1e-10)
        return
    for i in range(masks.shape[1]):
        for sign in (1.0, -1.0):
            c = sign * gradients[:, i]
            if np.linalg.norm(c) <= beta:
                continue
            assert cone_dual_norm(X, masks[:, i], c) <= beta * (1 + 1e-6)
    # The returned blocks lie in their cones (so the map-back network is exact).
    scale = np.linalg.norm(X, axis=1).max()
    for u in (sol.v, sol.w):
        for i in range(masks.shape[1]):
            norm = np.linalg.norm(u[:, i])
            if norm > 0:
                assert (cone_rows(X, masks[:, i]) @ u[:, i]).min() >= -1e-12 * scale * norm
    assert sol.max_cone_violation <= 1e-12


def solve_matching_clarabel(X, y, masks, patterns, beta, *, relu, tol=1e-8, rel=1e-6):
    """Solve, check the certificate independently and the optimum against Clarabel's."""
    sol = _core.solve_convex(X, y, patterns, beta, relu=relu, tol=tol)
    assert sol.converged
    check_certificate(X, y, masks, beta, sol, relu=relu, tol=tol)
    reference = reference_optimum(X, y, masks, beta, relu=relu)
    assert sol.primal_objective == pytest.approx(reference, rel=rel)
    return sol, reference


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize(
    "n, d, n_patterns, seed, bias, beta_fraction",
    [
        (40, 3, 12, 0, False, 0.1),
        (60, 4, 20, 1, True, 0.05),
        (50, 2, 8, 2, False, 0.5),
        (30, 5, 25, 3, True, 0.01),
    ],
)
def test_matches_clarabel_with_certified_gap(n, d, n_patterns, seed, bias, beta_fraction, relu):
    X, y, masks, gates = make_problem(n, d, n_patterns, seed, bias=bias)
    patterns = pattern_set(masks, gates)
    beta = beta_fraction * _core.beta_max(X, y, patterns, relu=relu)
    sol, reference = solve_matching_clarabel(X, y, masks, patterns, beta, relu=relu)
    assert sol.status == "converged"
    # The certified interval [dual, primal] contains the optimum Clarabel found.
    assert sol.dual_objective <= reference * (1 + 1e-7)
    assert reference <= sol.primal_objective * (1 + 1e-7)
    assert sol.n_active == np.count_nonzero(
        (np.linalg.norm(sol.v, axis=0) > 0) | (np.linalg.norm(sol.w, axis=0) > 0)
    )


def test_gated_optimum_is_below_relu_optimum():
    X, y, masks, gates = make_problem(50, 3, 15, 4, bias=True)
    patterns = pattern_set(masks, gates)
    beta = 0.05 * _core.beta_max(X, y, patterns, relu=True)
    gated = _core.solve_convex(X, y, patterns, beta, relu=False, tol=1e-9)
    relu = _core.solve_convex(X, y, patterns, beta, relu=True, tol=1e-9)
    # Certified: the ReLU dual bound is above the gated primal value.
    assert gated.primal_objective <= relu.dual_objective * (1 + 1e-8)
    assert relu.max_cone_violation <= 1e-12


@pytest.mark.parametrize("relu", [False, True])
def test_beta_max_is_the_threshold_of_the_zero_solution(relu):
    X, y, masks, gates = make_problem(40, 3, 10, 5)
    patterns = pattern_set(masks, gates)
    top = _core.beta_max(X, y, patterns, relu=relu)
    gradients = X.T @ (masks * y[:, None])
    if relu:
        expected = max(
            cone_dual_norm(X, masks[:, i], s * gradients[:, i])
            for i in range(masks.shape[1])
            for s in (1.0, -1.0)
        )
        assert top == pytest.approx(expected, rel=1e-6)
    else:
        assert top == pytest.approx(np.linalg.norm(gradients, axis=0).max(), rel=1e-12)
    above = _core.solve_convex(X, y, patterns, top * (1 + 1e-9), relu=relu)
    assert above.n_active == 0 and not above.v.any() and not above.w.any()
    assert above.primal_objective == pytest.approx(0.5 * y @ y)
    below = _core.solve_convex(X, y, patterns, 0.9 * top, relu=relu)
    assert below.n_active > 0


def test_project_onto_pattern_cone_matches_clarabel():
    X, _, masks, gates = make_problem(40, 4, 6, 6)
    patterns = pattern_set(masks, gates)
    rng = np.random.default_rng(7)
    for index in range(6):
        c = rng.standard_normal(4)
        u, bound = _core.project_onto_pattern_cone(X, patterns, index, c)
        z = cp.Variable(4)
        problem = cp.Problem(
            cp.Minimize(cp.sum_squares(z - c)), [cone_rows(X, masks[:, index]) @ z >= 0]
        )
        problem.solve(solver=cp.CLARABEL)
        np.testing.assert_allclose(u, z.value, atol=1e-7)
        assert (cone_rows(X, masks[:, index]) @ u).min() >= -1e-12 * np.linalg.norm(c) * 10
        # The bound certifies the cone dual norm from above and is tight at the projection.
        assert bound >= cone_dual_norm(X, masks[:, index], c) - 1e-8
        assert bound == pytest.approx(np.linalg.norm(u), rel=1e-12, abs=1e-15)


def test_cone_projection_of_a_vector_in_the_polar_cone_is_zero():
    X, _, masks, gates = make_problem(30, 3, 1, 8)
    patterns = pattern_set(masks, gates)
    # -A^T mu with mu >= 0 lies in the polar cone: its projection onto the cone is 0.
    c = -cone_rows(X, masks[:, 0])[:5].sum(axis=0)
    u, bound = _core.project_onto_pattern_cone(X, patterns, 0, c)
    assert np.linalg.norm(u) <= 1e-12 and bound <= 1e-12


@pytest.mark.parametrize("relu", [False, True])
def test_warm_start_reaches_the_same_optimum(relu):
    X, y, masks, gates = make_problem(50, 3, 15, 9, bias=True)
    patterns = pattern_set(masks, gates)
    top = _core.beta_max(X, y, patterns, relu=relu)
    first = _core.solve_convex(X, y, patterns, 0.2 * top, relu=relu, tol=1e-9)
    cold = _core.solve_convex(X, y, patterns, 0.1 * top, relu=relu, tol=1e-9)
    warm = _core.solve_convex(
        X, y, patterns, 0.1 * top, relu=relu, tol=1e-9, v0=first.v, w0=first.w
    )
    assert warm.converged
    check_certificate(X, y, masks, 0.1 * top, warm, relu=relu, tol=1e-9)
    assert warm.primal_objective == pytest.approx(cold.primal_objective, rel=1e-8)


def test_relu_warm_start_outside_the_cones_is_projected():
    X, y, masks, gates = make_problem(40, 3, 8, 10)
    patterns = pattern_set(masks, gates)
    rng = np.random.default_rng(11)
    v0 = rng.standard_normal((3, 8))
    beta = 0.1 * _core.beta_max(X, y, patterns, relu=True)
    sol = _core.solve_convex(X, y, patterns, beta, relu=True, tol=1e-8, v0=v0, w0=v0)
    assert sol.converged
    check_certificate(X, y, masks, beta, sol, relu=True, tol=1e-8)


@pytest.mark.parametrize("relu", [False, True])
def test_budget_exhausted_returns_max_iter_with_an_honest_gap(relu):
    X, y, masks, gates = make_problem(60, 4, 30, 12, bias=True)
    patterns = pattern_set(masks, gates)
    beta = 0.01 * _core.beta_max(X, y, patterns, relu=relu)
    sol = _core.solve_convex(X, y, patterns, beta, relu=relu, tol=1e-14, max_iter=1)
    assert not sol.converged and sol.status == "max_iter" and sol.n_iter == 1
    primal = convex_objective(X, y, masks, beta, sol.v, sol.w)
    dual = dual_objective(y, sol.dual)
    assert sol.duality_gap == pytest.approx(primal - dual, rel=1e-8)
    assert sol.duality_gap > 0


@pytest.mark.parametrize("relu", [False, True])
def test_zero_target_gives_the_zero_solution(relu):
    X, _, masks, gates = make_problem(20, 3, 5, 13)
    patterns = pattern_set(masks, gates)
    sol = _core.solve_convex(X, np.zeros(20), patterns, 1.0, relu=relu)
    assert sol.converged and sol.n_active == 0
    assert sol.primal_objective == 0 and sol.duality_gap == 0
    assert not sol.dual.any()


@pytest.mark.parametrize("relu", [False, True])
def test_empty_and_duplicate_patterns(relu):
    X, y, masks, gates = make_problem(40, 3, 6, 14)
    masks = np.hstack([masks, np.zeros((40, 1), bool), masks[:, :2]])  # an empty mask, duplicates
    gates = np.hstack([gates, np.full((3, 1), np.nan), gates[:, :2]])
    patterns = pattern_set(masks, gates)
    beta = 0.05 * _core.beta_max(X, y, patterns, relu=relu)
    sol = _core.solve_convex(X, y, patterns, beta, relu=relu, tol=1e-8)
    assert sol.converged
    assert not sol.v[:, 6].any() and not sol.w[:, 6].any()
    check_certificate(X, y, masks, beta, sol, relu=relu, tol=1e-8)
    reference = reference_optimum(X, y, masks, beta, relu=relu)
    assert sol.primal_objective == pytest.approx(reference, rel=1e-6)


def test_degenerate_data_duplicate_and_zero_rows():
    X, y, masks, gates = make_problem(30, 3, 10, 15)
    X = np.vstack([X, X[:5], np.zeros((2, 3))])
    y = np.concatenate([y, -y[:5], [1.0, -1.0]])
    masks = X @ gates >= 0
    patterns = pattern_set(masks, gates)
    for relu in (False, True):
        beta = 0.05 * _core.beta_max(X, y, patterns, relu=relu)
        solve_matching_clarabel(X, y, masks, patterns, beta, relu=relu)


def test_invalid_input_names_the_argument():
    X, y, masks, gates = make_problem(20, 3, 4, 16)
    patterns = pattern_set(masks, gates)
    with pytest.raises(ValueError, match=r"y has 19"):
        _core.solve_convex(X, y[:-1].copy(), patterns, 1.0, relu=False)
    with pytest.raises(ValueError, match=r"patterns has .*\(20, 3\).*X has shape \(20, 2\)"):
        _core.solve_convex(X[:, :2].copy(), y, patterns, 1.0, relu=False)
    for beta in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="beta"):
            _core.solve_convex(X, y, patterns, beta, relu=True)
    with pytest.raises(ValueError, match="tol"):
        _core.solve_convex(X, y, patterns, 1.0, relu=True, tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        _core.solve_convex(X, y, patterns, 1.0, relu=True, max_iter=0)
    with pytest.raises(ValueError, match=r"v0 has shape \(3, 3\)"):
        _core.solve_convex(X, y, patterns, 1.0, relu=True, v0=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="X contains NaN"):
        bad = X.copy()
        bad[0, 0] = np.nan
        _core.solve_convex(bad, y, patterns, 1.0, relu=False)
    empty = pattern_set(np.zeros((20, 0), bool), np.zeros((3, 0)))
    with pytest.raises(ValueError, match="patterns is empty"):
        _core.solve_convex(X, y, empty, 1.0, relu=False)
    with pytest.raises(ValueError, match="patterns is empty"):
        _core.beta_max(X, y, empty, relu=False)
    with pytest.raises(ValueError, match="index 4"):
        _core.project_onto_pattern_cone(X, patterns, 4, np.ones(3))
    with pytest.raises(ValueError, match="c has 2"):
        _core.project_onto_pattern_cone(X, patterns, 0, np.ones(2))
    # The private core does not convert silently: float32 or Fortran order is a TypeError.
    with pytest.raises(TypeError):
        _core.solve_convex(X.astype(np.float32), y, patterns, 1.0, relu=False)
    with pytest.raises(TypeError):
        _core.solve_convex(np.asfortranarray(X), y, patterns, 1.0, relu=False)


@pytest.mark.parametrize("seed", range(6))
def test_gated_path_certificates_on_random_problems(seed):
    """Warm-started path: every gap is certified, objectives decrease with beta."""
    rng = np.random.default_rng(100 + seed)
    n, d, n_patterns = int(rng.integers(20, 120)), int(rng.integers(1, 6)), int(rng.integers(1, 40))
    X, y, masks, gates = make_problem(n, d, n_patterns, seed, bias=bool(seed % 2))
    if seed == 4:
        X = np.hstack([X, X[:, :1]])  # a repeated column: singular block Grams
        gates = np.vstack([gates, np.zeros((1, n_patterns))])
    patterns = pattern_set(masks, gates)
    top = _core.beta_max(X, y, patterns, relu=False)
    previous, v = None, None
    for fraction in (0.5, 0.2, 0.05, 0.01):
        beta = fraction * top
        sol = _core.solve_convex(X, y, patterns, beta, relu=False, tol=1e-7, v0=v)
        assert sol.converged
        check_certificate(X, y, masks, beta, sol, relu=False, tol=1e-7)
        if previous is not None:
            assert sol.primal_objective <= previous * (1 + 1e-6)
        previous, v = sol.primal_objective, sol.v


@pytest.mark.parametrize("seed", [0, 1])
def test_gated_polish_growing_its_support_reaches_the_clarabel_optimum(seed):
    """Supports of about 60 blocks of 20 coordinates take the polish's conjugate-gradient branch;
    on these problems its certificate check finds blocks missing from the support, which join
    it before the polish restarts. The optimum and the certificate are checked independently."""
    X, y, masks, gates = make_problem(500, 20, 60, seed)
    patterns = pattern_set(masks, gates)
    beta = 0.05 * _core.beta_max(X, y, patterns, relu=False)
    sol, reference = solve_matching_clarabel(X, y, masks, patterns, beta, relu=False, rel=1e-7)
    assert sol.dual_objective <= reference * (1 + 1e-8)


@pytest.mark.parametrize("relu", [False, True])
def test_masks_no_gate_realises(relu):
    """Random masks: most pattern cones are {0}; the solver and certificate still hold."""
    rng = np.random.default_rng(3)
    X, y, _, _ = make_problem(30, 3, 1, 7, bias=True)
    masks = rng.random((30, 12)) > 0.5
    masks[:, :4] = X @ rng.standard_normal((4, 4)) >= 0
    patterns = pattern_set(masks, np.full((4, 12), np.nan))
    beta = 0.05 * _core.beta_max(X, y, patterns, relu=relu)
    sol = _core.solve_convex(X, y, patterns, beta, relu=relu, tol=1e-8)
    assert sol.converged
    check_certificate(X, y, masks, beta, sol, relu=relu, tol=1e-8)
    assert sol.primal_objective == pytest.approx(
        reference_optimum(X, y, masks, beta, relu=relu), rel=1e-6
    )


@pytest.mark.slow  # the ReLU case checks every block's cone dual norm with Clarabel (tens of seconds)
@pytest.mark.parametrize("relu", [False, True])
def test_one_dimensional_data_at_small_beta(relu):
    """Nearly collinear blocks (interval patterns of 1-D data): slow for plain cyclic BCD."""
    rng = np.random.default_rng(21)
    x = np.sort(rng.standard_normal(12))
    X = np.ascontiguousarray(np.c_[x, np.ones(12)])
    y = np.sin(2 * x) + 0.1 * rng.standard_normal(12)
    # Every pattern of [x, 1]: the 2n cells of the arrangement of 1-D data with a bias.
    cuts = np.concatenate([[x[0] - 1], 0.5 * (x[:-1] + x[1:]), [x[-1] + 1]])
    gates = np.hstack([np.array([[1.0], [-c]]) for c in cuts] + [np.array([[-1.0], [c]]) for c in cuts])
    masks = X @ gates >= 0
    patterns = pattern_set(masks, gates)
    for fraction in (0.02, 0.002):
        beta = fraction * _core.beta_max(X, y, patterns, relu=relu)
        sol = _core.solve_convex(X, y, patterns, beta, relu=relu, tol=1e-9)
        assert sol.converged
        check_certificate(X, y, masks, beta, sol, relu=relu, tol=1e-9)
        reference = reference_optimum(X, y, masks, beta, relu=relu)
        assert sol.primal_objective == pytest.approx(reference, rel=1e-6)


@pytest.mark.parametrize("relu, budget", [(False, 400), (True, 500)])
def test_many_small_cones_converge_within_an_epoch_budget(relu, budget):
    """A complete pattern set of 2-D data with a bias (184 cones sharing faces) at small beta.

    Cyclic sweeps alone pass mass between cones sharing a face very slowly (7,632 epochs before
    the face transfers and the ratio-tested Newton polish); the budget bounds the work, not the
    time.
    """
    import dualnet

    rng = np.random.default_rng(1009713370)  # the "noisy-linear" problem of test_fit_losses.py
    X = rng.standard_normal((14, 2))
    y = np.sign(X[:, 0] - 0.5 * X[:, 1] + 0.5 * rng.standard_normal(14))
    patterns = dualnet.activation_patterns(X, bias=True)
    assert patterns.exact and len(patterns) == 184
    Xa = np.ascontiguousarray(np.hstack([X, np.ones((14, 1))]))
    masks = patterns.masks
    beta = 0.1
    sol = _core.solve_convex(Xa, y, patterns.pattern_set, beta, relu=relu, tol=1e-6,
                             max_iter=budget)
    assert sol.converged and sol.n_iter <= budget
    primal = convex_objective(Xa, y, masks, beta, sol.v, sol.w)
    assert sol.primal_objective == pytest.approx(primal, rel=1e-10)
    assert sol.relative_gap <= 1e-6
    assert sol.dual_objective == pytest.approx(dual_objective(y, sol.dual), rel=1e-10)
    reference = reference_optimum(Xa, y, masks, beta, relu=relu)
    assert sol.primal_objective == pytest.approx(reference, rel=1e-6)
    assert sol.dual_objective <= reference * (1 + 1e-7)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("seed, bias", [(4, False), (5, True)])
def test_screened_blocks_are_zero_at_the_clarabel_optimum(seed, bias, relu):
    """Gap Safe screening: blocks it proves zero are zero in the optimum Clarabel finds."""
    X, y, masks, gates = make_problem(40, 3, 30, seed, bias=bias)
    patterns = pattern_set(masks, gates)
    beta = 0.2 * _core.beta_max(X, y, patterns, relu=relu)
    sol = _core.solve_convex(X, y, patterns, beta, relu=relu, tol=1e-9)
    assert sol.converged
    screened = sol.screened
    assert screened.shape == (2, masks.shape[1]) and screened.dtype == bool
    assert screened[0].any()  # the rule has something to prove here
    if not relu:
        assert not screened[1].any()
    reference = (solve_relu if relu else solve_gated)(X, y, masks, beta)
    scale = max(np.linalg.norm(reference.v, axis=0).max(), np.linalg.norm(reference.w, axis=0).max())
    for row, blocks, ours in ((0, reference.v, sol.v), (1, reference.w, sol.w)):
        norms = np.linalg.norm(blocks, axis=0)[screened[row]]
        assert np.all(norms <= 1e-5 * scale)
        assert np.all(ours[:, screened[row]] == 0)


def near_duplicate_problem(seed, relu, *, n=300, d=6, n_sampled=30):
    """A sampled pattern set plus, for every block of its (loose) solution, copies of the pattern
    with one or two of the rows nearest the block's hyperplane flipped: many nearly collinear
    blocks D_i X that are active together, as pricing produces.
    """
    rng = np.random.default_rng(seed)
    X = np.ascontiguousarray(rng.standard_normal((n, d)))
    y = np.maximum(X @ rng.standard_normal((d, 3)), 0) @ np.array([1.0, -1.0, 0.5])
    y = y + 0.1 * rng.standard_normal(n)
    gates = rng.standard_normal((d, n_sampled))
    masks = X @ gates >= 0
    beta = 0.02 * _core.beta_max(X, y, pattern_set(masks, gates), relu=relu)
    loose = _core.solve_convex(X, y, pattern_set(masks, gates), beta, relu=relu, tol=1e-4)
    copies = []
    for i in np.flatnonzero(np.linalg.norm(loose.v - loose.w, axis=0) > 0):
        nearest = np.argsort(np.abs(X @ (loose.v[:, i] - loose.w[:, i])))
        for flipped in ([0], [1], [0, 1], [0, 2]):
            mask = masks[:, i].copy()
            mask[nearest[flipped]] ^= True
            copies.append(mask)
    masks = np.ascontiguousarray(np.unique(np.column_stack([masks] + copies), axis=1))
    return X, y, masks, beta


@pytest.mark.parametrize("relu, budget", [(False, 2000), (True, 500)])
def test_nearly_collinear_blocks_converge_within_an_epoch_budget(relu, budget):
    """Patterns a row or two apart (nearly collinear blocks, both active at the optimum): cyclic
    sweeps trade mass between such blocks very slowly (43,641 gated epochs to 1e-8 before the
    Gram-space Newton polish with its ratio test on the group norms, about 650 after). The
    budget bounds the work, not the time.
    """
    X, y, masks, beta = near_duplicate_problem(0, relu)
    assert masks.shape[1] > 80
    patterns = pattern_set(masks, np.full((X.shape[1], masks.shape[1]), np.nan))
    sol = _core.solve_convex(X, y, patterns, beta, relu=relu, tol=1e-8, max_iter=budget)
    assert sol.converged and sol.n_iter <= budget
    check_certificate(X, y, masks, beta, sol, relu=relu, tol=1e-8)
    reference = reference_optimum(X, y, masks, beta, relu=relu)
    assert sol.primal_objective == pytest.approx(reference, rel=1e-6)
    assert sol.dual_objective <= reference * (1 + 1e-7)


@pytest.mark.slow
def test_nearly_collinear_relu_blocks_with_a_large_support_converge():
    """The same kind of set at n = 2000, d = 12 (180 patterns). The ReLU polish's Newton steps
    on the blocks' faces cross other rows of the cones: an active-set step that stops each block
    at the first row it meets, and keeps the point only if it descends, took 459 epochs (621
    without it); the Gram-space polish that finds the faces without requiring every
    intermediate point to descend (newton_faces) takes 81. The certificate is recomputed from
    the returned points."""
    X, y, masks, beta = near_duplicate_problem(0, True, n=2000, d=12, n_sampled=40)
    patterns = pattern_set(masks, np.full((X.shape[1], masks.shape[1]), np.nan))
    sol = _core.solve_convex(X, y, patterns, beta, relu=True, tol=1e-8, max_iter=150)
    assert sol.converged
    check_certificate(X, y, masks, beta, sol, relu=True, tol=1e-8)
