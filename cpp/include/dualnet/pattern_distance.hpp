// Hamming distances between activation patterns: the number of rows on which two patterns
// differ. Two patterns at a small distance have nearly collinear blocks D_i X and D_j X (they
// agree on all but a few rows), which column generation uses to keep its set spread out.
#pragma once

#include <dualnet/pattern_set.hpp>
#include <dualnet/types.hpp>

#include <Eigen/Core>

namespace dualnet {

using IndexMatrix = Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rows on which the patterns p and q (each `words` words, bits past the last row zero) differ.
inline Index pattern_distance(const Word* p, const Word* q, Index words) {
  Index total = 0;
  for (Index k = 0; k < words; ++k) total += __builtin_popcountll(p[k] ^ q[k]);
  return total;
}

// (a.size(), b.size()) matrix of distances between pattern i of a and pattern j of b; the sets
// must have the same number of rows (std::invalid_argument otherwise).
IndexMatrix pattern_distances(const PatternSet& a, const PatternSet& b);

}  // namespace dualnet
