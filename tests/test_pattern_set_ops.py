"""Whole-set operations of the bit-packed PatternSet, each against numpy on the dense masks, and
fit paths that never build the dense (n, P) masks."""

import pickle
import warnings

import numpy as np
import pytest

import dualnet
from dualnet import _core, column_generation


def _set_with_repeats(n, seed):
    # Distinct sampled patterns, then some of them again, so that dedupe and lookup have work.
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    base = dualnet.activation_patterns(X, method="sample", n_gates=30, random_state=seed)
    order = rng.integers(0, len(base), size=2 * len(base))
    return X, base.pattern_set.subset(order), base.masks[:, order], base.gates[:, order]


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200])
def test_mean_row_coverage_matches_numpy(n):
    rng = np.random.default_rng(n)
    masks = rng.random((n, 7)) < 0.5
    masks[:, 2] = False  # an empty pattern: coverage 0
    masks[:, 5] = True  # a full one
    pattern_set = _core.PatternSet.from_masks(masks, np.zeros((1, 7)))
    counts = masks.sum(axis=0)
    overlaps = (masks.T.astype(float) @ masks.astype(float)).sum(axis=1)
    expected = np.divide(overlaps, counts, out=np.zeros(7), where=counts > 0)
    np.testing.assert_allclose(pattern_set.mean_row_coverage(), expected, rtol=1e-15)


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200])
def test_subset_matches_numpy_column_selection(n):
    _, pattern_set, masks, gates = _set_with_repeats(max(n, 1), seed=n)
    index = np.array([3, 0, 3, len(pattern_set) - 1])
    part = pattern_set.subset(index)
    np.testing.assert_array_equal(part.masks(), masks[:, index])
    np.testing.assert_array_equal(part.gates(), gates[:, index])
    assert part.n_rows == pattern_set.n_rows and part.gate_dim == pattern_set.gate_dim
    assert len(pattern_set.subset([])) == 0
    with pytest.raises(ValueError, match="out of range"):
        pattern_set.subset([len(pattern_set)])
    with pytest.raises(ValueError, match="out of range"):
        pattern_set.subset([-1])


@pytest.mark.parametrize("n", [5, 64, 130])
def test_dedupe_and_lookup_match_numpy(n):
    _, pattern_set, masks, _ = _set_with_repeats(n, seed=10 + n)
    # First occurrence of each distinct column, in increasing order.
    _, first = np.unique(masks, axis=1, return_index=True)
    np.testing.assert_array_equal(pattern_set.first_occurrences(), np.sort(first))
    # Equal columns hash equally; distinct ones here do not collide.
    hashes = pattern_set.hashes()
    assert hashes.dtype == np.uint64 and hashes.shape == (len(pattern_set),)
    columns = [masks[:, i].tobytes() for i in range(masks.shape[1])]
    for i in range(len(columns)):
        for j in range(len(columns)):
            assert (hashes[i] == hashes[j]) == (columns[i] == columns[j])
    # Lookup: the last index with the same bits, -1 for a pattern that is not there.
    last = {c: i for i, c in enumerate(columns)}
    queries = np.column_stack([masks[:, ::3], ~masks[:, :1]])
    found = pattern_set.find(_core.PatternSet.from_masks(
        np.ascontiguousarray(queries), np.zeros((3, queries.shape[1]))))
    expected = [last.get(queries[:, j].tobytes(), -1) for j in range(queries.shape[1])]
    if (~masks[:, 0]).tobytes() in last:  # the complement happens to be a pattern too
        expected[-1] = last[(~masks[:, 0]).tobytes()]
    np.testing.assert_array_equal(found, expected)
    with pytest.raises(ValueError, match="rows"):
        pattern_set.find(_core.PatternSet.from_masks(np.ones((n + 1, 1), bool), np.zeros((3, 1))))


