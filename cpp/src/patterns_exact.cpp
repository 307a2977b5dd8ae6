#include <dualnet/patterns_exact.hpp>
#include <dualnet/patterns_hyperplanes.hpp>
#include <dualnet/patterns_lift.hpp>

#include <Eigen/Geometry>
#include <Eigen/QR>
#include <Eigen/SVD>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace dualnet {

namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
// Subsets whose rows are closer than this to dependent define no ray (their null space is not a line).
constexpr double kDependent = 1e-13;

inline void set_bit(Word* w, Index k) { w[k / kWordBits] |= Word{1} << (k % kWordBits); }
inline void clear_bit(Word* w, Index k) { w[k / kWordBits] &= ~(Word{1} << (k % kWordBits)); }
inline bool get_bit(const Word* w, Index k) { return (w[k / kWordBits] >> (k % kWordBits)) & 1; }

// r = 1: the arrangement is one hyperplane {z = 0} (all normals merged into +-1): two cells.
void enumerate_line(const Matrix& A, CellTable& cells) {
  std::vector<Word> bits(static_cast<std::size_t>(cells.words_per_cell()), 0);
  for (double side : {1.0, -1.0}) {
    std::fill(bits.begin(), bits.end(), Word{0});
    for (Index j = 0; j < A.rows(); ++j)
      if (A(j, 0) * side > 0) set_bit(bits.data(), j);
    cells.add(bits.data(), &side, 1.0);
  }
}

// r = 2: the boundary of hyperplane j is the line at angle alpha_j + pi/2 (and + 3pi/2). Sorting the
// 2m boundary angles splits the circle into 2m arcs, one cell each; the mid-angle of an arc is a
// gate at angular distance gap/2 from every boundary. Crossing a boundary flips one bit.
void enumerate_plane(const Matrix& A, CellTable& cells) {
  const Index m = A.rows();
  constexpr double kTwoPi = 6.283185307179586;
  std::vector<std::pair<double, Index>> boundary;
  boundary.reserve(static_cast<std::size_t>(2 * m));
  for (Index j = 0; j < m; ++j) {
    double theta = std::atan2(A(j, 1), A(j, 0)) + 0.5 * M_PI;
    theta = std::fmod(theta + 2 * kTwoPi, kTwoPi);
    boundary.emplace_back(theta, j);
    boundary.emplace_back(std::fmod(theta + M_PI, kTwoPi), j);
  }
  std::sort(boundary.begin(), boundary.end());
  const std::size_t count = boundary.size();
  std::vector<Word> bits(static_cast<std::size_t>(cells.words_per_cell()), 0);
  double gate[2];
  for (std::size_t i = 0; i < count; ++i) {
    const double lo = boundary[i].first;
    const double hi = i + 1 < count ? boundary[i + 1].first : boundary[0].first + kTwoPi;
    const double phi = 0.5 * (lo + hi);
    gate[0] = std::cos(phi);
    gate[1] = std::sin(phi);
    if (i == 0) {
      for (Index j = 0; j < m; ++j)
        if (A(j, 0) * gate[0] + A(j, 1) * gate[1] > 0) set_bit(bits.data(), j);
    } else {
      // Entering arc i crosses boundary i: exactly that hyperplane's sign changes.
      const Index j = boundary[i].second;
      bits[j / kWordBits] ^= Word{1} << (j % kWordBits);
    }
    cells.add(bits.data(), gate, std::sin(0.5 * (hi - lo)));
  }
}

// The ray of q - 1 hyperplanes of A (their null vector v, unit) and the dual directions p_i
// (A_S p_i = e_i, p_i orthogonal to v): moving from v along sum_i s_i p_i enters the local cell
// with signs s. Also the incidence tolerance that v's rounding error allows.
class SubsetRay {
 public:
  explicit SubsetRay(Index q) : q_(q), mt_(q, q - 1), qr_(q, q - 1), dual_(q, q - 1) {}

