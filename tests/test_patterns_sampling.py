"""Sampled activation patterns: reproducible, distinct, interior, inside the exact set."""

import numpy as np
import pytest

import dualnet


def _keys(masks):
    return {m.tobytes() for m in masks.T}


def test_sampling_is_reproducible_for_a_seed():
    X = np.random.default_rng(0).standard_normal((60, 5))
    a = dualnet.activation_patterns(X, method="sample", n_gates=500, random_state=11)
    b = dualnet.activation_patterns(X, method="sample", n_gates=500, random_state=11)
    c = dualnet.activation_patterns(X, method="sample", n_gates=500, random_state=12)
    np.testing.assert_array_equal(a.masks, b.masks)
    np.testing.assert_array_equal(a.gates, b.gates)
    assert _keys(a.masks) != _keys(c.masks)
    gen = dualnet.activation_patterns(X, method="sample", n_gates=50, random_state=np.random.default_rng(3))
    again = dualnet.activation_patterns(X, method="sample", n_gates=50, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(gen.gates, again.gates)


@pytest.mark.parametrize("bias", [False, True])
def test_sampled_patterns_are_distinct_interior_and_exact_subset(bias):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3))
    X[:5] = X[5:10]  # duplicated rows
    X[10] = 0.0  # a zero row
    sampled = dualnet.activation_patterns(X, bias=bias, method="sample", n_gates=3000, random_state=0)
    exact = dualnet.activation_patterns(X, bias=bias, method="exact")
    assert sampled.method == "sample" and sampled.n_draws == 3000
    assert len(_keys(sampled.masks)) == len(sampled) <= 3000
    assert _keys(sampled.masks) <= _keys(exact.masks)
    Xa = np.hstack([X, np.ones((40, 1))]) if bias else X
    scores = Xa @ sampled.gates
    nonzero = np.linalg.norm(Xa, axis=1) > 0
    np.testing.assert_array_equal(scores[nonzero] > 0, sampled.masks[nonzero])
    assert np.all(np.abs(scores[nonzero]) > 0)
    assert np.all(sampled.masks[~nonzero])


def test_vertex_sampler_finds_more_than_gaussian_gates():
    # Small cells are reached through vertices: at equal draws the sampler finds more patterns
    # than Gaussian gates alone (measured by the numpy reference).
    rng = np.random.default_rng(4)
    X = rng.standard_normal((100, 3))
    draws = 4000
    sampled = dualnet.activation_patterns(X, method="sample", n_gates=draws, random_state=0)
    gaussian = X @ rng.standard_normal((3, draws)) >= 0
    assert len(sampled) > 1.2 * len(_keys(gaussian))


def test_sampling_reports_exact_when_it_covers_a_rank_two_arrangement():
    X = np.random.default_rng(2).standard_normal((6, 2))
    sampled = dualnet.activation_patterns(X, method="sample", n_gates=5000, random_state=0)
    assert sampled.exact_count == 12
    assert sampled.exact == (len(sampled) == 12)
    assert len(sampled) == 12  # 5000 draws over 12 cells of a random plane arrangement


def test_auto_chooses_exact_when_affordable_and_sample_otherwise():
    rng = np.random.default_rng(3)
    small = rng.standard_normal((20, 3))
    auto = dualnet.activation_patterns(small)
    assert auto.method == "exact" and auto.exact and len(auto) == dualnet.count_patterns(small)
    big = rng.standard_normal((200, 10))
    auto = dualnet.activation_patterns(big, random_state=0)
    assert auto.method == "sample" and not auto.exact and auto.n_draws == dualnet.patterns.DEFAULT_N_GATES
    assert auto.exact_count is None
    limited = dualnet.activation_patterns(small, max_patterns=100, n_gates=64, random_state=0)
    assert limited.method == "sample" and len(limited) <= 64
