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

// Tests of the scanned products, up to 64 rows at a time (bit r of the result is row r; rows <=
// 64), vectorised on the same processors (plain loops otherwise, with the same comparisons, so
// the same bits). `inverse` holds 1 / ||x_k|| of the rows.

// Bit r set iff -a[r] * inverse[r] > floor (the rows violated by more than floor).
Word rows_above(const Scalar* a, const Scalar* inverse, Index rows, Scalar floor);

// Bit r set iff ad[r] * inverse[r] < moving and max(0, au[r]) <= t * (-ad[r]): the rows a step
// moves towards whose crossing max(0, au[r]) / (-ad[r]) may come before t.
Word rows_crossed_before(const Scalar* au, const Scalar* ad, const Scalar* inverse, Index rows,
                         Scalar moving, Scalar t);

// max(floor, max_r -a[r] * inverse[r]) over the rows (any number of them); NaN products are
// skipped.
Scalar max_violation(const Scalar* a, const Scalar* inverse, Index rows, Scalar floor);

}  // namespace dualnet