@pytest.mark.parametrize("n", [1, 64, 100, 3000])
def test_from_gates_matches_numpy(n):
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 4))
    gates = rng.standard_normal((4, 70))
    gates[:, 5] = 0.0  # X g = 0 everywhere: every row is active (>= 0)
    pattern_set = _core.PatternSet.from_gates(X, gates)
    np.testing.assert_array_equal(pattern_set.masks(), X @ gates >= 0)
    np.testing.assert_array_equal(pattern_set.gates(), gates)
    with pytest.raises(ValueError, match="columns"):
        _core.PatternSet.from_gates(X, gates[:3])


def test_pattern_set_pickles_its_words():
    _, pattern_set, masks, gates = _set_with_repeats(100, seed=3)
    words = pattern_set.words()
    assert words.shape == (len(pattern_set), 2) and words.dtype == np.uint64
    # Bit k of word k // 64 is row k: the same bits as numpy's little-endian packing.
    packed = np.packbits(masks, axis=0, bitorder="little")
    padded = np.zeros((16, masks.shape[1]), np.uint8)
    padded[: packed.shape[0]] = packed
    np.testing.assert_array_equal(words, padded.T.copy().view(np.uint64))
    clone = pickle.loads(pickle.dumps(pattern_set))
    np.testing.assert_array_equal(clone.masks(), masks)
    np.testing.assert_array_equal(clone.gates(), gates)


def _forbid_dense_masks(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the dense (n, P) masks were materialised")

    monkeypatch.setattr(dualnet.Patterns, "masks", property(refuse))
    monkeypatch.setattr(_core.PatternSet, "masks", refuse)
    monkeypatch.setattr(_core.PatternSet, "from_masks", staticmethod(refuse))


def _data(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.maximum(X @ rng.standard_normal((d, 3)), 0).sum(axis=1) + 0.1 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("model", ["relu", "gated"])
def test_priced_and_polished_fits_never_build_dense_masks(model, monkeypatch):
    X, y = _data(600, 3, seed=0)
    monkeypatch.setattr(column_generation, "SEED_STEPS", 200)
    monkeypatch.setattr(column_generation, "DEFAULT_SEED_GATES", 20)
    monkeypatch.setattr(column_generation, "DEFAULT_MAX_ROUNDS", 3)  # rounds, not time, stop it
    init = np.random.default_rng(1).standard_normal((4, 8)), np.ones(8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # capped rounds may stop on max_iter
        expected = [
            dualnet.fit_relu(X, y, 5.0, patterns="auto", model=model, bias=True, tol=1e-4,
                             random_state=0),
            dualnet.fit_relu(X, y, 5.0, init=init, model=model, bias=True, tol=1e-4,
                             random_state=0),
        ]
        _forbid_dense_masks(monkeypatch)
        got = [
            dualnet.fit_relu(X, y, 5.0, patterns="auto", model=model, bias=True, tol=1e-4,
                             random_state=0),
            dualnet.fit_relu(X, y, 5.0, init=init, model=model, bias=True, tol=1e-4,
                             random_state=0),
        ]
    for fit, reference in zip(got, expected):
        assert fit.pricing == reference.pricing
        assert fit.primal_objective == reference.primal_objective
        assert fit.predict(X[:50]) == pytest.approx(reference.predict(X[:50]))
    assert got[0].pricing.n_added > 0 and got[0].pricing.n_dropped > 0  # priced, subset taken
    assert got[1].first_layer.shape[1] > 0


def test_loss_fits_and_pickling_never_build_dense_masks(monkeypatch):
    X, y = _data(300, 3, seed=2)
    patterns = dualnet.activation_patterns(X, bias=True, method="sample", n_gates=40,
                                           random_state=0)
    labels = np.eye(3)[np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))]
    _forbid_dense_masks(monkeypatch)
    fit = dualnet.fit_relu(X, labels, 1.0, patterns=patterns, model="gated", bias=True,
                           loss="cross_entropy", tol=1e-6)
    assert fit.first_layer.shape[1] > 0
    clone = pickle.loads(pickle.dumps(patterns))
    np.testing.assert_array_equal(clone.pattern_set.words(), patterns.pattern_set.words())
