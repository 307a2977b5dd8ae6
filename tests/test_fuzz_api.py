"""Fuzzing every public function's arguments, one argument at a time.

Each function is called with valid arguments except one, replaced by anything a user might pass
(arrays of every dtype, shape and layout; numbers of every kind; strings, None, lists). The
contract: a correct result (checked by the property tests of each function, and here at least to
be finite), or TypeError/ValueError naming an argument of the function (MemoryError, with the
estimate, for sizes beyond the memory budget) — never another exception, a crash or a hang.
"""

import inspect
import warnings

import numpy as np
import pytest
from fuzz_strategies import array_cases, examples, scalar_values
from hypothesis import given
from hypothesis import strategies as st

import dualnet
from dualnet.duality import feasible_dual_point, get_loss


def _data(n=12, d=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


X0, Y0 = _data()
Q0 = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 4)))[0].T  # whitened: Q0 Q0^T = I
C0 = np.outer(np.random.default_rng(2).standard_normal(12), [1.0, -0.5])  # rank one
PATTERNS0 = dualnet.activation_patterns(X0, random_state=0)


def _estimator_fit(X, y, alpha, random_state):
    return dualnet.ConvexReLURegressor(alpha=alpha, random_state=random_state).fit(X, y)


# function, valid keyword arguments, how arguments are named in messages
CALLS = {
    "activation_patterns": (dualnet.activation_patterns,
                            dict(X=X0, bias=False, method="auto", n_gates=100, max_patterns=1000,
                                 random_state=0)),
    "count_patterns": (dualnet.count_patterns, dict(X=X0, bias=True)),
    "Patterns.from_masks": (dualnet.Patterns.from_masks,
                            dict(masks=PATTERNS0.masks, gates=PATTERNS0.gates, bias=False)),
    "fit_relu": (dualnet.fit_relu, dict(X=X0, y=Y0, beta=0.1, patterns=None, model="relu",
                                        bias=False, tol=1e-6, max_iter=None, random_state=0)),
    "fit_relu_path": (dualnet.fit_relu_path, dict(X=X0, y=Y0, betas=[0.5, 0.1], random_state=0)),
    "beta_max": (dualnet.beta_max, dict(X=X0, y=Y0, patterns=None, model="gated", bias=False)),
    "ConvexReLURegressor.fit": (_estimator_fit, dict(X=X0, y=Y0, alpha=0.01, random_state=0)),
    "deep_linear": (dualnet.deep_linear, dict(X=X0, y=Y0, beta=0.3, depth=3)),
    "whitened_relu": (dualnet.whitened_relu, dict(X=Q0, y=Y0[:4], beta=0.1, depth=2)),
    "rank_one_relu": (dualnet.rank_one_relu, dict(X=C0, y=Y0, beta=0.1, depth=2)),
    "feasible_dual_point": (
        lambda loss, yhat, y, beta: feasible_dual_point(loss, yhat, y, beta,
                                                        lambda lam: float(np.abs(lam).sum())),
        dict(loss="squared", yhat=np.zeros(12), y=Y0, beta=0.5)),
}

PAIRS = [(name, arg) for name, (_, kwargs) in CALLS.items() for arg in kwargs]


def _names(name):
    function, kwargs = CALLS[name]
    names = set(kwargs)
    if name == "ConvexReLURegressor.fit":
        names |= {"alpha", "random_state", "X", "y"}
    return names


def _finite(result) -> bool:
    """Every float and float array the result exposes is finite (NaN marks unknown gates only)."""
    if isinstance(result, (int, np.integer)):
        return True
    if isinstance(result, (float, np.floating)):
        return bool(np.isfinite(result))
    values = getattr(result, "__dict__", {})
    for key, value in values.items():
        if key == "patterns" or key.startswith("_"):
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            return False
        if isinstance(value, float) and not np.isfinite(value):
            return False
    return True


def _junk():
    return st.one_of(
        array_cases(max_dims=3, max_side=13).map(lambda c: c.value),
        scalar_values(),
        st.text(max_size=8),
        st.sampled_from([None, [], {}, "gated", "relu", "exact", "sample", "squared", "hinge",
                         True, False, 0, -1, 1, 2, 3, 10**6, 2**62, 2**64, 1e-300, 1e300]),
    )


def _call(name, arg, value):
    function, kwargs = CALLS[name]
    kwargs = dict(kwargs, **{arg: value})
    with warnings.catch_warnings():
        # Non-convergence is reported by a ConvergenceWarning (and in the result): allowed here.
        warnings.simplefilter("ignore", dualnet.ConvergenceWarning)
        return function(**kwargs)


@pytest.mark.parametrize("name, arg", PAIRS)
@examples(0.3)
@given(data=st.data())
def test_one_bad_argument(name, arg, data):
    value = data.draw(_junk(), label=arg)
    try:
        result = _call(name, arg, value)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        assert any(n in message for n in _names(name)), f"{type(exc).__name__}: {message}"
    except MemoryError as exc:
        assert "needs about" in str(exc), str(exc)
    else:
        assert _finite(result), result


def test_every_public_function_is_fuzzed():
    public = {n for n in dualnet.__all__ if callable(getattr(dualnet, n)) and not inspect.isclass(
        getattr(dualnet, n))}
    fuzzed = {name.split(".")[0] for name in CALLS}
    assert public <= fuzzed
    assert get_loss("squared") is not None
