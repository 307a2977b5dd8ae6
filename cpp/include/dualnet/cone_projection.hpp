// Euclidean projection onto the pattern cone K_i = {u : (2 D_i - I) X u >= 0} (docs/theory.md,
// section 7), with the multipliers that certify it.
//
// With A = (2 D_i - I) X (rows a_k = +x_k on active rows, -x_k elsewhere), Moreau's decomposition
// gives Proj_K(c) = c + A^T mu* where mu* solves the nonnegative least-squares problem
// min_{mu >= 0} ||c + A^T mu||. For ANY mu >= 0 and u in K with ||u|| <= 1,
//     c^T u = (c + A^T mu)^T u - mu^T A u <= ||c + A^T mu||,
// so every iterate of an NNLS method certifies an upper bound on max_{u in K, ||u|| <= 1} c^T u,
// which equals ||Proj_K(c)|| at the optimum. We solve the NNLS by Lawson & Hanson's active-set
// method (Solving Least Squares Problems, 1974, ch. 23): its passive set holds at most g linearly
// independent rows (the rows where the projection touches the cone's faces), each iteration scans
// the n rows once (O(n g)) and solves a g x |passive| least-squares problem, iterates stay
// nonnegative and ||c + A^T mu|| decreases monotonically. A warm passive set (from the previous
// call on a nearby c) usually certifies with no scan at all.
#pragma once

#include <dualnet/pattern_set.hpp>
#include <dualnet/types.hpp>

#include <limits>
#include <vector>

namespace dualnet {

// 1 / ||x_k|| for every row of X (0 for a zero row): computed once, shared by every cone.
Vector inverse_row_norms(const MatrixCRef& X);

// The rows a_k = (2 [D_i]_kk - 1) x_k of one pattern's cone, read from X and the bitset.
struct PatternCone {
  const MatrixCRef& X;
  const PatternSet& patterns;
  Index index;
  const Vector& inverse_row_norms;  // inverse_row_norms(X)

  Index n_rows() const { return X.rows(); }
  Index dim() const { return X.cols(); }
  Scalar sign(Index k) const { return patterns.active(k, index) ? Scalar{1} : Scalar{-1}; }
  // Most negative (a_k^T u) / (||x_k|| ||u||) over the rows, clipped at 0: the relative violation.
  Scalar relative_violation(const Vector& u) const;
  // Ratio test of the step u + t d, t in [0, 1]: the first row (smallest t, then lowest index)
  // that the step crosses, among the rows it moves towards (a_k^T d < -1e-12 ||x_k|| ||d||; rows
  // it runs parallel to have a_k^T d at round-off level and do not block) and not in `excluded`.
  // t = max(0, a_k^T u) / (-a_k^T d). Row blocks of X at a time: no length-n temporaries.
  struct Crossing {
    Scalar t = 1;
    Index row = -1;  // -1: the whole step stays in the cone
  };
  Crossing first_crossing(const Vector& u, const Vector& d,
                          const std::vector<Index>& excluded) const;
  // The rows tight at u: |a_k^T u| <= tolerance ||x_k|| ||u||, in increasing order (none at 0).
  std::vector<Index> tight_rows(const Vector& u, Scalar tolerance) const;
};

// z = argmin ||A_R z - rhs|| over the columns a_k (k in `rows`) of the cone: the least-squares
// multipliers of a passive or working set. An unpivoted Householder QR (in stack storage when
// g <= 64: no heap allocation but the result) solves it when every column keeps a clear part
// outside the span of the columns before it (|R_jj| > 1e-9 ||a_j||: then A_R has full column
// rank and the solve is backward stable, as a pivoted one is); otherwise (duplicate, collinear or
// zero rows, or more rows than g) a rank-revealing factorization decides: column-pivoting QR (its
// basic solution) by default, the complete orthogonal decomposition (the minimum-norm solution,
// pinv(A_R) rhs) when `minimum_norm`.
Vector cone_rows_least_squares(const PatternCone& cone, const std::vector<Index>& rows,
                               const Vector& rhs, bool minimum_norm = false);

// c + A_R^T mu = c + sum_j mu_j a_{rows[j]}, read from the rows of X (no (g, |R|) copy of the
// columns): the point whose norm bounds the cone's dual norm of c when mu >= 0.
Vector passive_point(const PatternCone& cone, const std::vector<Index>& rows, const Vector& mu,
                     const Vector& c);

struct ConeProjection {
  Vector u;                   // c + A^T mu (= Proj_K(c) when converged)
  std::vector<Index> rows;    // passive set: rows with a positive multiplier
  Vector multipliers;         // mu on `rows`, all > 0
  Scalar bound = 0;           // ||c + A^T mu||: certified upper bound of max_{u in K,||u||<=1} c^T u
  bool converged = false;     // A u >= -tolerance on every row (u is the projection)
  Index n_scans = 0;          // passes over the n rows
};

// Projects c onto the cone. `warm_rows` seeds the passive set. The method stops early, with a
// valid bound, once the bound is at most `stop_below` (a caller that only needs the bound below
// a threshold saves the remaining scans). `max_scans` caps the passes over the rows.
ConeProjection project_onto_cone(const PatternCone& cone, const Vector& c,
                                 const std::vector<Index>& warm_rows = {},
                                 Scalar stop_below = -std::numeric_limits<Scalar>::infinity(),
                                 Index max_scans = -1);

}  // namespace dualnet
