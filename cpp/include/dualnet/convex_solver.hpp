// The convex solver of two-layer ReLU networks over a pattern set (docs/theory.md, section 7):
// cyclic block coordinate descent with exact block minimisation, carrying the residual as the
// dual iterate (dual coordinate ascent), on a growing working set of blocks, stopped by a
// certified duality gap computed over all blocks.
//
// Blocks: gated program, one block u_i per pattern; ReLU program, 2P blocks v_1..v_P, w_1..w_P
// with prediction D_i X v_i and -D_i X w_i. Working set: starts with the nonzero blocks and the
// most violating ones (largest dual norm bound / beta), is solved until its own gap is below 0.3
// of the full gap, then grows by up to its size with the most violating blocks (celer's strategy,
// Massias, Gramfort & Salmon, ICML 2018). Every K + 1 = 9 epochs, Anderson acceleration of the
// primal iterates (accepted only if it lowers the objective; ReLU blocks projected back onto
// their cones) and dual extrapolation of the residuals of those epochs; the extrapolated point
// is certified right away (late in a solve it is what closes the gap). On the same cadence, once
// the epochs since the last one cost half as much as it did, a Newton polish on the support of
// the iterate (dense for small problems; otherwise conjugate gradients with matrix-free Hessian
// products and the block-diagonal Hessian as preconditioner; blocks whose minimiser is 0 leave
// the support first; ReLU: an active-set Newton method on the cones' faces, each step stopped
// at the first row a block would cross, which then joins the block's tight rows, and tight rows
// with negative multipliers released once the steps stop); a polish that moved the iterate is
// certified right away. ReLU: an epoch that changes nothing is certified at once; a block held
// on a face of its cone by a positive multiplier moves to the pattern across that face when the
// set has it (same predictions, no larger penalty), which then crosses it (face transfer). A full certificate costs
// one pass computing every X^T D_i r (a GEMM) plus warm-started cone bounds (ReLU); it also runs
// once the epochs since the last one cost twice as much, or when the working set stalls.
// The returned objective and gap are recomputed from a fresh residual of the returned blocks.
#pragma once

#include <dualnet/convex_solution.hpp>
#include <dualnet/interrupt.hpp>
#include <dualnet/pattern_set.hpp>
#include <dualnet/solver_settings.hpp>
#include <dualnet/types.hpp>

namespace dualnet {

// Throws std::invalid_argument naming the argument and the shapes on inconsistent input.
// v0 / w0 may be null (no warm start); otherwise (g, P).
void validate_convex_problem(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns,
                             Scalar beta, const SolverSettings& settings, const Matrix* v0,
                             const Matrix* w0);

// Solves the program; never throws on non-convergence (status max_iter). Warm starts: gated uses
// v0 - w0; ReLU projects v0 and w0 onto the cones first.
ConvexSolution solve_convex(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns,
                            Scalar beta, const SolverSettings& settings,
                            const Matrix* v0 = nullptr, const Matrix* w0 = nullptr,
                            InterruptCheck* interrupt = nullptr);

// Smallest beta at which 0 is optimal: max_i ||X^T D_i y|| (gated) or
// max_i max(||Proj_{K_i}(X^T D_i y)||, ||Proj_{K_i}(-X^T D_i y)||) (ReLU).
Scalar beta_max(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns,
                ConvexProgram program);

}  // namespace dualnet
