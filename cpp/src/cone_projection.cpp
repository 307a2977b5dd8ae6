#include <dualnet/cone_projection.hpp>
#include <dualnet/row_scan.hpp>

#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

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
  Scalar worst = 0;
  for_each_row_block(*this, u, nullptr, [&](Index k0, Index rows, const Scalar* au, const Scalar*) {
    worst = max_violation(au, inverse_row_norms.data() + k0, rows, worst);
  });
  return worst / norm_u;
}

std::vector<Index> PatternCone::tight_rows(const Vector& u, Scalar tolerance) const {
  std::vector<Index> out;
  const Scalar norm_u = u.norm();
  if (!(norm_u > 0)) return out;
  for_each_row_block(*this, u, nullptr, [&](Index k0, Index rows, const Scalar* au, const Scalar*) {
    for (Index r = 0; r < rows; ++r)
      if (std::abs(au[r]) * inverse_row_norms[k0 + r] <= tolerance * norm_u) out.push_back(k0 + r);
  });
  return out;
}

PatternCone::Crossing PatternCone::first_crossing(const Vector& u, const Vector& d,
                                                  const std::vector<Index>& excluded) const {
  Crossing out;
  const Scalar d_norm = d.norm();
  if (d_norm == 0) return out;
  const Scalar moving = -1e-12 * d_norm;
  for_each_row_block(*this, u, &d, [&](Index k0, Index rows, const Scalar* au, const Scalar* ad) {
    const Scalar* inverse = inverse_row_norms.data() + k0;
    for (Index base = 0; base < rows; base += kWordBits) {
      // The rows of this word the step moves towards whose crossing can come before the best so
      // far: fl(a / c) < t implies a / c < t, so a < t c and a <= fl(t c), and t only decreases,
      // so the division-free test lets through every row the ratio test below accepts.
      Word bits = rows_crossed_before(au + base, ad + base, inverse + base,
                                      std::min(kWordBits, rows - base), moving, out.t);
      while (bits) {
        const Index r = base + __builtin_ctzll(bits);
        bits &= bits - 1;
        const Index k = k0 + r;
        const Scalar tk = std::max(Scalar{0}, au[r]) / (-ad[r]);
        if (tk < out.t && std::find(excluded.begin(), excluded.end(), k) == excluded.end()) {
          out.t = tk;
          out.row = k;
        }
      }
    }
  });
  return out;
}

namespace {

// Writes a_k (g entries) to out.
void fill_column(const PatternCone& cone, Index k, Scalar* out) {
  Eigen::Map<Vector>(out, cone.dim()) = cone.sign(k) * cone.X.row(k).transpose();
}

// Columns a_k (g, |rows|) of the passive set.
Eigen::MatrixXd passive_columns(const PatternCone& cone, const std::vector<Index>& rows) {
  Eigen::MatrixXd a(cone.dim(), static_cast<Index>(rows.size()));
  for (std::size_t j = 0; j < rows.size(); ++j)
    fill_column(cone, rows[j], a.col(static_cast<Index>(j)).data());
  return a;
}

// Features up to which the unpivoted solve works in stack storage.
constexpr Index kSmallDim = 64;

// Householder QR of columns pushed one at a time, with Q^T b kept alongside: pushing a column
// applies the reflectors so far to it (O(g m)) and makes its own, so that Lawson-Hanson, whose
// passive set grows by one row at a time and loses rows anywhere, refactors only from the first
// changed column (truncate: the first j columns' factor does not depend on the later ones);
// solve() back-substitutes R z = (Q^T b)_{0..m-1}. The small, fixed loops beat a general QR's
// per-call overhead at the sizes of the cones (g of a few to tens). Storage (storage_size
// scalars) is the caller's; column j holds the reflector v_j from row j down and R_{ij} (i < j)
// above it; with `truncatable`, also Q^T b as it was before each reflector.
class HouseholderColumns {
 public:
  static Index storage_size(Index g, bool truncatable) {
    return (truncatable ? 2 * g * g : g * g) + 3 * g;
  }
  HouseholderColumns(Index g, Scalar* storage, bool truncatable)
      : g_(g),
        w_(storage),
        qtb_(storage + g * g),
        scale_(qtb_ + g),
        diag_(scale_ + g),
        history_(truncatable ? diag_ + g : nullptr) {}

