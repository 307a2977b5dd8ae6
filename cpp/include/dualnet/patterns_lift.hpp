// From cells of the reduced arrangement (patterns_hyperplanes.hpp) back to activation patterns of
// the input rows, and the check that every output gate is strictly inside its cell.
#pragma once

#include <dualnet/pattern_set.hpp>
#include <dualnet/patterns_cell_table.hpp>
#include <dualnet/patterns_hyperplanes.hpp>
#include <dualnet/types.hpp>

namespace dualnet {

// Patterns of X's rows for every cell of `cells` (bits over reduced.normals, gates in R^q, any
// positive scale). Gates are mapped to input space (basis * z) and normalised.
PatternSet lift_cells(const ReducedRows& reduced, const CellTable& cells, Index gate_dim);

// Index of the first pattern whose gate is not strictly inside its cell of X's arrangement
// (|x_k^T g| <= interior * ||x_k|| ||g|| on a nonzero row, or a bit that disagrees with
// x_k^T g > 0, or a zero row not active), or -1 when every gate is verified.
Index first_unverified_pattern(MatrixCRef X, const PatternSet& patterns);

}  // namespace dualnet
