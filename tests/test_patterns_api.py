"""The Patterns object, from_masks, pickling, and every bad input's error."""

import pickle

import numpy as np
import pytest

import dualnet
from dualnet import _core


def test_patterns_pickle_round_trip():
    X = np.random.default_rng(0).standard_normal((70, 2))
    for p in (
        dualnet.activation_patterns(X, bias=True, method="exact"),
        dualnet.activation_patterns(X, method="sample", n_gates=100, random_state=0),
    ):
        q = pickle.loads(pickle.dumps(p))
        np.testing.assert_array_equal(q.masks, p.masks)
        np.testing.assert_array_equal(q.gates, p.gates)
        assert (q.exact, q.bias, q.method, q.n_draws, q.exact_count) == (
            p.exact, p.bias, p.method, p.n_draws, p.exact_count
        )


def test_pattern_set_accessor_and_shapes():
    X = np.random.default_rng(1).standard_normal((9, 2))
    p = dualnet.activation_patterns(X, bias=True, method="exact")
    assert isinstance(p.pattern_set, _core.PatternSet)
    assert p.pattern_set.gate_dim == 3 and p.pattern_set.n_rows == 9
    assert p.masks.shape == (9, len(p)) and p.masks.dtype == bool
    assert p.gates.shape == (3, len(p)) and p.gates.dtype == np.float64
    assert "method='exact'" in repr(p)


def test_from_masks():
    masks = np.array([[True, False], [False, True], [True, True]])
    gates = np.arange(6.0).reshape(3, 2)
    p = dualnet.Patterns.from_masks(masks, gates, bias=True)
    np.testing.assert_array_equal(p.masks, masks)
    np.testing.assert_array_equal(p.gates, gates)
    assert p.method == "given" and not p.exact and p.bias and p.pattern_set.gate_dim == 3
    q = dualnet.Patterns.from_masks(masks.astype(int), n_features=2, bias=True)
    assert q.gates.shape == (3, 2) and np.all(np.isnan(q.gates))
    r = pickle.loads(pickle.dumps(q))
    np.testing.assert_array_equal(r.masks, masks)
    with pytest.raises(TypeError, match="n_features"):
        dualnet.Patterns.from_masks(masks)
    with pytest.raises(ValueError, match="gates"):
        dualnet.Patterns.from_masks(masks, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="masks"):
        dualnet.Patterns.from_masks(np.ones(3, bool), n_features=1)
    with pytest.raises(TypeError, match="masks"):
        dualnet.Patterns.from_masks(np.full((2, 2), 0.5), n_features=1)


GOOD = np.random.default_rng(0).standard_normal((10, 3))
BIG = np.random.default_rng(0).standard_normal((1000, 5))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(X=np.array([[1.0, np.nan]])), ValueError, "X"),
        (dict(X=np.array([[1.0, np.inf]])), ValueError, "X"),
        (dict(X=np.ones(3)), ValueError, "X"),
        (dict(X=np.ones((2, 2, 2))), ValueError, "X"),
        (dict(X=np.ones((0, 3))), ValueError, "X"),
        (dict(X=np.ones((3, 0))), ValueError, "X"),
        (dict(X=np.array([["a", "b"]])), TypeError, "X"),
        (dict(X=np.ones((2, 2), dtype=complex)), TypeError, "X"),
        (dict(X=GOOD, n_gates=0), ValueError, "n_gates"),
        (dict(X=GOOD, n_gates=-3), ValueError, "n_gates"),
        (dict(X=GOOD, n_gates=2.5), TypeError, "n_gates"),
        (dict(X=GOOD, max_patterns=0), ValueError, "max_patterns"),
        (dict(X=GOOD, method="exact", max_patterns=10), ValueError, "max_patterns"),
        (dict(X=GOOD[:, :2], method="exact", max_patterns=10), ValueError, "max_patterns"),
        (dict(X=GOOD, method="sample", n_gates=10**9), MemoryError, "n_gates"),
        (dict(X=BIG, method="exact", max_patterns=10**12), MemoryError, "max_patterns"),
        (dict(X=GOOD, method="fast"), ValueError, "method"),
        (dict(X=GOOD, bias="yes"), TypeError, "bias"),
        (dict(X=GOOD, random_state="seed"), TypeError, "random_state"),
    ],
)
def test_bad_input_errors_name_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        dualnet.activation_patterns(**kwargs)


def test_count_patterns_bad_input_and_budget():
    with pytest.raises(ValueError, match="X"):
        dualnet.count_patterns(np.array([[np.nan, 1.0]]))
    with pytest.raises(TypeError, match="bias"):
        dualnet.count_patterns(GOOD, bias=1)
    # Rank 6 with 3000 distinct rows: general position cannot be checked within the work budget.
    X = np.random.default_rng(0).standard_normal((3000, 6))
    with pytest.raises(ValueError, match="work budget"):
        dualnet.count_patterns(X)


def test_long_enumeration_stops_on_keyboard_interrupt():
    # The enumeration runs without the GIL and polls for signals: an alarm raising
    # KeyboardInterrupt must stop it long before it would finish (about 1.2 million cells).
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        pytest.skip("needs POSIX timers on the main thread")

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    X = np.random.default_rng(0).standard_normal((30, 7))
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            dualnet.activation_patterns(X, method="exact", max_patterns=2_000_000)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