  Index size() const { return m_; }
  // Starts over: no column, right-hand side b (g entries).
  void reset(const Scalar* b) {
    m_ = 0;
    std::copy(b, b + g_, qtb_);
  }
  // Keeps the first j columns (j <= size(); a truncatable factor).
  void truncate(Index j) {
    if (j == m_) return;
    m_ = j;
    std::copy(history_ + j * g_, history_ + (j + 1) * g_, qtb_);
  }
  // The slot of the next column: fill its g entries, then push().
  Scalar* next_column() { return w_ + m_ * g_; }
  // Factors the filled column. False when there are g columns already or |R_mm| <= 1e-9 ||a_m||
  // (numerically dependent on the columns before it); the factor of the first size() columns
  // then stands as it was.
  bool push() {
    if (m_ >= g_) return false;
    Scalar* a = w_ + m_ * g_;
    const Scalar original = tail(a, 0).squaredNorm();
    for (Index j = 0; j < m_; ++j) reflect(j, a);
    const Index j = m_;
    const Scalar norm = std::sqrt(tail(a, j).squaredNorm());
    if (!(norm > 1e-9 * std::sqrt(original))) return false;
    // Reflector H = I - 2 v v^T / v^T v with v = x - alpha e_1, alpha = -sign(x_0) ||x|| (no
    // cancellation); v^T v = -2 alpha v_0.
    const Scalar alpha = a[j] >= 0 ? -norm : norm;
    a[j] -= alpha;
    scale_[j] = -1 / (alpha * a[j]);
    diag_[j] = alpha;
    ++m_;
    if (history_) std::copy(qtb_, qtb_ + g_, history_ + j * g_);
    reflect(j, qtb_);
    return true;
  }
  // z (m entries) = argmin ||A z - b||.
  // Column-oriented: z_j, then z_{0..j-1} -= z_j R_{0..j-1, j} (contiguous, vectorised).
  void solve(Scalar* z) const {
    std::copy(qtb_, qtb_ + m_, z);
    for (Index j = m_ - 1; j >= 0; --j) {
      const Scalar zj = z[j] / diag_[j];
      z[j] = zj;
      Eigen::Map<Vector>(z, j) -= zj * Eigen::Map<const Vector>(w_ + j * g_, j);
    }
  }

 private:
  // Rows j..g-1 of a column: the part the reflector j acts on (Eigen's vectorised reductions;
  // a plain loop's one chain of additions is latency-bound).
  Eigen::Map<Vector> tail(Scalar* column, Index j) const {
    return Eigen::Map<Vector>(column + j, g_ - j);
  }
  void reflect(Index j, Scalar* column) const {
    const Eigen::Map<const Vector> v(w_ + j * g_ + j, g_ - j);
    Eigen::Map<Vector> x = tail(column, j);
    x -= (scale_[j] * v.dot(x)) * v;
  }

  Index g_, m_ = 0;
  Scalar* w_;
  Scalar* qtb_;
  Scalar* scale_;
  Scalar* diag_;
  Scalar* history_;
};

// Factors the columns of `rows` from scratch; false if one of them is numerically dependent.
bool factor_rows(const PatternCone& cone, const std::vector<Index>& rows, const Scalar* rhs,
                 HouseholderColumns& factor) {
  factor.reset(rhs);
  for (Index k : rows) {
    fill_column(cone, k, factor.next_column());
    if (!factor.push()) return false;
  }
  return true;
}

// The unpivoted least-squares solve of cone_rows_least_squares (false: dependent columns).
bool unpivoted_least_squares(const PatternCone& cone, const std::vector<Index>& rows,
                             const Vector& rhs, Vector& z) {
  const Index g = cone.dim();
  Scalar stack[kSmallDim * kSmallDim + 3 * kSmallDim];
  std::vector<Scalar> heap;
  Scalar* storage = stack;
  if (g > kSmallDim) {
    heap.resize(static_cast<std::size_t>(HouseholderColumns::storage_size(g, false)));
    storage = heap.data();
  }
  HouseholderColumns factor(g, storage, false);
  if (!factor_rows(cone, rows, rhs.data(), factor)) return false;
  z.resize(factor.size());
  factor.solve(z.data());
  return true;
}

}  // namespace

Vector cone_rows_least_squares(const PatternCone& cone, const std::vector<Index>& rows,
                               const Vector& rhs, bool minimum_norm) {
  const Index g = cone.dim();
  if (rhs.size() != g)
    throw std::invalid_argument("cone_rows_least_squares: rhs has " + std::to_string(rhs.size()) +
                                " entries, the cone " + std::to_string(g) + " features");
  if (rows.empty()) return Vector();
  Vector z;
  if (static_cast<Index>(rows.size()) <= g &&
      unpivoted_least_squares(cone, rows, rhs, z))
    return z;
  const Eigen::MatrixXd a = passive_columns(cone, rows);
  // All columns zero: the pivoting QR's rank threshold, relative to the largest column, is then 0
  // and its solve divides by the zero pivot.
  if (!(a.cwiseAbs().maxCoeff() > 0)) return Vector::Zero(a.cols());
  if (minimum_norm) return Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd>(a).solve(rhs);
  return a.colPivHouseholderQr().solve(rhs);
}

