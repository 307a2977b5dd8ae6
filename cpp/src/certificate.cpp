#include <dualnet/certificate.hpp>

namespace dualnet {

ConeBound cone_dual_norm_bound(const PatternCone& cone, const Vector& c, Scalar threshold,
                               std::vector<Index>& rows, Index max_scans) {
  ConeBound out;
  out.bound = c.norm();
  if (out.bound <= threshold) return out;
  ConeProjection proj = project_onto_cone(cone, c, rows, threshold, max_scans);
  rows = proj.rows;
  out.n_scans = proj.n_scans;
  // Both ||c|| and the projection bound are valid; keep the smaller.
  out.bound = std::min(out.bound, proj.bound);
  return out;
}

}  // namespace dualnet
