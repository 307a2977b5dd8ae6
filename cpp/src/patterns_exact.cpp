#include <dualnet/patterns_exact.hpp>
#include <dualnet/patterns_hyperplanes.hpp>
#include <dualnet/patterns_lift.hpp>

#include <Eigen/QR>
#include <Eigen/SVD>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <limits>
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
    cells.add(bits.data(), &side);
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
    cells.add(bits.data(), gate);
  }
}

// Null vector of the q - 1 rows of A listed in `subset`, unit, with the incidence tolerance that its
// rounding error allows. Returns false when the rows are numerically dependent.
class SubsetNullVector {
 public:
  explicit SubsetNullVector(Index q) : q_(q), mt_(q, q - 1), qr_(q, q - 1) {}

  bool compute(const Matrix& A, const Index* subset, Vector& v, double& tol) {
    if (q_ == 3) {
      const auto a = A.row(subset[0]), b = A.row(subset[1]);
      v.resize(3);
      v(0) = a(1) * b(2) - a(2) * b(1);
      v(1) = a(2) * b(0) - a(0) * b(2);
      v(2) = a(0) * b(1) - a(1) * b(0);
      const double s = v.norm();  // sin of the angle between a and b: the smallest singular value scale
      if (s <= kDependent) return false;
      v /= s;
      tol = ArrangementTolerance::incidence + 16 * kEps / s;
      return true;
    }
    for (Index i = 0; i < q_ - 1; ++i) mt_.col(i) = A.row(subset[i]).transpose();
    qr_.compute(mt_);
    const double smallest = std::abs(qr_.matrixR()(q_ - 2, q_ - 2));
    if (qr_.rank() < q_ - 1 || smallest <= kDependent) return false;
    // The last column of Q is orthogonal to the column space of mt_, i.e. to the subset's rows.
    Vector e = Vector::Zero(q_);
    e(q_ - 1) = 1.0;
    v = qr_.householderQ() * e;
    v.normalize();
    tol = ArrangementTolerance::incidence + 16 * kEps * double(q_) / smallest;
    return true;
  }

 private:
  Index q_;
  Matrix mt_;
  Eigen::ColPivHouseholderQR<Matrix> qr_;
};

// Steps through the (k)-subsets of {0..m-1} in lexicographic order.
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

