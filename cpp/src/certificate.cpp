#include <dualnet/certificate.hpp>

#include <Eigen/QR>

#include <algorithm>

namespace dualnet {

namespace {

// The columns a_k (g, |rows|) of the cached rows, read from X when needed (one block's cache
// keeps only its rows and the factor, not a copy of them).
Eigen::MatrixXd cached_columns(const PatternCone& cone, const std::vector<Index>& rows) {
  Eigen::MatrixXd columns(cone.dim(), static_cast<Index>(rows.size()));
  for (std::size_t j = 0; j < rows.size(); ++j)
    columns.col(static_cast<Index>(j)) = cone.sign(rows[j]) * cone.X.row(rows[j]).transpose();
  return columns;
}

void refresh_cache(const PatternCone& cone, ConeBoundCache& cache) {
  if (cache.rows.empty()) {
    cache.solve.resize(0, cone.dim());
    return;
  }
  // z = -pinv(columns) c: the least-squares multipliers of the passive rows.
  Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> decomposition(
      cached_columns(cone, cache.rows));
  cache.solve = -decomposition.pseudoInverse();
}

}  // namespace

ConeBound cone_dual_norm_bound(const PatternCone& cone, const Vector& c, Scalar threshold,
                               ConeBoundCache& cache, Index max_scans) {
  ConeBound out;
  out.bound = c.norm();
  if (out.bound <= threshold) return out;
  if (!cache.rows.empty() && cache.solve.rows() == static_cast<Index>(cache.rows.size())) {
    const Vector mu = (cache.solve * c).cwiseMax(0.0);
    out.bound = std::min(out.bound, (c + cached_columns(cone, cache.rows) * mu).norm());
    if (out.bound <= threshold) return out;
  }
  ConeProjection proj = project_onto_cone(cone, c, cache.rows, threshold, max_scans);
  out.n_scans = proj.n_scans;
  out.n_solves = 1;
  if (proj.rows != cache.rows || cache.solve.rows() != static_cast<Index>(proj.rows.size())) {
    cache.rows = proj.rows;
    refresh_cache(cone, cache);
  }
  // Every bound computed is valid; keep the smallest.
  out.bound = std::min(out.bound, proj.bound);
  return out;
}

}  // namespace dualnet
