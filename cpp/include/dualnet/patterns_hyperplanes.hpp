// Hyperplane preprocessing for pattern enumeration: the rows x_k of X are the normals of the central
// arrangement {g : x_k^T g = 0} whose open cells are the activation patterns (docs/theory.md,
// section 7). Before enumerating, the arrangement is made essential and simple:
//   - zero rows are dropped (always active: 1[0 >= 0] = 1);
//   - columns are scaled by powers of two (exact; the cells of X D are those of X under g -> D g),
//     rows are normalised and projected onto the row space (rank r, from an SVD), so gates live
//     in R^r and every cell is a pointed cone;
//   - positive multiples are merged, and so are negative multiples, which carry the opposite bit.
// Patterns found on the reduced arrangement are lifted back: gate g = basis * z, bit of row k =
// bit of its hyperplane, flipped for negatively oriented rows, 1 for zero rows.
#pragma once

#include <dualnet/types.hpp>

#include <vector>

namespace dualnet {

// Tolerances of the geometric decisions, all relative to unit vectors. Data in double precision
// carries rounding noise (iris stored as decimals, centring) of about 1e-15; decisions are taken
// well above that and well below the scale of real features, and every output gate is verified.
struct ArrangementTolerance {
  // Two unit normals a, b are one hyperplane when ||a - b|| or ||a + b|| is below this.
  static constexpr double parallel = 1e-12;
  // Singular values below rank * sigma_max of the normalised rows are treated as zero.
  static constexpr double rank = 1e-11;
  // A unit normal a passes through a unit ray v when |a^T v| is below this (plus the rounding
  // error of v, which grows as its defining rows become dependent).
  static constexpr double incidence = 1e-11;
  // Output gates satisfy |x_k^T g| > interior * ||x_k|| * ||g|| on every nonzero row, measured
  // after the power-of-two column scaling (x_k -> D x_k, g -> D^-1 g), which keeps x_k^T g.
  static constexpr double interior = 1e-13;
};

// The diagonal D (as a vector) of powers of two bringing every nonzero column's largest entry
// into [1/2, 1) (exponents clamped to +-400): the cells of X D are those of X under g -> D g.
Vector power_of_two_column_scale(MatrixCRef rows);

// The essential, simple arrangement behind a set of rows.
struct ReducedRows {
  // (m, q) unit normals of the distinct hyperplanes, spanning R^q (q = rank).
  Matrix normals;
  // (p, q) D V: V an orthonormal basis of the row space of the column-scaled rows X D, D
  // the diagonal power-of-two column scaling; an input-space vector (a gate of X) is basis * z.
  Matrix basis;
  // For every input row: its hyperplane (row of `normals`), or -1 for a zero row.
  std::vector<Index> hyperplane;
  // For every input row: +1 when it is a positive multiple of its hyperplane's normal, -1 if negative.
  std::vector<signed char> orientation;

  Index n_hyperplanes() const { return normals.rows(); }
  Index rank() const { return normals.cols(); }
  // True when input row k's bit equals its hyperplane's bit for every row (no merging, no zeros).
  bool identity_map() const;
};

// Normalises, projects onto the row space and merges the rows of `rows` (n, p).
ReducedRows reduce_rows(MatrixCRef rows);

}  // namespace dualnet
