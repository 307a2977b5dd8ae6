#include <dualnet/patterns_lift.hpp>

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
  Vector row_norm = X.rowwise().norm();
  Vector g(p), xg(n);
  for (Index i = 0; i < patterns.size(); ++i) {
    for (Index j = 0; j < p; ++j) g(j) = patterns.gate(i)[j];
    const double gate_norm = g.norm();
    if (!std::isfinite(gate_norm)) return i;
    xg.noalias() = X * g;
    for (Index k = 0; k < n; ++k) {
      const bool on = patterns.active(k, i);
      if (row_norm(k) == 0) {
        if (!on) return i;
        continue;
      }
      if (std::abs(xg(k)) <= ArrangementTolerance::interior * row_norm(k) * gate_norm) return i;
      if ((xg(k) > 0) != on) return i;
    }
  }
  return -1;
}

}  // namespace dualnet