  // Returns false when the rows are numerically dependent (no ray).
  bool compute(const Matrix& A, const Index* subset) {
    if (q_ == 3) {
      const Eigen::Vector3d a = A.row(subset[0]).transpose(), b = A.row(subset[1]).transpose();
      Eigen::Vector3d v = a.cross(b);
      const double s = v.norm();  // sin of the angle between a and b
      if (s <= kDependent) return false;
      v /= s;
      const Eigen::Vector3d pa = b.cross(v), pb = v.cross(a);
      ray_ = v;
      dual_.col(0) = pa / a.dot(pa);
      dual_.col(1) = pb / b.dot(pb);
      tol_ = ArrangementTolerance::incidence + 16 * kEps / s;
      return true;
    }
    const Index k = q_ - 1;
    for (Index i = 0; i < k; ++i) mt_.col(i) = A.row(subset[i]).transpose();
    qr_.compute(mt_);  // mt Pi = Q R
    const double smallest = std::abs(qr_.matrixR()(k - 1, k - 1));
    if (qr_.rank() < k || smallest <= kDependent) return false;
    const Matrix q = qr_.householderQ();
    ray_ = q.col(k);
    // A_S = mt^T = Pi R^T Q1^T, so A_S (Q1 Z) = I for Z = R^{-T} Pi^T.
    const Matrix pi_t = qr_.colsPermutation().transpose().toDenseMatrix().cast<double>();
    const Matrix r = qr_.matrixR().topLeftCorner(k, k);
    const Matrix z = r.transpose().triangularView<Eigen::Lower>().solve(pi_t);
    dual_.noalias() = q.leftCols(k) * z;
    tol_ = ArrangementTolerance::incidence + 16 * kEps * double(q_) / smallest;
    return true;
  }

  const Vector& ray() const { return ray_; }
  const Matrix& dual() const { return dual_; }  // (q, q - 1), column i = p_i
  double tolerance() const { return tol_; }

 private:
  Index q_;
  Matrix mt_;
  Eigen::ColPivHouseholderQR<Matrix> qr_;
  Vector ray_;
  Matrix dual_;
  double tol_ = 0;
};

// Steps through the k-subsets of {0..m-1} in lexicographic order.
class Combinations {
 public:
  Combinations(Index m, Index k) : m_(m), k_(k), c_(static_cast<std::size_t>(k)) {
    for (Index i = 0; i < k; ++i) c_[i] = i;
    valid_ = k <= m;
  }
  bool valid() const { return valid_; }
  const Index* data() const { return c_.data(); }
  void next() {
    Index i = k_ - 1;
    while (i >= 0 && c_[i] == m_ - k_ + i) --i;
    if (i < 0) {
      valid_ = false;
      return;
    }
    ++c_[i];
    for (Index j = i + 1; j < k_; ++j) c_[j] = c_[j - 1] + 1;
  }

 private:
  Index m_, k_;
  std::vector<Index> c_;
  bool valid_;
};

struct WordsHash {
  std::size_t operator()(const std::vector<Word>& w) const {
    return static_cast<std::size_t>(hash_words(w.data(), Index(w.size()), 17));
  }
};

// The generic directions of the chart: c splits the cells into those with c^T x > 0 on the whole
// cell, their negatives, and those crossing the hyperplane c^T x = 0; f is the objective that picks
// one vertex of each cell of the first kind.
struct Chart {
  Vector c, f;
};

Chart make_chart(Index q, std::uint64_t attempt) {
  std::mt19937_64 engine(0x2545F4914F6CDD1DULL + attempt);
  auto unit = [&] {
    Vector x(q);
    for (Index j = 0; j < q; ++j) x(j) = double(engine() >> 11) * 0x1.0p-53 - 0.5;
    return Vector(x / x.norm());
  };
  Chart chart;
  chart.c = unit();
  chart.f = unit();
  return chart;
}

// The extreme-ray walk (see the header). With a chart, a simple ray v (oriented so c^T v > 0) emits
// only the cell whose section C ∩ {c^T x = 1} has v as its f-minimal vertex, and its negative: a
// vertex is optimal for a linear program iff no edge from it descends (Dantzig; every edge direction
// is e_i = s_i (p_i - (c^T p_i / c^T v) v), so the choice of each s_i is forced). Every cell with
// c^T x > 0 is a bounded section with a unique f-minimal vertex, so it is emitted exactly once;
// cells crossing c^T x = 0 come from the restricted arrangement (enumerate_crossing). Degenerate rays
// and rays too close to c^T x = 0 emit every cell around them. Without a chart every ray emits every
// cell around it (each cell once per extreme ray: simpler, slower).
class RayWalk {
 public:
  RayWalk(const Matrix& A, CellTable& cells, InterruptCheck& interrupt, const Chart* chart)
      : A_(A), cells_(cells), interrupt_(interrupt), chart_(chart), use_chart_(chart != nullptr), m_(A.rows()), q_(A.cols()),
        words_(cells.words_per_cell()),
        last_mask_((m_ % kWordBits) == 0 ? ~Word{0} : ((Word{1} << (m_ % kWordBits)) - 1)),
        v_(q_), t_(m_), ad_(m_), g_(q_), d_(q_),
        positive_(static_cast<std::size_t>(words_)), bits_(positive_), negated_(positive_),
        on_ray_(static_cast<std::size_t>(m_), 0) {}

