// Convex losses summed over samples, with what the loss solver needs of each (docs/theory.md,
// section 6): value, gradient and curvature in the prediction, and the dual objective
// -L*(-lambda) with the domain of the conjugate.
//
//   logistic       L(z) = sum log(1 + exp(-y_i z_i)),  y_i in {-1, +1}
//                  dual: -sum [p log p + (1 - p) log(1 - p)], p = y * lambda in [0, 1]
//   hinge          L(z) = sum (1 - y_i z_i)_+;  dual: sum p_i, p = y * lambda in [0, 1]
//   hinge envelope phi(z) = sum_k min_s [(1 - s)_+ - q_k (t_k - s) + (t_k - s)^2 / (2 mu)],
//                  t = y z, multipliers q in [0, 1]: the hinge's augmented Lagrangian in its
//                  margins (the Moreau envelope with step mu, shifted by q), a piecewise
//                  quadratic below the hinge whose gradient -y clip(q + (1 - t) / mu, 0, 1) has
//                  its p in the hinge's dual domain; conjugate: the hinge's plus
//                  (mu / 2) ||p - q||^2 (the solver's hinge method, see loss_solver.hpp)
//   cross-entropy  L(Z) = sum_i [logsumexp(Z_i) - Y_i^T Z_i],  Y one-hot (n, K)
//                  dual: -sum q log q, Q = Y - Lambda, rows of Q in the probability simplex
#pragma once

#include <dualnet/types.hpp>

namespace dualnet {

enum class LossKind { logistic, hinge, cross_entropy };

// Binary losses on z, y of shape (n,).
Scalar binary_loss_value(LossKind loss, const Vector& z, const VectorCRef& y);
// The logistic loss's dL/dz and diagonal of d^2L/dz^2 (both (n,)).
void logistic_derivatives(const Vector& z, const VectorCRef& y, Vector& gradient,
                          Vector& curvature);
// The hinge envelope (mu > 0, q of shape (n,)): value, and gradient with the diagonal of a
// generalized Hessian (1 / mu where q + (1 - t) / mu lies in [0, 1], else 0).
Scalar hinge_envelope_value(const Vector& z, const VectorCRef& y, const Vector& q, Scalar mu);
void hinge_envelope_derivatives(const Vector& z, const VectorCRef& y, const Vector& q, Scalar mu,
                                Vector& gradient, Vector& curvature);
// -L*(-lambda) of the true (unsmoothed) loss; p = y * lambda is clipped to [0, 1] (callers pass
// points inside the domain up to round-off).
Scalar binary_dual_objective(LossKind loss, const Vector& lambda, const VectorCRef& y);

// Cross-entropy on Z, Y of shape (n, K) (row-major).
Scalar cross_entropy_value(const Matrix& Z, const MatrixCRef& Y);
// softmax of every row of Z.
Matrix softmax_rows(const Matrix& Z);
// -L*(-Lambda) = -sum q log q with Q = Y - Lambda clipped to [0, 1].
Scalar cross_entropy_dual_objective(const Matrix& Lambda, const MatrixCRef& Y);

}  // namespace dualnet
