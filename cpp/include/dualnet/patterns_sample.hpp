// Sampling activation patterns when the exact set is too large. Two seeded samplers alternate:
//   - Gaussian gates g ~ N(0, I) on the row space: a cell is found with probability equal to its
//     solid angle, so large cells come first;
//   - vertex gates: the null vector v of r - 1 random hyperplanes (a vertex of the arrangement),
//     with a random sign, moved by a small Gaussian step w orthogonal to v into one of the cells
//     around it (step scaled so no hyperplane off v changes sign): finds small cells that a
//     Gaussian gate almost never hits (docs/algorithms.md, section 2).
// Draws are deduplicated by hashing the bitsets. A draw whose gate is not strictly interior
// (|a^T g| below the tolerance on some hyperplane) is rejected, and counted.
// Randomness: std::mt19937_64 (fully specified by the C++ standard) and our own Box-Muller
// transform, so a seed gives bit-identical results with every standard library.
#pragma once

#include <dualnet/interrupt.hpp>
#include <dualnet/pattern_set.hpp>
#include <dualnet/types.hpp>

#include <cstdint>

namespace dualnet {

struct SampledPatterns {
  PatternSet patterns;
  Index n_draws = 0;     // gates drawn
  Index n_rejected = 0;  // draws whose gate was not strictly inside a cell
  Index n_hyperplanes = 0;
  Index rank = 0;
};

SampledPatterns sample_patterns(MatrixCRef X, Index n_gates, std::uint64_t seed,
                                InterruptCheck& interrupt);

}  // namespace dualnet
