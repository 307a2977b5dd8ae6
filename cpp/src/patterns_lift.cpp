#include <dualnet/patterns_lift.hpp>
#include <dualnet/patterns_kernels.hpp>

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
  const Index n = X.rows(), p = X.cols(), words = patterns.words_per_pattern();
  // Unit rows, so one threshold interior * ||g|| serves every row; zero rows stay zero and must
  // be active (their bits are forced on before comparing).
  // Measured on the column-scaled rows X D and gates D^-1 g, the coordinates the enumeration
  // decided in (reduce_rows): the products x_k^T g are unchanged, exactly.
  const Vector column_scale = power_of_two_column_scale(X);
  Matrix unit = X * column_scale.asDiagonal();
  std::vector<Word> zero_rows(static_cast<std::size_t>(words), 0);
  Index n_zero = 0;
  for (Index k = 0; k < n; ++k) {
    const double norm = unit.row(k).stableNorm();
    if (norm > 0) {
      unit.row(k) /= norm;
    } else {
      zero_rows[k / kWordBits] |= Word{1} << (k % kWordBits);
      ++n_zero;
    }
  }
  // Blocks of patterns: one matrix product per block instead of a product per gate.
  constexpr Index kBlock = 256;
  Matrix gates(p, kBlock);
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> scores(n, kBlock);  // column-major
  std::vector<Word> signs(static_cast<std::size_t>(words));
  for (Index start = 0; start < patterns.size(); start += kBlock) {
    const Index count = std::min(kBlock, patterns.size() - start);
    for (Index c = 0; c < count; ++c)
      for (Index j = 0; j < p; ++j) gates(j, c) = patterns.gate(start + c)[j] / column_scale(j);
    scores.leftCols(count).noalias() = unit * gates.leftCols(count);
    for (Index c = 0; c < count; ++c) {
      const Index i = start + c;
      const double gate_norm = gates.col(c).norm();
      if (!std::isfinite(gate_norm)) return i;
      Index n_small = 0;
      min_abs_above(scores.col(c).data(), n, ArrangementTolerance::interior * gate_norm, n_small);
      if (n_small != n_zero) return i;  // a nonzero row too close to the gate
      pack_signs(scores.col(c).data(), n, signs.data());
      const Word* bits = patterns.pattern(i);
      for (Index w = 0; w < words; ++w)
        if ((signs[w] | zero_rows[w]) != bits[w]) return i;
    }
  }
  return -1;
}

}  // namespace dualnet
