// The residuals of the last epochs, for dual extrapolation and Anderson acceleration, in the
// memory of about five length-n vectors instead of K + 1.
//
// Both accelerations combine the last K + 1 residuals r_0, ..., r_K affinely, with weights c_j on
// r_{j+1} that sum to 1 and are computed from the Gram matrix of the differences
// s_m = r_{m+1} - r_m. The history keeps r_K in float64 and the K differences in float32:
//
//     sum_j c_j r_{j+1} = r_K - sum_{m=1}^{K-1} (c_0 + ... + c_{m-1}) s_m,
//
// so rounding the differences to float32 perturbs a combination by a relative 6e-8 of the
// differences (which shrink as the solver converges), never of the residuals themselves; the
// result is only a candidate (the caller certifies or tests it exactly), and the last residual
// comes back exactly when c = e_{K-1}.
#pragma once

#include <dualnet/types.hpp>

#include <deque>

namespace dualnet {

class ResidualHistory {
 public:
  // Number of residuals recorded since the last clear().
  Index size() const { return has_last_ ? static_cast<Index>(steps_.size()) + 1 : 0; }

  // Records r (length n); the difference to the previous residual is stored in float32.
  void push(const Vector& r) {
    if (has_last_) steps_.emplace_back((r - last_).template cast<float>());
    last_ = r;  // same size after the first push: no allocation
    has_last_ = true;
  }

  // Forgets the residuals (the buffer of the last one is kept for the next window).
  void clear() {
    steps_.clear();
    has_last_ = false;
  }

  // Frees the first difference s_0, which neither combination below reads (its weight is
  // folded into the others); difference_gram() is not valid afterwards.
  void release_first_step() {
    if (!steps_.empty()) Eigen::VectorXf().swap(steps_.front());
  }

  // (K, K) Gram matrix of the differences s_m, accumulated in float64.
  Eigen::MatrixXd difference_gram() const {
    const Index k = static_cast<Index>(steps_.size());
    Eigen::MatrixXd gram(k, k);
    for (Index a = 0; a < k; ++a)
      for (Index b = 0; b <= a; ++b)
        gram(a, b) = gram(b, a) = steps_[static_cast<std::size_t>(a)].template cast<double>().dot(
            steps_[static_cast<std::size_t>(b)].template cast<double>());
    return gram;
  }

  // out = sum_j c_j r_{j+1} for weights c (K entries) summing to 1.
  void combine(const Vector& c, Vector& out) const {
    out = last_;
    subtract_steps(c, out);
  }

  // The same combination written over the last residual's buffer, without another length-n
  // vector; the history is cleared (the returned reference stays valid until the next push).
  Vector& combine_in_place(const Vector& c) {
    subtract_steps(c, last_);
    clear();
    return last_;
  }

 private:
  void subtract_steps(const Vector& c, Vector& out) const {
    Scalar partial = 0;
    for (Index m = 1; m < static_cast<Index>(steps_.size()); ++m) {
      partial += c[m - 1];
      if (partial != 0)
        out -= partial * steps_[static_cast<std::size_t>(m)].template cast<double>();
    }
  }

  Vector last_;
  bool has_last_ = false;
  std::deque<Eigen::VectorXf> steps_;
};

}  // namespace dualnet
