// One scalar type, one index type and one storage order for the whole core.
//
// Data matrices are row-major, numpy's default, so that a row x_k is contiguous: the solver's
// inner loops walk the active rows of a pattern (sum_k r_k x_k and x_k^T u), and numpy arrays
// reach the core without a copy.
#pragma once

#include <Eigen/Core>

#include <cstdint>

namespace dualnet {

using Scalar = double;
using Index = Eigen::Index;

// Row-major dense matrix: the layout of X (n, d) and of any (rows, features) array.
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

// Read-only views of caller memory; a layout mismatch is an error at the binding, never a copy.
using MatrixCRef = Eigen::Ref<const Matrix>;
using VectorCRef = Eigen::Ref<const Vector>;
using MatrixRef = Eigen::Ref<Matrix>;
using VectorRef = Eigen::Ref<Vector>;

// Bit-packed storage word: bit k of word w of a pattern is row 64 * w + k.
using Word = std::uint64_t;
constexpr Index kWordBits = 64;

inline Index words_for_rows(Index n_rows) { return (n_rows + kWordBits - 1) / kWordBits; }

}  // namespace dualnet