  void run() {
    SubsetRay ray(q_);
    Index visited = 0;
    for (Combinations subset(m_, q_ - 1); subset.valid(); subset.next()) {
      if ((++visited & 255) == 0) interrupt_.poll();
      if (!ray.compute(A_, subset.data())) continue;
      v_ = ray.ray();
      Vector& v = v_;
      t_.noalias() = A_ * v;
      through_.clear();
      for (Index j = 0; j < m_; ++j)
        if (std::abs(t_(j)) <= ray.tolerance()) through_.push_back(j);
      // Simple when exactly the subset's hyperplanes pass through v (through_ is sorted, like it).
      const bool simple = static_cast<Index>(through_.size()) == q_ - 1 &&
                          std::equal(through_.begin(), through_.end(), subset.data());
      if (!simple) {
        degenerate_ray(v);
      } else {
        simple_ray(v, ray.dual());
      }
    }
  }

 private:
  // Bits of the hyperplanes off the ray (from the sign of t), the others cleared.
  void set_fixed_bits() {
    std::fill(positive_.begin(), positive_.end(), Word{0});
    for (Index j = 0; j < m_; ++j)
      if (t_(j) > 0) set_bit(positive_.data(), j);
    for (Index j : through_) clear_bit(positive_.data(), j);
    for (Index j : through_) on_ray_[j] = 1;
  }
  void clear_on_ray() {
    for (Index j : through_) on_ray_[j] = 0;
  }

  // Gate for the cell entered from ray v along d: half the largest step that keeps every
  // hyperplane off v on its side (so the combinatorial bits stay true), g = v + eps d.
  // Returns its margin min_j |a_j^T g| / ||g||.
  double step_gate(const Vector& v, const Vector& d) {
    ad_.noalias() = A_ * d;
    double eps = std::numeric_limits<double>::infinity();
    for (Index j = 0; j < m_; ++j)
      if (!on_ray_[j] && t_(j) * ad_(j) < 0) eps = std::min(eps, -t_(j) / ad_(j));
    eps = std::min(0.5 * eps, 1.0 / d.norm());
    g_ = v + eps * d;
    double margin = std::numeric_limits<double>::infinity();
    for (Index j = 0; j < m_; ++j) margin = std::min(margin, std::abs(t_(j) + eps * ad_(j)));
    return margin / g_.norm();
  }

  // Records bits_ with gate g_ and its negative (complemented bits, -g).
  void emit_pair(double margin) {
    cells_.add(bits_.data(), g_.data(), margin);
    for (Index k = 0; k < words_; ++k) negated_[k] = ~bits_[k];
    if (words_ > 0) negated_[words_ - 1] &= last_mask_;
    g_ = -g_;
    cells_.add(negated_.data(), g_.data(), margin);
  }

  void simple_ray(Vector& v, const Matrix& dual) {
    const Index k = q_ - 1;
    // Sign choices to emit: all of them, or only the f-minimal one (both where f is flat).
    std::vector<signed char>& forced = forced_;  // 0: both signs
    forced.assign(static_cast<std::size_t>(k), 0);
    if (chart_) {
      double cv = chart_->c.dot(v);
      if (std::abs(cv) > kChartMargin) {
        if (cv < 0) {
          v = -v;
          t_ = -t_;
          cv = -cv;
        }
        const double fv = chart_->f.dot(v);
        for (Index i = 0; i < k; ++i) {
          const double fp = chart_->f.dot(dual.col(i)), cp = chart_->c.dot(dual.col(i));
          const double slope = fp - cp * fv / cv;  // f^T e_i / s_i
          const double scale = std::abs(fp) + std::abs(cp * fv / cv);
          if (slope > kFlat * scale) forced[i] = 1;
          if (slope < -kFlat * scale) forced[i] = -1;
        }
      }
    }
    set_fixed_bits();
    double min_off_ray = std::numeric_limits<double>::infinity();
    for (Index j = 0; j < m_; ++j)
      if (!on_ray_[j]) min_off_ray = std::min(min_off_ray, std::abs(t_(j)));
    if (!std::isfinite(min_off_ray)) min_off_ray = 1.0;  // every hyperplane passes through v
    for (std::uint64_t choice = 0; choice < (std::uint64_t{1} << k); ++choice) {
      bool allowed = true;
      d_.setZero();
      bits_ = positive_;
      for (Index i = 0; i < k; ++i) {
        const bool up = (choice >> i) & 1;
        if ((forced[i] > 0 && !up) || (forced[i] < 0 && up)) {
          allowed = false;
          break;
        }
        if (up) {
          set_bit(bits_.data(), through_[i]);
          d_ += dual.col(i);
        } else {
          d_ -= dual.col(i);
        }
      }
      if (!allowed) continue;
      // Cheap step: |a_j^T d| <= ||d|| for unit normals, so eps = min_off |t_j| / (2 ||d||) keeps
      // every hyperplane off v at |a_j^T g| >= |t_j| / 2, and those through v at eps (a_i^T d = s_i).
      const double step = 0.5 * min_off_ray / d_.norm();
      g_ = v + step * d_;
      emit_pair(std::min(step, 0.5 * min_off_ray) / g_.norm());
    }
    clear_on_ray();
  }