Vector passive_point(const PatternCone& cone, const std::vector<Index>& rows, const Vector& mu,
                     const Vector& c) {
  Vector u = c;
  for (std::size_t j = 0; j < rows.size(); ++j)
    u += (cone.sign(rows[j]) * mu[static_cast<Index>(j)]) * cone.X.row(rows[j]).transpose();
  return u;
}

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
  // The least-squares steps argmin_z ||c + A_P^T z||, through one factor of the passive columns
  // (of the rows `factored`, in order): kept up to the first row in which `rows` differs, the
  // rest of `rows` pushed onto it (rows are appended at the end and removed in order).
  std::vector<Scalar> storage(
      static_cast<std::size_t>(HouseholderColumns::storage_size(g, true)));
  HouseholderColumns factor(g, storage.data(), true);
  const Vector minus_c = -c;
  std::vector<Index> factored;
  auto solve_passive = [&]() {
    std::size_t kept = 0;
    while (kept < factored.size() && kept < rows.size() && factored[kept] == rows[kept]) ++kept;
    if (kept == 0)
      factor.reset(minus_c.data());
    else
      factor.truncate(static_cast<Index>(kept));
    factored.resize(kept);
    for (std::size_t t = kept; t < rows.size(); ++t) {
      fill_column(cone, rows[t], factor.next_column());
      // A dependent row: the rank-revealing solve of cone_rows_least_squares.
      if (!factor.push()) return cone_rows_least_squares(cone, rows, minus_c);
      factored.push_back(rows[t]);
    }
    Vector z(factor.size());
    factor.solve(z.data());
    return z;
  };
  Vector mu;
  while (!rows.empty()) {
    mu = solve_passive();
    std::size_t kept = 0;
    for (std::size_t j = 0; j < rows.size(); ++j)
      if (mu[static_cast<Index>(j)] > 0) rows[kept++] = rows[j];
    if (kept == rows.size()) break;
    rows.resize(kept);
  }
  if (rows.empty()) mu = Vector();

  // Relative tolerance of the optimality test -a_k^T u <= tol ||x_k|| ||c||.
  const Scalar tol = 1e-12;
  Vector u = passive_point(cone, rows, mu, c);
  // Each scan also keeps the kCandidates most violated rows; after a least-squares update the
  // next entering row is sought among them first (O(kCandidates g)), and the rows are scanned
  // again only when none of them is violated any more. The final scan proves optimality.
  constexpr std::size_t kCandidates = 8;
  std::vector<std::pair<Scalar, Index>> candidates;  // (normalized violation, row), descending
  auto normalized_violation = [&](Index k) {
    return -cone.sign(k) * cone.X.row(k).dot(u) * cone.inverse_row_norms[k];
  };
  // Lawson-Hanson terminates in exact arithmetic; in floating point a row can re-enter after being
  // dropped without a scan in between (rows whose squares are subnormal did so forever). Every
  // scan offers at most kCandidates rows and each can leave the set once per entering step, so
  // this bound is far above what a solve that makes progress needs; reaching it ends the
  // projection unconverged, with the certificate of the multipliers held.
  const Index max_steps = (max_scans + 2) * static_cast<Index>(kCandidates) + 4 * g + 20;
  for (Index step = 0;; ++step) {
    if (u.norm() <= stop_below || step >= max_steps) break;
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
      // A row enters the list only above `floor`: the threshold, and once the list is full its
      // smallest violation (a row at or below it would not stay). One comparison per row, taken
      // for few rows; the list is the one that inserting every row above the threshold gives.
      Scalar floor = threshold;
      auto collect = [&](Index k0, Index rows, const Scalar* au, const Scalar*) {
        const Scalar* inverse = cone.inverse_row_norms.data() + k0;
        for (Index base = 0; base < rows; base += kWordBits) {
          Word bits =
              rows_above(au + base, inverse + base, std::min(kWordBits, rows - base), floor);
          while (bits) {
            const Index r = base + __builtin_ctzll(bits);
            bits &= bits - 1;
            const Scalar v = -au[r] * inverse[r];
            if (!(v > floor)) continue;  // the floor rose within this word
            if (candidates.size() == kCandidates) candidates.pop_back();
            const auto item = std::make_pair(v, k0 + r);
            candidates.insert(std::upper_bound(candidates.begin(), candidates.end(), item,
                                               [](const auto& a, const auto& b) {
                                                 return a.first > b.first;
                                               }),
                              item);
            if (candidates.size() == kCandidates) floor = candidates.back().first;
          }
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
      Vector z = solve_passive();
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
      Index kept = 0;
      for (std::size_t j = 0; j < rows.size(); ++j)
        if (current[static_cast<Index>(j)] > 1e-300) {
          rows[static_cast<std::size_t>(kept)] = rows[j];
          current[kept++] = current[static_cast<Index>(j)];
        }
      rows.resize(static_cast<std::size_t>(kept));
      current.conservativeResize(kept);
      if (rows.empty()) break;
    }
    if (stalled) {
      rows.pop_back();
      break;
    }
    mu.swap(current);
    u = passive_point(cone, rows, mu, c);
  }
  // The certificate is ||c + A^T mu|| for the mu actually held (nonnegative by construction):
  // u is c + A^T mu for the final rows and mu on every path out of the loop.
  out.u = std::move(u);
  out.rows = rows;
  out.multipliers = rows.empty() ? Vector() : mu;
  out.bound = out.u.norm();
  return out;
}

}  // namespace dualnet
