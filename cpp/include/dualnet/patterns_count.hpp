// Counting activation patterns without materialising them where theory allows. For an essential
// arrangement of m hyperplanes in general position in R^r the count is Cover's (1965)
//     2 * sum_{k=0}^{r-1} C(m - 1, k),
// exact for r <= 2 always (2 and 2m). Degenerate arrangements have fewer cells (Zaslavsky 1975);
// they are counted by enumeration, keeping two 64-bit hashes per cell.
#pragma once

#include <dualnet/interrupt.hpp>
#include <dualnet/types.hpp>

#include <cstdint>

namespace dualnet {

struct PatternCount {
  Index n_hyperplanes = 0;  // m: distinct nonzero hyperplanes
  Index rank = 0;           // r
  bool general_position = false;  // Cover's formula with (m, r) is the exact count
  std::int64_t n_cells = -1;      // the enumerated count when not in general position, else -1
};

// n_hyperplanes and rank only (cheap: one SVD and a sort).
PatternCount arrangement_size(MatrixCRef X);

// Counts the cells of X's arrangement. The general-position check and the enumeration visit
// C(m, r - 1) subsets; more than max_subsets, or more than max_cells cells, throws
// std::length_error with the estimate.
PatternCount count_cells(MatrixCRef X, double max_subsets, Index max_cells, InterruptCheck& interrupt);

// Number of (r - 1)-subsets of m hyperplanes, as a double (may exceed 2^63).
double ray_subsets(Index m, Index r);

}  // namespace dualnet
