"""Pricing: every violation found is real, new and consistent; column generation from a small
seed set reaches the optimum over the exact pattern set."""

import numpy as np
import pytest

import dualnet
from dualnet import _core


def _data(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.maximum(X @ rng.standard_normal(d), 0) - np.maximum(X @ rng.standard_normal(d), 0)
    return X, y + 0.1 * rng.standard_normal(n)


def _augment(X, bias):
    return np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X


def _seed_patterns(X, bias, n_gates=3, seed=0):
    return dualnet.activation_patterns(X, bias=bias, method="sample", n_gates=n_gates,
                                       random_state=seed)


def _union(a, b):
    masks = np.hstack([a.masks, b.masks])
    gates = np.hstack([a.gates, b.gates])
    return dualnet.Patterns.from_masks(masks, gates, bias=a.bias)


def _relu_value(Xa, mask, dual):
    """Oracle: max over the unit ball of the cone of |dual^T D X u|, by the core's projection of
    both signs (the same quantity by Moreau's decomposition, computed independently of the
    search)."""
    c = Xa.T @ (mask * dual)
    ps = dualnet.Patterns.from_masks(mask[:, None], np.full((Xa.shape[1], 1), np.nan))
    best = 0.0
    for sign in (1.0, -1.0):
        u, _ = _core.project_onto_pattern_cone(np.ascontiguousarray(Xa), ps.pattern_set, 0,
                                               sign * c)
        norm = np.linalg.norm(u)
        if norm > 1e-10 * np.linalg.norm(c):  # else the projection is zero up to round-off
            best = max(best, sign * c @ u / norm)
    return best


@pytest.mark.parametrize("model", ["relu", "gated"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("method", ["ascent", "climb"])
def test_violations_are_real_new_and_consistent(model, bias, method):
    X, y = _data(40, 3, seed=1)
    seed_set = _seed_patterns(X, bias, n_gates=4)
    fit = dualnet.fit_relu(X, y, 0.5, patterns=seed_set, model=model, bias=bias, tol=1e-8)
    result = dualnet.price_patterns(X, fit.dual, fit.beta, seed_set, model=model, bias=bias,
                                    random_state=0, method=method)
    assert len(result) > 0  # four sampled patterns leave violations at this beta
    Xa = _augment(X, bias)
    masks, gates = result.patterns.masks, result.patterns.gates
    old = {m.tobytes() for m in seed_set.masks.T}
    assert len({m.tobytes() for m in masks.T}) == masks.shape[1]  # distinct
    assert np.all(np.diff(result.values) <= 0)  # sorted by violation
    assert result.max_value == pytest.approx(result.values[0])
    assert result.max_violation == pytest.approx(result.values[0] / fit.beta - 1)
    for j in range(masks.shape[1]):
        mask, gate, value = masks[:, j], gates[:, j], result.values[j]
        assert mask.tobytes() not in old
        products = Xa @ gate
        assert np.all(np.abs(products) > 0)
        np.testing.assert_array_equal(products > 0, mask)  # the gate is strictly inside its cell
        assert value > fit.beta * (1 + 1e-6)
        w = result.witnesses[:, j]
        assert np.linalg.norm(w) == pytest.approx(1.0)
        if model == "gated":
            direct = np.linalg.norm(Xa.T @ (mask * fit.dual))
            assert value == pytest.approx(direct, rel=1e-9)
            assert fit.dual @ (mask * (Xa @ w)) == pytest.approx(value, rel=1e-9)
        else:
            # The witness lies in the closed cell and attains the value: a network neuron w with
            # |dual^T (X w)_+| > beta, the violated constraint of the non-convex dual.
            signed = np.where(mask, 1.0, -1.0) * (Xa @ w)
            assert signed.min() >= -1e-9 * np.linalg.norm(Xa, axis=1).max()
            assert abs(fit.dual @ np.maximum(Xa @ w, 0)) == pytest.approx(value, rel=1e-6)
            assert value == pytest.approx(_relu_value(Xa, mask, fit.dual), rel=1e-6)


@pytest.mark.parametrize("loss", ["hinge", "logistic"])
def test_violations_priced_from_a_classification_dual_are_real(loss):
    # The dual constraint |dual^T (X u)_+| <= beta does not depend on the loss; the dual point of
    # a hinge or logistic fit over a small set violates it, and every violation pricing reports
    # is checked by direct evaluation at its witness and against the projection oracle.
    X, y = _data(40, 3, seed=8)
    labels = np.where(y > np.median(y), 1.0, -1.0)
    seed_set = _seed_patterns(X, True, n_gates=3)
    beta = 0.3
    fit = dualnet.fit_relu(X, labels, beta, patterns=seed_set, bias=True, tol=1e-8, loss=loss)
    result = dualnet.price_patterns(X, fit.dual, beta, seed_set, bias=True, random_state=0)
    assert len(result) > 0
    Xa = _augment(X, True)
    old = {m.tobytes() for m in seed_set.masks.T}
    for mask, value, w in zip(result.patterns.masks.T, result.values, result.witnesses.T):
        assert mask.tobytes() not in old and value > beta * (1 + 1e-6)
        signed = np.where(mask, 1.0, -1.0) * (Xa @ w)
        assert signed.min() >= -1e-9 * np.linalg.norm(Xa, axis=1).max()  # w in the closed cell
        assert np.linalg.norm(w) == pytest.approx(1.0)
        assert abs(fit.dual @ np.maximum(Xa @ w, 0)) == pytest.approx(value, rel=1e-6)
        assert value == pytest.approx(_relu_value(Xa, mask, fit.dual), rel=1e-6)


@pytest.mark.parametrize("model, method", [("relu", "ascent"), ("gated", "climb")])
def test_min_distance_spreads_the_returned_patterns(model, method):
    X, y = _data(200, 3, seed=9)
    seed_set = _seed_patterns(X, False, n_gates=6)
    beta = 2.0
    fit = dualnet.fit_relu(X, y, beta, patterns=seed_set, model=model, tol=1e-8)
    options = dict(model=model, method=method, random_state=0, n_starts=30)
    every = dualnet.price_patterns(X, fit.dual, beta, seed_set, **options)
    h = 4
    masks = every.patterns.masks
    gaps = (masks[:, :, None] != masks[:, None, :]).sum(axis=0)
    assert every.n_near == 0 and np.any(gaps[np.triu_indices(len(every), 1)] <= h)
    spread = dualnet.price_patterns(X, fit.dual, beta, seed_set, min_distance=h, **options)
    assert 0 < len(spread) < len(every) and spread.n_near > 0
    masks = spread.patterns.masks
    for j in range(masks.shape[1]):  # farther than h rows from the set and from each other
        assert np.count_nonzero(masks[:, [j]] != seed_set.masks, axis=0).min() > h
        others = np.delete(masks, j, axis=1)
        if others.shape[1]:
            assert np.count_nonzero(masks[:, [j]] != others, axis=0).min() > h
        assert spread.values[j] > beta  # still real violations, by direct evaluation
        direct = (np.linalg.norm(X.T @ (masks[:, j] * fit.dual)) if model == "gated"
                  else _relu_value(X, masks[:, j], fit.dual))
        assert spread.values[j] == pytest.approx(direct, rel=1e-6)
    # The largest value found covers the skipped patterns: that of the same search without
    # skipping.
    assert spread.max_value >= spread.values[0]
    assert spread.max_value == pytest.approx(every.max_value, rel=1e-9)
    with pytest.raises(ValueError, match="min_distance"):
        dualnet.price_patterns(X, y, 1.0, seed_set, min_distance=-1)


def test_pattern_distances_count_differing_rows():
    X, _ = _data(130, 3, seed=10)  # three words per pattern
    a = _seed_patterns(X, False, n_gates=5, seed=0)
    b = _seed_patterns(X, True, n_gates=4, seed=1)
    distances = _core.pattern_distances(a.pattern_set, b.pattern_set)
    oracle = (a.masks[:, :, None] != b.masks[:, None, :]).sum(axis=0)
    np.testing.assert_array_equal(distances, oracle)
    assert distances.shape == (len(a), len(b))
    np.testing.assert_array_equal(np.diag(_core.pattern_distances(a.pattern_set, a.pattern_set)), 0)
    with pytest.raises(ValueError, match="pattern_distances"):
        _core.pattern_distances(a.pattern_set, _seed_patterns(X[:64], False).pattern_set)


@pytest.mark.parametrize("model", ["relu", "gated"])
def test_no_violation_for_a_zero_dual_and_values_bounded_by_oracle(model):
    X, y = _data(30, 2, seed=2)
    seed_set = _seed_patterns(X, True)
    none = dualnet.price_patterns(X, np.zeros(30), 1.0, seed_set, model=model, bias=True)
    assert len(none) == 0 and none.max_value == 0 and none.n_starts > 0
    # The largest value found never exceeds the largest over the exact set (an oracle from the
    # enumeration), and on this small instance the search attains it.
    exact = dualnet.activation_patterns(X, bias=True, method="exact")
    Xa = _augment(X, True)
    dual = y - y.mean()
    values = []
    for mask in exact.masks.T:
        if model == "gated":
            values.append(np.linalg.norm(Xa.T @ (mask * dual)))
        else:
            values.append(_relu_value(Xa, mask, dual))
    result = dualnet.price_patterns(X, dual, 1e-3, None, model=model, bias=True, random_state=1)
    assert result.max_value <= max(values) * (1 + 1e-9)
    assert result.max_value == pytest.approx(max(values), rel=1e-6)


def _column_generation(X, y, beta, model, bias, patterns, method=None, rounds=30):
    fit = None
    for _ in range(rounds):
        fit = dualnet.fit_relu(X, y, beta, patterns=patterns, model=model, bias=bias, tol=1e-9,
                               max_iter=100000)
        priced = dualnet.price_patterns(X, fit.dual, beta, patterns, model=model, bias=bias,
                                        random_state=0, method=method)
        if len(priced) == 0:
            return fit, priced
        patterns = _union(patterns, priced.patterns)
    raise AssertionError("column generation did not stop")


@pytest.mark.parametrize(
    "model, d, bias, method",
    [("relu", 2, False, None), ("relu", 2, True, None), ("relu", 3, False, None),
     ("relu", 3, True, None), ("relu", 2, True, "climb"), ("relu", 3, False, "climb"),
     ("gated", 2, False, None), ("gated", 2, True, None), ("gated", 3, False, None),
     ("gated", 3, True, None)],
)
def test_column_generation_reaches_the_exact_optimum(model, d, bias, method):
    X, y = _data(16, d, seed=3 + d)
    exact = dualnet.activation_patterns(X, bias=bias, method="exact")
    top = dualnet.beta_max(X, y, patterns=exact, model=model, bias=bias)
    beta = 0.05 * top
    reference = dualnet.fit_relu(X, y, beta, patterns=exact, model=model, bias=bias, tol=1e-9,
                                 max_iter=100000)
    seed_set = _seed_patterns(X, bias, n_gates=2)
    assert len(seed_set) < len(exact)
    fit, final = _column_generation(X, y, beta, model, bias, seed_set, method)
    assert fit.primal_objective == pytest.approx(reference.primal_objective, rel=1e-6)
    assert len(final) == 0 and final.max_value <= beta * (1 + 1e-6)
    # The final dual point is feasible for every exact pattern (checked against the enumeration).
    Xa = _augment(X, bias)
    for mask in exact.masks.T:
        value = (np.linalg.norm(Xa.T @ (mask * fit.dual)) if model == "gated"
                 else _relu_value(Xa, mask, fit.dual))
        assert value <= beta * (1 + 1e-5)


@pytest.mark.parametrize("method", ["ascent", "climb"])
def test_deterministic_and_budgeted(method):
    X, y = _data(50, 4, seed=4)
    seed_set = _seed_patterns(X, False, n_gates=5)
    fit = dualnet.fit_relu(X, y, 0.3, patterns=seed_set)
    a = dualnet.price_patterns(X, fit.dual, 0.3, seed_set, random_state=7, n_starts=20,
                               method=method)
    b = dualnet.price_patterns(X, fit.dual, 0.3, seed_set, random_state=7, n_starts=20,
                               method=method)
    assert a.n_starts == 20
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.patterns.masks, b.patterns.masks)
    np.testing.assert_array_equal(a.patterns.gates, b.patterns.gates)
    capped = dualnet.price_patterns(X, fit.dual, 0.3, seed_set, random_state=7, n_starts=20,
                                    max_new=2, method=method)
    assert len(capped) == min(2, len(a))
    if method == "climb":  # the best max_new values
        np.testing.assert_array_equal(capped.values, a.values[: len(capped)])
    else:  # the best max_new by attained value, with their exact values: among the uncapped
        values = {m.tobytes(): v for m, v in zip(a.patterns.masks.T, a.values)}
        for mask, value in zip(capped.patterns.masks.T, capped.values):
            assert values[mask.tobytes()] == value


def test_validation():
    X, y = _data(10, 2, seed=5)
    seed_set = _seed_patterns(X, False)
    with pytest.raises(ValueError, match="dual"):
        dualnet.price_patterns(X, np.zeros(9), 1.0, seed_set)
    with pytest.raises(ValueError, match="beta"):
        dualnet.price_patterns(X, y, 0.0, seed_set)
    with pytest.raises(ValueError, match="bias"):
        dualnet.price_patterns(X, y, 1.0, seed_set, bias=True)
    with pytest.raises(ValueError, match="rows"):
        dualnet.price_patterns(X[:5], y[:5], 1.0, seed_set)
    with pytest.raises(ValueError, match="model"):
        dualnet.price_patterns(X, y, 1.0, seed_set, model="linear")
    with pytest.raises(TypeError, match="patterns"):
        dualnet.price_patterns(X, y, 1.0, seed_set.masks)
    with pytest.raises(ValueError, match="n_starts"):
        dualnet.price_patterns(X, y, 1.0, seed_set, n_starts=-1)
    with pytest.raises(ValueError, match="method"):
        dualnet.price_patterns(X, y, 1.0, seed_set, method="newton")
    with pytest.raises(ValueError, match="step"):
        dualnet.price_patterns(X, y, 1.0, seed_set, step=0.0)


def test_append_patterns_keeps_both_sets_in_order():
    X, _ = _data(12, 2, seed=6)
    a = _seed_patterns(X, False, n_gates=3, seed=0)
    b = _seed_patterns(X, False, n_gates=4, seed=1)
    both = _core.append_patterns(a.pattern_set, b.pattern_set)
    np.testing.assert_array_equal(both.masks(), np.hstack([a.masks, b.masks]))
    np.testing.assert_array_equal(both.gates(), np.hstack([a.gates, b.gates]))
    with pytest.raises(ValueError, match="append_patterns"):
        _core.append_patterns(a.pattern_set, _seed_patterns(X, True).pattern_set)
