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
    # The ReLU solve holds one length-n vector more than the gated one (the inverse row norms);
    # both polishes share the same slot and Gram-space matrices (at most 400 x 400 each).
    assert relu.work_bytes - e.work_bytes == 1000 * 8
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


# The estimate against a measurement: the peak resident memory a fit adds (Linux only, and not
# under AddressSanitizer, whose shadow memory and quarantine are not the solver's).
_PEAK_CHILD = """
import ctypes, json, sys, warnings
import numpy as np
import dualnet

model, n = sys.argv[1], int(sys.argv[2])

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))

def problem(rows, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, 10))
    y = np.maximum(X @ rng.standard_normal((10, 3)), 0).sum(axis=1) + 0.1 * rng.standard_normal(rows)
    return X, y, dualnet.activation_patterns(X, method="sample", n_gates=64, random_state=0)

warnings.simplefilter("ignore")  # the capped fits stop on max_iter by design
X, y, patterns = problem(2000, 1)  # warm-up: code paths loaded before the baseline
dualnet.fit_relu(X, y, 1.0, patterns=patterns, model=model, max_iter=20)
X, y, patterns = problem(n, 0)
beta = 0.05 * dualnet.beta_max(X, y, patterns=patterns, model="gated")
ctypes.CDLL("libc.so.6").malloc_trim(0)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak (VmHWM) to the current resident size
before = status("VmRSS")
dualnet.fit_relu(X, y, beta, patterns=patterns, model=model, tol=1e-12, max_iter=30)
print(json.dumps({"used": status("VmHWM") - before}))
"""


@pytest.mark.parametrize("model", ["gated", "relu"])
def test_estimate_bounds_the_measured_peak_of_a_fit(model):
    import json
    import pathlib
    import subprocess
    import sys

    if not pathlib.Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux's /proc to measure peak memory")
    if "libasan" in pathlib.Path("/proc/self/maps").read_text():
        pytest.skip("AddressSanitizer's memory is not the solver's")
    n = 60000
    out = subprocess.run([sys.executable, "-c", _PEAK_CHILD, model, str(n)], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    used = json.loads(out.stdout.strip().splitlines()[-1])["used"]
    estimate = dualnet.estimate_memory(n, 10, 64, model=model)
    # X and the patterns exist before the fit: the fit adds work and solver storage only.
    assert used <= estimate.work_bytes + estimate.solver_bytes
    # The length-n vectors are the bulk of it, and the bound is not loose by orders of magnitude.
    assert used >= 4 * n * 8
    assert estimate.work_bytes + estimate.solver_bytes <= 4 * used
