#include <dualnet/cone_projection.hpp>
#include <dualnet/row_scan.hpp>

#include <Eigen/QR>

#include <algorithm>
#include <cmath>

namespace dualnet {

Vector inverse_row_norms(const MatrixCRef& X) {
  Vector out = X.rowwise().norm();
  for (Index k = 0; k < out.size(); ++k) out[k] = out[k] > 0 ? 1 / out[k] : 0;
  return out;
}

namespace {

// Calls f(first_row, rows, au, ad) for consecutive row blocks, with au[r] = a_k^T u and (when
// d is given) ad[r] = a_k^T d for k = first_row + r: one pass over X through a (block, 2)
// buffer instead of length-n vectors.
template <class F>
void for_each_row_block(const PatternCone& cone, const Vector& u, const Vector* d, F&& f) {
  constexpr Index kBlock = 4096;  // a multiple of the word size
  const Index n = cone.X.rows();
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> products(std::min(n, kBlock), d ? 2 : 1);
  const Word* mask = cone.patterns.pattern(cone.index);
  for (Index k0 = 0; k0 < n; k0 += kBlock) {
    const Index rows = std::min(kBlock, n - k0);
    Scalar* au = products.col(0).data();
    Scalar* ad = d ? products.col(1).data() : nullptr;
    signed_row_products(cone.X, mask, k0, rows, u.data(), d ? d->data() : nullptr, au, ad);
    f(k0, rows, static_cast<const Scalar*>(au), static_cast<const Scalar*>(ad));
  }
}

}  // namespace

Scalar PatternCone::relative_violation(const Vector& u) const {
  const Scalar norm_u = u.norm();
  if (norm_u == 0) return 0;
  // Four running maxima (rows r = j mod 4) instead of one chain of dependent max operations;
  // the maximum does not depend on the order, so neither does the result.
  Scalar worst[4] = {0, 0, 0, 0};
  for_each_row_block(*this, u, nullptr, [&](Index k0, Index rows, const Scalar* au, const Scalar*) {
    const Scalar* inverse = inverse_row_norms.data() + k0;
    Index r = 0;
    for (; r + 4 <= rows; r += 4)
      for (int j = 0; j < 4; ++j) worst[j] = std::max(worst[j], -au[r + j] * inverse[r + j]);
    for (; r < rows; ++r) worst[0] = std::max(worst[0], -au[r] * inverse[r]);
  });
  return std::max(std::max(worst[0], worst[1]), std::max(worst[2], worst[3])) / norm_u;
}

PatternCone::Crossing PatternCone::first_crossing(const Vector& u, const Vector& d,
                                                  const std::vector<Index>& excluded) const {
  Crossing out;
  const Scalar d_norm = d.norm();
  if (d_norm == 0) return out;
  const Scalar moving = -1e-12 * d_norm;
  for_each_row_block(*this, u, &d, [&](Index k0, Index rows, const Scalar* au, const Scalar* ad) {
    for (Index r = 0; r < rows; ++r) {
      const Index k = k0 + r;
      // One rarely taken branch per row: rows the step moves towards whose crossing can come
      // before the best so far. fl(a / c) < t implies a / c < t, so a < t c and a <= fl(t c):
      // the division-free test lets through every row the ratio test below accepts.
      const Scalar a = std::max(Scalar{0}, au[r]), c = -ad[r];
      if (!((ad[r] * inverse_row_norms[k] < moving) & (a <= out.t * c))) continue;
      const Scalar tk = a / c;
      if (tk < out.t && std::find(excluded.begin(), excluded.end(), k) == excluded.end()) {
        out.t = tk;
        out.row = k;
      }
    }
  });
  return out;
}

namespace {

// Columns a_k (g, |rows|) of the passive set.
Eigen::MatrixXd passive_columns(const PatternCone& cone, const std::vector<Index>& rows) {
  Eigen::MatrixXd a(cone.dim(), static_cast<Index>(rows.size()));
  for (std::size_t j = 0; j < rows.size(); ++j)
    a.col(static_cast<Index>(j)) = cone.sign(rows[j]) * cone.X.row(rows[j]).transpose();
  return a;
}

// argmin_z ||c + A_P^T z|| (the unconstrained least-squares step of Lawson-Hanson).
Vector least_squares(const Eigen::MatrixXd& a, const Vector& c) {
  if (a.cols() == 0) return Vector();
  return a.colPivHouseholderQr().solve(-c);
}

}  // namespace

ConeProjection project_onto_cone(const PatternCone& cone, const Vector& c,
                                 const std::vector<Index>& warm_rows, Scalar stop_below,
                                 Index max_scans) {
  const Index g = cone.dim(), n = cone.n_rows();
  if (max_scans < 0) max_scans = 4 * g + 20;
  ConeProjection out;
  const Scalar c_norm = c.norm();
  if (c_norm == 0) {
    out.u = Vector::Zero(g);
    out.multipliers = Vector();
    out.converged = true;
    return out;
  }

  // Warm start: keep the warm rows whose least-squares multipliers are positive (dropping the
  // others and re-solving), which is a valid Lawson-Hanson state (mu_P > 0, mu elsewhere 0).
  std::vector<Index> rows;
  for (Index k : warm_rows)
    if (k >= 0 && k < n && std::find(rows.begin(), rows.end(), k) == rows.end() &&
        static_cast<Index>(rows.size()) < g)
      rows.push_back(k);
  Vector mu;
  while (!rows.empty()) {
    mu = least_squares(passive_columns(cone, rows), c);
    std::vector<Index> kept;
    for (std::size_t j = 0; j < rows.size(); ++j)
      if (mu[static_cast<Index>(j)] > 0) kept.push_back(rows[j]);
    if (kept.size() == rows.size()) break;
    rows.swap(kept);
  }
  if (rows.empty()) mu = Vector();

  // Relative tolerance of the optimality test -a_k^T u <= tol ||x_k|| ||c||.
  const Scalar tol = 1e-12;
  Eigen::MatrixXd a = passive_columns(cone, rows);
  Vector u = c + a * mu;
  // Each scan also keeps the kCandidates most violated rows; after a least-squares update the
  // next entering row is sought among them first (O(kCandidates g)), and the rows are scanned
  // again only when none of them is violated any more. The final scan proves optimality.
  constexpr std::size_t kCandidates = 8;
  std::vector<std::pair<Scalar, Index>> candidates;  // (normalized violation, row), descending
  auto normalized_violation = [&](Index k) {
    return -cone.sign(k) * cone.X.row(k).dot(u) * cone.inverse_row_norms[k];
  };
  for (;;) {
    if (u.norm() <= stop_below) break;
    Index entering = -1;
    Scalar best = tol * c_norm;
    for (const auto& candidate : candidates) {
      const Index k = candidate.second;
      if (std::find(rows.begin(), rows.end(), k) != rows.end()) continue;
      const Scalar v = normalized_violation(k);
      if (v > best) {
        best = v;
        entering = k;
      }
    }
    if (entering < 0) {
      if (out.n_scans >= max_scans) break;
      ++out.n_scans;
      candidates.clear();
      const Scalar threshold = tol * c_norm;
      auto collect = [&](Index k0, Index rows, const Scalar* au, const Scalar*) {
        for (Index r = 0; r < rows; ++r) {
          const Index k = k0 + r;
          const Scalar v = -au[r] * cone.inverse_row_norms[k];
          if (!(v > threshold)) continue;
          if (candidates.size() == kCandidates && v <= candidates.back().first) continue;
          if (candidates.size() == kCandidates) candidates.pop_back();
          const auto item = std::make_pair(v, k);
          candidates.insert(std::upper_bound(candidates.begin(), candidates.end(), item,
                                             [](const auto& a, const auto& b) {
                                               return a.first > b.first;
                                             }),
                            item);
        }
      };
      for_each_row_block(cone, u, nullptr, collect);
      if (candidates.empty()) {
        out.converged = true;
        break;
      }
      entering = candidates.front().second;
    }
    if (std::find(rows.begin(), rows.end(), entering) != rows.end()) break;  // round-off stall
    rows.push_back(entering);
    Vector current(static_cast<Index>(rows.size()));
    current.head(current.size() - 1) = mu;
    current[current.size() - 1] = 0;
    // Inner loop: move from `current` (feasible) towards the least-squares point z, stopping at
    // the first multiplier that reaches zero, and drop it (Lawson-Hanson steps 6-11).
    bool stalled = false;
    for (Index inner = 0; inner < 4 * g + 10; ++inner) {
      a = passive_columns(cone, rows);
      Vector z = least_squares(a, c);
      if (inner == 0 && z[z.size() - 1] <= 0) {  // the entering row cannot help: round-off
        stalled = true;
        break;
      }
      if ((z.array() > 0).all()) {
        current = z;
        break;
      }
      Scalar alpha = 1;
      for (Index j = 0; j < z.size(); ++j)
        if (z[j] <= 0) alpha = std::min(alpha, current[j] / (current[j] - z[j]));
      current += alpha * (z - current);
      std::vector<Index> kept;
      std::vector<Scalar> kept_mu;
      for (std::size_t j = 0; j < rows.size(); ++j)
        if (current[static_cast<Index>(j)] > 1e-300) {
          kept.push_back(rows[j]);
          kept_mu.push_back(current[static_cast<Index>(j)]);
        }
      rows.swap(kept);
      current = Eigen::Map<Vector>(kept_mu.data(), static_cast<Index>(kept_mu.size()));
      if (rows.empty()) break;
    }
    if (stalled) {
      rows.pop_back();
      break;
    }
    mu = current;
    a = passive_columns(cone, rows);
    u = c + a * mu;
  }
  // The certificate is ||c + A^T mu|| for the mu actually held (nonnegative by construction).
  a = passive_columns(cone, rows);
  out.u = rows.empty() ? c : Vector(c + a * mu);
  out.rows = rows;
  out.multipliers = rows.empty() ? Vector() : mu;
  out.bound = out.u.norm();
  return out;
}

}  // namespace dualnet
