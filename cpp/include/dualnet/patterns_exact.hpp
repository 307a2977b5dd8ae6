// Exact enumeration of the activation patterns of X: every open cell of the central hyperplane
// arrangement of its rows (docs/theory.md, section 7), each with a strictly interior gate.
//
// Algorithm (chosen over reverse search and incremental construction, which need a linear program
// per cell or per adjacency test): on the essential arrangement of rank r (patterns_hyperplanes.hpp)
//   - r = 1: two cells; r = 2: angular sort of the 2m boundary directions, one cell per gap,
//     consecutive cells differ in one bit: exactly 2m cells in O(m log m).
//   - r >= 3: every cell is a pointed cone, so it has an extreme ray, and every extreme ray is the
//     null vector v of r - 1 independent normals. At v, hyperplanes with a^T v != 0 keep the sign of
//     a^T v on every cell touching v, and the hyperplanes through v form a local arrangement in v's
//     orthogonal complement whose cells are exactly the cells touching v. A simple ray (r - 1
//     hyperplanes through it) has all 2^(r-1) local sign choices; a degenerate ray (three or more
//     planes through a line, ties in integer data) recurses one dimension down, the angular sort
//     being the base case.
//   - Emitting every cell at every ray costs one hash-table probe per (cell, extreme ray) pair: 4
//     per cell at r = 3 but 60 at r = 7, and the probes are cache misses. So a generic direction c
//     splits the cells: those crossing {c^T x = 0} are the cells of the arrangement restricted to
//     that hyperplane (a recursive call one dimension down); each other cell C, or -C, has a bounded
//     section C ∩ {c^T x = 1} and is emitted only at the vertex of that polytope minimising a
//     generic f, which a simple ray decides locally, sign by sign, by the simplex method's
//     optimality test. Degenerate rays still emit every cell around them; the hash table merges
//     repeats and keeps the gate with the largest margin.
// Bits are decided combinatorially (signs at rays, local cells), never read off a perturbed point,
// which is what made a floating-point prototype invent patterns on degenerate data. Each gate is
// v + eps * d, stepped from a ray into its cell with eps small enough that no sign off the ray
// changes (computed, not guessed), and every gate is verified at the end.
// Cost: C(m, r - 1) null vectors of O(m r) each, plus the restricted arrangement (one dimension
// down), plus O(m / 64) per emitted cell.
#pragma once

#include <dualnet/interrupt.hpp>
#include <dualnet/pattern_set.hpp>
#include <dualnet/patterns_cell_table.hpp>
#include <dualnet/types.hpp>

namespace dualnet {

// Adds every cell of the essential arrangement with unit, pairwise non-parallel normals A (m, q),
// rank q >= 1, to `cells` (bits over A's rows, gates in R^q). Throws CellLimitExceeded from the table.
void enumerate_cells(const Matrix& A, CellTable& cells, InterruptCheck& interrupt);

// True when the essential arrangement A (m, q) is in general position: every q normals are
// linearly independent, so Cover's formula counts its cells. Stops at the first degenerate ray.
bool in_general_position(const Matrix& A, InterruptCheck& interrupt);

// Every activation pattern of X (n, g), at most max_patterns of them (else CellLimitExceeded).
// Throws std::runtime_error if a gate fails verification (a defect, never silently dropped).
PatternSet enumerate_patterns(MatrixCRef X, Index max_patterns, InterruptCheck& interrupt);

}  // namespace dualnet
