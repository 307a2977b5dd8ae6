// What the convex solver returns: the primal blocks, the certified dual point and the gap.
#pragma once

#include <dualnet/types.hpp>

#include <string>

namespace dualnet {

// stalled: the loss solver stopped before tol because no step decreased the objective even
// with its subproblems solved as accurately as they get (solve_convex never reports it).
enum class SolverStatus { converged, max_iter, stalled };

inline const char* status_name(SolverStatus status) {
  if (status == SolverStatus::stalled) return "stalled";
  return status == SolverStatus::converged ? "converged" : "max_iter";
}

struct ConvexSolution {
  // Blocks as columns, shape (g, P): prediction sum_i D_i X (v_i - w_i). Gated: w == 0.
  Matrix v;
  Matrix w;
  // Objective of the returned v, w (recomputed from scratch, not tracked along the iterations).
  Scalar primal_objective = 0;
  // theta^T y - 1/2||theta||^2 of the returned dual-feasible point `dual`.
  Scalar dual_objective = 0;
  Scalar duality_gap = 0;
  Scalar relative_gap = 0;  // duality_gap / max(primal_objective, tiny)
  bool converged = false;
  SolverStatus status = SolverStatus::max_iter;
  Index n_iter = 0;  // epochs over the working set
  Vector dual;       // (n,) certified dual-feasible point
  // ReLU: max over blocks of max_k (-(2D_i - I) X u)_k / (max_k ||x_k|| * ||u||); 0 for gated.
  Scalar max_cone_violation = 0;
  Index n_active = 0;  // patterns with a nonzero v_i or w_i
  // (2, P): row 0 the v blocks, row 1 the w blocks that Gap Safe screening proved zero at every
  // optimum; row 1 is all false for the gated program.
  Eigen::Array<bool, 2, Eigen::Dynamic> screened;
};

}  // namespace dualnet
