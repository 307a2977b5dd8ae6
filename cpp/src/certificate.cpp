#include <dualnet/certificate.hpp>

#include <algorithm>

namespace dualnet {

ConeBound cone_dual_norm_bound(const PatternCone& cone, const Vector& c, Scalar threshold,
                               ConeBoundCache& cache, Index max_scans) {
  ConeBound out;
  out.bound = c.norm();
  if (out.bound <= threshold) return out;
  if (!cache.rows.empty()) {
    // The minimum-norm least-squares multipliers (-pinv(A_R) c), clipped at 0.
    const Vector mu = cone_rows_least_squares(cone, cache.rows, -c, true).cwiseMax(0.0);
    out.bound = std::min(out.bound, passive_point(cone, cache.rows, mu, c).norm());
    if (out.bound <= threshold) return out;
  }
  ConeProjection proj = project_onto_cone(cone, c, cache.rows, threshold, max_scans);
  out.n_scans = proj.n_scans;
  out.n_solves = 1;
  cache.rows = proj.rows;
  // Every bound computed is valid; keep the smallest.
  out.bound = std::min(out.bound, proj.bound);
  return out;
}

}  // namespace dualnet