  // The cells around a degenerate ray are the cells of the hyperplanes through it, restricted to
  // v's orthogonal complement (where they are essential): enumerate them one dimension down.
  void degenerate_ray(Vector& v) {
    key_.assign(static_cast<std::size_t>(words_), 0);
    for (Index j : through_) set_bit(key_.data(), j);
    if (!degenerate_seen_.insert(key_).second) return;  // reached before from another subset
    const Index k = static_cast<Index>(through_.size());
    Matrix at(k, q_);
    for (Index i = 0; i < k; ++i) at.row(i) = A_.row(through_[i]);
    // Refine v as the least-squares null vector of every hyperplane through it.
    Eigen::JacobiSVD<Matrix> svd(at, Eigen::ComputeFullV);
    Vector refined = svd.matrixV().col(q_ - 1);
    if (refined.dot(v) < 0) refined = -refined;
    v = refined;
    t_.noalias() = A_ * v;
    const Matrix complement = svd.matrixV().leftCols(q_ - 1);
    const ReducedRows local = reduce_rows(at * complement);
    if (local.n_hyperplanes() == 0) return;
    CellTable local_cells(local.n_hyperplanes(), local.rank(), true,
                          std::numeric_limits<Index>::max());
    enumerate_cells(local.normals, local_cells, interrupt_, use_chart_);
    set_fixed_bits();
    Vector w(local.rank());
    for (Index c = 0; c < local_cells.size(); ++c) {
      const Word* local_bits = local_cells.bits(c);
      bits_ = positive_;
      for (Index i = 0; i < k; ++i) {
        const Index h = local.hyperplane[i];
        if (h < 0 || get_bit(local_bits, h) != (local.orientation[i] < 0)) set_bit(bits_.data(), through_[i]);
      }
      for (Index j = 0; j < local.rank(); ++j) w(j) = local_cells.gate(c)[j];
      d_.noalias() = complement * (local.basis * w);
      emit_pair(step_gate(v, d_));
    }
    clear_on_ray();
  }

  // A simple ray this close to c^T x = 0 emits every cell around it instead of deciding which
  // cells have it as their f-minimal vertex; f slopes this flat allow both signs.
  static constexpr double kChartMargin = 1e-9;
  static constexpr double kFlat = 1e-9;

  const Matrix& A_;
  CellTable& cells_;
  InterruptCheck& interrupt_;
  const Chart* chart_;
  bool use_chart_;  // passed on to the local arrangements
  Index m_, q_, words_;
  Word last_mask_;
  Vector v_, t_, ad_, g_, d_;
  std::vector<signed char> forced_;
  std::vector<Word> positive_, bits_, negated_, key_;
  std::vector<char> on_ray_;
  std::vector<Index> through_;
  std::unordered_set<std::vector<Word>, WordsHash> degenerate_seen_;
};

// The cells that cross the hyperplane c^T x = 0 are the cells of the restricted arrangement
// {x : c^T x = 0, a_j^T x = 0}, one dimension down: a gate w of a restricted cell is a gate of the
// full cell (a_j^T w is the restricted normal's product with w).
void enumerate_crossing(const Matrix& A, const Matrix& plane_basis, CellTable& cells,
                        InterruptCheck& interrupt) {
  const Index m = A.rows(), q = A.cols();
  const Matrix restricted = A * plane_basis;
  const ReducedRows local = reduce_rows(restricted);
  CellTable local_cells(local.n_hyperplanes(), local.rank(), true, std::numeric_limits<Index>::max());
  enumerate_cells(local.normals, local_cells, interrupt);
  std::vector<Word> bits(static_cast<std::size_t>(cells.words_per_cell()));
  Vector w(local.rank()), g(q), ag(m);
  for (Index c = 0; c < local_cells.size(); ++c) {
    std::fill(bits.begin(), bits.end(), Word{0});
    const Word* local_bits = local_cells.bits(c);
    for (Index j = 0; j < m; ++j) {
      const Index h = local.hyperplane[j];
      if (h >= 0 && get_bit(local_bits, h) != (local.orientation[j] < 0)) set_bit(bits.data(), j);
    }
    for (Index j = 0; j < local.rank(); ++j) w(j) = local_cells.gate(c)[j];
    g.noalias() = plane_basis * (local.basis * w);
    ag.noalias() = A * g;
    cells.add(bits.data(), g.data(), ag.cwiseAbs().minCoeff() / g.norm());
  }
}

