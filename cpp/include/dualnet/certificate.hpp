// The certified dual point and duality gap (docs/theory.md, section 7).
//
// Dual of both programs: max_theta theta^T y - 1/2||theta||^2 subject to, for every block,
//   gated: ||X^T D_i theta|| <= beta;
//   ReLU:  max_{u in K_i, ||u|| <= 1} +-theta^T D_i X u <= beta.
// Given the residual r = y - yhat and an upper bound B_j of each block's dual norm at r, the point
// theta = r / max(1, max_j B_j / beta) is feasible (dual norms are positively homogeneous), so
// P(u) - D(theta) is a certified gap. The bounds are taken over ALL blocks of the pattern set.
#pragma once

#include <dualnet/cone_projection.hpp>
#include <dualnet/types.hpp>

#include <vector>

namespace dualnet {

// theta^T y - 1/2 ||theta||^2
inline Scalar dual_objective_value(const Vector& theta, const VectorCRef& y) {
  return theta.dot(y) - 0.5 * theta.squaredNorm();
}

// Rescaling factor max(1, max_bound / beta) that makes r / factor dual feasible. The bounds are
// computed in floating point; the relative margin 1e-12 keeps the point feasible when the same
// norms are recomputed by another summation order (a change of the dual objective far below any
// tolerance the solver accepts).
inline Scalar dual_scaling(Scalar max_bound, Scalar beta) {
  const Scalar padded = max_bound * (1 + 1e-12);
  return padded > beta ? padded / beta : Scalar{1};
}

// Per-block memory of the cone bound between certificates: the passive rows R of the last
// projection, so that the next certificate first tries mu = max(0, argmin_z ||c + A_R^T z||)
// (any mu >= 0 certifies) at O(g |R|^2) cost, and projects only when that bound is above the
// threshold. Only the row indices are kept (the columns A_R are read from X and their
// least-squares factor is formed when tried): with 2P blocks, a stored (|R|, g) factor per
// block would cost about as much as a length-n vector.
struct ConeBoundCache {
  std::vector<Index> rows;
};

// Certified upper bound on max_{u in K, ||u|| <= 1} c^T u: ||c|| (mu = 0) when that is already at
// most `threshold`, then the cached rows' bound, otherwise the Lawson-Hanson bound
// ||c + A^T mu||, warm-started from and updating the cache, stopped as soon as it is at most
// `threshold` or after `max_scans` passes over the rows (the bound is valid at every iterate; a
// later call resumes from the cached rows). n_scans counts the passes, n_solves the projections.
struct ConeBound {
  Scalar bound = 0;
  Index n_scans = 0;
  Index n_solves = 0;
};
ConeBound cone_dual_norm_bound(const PatternCone& cone, const Vector& c, Scalar threshold,
                               ConeBoundCache& cache, Index max_scans);

}  // namespace dualnet
