#include <dualnet/cone_projection.hpp>

#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace dualnet {

Vector inverse_row_norms(const MatrixCRef& X) {
  Vector out = X.rowwise().norm();
  for (Index k = 0; k < out.size(); ++k) out[k] = out[k] > 0 ? 1 / out[k] : 0;
  return out;
}

namespace {

// Negates the entries of the rows outside the pattern, branch-free: the sign bit of each double
// is flipped by the complement of the mask bit.
void apply_signs(const PatternSet& patterns, Index index, Scalar* values, Index n) {
  const Word* mask = patterns.pattern(index);
  for (Index base = 0; base < n; base += kWordBits) {
    const Word outside = ~mask[base / kWordBits];
    const Index top = std::min(kWordBits, n - base);
    for (Index b = 0; b < top; ++b) {
      std::uint64_t bits;
      std::memcpy(&bits, values + base + b, sizeof bits);
      bits ^= ((outside >> b) & 1u) << 63;
      std::memcpy(values + base + b, &bits, sizeof bits);
    }
  }
}

}  // namespace

void PatternCone::products(const Vector& u, Vector& out) const {
  out.noalias() = X * u;
  apply_signs(patterns, index, out.data(), X.rows());
}

void PatternCone::products(const Vector& u, const Vector& d, Vector& au, Vector& ad) const {
  Eigen::Matrix<Scalar, Eigen::Dynamic, 2> both(X.cols(), 2);
  both.col(0) = u;
  both.col(1) = d;
  // One pass over X for both products, by row chunks: a small (chunk, 2) buffer instead of an
  // (n, 2) temporary next to au and ad.
  const Index n = X.rows();
  constexpr Index kChunk = 4096;
  au.resize(n);
  ad.resize(n);
  Eigen::Matrix<Scalar, Eigen::Dynamic, 2> products(std::min(n, kChunk), 2);
  for (Index k0 = 0; k0 < n; k0 += kChunk) {
    const Index rows = std::min(kChunk, n - k0);
    products.topRows(rows).noalias() = X.middleRows(k0, rows) * both;
    au.segment(k0, rows) = products.col(0).head(rows);
    ad.segment(k0, rows) = products.col(1).head(rows);
  }
  apply_signs(patterns, index, au.data(), X.rows());
  apply_signs(patterns, index, ad.data(), X.rows());
}

Scalar PatternCone::relative_violation(const Vector& u) const {
  const Scalar norm_u = u.norm();
  if (norm_u == 0) return 0;
  Vector au;
  products(u, au);
  const Scalar worst = -(au.array() * inverse_row_norms.array()).minCoeff();
  return std::max(Scalar{0}, worst / norm_u);
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
  Vector au;
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
      cone.products(u, au);
      const Scalar threshold = tol * c_norm;
      for (Index k = 0; k < n; ++k) {
        const Scalar v = -au[k] * cone.inverse_row_norms[k];
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