// r >= 3: the extreme-ray walk described in the header.
void enumerate_rays(const Matrix& A, CellTable& cells, InterruptCheck& interrupt) {
  const Index m = A.rows(), q = A.cols();
  const Index words = cells.words_per_cell();
  const Word last_mask = (m % kWordBits) == 0 ? ~Word{0} : ((Word{1} << (m % kWordBits)) - 1);
  SubsetNullVector null_vector(q);
  Vector v(q), t(m), minus_v(q);
  std::vector<Word> positive(static_cast<std::size_t>(words)), negative(positive), bits(positive);
  std::vector<Word> through(positive);
  std::unordered_set<std::vector<Word>, WordsHash> degenerate_rays_seen;
  std::vector<Index> through_rows;
  Index visited = 0;

  for (Combinations subset(m, q - 1); subset.valid(); subset.next()) {
    if ((++visited & 255) == 0) interrupt.poll();
    double tol = 0;
    if (!null_vector.compute(A, subset.data(), v, tol)) continue;
    t.noalias() = A * v;

    through_rows.clear();
    for (Index j = 0; j < m; ++j)
      if (std::abs(t(j)) <= tol) through_rows.push_back(j);

    bool degenerate = static_cast<Index>(through_rows.size()) > q - 1;
    if (degenerate) {
      // Degenerate ray: handle it once, from whichever subset of its hyperplanes reaches it first.
      std::fill(through.begin(), through.end(), Word{0});
      for (Index j : through_rows) set_bit(through.data(), j);
      if (!degenerate_rays_seen.insert(through).second) continue;
      // Refine v as the least-squares null vector of every hyperplane through it, then decide the
      // incidences again with the refined vector (its rounding error no longer depends on one subset).
      Matrix at(static_cast<Index>(through_rows.size()), q);
      for (std::size_t i = 0; i < through_rows.size(); ++i) at.row(Index(i)) = A.row(through_rows[i]);
      Eigen::JacobiSVD<Matrix> svd(at, Eigen::ComputeFullV);
      Vector refined = svd.matrixV().col(q - 1);
      if (refined.dot(v) < 0) refined = -refined;
      const Vector refined_t = A * refined;
      std::vector<Index> refined_rows;
      for (Index j = 0; j < m; ++j)
        if (std::abs(refined_t(j)) <= ArrangementTolerance::incidence) refined_rows.push_back(j);
      if (static_cast<Index>(refined_rows.size()) <= q - 1) {
        // Nearly parallel hyperplanes: the subset's tolerance (which grows as its rows approach
        // dependence) took in hyperplanes the refined ray does not lie on, and the refined ray may
        // lie on fewer than q - 1 of them, even none (the local arrangement below would then be
        // empty: an SVD of zero rows). Distinct at the incidence tolerance, they meet in simple
        // rays: this subset's is handled as such, and so will the other subsets' be.
        degenerate_rays_seen.erase(through);
        degenerate = false;
        through_rows.assign(subset.data(), subset.data() + (q - 1));
      } else {
        v = refined;
        t = refined_t;
        through_rows.swap(refined_rows);
        std::vector<Word> refined_through(static_cast<std::size_t>(words), 0);
        for (Index j : through_rows) set_bit(refined_through.data(), j);
        if (refined_through != through && !degenerate_rays_seen.insert(refined_through).second) continue;
      }
    }

    // Fixed signs at v (and at -v, complemented); bits of the hyperplanes through v are cleared.
    std::fill(positive.begin(), positive.end(), Word{0});
    for (Index j = 0; j < m; ++j)
      if (t(j) > 0) set_bit(positive.data(), j);
    for (Index k = 0; k < words; ++k) negative[k] = ~positive[k];
    if (words > 0) negative[words - 1] &= last_mask;
    for (Index j : through_rows) {
      clear_bit(positive.data(), j);
      clear_bit(negative.data(), j);
    }
    minus_v = -v;
    const Index k = static_cast<Index>(through_rows.size());

    if (!degenerate) {
      // Simple ray: its q - 1 hyperplanes are independent, every sign choice is a cell.
      for (std::uint64_t choice = 0; choice < (std::uint64_t{1} << k); ++choice) {
        for (int side = 0; side < 2; ++side) {
          bits = side == 0 ? positive : negative;
          for (Index i = 0; i < k; ++i)
            if ((choice >> i) & 1) set_bit(bits.data(), through_rows[i]);
          cells.add(bits.data(), side == 0 ? v.data() : minus_v.data());
        }
      }
      continue;
    }

    // Degenerate ray: the cells around it are the cells of the hyperplanes through it, restricted to
    // v's orthogonal complement (essential there: they span it). Enumerate them one dimension down.
    Matrix at(k, q);
    for (Index i = 0; i < k; ++i) at.row(i) = A.row(through_rows[i]);
    Eigen::JacobiSVD<Matrix> svd(at, Eigen::ComputeFullV);
    // Right singular vectors other than the last span v's complement (v is the null direction).
    const Matrix complement = svd.matrixV().leftCols(q - 1);
    const Matrix local_rows = at * complement;
    const ReducedRows local = reduce_rows(local_rows);
    if (local.n_hyperplanes() == 0) continue;
    CellTable local_cells(local.n_hyperplanes(), local.rank(), true,
                          std::numeric_limits<Index>::max());
    enumerate_cells(local.normals, local_cells, interrupt);
    for (Index c = 0; c < local_cells.size(); ++c) {
      const Word* local_bits = local_cells.bits(c);
      for (int side = 0; side < 2; ++side) {
        bits = side == 0 ? positive : negative;
        for (Index i = 0; i < k; ++i) {
          const Index h = local.hyperplane[i];
          const bool on = h < 0 || (get_bit(local_bits, h) != (local.orientation[i] < 0));
          if (on) set_bit(bits.data(), through_rows[i]);
        }
        cells.add(bits.data(), side == 0 ? v.data() : minus_v.data());
      }
    }
  }
}

// C(m, k) as a double.
double binomial(Index m, Index k) {
  if (k < 0 || k > m) return 0;
  double r = 1;
  for (Index i = 1; i <= k; ++i) r = r * double(m - k + i) / double(i);
  return r;
}

}  // namespace

void enumerate_cells(const Matrix& A, CellTable& cells, InterruptCheck& interrupt) {
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
      enumerate_rays(A, cells, interrupt);
  }
}

bool in_general_position(const Matrix& A, InterruptCheck& interrupt) {
  const Index m = A.rows(), q = A.cols();
  if (q <= 2) return true;  // distinct hyperplanes: any two normals are independent
  SubsetNullVector null_vector(q);
  Vector v(q), t(m);
  Index visited = 0;
  for (Combinations subset(m, q - 1); subset.valid(); subset.next()) {
    if ((++visited & 255) == 0) interrupt.poll();
    double tol = 0;
    if (!null_vector.compute(A, subset.data(), v, tol)) return false;
    t.noalias() = A * v;
    Index through = 0;
    for (Index j = 0; j < m; ++j)
      if (std::abs(t(j)) <= tol) ++through;
    if (through > q - 1) return false;
  }
  return true;
}

double ray_subsets(Index m, Index r) { return r >= 3 ? binomial(m, r - 1) : 0.0; }

PatternSet enumerate_patterns(MatrixCRef X, Index max_patterns, InterruptCheck& interrupt) {
  const ReducedRows reduced = reduce_rows(X);
  const Index q = reduced.rank();
  CellTable cells(reduced.n_hyperplanes(), q, true, max_patterns);
  if (q == 0) {
    cells.add(nullptr, nullptr);  // every row is zero: one cell, all rows active
  } else {
    enumerate_cells(reduced.normals, cells, interrupt);
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
