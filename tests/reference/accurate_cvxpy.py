"""Solve a cvxpy problem with Clarabel at the tightest tolerance it reports as accurate."""

from __future__ import annotations

import warnings

__all__ = ["solve_accurately"]


def solve_accurately(problem) -> float:
    """Try gap/feasibility tolerances 1e-10, 1e-9, 1e-8; cvxpy warns when a solve is inaccurate."""
    for tol in (1e-10, 1e-9, 1e-8):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                problem.solve(
                    solver="CLARABEL",
                    tol_gap_abs=tol,
                    tol_gap_rel=tol,
                    tol_feas=tol,
                    tol_ktratio=1e-8,
                )
                return problem.value
            except UserWarning:
                continue
    raise AssertionError("the cvxpy reference did not solve accurately")
