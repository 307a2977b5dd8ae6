// Settings of the convex solver (docs/theory.md, section 7): which program, when to stop.
#pragma once

#include <dualnet/types.hpp>

namespace dualnet {

// The two convex programs over a pattern set.
//   Gated: min_u 1/2||sum_i D_i X u_i - y||^2 + beta sum_i ||u_i||   (group lasso, no constraints).
//   ReLU:  the same over u_i = v_i - w_i with v_i, w_i in K_i = {u : (2 D_i - I) X u >= 0} and the
//          penalty beta sum_i (||v_i|| + ||w_i||); exact for a complete pattern set.
enum class ConvexProgram { gated, relu };

struct SolverSettings {
  ConvexProgram program = ConvexProgram::relu;
  // Stop once the certified relative duality gap (primal - dual) / primal is at most tol.
  Scalar tol = 1e-6;
  // Budget in epochs (one epoch = one pass of block updates over the working set).
  Index max_iter = 10000;
  // Print one line per certificate to stderr.
  bool verbose = false;
  // Threads of the all-blocks gradient pass (0: one per core); results do not depend on it.
  Index n_threads = 0;
};

}  // namespace dualnet
