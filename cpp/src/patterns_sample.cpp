#include <dualnet/patterns_cell_table.hpp>
#include <dualnet/patterns_hyperplanes.hpp>
#include <dualnet/patterns_lift.hpp>
#include <dualnet/patterns_sample.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace dualnet {

namespace {

// Standard normal draws from mt19937_64 by Marsaglia's polar method (std::normal_distribution's
// algorithm is unspecified, so it would tie results to one standard library).
class Gaussian {
 public:
  explicit Gaussian(std::uint64_t seed) : engine_(seed) {}
  double operator()() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double factor = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * factor;
    has_spare_ = true;
    return u * factor;
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

// Gates are drawn in blocks so the scores A * gates are matrix products, not one product per gate.
constexpr Index kBlock = 256;
// Vertex draws cost O(r^3) for the null vector; above this rank they would dominate the O(m r)
// score of a draw, and Gaussian gates alone are used.
constexpr Index kMaxVertexRank = 64;

// Removes from x its components along the orthonormal rows u[0..k) (twice, for orthogonality
// to working precision).
void project_out(const std::vector<Vector>& u, Index k, Vector& x) {
  for (int pass = 0; pass < 2; ++pass)
    for (Index i = 0; i < k; ++i) x -= u[i].dot(x) * u[i];
}

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
  // Vertex draws need r - 1 >= 1 hyperplanes to intersect; they alternate with Gaussian draws.
  const bool vertices = q >= 2 && q <= kMaxVertexRank && m >= q - 1;
  const double threshold = 100 * ArrangementTolerance::interior;

  using ColMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  ColMatrix gaussian(q, kBlock), rays(q, kBlock), steps(q, kBlock);
  ColMatrix gaussian_scores(m, kBlock), ray_scores(m, kBlock), step_scores(m, kBlock);
  std::vector<Vector> basis(static_cast<std::size_t>(q), Vector(q));
  std::vector<Index> subset;
  std::vector<char> chosen(static_cast<std::size_t>(m), 0);
  Vector x(q), z(q), score(m);

  for (Index start = 0; start < n_gates; start += kBlock) {
    interrupt.poll();
    const Index count = std::min(kBlock, n_gates - start);
    // Draw the block's random gates in draw order (so a seed fixes every draw).
    Index n_gaussian = 0, n_vertex = 0;
    for (Index i = start; i < start + count; ++i) {
      if (!(vertices && (i & 1))) {
        for (Index j = 0; j < q; ++j) gaussian(j, n_gaussian) = rng();
        ++n_gaussian;
        continue;
      }
      // r - 1 distinct random hyperplanes (Floyd's algorithm), orthonormalised; the vertex v is a
      // random unit vector orthogonal to them (their null vector, with a random sign).
      subset.clear();
      for (Index j = m - (q - 1); j < m; ++j) {
        Index pick = rng.below(j + 1);
        if (chosen[pick]) pick = j;
        chosen[pick] = 1;
        subset.push_back(pick);
      }
      Index k = 0;
      for (Index pick : subset) {
        chosen[pick] = 0;
        x = A.row(pick).transpose();
        project_out(basis, k, x);
        const double norm = x.norm();
        if (norm > 1e-8) basis[k++] = x / norm;
      }
      for (Index j = 0; j < q; ++j) x(j) = rng();
      project_out(basis, k, x);
      rays.col(n_vertex) = x / x.norm();
      // The step direction: Gaussian, orthogonal to v.
      for (Index j = 0; j < q; ++j) z(j) = rng();
      z -= rays.col(n_vertex).dot(z) * rays.col(n_vertex);
      steps.col(n_vertex) = z;
      ++n_vertex;
    }
    gaussian_scores.leftCols(n_gaussian).noalias() = A * gaussian.leftCols(n_gaussian);
    ray_scores.leftCols(n_vertex).noalias() = A * rays.leftCols(n_vertex);
    step_scores.leftCols(n_vertex).noalias() = A * steps.leftCols(n_vertex);

    Index next_gaussian = 0, next_vertex = 0;
    for (Index i = start; i < start + count; ++i) {
      ++out.n_draws;
      if (!(vertices && (i & 1))) {
        const Index c = next_gaussian++;
        z = gaussian.col(c);
        score = gaussian_scores.col(c);
      } else {
        const Index c = next_vertex++;
        // Step from v along w, small enough that no hyperplane off v changes sign: |a^T w| <= ||w||
        // for unit normals, so eps = min_off |a^T v| / (2 ||w||) keeps them at half their value.
        // Which cell is entered depends only on the hyperplanes through v, not on eps.
        const auto t = ray_scores.col(c), tw = step_scores.col(c);
        const double off = (t.array().abs() > ArrangementTolerance::incidence)
                               .select(t.array().abs(), std::numeric_limits<double>::infinity())
                               .minCoeff();
        const double norm = steps.col(c).norm();
        const double eps = std::isfinite(off) ? 0.5 * off / norm : 1.0 / norm;
        z = rays.col(c) + eps * steps.col(c);
        score = t + eps * tw;
      }
      // Reject a gate that is not strictly inside a cell; pack the signs a word at a time.
      if (!(score.cwiseAbs().minCoeff() > threshold * z.norm())) {
        ++out.n_rejected;
        continue;
      }
      for (Index w = 0; w < words; ++w) {
        const Index base = w * kWordBits, len = std::min(kWordBits, m - base);
        Word word = 0;
        for (Index b = 0; b < len; ++b) word |= Word(score(base + b) > 0) << b;
        bits[w] = word;
      }
      // The first gate that finds a pattern is kept.
      cells.add(bits.data(), z.data(), 0.0);
    }
  }
  out.patterns = lift_cells(reduced, cells, X.cols());
  return out;
}

}  // namespace dualnet
