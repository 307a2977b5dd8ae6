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

Scalar binary_loss_value(LossKind loss, const Vector& z, const VectorCRef& y, Scalar smoothing) {
  Scalar total = 0;
  for (Index k = 0; k < z.size(); ++k) {
    const Scalar margin = y[k] * z[k];
    if (loss == LossKind::logistic) {
      total += softplus(-margin);
    } else if (smoothing > 0) {
      total += smoothing * softplus((1 - margin) / smoothing);
    } else {
      total += std::max(Scalar{0}, 1 - margin);
    }
  }
  return total;
}

void binary_loss_derivatives(LossKind loss, const Vector& z, const VectorCRef& y, Scalar smoothing,
                             Vector& gradient, Vector& curvature) {
  if (loss == LossKind::hinge && !(smoothing > 0))
    throw std::invalid_argument("the hinge loss has derivatives only when smoothed");
  const Index n = z.size();
  gradient.resize(n);
  curvature.resize(n);
  for (Index k = 0; k < n; ++k) {
    const Scalar margin = y[k] * z[k];
    // s = sigma(t) with t = -margin (logistic) or (1 - margin) / mu (smoothed hinge).
    const Scalar scale = loss == LossKind::logistic ? Scalar{1} : 1 / smoothing;
    const Scalar t = loss == LossKind::logistic ? -margin : (1 - margin) / smoothing;
    const Scalar s = sigmoid(t), s_complement = sigmoid(-t);
    gradient[k] = -y[k] * s;
    curvature[k] = scale * s * s_complement;
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
