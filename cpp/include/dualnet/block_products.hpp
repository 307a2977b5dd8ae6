// Products with the blocks D_i X of a pattern set, walking the bit-packed masks (never n * P floats).
//
// X is (n, g) row-major, so the active rows of a pattern are contiguous g-vectors: a block
// gradient X^T D_i r and a block prediction D_i X u each stream the n_i active rows once.
#pragma once

#include <dualnet/pattern_set.hpp>
#include <dualnet/types.hpp>

namespace dualnet {

// Column-major (g, P) matrix: column i is a block vector (gradient X^T D_i r, or a weight u_i).
using BlockMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

// out = X^T D_i r  (g). With a workspace (n), a dense pattern (more than a quarter of the rows
// active) is done as one vectorised matrix-vector product with the masked r, which beats
// walking the bits row by row; sparse patterns walk their active rows.
void block_gradient(const MatrixCRef& X, const PatternSet& patterns, Index i, const Scalar* r,
                    Scalar* out, Vector* workspace = nullptr);

// r += alpha * D_i X u  (same workspace rule).
void add_block_prediction(const MatrixCRef& X, const PatternSet& patterns, Index i,
                          const Scalar* u, Scalar alpha, Scalar* r, Vector* workspace = nullptr);

// Q = X^T D_i X  (g, g), symmetric.
Matrix block_gram(const MatrixCRef& X, const PatternSet& patterns, Index i);

// All block gradients at once: column i of `gradients` (resized to (g, P)) is X^T D_i r.
// A GEMM over row chunks, X^T diag(r) M with the chunk's masks expanded to a small dense panel,
// so X and the panel stay in cache: about n * P * g multiply-adds at matrix-multiply speed.
void all_block_gradients(const MatrixCRef& X, const PatternSet& patterns, const Scalar* r,
                         BlockMatrix& gradients);

}  // namespace dualnet
