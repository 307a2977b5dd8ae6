// The convex programs of section 7 (docs/theory.md) under the classification losses of section 6,
// with a certified duality gap for the true loss.
//
// Binary losses (logistic, hinge), gated or ReLU program: a proximal Newton method (Lee, Sun &
// Saunders, SIAM J. Optim. 2014) around the squared-loss solver. At the prediction z_k the
// quadratic model of the loss, with curvature h > 0 and gradient g, makes the subproblem
//     min 1/2 ||H^{1/2} (sum_i D_i X (v_i - w_i) - t)||^2 + beta sum_i (||v_i|| + ||w_i||),
//     t = z_k - g / h,
// which is the squared-loss program on X' = diag(sqrt h) X, y' = sqrt(h) t with the SAME patterns:
// D_i commutes with the diagonal scaling, and the cones (2 D_i - I) X u >= 0 are unchanged for
// h > 0. It is solved by solve_convex, warm-started at the current blocks, to a tolerance tied to
// the outer gap within an epoch budget (200 at first, quadrupled after a step that fails to
// decrease the objective, up to max_inner_iter); a backtracking line search on the true objective along the segment to its
// solution (which stays in the cones) keeps the iterates monotone. The curvature is floored at
// c |g| (the model then moves a sample's prediction by at most 1 / c), at 1e-12 of its largest
// value and at 1e-100, so every row keeps its direction; c works like a trust region: 1e-2 at
// first, divided by 4 after a full step and multiplied by 4 after a backtracked one, within
// [1e-8, 1e-2] ([1e-3, 1e-2] for the hinge: its rows off the margin band have no curvature, and
// a smaller c makes the subproblem's objective so large that its relative tolerance cannot
// resolve the step).
// Hinge: an augmented Lagrangian method in the margins t = y z (Rockafellar, Math. Oper. Res.
// 1976). The steps minimise the envelope sum_k min_s [(1 - s)_+ - q_k (t_k - s) +
// (t_k - s)^2 / (2 mu)] + beta * penalty at multipliers q in [0, 1] (loss_functions.hpp), a
// piecewise quadratic below the hinge; once that problem's own certified gap (its dual is the
// hinge's minus (mu / 2) ||p - q||^2) is below a tenth of the true one, q moves to the
// envelope's p = clip(q + (1 - t) / mu, 0, 1), a proximal point step on the dual, and mu is
// divided by 4 (down to 0.03) when the certified gap did not halve since the previous move. The
// iterates' hinge objective is not monotone across moves: the lowest one is returned. The
// reported objective and certificate are those of the true hinge. Its multipliers on the
// margin set (y z = 1) are not a gradient: they are also taken from the stationarity of the
// nonzero blocks by least squares on the samples within 1e-3, 1e-6 and 1e-9 of the margin,
// clipped into [0, 1] and certified like the other candidates.
//
// Cross-entropy, gated program with one nuclear norm per block,
//     min_{V_i} CE(sum_i D_i X V_i, Y) + beta sum_i ||V_i||_*    (V_i of shape (g, K)),
// by block coordinate proximal gradient (Tseng & Yun, Math. Program. 2009): the softmax Hessian of
// each row is at most 1/2 I, so L_i = lambda_max(X^T D_i X) / 2 bounds block i's curvature and
// V_i <- SVT_{beta / L_i}(V_i - X^T D_i (softmax(Z) - Y) / L_i) (singular values shrunk by
// beta / L_i) decreases the objective; a block is stepped until it stops moving, on a working set
// of the nonzero and the violating blocks.
//
// Certificate (all losses): lambda = -grad L at the current predictions, divided by
// s = max(1, max_i B_i / beta) with B_i an upper bound of block i's dual norm (gated: ||X^T D_i
// lambda||, spectral norm for matrices; ReLU: the cone bound of certificate.hpp); the boxes and
// the simplex of the conjugates' domains contain 0 (resp. are convex combinations with Y), so the
// rescaled point stays in the domain and -L*(-lambda / s) is a certified lower bound.
// Binary losses also certify, after every subproblem, the subproblem's own certified dual point
// theta' mapped back (lambda = sqrt(h) theta': X'^T D_i theta' = X^T D_i lambda, same cones),
// rescaled the same way and moved towards the gradient point until p = y lambda is in [0, 1]
// (a segment between two dual-feasible points); the best certified point is kept. -grad L(z)
// lags the optimum by the prediction error, so on its own it closes relative gaps near 1e-8
// only once the objective is exact to round-off (where the line search can no longer accept a
// step); the mapped point is a Newton step ahead.
#pragma once

#include <dualnet/convex_solution.hpp>
#include <dualnet/interrupt.hpp>
#include <dualnet/loss_functions.hpp>
#include <dualnet/pattern_set.hpp>
#include <dualnet/solver_settings.hpp>
#include <dualnet/types.hpp>

namespace dualnet {

struct LossSettings {
  LossKind loss = LossKind::logistic;
  ConvexProgram program = ConvexProgram::relu;  // cross-entropy: gated only
  Scalar tol = 1e-6;       // stop once the certified relative gap is at most tol
  Index max_iter = 500;    // outer iterations (Newton steps and hinge multiplier moves;
                           // cross-entropy: epochs)
  Index max_inner_iter = 10000;  // epochs of each squared-loss subproblem
  // Hinge: the first step mu of the augmented Lagrangian (its envelope has curvature 1 / mu).
  Scalar hinge_step = 1;
  bool verbose = false;
};

struct LossSolution {
  // Binary losses: blocks (g, P) as in ConvexSolution. Cross-entropy: v is (g, P * K) with block
  // V_i in columns i K .. i K + K - 1, w is zero of the same shape.
  Matrix v;
  Matrix w;
  Scalar primal_objective = 0;  // true loss + beta * penalty at (v, w), recomputed
  Scalar dual_objective = 0;    // -L*(-dual) of the certified point
  Scalar duality_gap = 0;
  Scalar relative_gap = 0;
  bool converged = false;
  // converged; max_iter (outer iterations exhausted); stalled (binary losses: no step decreased
  // the objective with the subproblems at their finest tolerance and largest budget, the
  // certificate still above tol)
  SolverStatus status = SolverStatus::max_iter;
  Index n_iter = 0;        // outer iterations
  Index n_inner_iter = 0;  // epochs of the subproblems (binary losses)
  Matrix dual;             // (n, K), K = 1 for binary losses: the certified dual point
  Scalar max_cone_violation = 0;
  Index n_active = 0;
};

// y in {-1, +1}^n; settings.loss logistic or hinge. v0 / w0: optional warm start (g, P).
// multipliers0 (hinge, optional, (n,)): the augmented Lagrangian's starting q, clipped into
// [0, 1]; p = y * dual of an earlier solve on the same samples starts it near the optimum.
LossSolution solve_binary_loss(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns,
                               Scalar beta, const LossSettings& settings,
                               const Matrix* v0 = nullptr, const Matrix* w0 = nullptr,
                               const Vector* multipliers0 = nullptr,
                               InterruptCheck* interrupt = nullptr);

// Y one-hot (n, K), K >= 2; gated program. v0: optional warm start (g, P * K).
LossSolution solve_cross_entropy_gated(const MatrixCRef& X, const MatrixCRef& Y,
                                       const PatternSet& patterns, Scalar beta,
                                       const LossSettings& settings, const Matrix* v0 = nullptr,
                                       InterruptCheck* interrupt = nullptr);

}  // namespace dualnet
