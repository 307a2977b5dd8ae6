// Exact minimisation over one block of the convex programs (docs/theory.md, section 7):
//
//     min_u  f(u) = 1/2 u^T Q u - b^T u + beta ||u||        (gated block)
//     min_u  f(u)  subject to u in K = {u : A u >= 0}        (ReLU block, A = (2 D_i - I) X)
//
// with Q = X^T D_i X and b = s X^T D_i r + Q u_old (r the residual, s = +1 for v, -1 for w): the
// block coordinate step of the primal, which moves the residual (the dual iterate) as Dykstra's
// algorithm would (Tibshirani, NIPS 2017).
//
// Gated block (Qin, Scheinberg & Goldfarb, Math. Prog. Comp. 2013): u = 0 iff ||b|| <= beta;
// otherwise u = (Q + (beta / h) I)^{-1} b where h = ||u|| is the root of the secular equation
// sum_k (v_k^T b)^2 / (l_k h + beta)^2 = 1 with Q = V diag(l) V^T. Its square root
// F(h) = ||((l_k h + beta)^{-1} v_k^T b)_k|| is convex and decreasing (a norm of convex decreasing
// nonnegative components), so Newton's method started left of the root, at the lower bound
// (||b|| - beta) / l_max, increases monotonically to it without safeguards.
//
// ReLU block: a primal active-set method on the cone's rows. With a working set W of rows held at
// a_k^T u = 0 and Z an orthonormal basis of their null space, the restricted problem in z (u = Z z)
// is a gated block again (||Z z|| = ||z||), solved exactly as above. A step towards the restricted
// minimiser stops at the first row it would cross (ratio test, one O(n g) scan) and adds it to W;
// at the restricted minimiser the multipliers solve A_W^T mu = Q u - b + beta u / ||u|| and a row
// with negative multiplier leaves W. f decreases monotonically and |W| <= g - 1 while u != 0. At
// u = 0 every row is active: 0 is optimal iff ||Proj_K(b)|| <= beta (the subdifferential condition
// b in beta B + polar(K)); otherwise p = Proj_K(b) is a descent ray, we take the exact line step
// along it and start from the rows the projection touches. The working set is kept per block
// between epochs, so a block update usually costs one ratio-test scan.
#pragma once

#include <dualnet/cone_projection.hpp>
#include <dualnet/types.hpp>

#include <vector>

namespace dualnet {

// Q and its eigendecomposition, computed once when a block enters the working set.
struct BlockGram {
  Matrix gram;        // Q = X^T D_i X
  Matrix vectors;     // V (columns are eigenvectors)
  Vector values;      // l >= 0 (clipped)
  Scalar max_value = 0;
};

BlockGram make_block_gram(Matrix gram);

// argmin_u 1/2 u^T Q u - b^T u + beta ||u|| given Q = V diag(l) V^T (the gated block step).
Vector group_block_minimizer(const Matrix& vectors, const Vector& values, const Vector& b,
                             Scalar beta);

// Per-block memory of the ReLU active set between epochs.
struct ConeBlockState {
  std::vector<Index> working_rows;     // rows held at a_k^T u = 0
  std::vector<Index> projection_rows;  // passive set of the last projection of b (u = 0 case)
};

// argmin over the cone of f, started from the feasible u (updated in place). Returns the number
// of O(n g) scans over the rows that it took.
Index cone_block_minimizer(const PatternCone& cone, const BlockGram& q, const Vector& b,
                           Scalar beta, Vector& u, ConeBlockState& state);

}  // namespace dualnet
