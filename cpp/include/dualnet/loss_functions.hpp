// Convex losses summed over samples, with what the loss solver needs of each (docs/theory.md,
// section 6): value, gradient and curvature in the prediction, and the dual objective
// -L*(-lambda) with the domain of the conjugate.
//
//   logistic       L(z) = sum log(1 + exp(-y_i z_i)),  y_i in {-1, +1}
//                  dual: -sum [p log p + (1 - p) log(1 - p)], p = y * lambda in [0, 1]
//   hinge          L(z) = sum (1 - y_i z_i)_+;  dual: sum p_i, p = y * lambda in [0, 1]
//   smoothed hinge L_mu(z) = sum mu log(1 + exp((1 - y_i z_i) / mu)): the hinge plus at most
//                  mu log 2 per sample, with gradient -y sigma((1 - y z) / mu), whose p lies in the
//                  hinge's dual domain (the solver's hinge method, continuation in mu)
//   cross-entropy  L(Z) = sum_i [logsumexp(Z_i) - Y_i^T Z_i],  Y one-hot (n, K)
//                  dual: -sum q log q, Q = Y - Lambda, rows of Q in the probability simplex
#pragma once

#include <dualnet/types.hpp>

namespace dualnet {

enum class LossKind { logistic, hinge, cross_entropy };

// Binary losses on z, y of shape (n,). `smoothing` mu > 0 replaces the hinge by L_mu (ignored by
// the logistic loss); mu = 0 is the true hinge (value only: it has no gradient).
Scalar binary_loss_value(LossKind loss, const Vector& z, const VectorCRef& y, Scalar smoothing);
// dL/dz and the diagonal of d^2L/dz^2 (both (n,)); the hinge needs smoothing > 0.
void binary_loss_derivatives(LossKind loss, const Vector& z, const VectorCRef& y, Scalar smoothing,
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
