// Products with a few blocks at once: the design A = [D_1 X, ..., D_k X] restricted to a support
// (the blocks a second-order step works on), for matrix-free Hessian products.
//
// The transpose product A^T r is all_block_gradients on the support's own PatternSet; the forward
// product A U is done here over row chunks: with the vectorised block kernels
// (vectorised_block_products), each block adds the predictions of its active rows in the chunk
// (sum_i n_i * g multiply-adds); otherwise one small GEMM X_chunk U (rows x k) per chunk, then
// each column masked by its pattern's bits and summed (about n * g * k multiply-adds at
// matrix-multiply speed plus n * k masked additions). Never n * k floats stored.
#pragma once

#include <dualnet/block_products.hpp>
#include <dualnet/pattern_set.hpp>
#include <dualnet/types.hpp>

namespace dualnet {

// out = sum_j D_j X U_j (n), D_j the j-th pattern of `support`, U (g, k) with k = support.size().
void support_predictions(const MatrixCRef& X, const PatternSet& support, const BlockMatrix& U,
                         Scalar* out);

}  // namespace dualnet
