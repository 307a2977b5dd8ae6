// A two-level preconditioner for conjugate gradients: a block preconditioner B^{-1} (applied by
// the caller) with a coarse space deflated, in the symmetric "balancing" form
//
//     P = Q + (I - H Q)^T B^{-1} (I - H Q),   Q = E (E^T H E)^{-1} E^T,
//
// (balancing Neumann-Neumann; Tang, Nabben, Vuik & Erlangga, J. Sci. Comput. 39, 2009, compare
// it with the other deflation variants). The coarse solve removes the eigenvalues of B^{-1} H
// along the columns of E, which block preconditioners cannot see: directions that move every
// block at once.
//
// Only the products E^T x and (H E)^T x enter. With H E replaced by any matrix F such that
// E^T F is symmetric positive definite, P = E C E^T + (I - F C E^T)^T B^{-1} (I - F C E^T),
// C = (E^T F)^{-1}, is still symmetric positive definite (x^T P x = 0 forces E^T x = 0, and then
// (I - F C E^T) x = x), so an approximate H E costs nothing but a weaker deflation.
#pragma once

#include <dualnet/types.hpp>

#include <Eigen/Cholesky>

#include <utility>

namespace dualnet {

class DeflatedPreconditioner {
 public:
  // coarse: E (m x c); hessian_coarse: H E or an approximation of it (m x c). Returns whether the
  // coarse matrix E^T (H E) (symmetrised) is positive definite; when it is not, apply() is the
  // block preconditioner alone.
  bool build(Eigen::MatrixXd coarse, Eigen::MatrixXd hessian_coarse) {
    active_ = false;
    if (coarse.cols() == 0 || coarse.rows() != hessian_coarse.rows() ||
        coarse.cols() != hessian_coarse.cols())
      return false;
    Eigen::MatrixXd small = coarse.transpose() * hessian_coarse;
    small = (0.5 * (small + small.transpose())).eval();
    factor_.compute(small);
    if (factor_.info() != Eigen::Success || !small.allFinite()) return false;
    coarse_ = std::move(coarse);
    hessian_coarse_ = std::move(hessian_coarse);
    active_ = true;
    return true;
  }

  // out = P x, with block_solve(v, w) setting w = B^{-1} v.
  template <class BlockSolve>
  void apply(const Vector& x, Vector& out, const BlockSolve& block_solve) const {
    if (!active_) {
      block_solve(x, out);
      return;
    }
    const Vector first = factor_.solve(coarse_.transpose() * x);  // C E^T x
    Vector smoothed;
    block_solve(Vector(x - hessian_coarse_ * first), smoothed);  // B^{-1} (I - F C E^T) x
    const Vector second = factor_.solve(hessian_coarse_.transpose() * smoothed);
    out = smoothed + coarse_ * (first - second);
  }

 private:
  Eigen::MatrixXd coarse_, hessian_coarse_;
  Eigen::LLT<Eigen::MatrixXd> factor_;
  bool active_ = false;
};

}  // namespace dualnet
