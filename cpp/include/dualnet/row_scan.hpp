// Signed row products of a pattern cone: the (2 D_i - I) X u scans of the cone projection.
//
// A scan multiplies every row of X (all n rows, active or not) by one or two g-vectors and flips
// the sign of the rows outside the pattern. With the vectorised kernel (x86-64 with AVX2 and
// FMA, 1 <= g <= 32, chosen at run time) four rows are reduced together, one fused multiply-add
// per four entries of a row and vector, and the signs are flipped from the mask bits; otherwise
// an Eigen product over the rows and a branch-free sign flip. Either path computes each product
// in an order fixed by g alone, so a scan gives the same bits on every call.
#pragma once

#include <dualnet/types.hpp>

namespace dualnet {

// For the rows k = row0 + r, r = 0, ..., rows - 1 (row0 a multiple of the word size):
//   au[r] = s_k x_k^T u  and, when d is not null, ad[r] = s_k x_k^T d,
// with s_k = +1 if bit k of `mask` (the pattern's words, bit k of word k / 64 is row k) is set
// and -1 otherwise. u and d hold X.cols() entries.
void signed_row_products(const MatrixCRef& X, const Word* mask, Index row0, Index rows,
                         const Scalar* u, const Scalar* d, Scalar* au, Scalar* ad);

// Whether signed_row_products runs the vectorised kernel for rows of g entries.
bool vectorised_row_scans(Index g);

}  // namespace dualnet
