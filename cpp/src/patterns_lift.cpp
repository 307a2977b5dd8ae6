#include <dualnet/patterns_lift.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace dualnet {

PatternSet lift_cells(const ReducedRows& reduced, const CellTable& cells, Index gate_dim) {
  const Index n = static_cast<Index>(reduced.hyperplane.size());
  const Index q = reduced.rank();
  PatternSet out(n, gate_dim);
  out.reserve(cells.size());
  const bool identity = reduced.identity_map();
  std::vector<Word> words(static_cast<std::size_t>(out.words_per_pattern()), 0);
  Vector z(q), g(gate_dim);
  for (Index c = 0; c < cells.size(); ++c) {
    const Word* bits = cells.bits(c);
    if (identity) {
      std::copy(bits, bits + out.words_per_pattern(), words.begin());
    } else {
      std::fill(words.begin(), words.end(), Word{0});
      for (Index k = 0; k < n; ++k) {
        const Index h = reduced.hyperplane[k];
        bool on = true;  // zero rows are always active
        if (h >= 0) on = (((bits[h / kWordBits] >> (h % kWordBits)) & 1) != 0) != (reduced.orientation[k] < 0);
        if (on) words[k / kWordBits] |= Word{1} << (k % kWordBits);
      }
    }
    if (q == 0) {
      g.setZero();
      if (gate_dim > 0) g(0) = 1.0;  // every row is zero: any gate is interior
    } else {
      for (Index j = 0; j < q; ++j) z(j) = cells.gate(c)[j];
      g.noalias() = reduced.basis * z;
      const double norm = g.norm();
      if (norm > 0) g /= norm;
    }
    out.push_back(words.data(), g.data());
  }
  return out;
}

Index first_unverified_pattern(MatrixCRef X, const PatternSet& patterns) {
  const Index n = X.rows(), p = X.cols();
  const Vector row_norm = X.rowwise().norm();
  // Blocks of patterns: one matrix product X * G per block instead of a product per gate.
  constexpr Index kBlock = 256;
  Matrix gates(p, kBlock);
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> scores(n, kBlock);  // column-major
  Vector gate_norm(kBlock);
  for (Index start = 0; start < patterns.size(); start += kBlock) {
    const Index count = std::min(kBlock, patterns.size() - start);
    for (Index c = 0; c < count; ++c)
      for (Index j = 0; j < p; ++j) gates(j, c) = patterns.gate(start + c)[j];
    gate_norm.head(count) = gates.leftCols(count).colwise().norm().transpose();
    scores.leftCols(count).noalias() = X * gates.leftCols(count);
    for (Index c = 0; c < count; ++c) {
      const Index i = start + c;
      if (!std::isfinite(gate_norm(c))) return i;
      const double* score = scores.col(c).data();
      const Word* bits = patterns.pattern(i);
      for (Index k = 0; k < n; ++k) {
        const bool on = (bits[k / kWordBits] >> (k % kWordBits)) & 1;
        if (row_norm(k) == 0) {
          if (!on) return i;
          continue;
        }
        if (std::abs(score[k]) <= ArrangementTolerance::interior * row_norm(k) * gate_norm(c)) return i;
        if ((score[k] > 0) != on) return i;
      }
    }
  }
  return -1;
}

}  // namespace dualnet
