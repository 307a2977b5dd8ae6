#include <dualnet/patterns_cell_table.hpp>
#include <dualnet/patterns_hyperplanes.hpp>
#include <dualnet/patterns_lift.hpp>
#include <dualnet/patterns_sample.hpp>

#include <Eigen/QR>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace dualnet {

namespace {

// Standard normal draws from mt19937_64 by the Box-Muller transform (std::normal_distribution's
// algorithm is unspecified, so it would tie results to one standard library).
class Gaussian {
 public:
  explicit Gaussian(std::uint64_t seed) : engine_(seed) {}
  double operator()() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1;
    do u1 = uniform(); while (u1 <= 0.0);
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586 * u2;
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return double(engine_() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, bound).
  Index below(Index bound) { return static_cast<Index>(uniform() * double(bound)); }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace

SampledPatterns sample_patterns(MatrixCRef X, Index n_gates, std::uint64_t seed,
                                InterruptCheck& interrupt) {
  if (n_gates <= 0) throw std::invalid_argument("n_gates must be positive");
  const ReducedRows reduced = reduce_rows(X);
  const Index m = reduced.n_hyperplanes(), q = reduced.rank();
  SampledPatterns out{PatternSet(X.rows(), X.cols())};
  out.n_hyperplanes = m;
  out.rank = q;
  CellTable cells(m, q, true, n_gates);
  if (q == 0) {  // every row is zero: the one pattern is all-active
    cells.add(nullptr, nullptr);
    out.n_draws = n_gates;
    out.patterns = lift_cells(reduced, cells, X.cols());
    return out;
  }

  Gaussian rng(seed);
  const Matrix& A = reduced.normals;
  const Index words = cells.words_per_cell();
  std::vector<Word> bits(static_cast<std::size_t>(words));
  Vector z(q), t(m), w(q), aw(m), v(q);
  Matrix mt(q, q - 1);
  Eigen::HouseholderQR<Matrix> qr(q, q - 1);
  std::vector<Index> subset;
  std::vector<char> chosen(static_cast<std::size_t>(m), 0);
  // Vertex draws need r - 1 >= 1 hyperplanes to intersect; with r = 1 every draw is Gaussian.
  const bool vertices = q >= 2 && m >= q - 1;

  for (Index draw = 0; draw < n_gates; ++draw) {
    if ((draw & 255) == 0) interrupt.poll();
    ++out.n_draws;
    bool vertex_draw = vertices && (draw & 1);
    for (Index j = 0; j < q; ++j) z(j) = rng();
    if (vertex_draw) {
      // r - 1 distinct random hyperplanes (Floyd's algorithm), their null vector v.
      subset.clear();
      for (Index j = m - (q - 1); j < m; ++j) {
        Index pick = rng.below(j + 1);
        if (chosen[pick]) pick = j;
        chosen[pick] = 1;
        subset.push_back(pick);
      }
      for (Index pick : subset) chosen[pick] = 0;
      for (Index i = 0; i < q - 1; ++i) mt.col(i) = A.row(subset[i]).transpose();
      qr.compute(mt);
      Vector e = Vector::Zero(q);
      e(q - 1) = 1.0;
      v = qr.householderQ() * e;
      if (rng.uniform() < 0.5) v = -v;
      t.noalias() = A * v;
      // Step w (the Gaussian z without its component along v), scaled so that no hyperplane with
      // |a^T v| above the incidence tolerance changes sign: eps * |a^T w| <= |a^T v| / 2.
      w = z - z.dot(v) * v;
      aw.noalias() = A * w;
      double eps = std::numeric_limits<double>::infinity();
      for (Index j = 0; j < m; ++j)
        if (std::abs(t(j)) > ArrangementTolerance::incidence && aw(j) != 0)
          eps = std::min(eps, 0.5 * std::abs(t(j)) / std::abs(aw(j)));
      if (!std::isfinite(eps)) eps = 1.0;
      const double wn = w.norm();
      if (wn == 0) {
        ++out.n_rejected;
        continue;
      }
      eps = std::min(eps, 1.0 / wn);
      z = v + eps * w;
    }
    t.noalias() = A * z;
    const double threshold = ArrangementTolerance::interior * 100 * z.norm();
    std::fill(bits.begin(), bits.end(), Word{0});
    bool interior = true;
    for (Index j = 0; j < m; ++j) {
      if (std::abs(t(j)) <= threshold) {
        interior = false;
        break;
      }
      if (t(j) > 0) bits[j / kWordBits] |= Word{1} << (j % kWordBits);
    }
    if (!interior) {
      ++out.n_rejected;
      continue;
    }
    // Keep the first gate that found a pattern (its margin was checked above).
    if (cells.find(bits.data()) < 0) cells.add(bits.data(), z.data());
  }
  out.patterns = lift_cells(reduced, cells, X.cols());
  return out;
}

}  // namespace dualnet
