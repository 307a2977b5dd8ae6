"""The breast_cancer experiment (logistic loss): its convex optimum against cvxpy + Clarabel over
the same patterns, and every trained network and certificate on the right side of it."""

import json
import subprocess
import sys

import numpy as np
import pytest
from reference.convex_programs import solve_relu_loss

from dualnet.experiments import breast_cancer


def _logistic_objective(X, y, beta, U, a):
    margins = y * (np.maximum(X @ U, 0) @ a)
    return float(np.sum(np.logaddexp(0.0, -margins)) + 0.5 * beta * (np.sum(U * U) + a @ a))


def test_small_comparison_against_cvxpy():
    pytest.importorskip("cvxpy")
    X, y = breast_cancer.load_data()
    rows = np.random.default_rng(0).choice(len(y), 40, replace=False)
    X, y = X[rows][:, :3], y[rows]
    beta = 1.0
    result = breast_cancer.compare(X, y, beta, widths=(3, 12), runs=1, steps=300, n_gates=20,
                                   n_checkpoints=3, seed=1)
    fit = result.fit
    reference = solve_relu_loss(X, y, fit.patterns.masks, beta, loss="logistic").objective
    assert fit.relative_gap <= breast_cancer.TOL
    assert fit.primal_objective == pytest.approx(reference, rel=1e-5)
    assert fit.dual_objective <= reference * (1 + 1e-7)
    for _, trace, certificates in result.runs:
        U, a = trace.layers[0], trace.layers[1][:, 0]
        # the trained network uses patterns of the set: a feasible point, never below the optimum
        assert trace.final == pytest.approx(_logistic_objective(X, y, beta, U, a), rel=1e-12)
        assert trace.final >= reference * (1 - 1e-7)
        snapshots = dict(trace.snapshots)
        for step, objective, bound in certificates:
            layers = snapshots.get(step, trace.layers)
            assert objective == pytest.approx(
                _logistic_objective(X, y, beta, layers[0], layers[1][:, 0]), rel=1e-12)
            assert bound <= reference * (1 + 1e-7) <= objective * (1 + 1e-7)


@pytest.mark.slow
def test_reproduce_quick_breast_cancer(tmp_path):
    done = subprocess.run([sys.executable, "-m", "dualnet.cli", "reproduce", "breast_cancer",
                           "--quick", "--out", "out", "--quiet"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    rows = json.loads((tmp_path / "out" / "results.json").read_text())["rows"]
    assert rows and all(row["experiment"] == "breast_cancer" for row in rows)
    assert all(row["passed"] is not False for row in rows), rows
    optimum = rows[0]
    assert optimum["quantity"].startswith("convex optimum P_S")
    # the certified dual bound is within tol of the optimum, and no Adam run ends below it
    gap = (optimum["value"] - optimum["reference"]) / optimum["value"]
    assert 0 <= gap <= breast_cancer.TOL
    adam = [row for row in rows if ", Adam: best final objective" in row["quantity"]]
    assert len(adam) == 2
    for row in adam:
        assert optimum["value"] * (1 + row["value"]) >= optimum["reference"]
