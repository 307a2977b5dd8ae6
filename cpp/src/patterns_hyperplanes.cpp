#include <dualnet/patterns_hyperplanes.hpp>

#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <deque>
#include <numeric>

namespace dualnet {

namespace {
constexpr int kMaxColumnExponent = 400;
}  // namespace

Vector power_of_two_column_scale(MatrixCRef rows) {
  Vector scale = Vector::Ones(rows.cols());
  if (rows.rows() == 0) return scale;
  for (Index j = 0; j < rows.cols(); ++j) {
    const double big = rows.col(j).cwiseAbs().maxCoeff();
    if (big > 0 && std::isfinite(big)) {
      int exponent = 0;
      std::frexp(big, &exponent);
      exponent = std::clamp(exponent, -kMaxColumnExponent, kMaxColumnExponent);
      scale(j) = std::ldexp(1.0, -exponent);
    }
  }
  return scale;
}

bool ReducedRows::identity_map() const {
  if (static_cast<Index>(hyperplane.size()) != n_hyperplanes()) return false;
  for (std::size_t k = 0; k < hyperplane.size(); ++k)
    if (hyperplane[k] != static_cast<Index>(k) || orientation[k] != 1) return false;
  return true;
}

ReducedRows reduce_rows(MatrixCRef rows) {
  const Index n = rows.rows(), p = rows.cols();
  ReducedRows out;
  out.hyperplane.assign(static_cast<std::size_t>(n), -1);
  out.orientation.assign(static_cast<std::size_t>(n), 1);

  // Zero rows (exactly zero: any nonzero row is a genuine hyperplane whatever its scale).
  std::vector<Index> nonzero;
  for (Index k = 0; k < n; ++k)
    if (rows.row(k).squaredNorm() > 0) nonzero.push_back(k);
  const Index n0 = static_cast<Index>(nonzero.size());
  if (n0 == 0) {
    out.normals.resize(0, 0);
    out.basis.resize(p, 0);
    return out;
  }

  // Columns scaled by powers of two to a largest entry in [1/2, 1): g -> D g maps the cells of
  // X D onto those of X, and scaling by 2^k is exact in floating point, so the decisions below
  // (taken on unit vectors with fixed tolerances) no longer depend on the features' units, e.g. a
  // column of size 1e-8 beside a bias column of ones. Exponents are clamped so that D and the
  // gates D z stay far inside the float range.
  const Vector column_scale = power_of_two_column_scale(rows);

  // Normalised rows, so the rank decision does not depend on the rows' scales.
  Matrix unit(n0, p);
  for (Index i = 0; i < n0; ++i) {
    const auto row = rows.row(nonzero[i]).cwiseProduct(column_scale.transpose());
    // Scale by the largest entry first so the norm neither overflows nor underflows.
    const double big = row.cwiseAbs().maxCoeff();
    unit.row(i) = row / big;
    unit.row(i).normalize();
  }

  // Row space: right singular vectors with sigma > rank * sigma_max.
  Eigen::BDCSVD<Matrix> svd(unit, Eigen::ComputeThinV);
  const auto& sigma = svd.singularValues();
  Index q = 0;
  while (q < sigma.size() && sigma(q) > ArrangementTolerance::rank * sigma(0)) ++q;
  const Matrix directions = svd.matrixV().leftCols(q);
  Matrix reduced = unit * directions;
  out.basis = column_scale.asDiagonal() * directions;  // a gate z of the scaled rows is D z for X
  for (Index i = 0; i < n0; ++i) reduced.row(i).normalize();

  // Merge parallel normals (either orientation): sort by |u^T a| for a fixed direction u, which two
  // parallel normals share up to the tolerance, and compare each normal with the representatives in
  // the tolerance window before it. O(n0 log n0) unless many distinct normals share |u^T a|.
  Vector u(q);
  for (Index j = 0; j < q; ++j) u(j) = 1.0 + std::fmod(0.6180339887498949 * double(j + 1), 1.0);
  u.normalize();
  Vector key = (reduced * u).cwiseAbs();
  std::vector<Index> order(static_cast<std::size_t>(n0));
  std::iota(order.begin(), order.end(), Index{0});
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return key(a) < key(b); });

  const double tol = ArrangementTolerance::parallel;
  std::vector<Index> rep_of(static_cast<std::size_t>(n0), -1);     // representative unit row
  std::vector<signed char> sign_of(static_cast<std::size_t>(n0), 1);
  std::deque<Index> window;  // representatives with key within tol of the current key
  for (Index i : order) {
    while (!window.empty() && key(window.front()) < key(i) - 2 * tol) window.pop_front();
    for (Index r : window) {
      if ((reduced.row(i) - reduced.row(r)).norm() <= tol) {
        rep_of[i] = r;
        sign_of[i] = 1;
        break;
      }
      if ((reduced.row(i) + reduced.row(r)).norm() <= tol) {
        rep_of[i] = r;
        sign_of[i] = -1;
        break;
      }
    }
    if (rep_of[i] < 0) {
      rep_of[i] = i;
      window.push_back(i);
    }
  }

  // Hyperplanes numbered in order of their first row, oriented like that row.
  std::vector<Index> number(static_cast<std::size_t>(n0), -1);
  std::vector<Index> reps;
  for (Index i = 0; i < n0; ++i) {
    // The representative of a class is its first row in sorted order; orient the class by its
    // first row in input order instead, flipping signs of the class if needed.
    const Index r = rep_of[i];
    if (number[r] < 0) {
      number[r] = static_cast<Index>(reps.size());
      reps.push_back(i);
    }
  }
  out.normals.resize(static_cast<Index>(reps.size()), q);
  for (std::size_t h = 0; h < reps.size(); ++h) out.normals.row(Index(h)) = reduced.row(reps[h]);
  for (Index i = 0; i < n0; ++i) {
    const Index r = rep_of[i];
    const Index h = number[r];
    // Orientation relative to the hyperplane's normal (its first input row).
    const signed char first_sign = sign_of[reps[h]];
    out.hyperplane[nonzero[i]] = h;
    out.orientation[nonzero[i]] = static_cast<signed char>(sign_of[i] * first_sign);
  }
  return out;
}

}  // namespace dualnet
