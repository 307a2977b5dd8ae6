"""A solve's memory is estimated before allocating; float32 data is used exactly."""

import re

import numpy as np
import pytest

import dualnet


def test_estimate_parts_match_their_closed_forms():
    e = dualnet.estimate_memory(1000, 20, 256, model="gated")
    assert e.data_bytes == 0  # float64, C-contiguous, no bias: used in place
    assert e.pattern_bytes == 256 * 16 * 8 + 256 * 20 * 8  # ceil(1000 / 64) = 16 words
    assert e.total_bytes == e.data_bytes + e.pattern_bytes + e.work_bytes + e.solver_bytes
    assert dualnet.estimate_memory(1000, 20, 256, dtype=np.float32).data_bytes == 1000 * 20 * 8
    assert dualnet.estimate_memory(1000, 20, 256, bias=True).data_bytes == 1000 * 21 * 8
    relu = dualnet.estimate_memory(1000, 20, 256, model="relu")
    assert relu.solver_bytes > e.solver_bytes  # two blocks per pattern
    # Nothing grows like n * P floats: a million rows and 1024 patterns take well under
    # what n * P doubles would (8 GiB).
    big = dualnet.estimate_memory(10**6, 50, 1024)
    assert big.total_bytes < 10**6 * 1024 * 8 / 10
    with pytest.raises(ValueError, match="n_samples must be >= 0"):
        dualnet.estimate_memory(-1, 2, 3)


def test_oversized_request_fails_before_allocating_with_the_estimate():
    # A broadcast view: 4e10 float32 entries that take no memory; the float64 copy the solver
    # would need (320 GB) is refused before it is made.
    X = np.broadcast_to(np.float32(1.0), (10**9, 40))
    y = np.broadcast_to(1.0, (10**9,))
    with pytest.raises(MemoryError) as info:
        dualnet.fit_relu(X, y, 1.0, model="gated")
    message = str(info.value)
    assert "X of shape (1000000000, 40)" in message
    estimate = dualnet.estimate_memory(10**9, 40, 0, model="gated", dtype=np.float32,
                                       c_contiguous=False)
    assert re.search(rf"needs about .*\({estimate.total_bytes} bytes\)", message)
    assert "memory budget" in message


def test_budget_is_checked_against_the_whole_solve(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = rng.standard_normal(300)
    patterns = dualnet.activation_patterns(X, method="sample", n_gates=20, random_state=0)
    need = dualnet.estimate_memory(300, 3, len(patterns), model="gated").total_bytes
    monkeypatch.setenv("DUALNET_MEMORY_BUDGET", str(need - 1))
    with pytest.raises(MemoryError, match=rf"\({need} bytes\)"):
        dualnet.fit_relu(X, y, 1.0, patterns=patterns, model="gated")
    monkeypatch.setenv("DUALNET_MEMORY_BUDGET", str(need))
    assert dualnet.fit_relu(X, y, 1.0, patterns=patterns, model="gated").converged


@pytest.mark.parametrize("model", ["gated", "relu"])
def test_float32_data_is_solved_exactly_as_given(model):
    rng = np.random.default_rng(1)
    X32 = rng.standard_normal((120, 3)).astype(np.float32)
    y32 = rng.standard_normal(120).astype(np.float32)
    patterns = dualnet.activation_patterns(X32, method="sample", n_gates=40, random_state=0)
    beta = 0.1 * dualnet.beta_max(X32, y32, patterns=patterns, model=model)
    fit32 = dualnet.fit_relu(X32, y32, beta, patterns=patterns, model=model, tol=1e-7)
    # float32 -> float64 is exact: the same program as the float64 values of the same numbers.
    X64, y64 = X32.astype(np.float64), y32.astype(np.float64)
    fit64 = dualnet.fit_relu(X64, y64, beta, patterns=patterns, model=model, tol=1e-7)
    np.testing.assert_array_equal(fit32.v, fit64.v)
    assert fit32.dual_objective == fit64.dual_objective
    # The certificate holds for the data as given, recomputed here in float64 from the float32
    # values: dual feasibility of the returned point and its objective.
    theta = fit32.dual
    assert fit32.dual_objective == pytest.approx(y64 @ theta - 0.5 * theta @ theta, rel=1e-12)
    grads = X64.T @ (patterns.masks * theta[:, None])
    if model == "gated":
        assert np.max(np.linalg.norm(grads, axis=0)) <= beta * (1 + 1e-10)
    assert fit32.relative_gap <= 1e-7
