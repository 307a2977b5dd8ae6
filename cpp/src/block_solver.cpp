#include <dualnet/block_solver.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include <algorithm>
#include <cmath>

namespace dualnet {

BlockGram make_block_gram(Matrix gram) {
  BlockGram out;
  out.gram = std::move(gram);
  const Index g = out.gram.rows();
  if (g == 0) return out;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(Eigen::MatrixXd(out.gram));
  out.vectors = eig.eigenvectors();
  out.values = eig.eigenvalues().cwiseMax(0.0);
  out.max_value = out.values.maxCoeff();
  return out;
}

Vector group_block_minimizer(const Matrix& vectors, const Vector& values, const Vector& b,
                             Scalar beta) {
  const Index g = b.size();
  Vector u = Vector::Zero(g);
  if (g == 0 || values.size() == 0) return u;
  const Scalar l_max = values.maxCoeff();
  if (!(l_max > 0)) return u;  // Q = 0: b = X^T D_i r + Q u_old lies in range(Q) = {0}
  Vector c = vectors.transpose() * b;
  // b lies in range(Q) in exact arithmetic (b = X^T D_i r + Q u_old); components along
  // numerically null eigenvectors are round-off and would make the secular equation rootless.
  const Scalar null_level = 1e-12 * l_max;
  for (Index k = 0; k < g; ++k)
    if (values[k] <= null_level) c[k] = 0;
  const Scalar c_norm = c.norm();
  if (c_norm <= beta) return u;
  // Newton on F(h) - 1, F(h) = ||c_k / (l_k h + beta)||, convex decreasing: from the lower bound
  // below it increases monotonically to the root.
  Scalar h = (c_norm - beta) / l_max;
  for (int it = 0; it < 200; ++it) {
    Scalar s = 0, ds = 0;
    for (Index k = 0; k < g; ++k) {
      if (c[k] == 0) continue;
      const Scalar den = values[k] * h + beta;
      const Scalar t = c[k] / den;
      s += t * t;
      ds += values[k] * t * t / den;
    }
    const Scalar f = std::sqrt(s);
    if (f <= 1) break;
    const Scalar slope = ds / f;  // -F'(h)
    if (!(slope > 0)) break;
    const Scalar step = (f - 1) / slope;
    h += step;
    if (step <= 1e-15 * h) break;
  }
  for (Index k = 0; k < g; ++k) c[k] = c[k] * h / (values[k] * h + beta);
  u.noalias() = vectors * c;
  return u;
}

Index cone_block_minimizer(const PatternCone& cone, const BlockGram& q, const Vector& b,
                           Scalar beta, Vector& u, ConeBlockState& state) {
  const Index g = cone.dim();
  std::vector<Index>& working = state.working_rows;
  Index scans = 0;
  if (u.norm() == 0) working.clear();
  const Scalar scale = b.norm() + beta;
  const int max_iterations = static_cast<int>(4 * g + 20);
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    if (u.norm() == 0) {
      working.clear();
      if (b.norm() <= beta) return scans;
      // 0 is optimal iff ||Proj_K(b)|| <= beta; the early stop keeps the certified bound only.
      ConeProjection proj = project_onto_cone(cone, b, state.projection_rows, beta);
      scans += proj.n_scans;
      state.projection_rows = proj.rows;
      if (proj.bound <= beta || !proj.converged) return scans;
      const Vector& p = proj.u;
      const Scalar p_quad = p.dot(q.gram * p);
      const Scalar slope = b.dot(p) - beta * p.norm();
      if (!(slope > 0) || !(p_quad > 0)) return scans;
      u = (slope / p_quad) * p;  // exact line step along the descent ray p
      working = proj.rows;
      continue;
    }
    // Restricted minimiser over the null space of the working rows.
    const Index m = static_cast<Index>(working.size());
    Eigen::MatrixXd a_w(g, m);
    for (Index j = 0; j < m; ++j)
      a_w.col(j) = cone.sign(working[static_cast<std::size_t>(j)]) *
                   cone.X.row(working[static_cast<std::size_t>(j)]).transpose();
    Vector target;
    if (m == 0) {
      target = group_block_minimizer(q.vectors, q.values, b, beta);
    } else if (m >= g) {
      target = Vector::Zero(g);
    } else {
      // z: the last g - m columns of Q (A_W = QR), an orthonormal basis of the null space of
      // A_W^T, formed as Q [0; I] without the first m columns of Q.
      Eigen::HouseholderQR<Eigen::MatrixXd> qr(a_w);
      Eigen::MatrixXd z = Eigen::MatrixXd::Zero(g, g - m);
      z.bottomRows(g - m).setIdentity();
      z.applyOnTheLeft(qr.householderQ());
      const Eigen::MatrixXd qz = z.transpose() * q.gram * z;
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(qz);
      const Matrix vectors = eig.eigenvectors();
      const Vector values = eig.eigenvalues().cwiseMax(0.0);
      const Vector bz = z.transpose() * b;
      target = z * group_block_minimizer(vectors, values, bz, beta);
    }
    const Vector d = target - u;
    const Scalar d_norm = d.norm();
    if (d_norm > 1e-15 * std::max(u.norm(), target.norm())) {
      // Ratio test: the first row the step would cross (rows the step runs parallel to have
      // |a_k^T d| at round-off level and do not block).
      ++scans;
      // Rows of W are tight by construction; when d is tiny against u, their round-off
      // a_k^T d can pass the direction test, so they are excluded by name.
      const PatternCone::Crossing crossing = cone.first_crossing(u, d, working);
      if (crossing.row >= 0) {
        u += crossing.t * d;
        working.push_back(crossing.row);
        continue;
      }
      u = target;
    }
    if (u.norm() == 0) continue;  // the restricted minimiser is 0: decide at 0 above
    if (m == 0) return scans;     // unconstrained minimiser, feasible
    // Multipliers of the working rows: A_W mu = grad f(u); a negative one leaves W.
    const Vector grad = q.gram * u - b + (beta / u.norm()) * u;
    const Vector mu = cone_rows_least_squares(cone, working, grad);
    Index leaving = -1;
    Scalar most_negative = -1e-12 * scale;
    for (Index j = 0; j < m; ++j) {
      const Scalar scaled = mu[j] * a_w.col(j).norm();
      if (scaled < most_negative) {
        most_negative = scaled;
        leaving = j;
      }
    }
    if (leaving < 0) return scans;
    working.erase(working.begin() + leaving);
  }
  return scans;
}

}  // namespace dualnet
