#include <dualnet/loss_functions.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace dualnet {

namespace {

// log(1 + exp(t)) without overflow.
Scalar softplus(Scalar t) { return t > 0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t)); }

// 1 / (1 + exp(-t)) without overflow.
Scalar sigmoid(Scalar t) {
  if (t >= 0) return 1 / (1 + std::exp(-t));
  const Scalar e = std::exp(t);
  return e / (1 + e);
}

Scalar xlogx(Scalar p) { return p > 0 ? p * std::log(p) : Scalar{0}; }

}  // namespace

Scalar binary_loss_value(LossKind loss, const Vector& z, const VectorCRef& y) {
  Scalar total = 0;
  for (Index k = 0; k < z.size(); ++k) {
    const Scalar margin = y[k] * z[k];
    total += loss == LossKind::logistic ? softplus(-margin) : std::max(Scalar{0}, 1 - margin);
  }
  return total;
}

void logistic_derivatives(const Vector& z, const VectorCRef& y, Vector& gradient,
                          Vector& curvature) {
  const Index n = z.size();
  gradient.resize(n);
  curvature.resize(n);
  for (Index k = 0; k < n; ++k) {
    const Scalar t = -y[k] * z[k];
    const Scalar s = sigmoid(t);
    gradient[k] = -y[k] * s;
    curvature[k] = s * sigmoid(-t);
  }
}

// Per sample, with u = t - mu q: the envelope of mu (1 - s)_+ at u is 0 (u >= 1),
// (1 - u)^2 / (2 mu) (1 - mu <= u < 1) or 1 - u - mu / 2 (u < 1 - mu); the shift subtracts
// mu q^2 / 2.
Scalar hinge_envelope_value(const Vector& z, const VectorCRef& y, const Vector& q, Scalar mu) {
  Scalar total = 0;
  for (Index k = 0; k < z.size(); ++k) {
    const Scalar u = y[k] * z[k] - mu * q[k];
    const Scalar envelope = u >= 1 ? Scalar{0}
                            : u >= 1 - mu ? (1 - u) * (1 - u) / (2 * mu)
                                          : 1 - u - mu / 2;
    total += envelope - 0.5 * mu * q[k] * q[k];
  }
  return total;
}

void hinge_envelope_derivatives(const Vector& z, const VectorCRef& y, const Vector& q, Scalar mu,
                                Vector& gradient, Vector& curvature) {
  const Index n = z.size();
  gradient.resize(n);
  curvature.resize(n);
  for (Index k = 0; k < n; ++k) {
    const Scalar raw = q[k] + (1 - y[k] * z[k]) / mu;
    gradient[k] = -y[k] * std::clamp(raw, Scalar{0}, Scalar{1});
    curvature[k] = raw >= 0 && raw <= 1 ? 1 / mu : Scalar{0};
  }
}

Scalar binary_dual_objective(LossKind loss, const Vector& lambda, const VectorCRef& y) {
  Scalar total = 0;
  for (Index k = 0; k < lambda.size(); ++k) {
    const Scalar p = std::clamp(y[k] * lambda[k], Scalar{0}, Scalar{1});
    total += loss == LossKind::logistic ? -(xlogx(p) + xlogx(1 - p)) : p;
  }
  return total;
}

Scalar cross_entropy_value(const Matrix& Z, const MatrixCRef& Y) {
  Scalar total = 0;
  for (Index k = 0; k < Z.rows(); ++k) {
    const Scalar top = Z.row(k).maxCoeff();
    total += top + std::log((Z.row(k).array() - top).exp().sum()) - Y.row(k).dot(Z.row(k));
  }
  return total;
}

Matrix softmax_rows(const Matrix& Z) {
  Matrix S(Z.rows(), Z.cols());
  for (Index k = 0; k < Z.rows(); ++k) {
    const Scalar top = Z.row(k).maxCoeff();
    S.row(k) = (Z.row(k).array() - top).exp();
    S.row(k) /= S.row(k).sum();
  }
  return S;
}

Scalar cross_entropy_dual_objective(const Matrix& Lambda, const MatrixCRef& Y) {
  Scalar total = 0;
  for (Index k = 0; k < Lambda.rows(); ++k)
    for (Index j = 0; j < Lambda.cols(); ++j)
      total -= xlogx(std::clamp(Y(k, j) - Lambda(k, j), Scalar{0}, Scalar{1}));
  return total;
}

}  // namespace dualnet