// r >= 3. The chart needs every normal well away from c (so each hyperplane meets c^T x = 0 in a
// proper hyperplane of it); a few deterministic charts are tried, then the chart-free walk.
void enumerate_rays(const Matrix& A, CellTable& cells, InterruptCheck& interrupt, bool use_chart) {
  const Index q = A.cols();
  for (std::uint64_t attempt = 0; use_chart && attempt < 8; ++attempt) {
    const Chart chart = make_chart(q, attempt);
    if ((A * chart.c).cwiseAbs().maxCoeff() > 1.0 - 1e-6) continue;
    Eigen::HouseholderQR<Matrix> householder(Matrix(chart.c));
    const Matrix plane_basis = Matrix(householder.householderQ()).rightCols(q - 1);
    RayWalk(A, cells, interrupt, &chart).run();
    enumerate_crossing(A, plane_basis, cells, interrupt);
    return;
  }
  RayWalk(A, cells, interrupt, nullptr).run();
}

// C(m, k) as a double.
double binomial(Index m, Index k) {
  if (k < 0 || k > m) return 0;
  double r = 1;
  for (Index i = 1; i <= k; ++i) r = r * double(m - k + i) / double(i);
  return r;
}

}  // namespace

void enumerate_cells(const Matrix& A, CellTable& cells, InterruptCheck& interrupt, bool use_chart) {
  switch (A.cols()) {
    case 0:
      throw std::invalid_argument("enumerate_cells: the arrangement has rank 0");
    case 1:
      enumerate_line(A, cells);
      return;
    case 2:
      enumerate_plane(A, cells);
      return;
    default:
      enumerate_rays(A, cells, interrupt, use_chart);
  }
}

bool in_general_position(const Matrix& A, InterruptCheck& interrupt) {
  const Index m = A.rows(), q = A.cols();
  if (q <= 2) return true;  // distinct hyperplanes: any two normals are independent
  SubsetRay ray(q);
  Vector t(m);
  Index visited = 0;
  for (Combinations subset(m, q - 1); subset.valid(); subset.next()) {
    if ((++visited & 255) == 0) interrupt.poll();
    if (!ray.compute(A, subset.data())) return false;
    t.noalias() = A * ray.ray();
    Index through = 0;
    for (Index j = 0; j < m; ++j)
      if (std::abs(t(j)) <= ray.tolerance()) ++through;
    if (through > q - 1) return false;
  }
  return true;
}

double ray_subsets(Index m, Index r) { return r >= 3 ? binomial(m, r - 1) : 0.0; }

PatternSet enumerate_patterns(MatrixCRef X, Index max_patterns, InterruptCheck& interrupt,
                              bool use_chart) {
  const ReducedRows reduced = reduce_rows(X);
  const Index q = reduced.rank();
  CellTable cells(reduced.n_hyperplanes(), q, true, max_patterns);
  if (q == 0) {
    cells.add(nullptr, nullptr);  // every row is zero: one cell, all rows active
  } else {
    enumerate_cells(reduced.normals, cells, interrupt, use_chart);
  }
  PatternSet patterns = lift_cells(reduced, cells, X.cols());
  const Index bad = first_unverified_pattern(X, patterns);
  if (bad >= 0) {
    // A user-facing ValueError naming X: the data, not the caller's code, is at fault.
    char tolerance[32];
    std::snprintf(tolerance, sizeof tolerance, "%g", ArrangementTolerance::incidence);
    throw std::invalid_argument("X is degenerate beyond the relative tolerance " +
                                std::string(tolerance) +
                                " of exact enumeration (hyperplanes of its rows nearly, but not "
                                "exactly, coincide): no strictly interior gate for pattern " +
                                std::to_string(bad) + "; use method='sample'");
  }
  return patterns;
}

}  // namespace dualnet
