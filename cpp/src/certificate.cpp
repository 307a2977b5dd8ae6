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

// z = -pinv(A_R) c as -pinv(A_R) (|R|, g) times c: the least-squares multipliers of the rows.
Eigen::MatrixXd least_squares_solve(const Eigen::MatrixXd& columns) {
  Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> decomposition(columns);
  return -decomposition.pseudoInverse();
}

}  // namespace

ConeBound cone_dual_norm_bound(const PatternCone& cone, const Vector& c, Scalar threshold,
                               ConeBoundCache& cache, Index max_scans) {
  ConeBound out;
  out.bound = c.norm();
  if (out.bound <= threshold) return out;
  if (!cache.rows.empty()) {
    const Eigen::MatrixXd columns = cached_columns(cone, cache.rows);
    const Vector mu = (least_squares_solve(columns) * c).cwiseMax(0.0);
    out.bound = std::min(out.bound, (c + columns * mu).norm());
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
