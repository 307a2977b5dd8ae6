#include <dualnet/certificate.hpp>

#include <Eigen/QR>

#include <algorithm>

namespace dualnet {

namespace {

void refresh_cache(const PatternCone& cone, ConeBoundCache& cache) {
  const Index g = cone.dim(), m = static_cast<Index>(cache.rows.size());
  cache.columns.resize(g, m);
  for (Index j = 0; j < m; ++j) {
    const Index k = cache.rows[static_cast<std::size_t>(j)];
    cache.columns.col(j) = cone.sign(k) * cone.X.row(k).transpose();
  }
  if (m == 0) {
    cache.solve.resize(0, g);
    return;
  }
  // z = -pinv(columns) c: the least-squares multipliers of the passive rows.
  Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> decomposition(cache.columns);
  cache.solve = -decomposition.pseudoInverse();
}

}  // namespace

ConeBound cone_dual_norm_bound(const PatternCone& cone, const Vector& c, Scalar threshold,
                               ConeBoundCache& cache, Index max_scans) {
  ConeBound out;
  out.bound = c.norm();
  if (out.bound <= threshold) return out;
  if (!cache.rows.empty() && cache.columns.cols() == static_cast<Index>(cache.rows.size())) {
    const Vector mu = (cache.solve * c).cwiseMax(0.0);
    out.bound = std::min(out.bound, (c + cache.columns * mu).norm());
    if (out.bound <= threshold) return out;
  }
  ConeProjection proj = project_onto_cone(cone, c, cache.rows, threshold, max_scans);
  out.n_scans = proj.n_scans;
  out.n_solves = 1;
  if (proj.rows != cache.rows || cache.columns.cols() != static_cast<Index>(proj.rows.size())) {
    cache.rows = proj.rows;
    refresh_cache(cone, cache);
  }
  // Every bound computed is valid; keep the smallest.
  out.bound = std::min(out.bound, proj.bound);
  return out;
}

}  // namespace dualnet
