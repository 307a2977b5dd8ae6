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
from hypothesis import assume, given
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


_DASK_X0 = object()  # stands for X0 as a dask array (built only where dask is installed)


def _sharded(X, **kwargs):
    dask = pytest.importorskip("dask")
    import dask.array as da

    if X is _DASK_X0:
        X = da.from_array(X0, chunks=(6, 2))
    with dask.config.set(scheduler="sync"):  # no thread pool per call: quick examples
        return dualnet.fit_gated_sharded(X, **kwargs)


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
    "spline_1d": (dualnet.spline_1d, dict(x=X0[:, 0], y=Y0, beta=0.3)),
    "optimal_neurons": (dualnet.optimal_neurons,
                        dict(X=X0, dual=Y0, beta=0.5, patterns=PATTERNS0)),
    "price_patterns": (dualnet.price_patterns,
                       dict(X=X0, dual=Y0, beta=0.5, patterns=PATTERNS0, model="relu",
                            random_state=0)),
    "certify": (dualnet.certify, dict(X=X0, y=Y0, beta=0.5, first_layer=np.ones((2, 3)),
                                      second_layer=np.ones(3), patterns=PATTERNS0, bias=False)),
    "certify_linear": (dualnet.certify_linear, dict(X=X0, y=Y0, beta=0.5,
                                                    layers=[np.ones((2, 3)), np.ones(3)])),
    "fit_relu_batch": (dualnet.fit_relu_batch,
                       dict(problems=[dict(X=X0, y=Y0, beta=0.1, random_state=0)], n_jobs=None,
                            progress=False)),
    "problems_over_targets": (dualnet.problems_over_targets,
                              dict(X=X0, Y=np.column_stack([Y0, -Y0]), beta=0.1, patterns=None,
                                   bias=False, random_state=0, max_patterns=1000, n_gates=100)),
    "problems_over_betas": (dualnet.problems_over_betas,
                            dict(X=X0, y=Y0, betas=[0.5, 0.1], patterns=PATTERNS0, bias=False)),
    "problems_over_folds": (dualnet.problems_over_folds,
                            dict(X=X0, y=Y0, beta=0.1, cv=3, bias=False, random_state=0)),
    "estimate_memory": (dualnet.estimate_memory,
                        dict(n_samples=100, n_features=3, n_patterns=10, model="gated",
                             bias=False, dtype=np.float32, c_contiguous=True)),
    "fit_gated_sharded": (_sharded, dict(X=_DASK_X0, y=Y0, beta=0.5, gates=PATTERNS0.gates,
                                         bias=False, tol=1e-2, max_iter=5, n_power_iter=2)),
    "feasible_dual_point": (
        lambda loss, yhat, y, beta: feasible_dual_point(loss, yhat, y, beta,
                                                        lambda lam: float(np.abs(lam).sum())),
        dict(loss="squared", yhat=np.zeros(12), y=Y0, beta=0.5)),
}

# The estimator validates its data with scikit-learn (check_array), whose messages describe the
# problem without naming the argument: the scikit-learn convention, kept for estimators.
SKLEARN_MESSAGES = {"ConvexReLURegressor.fit"}

KNOWN_UNNAMED = set()

PAIRS = [(name, arg) for name, (_, kwargs) in CALLS.items() for arg in kwargs
         if (name, arg) not in KNOWN_UNNAMED]


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
@examples(0.1)
@given(data=st.data())
def test_one_bad_argument(name, arg, data):
    value = data.draw(_junk(), label=arg)
    # A path of a million fits is a valid request, just a long one: not fuzzed here.
    assume(not (arg == "betas" and isinstance(value, (int, np.integer)) and value > 1000))
    try:
        result = _call(name, arg, value)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        if name not in SKLEARN_MESSAGES:
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


# Regressions: defects the fuzz suite found.


def test_regression_method_array_is_a_value_error():
    with pytest.raises(ValueError, match="method must be one of"):
        dualnet.activation_patterns(X0, method=np.array([]))


@pytest.mark.parametrize("betas", [["a", "b"], [1 + 0j, 0.5], np.array(["0.5"])])
def test_regression_non_real_betas_name_the_argument(betas):
    with pytest.raises(TypeError, match="betas"):
        dualnet.fit_relu_path(X0, Y0, betas)


@pytest.mark.parametrize("depth", [2**64, 10**400])
def test_regression_huge_depth_is_a_value_error(depth):
    for function, X in [(dualnet.deep_linear, X0), (dualnet.whitened_relu, Q0)]:
        with pytest.raises(ValueError, match="depth must be <="):
            function(X, Y0[: X.shape[0]], 0.1, depth=depth)


@pytest.mark.parametrize("arg, value", [("yhat", np.array(["", "a"])), ("y", np.array(["x"] * 12)),
                                        ("yhat", np.full(12, np.nan)), ("y", np.zeros(3))])
def test_regression_feasible_dual_point_names_its_arguments(arg, value):
    function, kwargs = CALLS["feasible_dual_point"]
    with pytest.raises((TypeError, ValueError)) as info:
        function(**dict(kwargs, **{arg: value}))
    assert arg in str(info.value)


def test_regression_feasible_dual_point_names_bad_targets():
    with pytest.raises(ValueError, match="y: targets must be -1 or"):
        feasible_dual_point("hinge", np.zeros(2), np.array([0.0, 1.0]), 1.0, np.linalg.norm)


def test_regression_estimator_huge_int_is_a_value_error():
    with pytest.raises(ValueError, match="float64 range"):
        dualnet.ConvexReLURegressor().fit(10**400, Y0)


@pytest.mark.parametrize("beta", [1e-300, 5e-324])
@pytest.mark.parametrize("depth", [3, 5])
def test_regression_deep_linear_tiny_beta_is_least_squares(beta, depth):
    # the 1-D root search overflowed in its upper bracket; it now works in logs
    result = dualnet.deep_linear(X0, Y0, beta, depth=depth)
    least_squares = np.linalg.lstsq(X0, Y0, rcond=None)[0]
    np.testing.assert_allclose(result.reduced, least_squares, atol=1e-12)
    assert np.isfinite(result.primal_objective)


@pytest.mark.parametrize("formulation", ["weight_decay", "constrained"])
def test_regression_deep_linear_tiny_beta_vector_outputs(formulation):
    # the nuclear-norm certificate overflowed (scale**2) and could never reach tol: it now stops
    # at a fixed point and says so
    Y = np.c_[Y0, -Y0 + 0.3 * X0[:, 0]]
    depth = 2 if formulation == "weight_decay" else 3
    with pytest.warns(dualnet.ConvergenceWarning, match="rounding level"):
        result = dualnet.deep_linear(X0, Y, 1e-300, depth=depth, formulation=formulation)
    assert result.n_iter < 1000 and not result.converged
    np.testing.assert_allclose(result.reduced, np.linalg.lstsq(X0, Y, rcond=None)[0], atol=1e-12)
    assert np.isfinite(result.primal_objective) and 0 <= result.dual_objective